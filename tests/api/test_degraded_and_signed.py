"""A backing service down is 503 with nothing accepted (reads degrade open); signed asset URLs."""

from __future__ import annotations

import time

import redis
from sqlalchemy import func, select

from shared import signed
from shared.db.models import Job
from shared.db.session import session_scope
from shared.embedded import free_port
from shared.settings import get_settings
from tests.media_samples import png_bytes


def test_redis_down_is_503_and_creates_nothing(client, make_account, monkeypatch):
    from api import deps

    caller = make_account()
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr(deps, "get_redis", lambda: dead)
    response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x"}, headers=caller.headers)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    with session_scope() as session:
        count = session.scalar(select(func.count()).select_from(Job).where(Job.account_id == caller.account_id))
    assert count == 0


def test_redis_down_still_serves_reads_without_rate_limit_headers(client, make_account, monkeypatch):
    from api import deps

    caller = make_account()
    created = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "x"}, headers=caller.headers)
    assert created.status_code == 202 and "X-RateLimit-Limit" in created.headers
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr(deps, "get_redis", lambda: dead)

    for _ in range(2):  # the first read finds Redis down, the second skips it
        one = client.get(f"/v1/jobs/{created.json()['id']}", headers=caller.headers)
        assert one.status_code == 200 and one.json()["id"] == created.json()["id"]
        assert "X-RateLimit-Limit" not in one.headers
    listed = client.get("/v1/jobs", headers=caller.headers)
    assert listed.status_code == 200 and [j["id"] for j in listed.json()["data"]] == [created.json()["id"]]
    write = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "y"}, headers=caller.headers)
    assert write.status_code == 503
    assert client.get("/v1/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_readyz_reports_a_dead_broker(client, monkeypatch):
    from api.routers import ops

    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr(ops, "get_redis", lambda: dead)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"]["broker"].startswith("unavailable")


def test_signed_asset_url_works_without_a_key_until_it_expires(client, make_account):
    caller = make_account()
    data = png_bytes(12, 12)
    asset = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", data)},
                        headers=caller.headers).json()
    url = signed.asset_url(get_settings(), asset["id"], expires_in=60)
    path = url.removeprefix(get_settings().base_url)
    response = client.get(path)
    assert response.status_code == 200 and response.content == data
    forged = path.replace("signature=", "signature=0")
    assert client.get(forged).status_code == 401
    other = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("b.png", png_bytes(13, 13))},
                        headers=caller.headers).json()
    assert client.get(path.replace(asset["id"], other["id"])).status_code == 401  # bound to one asset
    expired = signed.asset_url(get_settings(), asset["id"], expires_in=-1).removeprefix(get_settings().base_url)
    time.sleep(0.01)
    assert client.get(expired).status_code == 401
