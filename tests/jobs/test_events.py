"""The job-event bus against a real Redis.

Each test uses a channel and client name of its own, so hubs of other tests (or of an
API started elsewhere on the same server) cannot disturb the subscription counts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
import redis

from shared.embedded import free_port
from shared.jobs.events import publish_job_event, publisher_client
from shared.jobs.hub import JobEvent, JobEventHub, JobEventWaiter


@asynccontextmanager
async def running_hub(redis_url: str, channel: str, **options: object) -> AsyncIterator[JobEventHub]:
    hub = JobEventHub(redis_url, channel=channel, **options)  # type: ignore[arg-type]
    await hub.start()
    try:
        assert hub.subscribed
        yield hub
    finally:
        await hub.stop()


async def next_status(waiter: JobEventWaiter) -> str | None:
    event = await waiter.next(timeout=10)
    return None if event is None else event.status


def subscriber_count(client: redis.Redis, channel: str) -> int:
    ((_, count),) = client.pubsub_numsub(channel)
    return int(count)


def test_published_event_wakes_the_waiter(redis_url: str, client: redis.Redis, channel: str) -> None:
    async def scenario() -> JobEvent | None:
        async with running_hub(redis_url, channel) as hub, hub.subscribe("job_a") as waiter:
            publish_job_event(client, "job_a", "running", 40, channel=channel)
            return await waiter.next(timeout=10)

    event = asyncio.run(scenario())

    assert event is not None
    assert event.job_id == "job_a"
    assert event.status == "running"
    assert event.progress == 40
    assert isinstance(event.ts, float)


def test_events_of_other_jobs_do_not_wake_the_waiter(
    redis_url: str, client: redis.Redis, channel: str
) -> None:
    async def scenario() -> tuple[JobEvent | None, JobEvent | None, JobEvent | None]:
        async with running_hub(redis_url, channel) as hub:
            async with hub.subscribe("job_a") as waiter_a, hub.subscribe("job_b") as waiter_b:
                publish_job_event(client, "job_b", "completed", 100, channel=channel)
                for_b = await waiter_b.next(timeout=10)
                # job_b's event has been dispatched by now; job_a's waiter must not have it.
                for_a = await waiter_a.next(timeout=0.2)
                publish_job_event(client, "job_a", "running", 10, channel=channel)
                later_for_a = await waiter_a.next(timeout=10)
        return for_a, for_b, later_for_a

    for_a, for_b, later_for_a = asyncio.run(scenario())

    assert for_a is None
    assert for_b is not None and for_b.job_id == "job_b"
    assert later_for_a is not None and later_for_a.job_id == "job_a"


def test_waiter_times_out_with_none(redis_url: str, channel: str) -> None:
    async def scenario() -> tuple[JobEvent | None, JobEvent | None]:
        async with running_hub(redis_url, channel) as hub, hub.subscribe("job_quiet") as waiter:
            return await waiter.next(timeout=0.2), await waiter.next(timeout=0)

    assert asyncio.run(scenario()) == (None, None)


def test_many_waiters_share_one_subscription(redis_url: str, client: redis.Redis, channel: str) -> None:
    jobs = [f"job_{i}" for i in range(200)]

    async def scenario() -> None:
        async with running_hub(redis_url, channel) as hub:
            async with AsyncExitStack() as stack:
                waiters = {job: await stack.enter_async_context(hub.subscribe(job)) for job in jobs}
                twin = await stack.enter_async_context(hub.subscribe("job_7"))  # a 2nd stream of job_7
                assert hub.waiter_count == 201

                assert subscriber_count(client, channel) == 1

                publish_job_event(client, "job_7", "running", 5, channel=channel)
                publish_job_event(client, "job_150", "failed", 0, channel=channel)
                assert await next_status(waiters["job_7"]) == "running"
                assert await next_status(twin) == "running"
                assert await next_status(waiters["job_150"]) == "failed"
                woken = [job for job, waiter in waiters.items() if await waiter.next(timeout=0) is not None]
                assert woken == []

            assert hub.waiter_count == 0
            assert subscriber_count(client, channel) == 1
        # stop() closed the connection; Redis drops the subscription as it notices.
        for _ in range(50):
            if subscriber_count(client, channel) == 0:
                break
            await asyncio.sleep(0.1)
        assert subscriber_count(client, channel) == 0

    asyncio.run(scenario())


def test_hub_resubscribes_after_its_connection_is_killed(
    redis_url: str, client: redis.Redis, channel: str
) -> None:
    name = f"atelier-test-{uuid.uuid4().hex[:8]}"

    def hub_connection_ids() -> list[str]:
        return [c["id"] for c in client.client_list(_type="pubsub") if c.get("name") == name]

    async def scenario() -> JobEvent | None:
        async with running_hub(redis_url, channel, client_name=name) as hub, hub.subscribe("job_k") as waiter:
            (old_id,) = hub_connection_ids()
            assert client.client_kill_filter(_id=old_id, _type="pubsub") == 1

            # Events published while the hub is reconnecting are lost by design; keep
            # publishing until one gets through.
            event = None
            for _ in range(100):
                publish_job_event(client, "job_k", "running", 50, channel=channel)
                event = await waiter.next(timeout=0.2)
                if event is not None:
                    break
            assert hub.subscribed
            (new_id,) = hub_connection_ids()
            assert new_id != old_id
            assert subscriber_count(client, channel) == 1
            return event

    event = asyncio.run(scenario())

    assert event is not None and event.job_id == "job_k"


def test_default_channel_carries_events(redis_url: str, client: redis.Redis) -> None:
    async def scenario() -> JobEvent | None:
        hub = JobEventHub(redis_url)
        await hub.start()
        try:
            async with hub.subscribe("job_default") as waiter:
                publish_job_event(client, "job_default", "completed", 100)
                return await waiter.next(timeout=10)
        finally:
            await hub.stop()

    event = asyncio.run(scenario())

    assert event is not None and event.status == "completed"


def test_malformed_messages_are_ignored(redis_url: str, client: redis.Redis, channel: str) -> None:
    async def scenario() -> JobEvent | None:
        async with running_hub(redis_url, channel) as hub, hub.subscribe("job_m") as waiter:
            client.publish(channel, "not json")
            client.publish(channel, json.dumps(["job_m"]))
            client.publish(channel, json.dumps({"job_id": ["job_m"]}))
            publish_job_event(client, "job_m", "running", 1, channel=channel)
            return await waiter.next(timeout=10)

    event = asyncio.run(scenario())

    assert event is not None and event.progress == 1


def test_only_events_of_watched_jobs_are_decoded(redis_url: str, client: redis.Redis, channel: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda data, **kw: decoded.append(data) or loads(data, **kw))

    async def scenario() -> list[int]:
        async with running_hub(redis_url, channel) as hub, hub.subscribe("job_w") as waiter:
            for progress in range(5):
                publish_job_event(client, "job_other", "running", progress, channel=channel)
            # Written by someone else, keys in another order: decoded in full, still delivered.
            client.publish(channel, json.dumps({"status": "running", "progress": 2, "job_id": "job_w"}))
            publish_job_event(client, "job_w", "running", 3, channel=channel)
            events = [await waiter.next(timeout=10), await waiter.next(timeout=10)]
            return [event.progress for event in events if event is not None]

    assert asyncio.run(scenario()) == [2, 3]
    assert not [data for data in decoded if "job_other" in data]


def test_a_slow_reader_keeps_the_newest_events(redis_url: str, client: redis.Redis, channel: str) -> None:
    async def scenario() -> list[int]:
        async with running_hub(redis_url, channel, max_pending=3) as hub:
            async with hub.subscribe("job_s") as slow, hub.subscribe("job_marker") as marker:
                for progress in range(10):
                    publish_job_event(client, "job_s", "running", progress, channel=channel)
                publish_job_event(client, "job_s", "completed", 100, channel=channel)
                publish_job_event(client, "job_marker", "running", 0, channel=channel)
                # Messages are dispatched in order: once the marker is here, so is all of job_s.
                assert await marker.next(timeout=10) is not None
                received = []
                while (event := await slow.next(timeout=0)) is not None:
                    received.append(event.progress)
                return received

    assert asyncio.run(scenario()) == [8, 9, 100]


def test_publish_swallows_redis_errors(caplog: pytest.LogCaptureFixture) -> None:
    dead = publisher_client(f"redis://127.0.0.1:{free_port()}/0")

    with caplog.at_level(logging.WARNING, logger="shared.jobs.events"):
        publish_job_event(dead, "job_x", "running", 3)

    assert "job_x" in caplog.text
    dead.close()


class SilentPubSub:
    """A subscription whose server has silently gone away: no messages, no pongs."""

    answers_pings = False

    def __init__(self) -> None:
        self.pings = 0
        self._pending: list[dict] = []

    async def get_message(self, timeout: float) -> dict | None:
        if self._pending:
            return self._pending.pop()
        await asyncio.sleep(timeout)
        return None

    async def ping(self) -> None:
        self.pings += 1
        if self.answers_pings:
            self._pending.append({"type": "pong", "data": ""})


class AnsweringPubSub(SilentPubSub):
    answers_pings = True


def test_a_connection_that_stops_answering_pings_is_dropped() -> None:
    hub = JobEventHub("redis://unused", ping_interval=0.05)
    silent = SilentPubSub()

    with pytest.raises(ConnectionError):
        asyncio.run(asyncio.wait_for(hub._pump(silent), timeout=5))
    assert silent.pings == 1

    answering = AnsweringPubSub()
    with pytest.raises(TimeoutError):  # still pumping: a live connection is kept
        asyncio.run(asyncio.wait_for(hub._pump(answering), timeout=0.5))
    assert answering.pings >= 3


def test_hub_starts_and_stops_while_redis_is_down(channel: str) -> None:
    async def scenario() -> tuple[bool, int]:
        hub = JobEventHub(f"redis://127.0.0.1:{free_port()}/0", channel=channel)
        await hub.start(wait=0.3)
        async with hub.subscribe("job_d") as waiter:
            event = await waiter.next(timeout=0.1)
        subscribed = hub.subscribed
        await hub.stop()
        await hub.stop()  # idempotent
        return subscribed, 0 if event is None else 1

    assert asyncio.run(scenario()) == (False, 0)


def test_waiters_of_one_job_share_one_decoded_event(redis_url: str, client: redis.Redis, channel: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda data, **kw: decoded.append(data) or loads(data, **kw))
    rendered: list[dict] = []

    def render(view: dict) -> bytes:
        rendered.append(view)
        return json.dumps(view).encode()

    async def scenario() -> tuple[list[JobEvent | None], set[bytes]]:
        async with running_hub(redis_url, channel) as hub, AsyncExitStack() as stack:
            waiters = [await stack.enter_async_context(hub.subscribe("job_many")) for _ in range(500)]
            publish_job_event(client, "job_many", "completed", 100, channel=channel,
                              job={"id": "job_many", "status": "completed"})
            events = await asyncio.gather(*(waiter.next(timeout=10) for waiter in waiters))
            return events, {event.derive(render) for event in events if event is not None}

    events, bodies = asyncio.run(scenario())

    first = events[0]
    assert first is not None and first.status == "completed" and first.view == {"id": "job_many",
                                                                                  "status": "completed"}
    assert all(event is first for event in events)  # one object for all 500 waiters
    assert len([data for data in decoded if "job_many" in data]) == 1
    assert len(rendered) == 1 and bodies == {b'{"id": "job_many", "status": "completed"}'}


def test_a_waiter_leaving_does_not_disturb_the_others(redis_url: str, client: redis.Redis, channel: str) -> None:
    async def scenario() -> tuple[bool, JobEvent | None, int]:
        async with running_hub(redis_url, channel) as hub, hub.subscribe("job_l") as stays:
            async def leaves() -> None:
                async with hub.subscribe("job_l") as waiter:
                    await waiter.next(timeout=30)

            gone = asyncio.create_task(leaves())
            await asyncio.sleep(0.05)  # let it register and sleep on its event
            gone.cancel()  # its client hung up
            await asyncio.gather(gone, return_exceptions=True)
            publish_job_event(client, "job_l", "running", 7, channel=channel)
            return gone.cancelled(), await stays.next(timeout=10), hub.waiter_count

    cancelled, event, count = asyncio.run(scenario())

    assert cancelled
    assert event is not None and event.progress == 7
    assert count == 1
