"""Authentication, the one error shape, rate limits."""

from __future__ import annotations

import logging
import time

import pytest

from shared.accounts import revoke_key
from shared.db.session import session_scope


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def test_key_accepted_as_bearer_header_and_query(client, make_account):
    caller = make_account()
    for kwargs in ({"headers": {"Authorization": f"Bearer {caller.key}"}},
                   {"headers": {"X-API-Key": caller.key}},
                   {"params": {"api_key": caller.key}}):
        response = client.get("/v1/account", **kwargs)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == caller.account_id


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer nonsense"},
    {"Authorization": "Bearer at_live_abcdefabcdefabcd.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"X-API-Key": "at_live_"},
])
def test_missing_malformed_or_unknown_key_is_401(client, headers):
    _assert_error(client.get("/v1/account", headers=headers), 401, "UNAUTHENTICATED")


def test_wrong_secret_and_revoked_key_are_401(client, make_account):
    caller = make_account()
    key_id, secret = caller.key.rsplit(".", 1)
    wrong = f"{key_id}.{'x' * len(secret)}"
    _assert_error(client.get("/v1/account", headers={"Authorization": f"Bearer {wrong}"}), 401,
                  "UNAUTHENTICATED")
    with session_scope() as session:
        revoke_key(session, key_id.removeprefix("at_live_"))
    _assert_error(client.get("/v1/account", headers=caller.headers), 401, "UNAUTHENTICATED")


def test_unknown_route_and_method_use_the_error_shape(client, make_account):
    caller = make_account()
    _assert_error(client.get("/v1/nothing-here", headers=caller.headers), 404, "NOT_FOUND")
    _assert_error(client.get("/nope"), 404, "NOT_FOUND")
    assert client.put("/v1/account", headers=caller.headers).json()["error"]["status"] == 405


def test_malformed_json_and_validation_are_400(client, make_account):
    caller = make_account()
    headers = {**caller.headers, "Content-Type": "application/json"}
    error = _assert_error(client.post("/v1/jobs", content=b"{not json", headers=headers), 400, "VALIDATION_ERROR")
    assert "JSON" in error["message"]
    error = _assert_error(client.post("/v1/jobs", json={"mode": "text_to_image", "n": 9, "prompt": "x"},
                                      headers=caller.headers), 400, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["field"] == "n"
    error = _assert_error(client.post("/v1/jobs", json={"mode": "text_to_image"}, headers=caller.headers),
                          400, "VALIDATION_ERROR")
    assert {"field": "prompt", "message": "is required for text_to_image"} in error["details"]["errors"]
    error = _assert_error(client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x", "bogus": 1},
                                      headers=caller.headers), 400, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["field"] == "bogus"


def test_prompt_too_long_and_unknown_model(client, make_account):
    caller = make_account()
    error = _assert_error(client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x" * 501},
                                      headers=caller.headers), 400, "PROMPT_TOO_LONG")
    assert error["details"]["max_length"] == 500
    error = _assert_error(client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x",
                                                        "model": "nope/model"}, headers=caller.headers),
                          400, "MODEL_NOT_FOUND")
    assert "local/sketch-1" in error["details"]["available_models"]


def _start_of_a_fresh_window(margin: float) -> None:
    """The limiter counts per fixed minute: eleven requests must not straddle two windows."""
    from shared.ratelimit import WINDOW_SECONDS

    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < margin:
        time.sleep(left + 0.1)


def test_rate_limit_headers_and_429(client, make_account):
    caller = make_account(plan="free")  # 10 requests per minute
    _start_of_a_fresh_window(margin=15)
    statuses = []
    for _ in range(11):
        response = client.get("/v1/account", headers=caller.headers)
        statuses.append(response.status_code)
        assert response.headers["X-RateLimit-Limit"] == "10"
        assert "X-RateLimit-Remaining" in response.headers
        assert response.headers["X-RateLimit-Reset"].endswith("Z")
    assert statuses[:10] == [200] * 10
    error = _assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response.headers["Retry-After"]) >= 1
    assert error["details"]["limit"] == 10 and error["details"]["window"] == "1m"


def test_query_api_key_is_redacted_from_logs(client, make_account, caplog):
    from api.middleware import RedactKeys

    caller = make_account()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", f"/v1/account?api_key={caller.key}", "1.1", 200), None)
    RedactKeys().filter(record)
    assert caller.key not in record.getMessage()
    assert "api_key=[redacted]" in record.getMessage()


def test_ops_endpoints(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}
    assert "atelier_http_requests_total" in client.get("/metrics").text
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Atelier"
