"""``atelier.client`` end to end: run, stream, files, paging, typed errors."""

from __future__ import annotations

import asyncio

import pytest

from atelier.client import (
    AsyncAtelier,
    Atelier,
    AuthenticationError,
    Conflict,
    InsufficientCredits,
    NotFound,
    PromptTooLong,
    ValidationError,
)
from tests.media_samples import png_bytes, wav_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_run_waits_on_the_event_stream_and_returns_typed_results(atelier, celery_worker, tmp_path):
    events = []
    job = atelier.run("text_to_image", prompt="a lighthouse at dusk", size="512x512", on_event=events.append)
    assert job.status == "completed" and job.done and job.mode == "text_to_image"
    assert job.credits_charged == 1 and job.completed_at is not None
    assert [e.event for e in events] == ["job"] * len(events) and events[-1].status == "completed"
    assert events[0].job.id == job.id
    (image,) = job.assets
    assert (image.kind, image.content_type, image.width, image.height) == ("image", "image/png", 512, 512)
    path = atelier.download(image, tmp_path / "out.png")
    assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size == image.bytes
    into_dir = atelier.download(image.id, tmp_path)
    assert into_dir == tmp_path / f"{image.id}.png"


def test_run_by_long_polling_and_streaming_a_finished_job(atelier, celery_worker):
    job = atelier.run("audio", via="poll", voice_text="Hello from the client.")
    assert job.assets[0].kind == "audio" and job.assets[0].duration_seconds
    (only,) = list(atelier.jobs.stream(job.id))  # a finished job: one event, then the stream ends
    assert only.job.status == "completed" and only.job.assets[0].id == job.assets[0].id


def test_upload_then_image_to_image_then_delete(atelier, celery_worker, tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(png_bytes(96, 64))
    asset = atelier.upload(source)
    assert (asset.kind, asset.width, asset.height, asset.source) == ("image", 96, 64, "upload")
    assert atelier.assets.get(asset.id) == asset
    job = atelier.run("image_to_image", prompt="as a watercolour", input_image_asset_id=asset.id, strength=0.5)
    assert job.inputs["strength"] == 0.5 and job.assets[0].kind == "image"
    atelier.jobs.delete(job.id)
    with pytest.raises(NotFound):
        atelier.jobs.get(job.id)
    with pytest.raises(ValueError, match="kind"):
        atelier.upload(tmp_path / "notes.xyz")


def test_lists_page_themselves(atelier):
    uploaded = [atelier.upload(_named(png_bytes(8 + i, 8), "x.png")).id for i in range(5)]
    page = atelier.assets.list(limit=2)
    assert len(page.data) == 2 and page.has_more and page.next_cursor == page.data[-1].id
    assert [a.id for a in page] == list(reversed(uploaded))
    assert len(list(page.iter_pages())) == 3
    assert [a.id for a in atelier.assets.list(kind="audio")] == []


def test_typed_errors(atelier, live_server, make_account):
    with pytest.raises(NotFound) as missing:
        atelier.jobs.get("job_doesnotexist")
    assert missing.value.status == 404 and missing.value.code == "NOT_FOUND"
    with pytest.raises(PromptTooLong) as long:
        atelier.jobs.create("text_to_image", prompt="x" * 501)
    assert long.value.details["max_length"] == 500 and isinstance(long.value, ValidationError)
    with pytest.raises(ValidationError) as bad:
        atelier.jobs.create("text_to_image", prompt="ok", size="3x3")
    assert any(e["field"].endswith("size") for e in bad.value.errors)
    with pytest.raises(AuthenticationError), Atelier(api_key="at_live_nope.nope", base_url=live_server) as other:
        other.account.get()
    poor = make_account(plan="free", credits=0)
    with Atelier(api_key=poor.key, base_url=live_server) as client, pytest.raises(InsufficientCredits) as broke:
        client.jobs.create("text_to_video", prompt="a storm", duration_seconds=2)
    assert (broke.value.required, broke.value.available) == (44, 0)


def test_cancel_and_conflicts(atelier, celery_worker):
    job = atelier.run("text_to_image", prompt="done already")
    with pytest.raises(Conflict) as finished:
        atelier.jobs.cancel(job.id)
    assert finished.value.code == "JOB_NOT_CANCELABLE"


def test_account_and_usage(atelier, celery_worker):
    before = atelier.account.get()
    assert before.plan == "starter" and before.id == atelier.caller.account_id
    job = atelier.run("text_to_image", prompt="one credit")
    after = atelier.account.get()
    assert after.credits.remaining == before.credits.remaining - 1
    mine = [(e.kind, e.amount) for e in atelier.account.usage(limit=1) if e.job_id == job.id]  # walks pages of 1
    assert ("hold", 0) in mine and ("charge", -1) in mine and ("release", 0) in mine


def test_async_client_runs_streams_and_pages(live_server, make_account, celery_worker, tmp_path):
    caller = make_account()

    async def scenario() -> None:
        async with AsyncAtelier(api_key=caller.key, base_url=live_server) as client:
            voice = await client.upload(_named(wav_bytes(1.0), "voice.wav"))
            assert voice.kind == "audio" and voice.duration_seconds
            seen: list[str] = []
            job = await client.run("text_to_image", prompt="async", on_event=lambda e: seen.append(e.status))
            assert job.status == "completed" and seen[-1] == "completed"
            path = await client.download(job.assets[0], tmp_path / "a.png")
            assert path.read_bytes().startswith(PNG_MAGIC)
            ids = [j.id async for j in await client.jobs.list(limit=1)]
            assert ids == [job.id]
            with pytest.raises(NotFound):
                await client.assets.get("ast_missing")

    asyncio.run(scenario())


def _named(data: bytes, name: str):
    import io

    handle = io.BytesIO(data)
    handle.name = name
    return handle
