"""The Studio: static files (HTML, CSS, ES modules) shipped in the package, served at ``/studio``.

The page talks only to the public API, with the person's session cookie; nothing is fetched
from another origin except, with S3 storage, media the content endpoint redirects to.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from shared.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent.parent / "studio"
router = APIRouter(include_in_schema=False)


def media_origins(settings: Settings) -> str:
    """Where media may come from besides this origin: the presigned storage URLs of S3."""
    if settings.storage != "s3":
        return ""
    if settings.s3_endpoint_url:
        parts = urlsplit(settings.s3_endpoint_url)
        return f" {parts.scheme}://{parts.netloc}"
    return " https://*.amazonaws.com"


def security_headers(settings: Settings) -> dict[str, str]:
    media = "'self' blob: data:" + media_origins(settings)
    policy = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
              f"img-src {media}; media-src {media}; object-src 'none'; base-uri 'none'; "
              "form-action 'self'; frame-ancestors 'none'")
    return {"Content-Security-Policy": policy, "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


class StudioFiles(StaticFiles):
    """The page's files, with the page's security headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k.lower().encode(), v.encode()) for k, v in security_headers(get_settings()).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


@router.get("/studio")
def studio() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={**security_headers(get_settings()),
                                                         "Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/studio", StudioFiles(directory=STATIC, html=True), name="studio")
