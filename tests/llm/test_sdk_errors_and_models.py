"""Every error carries OpenAI's ``type`` and ``param``, so each SDK error class is raised as
OpenAI's would be; models list and retrieve with ``created``, ``owned_by`` and ``category``."""

from __future__ import annotations

import openai
import pytest

from tests.llm.fake_upstream import FakeOpenAI
from tests.llm.support import sdk
from tests.support import create_account_with_key


@pytest.fixture
def caller(fake_openai: FakeOpenAI):
    return create_account_with_key(credits=5)


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_models_list_and_retrieve_by_catalog_or_provider_name(live_server, caller):
    client = sdk(live_server, caller)
    models = {m.id: m for m in client.models.list()}
    chat = models["openai/gpt-4o-mini"]
    assert (chat.owned_by, chat.category, chat.created > 0) == ("openai", "chat", True)  # type: ignore[attr-defined]
    assert models["openai/text-embedding-3-small"].category == "embedding"  # type: ignore[attr-defined]
    assert models["local/sketch-1"].category == "image"  # type: ignore[attr-defined]
    assert models["local/motion-1"].category == "video"  # type: ignore[attr-defined]
    assert models["local/transcribe-1"].category == "transcription"  # type: ignore[attr-defined]
    assert client.models.retrieve("openai/gpt-4o-mini").id == "openai/gpt-4o-mini"
    assert client.models.retrieve("gpt-4o-mini").id == "openai/gpt-4o-mini"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("nobody/nothing")
    assert (caught.value.type, caught.value.param, caught.value.code) == ("not_found_error", "model", "NOT_FOUND")


def test_a_bad_field_is_a_bad_request_error_naming_it(live_server, caller):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live_server, caller).chat.completions.create(model="openai/gpt-4o-mini", temperature=5,
                                                         messages=_user("too hot"))
    assert (caught.value.type, caught.value.param, caught.value.code) == (
        "invalid_request_error", "temperature", "VALIDATION_ERROR")
    with pytest.raises(openai.BadRequestError) as unknown:
        sdk(live_server, caller).chat.completions.create(model="nobody/x", messages=_user("which model"))
    assert (unknown.value.type, unknown.value.param, unknown.value.code) == (
        "invalid_request_error", "model", "MODEL_NOT_FOUND")


def test_a_bad_key_is_an_authentication_error(live_server):
    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key="at_live_nope.nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert (caught.value.type, caught.value.param) == ("authentication_error", None)


def test_no_credits_is_a_402_status_error_of_type_insufficient_quota(live_server, fake_openai):
    broke = create_account_with_key(plan="free", credits=0)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk(live_server, broke).chat.completions.create(model="openai/gpt-4o-mini", messages=_user("broke"))
    assert (caught.value.status_code, caught.value.type) == (402, "insufficient_quota")
    assert caught.value.body["details"]["required"] == 1  # type: ignore[index]


def test_too_many_requests_is_a_rate_limit_error(live_server, fake_openai):
    limited = create_account_with_key(plan="free")  # 10 requests a minute
    client = sdk(live_server, limited)
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(11):
            client.models.list()
    assert caught.value.type == "rate_limit_error"
    assert int(caught.value.response.headers["retry-after"]) > 0


def test_plain_http_errors_carry_type_and_param_too(client, caller):
    response = client.post("/v1/jobs", headers=caller.headers, json={"mode": "text_to_image", "prompt": "x" * 501})
    error = response.json()["error"]
    assert (response.status_code, error["type"], error["param"]) == (400, "invalid_request_error", "prompt")
    missing = client.get("/v1/no-such-route", headers=caller.headers).json()["error"]
    assert (missing["type"], missing["param"]) == ("not_found_error", None)
