"""The statements on the way to a relayed request's upstream call: the key checked outside any
transaction block (a read-only session, ended before the relay), then the hold's guard as one
statement and its ledger row, in the hold's own transaction."""

from __future__ import annotations

from tests.api.test_request_path import statements
from tests.llm.fake_upstream import FakeOpenAI
from tests.support import create_account_with_key

MODEL = "openai/gpt-4o-mini"


def test_a_streamed_request_checks_its_key_without_begin_and_holds_in_one_statement(client, fake_openai: FakeOpenAI):
    caller = create_account_with_key(credits=5)
    with statements() as seen:
        response = client.post("/v1/chat/completions", headers=caller.headers, json={
            "model": MODEL, "stream": True, "messages": [{"role": "user", "content": "statements please"}]})
        body = response.text  # to its end: the request is settled before [DONE]
    assert response.status_code == 200 and body.endswith("data: [DONE]\n\n")
    # Only this request's statements (a background task of the app may read meanwhile).
    ours = [(statement.split()[0], in_transaction) for statement, in_transaction in seen
            if statement.startswith(("SELECT api_keys.account_id", "WITH guarded", "INSERT INTO credit_ledger"))]
    assert ours[:3] == [("SELECT", False), ("WITH", True), ("INSERT", True)]
    assert response.headers["X-Credits-Used"] == "1"
