"""Ending a fan-out early: cancellation, `break`, `stop_after_failures`, a failing input.
Whatever happens, every item taken from the input is reported and no task is left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from support import NO_WAIT, F, N, S, U, seed

from fastly_pools import Client, FanOut, FanOutError, Outcome
from fastly_pools.testing import FakeFastly, Fault


class Counted:
    """A generator of quorum updates, one per service, that counts what was taken."""

    def __init__(self, client: Client, services: list[str]) -> None:
        self.client = client
        self.services = services
        self.pulled = 0

    def __iter__(self) -> Iterator[Any]:
        for sid in self.services:
            self.pulled += 1
            yield self.client.pools.update(sid, 1, "origin").quorum(99)


def fan_out_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("fastly_pools fan_out")]


def assert_all_accounted(run: FanOut, pulled: int) -> None:
    report = run.report
    assert report.total == pulled
    assert sum(report.counts.values()) == pulled
    assert sorted(o.index for o in report.outcomes) == list(range(pulled))
    assert fan_out_tasks() == []


@pytest.mark.parametrize("on_stop", ["cancel", "finish"])
async def test_cancelling_the_consumer_half_way(
    fake: FakeFastly, client: Client, on_stop: Any
) -> None:
    services = seed(fake, 40)
    fake.latency = 0.05
    source = Counted(client, services)
    run = client.fan_out(iter(source), concurrency=4, on_stop=on_stop)
    seen: list[Outcome] = []
    half_way = asyncio.Event()

    async def consume() -> None:
        async for outcome in run:
            seen.append(outcome)
            if len(seen) == 6:
                half_way.set()

    task = asyncio.create_task(consume())
    await half_way.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_all_accounted(run, source.pulled)
    report = run.report
    assert report.stopped == "the run was cancelled"
    assert source.pulled < 40  # nothing more was taken after the cancellation
    assert report.counts[S] >= 6
    if on_stop == "finish":
        assert report.counts[U] == 0
    else:
        assert report.counts[U] >= 1  # writes cut off in flight may have arrived
        assert all("may have reached" in o.reason for o in report.unknown)
    assert fake.overlapping_writes == []


async def test_break_inside_async_with_settles_the_run(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 30)
    fake.latency = 0.02
    source = Counted(client, services)
    async with client.fan_out(iter(source), concurrency=4, on_stop="finish") as run:
        async for outcome in run:
            assert outcome.state is S
            break
    assert_all_accounted(run, source.pulled)
    report = run.report
    assert report.counts[U] == 0  # in-flight ones were allowed to finish...
    assert report.counts[S] + report.counts[N] == source.pulled  # ...waiting ones never began
    assert report.stopped == "the consumer stopped before the end"


async def test_aclose_cancels_in_flight_writes_as_unknown(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 12)
    for sid in services[1:4]:  # still in flight when the first answer arrives
        fake.inject(Fault.delay(5.0), path=sid)
    source = Counted(client, services)
    run = client.fan_out(iter(source), concurrency=4)
    first = await anext(run)
    await run.aclose()

    assert first.state is S
    assert first.index == 0
    assert_all_accounted(run, source.pulled)
    report = run.report
    assert sorted(o.index for o in report.unknown) == [1, 2, 3]
    # Started after the first answer, cancelled before its first step: surely not sent.
    assert [(o.index, o.reason) for o in report.not_sent] == [(4, "cancelled before it was sent")]
    await run.aclose()  # twice is fine


async def test_stop_after_failures_stops_taking_items(fake: FakeFastly, client: Client) -> None:
    (sid,) = seed(fake, 1)
    locked = fake.add_version(sid, locked=True)
    pulled = 0

    def ops() -> Iterator[Any]:
        nonlocal pulled
        for _ in range(20):
            pulled += 1
            yield client.pools.update(sid, locked, "origin").quorum(1)

    run = client.fan_out(ops(), concurrency=1, stop_after_failures=2)
    report = await run.run()

    assert report.total == pulled == 2
    assert report.counts[F] == 2
    assert report.stopped == "2 items did not succeed (stop_after_failures=2)"
    with pytest.raises(FanOutError, match="stopped early"):
        report.raise_for_failures()


async def test_stop_after_failures_reports_waiting_items_not_sent(
    fake: FakeFastly, client: Client
) -> None:
    (sid,) = seed(fake, 1)
    locked = fake.add_version(sid, locked=True)
    # Writes to one service wait behind each other, so several are taken but not started.
    ops = [client.pools.update(sid, locked, "origin").quorum(q) for q in range(1, 30)]

    report = await client.fan_out(ops, concurrency=4, stop_after_failures=1).run()

    assert report.counts[F] == 1
    assert report.counts[N] == report.total - 1 > 0
    assert all(o.reason.startswith("not started: 1 item did") for o in report.not_sent)
    assert fan_out_tasks() == []


async def test_an_input_that_raises_half_way(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 10)
    problem = ValueError("row 11 is malformed")

    async def rows() -> AsyncIterator[Any]:
        for sid in services:
            yield client.pools.update(sid, 1, "origin").quorum(5)
        raise problem

    run = client.fan_out(rows(), concurrency=3)
    seen: list[Outcome] = []

    async def consume() -> None:
        async for outcome in run:
            seen.append(outcome)

    with pytest.raises(ValueError, match="malformed") as raised:
        await consume()

    assert raised.value is problem
    assert any("accounted for" in note for note in raised.value.__notes__)
    assert len(seen) == 10  # every outcome was yielded before the error
    report = run.report
    assert report.total == 10
    # Items in flight finished; any still waiting for a slot were not started.
    assert report.counts[S] + report.counts[N] == 10
    assert report.counts[S] >= 1
    assert all("the input raised ValueError" in o.reason for o in report.not_sent)
    assert report.input_error is problem
    assert report.stopped is not None
    assert "malformed" in report.stopped
    with pytest.raises(FanOutError) as failure:
        report.raise_for_failures()
    assert failure.value.__cause__ is problem
    assert fan_out_tasks() == []


async def test_run_raises_the_input_error_after_reporting(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 4)

    def rows() -> Iterator[Any]:
        yield client.pools.update(services[0], 1, "origin").quorum(5)
        yield client.pools.update(services[1], 1, "origin").quorum(5)
        raise KeyError("service_id")

    run = client.fan_out(rows())
    with pytest.raises(KeyError):
        await run.run()
    assert run.report.total == 2
    assert run.report.counts[S] + run.report.counts[N] == 2


async def test_a_progress_callback_that_raises_stops_the_run(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 20)
    fake.latency = 0.01
    source = Counted(client, services)
    calls = 0

    def progress(_: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("dashboard is down")

    run = client.fan_out(iter(source), concurrency=4, on_progress=progress, on_stop="finish")
    with pytest.raises(RuntimeError, match="dashboard"):
        await run.run()
    assert calls == 3  # not called again once it raised
    assert_all_accounted(run, source.pulled)


async def test_a_refused_token_stops_the_run_instead_of_sending_every_item(
    fake: FakeFastly,
) -> None:
    services = seed(fake, 40)
    async with Client("not-the-token", base_url=fake.base_url, retry=NO_WAIT) as wrong:
        ops = [wrong.pools.update(sid, 1, "origin").quorum(3) for sid in services]
        report = await wrong.fan_out(ops, concurrency=4).run()

    assert report.total == report.counts[F] + report.counts[N]
    assert report.counts[F] >= 1
    # The first 401 stopped the run: what was in flight finished, the rest was not taken
    # from the input (or, if already taken, is reported NOT_SENT).
    assert len(fake.requests) == report.counts[F] <= 4
    assert report.total < len(ops)
    assert report.stopped is not None
    assert "token was refused (401)" in report.stopped


async def test_a_slow_async_input_does_not_hold_back_outcomes(
    fake: FakeFastly, client: Client
) -> None:
    # The input yields one builder, then waits until the consumer has seen its outcome:
    # a run that waited on the input before yielding outcomes would never get there.
    services = seed(fake, 2)
    seen_first = asyncio.Event()

    async def builders() -> AsyncIterator[Any]:
        yield client.pools.get(services[0], 1, "origin")
        await seen_first.wait()
        yield client.pools.get(services[1], 1, "origin")

    outcomes = []
    async with asyncio.timeout(10):
        async for outcome in client.fan_out(builders(), concurrency=4):
            outcomes.append(outcome)
            seen_first.set()

    assert [o.index for o in outcomes] == [0, 1]
    assert all(o.state is S for o in outcomes)


async def test_a_stop_is_noticed_while_the_async_input_is_waiting(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 1)
    never = asyncio.Event()
    input_cancelled = asyncio.Event()

    async def builders() -> AsyncIterator[Any]:
        yield client.pools.update(services[0], 1, "missing").quorum(1)  # 404: a failure
        try:
            await never.wait()  # the next item never comes
        except asyncio.CancelledError:
            input_cancelled.set()
            raise
        yield client.pools.update(services[0], 1, "origin").quorum(2)  # pragma: no cover

    async with asyncio.timeout(10):
        report = await client.fan_out(builders(), stop_after_failures=1).run()

    assert (report.total, report.counts[F]) == (1, 1)
    assert report.stopped is not None
    assert input_cancelled.is_set()  # the pending read was cancelled, not awaited forever
    assert len(fake.requests) == 1
