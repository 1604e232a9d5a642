"""Server-directed waits (Retry-After, Fastly-RateLimit-Reset) and the rate-limit state."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from fastly_pools import (
    Client,
    NotFoundError,
    RateLimit,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from fastly_pools.testing import FakeFastly, Fault


def methods(fake: FakeFastly) -> list[str]:
    return [request.method for request in fake.requests]


def retry_waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]


async def test_a_429_with_a_reset_two_seconds_ahead_is_waited_for(
    fake: FakeFastly, client: Client, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    # This test waits for the reset on purpose: the wait is the behaviour under test.
    caplog.set_level(logging.INFO, logger="fastly_pools")
    fake.set_write_budget(10, remaining=0, reset_at=time.time() + 2)
    pool = await client.pools.create(service, 1).name("origin").execute()
    assert pool.name == "origin"
    assert methods(fake) == ["POST", "POST"]
    (logged,) = retry_waits(caplog)
    assert "status 429" in logged
    assert "retrying in 0.00s" not in logged  # it waited for the reset, not the backoff
    assert client.rate_limit.remaining == 9  # the refilled budget, minus this create


async def test_a_429_with_a_reset_an_hour_ahead_raises_at_once(
    fake: FakeFastly, client: Client, service: str
) -> None:
    reset_at = time.time() + 3600
    fake.set_write_budget(10, remaining=0, reset_at=reset_at)
    with pytest.raises(RateLimitError) as info:
        await client.pools.create(service, 1).name("origin").execute()
    assert methods(fake) == ["POST"]  # no retry was sent
    error = info.value
    assert error.reset is not None
    assert abs(error.reset.timestamp() - reset_at) <= 1
    assert error.rate_limit.remaining == 0
    assert "refills at" in str(error)
    assert any("max_server_wait" in note for note in error.__notes__)


async def test_a_429_with_budget_left_uses_the_backoff_not_the_reset(
    fake: FakeFastly, client: Client, service: str
) -> None:
    # Not the hourly budget (it reports writes left): the reset an hour ahead is irrelevant.
    reset = str(int(time.time()) + 3600)
    headers = {"Fastly-RateLimit-Remaining": "50", "Fastly-RateLimit-Reset": reset}
    fake.inject(Fault.status(429, headers=headers), method="POST")
    await client.pools.create(service, 1).name("origin").execute()
    assert methods(fake) == ["POST", "POST"]


async def test_retry_after_seconds_is_honoured(
    fake: FakeFastly, client: Client, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fastly_pools")
    fake.inject(Fault.status(503, headers={"Retry-After": "1"}))
    assert await client.pools.list(service, 1).execute() == []
    (logged,) = retry_waits(caplog)
    assert "retrying in 1.00s" in logged


async def test_retry_after_http_date_is_honoured(
    fake: FakeFastly, client: Client, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fastly_pools")
    when = datetime.now(UTC) + timedelta(seconds=2)
    fake.inject(Fault.status(503, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    assert await client.pools.list(service, 1).execute() == []
    (logged,) = retry_waits(caplog)
    wait = float(logged.split("retrying in ")[1].split("s")[0])
    assert 0.5 <= wait <= 2.0  # the date was 2 s ahead, in whole seconds; no backoff here


@pytest.mark.parametrize("retry_after", ["3600", "Fri, 01 Jan 2100 00:00:00 GMT"])
async def test_retry_after_above_the_cap_is_not_slept(
    fake: FakeFastly, client: Client, service: str, retry_after: str
) -> None:
    fake.inject(Fault.status(503, headers={"Retry-After": retry_after}))
    with pytest.raises(ServerError) as info:
        await client.pools.list(service, 1).execute()
    assert methods(fake) == ["GET"]
    assert any("max_server_wait" in note for note in info.value.__notes__)


async def test_the_cap_is_configurable(fake: FakeFastly, client: Client, service: str) -> None:
    fake.inject(Fault.status(503, headers={"Retry-After": "1"}))
    strict = RetryPolicy(initial_wait=0.0, max_wait=0.0, jitter=0.0, max_server_wait=0.5)
    with pytest.raises(ServerError):
        await client.pools.list(service, 1).with_options(retry=strict).execute()
    assert methods(fake) == ["GET"]


async def test_rate_limit_state_follows_the_latest_write(
    fake: FakeFastly, client: Client, service: str
) -> None:
    assert client.rate_limit == RateLimit()  # unknown until reported: no 1000 guessed
    fake.set_write_budget(50)  # an account with another limit
    await client.pools.create(service, 1).name("a").execute()
    budget = fake.write_budget
    assert client.rate_limit.remaining == 49
    reset = client.rate_limit.reset
    assert reset is not None
    assert reset.tzinfo is not None
    assert reset.timestamp() == pytest.approx(budget.reset_at, abs=1)
    await client.pools.get(service, 1, "a").execute()  # reads carry no budget headers
    assert client.rate_limit.remaining == 49
    await client.pools.delete(service, 1, "a").execute()
    assert client.rate_limit.remaining == 48


async def test_rate_limit_headers_are_read_in_any_case(
    fake: FakeFastly, client: Client, service: str
) -> None:
    headers = {"fastly-ratelimit-remaining": "7", "FASTLY-RATELIMIT-RESET": "1667829600"}
    fake.inject(Fault.status(404, headers=headers), method="DELETE")
    with pytest.raises(NotFoundError) as info:
        await client.pools.delete(service, 1, "origin").execute()
    expected = RateLimit(remaining=7, reset=datetime(2022, 11, 7, 14, 0, tzinfo=UTC))
    assert client.rate_limit == expected
    assert info.value.rate_limit == expected


async def test_every_status_error_carries_the_latest_rate_limit(
    fake: FakeFastly, client: Client, service: str
) -> None:
    await client.pools.create(service, 1).name("a").execute()
    known = client.rate_limit
    with pytest.raises(NotFoundError) as info:  # a read: no headers of its own
        await client.pools.get(service, 1, "missing").execute()
    assert info.value.rate_limit == known
    assert known.remaining is not None


async def test_a_429_with_budget_left_is_not_blamed_on_the_hourly_budget(
    fake: FakeFastly, client: Client, service: str
) -> None:
    # The client knows a reset later this hour from an earlier write; this 429 reports
    # budget left and asks for a 120 s wait: the error must say so, not "refills at ...".
    fake.seed_pool(service, 1, "origin")
    await client.pools.update(service, 1, "origin").quorum(5).execute()
    fake.inject(Fault.status(429, headers={"Retry-After": "120"}), method="PUT")

    with pytest.raises(RateLimitError) as caught:
        await client.pools.update(service, 1, "origin").quorum(6).execute()

    assert caught.value.retry_after == 120
    assert caught.value.budget_spent is False
    assert "refills" not in str(caught.value)
