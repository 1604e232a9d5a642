"""The request log, concurrency high-water mark and overlapping-write detection."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from fastly_pools.testing import FakeFastly, ReceivedRequest


async def test_requests_are_logged_as_received(api, fake: FakeFastly, sid: str) -> None:
    await api.call("POST", "service", sid, "version", 1, "pool", form="name=a%2Fb&x=1&x=2")
    await api.call("GET", "service", sid, "version", 1, "pool", "a/b")
    post, get = fake.requests
    assert isinstance(post, ReceivedRequest)
    assert (post.method, post.path) == ("POST", f"/service/{sid}/version/1/pool")
    assert post.form == {"name": ["a/b"], "x": ["1", "2"]}
    assert post.service_id == sid
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not {k.lower() for k in post.headers} & {"fastly-key"}
    assert get.raw_path == f"/service/{sid}/version/1/pool/a%2Fb"
    assert get.path == f"/service/{sid}/version/1/pool/a/b"
    assert get.form == {}
    assert post.started_at <= post.finished_at <= get.started_at <= get.finished_at


async def test_requests_outside_a_service_and_clearing(api, fake: FakeFastly) -> None:
    await api.call("GET", "healthz")
    assert [(r.path, r.service_id) for r in fake.requests] == [("/healthz", None)]
    fake.clear_requests()
    assert fake.requests == []
    assert fake.max_concurrent == 0


async def test_concurrent_writes_to_one_service_overlap(api, fake: FakeFastly, sid: str) -> None:
    fake.latency = 0.1
    first, second = await asyncio.gather(api.create(sid, 1, name="a"), api.create(sid, 1, name="b"))
    assert (first.status, second.status) == (200, 200)
    assert fake.max_concurrent == 2
    [overlap] = fake.overlapping_writes
    assert overlap.service_id == sid
    assert overlap.first.started_at <= overlap.second.started_at < overlap.first.finished_at
    assert {overlap.first.form["name"][0], overlap.second.form["name"][0]} == {"a", "b"}


async def test_writes_to_different_services_do_not_overlap(api, fake: FakeFastly) -> None:
    fake.latency = 0.1
    one, two = fake.add_service(), fake.add_service()
    await asyncio.gather(api.create(one, 1, name="a"), api.create(two, 1, name="a"))
    assert fake.max_concurrent == 2
    assert fake.overlapping_writes == []


async def test_sequential_writes_and_concurrent_reads_do_not_overlap(
    api, fake: FakeFastly, sid: str
) -> None:
    fake.latency = 0.05
    await api.create(sid, 1, name="a")
    await api.create(sid, 1, name="b")
    await asyncio.gather(
        api.call("GET", "service", sid, "version", 1, "pool"),
        api.call("PUT", "service", sid, "version", 1, "pool", "a", form={"quorum": 5}),
        api.call("GET", "service", sid, "version", 1, "pool", "b"),
    )
    assert fake.max_concurrent == 3
    assert fake.overlapping_writes == []


async def test_three_overlapping_writes_make_three_pairs(api, fake: FakeFastly, sid: str) -> None:
    fake.latency = 0.1
    await asyncio.gather(*(api.create(sid, 1, name=n) for n in "abc"))
    pairs = {(o.first.form["name"][0], o.second.form["name"][0]) for o in fake.overlapping_writes}
    assert len(pairs) == 3
    assert all(first != second for first, second in pairs)


def test_latency_must_not_be_negative(fake: FakeFastly) -> None:
    with pytest.raises(ValueError, match="latency"):
        fake.latency = -1


async def test_the_request_log_repr_hides_a_private_key(fake: FakeFastly) -> None:
    service = fake.add_service()
    pem = "-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----"
    async with aiohttp.ClientSession() as session, session.post(
        f"{fake.base_url}/service/{service}/version/1/pool",
        data={"name": "k", "tls_client_key": pem},
        headers={"Fastly-Key": fake.token},
    ) as response:
        assert response.status == 200

    (received,) = fake.requests
    assert received.form["tls_client_key"] == [pem]  # the value itself is kept for tests
    assert "MIIsecret" not in repr(received)
    assert "MIIsecret" not in repr(fake.requests)
    assert "<redacted>" in repr(received)
