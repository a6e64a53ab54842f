"""What the hub knows of a watched job's status: one read for many waiters of one account, moved
on by events, and never trusted across a lost subscription. Against a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack

import pytest
import redis

from shared.errors import NotFound
from shared.jobs.events import publish_job_event
from shared.jobs.hub import JobEventHub
from tests.jobs.test_events import running_hub


class Reads:
    """A status read that counts its calls (the database's part, played by a list)."""

    def __init__(self, status: str = "running", owner: str = "acc_owner") -> None:
        self.status, self.owner, self.calls = status, owner, 0

    def __call__(self, account_id: str):  # noqa: ANN204
        async def read() -> str:
            self.calls += 1
            await asyncio.sleep(0)  # a read takes a turn of the loop, as a thread hop does
            if account_id != self.owner:
                raise NotFound("No job.")
            return self.status

        return read


def test_of_many_waiters_of_one_job_one_reads_its_status(redis_url: str, channel: str) -> None:
    reads = Reads()

    async def scenario() -> tuple[list[str], str | None]:
        async with running_hub(redis_url, channel) as hub, AsyncExitStack() as stack:
            waiters = [await stack.enter_async_context(hub.subscribe("job_s")) for _ in range(50)]
            first = await hub.status(waiters[0], "acc_owner", reads("acc_owner"))
            rest = [await hub.status(w, "acc_owner", reads("acc_owner")) for w in waiters[1:]]
            try:
                await hub.status(waiters[1], "acc_other", reads("acc_other"))
                foreign = None
            except NotFound as exc:
                foreign = exc.code
            return [first, *rest], foreign

    statuses, foreign = asyncio.run(scenario())

    assert statuses == ["running"] * 50
    assert foreign == "NOT_FOUND"  # another account reads for itself, and is refused
    assert reads.calls == 2


def test_events_move_the_known_status_on(redis_url: str, client: redis.Redis, channel: str) -> None:
    reads = Reads()

    async def scenario() -> tuple[str, str]:
        async with running_hub(redis_url, channel) as hub, hub.subscribe("job_e") as first:
            await hub.status(first, "acc_owner", reads("acc_owner"))
            publish_job_event(client, "job_e", "completed", 100, channel=channel)
            assert (await first.next(timeout=10)) is not None  # dispatched
            async with hub.subscribe("job_e") as late:  # came after the event: it must not wait for it
                return await hub.status(late, "acc_owner", reads("acc_owner")), await hub.status(
                    first, "acc_owner", reads("acc_owner"))

    assert asyncio.run(scenario()) == ("completed", "completed")
    assert reads.calls == 1


def test_nothing_is_known_once_the_last_waiter_left(redis_url: str, channel: str) -> None:
    reads = Reads()

    async def scenario() -> None:
        async with running_hub(redis_url, channel) as hub:
            async with hub.subscribe("job_g") as waiter:
                await hub.status(waiter, "acc_owner", reads("acc_owner"))
            async with hub.subscribe("job_g") as waiter:  # nobody watched in between: read again
                await hub.status(waiter, "acc_owner", reads("acc_owner"))

    asyncio.run(scenario())
    assert reads.calls == 2


@pytest.mark.parametrize("during_the_read", [False, True])
def test_a_lost_subscription_forgets_what_was_read(redis_url: str, client: redis.Redis, channel: str,
                                                   during_the_read: bool) -> None:
    name = f"atelier-test-{uuid.uuid4().hex[:8]}"
    reads = Reads()

    def kill() -> None:
        [conn] = [c["id"] for c in client.client_list(_type="pubsub") if c.get("name") == name]
        client.client_kill_filter(_id=conn, _type="pubsub")

    async def scenario(hub: JobEventHub) -> None:
        async with hub.subscribe("job_k") as waiter:
            async def killing_read() -> str:
                kill()
                for _ in range(100):  # until the hub noticed and subscribed again
                    await asyncio.sleep(0.05)
                    if hub._generation >= 3 and hub.subscribed:
                        break
                return await reads("acc_owner")()

            await hub.status(waiter, "acc_owner", killing_read if during_the_read else reads("acc_owner"))
            if not during_the_read:
                kill()
                for _ in range(100):
                    await asyncio.sleep(0.05)
                    if hub._generation >= 3 and hub.subscribed:
                        break
            assert hub.subscribed
            await hub.status(waiter, "acc_owner", reads("acc_owner"))  # read again: events may be lost

    async def run() -> None:
        async with running_hub(redis_url, channel, client_name=name, max_backoff=0.2) as hub:
            await scenario(hub)

    asyncio.run(run())
    assert reads.calls == 2
