"""Chat completions through the official ``openai`` SDK, against the real app (uvicorn) and a
loopback fake OpenAI-compatible upstream."""

from __future__ import annotations

import pytest

from tests.llm.fake_upstream import FakeOpenAI
from tests.llm.support import request_rows, sdk, wait_for_rows
from tests.support import create_account_with_key, ledger_sum

MODEL = "openai/gpt-4o-mini"
CITY = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS = [{"type": "function", "function": {"name": name, "description": f"{name} of a city", "parameters": CITY}}
         for name in ("get_weather", "get_time")]


@pytest.fixture
def caller(fake_openai: FakeOpenAI):
    return create_account_with_key(credits=50)


def test_a_completion_is_relayed_with_every_field_and_charged_one_credit(live_server, fake_openai, caller):
    answer = sdk(live_server, caller).chat.completions.create(
        model=MODEL, temperature=0.3, top_p=0.9, max_tokens=50, max_completion_tokens=60, stop=["\n\n"],
        presence_penalty=0.5, frequency_penalty=-0.5, user="user-42", metadata={"trace": "t1"}, seed=7,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello relay"}],
    )
    assert answer.choices[0].message.content == "echo: hello relay"
    assert answer.usage.credits_used == 1  # type: ignore[union-attr]
    (sent,) = fake_openai.bodies("hello relay")
    assert sent["model"] == "gpt-4o-mini"  # the provider's own name
    assert {k: sent[k] for k in ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop",
                                 "presence_penalty", "frequency_penalty", "user", "metadata", "seed")} == {
        "temperature": 0.3, "top_p": 0.9, "max_tokens": 50, "max_completion_tokens": 60, "stop": ["\n\n"],
        "presence_penalty": 0.5, "frequency_penalty": -0.5, "user": "user-42", "metadata": {"trace": "t1"},
        "seed": 7}
    hold, release, charge = request_rows(caller.account_id)
    assert (hold["kind"], release["kind"], charge["kind"], charge["amount"]) == ("hold", "release", "charge", -1)
    assert hold["request_id"] == charge["request_id"]
    assert {k: charge["details"][k] for k in ("mode", "model", "prompt_tokens", "completion_tokens")} == {
        "mode": "chat", "model": MODEL, "prompt_tokens": answer.usage.prompt_tokens,  # type: ignore[union-attr]
        "completion_tokens": answer.usage.completion_tokens}  # type: ignore[union-attr]
    total, balance = ledger_sum(caller.account_id)
    assert total == balance == 49


def test_tool_roles_and_content_parts_are_forwarded_and_each_tool_call_costs_a_credit(live_server, fake_openai,
                                                                                      caller):
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "use tools"},
                                     {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
        {"role": "user", "content": "use tools again"},
    ]
    answer = sdk(live_server, caller).chat.completions.create(model="gpt-4o-mini", messages=messages,
                                                               tools=TOOLS, tool_choice="auto")
    calls = answer.choices[0].message.tool_calls
    assert [c.function.name for c in calls or ()] == ["get_weather", "get_time"]
    assert answer.usage.credits_used == 3  # type: ignore[union-attr]
    (sent,) = fake_openai.bodies("use tools again")
    assert sent["messages"] == messages and sent["tools"] == TOOLS and sent["tool_choice"] == "auto"
    assert ledger_sum(caller.account_id) == (47, 47)


def test_a_stream_is_relayed_event_by_event_as_the_upstream_sends_it(live_server, fake_openai, caller):
    fake_openai.gate.clear()
    stream = sdk(live_server, caller).chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "gated words arrive"}])
    first = next(iter(stream))
    # The upstream is still holding back the rest: this chunk was not buffered behind it.
    assert not fake_openai.gate.is_set()
    fake_openai.gate.set()
    text = (first.choices[0].delta.content or "") + "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "echo: gated words arrive"
    (sent,) = fake_openai.bodies("gated words")
    assert sent["stream_options"] == {"include_usage": True}  # asked upstream, for the token counts
    (charge,) = wait_for_rows(caller.account_id, "charge")
    assert charge["amount"] == -1 and charge["details"]["completion_tokens"] > 0


def test_a_stream_with_usage_ends_with_the_credits_used_and_counts_streamed_tool_calls(live_server, fake_openai,
                                                                                       caller):
    chunks = list(sdk(live_server, caller).chat.completions.create(
        model=MODEL, stream=True, stream_options={"include_usage": True}, tools=TOOLS,
        messages=[{"role": "user", "content": "use tools while streaming"}]))
    names = [d.function.name for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or ()
             if d.function and d.function.name]
    assert names == ["get_weather", "get_time"]
    usage = chunks[-1].usage
    assert not chunks[-1].choices and usage is not None
    assert usage.credits_used == 3  # type: ignore[attr-defined]
    assert ledger_sum(caller.account_id) == (47, 47)


def test_streams_read_to_their_end_keep_the_upstream_connection_alive(live_server, fake_openai, caller):
    client = sdk(live_server, caller)

    def stream(n: int) -> str:
        chunks = client.chat.completions.create(model=MODEL, stream=True,
                                                messages=[{"role": "user", "content": f"kept alive {n}"}])
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    assert stream(0) == "echo: kept alive 0"
    opened = fake_openai.connections
    assert [stream(n) for n in range(1, 4)] == [f"echo: kept alive {n}" for n in range(1, 4)]
    # The relay read each upstream body past [DONE] to its end, so its pooled connection was reused.
    assert fake_openai.connections == opened


def test_a_client_that_disconnects_ends_the_upstream_request(live_server, fake_openai, caller):
    fake_openai.disconnected.clear()
    stream = sdk(live_server, caller).chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "endless story"}])
    for _, _chunk in zip(range(3), stream, strict=False):
        pass
    stream.close()
    assert fake_openai.disconnected.wait(10)
    sent, planned = fake_openai.disconnects[-1]
    assert sent < planned
    (charge,) = wait_for_rows(caller.account_id, "charge")
    assert charge["amount"] == -1 and charge["details"]["incomplete"] is True
    assert ledger_sum(caller.account_id) == (49, 49)


def test_the_self_hosted_upstream_gets_its_own_model_name_and_key(live_server, fake_openai, caller):
    answer = sdk(live_server, caller).chat.completions.create(
        model="selfhosted/llama-3-8b", messages=[{"role": "user", "content": "hello vllm"}])
    assert answer.choices[0].message.content == "echo: hello vllm"
    (sent,) = fake_openai.bodies("hello vllm")
    assert sent["model"] == "meta-llama/Meta-Llama-3-8B-Instruct"
