"""Retries through a real Client against FakeFastly faults: what is retried, and what never is."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from support import NO_WAIT

from fastly_pools import (
    APIConnectionError,
    APIStatusError,
    Client,
    ConflictError,
    ConnectionErrorKind,
    DeleteResult,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
)
from fastly_pools.testing import FakeFastly, Fault

Call = Callable[[Client, str], Awaitable[Any]]


def methods(fake: FakeFastly) -> list[str]:
    return [request.method for request in fake.requests]


async def do_get(client: Client, service: str) -> Any:
    return await client.pools.get(service, 1, "origin").execute()


async def do_put(client: Client, service: str) -> Any:
    return await client.pools.update(service, 1, "origin").quorum(20).execute()


async def do_delete(client: Client, service: str) -> Any:
    return await client.pools.delete(service, 1, "origin").execute()


IDEMPOTENT: dict[str, Call] = {"GET": do_get, "PUT": do_put, "DELETE": do_delete}
RETRIED_FAULTS = {
    "408": Fault.status(408),
    "429": Fault.status(429),
    "500": Fault.status(500),
    "502-html": Fault.non_json(),
    "503": Fault.status(503),
    "dropped": Fault.drop_before(),
    "truncated": Fault.truncated_body(),
}


@pytest.mark.parametrize("method", sorted(IDEMPOTENT))
@pytest.mark.parametrize("fault", sorted(RETRIED_FAULTS))
async def test_idempotent_calls_are_retried(
    fake: FakeFastly, client: Client, service: str, method: str, fault: str
) -> None:
    fake.seed_pool(service, 1, "origin")
    fake.inject(RETRIED_FAULTS[fault], method=method)
    await IDEMPOTENT[method](client, service)
    assert methods(fake) == [method, method]


async def test_default_is_two_retries(fake: FakeFastly, service: str) -> None:
    fake.inject(Fault.status(503), times=5)
    async with Client(fake.token, base_url=fake.base_url, retry=NO_WAIT) as client:
        with pytest.raises(ServerError):
            await client.pools.list(service, 1).execute()
    assert methods(fake) == ["GET"] * 3


async def test_max_retries_per_call(fake: FakeFastly, client: Client, service: str) -> None:
    fake.inject(Fault.status(503), times=5)
    with pytest.raises(ServerError):
        await client.pools.list(service, 1).with_options(max_retries=0).execute()
    assert methods(fake) == ["GET"]


@pytest.mark.parametrize(
    "fault", [Fault.status(500), Fault.status(503), Fault.status(408), Fault.non_json()]
)
async def test_a_create_is_not_retried_after_an_error_answer(
    fake: FakeFastly, client: Client, service: str, fault: Fault
) -> None:
    fake.inject(fault, method="POST")
    with pytest.raises(APIStatusError):
        await client.pools.create(service, 1).name("origin").execute()
    assert methods(fake) == ["POST"]


async def test_a_create_is_retried_after_429(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(429), method="POST")
    pool = await client.pools.create(service, 1).name("origin").execute()
    assert pool.name == "origin"
    assert methods(fake) == ["POST", "POST"]
    assert [p["name"] for p in fake.pools(service, 1)] == ["origin"]


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


async def test_a_create_is_retried_when_it_provably_was_not_sent() -> None:
    starts = []

    async def on_start(*_: object) -> None:
        starts.append(1)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    url = f"http://127.0.0.1:{closed_port()}"
    async with Client("t", base_url=url, retry=NO_WAIT, trace_configs=[trace]) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pools.create("svc", 1).name("origin").execute()
    assert info.value.kind is ConnectionErrorKind.REFUSED
    assert info.value.sent is False
    assert not isinstance(info.value, OutcomeUnknownError)
    assert len(starts) == 3


@pytest.mark.parametrize("fault", [Fault.drop_after(), Fault.truncated_body()])
async def test_a_create_whose_answer_is_lost_is_not_duplicated(
    fake: FakeFastly, client: Client, service: str, fault: Fault
) -> None:
    fake.inject(fault, method="POST")
    with pytest.raises(OutcomeUnknownError) as info:
        await client.pools.create(service, 1).name("origin").execute()
    assert "may exist" in str(info.value)
    assert info.value.sent is True
    assert info.value.existing is None
    assert methods(fake) == ["POST"]
    assert [p["name"] for p in fake.pools(service, 1)] == ["origin"]  # stored exactly once


async def test_a_create_that_timed_out_is_not_duplicated(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.delay(1.0), method="POST")
    with pytest.raises(OutcomeUnknownError) as info:
        await client.pools.create(service, 1).name("origin").with_options(timeout=0.2).execute()
    assert info.value.kind is ConnectionErrorKind.TIMEOUT
    assert "may exist" in str(info.value)
    assert fake.in_flight + len(fake.requests) == 1  # begun or finished: one POST in all


async def test_reconcile_create_returns_the_stored_pool(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.drop_after(), method="POST")
    builder = client.pools.create(service, 1).name("origin").quorum(40).comment("x")
    pool = await builder.with_options(reconcile_create=True).execute()
    assert (pool.name, pool.quorum, pool.comment) == ("origin", 40, "x")
    assert methods(fake) == ["POST", "GET"]
    assert len(fake.pools(service, 1)) == 1


async def test_reconcile_create_can_be_set_on_the_client(fake: FakeFastly, service: str) -> None:
    fake.inject(Fault.drop_after(), method="POST")
    async with Client(
        fake.token, base_url=fake.base_url, retry=NO_WAIT, reconcile_create=True
    ) as client:
        pool = await client.pools.create(service, 1).name("origin").execute()
    assert pool.name == "origin"


async def test_reconcile_create_reports_a_different_stored_pool(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.seed_pool(service, 1, "origin", quorum=10)  # someone else's pool of that name
    fake.inject(Fault.drop_after(), method="POST")
    builder = client.pools.create(service, 1).name("origin").quorum(90)
    with pytest.raises(OutcomeUnknownError) as info:
        await builder.with_options(reconcile_create=True).execute()
    existing = info.value.existing
    assert existing is not None
    assert existing.quorum == 10
    assert "quorum" in str(info.value)


async def test_reconcile_create_sends_once_more_when_nothing_landed(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.drop_before(), method="POST")  # dropped unprocessed: state unchanged
    builder = client.pools.create(service, 1).name("origin")
    pool = await builder.with_options(reconcile_create=True).execute()
    assert pool.name == "origin"
    assert methods(fake) == ["POST", "GET", "POST"]
    assert len(fake.pools(service, 1)) == 1


async def test_a_delete_retried_after_a_lost_answer_reports_already_absent(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.seed_pool(service, 1, "origin")
    fake.inject(Fault.drop_after(), method="DELETE")
    result = await client.pools.delete(service, 1, "origin").execute()
    assert result == DeleteResult(name="origin", already_absent=True)
    assert methods(fake) == ["DELETE", "DELETE"]
    assert fake.pools(service, 1) == []


async def test_a_plain_404_on_delete_is_still_an_error(client: Client, service: str) -> None:
    with pytest.raises(NotFoundError):
        await client.pools.delete(service, 1, "missing").execute()


async def test_a_rename_retried_after_a_lost_answer_finds_the_new_name(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.seed_pool(service, 1, "old")
    fake.inject(Fault.drop_after(), method="PUT")
    pool = await client.pools.update(service, 1, "old").name("new").quorum(5).execute()
    assert (pool.name, pool.quorum) == ("new", 5)
    assert methods(fake) == ["PUT", "PUT", "GET"]


async def test_409_is_never_retried(fake: FakeFastly, client: Client, service: str) -> None:
    fake.seed_pool(service, 1, "origin")
    with pytest.raises(ConflictError):
        await client.pools.create(service, 1).name("origin").execute()
    fake.inject(Fault.status(409), method="PUT", times=3)
    with pytest.raises(ConflictError):
        await client.pools.update(service, 1, "origin").quorum(5).execute()
    assert methods(fake) == ["POST", "PUT"]


async def test_a_429_retried_to_exhaustion_raises_rate_limit_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(429), times=5)
    with pytest.raises(RateLimitError):
        await client.pools.list(service, 1).execute()
    assert methods(fake) == ["GET"] * 3


async def test_a_delete_on_a_reused_connection_is_resent_by_us_only(
    fake: FakeFastly, client: Client, service: str
) -> None:
    # aiohttp silently resends an idempotent request once when a kept-alive connection
    # drops; the resend's 404 would then read as "never existed". Only our loop retries.
    fake.seed_pool(service, 1, "origin")
    await client.pools.get(service, 1, "origin").execute()  # leaves a kept-alive connection
    fake.inject(Fault.drop_after(), method="DELETE")
    result = await client.pools.delete(service, 1, "origin").execute()
    assert result.already_absent is True
    assert methods(fake) == ["GET", "DELETE", "DELETE"]
