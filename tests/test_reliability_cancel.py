"""Cancelling `execute()` at every stage leaves the client whole.

After each cancellation, 100 calls on the same client must succeed with one connection
slot (`connection_limit=1`): a leaked slot would block them, and a half-read connection
put back in the pool would garble the next answer. Stages are reached by events (trace
hooks, log records, the server's own signal), never by sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from fastly_pools import Client, FastlyError, RetryPolicy, Timeout
from fastly_pools.testing import FakeFastly, Fault

GUARD = 10.0  # seconds; only reached when the behaviour under test is broken
NO_WAIT = RetryPolicy(initial_wait=0.0, max_wait=0.0, jitter=0.0, max_server_wait=60.0)


class Probe:
    """aiohttp trace hooks turned into events: what stage the client's request is at."""

    def __init__(self) -> None:
        self.starts = 0
        self.headers_sent = asyncio.Event()  # the request is out, awaiting the answer
        self.answer_started = asyncio.Event()  # status and headers are in; body next
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._start)
        self.config.on_request_headers_sent.append(self._sent)
        self.config.on_request_end.append(self._end)

    async def _start(self, *_: object) -> None:
        self.starts += 1

    async def _sent(self, *_: object) -> None:
        self.headers_sent.set()

    async def _end(self, *_: object) -> None:
        self.answer_started.set()


def one_slot_client(base_url: str, token: str, probe: Probe) -> Client:
    return Client(
        token, base_url=base_url, connection_limit=1, retry=NO_WAIT,
        timeout=Timeout(total=GUARD, pool=GUARD), trace_configs=[probe.config],
    )  # fmt: skip


async def cancel_and_wait(task: asyncio.Task[object]) -> None:
    task.cancel()
    async with asyncio.timeout(GUARD):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()  # CancelledError passed through untouched


async def assert_whole(client: Client, service: str, version: int = 1) -> None:
    """100 calls succeed, and no connection or slot is left acquired."""
    async with asyncio.timeout(GUARD):
        results = await asyncio.gather(
            *(client.pools.list(service, version).execute() for _ in range(100))
        )
    assert len(results) == 100
    session = client._life.session
    assert session is not None
    assert session.connector is not None
    assert not session.connector._acquired  # aiohttp has no public count of these
    slots = client._life.slots
    assert slots is not None
    assert not slots.locked()


async def test_cancel_before_send(fake: FakeFastly, service: str) -> None:
    probe = Probe()
    async with one_slot_client(fake.base_url, fake.token, probe) as client:
        task = asyncio.create_task(client.pools.list(service, 1).execute())
        await cancel_and_wait(task)
        assert probe.starts == 0
        await assert_whole(client, service)
    assert len(fake.requests) == 100


async def test_cancel_while_waiting_for_a_connection_slot(fake: FakeFastly, service: str) -> None:
    probe = Probe()
    fake.inject(Fault.hang())
    async with one_slot_client(fake.base_url, fake.token, probe) as client:
        holder = asyncio.create_task(client.pools.list(service, 1).execute())
        await probe.headers_sent.wait()
        waiter = asyncio.create_task(client.pools.list(service, 1).execute())
        for _ in range(5):
            await asyncio.sleep(0)  # let it reach the slot gate (a yield, not a wait)
        assert not waiter.done()
        await cancel_and_wait(waiter)
        assert probe.starts == 1  # the waiter never started sending
        await cancel_and_wait(holder)
        await assert_whole(client, service)


async def test_cancel_while_waiting_for_the_answer(fake: FakeFastly, service: str) -> None:
    probe = Probe()
    fake.inject(Fault.hang())
    async with one_slot_client(fake.base_url, fake.token, probe) as client:
        task = asyncio.create_task(client.pools.list(service, 1).execute())
        await probe.headers_sent.wait()
        await cancel_and_wait(task)
        await assert_whole(client, service)


@pytest.fixture
async def stalling_api() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A tiny API whose list of version 9 sends its headers and half a body, then stalls.

    Yields its base URL and an event set when the stall began.
    """
    stalled, release = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.match_info["version"] != "9":
            return web.json_response([])
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b'[{"name": "half')
        stalled.set()
        await release.wait()
        return response

    app = web.Application()
    app.router.add_get("/service/{service}/version/{version}/pool", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", stalled
    release.set()
    await runner.cleanup()


async def test_cancel_while_reading_the_body(stalling_api: tuple[str, asyncio.Event]) -> None:
    base_url, stalled = stalling_api
    probe = Probe()
    async with one_slot_client(base_url, "token", probe) as client:
        task = asyncio.create_task(client.pools.list("svc", 9).execute())
        await probe.answer_started.wait()  # headers parsed: the client now reads the body
        await stalled.wait()
        assert not task.done()
        await cancel_and_wait(task)
        await assert_whole(client, "svc")


class RetryWatcher(logging.Handler):
    """Sets an event when the client logs that it is about to sleep before a retry."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.sleeping = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying in" in record.getMessage():
            self.sleeping.set()


async def test_cancel_during_a_backoff_sleep(fake: FakeFastly, service: str) -> None:
    probe = Probe()
    fake.inject(Fault.status(503, headers={"Retry-After": "30"}))
    watcher = RetryWatcher()
    logger = logging.getLogger("fastly_pools")
    level = logger.level
    logger.addHandler(watcher)
    logger.setLevel(logging.INFO)
    try:
        async with one_slot_client(fake.base_url, fake.token, probe) as client:
            task = asyncio.create_task(client.pools.list(service, 1).execute())
            await watcher.sleeping.wait()
            await cancel_and_wait(task)  # promptly: far sooner than the 30 s asked for
            assert probe.starts == 1
            await assert_whole(client, service)
    finally:
        logger.removeHandler(watcher)
        logger.setLevel(level)


async def test_an_outer_timeout_is_the_callers_not_ours(fake: FakeFastly, service: str) -> None:
    fake.inject(Fault.hang())
    probe = Probe()
    async with one_slot_client(fake.base_url, fake.token, probe) as client:
        with pytest.raises(TimeoutError) as info:
            async with asyncio.timeout(0.2):  # the caller's deadline cancels us
                await client.pools.list(service, 1).execute()
        assert not isinstance(info.value, FastlyError)
        await assert_whole(client, service)
