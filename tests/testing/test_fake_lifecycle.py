"""Starting and closing the fake, its addresses and tokens, seeding helpers, `serve_forever`."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from fastly_pools.testing import FakeFastly, serve_forever


async def test_start_and_close_are_idempotent() -> None:
    fake = FakeFastly(token="secret")
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    await fake.start()
    await fake.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.base_url)
    assert fake.base_url.endswith(f":{fake.port}")
    assert fake.token == "secret"
    assert fake.read_only_token not in ("", "secret")
    assert "secret" not in repr(fake)
    await fake.close()
    await fake.close()
    with pytest.raises(RuntimeError, match="closed"):
        await fake.start()


async def test_closed_fake_refuses_connections(session: aiohttp.ClientSession) -> None:
    async with FakeFastly() as fake:
        url = fake.base_url
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.get(url)


async def test_random_tokens_differ() -> None:
    one, two = FakeFastly(), FakeFastly()
    assert len({one.token, two.token, one.read_only_token, two.read_only_token}) == 4
    with pytest.raises(ValueError, match="token"):
        FakeFastly(token="")


async def test_serve_forever_reports_ready_and_stops_on_cancel(
    session: aiohttp.ClientSession,
) -> None:
    ready: asyncio.Future[FakeFastly] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_forever(token="t", on_ready=ready.set_result))
    fake = await asyncio.wait_for(ready, 2)
    sid = fake.add_service()
    url = f"{fake.base_url}/service/{sid}/version/1/pool"
    async with session.get(url, headers={"Fastly-Key": "t"}) as response:
        assert response.status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.get(url)


def test_services_and_versions(fake: FakeFastly) -> None:
    sid = fake.add_service("svc", versions=3)
    assert sid == "svc"
    assert re.fullmatch(r"[A-Za-z0-9]{22}", fake.add_service())
    assert fake.add_version("svc") == 4
    assert fake.add_version("svc", locked=True) == 5
    with pytest.raises(ValueError, match="exists"):
        fake.add_service("svc")
    with pytest.raises(KeyError):
        fake.add_version("nope")
    with pytest.raises(KeyError):
        fake.lock_version("svc", 9)
    with pytest.raises(KeyError):
        fake.pools("svc", 9)


def test_seed_pool_takes_python_values(fake: FakeFastly) -> None:
    sid = fake.add_service()
    pool = fake.seed_pool(sid, 1, "p", quorum=50, use_tls=True, tls_check_cert=False, shield=None)
    assert (pool["quorum"], pool["use_tls"], pool["tls_check_cert"]) == ("50", "1", "0")
    assert (pool["shield"], pool["version"], pool["service_id"]) == (None, "1", sid)
    seeded = fake.seed_pool(
        sid, 1, "q", id="cXnqibjoY1ORjKtbrWhSS5", created_at="2022-11-07T13:45:41Z"
    )
    assert (seeded["id"], seeded["created_at"]) == (
        "cXnqibjoY1ORjKtbrWhSS5",
        "2022-11-07T13:45:41Z",
    )
    assert fake.pools(sid, 1) == [pool, seeded]
    fake.pools(sid, 1)[0]["name"] = "changed"
    assert fake.pools(sid, 1)[0]["name"] == "p"


def test_seed_pool_validates(fake: FakeFastly) -> None:
    sid = fake.add_service()
    fake.seed_pool(sid, 1, "p")
    with pytest.raises(ValueError, match="Duplicate"):
        fake.seed_pool(sid, 1, "p")
    with pytest.raises(ValueError, match="Quorum"):
        fake.seed_pool(sid, 1, "q", quorum=101)
    with pytest.raises(TypeError, match="colour"):
        fake.seed_pool(sid, 1, "q", colour="red")
    with pytest.raises(TypeError, match="version"):
        fake.seed_pool(sid, 1, "q", version="2")
    with pytest.raises(TypeError, match="float"):
        fake.seed_pool(sid, 1, "q", quorum=1.5)


def test_seed_pool_works_on_locked_versions(fake: FakeFastly) -> None:
    sid = fake.add_service()
    fake.lock_version(sid, 1)
    assert fake.seed_pool(sid, 1, "p")["name"] == "p"
