"""Injected faults: canned answers, delays, hangs, dropped connections, truncated bodies."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from fastly_pools.testing import FakeFastly, Fault


async def until(predicate, within: float = 2.0) -> None:
    """Poll a condition the fake reaches on its own; bounded, no fixed sleep."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.005)


@pytest.fixture(autouse=True)
def _no_error_logs(caplog: pytest.LogCaptureFixture):
    """Dropping connections must stay quiet: no aiohttp error logs or tracebacks."""
    with caplog.at_level(logging.DEBUG):
        yield
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, [r.getMessage() for r in loud]


async def test_status_fault_sends_json_and_changes_nothing(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.status(503, {"msg": "busy"}, headers={"Retry-After": "1"}), method="POST")
    reply = await api.create(sid, 1, name="p")
    assert (reply.status, reply.json) == (503, {"msg": "busy"})
    assert reply.headers["Retry-After"] == "1"
    assert reply.headers["Content-Type"] == "application/json"
    assert "Fastly-RateLimit-Remaining" not in reply.headers
    assert fake.pools(sid, 1) == []
    assert (await api.create(sid, 1, name="p")).status == 200


async def test_status_fault_bodies(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.status(500))
    fake.inject(Fault.status(429, "plain text", headers={"Content-Type": "text/plain"}))
    fake.inject(Fault.status(400, [1, 2]))
    default = await api.call("GET", "service", sid, "version", 1, "pool")
    text = await api.call("GET", "service", sid, "version", 1, "pool")
    listed = await api.call("GET", "service", sid, "version", 1, "pool")
    assert (default.status, default.json) == (500, {"msg": "Internal Server Error"})
    assert (text.status, text.text, text.headers["Content-Type"]) == (
        429,
        "plain text",
        "text/plain",
    )
    assert (listed.status, listed.json) == (400, [1, 2])


async def test_faults_match_method_path_and_count(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.status(502), method="get", path=r"/pool/b$", times=2)
    await api.create(sid, 1, name="a")
    await api.create(sid, 1, name="b")
    statuses = [
        (await api.call("GET", "service", sid, "version", 1, "pool", name)).status
        for name in ("a", "b", "b", "b")
    ]
    assert statuses == [200, 502, 502, 200]


async def test_clear_faults(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.status(500), times=5)
    fake.clear_faults()
    assert (await api.call("GET", "service", sid, "version", 1, "pool")).status == 200


async def test_non_json_fault(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.non_json())
    reply = await api.call("GET", "service", sid, "version", 1, "pool")
    assert reply.status == 502
    assert reply.headers["Content-Type"] == "text/html"
    assert reply.text.startswith("<html>")
    assert "Bad Gateway" in reply.text


async def test_delay_fault_and_latency_add_up(api, fake: FakeFastly, sid: str) -> None:
    fake.latency = 0.05
    fake.inject(Fault.delay(0.1))
    started = time.monotonic()
    reply = await api.create(sid, 1, name="p")
    assert time.monotonic() - started >= 0.15
    assert reply.status == 200
    assert [p["name"] for p in fake.pools(sid, 1)] == ["p"]


async def test_drop_before_stores_nothing(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.drop_before(), method="POST")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.create(sid, 1, name="p")
    assert fake.pools(sid, 1) == []
    assert fake.write_budget.remaining == 10_000


async def test_aiohttp_resends_a_dropped_idempotent_request(
    api, fake: FakeFastly, sid: str
) -> None:
    # Worth knowing when testing a client: aiohttp retries GET/PUT/DELETE once on a
    # disconnect, so a single drop on those methods is invisible to the caller.
    fake.inject(Fault.drop_before(), method="GET")
    reply = await api.call("GET", "service", sid, "version", 1, "pool")
    assert reply.status == 200
    assert [r.method for r in fake.requests] == ["GET", "GET"]


async def test_drop_after_stores_the_pool(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.drop_after(), method="POST")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.create(sid, 1, name="p")
    assert [p["name"] for p in fake.pools(sid, 1)] == ["p"]
    retry = await api.create(sid, 1, name="p")
    assert retry.status == 409


async def test_truncated_body_fails_on_read(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.truncated_body())
    url = api.url("service", sid, "version", 1, "pool")
    headers = {"Fastly-Key": fake.token, "Content-Type": "application/x-www-form-urlencoded"}
    async with api.session.post(url, data="name=p", headers=headers) as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert [p["name"] for p in fake.pools(sid, 1)] == ["p"]


async def test_hang_until_the_client_gives_up(api, fake: FakeFastly, sid: str) -> None:
    fake.inject(Fault.hang())
    with pytest.raises(TimeoutError):
        await api.call("GET", "service", sid, "version", 1, "pool", seconds=0.2)
    # The client closed the connection, so the server cancels the hanging handler.
    await until(lambda: fake.in_flight == 0)
    assert [r.method for r in fake.requests] == ["GET"]
    assert (await api.call("GET", "service", sid, "version", 1, "pool")).status == 200


async def test_close_with_a_hanging_request_is_quick_and_quiet(
    api, fake: FakeFastly, sid: str
) -> None:
    fake.inject(Fault.hang())
    # POST: aiohttp itself retries idempotent methods once after a disconnect.
    hanging = asyncio.create_task(api.create(sid, 1, name="p"))
    await until(lambda: fake.in_flight == 1)
    started = time.monotonic()
    async with asyncio.timeout(2):
        await fake.close()
    assert time.monotonic() - started < 0.4
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await hanging
    assert fake.in_flight == 0
    assert [r.method for r in fake.requests] == ["POST"]


async def test_close_cuts_long_delays_short(api, fake: FakeFastly, sid: str) -> None:
    fake.latency = 30
    slow = asyncio.create_task(api.create(sid, 1, name="p"))
    await until(lambda: fake.in_flight == 1)
    async with asyncio.timeout(2):
        await fake.close()
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await slow
    assert fake.pools(sid, 1) == []


def test_fault_values_are_checked() -> None:
    with pytest.raises(ValueError, match="code"):
        Fault.status(42)
    with pytest.raises(ValueError, match="seconds"):
        Fault.delay(-1)
    with pytest.raises(ValueError, match="status"):
        Fault.non_json(status=700)
    assert Fault.hang() == Fault.hang()
    assert hash(Fault.status(500, {"a": 1})) == hash(Fault.status(500, {"a": 1}))


def test_inject_checks_times(fake: FakeFastly) -> None:
    with pytest.raises(ValueError, match="times"):
        fake.inject(Fault.hang(), times=0)
