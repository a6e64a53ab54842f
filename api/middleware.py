"""Pure ASGI middleware (no response buffering, so SSE streams pass straight through)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("atelier_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("atelier_http_request_seconds", "HTTP request latency", ["method", "route"])


class ResponseHeaders:
    """Adds headers a dependency left in ``request.state.response_headers`` (rate-limit headers)
    to whatever response is sent, error responses included; records request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra: dict[str, str] = scope.get("state", {}).get("response_headers") or {}
                if extra:
                    headers = list(message.get("headers", []))
                    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], name, str(status)).inc()
            LATENCY.labels(scope["method"], name).observe(time.perf_counter() - started)


_SECRET_QUERY = re.compile(r"(api_key=)[^&\s\"]+", re.IGNORECASE)


class RedactKeys(logging.Filter):
    """API keys passed as ``?api_key=`` must never reach a log line (uvicorn logs the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_SECRET_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _SECRET_QUERY.sub(r"\1[redacted]", record.msg)
        return True


def install_log_redaction(*names: Any) -> None:
    for name in names or ("uvicorn.access", "uvicorn.error", "atelier"):
        logging.getLogger(name).addFilter(RedactKeys())
