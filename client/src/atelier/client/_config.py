"""Where the key and the URL come from: arguments, then the environment, then ``$ATELIER_HOME/dev.env``."""

from __future__ import annotations

import os
from pathlib import Path

from atelier.client.errors import AuthenticationError

DEFAULT_URL = "http://127.0.0.1:8000"


def dev_env() -> dict[str, str]:
    """The ``dev.env`` that ``atelier dev`` writes (empty when there is none)."""
    path = Path(os.environ.get("ATELIER_HOME", ".atelier")).expanduser() / "dev.env"
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def resolve(api_key: str | None, base_url: str | None) -> tuple[str, str]:
    """(key, base URL without a trailing ``/v1``); a missing key is a clear error, not a 401 later."""
    fallback = dev_env() if not (api_key or os.environ.get("ATELIER_API_KEY")) or not (
        base_url or os.environ.get("ATELIER_API_URL")) else {}
    key = api_key or os.environ.get("ATELIER_API_KEY") or fallback.get("ATELIER_API_KEY")
    if not key:
        raise AuthenticationError("No API key: pass api_key=, set ATELIER_API_KEY, or run `atelier dev` "
                                  "(its $ATELIER_HOME/dev.env is read too).", code="NO_API_KEY")
    return key, resolve_url(base_url, fallback)


def resolve_url(base_url: str | None, fallback: dict[str, str] | None = None) -> str:
    """The API's base URL without a trailing ``/v1``: argument, environment, dev.env, default."""
    if fallback is None:
        fallback = {} if base_url or os.environ.get("ATELIER_API_URL") else dev_env()
    url = base_url or os.environ.get("ATELIER_API_URL") or fallback.get("ATELIER_API_URL") or DEFAULT_URL
    url = url.rstrip("/")
    return url[:-3] if url.endswith("/v1") else url
