"""``POST /v1/images/edits`` through the official ``openai`` SDK (multipart) and as JSON with
URL or ``data:`` inputs: an ``image_to_image`` job whose mask confines the change."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from tests.api.test_url_inputs import files  # noqa: F401 (the loopback file server fixture)
from tests.support import Caller, create_account_with_key, ledger_sum

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("patient_sync_wait")]
BOX = (100, 80, 300, 220)  # left, top, right, bottom: the transparent part of the mask


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(plan="professional", credits=100)  # 120 requests a minute


def photo(size: tuple[int, int] = (600, 400)) -> bytes:
    rng = np.random.default_rng(8)
    ramp = np.linspace(0, 220, size[0], dtype=np.float32)[None, :, None] * np.ones((size[1], 1, 3))
    pixels = np.clip(ramp + rng.integers(0, 35, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    return _png(Image.fromarray(pixels))


def mask(size: tuple[int, int] = (600, 400), alpha: bool = True) -> bytes:
    if not alpha:
        return _png(Image.new("RGB", size, (0, 0, 0)))
    image = Image.new("RGBA", size, (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), BOX)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def assert_only_the_box_changed(original: bytes, edited_b64: str) -> None:
    before, after = _rgb(original), _rgb(base64.b64decode(edited_b64))
    assert after.shape == before.shape
    inside = np.zeros(before.shape[:2], dtype=bool)
    inside[BOX[1]:BOX[3], BOX[0]:BOX[2]] = True
    assert np.array_equal(after[~inside], before[~inside])  # outside the mask: the input's own pixels
    assert float(np.abs(after[inside] - before[inside]).mean()) > 10


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_a_multipart_edit_with_a_mask_changes_only_the_transparent_pixels(sdk, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    original = photo()
    result = sdk.images.edit(image=("photo.png", original, "image/png"), mask=("mask.png", mask(), "image/png"),
                             prompt="a pencil sketch", n=2, response_format="b64_json")
    assert len(result.data) == 2 and result.usage.credits_used == 2  # type: ignore[union-attr]
    for image in result.data:
        assert_only_the_box_changed(original, image.b64_json)
    assert ledger_sum(caller.account_id) == (before - 2, before - 2)


def test_an_edit_without_a_mask_may_change_everything_and_answers_urls(sdk, live_server, celery_worker):
    result = sdk.images.edit(image=("photo.png", photo(), "image/png"), prompt="vintage film photo", size="512x512")
    (image,) = result.data
    assert (image.width, image.height) == (512, 512)  # type: ignore[attr-defined]
    assert image.url and image.revised_prompt == "vintage film photo"


def test_a_json_edit_takes_data_uris(live_server, caller, celery_worker):
    original = photo()
    body = {"image": data_uri(original), "mask": data_uri(mask()), "prompt": "neon glow",
            "response_format": "b64_json", "metadata": {"order": "7"}}
    response = httpx.post(f"{live_server}/v1/images/edits", json=body, headers=caller.headers, timeout=600)
    assert response.status_code == 200, response.text
    assert_only_the_box_changed(original, response.json()["data"][0]["b64_json"])


def test_a_json_edit_fetches_http_urls_through_the_guard(live_server, caller, celery_worker, files):  # noqa: F811
    original = photo()
    body = {"image": files.serve("/photo.png", original, "image/png"),
            "mask": files.serve("/mask.png", mask(), "image/png"), "prompt": "a pencil sketch", "strength": 0.9,
            "response_format": "b64_json"}
    response = httpx.post(f"{live_server}/v1/images/edits", json=body, headers=caller.headers, timeout=600)
    assert response.status_code == 200, response.text
    assert_only_the_box_changed(original, response.json()["data"][0]["b64_json"])
    missing = httpx.post(f"{live_server}/v1/images/edits", headers=caller.headers, timeout=60,
                         json={**body, "mask": files.serve("/gone.png", b"no", status=404)})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "mask"


def test_a_mask_of_another_size_is_a_400_naming_mask(sdk, caller):
    before = ledger_sum(caller.account_id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(image=("photo.png", photo(), "image/png"), mask=("mask.png", mask((300, 200)), "image/png"),
                        prompt="sketch")
    assert caught.value.param == "mask" and "300x200" in caught.value.message
    assert ledger_sum(caller.account_id) == before


def test_a_mask_without_transparency_fails_as_the_callers_400_and_charges_nothing(sdk, caller, celery_worker):
    before = ledger_sum(caller.account_id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(image=("photo.png", photo(), "image/png"), mask=("mask.png", mask(alpha=False), "image/png"),
                        prompt="sketch")
    assert "no transparency" in caught.value.message
    assert caught.value.body["details"]["job_error"]["code"] == "INVALID_INPUT"  # type: ignore[index]
    assert ledger_sum(caller.account_id) == before


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"quality": "high"}, "quality"), ({"size": "1536x1024"}, "size"), ({"n": 0}, "n"),
    ({"extra_body": {"strength": 2}}, "strength")])
def test_edit_fields_it_cannot_honour_are_400s_naming_them(sdk, kwargs, param):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(image=("photo.png", photo(), "image/png"), prompt="sketch", **kwargs)
    assert caught.value.param == param, caught.value.body


@pytest.mark.parametrize(("body", "param"), [
    ({"prompt": "sketch"}, "image"), ({"prompt": "sketch", "image": "ftp://example.com/a.png"}, "image"),
    ({"prompt": "sketch", "image": "data:image/png;base64,AAAA"}, "image"),
    ({"prompt": "sketch", "image": data_uri(photo()), "unknown": 1}, "unknown")])
def test_bad_json_inputs_are_400s_naming_the_field(live_server, caller, body, param):
    response = httpx.post(f"{live_server}/v1/images/edits", json=body, headers=caller.headers, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_an_edit_cannot_be_paid_without_credits(live_server):
    broke = create_account_with_key(plan="free", credits=0)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=broke.key, max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            client.images.edit(image=("photo.png", photo(), "image/png"), prompt="sketch")
    assert caught.value.status_code == 402
