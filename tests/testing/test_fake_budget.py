"""The hourly write budget: headers on writes only, 429 when used up, refill at the reset."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from fastly_pools.testing import FakeFastly, WriteBudget
from fastly_pools.testing._budget import Budget

RATE_LIMITED = {
    "msg": "You have exceeded your hourly rate limit. "
    "Please contact support@fastly.com if you think this is a mistake."
}


async def test_writes_carry_rate_limit_headers_and_reads_do_not(api, sid: str) -> None:
    before = time.time()
    writes = [
        await api.create(sid, 1, name="p"),
        await api.call("PUT", "service", sid, "version", 1, "pool", "p", form={"quorum": 1}),
        await api.call("DELETE", "service", sid, "version", 1, "pool", "missing"),
        await api.call("POST", "service", sid, "version"),
    ]
    remaining = [int(w.headers["Fastly-RateLimit-Remaining"]) for w in writes]
    assert remaining == [9999, 9998, 9997, 9996]
    reset = int(writes[0].headers["Fastly-RateLimit-Reset"])
    assert reset % 3600 == 0
    assert before < reset <= before + 3600
    reads = [
        await api.call("GET", "service", sid, "version", 1, "pool"),
        await api.call("GET", "service", sid, "version", 1, "pool", "missing"),
    ]
    assert not [k for r in reads for k in r.headers if k.lower().startswith("fastly-ratelimit")]


async def test_unauthenticated_writes_are_not_charged(api, fake: FakeFastly, sid: str) -> None:
    reply = await api.call("POST", "service", sid, "version", 1, "pool", form="name=p", token="x")
    assert reply.status == 401
    assert "Fastly-RateLimit-Remaining" not in reply.headers
    assert fake.write_budget.remaining == 10_000


async def test_used_up_budget_answers_429_and_changes_nothing(
    api, fake: FakeFastly, sid: str
) -> None:
    fake.set_write_budget(5, remaining=1)
    assert (await api.create(sid, 1, name="p")).headers["Fastly-RateLimit-Remaining"] == "0"
    refused = await api.create(sid, 1, name="q")
    assert refused.status == 429
    assert refused.json == RATE_LIMITED
    assert refused.headers["Fastly-RateLimit-Remaining"] == "0"
    assert int(refused.headers["Fastly-RateLimit-Reset"]) == int(fake.write_budget.reset_at)
    assert [p["name"] for p in fake.pools(sid, 1)] == ["p"]
    assert (await api.call("GET", "service", sid, "version", 1, "pool")).status == 200


async def test_budget_refills_when_the_reset_passes(api, fake: FakeFastly, sid: str) -> None:
    reset_at = time.time() + 0.3
    fake.set_write_budget(3, remaining=0, reset_at=reset_at)
    assert (await api.create(sid, 1, name="p")).status == 429
    # The one unavoidable wait: the window has to end in real time (bounded below 1.5 s).
    deadline = time.monotonic() + 1.5
    while (reply := await api.create(sid, 1, name="p")).status == 429:
        assert time.monotonic() < deadline, "budget never refilled"
        await asyncio.sleep(0.02)
    assert reply.status == 200
    assert reply.headers["Fastly-RateLimit-Remaining"] == "2"
    assert fake.write_budget == WriteBudget(3, 2, reset_at + 3600)


def test_set_write_budget_accepts_aware_datetimes_only(fake: FakeFastly) -> None:
    when = datetime.now(UTC) + timedelta(minutes=5)
    fake.set_write_budget(100, reset_at=when)
    assert fake.write_budget == WriteBudget(100, 100, when.timestamp())
    with pytest.raises(ValueError, match="aware"):
        fake.set_write_budget(100, reset_at=datetime(2030, 1, 1))  # noqa: DTZ001 - on purpose
    with pytest.raises(ValueError, match="remaining"):
        fake.set_write_budget(10, remaining=11)


def test_default_window_ends_at_the_next_full_hour() -> None:
    budget = Budget(now=7200.5)
    assert budget.snapshot(7200.5) == WriteBudget(10_000, 10_000, 10_800.0)


def test_refill_moves_the_reset_on_by_whole_hours() -> None:
    budget = Budget(now=0.0)
    budget.set(2, remaining=0, reset_at=100.0, now=0.0)
    assert budget.take(99.0) == (False, WriteBudget(2, 0, 100.0))
    assert budget.take(100.0) == (True, WriteBudget(2, 1, 3700.0))
    # Idle for hours: the window skips ahead rather than replaying missed resets.
    assert budget.snapshot(3 * 3600 + 200.0) == WriteBudget(2, 2, 3 * 3600 + 100.0 + 3600)


def test_rate_limit_header_rounds_a_fractional_reset_up() -> None:
    assert WriteBudget(1, 0, 1000.2).headers == {
        "Fastly-RateLimit-Remaining": "0",
        "Fastly-RateLimit-Reset": "1001",
    }
