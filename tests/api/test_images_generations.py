"""``POST /v1/images/generations`` through the official ``openai`` SDK against the live stack:
a ``text_to_image`` job underneath, answered synchronously with signed URLs or base64."""

from __future__ import annotations

import base64
import io
from urllib.parse import urlsplit

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from tests.support import Caller, create_account_with_key, ledger_sum, set_sync_wait, wait_for_job

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("patient_sync_wait")]
PROMPT = "a mountain lake at sunset"


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(plan="professional", credits=200)  # 120 requests a minute


def fetch_without_key(live_server: str, url: str) -> httpx.Response:
    """A signed URL (made for ``ATELIER_API_URL``) fetched from the live server, with no key."""
    parts = urlsplit(url)
    return httpx.get(f"{live_server}{parts.path}?{parts.query}", timeout=60)


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def test_a_url_answer_is_a_signed_png_that_needs_no_key(sdk, live_server, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    result = sdk.images.generate(model="local/sketch-1", prompt=PROMPT, size="512x512")
    (image,) = result.data
    assert image.revised_prompt == PROMPT and image.b64_json is None
    assert (image.width, image.height) == (512, 512)  # type: ignore[attr-defined]
    assert result.model == "local/sketch-1"  # type: ignore[attr-defined]
    assert result.usage.credits_used == 1  # type: ignore[union-attr]
    assert result.usage.credits_breakdown[0]["component"] == "image"  # type: ignore[union-attr]
    assert ledger_sum(caller.account_id) == (before - 1, before - 1)
    content = fetch_without_key(live_server, image.url)
    assert content.status_code == 200 and png(content.content).size == (512, 512)
    expires = int(dict(p.split("=") for p in urlsplit(image.url).query.split("&"))["expires"])
    assert 3500 < expires - result.created < 3700  # 1 h by default
    tampered = fetch_without_key(live_server, image.url.replace("signature=", "signature=0"))
    assert tampered.status_code == 401


def test_b64_json_and_n_images_each_priced_one_credit(sdk, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    result = sdk.images.generate(prompt=PROMPT, n=3, size="512x512", response_format="b64_json",
                                 extra_body={"seed": 11})
    assert len(result.data) == 3 and all(i.url is None for i in result.data)
    decoded = [png(base64.b64decode(i.b64_json)) for i in result.data]
    assert all(d.size == (512, 512) for d in decoded)
    assert len({d.tobytes() for d in decoded}) == 3  # three different images
    assert result.usage.credits_used == 3  # type: ignore[union-attr]
    assert ledger_sum(caller.account_id) == (before - 3, before - 3)


def _saturation(data: bytes) -> float:
    pixels = np.asarray(png(data).convert("RGB"), dtype=np.float32)
    return float((pixels.max(axis=2) - pixels.min(axis=2)).mean())


def test_style_vivid_is_visibly_bolder_than_natural(sdk, celery_worker):
    answers = {style: sdk.images.generate(prompt=PROMPT, size="512x512", style=style, response_format="b64_json",
                                          extra_body={"seed": 4}) for style in ("vivid", "natural")}
    vivid, natural = (_saturation(base64.b64decode(answers[s].data[0].b64_json)) for s in ("vivid", "natural"))
    assert vivid > natural * 1.5


@pytest.mark.parametrize(("upscale", "side"), [("2x", 1024), ("4x", 2048)])
def test_upscale_multiplies_the_dimensions_and_costs_one_image(sdk, live_server, caller, celery_worker, upscale,
                                                               side):
    before, _ = ledger_sum(caller.account_id)
    result = sdk.images.generate(prompt=PROMPT, size="512x512", extra_body={"upscale": upscale, "seed": 2})
    (image,) = result.data
    assert (image.width, image.height) == (side, side)  # type: ignore[attr-defined]
    assert png(fetch_without_key(live_server, image.url).content).size == (side, side)
    assert result.usage.credits_used == 1  # type: ignore[union-attr]
    assert ledger_sum(caller.account_id)[0] == before - 1


def test_quality_user_and_negative_prompt_are_honoured_and_recorded(sdk, client, caller, celery_worker):
    raw = sdk.images.with_raw_response.generate(prompt=PROMPT, size="512x512", quality="hd", user="user-42",
                                                extra_body={"negative_prompt": "sun", "seed": 9})
    assert raw.status_code == 200
    assert raw.headers["X-Credits-Used"] == "1" and int(raw.headers["X-Credits-Remaining"]) > 0
    job = client.get(f"/v1/jobs/{raw.headers['X-Atelier-Job-Id']}", headers=caller.headers).json()
    assert job["metadata"] == {"user": "user-42"}
    assert job["inputs"] == {"n": 1, "size": "512x512", "seed": 9, "quality": "hd", "negative_prompt": "sun"}


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"size": "256x256"}, "size"), ({"quality": "xhigh"}, "quality"), ({"style": "noir"}, "style"),
    ({"n": 11}, "n"), ({"output_format": "webp"}, "output_format"), ({"background": "transparent"}, "background"),
    ({"extra_body": {"upscale": "3x"}}, "upscale"), ({"extra_body": {"colour": "red"}}, "colour"),
    ({"response_format": "b64_json", "n": 10, "size": "1792x1024", "extra_body": {"upscale": "4x"}},
     "response_format"),
    ({"model": "local/remix-1"}, "model"),
])
def test_what_cannot_be_honoured_is_a_400_naming_it(sdk, caller, kwargs, param):
    before = ledger_sum(caller.account_id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(prompt=PROMPT, **kwargs)
    assert caught.value.param == param, caught.value.body
    assert caught.value.type == "invalid_request_error"  # type: ignore[attr-defined]
    assert ledger_sum(caller.account_id) == before


def test_402_and_401_are_the_sdks_errors(live_server):
    broke = create_account_with_key(plan="free", credits=0)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=broke.key, max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as no_credits:
            client.images.generate(prompt=PROMPT, n=2)
    assert no_credits.value.status_code == 402
    assert no_credits.value.body["details"]["required"] == 2  # type: ignore[index]
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key="at_live_nope.nope", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            client.images.generate(prompt=PROMPT)


def test_async_answers_202_with_the_job_at_once(sdk, client, caller, celery_worker):
    raw = sdk.images.with_raw_response.generate(prompt=PROMPT, size="512x512", extra_query={"async": "true"},
                                                extra_body={"webhook_url": "http://127.0.0.1:9/hook"})
    assert raw.status_code == 202
    accepted = raw.http_response.json()
    assert set(accepted) == {"id", "object", "status", "created", "model", "estimated_credits"}
    assert (accepted["object"], accepted["model"], accepted["estimated_credits"]) == ("job", "local/sketch-1", 1)
    assert raw.headers["Location"] == f"/v1/jobs/{accepted['id']}"
    job = wait_for_job(client, caller, accepted["id"], timeout=600)
    assert job["status"] == "completed" and job["mode"] == "text_to_image"
    assert job["webhook_url"] == "http://127.0.0.1:9/hook"


def test_a_call_still_running_at_the_wait_limit_answers_202(sdk, client, caller, celery_worker):
    set_sync_wait("0.2")
    try:
        # Four hd pictures enlarged 4x: about 3 s of rendering on an idle machine (one hd picture
        # alone took 0.3 s, too close to the 0.2 s wait).
        raw = sdk.images.with_raw_response.generate(prompt=PROMPT, size="1024x1024", quality="hd", n=4,
                                                    extra_body={"upscale": "4x"})
    finally:
        set_sync_wait("600")
    assert raw.status_code == 202
    accepted = raw.http_response.json()
    assert accepted["status"] in ("queued", "running")
    assert wait_for_job(client, caller, accepted["id"], timeout=600)["status"] == "completed"


def test_an_idempotency_key_replays_the_same_job_and_charges_once(sdk, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    headers = {"Idempotency-Key": "images-once-1"}
    first = sdk.images.with_raw_response.generate(prompt=PROMPT, size="512x512", extra_headers=headers)
    again = sdk.images.with_raw_response.generate(prompt=PROMPT, size="512x512", extra_headers=headers)
    assert first.headers["X-Atelier-Job-Id"] == again.headers["X-Atelier-Job-Id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [i.width for i in again.parse().data] == [512]  # type: ignore[attr-defined]
    assert ledger_sum(caller.account_id) == (before - 1, before - 1)
    with pytest.raises(openai.UnprocessableEntityError):
        sdk.images.generate(prompt=PROMPT, size="512x512", response_format="b64_json", extra_headers=headers)


def test_a_job_cancelled_while_the_call_waits_is_a_409_and_charges_nothing(live_server, client):
    import threading
    import time

    canceller = create_account_with_key(credits=20)
    before = ledger_sum(canceller.account_id)
    caught: list[Exception] = []

    def call() -> None:
        with openai.OpenAI(base_url=f"{live_server}/v1", api_key=canceller.key, max_retries=0, timeout=600) as c:
            try:
                c.images.generate(prompt=PROMPT, n=4, size="1792x1024", quality="hd")
            except openai.APIStatusError as exc:
                caught.append(exc)

    waiting = threading.Thread(target=call)
    waiting.start()
    deadline = time.monotonic() + 60
    jobs: list = []
    while not jobs and time.monotonic() < deadline:
        jobs = client.get("/v1/jobs", headers=canceller.headers).json()["data"]
    assert jobs, "the call created no job"
    assert client.post(f"/v1/jobs/{jobs[0]['id']}/cancel", headers=canceller.headers).status_code == 200
    waiting.join(timeout=120)
    (error,) = caught
    assert isinstance(error, openai.ConflictError) and error.code == "JOB_ABORTED"  # type: ignore[attr-defined]
    assert error.body["details"]["job_id"] == jobs[0]["id"]  # type: ignore[index]
    assert ledger_sum(canceller.account_id) == before
