"""Uploads: sniffing, limits, owner-only reads, ranges, deletion."""

from __future__ import annotations

import hashlib

from tests.media_samples import jpeg_bytes, png_bytes, wav_bytes


def upload(client, caller, kind: str, data: bytes, name: str = "file.bin", **headers):
    return client.post("/v1/assets", data={"kind": kind}, files={"file": (name, data)},
                       headers={**caller.headers, **headers})


def test_upload_image_records_sniffed_type_and_dimensions(client, make_account):
    caller = make_account()
    data = png_bytes(64, 48)
    response = upload(client, caller, "image", data, "photo.jpg")  # the name lies; the bytes win
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["id"].startswith("ast_") and asset["object"] == "asset"
    assert (asset["content_type"], asset["width"], asset["height"]) == ("image/png", 64, 48)
    assert asset["bytes"] == len(data) and asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert asset["source"] == "upload" and asset["job_id"] is None
    assert asset["url"].endswith(f"/v1/assets/{asset['id']}/content")
    assert client.get(f"/v1/assets/{asset['id']}", headers=caller.headers).json() == asset

    content = client.get(f"/v1/assets/{asset['id']}/content", headers=caller.headers)
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/png"
    assert content.content == data
    download = client.get(f"/v1/assets/{asset['id']}/content?download=1", headers=caller.headers)
    assert download.headers["content-disposition"].startswith("attachment")


def test_range_requests(client, make_account):
    caller = make_account()
    data = jpeg_bytes()
    asset = upload(client, caller, "image", data).json()
    url = f"/v1/assets/{asset['id']}/content"
    part = client.get(url, headers={**caller.headers, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = client.get(url, headers={**caller.headers, "Range": "bytes=-5"})
    assert tail.content == data[-5:]
    bad = client.get(url, headers={**caller.headers, "Range": f"bytes={len(data) + 10}-"})
    assert bad.status_code == 416 and bad.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"


def test_html_named_png_is_415(client, make_account):
    caller = make_account()
    response = upload(client, caller, "image", b"<!doctype html><html><body>hi</body></html>", "cat.png")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_wrong_kind_and_undecodable_audio_are_415(client, make_account):
    caller = make_account()
    assert upload(client, caller, "audio", png_bytes()).status_code == 415
    corrupt = wav_bytes(0.5)[:44] + b"\x00" * 10  # a WAV header with almost no samples is fine…
    broken = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff" * 400  # …an MP3 that is all garbage is not
    assert upload(client, caller, "audio", corrupt, "a.wav").status_code in (201, 415)
    response = upload(client, caller, "audio", broken, "a.mp3")
    assert response.status_code == 415, response.text


def test_audio_upload_is_probed_for_duration(client, make_account):
    caller = make_account()
    asset = upload(client, caller, "audio", wav_bytes(1.5), "tone.wav").json()
    assert asset["content_type"] == "audio/wav"
    assert abs(asset["duration_seconds"] - 1.5) < 0.05


def test_size_limit_is_413(client, make_account, monkeypatch):
    from shared.settings import get_settings

    caller = make_account()
    monkeypatch.setattr(get_settings(), "max_image_bytes", 1000)
    response = upload(client, caller, "image", png_bytes(256, 256, (1, 2, 3)) + b"\0" * 2000)
    assert response.status_code == 413
    assert response.json()["error"]["details"]["max_bytes"] == 1000


def test_bad_kind_is_400(client, make_account):
    caller = make_account()
    response = upload(client, caller, "document", png_bytes())
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"][0]["field"] == "kind"


def test_other_accounts_get_404(client, make_account):
    owner, stranger = make_account(), make_account()
    asset = upload(client, owner, "image", png_bytes()).json()
    for path in (f"/v1/assets/{asset['id']}", f"/v1/assets/{asset['id']}/content"):
        response = client.get(path, headers=stranger.headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert client.delete(f"/v1/assets/{asset['id']}", headers=stranger.headers).status_code == 404
    listed = client.get("/v1/assets", headers=stranger.headers).json()
    assert asset["id"] not in [a["id"] for a in listed["data"]]


def test_list_pagination_and_delete(client, make_account):
    from shared.db.models import Asset
    from shared.db.session import session_scope
    from shared.storage import get_storage

    caller = make_account()
    ids = [upload(client, caller, "image", png_bytes(8 + i, 8)).json()["id"] for i in range(3)]
    first = client.get("/v1/assets?limit=2", headers=caller.headers).json()
    assert first["object"] == "list" and [a["id"] for a in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True and first["next_cursor"] == ids[1]
    rest = client.get(f"/v1/assets?limit=2&after={first['next_cursor']}", headers=caller.headers).json()
    assert [a["id"] for a in rest["data"]] == [ids[0]] and rest["has_more"] is False

    with session_scope() as session:
        key = session.get(Asset, ids[0]).storage_key
    assert get_storage().exists(key)
    assert client.delete(f"/v1/assets/{ids[0]}", headers=caller.headers).status_code == 204
    assert client.get(f"/v1/assets/{ids[0]}", headers=caller.headers).status_code == 404
    assert not get_storage().exists(key)
