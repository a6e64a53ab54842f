"""Cursor pagination, newest first (or oldest first), for any table with ``created_at`` and ``id``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from shared.errors import ValidationError
from shared.text import check_id


@dataclass(frozen=True)
class Page:
    items: list[Any]
    has_more: bool


def _string_id(cursor: str) -> str:
    return check_id("after", cursor)


def paginate(session: Session, stmt: Select[Any], model: Any, *, account_id: str, after: str | None,
             limit: int, parse_cursor: Callable[[str], Any] = _string_id, oldest_first: bool = False) -> Page:
    """``stmt`` filtered to rows past the ``after`` cursor (a row id of the same account;
    ``parse_cursor`` turns the public id into the primary key, refusing malformed ones): older
    ones, or newer ones when ``oldest_first``."""
    if after:
        cursor = session.get(model, parse_cursor(after))
        if cursor is None or cursor.account_id != account_id:
            raise ValidationError.field("after", f"unknown cursor {after}")
        key, mark = tuple_(model.created_at, model.id), tuple_(cursor.created_at, cursor.id)
        stmt = stmt.where(key > mark if oldest_first else key < mark)
    order = (model.created_at.asc(), model.id.asc()) if oldest_first else (model.created_at.desc(), model.id.desc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    return Page(rows[:limit], len(rows) > limit)
