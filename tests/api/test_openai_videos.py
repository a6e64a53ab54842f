"""OpenAI's video API through the official ``openai`` SDK against the live stack and a real
Celery worker: each video is an Atelier job, rendered by the local text_to_video model."""

from __future__ import annotations

import base64
import io

import av
import openai
import pytest
from PIL import Image

from tests.media_samples import png_bytes
from tests.support import Caller, create_account_with_key, ledger_sum

pytestmark = pytest.mark.slow
PROMPT = "a lighthouse at night under the stars"


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(plan="professional", credits=2000)  # 120 requests a minute: polls


@pytest.fixture(scope="module")
def finished(live_server, caller, celery_worker):
    """One 1-second video, created and polled to completion by the SDK."""
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=caller.key, max_retries=0, timeout=120) as sdk:
        return sdk.videos.create_and_poll(prompt=PROMPT, seconds="1", size="1280x720", poll_interval_ms=500)


def test_create_and_poll_renders_the_video_as_a_job(finished, client, caller):
    assert finished.object == "video" and finished.id.startswith("job_")
    assert finished.status == "completed" and finished.progress == 100 and finished.error is None
    assert (finished.model, finished.seconds, finished.size, finished.prompt) == ("local/motion-1", "1",
                                                                                 "1280x720", PROMPT)
    assert finished.created_at <= finished.completed_at and finished.expires_at is None
    job = client.get(f"/v1/jobs/{finished.id}", headers=caller.headers).json()
    assert (job["mode"], job["status"], job["credits_charged"]) == ("text_to_video", "completed", 22)


def test_download_content_is_a_real_mp4(sdk, finished):
    data = sdk.videos.download_content(finished.id).read()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert (frames[0].width, frames[0].height) == (1280, 720)
    assert 20 <= len(frames) <= 30  # 1 s at 24 fps


def test_thumbnail_and_spritesheet_variants(sdk, finished):
    thumb = Image.open(io.BytesIO(sdk.videos.download_content(finished.id, variant="thumbnail").read()))
    assert (thumb.format, thumb.size) == ("WEBP", (1280, 720))
    sheet = Image.open(io.BytesIO(sdk.videos.download_content(finished.id, variant="spritesheet").read()))
    assert sheet.format == "JPEG" and sheet.size == (5 * 256, 2 * 144)


def test_retrieve_and_list_with_order_and_pages(sdk, caller, client, finished):
    second = sdk.videos.create(prompt="a red fox in the snow", seconds="1")
    assert second.status in ("queued", "in_progress") and second.size == "720x1280" and second.seconds == "1"
    image = client.post("/v1/jobs", headers=caller.headers, json={"mode": "text_to_image", "prompt": "a cat"})
    assert image.status_code == 202
    assert sdk.videos.retrieve(finished.id).status == "completed"
    newest = sdk.videos.list(limit=1)
    assert [v.id for v in newest.data] == [second.id] and newest.has_more and newest.last_id == second.id
    every = [v.id for v in sdk.videos.list(limit=1)]  # the SDK follows last_id page by page
    assert every[:2] == [second.id, finished.id] and image.json()["id"] not in every
    oldest = [v.id for v in sdk.videos.list(order="asc")]
    assert oldest.index(finished.id) < oldest.index(second.id)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(image.json()["id"])  # a job, but not a video


def test_delete_a_finished_video_then_it_is_gone(sdk, client, caller, celery_worker):
    video = sdk.videos.create_and_poll(prompt="waves on a beach", seconds="1", poll_interval_ms=500)
    assert video.status == "completed"
    deleted = sdk.videos.delete(video.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.download_content(video.id)
    assert client.get(f"/v1/jobs/{video.id}", headers=caller.headers).status_code == 404


def test_an_unfinished_video_has_no_content_and_deleting_it_releases_the_hold(live_server, client):
    owner = create_account_with_key(credits=300)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=owner.key, max_retries=0) as mine:
        video = mine.videos.create(prompt="a quiet forest", seconds="10")  # seconds of rendering
        with pytest.raises(openai.ConflictError) as caught:
            mine.videos.download_content(video.id)
        assert caught.value.code == "VIDEO_NOT_READY"  # type: ignore[attr-defined]
        try:
            mine.videos.delete(video.id)  # still queued
        except openai.ConflictError as running:  # the worker claimed it: cancel, then delete
            assert running.code == "JOB_RUNNING"  # type: ignore[attr-defined]
            assert client.post(f"/v1/jobs/{video.id}/cancel",
                               headers={"Authorization": f"Bearer {owner.key}"}).status_code == 200
            mine.videos.delete(video.id)
        with pytest.raises(openai.NotFoundError):
            mine.videos.retrieve(video.id)
    assert ledger_sum(owner.account_id) == (300, 300)


