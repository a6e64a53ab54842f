"""Credits for a relayed request: held before the upstream is called, settled or released after.

Each step is its own short transaction, run off the event loop; nothing holds a database
connection while the upstream answers. Steps that close a request run shielded from
cancellation, so a client that goes away never leaves a hold behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.orm import Session

from shared.catalog import ModelSpec
from shared.credits import ledger
from shared.credits.pricing import price
from shared.db.session import session_scope
from shared.ids import new_id


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
    closed: bool = False

    async def settle(self, *, tool_calls: int = 0, usage: dict[str, Any] | None = None,
                     incomplete: bool = False) -> int:
        """Charge the request's price (1 + 1 per tool call for chat); returns the credits charged."""
        with anyio.CancelScope(shield=True):
            charged = await anyio.to_thread.run_sync(self._settle, tool_calls, usage or {}, incomplete)
        return charged

    async def release(self, reason: str) -> None:
        with anyio.CancelScope(shield=True):
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


def _hold(payer: Payer, model: ModelSpec) -> RequestCharge:
    estimate = price(model.price_rules, {"request": 1}, {})
    request_id = new_id("req")
    with session_scope() as session:
        ledger.hold(session, payer.account_id, None, estimate.credits, estimate.breakdown, request_id=request_id,
                    api_key_id=payer.api_key_id)
        payer.note(session, estimate.credits)
    return RequestCharge(payer, model, request_id, estimate.credits)


async def hold(payer: Payer, model: ModelSpec) -> RequestCharge:
    """Hold the request's minimum price, or raise 402 (429 past a daily limit) before anything is
    sent upstream."""
    with anyio.CancelScope(shield=True):
        charge = await anyio.to_thread.run_sync(_hold, payer, model)
    return charge
