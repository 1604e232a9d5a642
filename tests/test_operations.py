"""Every operation and every writable field, end to end through `Client` and `FakeFastly`."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from support import NO_WAIT

import fastly_pools
from fastly_pools import (
    APIStatusError,
    AuthenticationError,
    Client,
    ConflictError,
    DeleteResult,
    NotFoundError,
    PermissionDeniedError,
    Pool,
    PoolType,
    RateLimit,
    Secret,
    UnprocessableEntityError,
)
from fastly_pools.testing import FakeFastly

PEM = "-----BEGIN PRIVATE KEY-----\nKEYMATERIAL\n-----END PRIVATE KEY-----"

# Every writable field set away from its default: (value given, value read back, form text).
EVERY_FIELD: dict[str, tuple[object, object, str]] = {
    "name": ("origin", "origin", "origin"),
    "comment": ("primary origins", "primary origins", "primary origins"),
    "type": (PoolType.HASH, PoolType.HASH, "hash"),
    "quorum": (60, 60, "60"),
    "use_tls": (True, True, "1"),
    "tls_check_cert": (False, False, "0"),
    "tls_ca_cert": ("CA PEM", "CA PEM", "CA PEM"),
    "tls_client_cert": ("CERT PEM", "CERT PEM", "CERT PEM"),
    "tls_client_key": (PEM, Secret(PEM), PEM),
    "tls_cert_hostname": ("cert.example", "cert.example", "cert.example"),
    "tls_sni_hostname": ("sni.example", "sni.example", "sni.example"),
    "tls_ciphers": ("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                    "ECDHE-RSA-AES256-GCM-SHA384"),
    "min_tls_version": ("1.2", "1.2", "1.2"),
    "max_tls_version": ("1.3", "1.3", "1.3"),
    "healthcheck": ("hc_main", "hc_main", "hc_main"),
    "shield": ("iad-va-us", "iad-va-us", "iad-va-us"),
    "request_condition": ("is_api", "is_api", "is_api"),
    "override_host": ("origin.example", "origin.example", "origin.example"),
    "connect_timeout": (1500, 1500, "1500"),
    "first_byte_timeout": (20000, 20000, "20000"),
    "between_bytes_timeout": (12000, 12000, "12000"),
    "max_conn_default": (300, 300, "300"),
}  # fmt: skip


def test_every_writable_field_is_covered() -> None:
    assert set(EVERY_FIELD) == set(fastly_pools.WRITABLE_FIELDS)


async def test_create_with_every_field_then_get(
    fake: FakeFastly, client: Client, service: str
) -> None:
    builder = client.pools.create(service, 1)
    for field, (value, _, _) in EVERY_FIELD.items():
        builder = getattr(builder, field)(value)
    created = await builder.execute()
    fetched = await client.pools.get(service, 1, "origin").execute()
    for field, (_, expected, _) in EVERY_FIELD.items():
        assert getattr(created, field) == expected, field
        assert getattr(fetched, field) == expected, field
    assert (fetched.service_id, fetched.version) == (service, 1)
    assert fetched.id is not None
    assert fetched.id == created.id
    assert isinstance(fetched.created_at, datetime)
    assert fetched.created_at.tzinfo is not None
    assert fetched.deleted_at is None
    sent = fake.requests[0]
    assert sent.method == "POST"
    assert sent.path == f"/service/{service}/version/1/pool"
    assert sent.form == {field: [text] for field, (_, _, text) in EVERY_FIELD.items()}


async def test_create_with_defaults(client: Client, service: str) -> None:
    pool = await client.pools.create(service, 1).name("plain").execute()
    assert pool.quorum == 75  # sent by the API as the integer 75 on create
    assert (pool.type, pool.use_tls, pool.tls_check_cert, pool.comment) == (
        PoolType.RANDOM, False, True, ""
    )  # fmt: skip
    assert (pool.connect_timeout, pool.first_byte_timeout) == (1000, 15000)
    assert (pool.between_bytes_timeout, pool.max_conn_default) == (10000, 200)
    assert pool.shield is None
    assert pool.override_host is None
    again = await client.pools.get(service, 1, "plain").execute()
    assert again.quorum == 75


async def test_falsy_values_are_sent_and_stored(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.seed_pool(service, 1, "origin", comment="old", quorum=50, use_tls=True)
    pool = await (
        client.pools.update(service, 1, "origin")
        .quorum(0).use_tls(False).comment("").connect_timeout(0)
        .execute()
    )  # fmt: skip
    assert (pool.quorum, pool.use_tls, pool.comment, pool.connect_timeout) == (0, False, "", 0)
    assert fake.requests[-1].form == {
        "quorum": ["0"], "use_tls": ["0"], "comment": [""], "connect_timeout": ["0"],
    }  # fmt: skip


async def test_partial_update_keeps_unset_fields(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.seed_pool(service, 1, "origin", comment="keep me", quorum=40, use_tls=True,
                   tls_cert_hostname="h.example", shield="iad-va-us")  # fmt: skip
    before = await client.pools.get(service, 1, "origin").execute()
    after = await client.pools.update(service, 1, "origin").quorum(90).execute()
    assert after.quorum == 90
    assert fake.requests[-1].form == {"quorum": ["90"]}
    stored = await client.pools.get(service, 1, "origin").execute()
    for field in ("comment", "use_tls", "tls_cert_hostname", "shield", "type", "id"):
        assert getattr(stored, field) == getattr(before, field), field
    assert stored.quorum == 90


async def test_rename(fake: FakeFastly, client: Client, service: str) -> None:
    fake.seed_pool(service, 1, "old_name", comment="c")
    renamed = await client.pools.update(service, 1, "old_name").name("new_name").execute()
    assert renamed.name == "new_name"
    assert renamed.comment == "c"
    with pytest.raises(NotFoundError):
        await client.pools.get(service, 1, "old_name").execute()
    assert (await client.pools.get(service, 1, "new_name").execute()).comment == "c"


async def test_delete_then_404(fake: FakeFastly, client: Client, service: str) -> None:
    fake.seed_pool(service, 1, "doomed")
    result = await client.pools.delete(service, 1, "doomed").execute()
    assert result == DeleteResult(name="doomed", status="ok", already_absent=False)
    assert fake.pools(service, 1) == []
    with pytest.raises(NotFoundError):
        await client.pools.get(service, 1, "doomed").execute()
    with pytest.raises(NotFoundError):
        await client.pools.delete(service, 1, "doomed").execute()


async def test_list(fake: FakeFastly, client: Client, service: str) -> None:
    assert await client.pools.list(service, 1).execute() == []
    for i, name in enumerate(["a", "b", "c"]):
        fake.seed_pool(service, 1, name, quorum=i * 10)
    fake.seed_pool(service, 2, "other_version")
    pools = await client.pools.list(service, 1).execute()
    assert all(isinstance(p, Pool) for p in pools)
    assert sorted((p.name, p.quorum, p.version) for p in pools) == [
        ("a", 0, 1), ("b", 10, 1), ("c", 20, 1),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "encoded"), [("a/b", "a%2Fb"), ("my pool", "my%20pool"), ("50%+x?", "50%25%2Bx%3F")]
)
async def test_awkward_names_are_one_segment_and_round_trip(
    fake: FakeFastly, client: Client, service: str, name: str, encoded: str
) -> None:
    created = await client.pools.create(service, 1).name(name).execute()
    fetched = await client.pools.get(service, 1, name).execute()
    updated = await client.pools.update(service, 1, name).quorum(5).execute()
    deleted = await client.pools.delete(service, 1, name).execute()
    assert created.name == fetched.name == updated.name == name
    assert deleted.name == name
    create, get, update, delete = fake.requests
    assert create.form["name"] == [name]
    for received in (get, update, delete):
        assert received.raw_path == f"/service/{service}/version/1/pool/{encoded}"
        assert received.path == f"/service/{service}/version/1/pool/{name}"


async def test_the_wire_format(fake: FakeFastly, client: Client, service: str) -> None:
    await client.pools.create(service, 1).name("origin").quorum(10).execute()
    await client.pools.get(service, 1, "origin").execute()
    write, read = fake.requests
    for received in (write, read):
        headers = {k.lower(): v for k, v in received.headers.items()}
        assert headers["accept"] == "application/json"
        assert f"fastly_pools/{fastly_pools.__version__}" in headers["user-agent"]
        assert "fastly-key" not in headers  # the fake keeps it out of its log
    assert {k.lower(): v for k, v in write.headers.items()}["content-type"] == (
        "application/x-www-form-urlencoded"
    )
    assert write.form == {"name": ["origin"], "quorum": ["10"]}
    assert read.form == {}


async def test_user_agent_prefix(fake: FakeFastly, service: str) -> None:
    async with Client(fake.token, base_url=fake.base_url, user_agent="my-app/2.0") as client:
        await client.pools.list(service, 1).execute()
    agent = fake.requests[0].headers["User-Agent"]
    assert agent.startswith("my-app/2.0 fastly_pools/")


async def test_token_goes_in_fastly_key(fake: FakeFastly, service: str) -> None:
    # The fake authenticates only by the Fastly-Key header: success proves it was sent there.
    async with Client(fake.token, base_url=fake.base_url) as client:
        assert await client.pools.list(service, 1).execute() == []
        assert fake.token not in repr(client)
        assert fake.token not in repr(client.pools.list(service, 1))


async def test_wrong_token_is_an_authentication_error(fake: FakeFastly, service: str) -> None:
    async with Client("not-the-token", base_url=fake.base_url, retry=NO_WAIT) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.pools.list(service, 1).execute()
    assert info.value.status == 401
    assert info.value.msg == "Provided credentials are missing or invalid"
    assert "not-the-token" not in str(info.value)
    assert len(fake.requests) == 1  # 401 is not retried


async def test_read_only_token_cannot_write(fake: FakeFastly, service: str) -> None:
    async with Client(fake.read_only_token, base_url=fake.base_url, retry=NO_WAIT) as client:
        assert await client.pools.list(service, 1).execute() == []
        with pytest.raises(PermissionDeniedError):
            await client.pools.create(service, 1).name("x").execute()


async def test_writes_to_a_locked_version_are_422(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.seed_pool(service, 1, "origin")
    fake.lock_version(service, 1)
    writes: list[Any] = [
        client.pools.create(service, 1).name("new"),
        client.pools.update(service, 1, "origin").quorum(1),
        client.pools.delete(service, 1, "origin"),
    ]
    for builder in writes:
        with pytest.raises(UnprocessableEntityError) as info:
            await builder.execute()
        assert info.value.msg == "Version locked"
        assert info.value.hint is not None
    # Reads still work on a locked version.
    assert [p.name for p in await client.pools.list(service, 1).execute()] == ["origin"]


async def test_duplicate_create_is_a_conflict(
    fake: FakeFastly, client: Client, service: str
) -> None:
    await client.pools.create(service, 1).name("origin").execute()
    with pytest.raises(ConflictError) as info:
        await client.pools.create(service, 1).name("origin").execute()
    assert info.value.status == 409
    assert [r.method for r in fake.requests] == ["POST", "POST"]  # never retried


async def test_execute_raw(fake: FakeFastly, client: Client, service: str) -> None:
    fake.seed_pool(service, 1, "origin", quorum=33)
    raw = await client.pools.get(service, 1, "origin").execute_raw()
    assert raw.status == 200
    assert raw.headers["Content-Type"].startswith("application/json")
    assert isinstance(raw.data, Pool)
    assert raw.data.quorum == 33
    assert raw.attempts == 1
    listed = await client.pools.list(service, 1).execute_raw()
    assert [p.name for p in listed.data] == ["origin"]
    deleted = await client.pools.delete(service, 1, "origin").execute_raw()
    assert deleted.status == 200
    assert deleted.data.status == "ok"
    assert deleted.headers["Fastly-RateLimit-Remaining"].isdigit()


async def test_rate_limit_follows_writes_not_gets(
    fake: FakeFastly, client: Client, service: str
) -> None:
    assert client.rate_limit == RateLimit()  # nothing reported yet
    fake.set_write_budget(100, remaining=50)
    await client.pools.create(service, 1).name("origin").execute()
    assert client.rate_limit.remaining == 49
    reset = client.rate_limit.reset
    assert reset is not None
    assert reset.tzinfo is not None
    assert reset.timestamp() == fake.write_budget.reset_at
    await client.pools.get(service, 1, "origin").execute()
    await client.pools.list(service, 1).execute()
    assert client.rate_limit.remaining == 49  # GET answers carry no budget and change nothing
    await client.pools.update(service, 1, "origin").quorum(1).execute()
    assert client.rate_limit.remaining == 48
    with pytest.raises(NotFoundError):
        await client.pools.delete(service, 1, "absent").execute()
    assert client.rate_limit.remaining == 47  # failed writes are charged too


# -- client construction and lifecycle --------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_client_can_be_built_outside_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    port = free_port()
    client = Client("outside-token", base_url=f"http://127.0.0.1:{port}", retry=NO_WAIT)

    async def use() -> list[Pool]:
        async with FakeFastly(port=port, token="outside-token") as fake:
            service = fake.add_service()
            fake.seed_pool(service, 1, "origin")
            try:
                return await client.pools.list(service, 1).execute()
            finally:
                await client.close()

    pools = asyncio.run(use())
    assert [p.name for p in pools] == ["origin"]
    assert client.closed


async def test_token_from_the_environment(
    fake: FakeFastly, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASTLY_API_TOKEN", fake.token)
    async with Client(base_url=fake.base_url) as client:
        assert await client.pools.list(service, 1).execute() == []


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_token_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("FASTLY_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FASTLY_API_TOKEN", value)
    with pytest.raises(ValueError, match=r"FASTLY_API_TOKEN"):
        Client()


def test_explicit_token_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASTLY_API_TOKEN", raising=False)
    Client("explicit")  # no error: the variable is only a fallback


@pytest.mark.parametrize("base_url", ["http://api.fastly.com", "http://192.0.2.10:8080"])
def test_plain_http_to_a_remote_host_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match=r"https"):
        Client("tok", base_url=base_url)


async def test_injected_session_is_used_and_not_closed(fake: FakeFastly, service: str) -> None:
    seen: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        seen.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = Client(fake.token, base_url=fake.base_url, session=session)
        await client.pools.create(service, 1).name("origin").execute()
        await client.pools.list(service, 1).execute()
        await client.close()
        assert client.closed
        assert not session.closed
        assert seen == ["POST", "GET"]
        # Still usable by its owner after the client is closed.
        async with session.get(f"{fake.base_url}/service/{service}/version/1/pool") as resp:
            assert resp.status == 401  # no Fastly-Key on the owner's own request


async def test_owned_session_is_closed(fake: FakeFastly, service: str) -> None:
    client = Client(fake.token, base_url=fake.base_url)
    await client.pools.list(service, 1).execute()
    await client.close()
    await client.close()  # twice is fine
    with pytest.raises(RuntimeError, match=r"closed"):
        await client.pools.list(service, 1).execute()


async def test_redirects_are_not_followed() -> None:
    # The key must never be sent to another host, so a redirect is an error, not a hop.
    followed: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        followed.append(request.headers.get("Fastly-Key", ""))
        return web.json_response([])

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{target_url}/service/svc/version/1/pool")

    target = web.Application()
    target.router.add_route("*", "/{tail:.*}", elsewhere)
    origin = web.Application()
    origin.router.add_route("*", "/{tail:.*}", redirect)
    runners = [web.AppRunner(app, access_log=None) for app in (target, origin)]
    urls = []
    for runner in runners:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    target_url, origin_url = urls
    try:
        async with Client("redirect-token", base_url=origin_url, max_retries=0) as client:
            with pytest.raises(APIStatusError) as info:
                await client.pools.list("svc", 1).execute()
    finally:
        for runner in runners:
            await runner.cleanup()
    assert info.value.status == 302
    assert followed == []
