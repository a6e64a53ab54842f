"""The upstream call starts once the hold's guarded update has passed, while the hold commits. If
that commit fails (the database refuses it), the answer is not given and nothing is held or charged.

The failure is real: a deferred constraint trigger on ``credit_ledger``, for this test's account
only, refuses the hold's transaction at its COMMIT, after the guard."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from sqlalchemy import text

from shared.db.models import Account
from shared.db.session import session_scope
from tests.llm.fake_upstream import FakeOpenAI
from tests.llm.support import request_rows, sdk
from tests.support import Caller, create_account_with_key, ledger_sum

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def refused(fake_openai: FakeOpenAI) -> Iterator[Caller]:
    caller = create_account_with_key(credits=20)
    with session_scope() as session:
        session.execute(text(
            "CREATE FUNCTION test_refuse_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.account_id = TG_ARGV[0] THEN RAISE EXCEPTION 'refused at commit'; END IF;"
            " RETURN NULL; END $$"))
        session.execute(text(
            "CREATE CONSTRAINT TRIGGER test_refuse_ledger AFTER INSERT ON credit_ledger"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
            f" EXECUTE FUNCTION test_refuse_ledger('{caller.account_id}')"))
    try:
        yield caller
    finally:
        with session_scope() as session:
            session.execute(text("DROP TRIGGER test_refuse_ledger ON credit_ledger"))
            session.execute(text("DROP FUNCTION test_refuse_ledger()"))


def _nothing_held_or_charged(account_id: str) -> None:
    assert request_rows(account_id) == []
    assert ledger_sum(account_id) == (20, 20)
    with session_scope() as session:
        assert session.get(Account, account_id).held == 0  # type: ignore[union-attr]


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_a_completion_whose_hold_cannot_commit_is_503_and_charges_nothing(live_server, fake_openai, refused):
    with pytest.raises(openai.InternalServerError) as caught:
        sdk(live_server, refused).chat.completions.create(model=MODEL, messages=_user("unrecorded plain"))
    assert caught.value.status_code == 503 and caught.value.type == "api_error"
    with pytest.raises(openai.InternalServerError):
        sdk(live_server, refused).embeddings.create(model="openai/text-embedding-3-small", input="unrecorded")
    assert len(fake_openai.bodies("unrecorded plain")) == 1  # the guard had passed: the upstream was asked
    _nothing_held_or_charged(refused.account_id)


def test_a_stream_whose_hold_cannot_commit_ends_in_an_error_event_and_charges_nothing(live_server, fake_openai,
                                                                                     refused):
    stream = sdk(live_server, refused).chat.completions.create(model=MODEL, stream=True,
                                                               messages=_user("unrecorded stream"))
    with pytest.raises(openai.APIError) as caught:
        list(stream)
    assert "could not be recorded" in caught.value.message
    _nothing_held_or_charged(refused.account_id)
