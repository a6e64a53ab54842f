"""The one ASGI layer around the application, for every HTTP request (pure ASGI: no response
buffering, so SSE streams pass straight through):

* a request id (the caller's ``X-Request-ID`` if sane, else a new one), bound for every log line
  of the request and echoed in the response;
* the request limits (``api/limits.py``), checked before any body is read;
* headers a dependency left in ``request.state.response_headers`` (credits, rate limit), on
  whatever response is sent, error responses included, and ``X-Content-Type-Options: nosniff``;
* the request's one timing, which feeds the access log line and the request metrics.

One layer, not one per concern: each layer costs every request a coroutine and a ``send``
wrapper, and every long poll keeps them for its whole wait (issue 13, P4/P5).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import admit
from api.middleware import observe
from shared import logs

log = logging.getLogger("atelier.access")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: Content is served with its sniffed type; browsers must not guess another.
_NOSNIFF = (b"x-content-type-options", b"nosniff")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan, websockets
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE.match(given) else f"req_{uuid.uuid4().hex}"
        started, status = time.perf_counter(), 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra: dict[str, str] = scope.get("state", {}).get("response_headers") or {}
                message = {**message, "headers": [
                    *message.get("headers", []), *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                    _NOSNIFF, (b"x-request-id", request_id.encode())]}
            await send(message)

        with logs.scope(request_id=request_id):
            try:
                refusal, receive = admit(scope, headers, receive)
                await (refusal or self.app)(scope, receive, send_with_headers)
            finally:
                seconds = time.perf_counter() - started
                matched = getattr(scope.get("route"), "path", None)
                observe(scope["method"], matched or "unmatched", status, seconds)
                route = matched or scope["path"]  # never the query (api_key=)
                log.info("%s %s %d", scope["method"], route, status,
                         extra={"method": scope["method"], "route": route, "status": status,
                                "duration_ms": round(seconds * 1000, 1)})
