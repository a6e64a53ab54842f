"""Credits for a relayed request: held before the upstream is called, settled or released after.

Each step is its own short transaction, run off the event loop; nothing holds a database
connection while the upstream answers. Steps that close a request run shielded from
cancellation, so a client that goes away never leaves a hold behind.

The hold lets the upstream call start as soon as the account is known to pay (its conditional
UPDATE has passed, the ledger row is written and the account row is locked by the open
transaction), and commits meanwhile: the commit's WAL flush, the slowest step on a busy
database, runs alongside the upstream request instead of before it. Settling or releasing
waits for that commit; if it failed, nothing was held and nothing is charged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from sqlalchemy.orm import Session

from shared.catalog import ModelSpec
from shared.credits import ledger
from shared.credits.pricing import price
from shared.db.session import session_scope
from shared.errors import ServiceUnavailable
from shared.ids import new_id

T = TypeVar("T")


@dataclass
class Payer:
    """Who pays for a relayed request (the account, and the key for its daily limit and usage), and
    what the request has cost so far, for ``X-Credits-Used`` / ``X-Credits-Remaining``."""

    account_id: str
    api_key_id: str | None
    used: int = 0
    remaining: int = 0

    def note(self, session: Session, used: int) -> None:
        self.used = used
        self.remaining = max(0, ledger.available(session, self.account_id))


@dataclass
class RequestCharge:
    payer: Payer
    model: ModelSpec
    request_id: str
    held: int
    #: The hold's transaction, committing in a worker thread (see ``hold``).
    written: asyncio.Future[None] | None = field(default=None, repr=False)
    closed: bool = False

    async def _hold_committed(self) -> bool:
        """Wait for the hold's commit; False (and the charge closed) if it failed: nothing is held."""
        if self.written is None:
            return True
        try:
            await self.written
        except Exception:  # the database failed under the hold: there is nothing to settle or release
            self.closed = True
            return False
        return True

    async def confirm(self) -> None:
        """Raise 503 if the hold could not be committed (the answer must then not be given)."""
        with anyio.CancelScope(shield=True):
            committed = await self._hold_committed()
        if not committed:
            raise ServiceUnavailable("The request's credits could not be recorded; nothing was charged.",
                                     headers={"Retry-After": "5"})

    async def settle(self, *, tool_calls: int = 0, usage: dict[str, Any] | None = None,
                     incomplete: bool = False) -> int:
        """Charge the request's price (1 + 1 per tool call for chat); returns the credits charged."""
        with anyio.CancelScope(shield=True):
            if not await self._hold_committed():
                return 0
            charged = await anyio.to_thread.run_sync(self._settle, tool_calls, usage or {}, incomplete)
        return charged

    async def release(self, reason: str) -> None:
        with anyio.CancelScope(shield=True):
            if await self._hold_committed():
                await anyio.to_thread.run_sync(self._release, reason)

    def _settle(self, tool_calls: int, usage: dict[str, Any], incomplete: bool) -> int:
        if self.closed:
            return 0
        measured = price(self.model.price_rules, {"request": 1, "tool_call": tool_calls}, {})
        details: dict[str, Any] = {
            "mode": self.model.mode, "model": self.model.id,
            "prompt_tokens": int(usage.get("prompt_tokens") or 0),
            "completion_tokens": int(usage.get("completion_tokens") or 0),
        }
        if incomplete:
            details["incomplete"] = True
        with session_scope() as session:
            settlement = ledger.settle(session, self.payer.account_id, None, self.held, measured.credits,
                                       measured.breakdown, request_id=self.request_id, details=details,
                                       api_key_id=self.payer.api_key_id)
            self.payer.note(session, settlement.charged)
        self.closed = True
        return settlement.charged

    def _release(self, reason: str) -> None:
        if self.closed:
            return
        with session_scope() as session:
            ledger.release(session, self.payer.account_id, None, self.held, reason=reason,
                           request_id=self.request_id, api_key_id=self.payer.api_key_id)
            self.payer.note(session, 0)
        self.closed = True


def _hold(charge: RequestCharge, breakdown: list[dict[str, Any]], guarded: Callable[[], None]) -> None:
    payer = charge.payer

    def reserved(spendable: int) -> None:
        payer.used, payer.remaining = charge.held, max(0, spendable)
        guarded()

    with session_scope() as session:
        ledger.hold(session, payer.account_id, None, charge.held, breakdown, request_id=charge.request_id,
                    api_key_id=payer.api_key_id, reserved=reserved)
    # The ledger row is written and committed (the WAL flush) while the upstream request is under way.


async def hold(payer: Payer, model: ModelSpec, prepare: Callable[[], T]) -> tuple[RequestCharge, T]:
    """Hold the request's minimum price, or raise 402 (429 past a daily limit) before anything is
    sent upstream. ``prepare()`` (encoding the upstream request) runs on the loop meanwhile.

    Returns once the account is known to pay; the hold's commit goes on in its thread
    (``RequestCharge.written``), awaited by ``confirm``, ``settle`` and ``release``."""
    estimate = price(model.price_rules, {"request": 1}, {})
    charge = RequestCharge(payer, model, new_id("req"), estimate.credits)
    loop = asyncio.get_running_loop()
    guard: asyncio.Future[None] = loop.create_future()

    def resolve() -> None:
        if not guard.done():
            guard.set_result(None)

    def guarded() -> None:
        loop.call_soon_threadsafe(resolve)

    charge.written = asyncio.ensure_future(anyio.to_thread.run_sync(_hold, charge, estimate.breakdown, guarded))
    try:
        prepared = prepare()
    except BaseException:
        await charge.release("the upstream request could not be built")
        raise
    # Shielded: once started, the hold is seen through (a cancelled caller's release needs it).
    with anyio.CancelScope(shield=True):
        await asyncio.wait((guard, charge.written), return_when=asyncio.FIRST_COMPLETED)
    if not guard.done():
        charge.closed = True
        charge.written.result()  # the refusal (402 / 429), or the database's failure
    return charge, prepared
