"""The request's one database transaction, shared by authentication and the route.

A session is opened on first use (pure Python: the connection is checked out at the first
statement). The ``Tx`` dependency's exit commits it before the response is sent — a client never
sees a 202 for a job that is not yet durable — or rolls it back when the request failed. A route
may end it itself in its own worker thread (``RequestTransaction.end``), which saves the exit's
thread hop; ending is idempotent. A route that only reads declares ``ReadTx``: its statements
run without BEGIN/COMMIT (autocommit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from shared.accounts import Principal
from shared.credits import ledger
from shared.db.session import new_autocommit_session, new_session

T = TypeVar("T")


class RequestTransaction:
    def __init__(self, before_commit: Callable[[Session], None] | None = None) -> None:
        self._session: Session | None = None
        self._before_commit = before_commit
        self._autocommit = False

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = new_autocommit_session() if self._autocommit else new_session()
        return self._session

    def read_only(self) -> None:
        """Reads only: each statement commits on its own (no BEGIN/COMMIT round trips), and ending
        sends nothing, so it may end on the event loop. Before first use."""
        if self._session is not None and not self._autocommit:
            raise RuntimeError("the request transaction has begun; it cannot become read-only")
        self._autocommit = True

    @property
    def started(self) -> bool:
        return self._session is not None

    def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)``, then commit, in the caller's (worker) thread. Blocking."""
        result = work(self.session)
        self.end()
        return result

    def end(self, *, commit: bool = True) -> None:
        """Commit (``before_commit`` first, in the transaction) or roll back, then close. Blocking."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if commit:
                if self._before_commit is not None:
                    self._before_commit(session)
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def credit_headers(used: int, remaining: int) -> dict[str, str]:
    return {"X-Credits-Used": str(used), "X-Credits-Remaining": str(max(0, remaining))}


def report_credits(request: Request, session: Session) -> None:
    """``X-Credits-Used``/``-Remaining`` once the request held or charged credits (same transaction)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    used = session.info.get(ledger.CREDITS_USED)
    if principal is None or used is None:
        return
    headers = getattr(request.state, "response_headers", None) or {}
    remaining = ledger.capacity_after_hold(session)
    if remaining is None:
        remaining = ledger.available(session, principal.account_id)
    headers.update(credit_headers(used, remaining))
    request.state.response_headers = headers


async def request_transaction(request: Request) -> AsyncIterator[RequestTransaction]:
    tx = RequestTransaction(lambda session: report_credits(request, session))
    try:
        yield tx
    except BaseException:
        if tx.started:
            await run_in_threadpool(tx.end, commit=False)
        raise
    if tx.started:
        await run_in_threadpool(tx.end)


# scope="function": the exit runs before the response is sent (the commit is durable first).
Tx = Annotated[RequestTransaction, Depends(request_transaction, scope="function")]


async def read_only_transaction(tx: Tx) -> RequestTransaction:
    tx.read_only()
    return tx


#: The request's session for a route that only reads (autocommit from its first statement).
ReadTx = Annotated[RequestTransaction, Depends(read_only_transaction)]
