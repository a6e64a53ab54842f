"""Issue 9 "Input" defects 2–8: bad text, cursors, signatures, encodings and methods get
clear 4xx answers in the contract's shape, never a 500."""

from __future__ import annotations

import json
import logging
import time

import pytest

from api.middleware import RedactKeys, redact
from shared import signed
from shared.settings import get_settings
from tests.media_samples import png_bytes


def _error(response, status: int, code: str = "VALIDATION_ERROR") -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize("body", [
    {"mode": "text_to_image", "prompt": "a\u0000b"},
    {"mode": "text_to_image", "prompt": "ok", "negative_prompt": "\u0000"},
    {"mode": "audio", "voice_text": "hello\u0000"},
    {"mode": "text_to_image", "prompt": "ok", "metadata": {"k\u0000": "v"}},
    {"mode": "text_to_image", "prompt": "ok", "metadata": {"k": "v\u0000"}},
    {"mode": "image_to_image", "prompt": "ok", "input_image_asset_id": "ast_\u0000"},
])
def test_nul_in_text_fields_is_400(client, make_account, body):
    caller = make_account()
    _error(client.post("/v1/jobs", json=body, headers=caller.headers), 400)


@pytest.mark.parametrize("raw", [
    b'{"mode": "text_to_image", "prompt": "\\ud800"}',
    b'{"mode": "text_to_image", "prompt": "x\\udc00y"}',
    b'{"mode": "audio", "voice_text": "\\ud83d"}',
    b'{"mode": "text_to_image", "prompt": "ok", "metadata": {"\\ud800": "v"}}',
])
def test_unpaired_surrogates_in_text_fields_are_400(client, make_account, raw):
    caller = make_account()
    response = client.post("/v1/jobs", content=raw, headers={**caller.headers, "Content-Type": "application/json"})
    _error(response, 400)


def test_a_paired_surrogate_escape_is_ordinary_text(client, make_account):
    caller = make_account()
    raw = b'{"mode": "text_to_image", "prompt": "a cat \\ud83d\\ude00"}'
    response = client.post("/v1/jobs", content=raw, headers={**caller.headers, "Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert response.json()["prompt"] == "a cat \U0001F600"


@pytest.mark.parametrize("path", [
    "/v1/jobs/job_%00abc", "/v1/assets/ast_%00", "/v1/jobs?after=job_%00", "/v1/assets?after=%00",
    "/v1/account/usage?after=led_%00", "/v1/jobs/job_x/webhook-deliveries?x=%ED%A0%80%00",
])
def test_nul_in_ids_and_cursors_is_400(client, make_account, path):
    caller = make_account()
    _error(client.get(path, headers=caller.headers), 400)


@pytest.mark.parametrize("cursor", ["led_²", "led_" + "9" * 25, "led_", "job_abc", "led_-1", "led_１"])
def test_usage_cursor_is_validated(client, make_account, cursor):
    caller = make_account()
    error = _error(client.get("/v1/account/usage", params={"after": cursor}, headers=caller.headers), 400)
    assert error["details"]["errors"][0]["field"] == "after"


def test_usage_pages_with_its_cursor(client, make_account):
    caller = make_account()
    first = client.get("/v1/account/usage", params={"limit": 1}, headers=caller.headers).json()
    assert first["object"] == "list" and first["has_more"] and first["next_cursor"].startswith("led_")
    second = client.get("/v1/account/usage", params={"limit": 1, "after": first["next_cursor"]},
                        headers=caller.headers).json()
    assert second["data"][0]["id"] != first["data"][0]["id"]
    assert "available" in second


def test_malformed_list_cursor_is_400(client, make_account):
    caller = make_account()
    _error(client.get("/v1/jobs", params={"after": "job_é"}, headers=caller.headers), 400)


def test_non_ascii_signature_on_signed_url_is_401_not_500(client, make_account):
    caller = make_account()
    asset = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes())},
                        headers=caller.headers).json()
    expires = int(time.time()) + 60
    response = client.get(f"/v1/assets/{asset['id']}/content", params={"expires": expires, "signature": "é" * 40})
    _error(response, 401, "UNAUTHENTICATED")


def test_signed_url_expiry_is_capped_at_seven_days(client, make_account):
    caller = make_account()
    asset = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes())},
                        headers=caller.headers).json()
    settings = get_settings()
    far = 4102444800  # 2100-01-01: a validly signed URL, but beyond any allowed expiry
    signature = signed._mac(settings, f"asset:{asset['id']}:{far}")
    _error(client.get(f"/v1/assets/{asset['id']}/content", params={"expires": far, "signature": signature}),
           401, "UNAUTHENTICATED")
    url = signed.asset_url(settings, asset["id"], expires_in=10 * 365 * 86400)
    expires = int(url.split("expires=")[1].split("&")[0])
    assert expires <= time.time() + signed.MAX_EXPIRES_IN + 1
    assert client.get(url.removeprefix(settings.base_url)).status_code == 200


def test_non_ascii_callback_token_is_404_not_500(client):
    _error(client.post("/v1/providers/fal/callback/job_abc.é"), 404, "NOT_FOUND")


def test_non_utf8_and_too_deep_json_are_validation_errors(client, make_account):
    caller = make_account()
    headers = {**caller.headers, "Content-Type": "application/json"}
    _error(client.post("/v1/jobs", content=b'{"mode": "\xff\xfe"}', headers=headers), 400)
    _error(client.post("/v1/jobs", content=b"[" * 100_000 + b"]" * 100_000, headers=headers), 400)


def test_booleans_are_not_numbers(client, make_account):
    caller = make_account()
    body = {"mode": "music", "prompt": "a tune", "duration_seconds": True}
    error = _error(client.post("/v1/jobs", json=body, headers=caller.headers), 400)
    assert error["details"]["errors"][0]["field"] == "duration_seconds"
    _error(client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "p", "n": True},
                       headers=caller.headers), 400)


def test_405_names_the_allowed_methods(client, make_account):
    caller = make_account()
    response = client.put("/v1/jobs", headers=caller.headers)
    _error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    response = client.put("/v1/assets/ast_x", headers=caller.headers)
    assert set(response.headers["allow"].split(", ")) == {"GET", "DELETE"}


def test_content_responses_are_nosniff(client, make_account):
    caller = make_account()
    asset = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes())},
                        headers=caller.headers).json()
    response = client.get(f"/v1/assets/{asset['id']}/content", headers=caller.headers)
    assert response.status_code == 200 and response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("query", ["api_key=SECRET", "api%5Fkey=SECRET", "%61pi_key=SECRET", "API_KEY=SECRET",
                                   "a=1&api%5fkey=SECRET&b=2", "api+key=x&api_key=SECRET"])
def test_log_redaction_works_on_the_decoded_query(query):
    line = f'127.0.0.1:5000 - "GET /v1/jobs?{query} HTTP/1.1" 200'
    assert "SECRET" not in redact(line)
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", f"/v1/jobs?{query}", "1.1", 200), None)
    RedactKeys().filter(record)
    assert "SECRET" not in record.getMessage()


def test_encoded_api_key_parameter_authenticates_and_is_redacted(client, make_account):
    caller = make_account()
    response = client.get(f"/v1/account?api%5Fkey={caller.key}")
    assert response.status_code == 200
    assert caller.key not in redact(f"GET /v1/account?api%5Fkey={caller.key}")


def test_error_bodies_are_json_in_the_contract_shape(client):
    response = client.post("/v1/jobs", content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 401)
    assert set(json.loads(response.text)["error"]) >= {"code", "message", "status", "details"}
