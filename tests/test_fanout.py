"""`client.fan_out`: bounded concurrency, one write at a time per service, every item
accounted for, retries through the client, never a duplicated create. Against FakeFastly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from support import NO_WAIT, F, N, S, U, seed

from fastly_pools import (
    Client,
    FanOutProgress,
    UpdatePool,
)
from fastly_pools.testing import FakeFastly, Fault


def updates(client: Client, services: list[str], per_service: int) -> list[UpdatePool]:
    """`per_service` quorum updates for each service, interleaved across services."""
    return [
        client.pools.update(sid, 1, "origin").quorum(q).with_options(retry=NO_WAIT)
        for q in range(1, per_service + 1)
        for sid in services
    ]


def fan_out_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("fastly_pools fan_out")]


async def test_writes_to_one_service_never_overlap(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 5)
    fake.latency = 0.01
    ops = updates(client, services, per_service=12)

    report = await client.fan_out(ops, concurrency=32).run()

    assert report.counts[S] == report.total == 60
    assert fake.overlapping_writes == []
    # Only writes, one per service at a time: at most five in flight, and services in parallel.
    assert 1 < fake.max_concurrent <= 5
    for sid in services:
        assert int(fake.pools(sid, 1)[0]["quorum"]) == 12  # the last update of each service won


async def test_control_a_bare_gather_does_overlap(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 2)
    fake.latency = 0.01
    await asyncio.gather(*(op.execute() for op in updates(client, services, per_service=6)))
    assert fake.overlapping_writes != []


async def test_concurrency_bounds_requests_in_flight(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 30)
    fake.latency = 0.01
    reads = [client.pools.get(sid, 1, "origin") for sid in services]
    ops = [op for pair in zip(reads, updates(client, services, 1), strict=True) for op in pair]

    report = await client.fan_out(ops, concurrency=4).run()

    assert report.counts[S] == 60
    assert fake.max_concurrent <= 4
    assert fake.overlapping_writes == []


async def test_reads_of_one_service_run_in_parallel(fake: FakeFastly, client: Client) -> None:
    (sid,) = seed(fake, 1)
    fake.latency = 0.02
    reads = [client.pools.get(sid, 1, "origin") for _ in range(8)]
    report = await client.fan_out(reads, concurrency=8).run()
    assert report.counts[S] == 8
    assert fake.max_concurrent > 1


async def test_outcomes_carry_the_original_builder_and_result(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 3)
    ops = updates(client, services, per_service=1)

    seen = [outcome async for outcome in client.fan_out(ops)]

    assert sorted(o.index for o in seen) == [0, 1, 2]
    for outcome in seen:
        assert outcome.builder is ops[outcome.index]  # not the copy with the 429 policy
        assert outcome.state is S
        assert outcome.result.quorum == 1
        assert outcome.error is None


async def test_503s_and_dropped_connections_end_in_success(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 10)
    fake.inject(Fault.status(503), method="PUT", times=3)
    fake.inject(Fault.drop_before(), method="GET", times=2)
    fake.inject(Fault.drop_after(), method="PUT", times=2)
    fake.inject(Fault.truncated_body(), method="DELETE", times=1)
    fake.inject(Fault.non_json(), method="GET", times=1)
    ops: list[Any] = []
    for sid in services:
        ops.append(client.pools.get(sid, 1, "origin").with_options(retry=NO_WAIT, max_retries=9))
        ops.append(
            client.pools.update(sid, 1, "origin")
            .quorum(77)
            .with_options(retry=NO_WAIT, max_retries=9)
        )
        ops.append(
            client.pools.delete(sid, 1, "origin").with_options(retry=NO_WAIT, max_retries=9)
        )

    report = await client.fan_out(ops, concurrency=8).run()

    assert report.counts[S] == 30, [o.describe() for o in report.outcomes if o.state is not S]
    for sid in services:
        assert fake.pools(sid, 1) == []  # each delete came after its service's update


async def test_a_create_whose_answer_was_lost_is_unknown_never_duplicated(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 4)
    fake.inject(Fault.drop_after(), method="POST", times=1)
    creates = [
        client.pools.create(sid, 1).name("new").quorum(50).with_options(retry=NO_WAIT)
        for sid in services
    ]

    report = await client.fan_out(creates, concurrency=4).run()

    assert report.counts[S] == 3
    (unknown,) = report.unknown
    assert unknown.error is not None
    assert "may" in unknown.reason
    for sid in services:
        assert [p["name"] for p in fake.pools(sid, 1)].count("new") == 1


async def test_a_lost_create_is_reconciled_when_asked(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 3)
    fake.inject(Fault.drop_after(), method="POST", times=1)
    creates = [
        client.pools.create(sid, 1)
        .name("new")
        .quorum(50)
        .with_options(retry=NO_WAIT, reconcile_create=True)
        for sid in services
    ]

    report = await client.fan_out(creates).run()

    assert report.counts[S] == 3
    for sid in services:
        assert [p["name"] for p in fake.pools(sid, 1)].count("new") == 1


async def test_status_errors_fail_and_bugs_are_reported_not_swallowed(
    fake: FakeFastly, client: Client
) -> None:
    (sid,) = seed(fake, 1)
    locked = fake.add_version(sid, locked=True)
    ops: list[Any] = [
        client.pools.update(sid, locked, "origin").quorum(5),  # 422 Version locked
        client.pools.update(sid, 1, "origin"),  # no field set: a bug, raises ValueError
        "not a builder",
        client.pools.get(sid, 1, "origin"),
    ]

    report = await client.fan_out(ops).run()

    assert report.total == 4
    by_index = {o.index: o for o in report.outcomes}
    assert by_index[0].state is F
    assert getattr(by_index[0].error, "status", None) == 422
    assert by_index[1].state is F
    assert isinstance(by_index[1].error, ValueError)
    assert by_index[2].state is F
    assert isinstance(by_index[2].error, TypeError)
    assert by_index[3].state is S


async def test_a_builder_that_cannot_be_sent_is_not_sent(fake: FakeFastly) -> None:
    # Nothing listens on the port any more: connection refused means "never sent".
    port = fake.port
    await fake.close()
    async with Client(fake.token, base_url=f"http://127.0.0.1:{port}") as client:
        ops = [
            client.pools.update("svc", 1, "origin").quorum(1).with_options(max_retries=0),
            client.pools.get("svc", 1, "origin").with_options(max_retries=0),
        ]
        report = await client.fan_out(ops).run()
    assert report.counts[N] == 2
    assert all(o.reason == "never reached the server" for o in report.outcomes)


async def test_pulls_lazily_from_a_generator(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 10)
    pulled = 0
    worst = 0

    def builders() -> Iterator[Any]:
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield client.pools.get(services[i % 10], 1, "origin")

    def progress(counts: FanOutProgress) -> None:
        nonlocal worst
        worst = max(worst, pulled - counts.done)

    run = client.fan_out(builders(), concurrency=8, on_progress=progress, keep_succeeded=False)
    report = await run.run()

    assert report.counts[S] == report.total == pulled == 10_000
    assert report.outcomes == ()
    assert worst <= 8 + 1


async def test_progress_counts_grow_to_the_final_counts(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 6)
    ops: list[Any] = [*updates(client, services, per_service=2), "oops"]
    snapshots: list[FanOutProgress] = []

    report = await client.fan_out(ops, concurrency=3, on_progress=snapshots.append).run()

    assert [s.done for s in snapshots] == list(range(1, 14))
    totals = [s.total for s in snapshots]
    assert totals == sorted(totals)
    last = snapshots[-1]
    assert (last.succeeded, last.failed, last.not_sent, last.unknown, last.total) == (
        report.counts[S],
        report.counts[F],
        report.counts[N],
        report.counts[U],
        report.total,
    ) == (12, 1, 0, 0, 13)


async def test_keep_succeeded_false_keeps_counts_and_failures(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 5)
    ops: list[Any] = [*updates(client, services, per_service=2), 42]

    report = await client.fan_out(ops, keep_succeeded=False).run()

    assert report.total == 11
    assert report.counts[S] == 10
    assert report.counts[F] == 1
    assert report.succeeded == []
    assert [o.index for o in report.outcomes] == [10]


async def test_a_run_is_consumed_once(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 1)
    run = client.fan_out(updates(client, services, 1))
    report = await run.run()
    assert report.counts[S] == 1
    with pytest.raises(RuntimeError, match="consumed once"):
        await run.run()
    with pytest.raises(RuntimeError, match="consumed once"):
        await anext(run)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"concurrency": 0}, ValueError),
        ({"concurrency": 2.0}, TypeError),
        ({"budget_reserve": -1}, ValueError),
        ({"max_budget_wait": float("inf")}, ValueError),
        ({"max_budget_wait": "60"}, TypeError),
        ({"stop_after_failures": 0}, ValueError),
        ({"on_stop": "abandon"}, ValueError),
        ({"on_progress": 3}, TypeError),
    ],
)
def test_bad_options_are_refused_at_once(
    fake: FakeFastly, options: dict[str, Any], error: type[Exception]
) -> None:
    client = Client(fake.token, base_url=fake.base_url)
    with pytest.raises(error):
        client.fan_out([], **options)


def test_something_not_iterable_is_refused_at_once(fake: FakeFastly) -> None:
    client = Client(fake.token, base_url=fake.base_url)
    with pytest.raises(TypeError):
        client.fan_out(3)  # type: ignore[arg-type]


async def test_an_empty_input_gives_an_empty_report(client: Client) -> None:
    report = await client.fan_out([]).run()
    assert report.total == 0
    assert report.outcomes == ()
    report.raise_for_failures()
    assert fan_out_tasks() == []


async def test_writes_use_the_clients_retry_policy(
    fake: FakeFastly, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    # The `client` fixture retries at once; a run must keep that backoff (only the
    # server-directed wait is taken over by the run), not fall back to the default 0.5 s.
    services = seed(fake, 1)
    fake.inject(Fault.status(503), method="PUT", times=1)

    update = client.pools.update(services[0], 1, "origin").quorum(5)
    with caplog.at_level("INFO", logger="fastly_pools"):
        report = await client.fan_out([update]).run()

    assert report.counts[S] == 1
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert retries, "the 503 should have been retried by the client"
    assert all("retrying in 0.00s" in message for message in retries), retries
