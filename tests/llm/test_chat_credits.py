"""Relayed requests report their credits like every other request, and count against a key's
daily limit and per-key usage."""

from __future__ import annotations

import openai
import pytest

from shared.accounts import create_key
from shared.db.session import session_scope
from tests.llm.fake_upstream import FakeOpenAI
from tests.llm.support import request_rows, sdk
from tests.support import Caller, create_account_with_key

MODEL = "openai/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"


@pytest.fixture
def caller(fake_openai: FakeOpenAI) -> Caller:
    return create_account_with_key(credits=50)


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_a_completion_reports_what_it_charged_and_what_is_left(live_server, fake_openai, caller):
    before = int(sdk(live_server, caller).models.with_raw_response.list().headers["X-Credits-Remaining"])
    raw = sdk(live_server, caller).chat.completions.with_raw_response.create(model=MODEL,
                                                                             messages=_user("headers please"))
    assert (raw.headers["X-Credits-Used"], int(raw.headers["X-Credits-Remaining"])) == ("1", before - 1)
    raw = sdk(live_server, caller).embeddings.with_raw_response.create(model=EMBEDDING, input="headers embed")
    assert (raw.headers["X-Credits-Used"], int(raw.headers["X-Credits-Remaining"])) == ("1", before - 2)


def test_a_stream_reports_its_hold_before_the_first_event(live_server, fake_openai, caller):
    before = int(sdk(live_server, caller).models.with_raw_response.list().headers["X-Credits-Remaining"])
    with sdk(live_server, caller).chat.completions.with_streaming_response.create(
            model=MODEL, stream=True, messages=_user("stream headers")) as response:
        assert (response.headers["X-Credits-Used"], int(response.headers["X-Credits-Remaining"])) == ("1", before - 1)
        assert any(chunk.choices for chunk in response.parse())


def test_relayed_requests_are_the_keys_and_stop_at_its_daily_limit(live_server, fake_openai, caller):
    with session_scope() as session:
        _, limited = create_key(session, caller.account_id, "two a day", daily_credit_limit=2)
    capped = Caller(caller.account_id, limited)
    for n in range(2):
        sdk(live_server, capped).chat.completions.create(model=MODEL, messages=_user(f"capped {n}"))
    with pytest.raises(openai.RateLimitError) as caught:
        sdk(live_server, capped).chat.completions.create(model=MODEL, messages=_user("capped over"))
    assert caught.value.status_code == 429 and caught.value.body["code"] == "DAILY_LIMIT_REACHED"  # type: ignore[index]
    assert fake_openai.bodies("capped over") == []
    charges = [row for row in request_rows(caller.account_id) if row["kind"] == "charge"]
    assert len(charges) == 2 and all(row["api_key_id"] for row in charges)
