"""The shapes every OpenAI-compatible media endpoint answers with (``shared.compat``)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from shared import compat, signed
from shared.settings import Settings

VIEW = {"id": "job_1", "object": "job", "status": "running", "model": "local/sketch-1",
        "created_at": "2026-11-30T10:00:00.250Z", "estimated_credits": 3, "credits_charged": 0,
        "pricing": {"estimate": {"credits": 3, "breakdown": []}}, "error": None}


def test_accepted_is_the_job_in_openai_terms():
    assert compat.accepted(VIEW) == {"id": "job_1", "object": "job", "status": "running", "created": 1796032800,
                                     "model": "local/sketch-1", "estimated_credits": 3}


def test_usage_is_the_charge_line_by_line():
    line = {"component": "image", "unit": "image", "quantity": 2.0, "units": 2, "per": 1, "credits_per_unit": 1,
            "credits": 2}
    view = {**VIEW, "status": "completed", "credits_charged": 2,
            "pricing": {"actual": {"credits": 2, "breakdown": [line]}}}
    assert compat.usage(view) == {"credits_used": 2, "credits_breakdown": [
        {"component": "image", "unit": "image", "quantity": 2.0, "units": 2, "credits": 2}]}


def test_content_urls_are_signed_for_the_configured_lifetime_and_never_past_a_week():
    for seconds, expected in ((3600, 3600), (7 * 24 * 3600, 7 * 24 * 3600)):
        settings = Settings(signed_url_seconds=seconds)
        url = compat.content_url(settings, "ast_1")
        query = parse_qs(urlsplit(url).query)
        expires = int(query["expires"][0])
        assert abs(expires - (time.time() + expected)) < 5
        assert signed.verify_asset(settings, "ast_1", expires, query["signature"][0])
        assert not signed.verify_asset(settings, "ast_2", expires, query["signature"][0])
    with pytest.raises(ValueError):
        Settings(signed_url_seconds=7 * 24 * 3600 + 1)


@pytest.mark.parametrize(("status", "error", "http", "code", "kind"), [
    ("failed", {"code": "GENERATION_FAILED", "message": "boom"}, 503, "SERVICE_UNAVAILABLE", "api_error"),
    ("failed", {"code": "UPSTREAM_REJECTED", "message": "unsafe prompt"}, 400, "VALIDATION_ERROR",
     "invalid_request_error"),
    ("aborted", None, 409, "JOB_ABORTED", "invalid_request_error"),
])
def test_a_job_that_did_not_complete_is_an_error_in_the_contract_shape(status, error, http, code, kind):
    body = compat.failure({**VIEW, "status": status, "error": error}).to_dict()["error"]
    assert (body["status"], body["code"], body["type"]) == (http, code, kind)
    assert body["details"] == {"job_id": "job_1", "job_error": error}
    assert "job_1" in body["message"] or "unsafe prompt" in body["message"]
