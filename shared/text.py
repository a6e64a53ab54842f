"""Text that may reach PostgreSQL: no NUL characters, no unpaired UTF-16 surrogates.

PostgreSQL refuses both in ``text`` columns (and psycopg cannot encode a lone surrogate), so
they are turned away at the edge as 400 VALIDATION_ERROR instead of surfacing as a 500.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from shared.errors import ValidationError

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
#: Ids and cursors are ``<prefix>_<url-safe characters>``.
_ID = re.compile(r"^[a-z]{2,8}_[A-Za-z0-9_-]{1,64}$")


def problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    return "must not contain NUL characters" if found.group() == "\x00" else "must not contain unpaired surrogates"


def _clean(value: str) -> str:
    reason = problem(value)
    if reason is not None:
        raise ValueError(reason)
    return value


#: A request string field that may be stored (pydantic reports the error as a field error).
CleanStr = Annotated[str, AfterValidator(_clean)]


def check_field(field: str, value: str) -> str:
    reason = problem(value)
    if reason is not None:
        raise ValidationError.field(field, reason)
    return value


def check_id(field: str, value: str) -> str:
    """An id or cursor as our ids look; anything else cannot name a row."""
    if not _ID.match(value):
        raise ValidationError.field(field, "is not a valid id")
    return value
