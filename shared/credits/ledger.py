"""The credit ledger. Every change to an account's balance or hold is one row here, written
in the same transaction as the change; ``accounts.balance == sum(credit_ledger.amount)``.

Holds belong to a job (``job_id``) or, for requests answered synchronously without a job
(chat completions, embeddings), to the request (``request_id``).

Balance updates are single conditional UPDATEs, so concurrent jobs cannot overdraw: the
database checks the guard and applies the change atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.db.models import Account, LedgerEntry
from shared.errors import InsufficientCredits, NotFound

# Spendable capacity: balance not held, plus the plan's overage allowance.
_CAPACITY = (
    "accounts.balance - accounts.held"
    " + CASE WHEN plans.overage_rate_usd IS NOT NULL THEN plans.overage_limit_credits ELSE 0 END"
)


def _record(session: Session, account_id: str, kind: str, amount: int, held_change: int,
            balance_after: int, held_after: int, *, job_id: str | None = None, request_id: str | None = None,
            reason: str | None = None, details: dict[str, Any] | None = None) -> None:
    session.add(LedgerEntry(
        account_id=account_id, job_id=job_id, request_id=request_id, kind=kind, amount=amount,
        held_change=held_change,
        balance_after=balance_after, held_after=held_after, reason=reason, details=details,
    ))
    session.flush()


def grant(session: Session, account_id: str, amount: int, *, kind: str = "grant",
          reason: str | None = None) -> int:
    row = session.execute(
        text("UPDATE accounts SET balance = balance + :amount"
             + (", free_signup_remaining = free_signup_remaining + :amount" if kind == "signup_grant" else "")
             + " WHERE id = :id RETURNING balance, held"),
        {"amount": amount, "id": account_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"No account {account_id}.")
    _record(session, account_id, kind, amount, 0, row.balance, row.held, reason=reason)
    return int(row.balance)


def available(session: Session, account_id: str) -> int:
    return int(session.execute(
        text(f"SELECT {_CAPACITY} AS capacity FROM accounts JOIN plans ON plans.id = accounts.plan_id"
             " WHERE accounts.id = :id"),
        {"id": account_id},
    ).scalar_one())


def hold(session: Session, account_id: str, job_id: str | None, amount: int,
         breakdown: list[dict[str, Any]], *, request_id: str | None = None) -> None:
    """Reserve ``amount`` for a job (or a request), or raise 402 without changing anything."""
    row = session.execute(
        text("UPDATE accounts SET held = held + :amount FROM plans"
             " WHERE accounts.id = :id AND plans.id = accounts.plan_id"
             f" AND {_CAPACITY} >= :amount RETURNING accounts.balance, accounts.held"),
        {"amount": amount, "id": account_id},
    ).one_or_none()
    if row is None:
        spendable = max(available(session, account_id), 0)
        raise InsufficientCredits(
            f"This {'job' if job_id else 'request'} needs {amount} credits; {spendable} are available.",
            details={"required": amount, "available": spendable, "breakdown": breakdown},
        )
    _record(session, account_id, "hold", 0, amount, row.balance, row.held, job_id=job_id,
            request_id=request_id, details={"breakdown": breakdown})


def release(session: Session, account_id: str, job_id: str | None, amount: int, *, reason: str,
            request_id: str | None = None) -> None:
    if amount <= 0:
        return
    row = session.execute(
        text("UPDATE accounts SET held = held - :amount WHERE id = :id RETURNING balance, held"),
        {"amount": amount, "id": account_id},
    ).one()
    _record(session, account_id, "release", 0, -amount, row.balance, row.held, job_id=job_id,
            request_id=request_id, reason=reason)


@dataclass(frozen=True)
class Settlement:
    charged: int
    shortfall: int


def settle(session: Session, account_id: str, job_id: str | None, held: int, price: int,
           breakdown: list[dict[str, Any]], *, request_id: str | None = None,
           details: dict[str, Any] | None = None) -> Settlement:
    """Release the job's (or request's) hold and charge the measured price, in the caller's transaction.

    ``details`` are added to the charge row (a request's mode, model and token counts).

    The hold is always covered. Anything above it is charged only as far as the account's
    capacity (balance not held by other jobs, plus overage) allows; the rest is recorded as
    a shortfall and never drives the balance below what the plan permits.
    """
    # FOR NO KEY UPDATE: it does not conflict with the key-share locks that inserts referencing
    # the account (assets, ledger rows) take, so two completions of one account queue, never deadlock.
    account = session.execute(
        select(Account).where(Account.id == account_id).with_for_update(key_share=True)
    ).scalar_one()
    plan = account.plan
    overage = plan.overage_limit_credits if plan.overage_enabled else 0
    capacity_after_release = account.balance - (account.held - held) + overage
    charged = min(price, max(held, capacity_after_release))
    shortfall = price - charged
    # Charges spend the free signup credit first, and count toward overage once the
    # balance is below zero.
    balance_before = account.balance
    account.held -= held
    account.balance -= charged
    account.free_signup_remaining = max(0, account.free_signup_remaining - charged)
    account.overage_credits_period += max(0, charged - max(balance_before, 0))
    session.flush()
    if held:
        _record(session, account_id, "release", 0, -held, balance_before, account.held, job_id=job_id,
                request_id=request_id, reason="settled")
    _record(session, account_id, "charge", -charged, 0, account.balance, account.held, job_id=job_id,
            request_id=request_id, details={**(details or {}), "breakdown": breakdown, "price": price})
    if shortfall:
        _record(session, account_id, "shortfall", 0, 0, account.balance, account.held, job_id=job_id,
                request_id=request_id,
                reason="price exceeded the hold and the available balance",
                details={"price": price, "charged": charged, "shortfall": shortfall})
    return Settlement(charged, shortfall)