def test_a_cancelled_video_is_failed_with_the_jobs_abort(sdk, client, caller):
    video = sdk.videos.create(prompt="a slow sunrise", seconds="10")
    cancelled = client.post(f"/v1/jobs/{video.id}/cancel", headers=caller.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "aborted"
    seen = sdk.videos.retrieve(video.id)
    assert seen.status == "failed" and seen.error is not None and seen.error.code == "JOB_ABORTED"
    assert seen.completed_at is not None and seen.seconds == "10"


def test_a_generated_video_is_listed_as_a_video_too(sdk, caller, client):
    accepted = client.post("/v1/videos/generations", headers=caller.headers,
                           json={"prompt": "a paper boat", "duration_seconds": 1, "aspect_ratio": "1:1",
                                 "resolution": "480p"})
    assert accepted.status_code == 202
    video = sdk.videos.retrieve(accepted.json()["id"])
    assert (video.prompt, video.seconds, video.size) == ("a paper boat", "1", "480x480")
    assert video.id in [v.id for v in sdk.videos.list(limit=100)]


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"seconds": "12"}, "seconds"), ({"seconds": "0"}, "seconds"), ({"size": "1024x1792"}, "size"),
    ({"extra_body": {"quality": "high"}}, "quality"),
    ({"extra_body": {"input_reference": {"image_url": "ftp://example.com/a.png"}}}, "input_reference"),
    ({"extra_body": {"input_reference": {"image_url": "https://example.com/a.png", "file_id": "ast_x"}}},
     "input_reference")])
def test_what_atelier_cannot_make_is_a_400_naming_it(sdk, caller, kwargs, param):
    before = ledger_sum(caller.account_id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.videos.create(prompt=PROMPT, **kwargs)
    assert caught.value.param == param  # type: ignore[attr-defined]
    assert ledger_sum(caller.account_id) == before


def test_a_reference_that_is_no_picture_is_415_and_an_unknown_asset_404(sdk):
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.videos.create(prompt=PROMPT, input_reference=("ref.png", b"\x89PNG not really", "image/png"))
    assert caught.value.status_code == 415
    with pytest.raises(openai.NotFoundError):
        sdk.videos.create(prompt=PROMPT, extra_body={"input_reference": {"file_id": "ast_nothere"}})


def test_sora_is_an_unknown_model(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.videos.create(prompt=PROMPT, model="sora-2")
    assert (caught.value.code, caught.value.param) == ("MODEL_NOT_FOUND", "model")  # type: ignore[attr-defined]


def test_bad_key_unknown_id_and_an_account_that_cannot_pay(live_server, sdk):
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key="at_live_nobody.secret", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.videos.list()
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve("job_doesnotexist")
    broke = create_account_with_key(plan="free", credits=5)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=broke.key, max_retries=0) as poor:
        with pytest.raises(openai.APIStatusError) as caught:
            poor.videos.create(prompt=PROMPT, seconds="1")
    assert caught.value.status_code == 402
    assert ledger_sum(broke.account_id) == (5, 5)


def test_an_idempotency_key_replays_the_first_video(sdk, caller, client):
    headers = {"Idempotency-Key": "video-once"}
    first = sdk.videos.with_raw_response.create(prompt="a windmill", seconds="1", extra_headers=headers)
    again = sdk.videos.with_raw_response.create(prompt="a windmill", seconds="1", extra_headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.parse().id == first.parse().id and again.parse().status == "queued"
    jobs = client.get("/v1/jobs", headers=caller.headers, params={"mode": "text_to_video", "limit": 100}).json()
    assert sum(1 for j in jobs["data"] if j["prompt"] == "a windmill") == 1
    with pytest.raises(openai.UnprocessableEntityError):
        sdk.videos.create(prompt="another windmill", seconds="1", extra_headers=headers)


def test_webhook_url_is_the_jobs(sdk, caller, client):
    video = sdk.videos.create(prompt="a kite", seconds="1", extra_body={"webhook_url": "http://127.0.0.1:9/hook"})
    job = client.get(f"/v1/jobs/{video.id}", headers=caller.headers).json()
    assert job["webhook_url"] == "http://127.0.0.1:9/hook"


def test_an_input_reference_file_animates_the_picture(sdk, client, caller, celery_worker):
    picture = ("portrait.png", png_bytes(640, 480), "image/png")
    video = sdk.videos.create_and_poll(prompt="slow zoom", input_reference=picture, seconds="1",
                                       poll_interval_ms=500)
    assert (video.status, video.size, video.seconds) == ("completed", "960x720", "1")  # its own proportions
    job = client.get(f"/v1/jobs/{video.id}", headers=caller.headers).json()
    assert job["mode"] == "image_to_video" and job["inputs"]["duration_seconds"] == 1
    square = sdk.videos.create(prompt="pan", input_reference=picture, seconds="1", size="720x720")
    assert square.size == "720x720"


def test_an_input_reference_by_url_or_asset_id(sdk, client, caller, celery_worker):
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(320, 320)).decode()
    by_url = sdk.videos.create(prompt="drift", seconds="1", extra_body={"input_reference": {"image_url": uri}})
    by_url = sdk.videos.poll(by_url.id, poll_interval_ms=500)
    assert by_url.status == "completed" and by_url.size == "720x720"
    source = client.get(f"/v1/jobs/{by_url.id}", headers=caller.headers).json()["inputs"]
    asset_id = source["input_image_asset_id"]
    by_id = sdk.videos.create(prompt="drift", seconds="1", size="1280x720",
                              extra_body={"input_reference": {"file_id": asset_id}})
    assert by_id.size == "1280x720" and by_id.status == "queued"
