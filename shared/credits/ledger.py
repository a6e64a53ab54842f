"""The credit ledger. Every change to an account's balance or hold is one row here, written
in the same transaction as the change; ``accounts.balance == sum(credit_ledger.amount)``.

Holds belong to a job (``job_id``) or, for requests answered synchronously without a job
(chat completions, embeddings), to the request (``request_id``).

Balance updates are single conditional UPDATEs, so concurrent jobs cannot overdraw: the
database checks the guard and applies the change atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from shared.credits import daily
from shared.db.models import Account, Job, LedgerEntry
from shared.errors import InsufficientCredits, NotFound

#: ``session.info`` key: credits held or charged by the current transaction.
CREDITS_USED = "atelier_credits_used"
#: ``session.info`` key: the account's capacity right after this transaction's hold, while no other
#: ledger change followed it (the hold's UPDATE returns it: no SELECT to report it).
_CAPACITY_AFTER_HOLD = "atelier_capacity_after_hold"

# Spendable capacity: balance not held, plus the plan's overage allowance.
CAPACITY_SQL = (
    "accounts.balance - accounts.held"
    " + CASE WHEN plans.overage_rate_usd IS NOT NULL THEN plans.overage_limit_credits ELSE 0 END"
)


def _record(session: Session, account_id: str, kind: str, amount: int, held_change: int,
            balance_after: int, held_after: int, **origin: Any) -> None:
    _write(session, _entry(account_id, kind, amount, held_change, balance_after, held_after, **origin))


def _entry(account_id: str, kind: str, amount: int, held_change: int, balance_after: int, held_after: int, *,
           job_id: str | None = None, request_id: str | None = None, reason: str | None = None,
           details: dict[str, Any] | None = None, api_key_id: str | None = None) -> dict[str, Any]:
    return {"account_id": account_id, "job_id": job_id, "request_id": request_id, "api_key_id": api_key_id,
            "kind": kind, "amount": amount, "held_change": held_change, "balance_after": balance_after,
            "held_after": held_after, "reason": reason, "details": details}


def _write(session: Session, *entries: dict[str, Any]) -> None:
    """Ledger rows, in order, in one statement: a plain INSERT (no ORM object: nothing reads the
    rows back), sent now, in statement order."""
    session.info.pop(_CAPACITY_AFTER_HOLD, None)  # every balance or hold change goes through here
    session.execute(_INSERT_ENTRY, list(entries) if len(entries) > 1 else entries[0])


_INSERT_ENTRY = insert(LedgerEntry.metadata.tables[LedgerEntry.__tablename__])


#: Grants that fill a tracked pool: the signup credit (spent first) and the monthly grant
#: (spent next, and expired at the period end); other grants roll over.
_POOLS = {"signup_grant": ", free_signup_remaining = free_signup_remaining + :amount",
          "monthly_grant": ", monthly_remaining = monthly_remaining + :amount,"
                           " period_granted = period_granted + :amount"}


def grant(session: Session, account_id: str, amount: int, *, kind: str = "grant",
          reason: str | None = None, details: dict[str, Any] | None = None) -> int:
    """Add (or, negative, remove) credits. Kinds: ``grant``, ``adjustment``, ``signup_grant``,
    ``monthly_grant``, ``monthly_expiry`` (unused monthly credits at the period end),
    ``overage_billed`` (the period's overage moved onto a statement)."""
    row = session.execute(
        text("UPDATE accounts SET balance = balance + :amount"
             + _POOLS.get(kind, "")
             + " WHERE id = :id RETURNING balance, held"),
        {"amount": amount, "id": account_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"No account {account_id}.")
    _record(session, account_id, kind, amount, 0, row.balance, row.held, reason=reason, details=details)
    return int(row.balance)


def available(session: Session, account_id: str) -> int:
    return int(session.execute(
        text(f"SELECT {CAPACITY_SQL} AS capacity FROM accounts JOIN plans ON plans.id = accounts.plan_id"
             " WHERE accounts.id = :id"),
        {"id": account_id},
    ).scalar_one())


#: The hold's guard: balance, overage and the account's daily limit in one conditional UPDATE.
_ACCOUNT_HOLD = (
    "UPDATE accounts SET held = held + :amount,"
    f" daily_used = {daily.used_today('accounts')} + :amount, daily_used_on = :today FROM plans"
    " WHERE accounts.id = :id AND plans.id = accounts.plan_id"
    f" AND {CAPACITY_SQL} >= :amount AND ({daily.ACCOUNT_LIMIT} IS NULL"
    f" OR {daily.used_today('accounts')} + :amount <= {daily.ACCOUNT_LIMIT})"
    f" RETURNING accounts.balance, accounts.held, {CAPACITY_SQL} AS capacity"
)
# The hold's ledger row, written by the same statement as the guarded update (one round trip, not
# two): only when the guard passed, so a refused hold writes nothing.
_HOLD_ENTRY = (
    "entry AS (INSERT INTO credit_ledger (account_id, job_id, request_id, api_key_id, kind, amount, held_change,"
    " balance_after, held_after, details) SELECT :id, :job_id, :request_id, :key_id, 'hold', 0, :amount,"
    " guarded.balance, guarded.held, :details FROM guarded{also})"
)
_ACCOUNT_HOLD_WITH_ENTRY = (
    f"WITH guarded AS ({_ACCOUNT_HOLD}), {_HOLD_ENTRY.format(also='')} SELECT guarded.* FROM guarded"
)
# With a key, still one statement: the key's counter moves only when the account's update passed;
# reading that update's output orders the locks account row first, then key row (the order settle
# uses too). ``key_held`` is false when the key's own limit refused (and no ledger row is written).
_ACCOUNT_AND_KEY_HOLD = (
    f"WITH guarded AS ({_ACCOUNT_HOLD}),"
    f" counted AS ({daily.KEY_HOLD} AND EXISTS (SELECT FROM guarded) RETURNING api_keys.id),"
    f" {_HOLD_ENTRY.format(also=' WHERE EXISTS (SELECT FROM counted)')}"
    " SELECT guarded.*, EXISTS (SELECT FROM counted) AS key_held FROM guarded"
)


_ACCOUNT_HOLD_STATEMENT, _ACCOUNT_AND_KEY_HOLD_STATEMENT = (
    text(sql).bindparams(bindparam("details", type_=JSONB)) for sql in (_ACCOUNT_HOLD_WITH_ENTRY, _ACCOUNT_AND_KEY_HOLD)
)


def _reserve(session: Session, account_id: str, api_key_id: str | None, amount: int, day: date,
             entry: dict[str, Any]) -> Any:
    """The guarded updates and, if they passed, the hold's ledger row (``entry``: its job or
    request and details): the account's row (balance, held, capacity after), or None when the
    account cannot pay; raises 429 when the key's daily limit refuses (the caller rolls back)."""
    params = {"amount": amount, "id": account_id, "today": day, "key_id": api_key_id, **entry}
    if not api_key_id:
        return session.execute(_ACCOUNT_HOLD_STATEMENT, params).one_or_none()
    row = session.execute(_ACCOUNT_AND_KEY_HOLD_STATEMENT, params).one_or_none()
    if row is not None and not row.key_held:
        raise daily.key_refusal(session, api_key_id, amount, day)
    return row


def hold(session: Session, account_id: str, job_id: str | None, amount: int,
         breakdown: list[dict[str, Any]], *, request_id: str | None = None, api_key_id: str | None = None,
         reserved: Callable[[int], object] | None = None) -> int:
    """Reserve ``amount`` for a job (or a request), or raise 402 / 429 (daily limit) without changing anything.
    Returns the spendable credits left (``available`` after the hold, without another query).

    ``reserved(spendable)`` is called as soon as the guarded updates passed (the account and key rows
    are locked by this transaction): a relayed request starts its upstream call then.

    Balance, the account's daily limit, the key's and the ledger row are one statement (``_reserve``).
    """
    day = daily.today()
    session.info.pop(_CAPACITY_AFTER_HOLD, None)  # as for every ledger change (``_write``)
    row = _reserve(session, account_id, api_key_id, amount, day,
                   {"job_id": job_id, "request_id": request_id, "details": {"breakdown": breakdown}})
    if row is None:
        refusal = daily.account_refusal(session, account_id, amount, day)
        if refusal is not None:
            raise refusal
        spendable = max(available(session, account_id), 0)
        raise InsufficientCredits(
            f"This {'job' if job_id else 'request'} needs {amount} credits; {spendable} are available.",
            details={"required": amount, "available": spendable, "breakdown": breakdown},
        )
    if reserved is not None:
        reserved(int(row.capacity))
    count_for_request(session, amount)
    session.info[_CAPACITY_AFTER_HOLD] = int(row.capacity)
    return int(row.capacity)


def capacity_after_hold(session: Session) -> int | None:
    """``available`` without a query when this transaction's last ledger change was a hold."""
    return session.info.get(_CAPACITY_AFTER_HOLD)


def count_for_request(session: Session, credits: int) -> None:
    """What this transaction held or charged: the API reports it as ``X-Credits-Used``."""
    session.info[CREDITS_USED] = session.info.get(CREDITS_USED, 0) + credits


def _origin(session: Session, job_id: str | None, api_key_id: str | None) -> tuple[Job | None, str | None, date]:
    """The job, the key that submitted it (a request's is passed in) and the UTC day its hold counted on."""
    job = session.get(Job, job_id) if job_id else None
    if job is None:
        return None, api_key_id, daily.today()
    return job, job.api_key_id, daily.today(job.created_at)


def release(session: Session, account_id: str, job_id: str | None, amount: int, *, reason: str,
            request_id: str | None = None, api_key_id: str | None = None) -> None:
    if amount <= 0:
        return
    row = session.execute(
        text("UPDATE accounts SET held = held - :amount WHERE id = :id RETURNING balance, held"),
        {"amount": amount, "id": account_id},
    ).one()
    _, key_id, day = _origin(session, job_id, api_key_id)
    daily.adjust(session, account_id, key_id, -amount, day)
    _record(session, account_id, "release", 0, -amount, row.balance, row.held, job_id=job_id,
            request_id=request_id, reason=reason, api_key_id=key_id)


@dataclass(frozen=True)
class Settlement:
    charged: int
    shortfall: int


# FOR NO KEY UPDATE (see ``settle``); built once, like the hold's statements.
_ACCOUNT_TO_SETTLE = select(Account).where(Account.id == bindparam("account_id")).with_for_update(key_share=True)


def settle(session: Session, account_id: str, job_id: str | None, held: int, price: int,
           breakdown: list[dict[str, Any]], *, request_id: str | None = None,
           details: dict[str, Any] | None = None, api_key_id: str | None = None) -> Settlement:
    """Release the job's (or request's) hold and charge the measured price, in the caller's transaction.

    ``details`` are added to the charge row (a request's mode, model and token counts).

    The hold is always covered. Anything above it is charged only as far as the account's
    capacity (balance not held by other jobs, plus overage) allows; the rest is recorded as
    a shortfall and never drives the balance below what the plan permits.
    """
    # FOR NO KEY UPDATE: it does not conflict with the key-share locks that inserts referencing
    # the account (assets, ledger rows) take, so two completions of one account queue, never deadlock.
    account = session.execute(_ACCOUNT_TO_SETTLE, {"account_id": account_id}).scalar_one()
    plan = account.plan
    overage = plan.overage_limit_credits if plan.overage_enabled else 0
    capacity_after_release = account.balance - (account.held - held) + overage
    charged = min(price, max(held, capacity_after_release))
    shortfall = price - charged
    balance_before = account.balance
    account.held -= held
    _spend(account, charged)
    session.flush()
    job, key_id, day = _origin(session, job_id, api_key_id)
    daily.adjust(session, account_id, key_id, charged - held, day)
    usage = {"mode": job.mode, "model": job.model} if job else {}
    entries = [_entry(account_id, "release", 0, -held, balance_before, account.held, job_id=job_id,
                      request_id=request_id, reason="settled", api_key_id=key_id)] if held else []
    entries.append(_entry(account_id, "charge", -charged, 0, account.balance, account.held, job_id=job_id,
                          request_id=request_id, api_key_id=key_id,
                          details={**usage, **(details or {}), "breakdown": breakdown, "price": price}))
    if shortfall:
        entries.append(_entry(account_id, "shortfall", 0, 0, account.balance, account.held, job_id=job_id,
                              request_id=request_id, reason="price exceeded the hold and the available balance",
                              details={"price": price, "charged": charged, "shortfall": shortfall},
                              api_key_id=key_id))
    _write(session, *entries)  # one statement for the release, the charge and any shortfall
    from shared.people import alerts  # imported here: alerts reach the webhook outbox, which needs accounts

    alerts.check(session, account)
    return Settlement(charged, shortfall)


def _spend(account: Account, charged: int) -> None:
    """Charges spend the free signup credit first, then this period's monthly grant, then credits
    that roll over; below a zero balance they count as overage."""
    from_free = min(account.free_signup_remaining, charged)
    account.free_signup_remaining -= from_free
    account.monthly_remaining = max(0, account.monthly_remaining - (charged - from_free))
    account.overage_credits_period += max(0, charged - max(account.balance, 0))
    account.balance -= charged
    account.period_used += charged
