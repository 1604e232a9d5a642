"""Timeouts: on by default, per call overrides, and waiting for a connection kept apart.

Each hanging request is bounded by a short timeout of the client under test; the
outer `asyncio.timeout` only keeps a broken build from hanging the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import aiohttp
import pytest
from support import NO_WAIT

from fastly_pools import (
    DEFAULT_TIMEOUT,
    APITimeoutError,
    Client,
    ConnectionErrorKind,
    PoolTimeoutError,
    Timeout,
)
from fastly_pools.testing import FakeFastly, Fault

GUARD = 10.0  # seconds; only reached when the behaviour under test is broken


def headers_sent_probe() -> tuple[aiohttp.TraceConfig, asyncio.Event]:
    """A TraceConfig whose event is set once a request's headers went out."""
    sent = asyncio.Event()

    async def on_headers_sent(*_: object) -> None:
        sent.set()

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(on_headers_sent)
    return trace, sent


def test_timeouts_are_on_by_default() -> None:
    client = Client("token")
    assert client.timeout == DEFAULT_TIMEOUT
    assert DEFAULT_TIMEOUT.total is not None
    assert DEFAULT_TIMEOUT.connect is not None
    assert DEFAULT_TIMEOUT.pool is not None


async def test_a_hanging_answer_times_out_with_the_client_timeout(
    fake: FakeFastly, service: str
) -> None:
    fake.inject(Fault.hang())
    async with Client(fake.token, base_url=fake.base_url, timeout=0.2, max_retries=0) as client:
        with pytest.raises(APITimeoutError) as info:
            async with asyncio.timeout(GUARD):
                await client.pools.list(service, 1).execute()
    assert info.value.kind is ConnectionErrorKind.TIMEOUT
    assert info.value.sent is True
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_with_options_overrides_the_timeout_for_one_call(
    fake: FakeFastly, client: Client, service: str
) -> None:
    builder = client.pools.list(service, 1)
    quick = builder.with_options(timeout=Timeout(total=0.2), max_retries=0)
    assert quick is not builder
    assert builder.options.timeout != quick.options.timeout  # the original is untouched
    fake.inject(Fault.hang())
    with pytest.raises(APITimeoutError):
        async with asyncio.timeout(GUARD):
            await quick.execute()
    # The same client without the override still answers (its own timeout is 30 s).
    assert await builder.execute() == []


async def test_a_timed_out_read_is_retried(fake: FakeFastly, service: str) -> None:
    fake.inject(Fault.hang())
    async with Client(fake.token, base_url=fake.base_url, timeout=0.2, retry=NO_WAIT) as client:
        async with asyncio.timeout(GUARD):
            assert await client.pools.list(service, 1).execute() == []


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose listen backlog is full, so a new connection is never set up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


async def test_connect_timeout_is_its_own_bound(unaccepting_port: int) -> None:
    timeout = Timeout(total=GUARD, connect=0.2)
    url = f"http://127.0.0.1:{unaccepting_port}"
    async with Client("token", base_url=url, timeout=timeout, max_retries=0) as client:
        with pytest.raises(APITimeoutError) as info:
            async with asyncio.timeout(GUARD):
                await client.pools.list("svc", 1).execute()
    if info.value.sent:  # pragma: no cover - depends on the kernel's backlog handling
        pytest.skip("this kernel accepted the connection despite a full backlog")
    assert info.value.kind is ConnectionErrorKind.TIMEOUT
    assert isinstance(info.value.__cause__, aiohttp.ConnectionTimeoutError)


async def test_no_free_connection_is_a_pool_timeout_and_never_sent(
    fake: FakeFastly, service: str
) -> None:
    trace, sent = headers_sent_probe()
    timeout = Timeout(total=GUARD, pool=0.2)
    fake.inject(Fault.hang())
    async with Client(
        fake.token, base_url=fake.base_url, connection_limit=1, timeout=timeout,
        max_retries=2, retry=NO_WAIT, trace_configs=[trace],
    ) as client:  # fmt: skip
        hanging = asyncio.create_task(client.pools.list(service, 1).execute())
        await sent.wait()
        with pytest.raises(PoolTimeoutError) as info:
            async with asyncio.timeout(GUARD):
                await client.pools.get(service, 1, "other").execute()
        # Distinct from "sent, no answer", and not retried: only the hanging call arrived.
        assert (fake.in_flight, fake.requests) == (1, [])
        hanging.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging
    error = info.value
    assert error.sent is False
    assert error.kind is ConnectionErrorKind.POOL_TIMEOUT
    assert "not sent" in str(error)


async def test_waiting_for_a_connection_is_not_charged_to_the_request_timeout(
    fake: FakeFastly, service: str
) -> None:
    trace, sent = headers_sent_probe()
    fake.inject(Fault.hang())
    async with Client(
        fake.token, base_url=fake.base_url, connection_limit=1, max_retries=0,
        trace_configs=[trace],
    ) as client:  # fmt: skip
        # Holds the only slot for 0.6 s, then times out and frees it.
        blocker = asyncio.create_task(
            client.pools.list(service, 1).with_options(timeout=Timeout(total=0.6)).execute()
        )
        await sent.wait()
        # Waits ~0.6 s for the slot, longer than its own 0.3 s bound: still succeeds.
        waiting = client.pools.list(service, 1).with_options(timeout=Timeout(total=0.3, pool=GUARD))
        async with asyncio.timeout(GUARD):
            assert await waiting.execute() == []
        with pytest.raises(APITimeoutError):
            await blocker
