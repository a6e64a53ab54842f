"""Lists that page themselves: iterate a page to get every item, fetching the next pages as needed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list (``data``, ``has_more``, ``next_cursor``); ``for item in page`` walks all pages."""

    data: list[T]
    has_more: bool
    next_cursor: str | None
    _next: Callable[[str], Page[T]] | None = field(default=None, repr=False)

    def next_page(self) -> Page[T] | None:
        if not (self.has_more and self.next_cursor and self._next):
            return None
        return self._next(self.next_cursor)

    def iter_pages(self) -> Iterator[Page[T]]:
        page: Page[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


@dataclass
class AsyncPage(Generic[T]):
    """The async twin of ``Page``: ``async for item in page`` walks all pages."""

    data: list[T]
    has_more: bool
    next_cursor: str | None
    _next: Callable[[str], Awaitable[AsyncPage[T]]] | None = field(default=None, repr=False)

    async def next_page(self) -> AsyncPage[T] | None:
        if not (self.has_more and self.next_cursor and self._next):
            return None
        return await self._next(self.next_cursor)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


def page_fields(body: dict[str, Any], parse: Callable[[dict[str, Any]], T]) -> tuple[list[T], bool, str | None]:
    return [parse(item) for item in body.get("data") or []], bool(body.get("has_more")), body.get("next_cursor")
