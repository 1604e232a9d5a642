"""The write budget in a fan-out: wait for a near reset, stop before a far one, keep a
reserve, and treat a 429 as a pause for every write rather than a retry in every task."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from support import F, N, S, U, seed

from fastly_pools import Client, FanOutError, RateLimit, RateLimitError
from fastly_pools._fanout_budget import Gate, GateKind, after_rate_limited, lowest, write_gate
from fastly_pools.testing import FakeFastly, Fault


def changed(fake: FakeFastly, services: list[str]) -> int:
    return sum(int(fake.pools(sid, 1)[0]["quorum"]) == 99 for sid in services)


async def test_a_near_reset_is_waited_for_while_reads_go_on(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 12)
    fake.set_write_budget(100, remaining=3, reset_at=time.time() + 2)
    writes = [client.pools.update(sid, 1, "origin").quorum(99) for sid in services]
    reads = [client.pools.get(sid, 1, "origin") for sid in services[:6]]

    report = await client.fan_out([*writes, *reads], concurrency=4).run()

    assert report.counts[S] == report.total == 18
    assert changed(fake, services) == 12
    assert fake.write_budget.remaining == 100 - 9  # nine writes after the refill
    puts = [r for r in fake.requests if r.method == "PUT"]
    # Each slot met at most one 429 before the run paused every write.
    assert len(puts) <= 12 + 4
    gets = [r for r in fake.requests if r.method == "GET"]
    assert max(g.finished_at for g in gets) < max(p.started_at for p in puts)


async def test_a_distant_reset_stops_writes_and_reports_the_rest(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 20)
    reset_at = time.time() + 3600
    fake.set_write_budget(100, remaining=5, reset_at=reset_at)
    writes = [client.pools.update(sid, 1, "origin").quorum(99) for sid in services]

    report = await client.fan_out(writes, concurrency=4).run()

    assert report.counts[S] == changed(fake, services) == 5
    assert report.counts[F] == report.counts[U] == 0
    assert report.counts[N] == report.total - 5 > 0
    when = datetime.fromtimestamp(int(reset_at) + 1, UTC).isoformat()[:16]  # to the minute
    assert report.stopped is not None
    assert "resets at" in report.stopped
    assert all(when in o.reason for o in report.not_sent)
    with pytest.raises(FanOutError, match="not sent"):
        report.raise_for_failures()


async def test_budget_reserve_keeps_writes_in_hand(fake: FakeFastly, client: Client) -> None:
    services = seed(fake, 10)
    fake.set_write_budget(100, remaining=10, reset_at=time.time() + 3600)
    writes = [client.pools.update(sid, 1, "origin").quorum(99) for sid in services]

    report = await client.fan_out(writes, concurrency=1, budget_reserve=4).run()

    assert report.counts[S] == 6
    assert report.counts[N] == report.total - 6
    assert fake.write_budget.remaining == 4
    assert len([r for r in fake.requests if r.method == "PUT"]) == 6  # no 429 was met


async def test_the_reserve_holds_from_a_cold_start_at_high_concurrency(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 20)
    fake.latency = 0.01
    fake.set_write_budget(100, remaining=10, reset_at=time.time() + 3600)
    writes = [client.pools.update(sid, 1, "origin").quorum(99) for sid in services]

    report = await client.fan_out(writes, concurrency=8, budget_reserve=4).run()

    # The first write learns the budget; then never more in flight than it leaves spare.
    assert report.counts[S] == changed(fake, services) == 6
    assert fake.write_budget.remaining == 4
    assert len([r for r in fake.requests if r.method == "PUT"]) == 6


async def test_a_429_pauses_writes_and_the_item_runs_again(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 6)
    fake.inject(Fault.status(429, headers={"Retry-After": "1"}), method="PUT", times=1)
    writes = [client.pools.update(sid, 1, "origin").quorum(99) for sid in services]

    report = await client.fan_out(writes, concurrency=2).run()

    assert report.counts[S] == report.total == 6
    assert changed(fake, services) == 6
    # The rate-limited write was sent once more, after the pause; nothing else was repeated.
    assert len([r for r in fake.requests if r.method == "PUT"]) == 7


async def test_a_429_with_a_distant_retry_after_stops_writes(
    fake: FakeFastly, client: Client
) -> None:
    services = seed(fake, 6)
    fake.inject(Fault.status(429, headers={"Retry-After": "7200"}), method="PUT", times=1)
    writes = [client.pools.update(sid, 1, "origin").quorum(99) for sid in services]

    report = await client.fan_out(writes, concurrency=1).run()

    assert report.total == 1
    (outcome,) = report.not_sent
    assert isinstance(outcome.error, RateLimitError)
    assert outcome.reason.startswith("not applied (429)")
    assert changed(fake, services) == 0


# -- the gate itself (pure) ----------------------------------------------------------------

NOW = 1_700_000_000.0


def budget(remaining: int | None, reset_in: float | None = 30.0) -> RateLimit:
    reset = None if reset_in is None else datetime.fromtimestamp(NOW + reset_in, UTC)
    return RateLimit(remaining=remaining, reset=reset)


@pytest.mark.parametrize(
    ("rate_limit", "in_flight", "reserve", "paused_until", "expected"),
    [
        (budget(None), 5, 0, 0.0, GateKind.OPEN),  # nothing known yet, no reserve to keep
        (budget(None), 0, 5, 0.0, GateKind.OPEN),  # with a reserve: one write...
        (budget(None), 1, 5, 0.0, GateKind.HOLD),  # ...and the rest after its answer
        (budget(10), 3, 0, 0.0, GateKind.OPEN),
        (budget(3), 3, 0, 0.0, GateKind.HOLD),  # in-flight writes count as spent
        (budget(10), 0, 10, 0.0, GateKind.PAUSE),  # the reserve is kept
        (budget(0), 0, 0, 0.0, GateKind.PAUSE),  # reset 30 s away, within 60
        (budget(0, reset_in=600), 0, 0, 0.0, GateKind.STOP),
        (budget(0, reset_in=None), 0, 0, 0.0, GateKind.STOP),
        (budget(0, reset_in=-1), 0, 0, 0.0, GateKind.OPEN),  # that window is over
        (budget(0, reset_in=-1), 2, 1, 0.0, GateKind.HOLD),  # refilled, to an unknown size
        (budget(50), 0, 0, NOW + 5, GateKind.HOLD),  # a pause is running
    ],
)
def test_write_gate(
    rate_limit: RateLimit, in_flight: int, reserve: int, paused_until: float, expected: GateKind
) -> None:
    gate = write_gate(
        rate_limit,
        writes_in_flight=in_flight,
        reserve=reserve,
        max_wait=60.0,
        paused_until=paused_until,
        now=NOW,
    )
    assert gate.kind is expected
    if expected is GateKind.PAUSE:
        assert gate.until == NOW + 30
    if expected is GateKind.STOP:
        assert "write budget exhausted" in gate.reason


def test_the_lowest_remaining_of_a_window_is_trusted() -> None:
    seen = budget(5)
    assert lowest(seen, budget(8)) is seen  # a late answer from before
    assert lowest(seen, budget(3)).remaining == 3
    assert lowest(seen, budget(900, reset_in=3630)).remaining == 900  # a new window
    assert lowest(RateLimit(), budget(8)).remaining == 8


def test_a_429_without_usable_times_pauses_longer_each_time() -> None:
    waits = [
        after_rate_limited(
            reset_at=None, retry_after=None, budget_spent=True, times=n, now=NOW, max_wait=60
        ).until
        - NOW
        for n in (1, 2, 3)
    ]
    assert waits == [1.0, 2.0, 4.0]


def test_a_429_waits_for_retry_after_first_then_a_spent_budgets_reset() -> None:
    def gate_for(reset_in: float | None, retry_after: float | None, spent: bool) -> Gate:
        return after_rate_limited(
            reset_at=None if reset_in is None else NOW + reset_in,
            retry_after=retry_after,
            budget_spent=spent,
            times=1,
            now=NOW,
            max_wait=60,
        )

    # Retry-After is the server's own word, even when the hourly reset is far away.
    gate = gate_for(reset_in=900, retry_after=1, spent=False)
    assert (gate.kind, gate.until) == (GateKind.PAUSE, NOW + 1)
    gate = gate_for(reset_in=10, retry_after=20, spent=True)
    assert (gate.kind, gate.until) == (GateKind.PAUSE, NOW + 20)
    # A spent budget waits for its reset, or stops when that is too far.
    gate = gate_for(reset_in=10, retry_after=None, spent=True)
    assert (gate.kind, gate.until) == (GateKind.PAUSE, NOW + 10)
    gate = gate_for(reset_in=90, retry_after=None, spent=True)
    assert gate.kind is GateKind.STOP
    assert "beyond max_budget_wait=60s" in gate.reason
    # A 429 that reports budget left is another throttle: a short pause, not the hour.
    gate = gate_for(reset_in=900, retry_after=None, spent=False)
    assert (gate.kind, gate.until) == (GateKind.PAUSE, NOW + 1)


async def test_a_429_with_retry_after_pauses_the_run_despite_a_far_reset(
    fake: FakeFastly, client: Client
) -> None:
    # The client already knows the budget (plenty left, reset later this hour); a 429
    # that says "Retry-After: 1" must pause the run for a second, not stop it.
    services = seed(fake, 6)
    await client.pools.update(services[0], 1, "origin").quorum(1).execute()
    assert client.rate_limit.remaining
    fake.inject(Fault.status(429, headers={"Retry-After": "1"}), method="PUT")

    ops = [client.pools.update(sid, 1, "origin").quorum(12) for sid in services]
    report = await client.fan_out(ops, concurrency=2).run()

    assert report.counts[S] == report.total == 6
    assert report.stopped is None
