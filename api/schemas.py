"""Response helpers. Job request bodies are the mode registry's models (``shared.jobs.modes``)."""

from __future__ import annotations

from typing import Any


def page(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more,
            "next_cursor": items[-1]["id"] if has_more and items else None}
