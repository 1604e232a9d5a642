"""Opening, closing and forgetting a Client; event loops; borrowed sessions; connector options."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from fastly_pools import Client, ClientClosedError
from fastly_pools.testing import FakeFastly

REPO = Path(__file__).resolve().parents[1]
FORGOTTEN = "fastly_pools.Client was never closed"


def collect_earlier_garbage() -> None:
    """Collect what earlier tests left behind, so their warnings are not counted here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


async def test_close_is_idempotent(fake: FakeFastly, service: str) -> None:
    client = Client(fake.token, base_url=fake.base_url)
    await client.pools.list(service, 1).execute()
    session = client._life.session
    assert session is not None
    await client.close()
    await client.close()
    assert client.closed
    assert session.closed


async def test_closing_an_unused_client_is_fine() -> None:
    client = Client("token")
    await client.close()
    assert client.closed


async def test_a_closed_client_says_what_to_do_and_sends_nothing(
    fake: FakeFastly, service: str
) -> None:
    async with Client(fake.token, base_url=fake.base_url) as client:
        builder = client.pools.list(service, 1)
    with pytest.raises(ClientClosedError, match="create a new Client"):
        await builder.execute()
    with pytest.raises(ClientClosedError):
        async with client:
            pass
    assert fake.requests == []


async def test_a_client_never_closed_warns_exactly_once(fake: FakeFastly, service: str) -> None:
    collect_earlier_garbage()
    client = Client(fake.token, base_url=fake.base_url)
    await client.pools.list(service, 1).execute()
    session = client._life.session
    assert session is not None
    del client
    with pytest.warns(ResourceWarning) as record:
        gc.collect()
    assert [str(w.message)[: len(FORGOTTEN)] for w in record] == [FORGOTTEN]
    assert session.closed  # its sockets were closed, not leaked


async def test_an_unused_client_is_not_a_leak() -> None:
    collect_earlier_garbage()
    client = Client("token")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert record == []


SCRIPT = """
import asyncio, gc, sys, threading
from fastly_pools import Client
from fastly_pools.testing import FakeFastly

# The fake runs in its own thread and loop, so it outlives the client's loop and the
# client's sockets stay open unless the client closes them.
server_loop = asyncio.new_event_loop()
threading.Thread(target=server_loop.run_forever, daemon=True).start()
fake = FakeFastly()
asyncio.run_coroutine_threadsafe(fake.start(), server_loop).result(10)
service = fake.add_service()
kept = []

async def main(mode):
    client = Client(fake.token, base_url=fake.base_url)
    await client.pools.list(service, 1).execute()
    if mode == "global":
        kept.append(client)  # outlives asyncio.run()
    elif mode == "collected":
        del client
        gc.collect()  # collected while the loop still runs

asyncio.run(main(sys.argv[1]))
print("LOOP ENDED", file=sys.stderr, flush=True)
asyncio.run_coroutine_threadsafe(fake.close(), server_loop).result(10)
"""


def run_script(mode: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, *flags, "-c", SCRIPT, mode],
        capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
    )  # fmt: skip


NOISE = ("Event loop is closed", "Unclosed client session", "Unclosed connector", "Traceback")


@pytest.mark.parametrize("mode", ["local", "global", "collected"])
def test_a_forgotten_client_warns_once_and_makes_no_noise(mode: str) -> None:
    shown = run_script(mode, "-W", "always::ResourceWarning")
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.count(FORGOTTEN) == 1, shown.stderr
    # Closed while its loop still ran, not at interpreter exit after the loop was gone.
    assert shown.stderr.index(FORGOTTEN) < shown.stderr.index("LOOP ENDED")
    for noise in (*NOISE, "unclosed"):
        assert noise not in shown.stderr, shown.stderr


@pytest.mark.parametrize("mode", ["local", "global"])
def test_a_forgotten_client_is_silent_with_default_warnings(mode: str) -> None:
    quiet = run_script(mode)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "LOOP ENDED\n"


@contextmanager
def fake_in_a_thread() -> Iterator[tuple[FakeFastly, str]]:
    """A FakeFastly served from its own thread and loop, to outlive several asyncio.run()."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeFastly()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake, fake.add_service()
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_client_moved_to_a_second_event_loop_fails_before_sending() -> None:
    with fake_in_a_thread() as (fake, service):
        client = Client(fake.token, base_url=fake.base_url)

        async def use() -> object:
            return await client.pools.list(service, 1).execute()

        with pytest.warns(ResourceWarning, match="never closed"):  # left open in the first
            assert asyncio.run(use()) == []
        sent = len(fake.requests)
        with pytest.raises(RuntimeError, match="another event loop") as info:
            asyncio.run(use())
        assert "one Client per event loop" in str(info.value)
        assert len(fake.requests) == sent


def test_a_client_made_outside_a_loop_works_inside_one() -> None:
    with fake_in_a_thread() as (fake, service):
        client = Client(fake.token, base_url=fake.base_url)

        async def use() -> object:
            async with client:
                return await client.pools.list(service, 1).execute()

        assert asyncio.run(use()) == []


async def test_an_injected_session_is_never_closed(fake: FakeFastly, service: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with Client(fake.token, base_url=fake.base_url, session=session) as client:
            await client.pools.list(service, 1).execute()
        assert not session.closed
        collect_earlier_garbage()
        forgotten = Client(fake.token, base_url=fake.base_url, session=session)
        await forgotten.pools.list(service, 1).execute()
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            del forgotten
            gc.collect()
        assert record == []  # not ours to close, so not ours to warn about
        assert not session.closed
        async with session.get(f"{fake.base_url}/service/{service}/version/1/pool") as answer:
            assert answer.status == 401  # still usable by its owner


async def test_an_injected_session_closed_by_its_owner(fake: FakeFastly, service: str) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    client = Client(fake.token, base_url=fake.base_url, session=session)
    with pytest.raises(ClientClosedError, match="closed by its owner"):
        await client.pools.list(service, 1).execute()
    assert fake.requests == []


async def test_connection_limit_bounds_requests_in_flight(fake: FakeFastly, service: str) -> None:
    fake.latency = 0.05
    async with Client(fake.token, base_url=fake.base_url, connection_limit=3) as client:
        await asyncio.gather(*(client.pools.list(service, 1).execute() for _ in range(10)))
    assert fake.max_concurrent == 3


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
def test_connection_limit_is_checked(limit: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        Client("token", connection_limit=limit)  # type: ignore[arg-type]


async def test_trace_configs_reach_the_session(fake: FakeFastly, service: str) -> None:
    started: list[str] = []

    async def on_start(
        _: aiohttp.ClientSession, __: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        started.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with Client(fake.token, base_url=fake.base_url, trace_configs=[trace]) as client:
        await client.pools.list(service, 1).execute()
    assert started == [f"GET /service/{service}/version/1/pool"]


async def test_trace_configs_with_an_injected_session_are_refused() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="your own"):
            Client("token", session=session, trace_configs=[aiohttp.TraceConfig()])
