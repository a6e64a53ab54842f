"""Per-request log context: a request id (the caller's ``X-Request-ID`` if sane, else a new one) echoed
in the response, bound for every log line of the request; and the request's one timing, which feeds
both the access log line at the end and the request metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import Message, Receive, Scope, Send

from api.middleware import HttpMiddleware, observe
from shared import logs

log = logging.getLogger("atelier.access")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestContext(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE.match(given) else f"req_{uuid.uuid4().hex}"
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode())]}
            await send(message)

        with logs.scope(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                matched = getattr(scope.get("route"), "path", None)
                observe(scope["method"], matched or "unmatched", status, seconds)
                route = matched or scope["path"]  # never the query (api_key=)
                log.info("%s %s %d", scope["method"], route, status,
                         extra={"method": scope["method"], "route": route, "status": status,
                                "duration_ms": round(seconds * 1000, 1)})
