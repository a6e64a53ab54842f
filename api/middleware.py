"""Request metrics and the redaction of credentials from log lines (used by the one ASGI layer,
``api/request_context.py``, and the log set-up)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from prometheus_client import Counter, Histogram

REQUESTS = Counter("atelier_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("atelier_http_request_seconds", "HTTP request latency", ["method", "route"])


#: Any other method a client sends is counted as OTHER: labels stay a bounded set (route is the
#: matched route's template, or "unmatched"; status a number).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: (method, route, status) → the pre-bound children: ``labels()`` (a lock and a lookup) once per
#: combination, not per request.
_bound: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request and its latency (route: the matched route's template, or "unmatched")."""
    method = method if method in METHODS else "OTHER"
    children = _bound.get((method, route, status))
    if children is None:
        children = _bound[(method, route, status)] = (REQUESTS.labels(method, route, str(status)),
                                                      LATENCY.labels(method, route))
    children[0].inc()
    children[1].observe(seconds)


#: Query parameters that carry credentials (compared after percent-decoding, case-insensitively).
SECRET_PARAMS = frozenset({"api_key"})
_QUERY = re.compile(r"\?([^\s\"#]*)")


def _redact_query(match: re.Match[str]) -> str:
    pairs = []
    for pair in match.group(1).split("&"):
        name, sep, _value = pair.partition("=")
        if unquote_plus(name).strip().lower() in SECRET_PARAMS:
            pair = f"{name}{sep}[redacted]"
        pairs.append(pair)
    return "?" + "&".join(pairs)


def redact(text: str) -> str:
    """``text`` with the value of every credential query parameter replaced, however encoded
    (``api_key``, ``api%5Fkey``, ``%61pi_key`` all authenticate, so none may be logged)."""
    return _QUERY.sub(_redact_query, text) if "?" in text else text


class RedactKeys(logging.Filter):
    """API keys passed as ``?api_key=`` must never reach a log line (uvicorn logs the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction(*names: Any) -> None:
    for name in names or ("uvicorn.access", "uvicorn.error", "atelier"):
        logging.getLogger(name).addFilter(RedactKeys())
