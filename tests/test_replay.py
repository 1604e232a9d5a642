"""Replay of the recorded exchanges with api.fastly.com (go-fastly cassettes).

For each interaction, a local aiohttp server answers with the recorded status, headers and
body, and the SDK runs the equivalent builder call. The test checks that the SDK sent the
recorded method, path and pool form fields, and decoded the recorded body to the right
Python values. The cassettes are read from the shared folder beside the repository.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import yaml
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from fastly_pools import (
    WRITABLE_FIELDS,
    APIResponse,
    Client,
    DeleteResult,
    NotFoundError,
    Pool,
    PoolType,
    RateLimit,
)
from tests.conftest import FIXTURES, fixtures_dir

# Listed at collection time so every cassette is its own test; absent folder: one skipped test.
CASSETTES = sorted(p.name for p in (FIXTURES / "pools").glob("*.yaml")) or ["<none found>"]
INT_FIELDS = frozenset({"quorum", "connect_timeout", "first_byte_timeout",
                        "between_bytes_timeout", "max_conn_default"})  # fmt: skip
FLAG_FIELDS = frozenset({"use_tls", "tls_check_cert"})
# Headers that describe the recorded transfer rather than the answer; aiohttp sets its own.
HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})
RESET = datetime(2022, 11, 7, 14, 0, tzinfo=UTC)


@dataclass
class Received:
    method: str
    raw_path: str
    headers: dict[str, str]
    form: list[tuple[str, str]]


@dataclass
class Replayer:
    """Answers each request with the next queued recorded response, and keeps what came in."""

    queue: list[dict[str, Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8")
        self.received.append(
            Received(
                request.method,
                request.raw_path,
                dict(request.headers),
                parse_qsl(body, keep_blank_values=True),
            )
        )
        recorded = self.queue.pop(0)
        headers: CIMultiDict[str] = CIMultiDict()
        for name, values in (recorded.get("headers") or {}).items():
            if name.lower() not in HOP_HEADERS:
                for value in values:
                    headers.add(name, value)
        return web.Response(
            status=recorded["code"], body=recorded["body"].encode("utf-8"), headers=headers
        )


@pytest.fixture
async def replayer() -> AsyncIterator[tuple[Replayer, str]]:
    state = Replayer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def load(name: str) -> list[dict[str, Any]]:
    path: Path = fixtures_dir() / "pools" / name
    if not path.is_file():
        pytest.skip(f"no cassettes found in {path.parent}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    interactions: list[dict[str, Any]] = data["interactions"]
    assert interactions, f"{name} has no interactions"
    return interactions


def python_value(field_name: str, text: str) -> object:
    """A recorded form value as the Python value a user would give the setter."""
    if field_name in INT_FIELDS:
        return int(text)
    if field_name in FLAG_FIELDS:
        return {"1": True, "0": False}[text]
    return text


def pool_form(form: dict[str, list[str]]) -> Counter[tuple[str, str]]:
    """The recorded form's pool fields as a multiset; junk keys (ServiceID, ...) left out."""
    return Counter((k, v) for k, values in form.items() if k in WRITABLE_FIELDS for v in values)


def builder_for(client: Client, method: str, path: str, form: dict[str, list[str]]) -> Any:
    """The builder call equivalent to a recorded request, or None for a non-pool endpoint."""
    segments = [URL.build(path=s, encoded=True).path for s in path.strip("/").split("/")]
    match segments:
        case ["service", sid, "version", version, "pool"]:
            if method == "GET":
                return client.pools.list(sid, int(version))
            assert method == "POST", method
            builder = client.pools.create(sid, int(version))
            for key, value in pool_form(form):
                builder = builder.set(key, python_value(key, value))
            return builder
        case ["service", sid, "version", version, "pool", name]:
            if method == "GET":
                return client.pools.get(sid, int(version), name)
            if method == "DELETE":
                return client.pools.delete(sid, int(version), name)
            assert method == "PUT", method
            update = client.pools.update(sid, int(version), name)
            for key, value in pool_form(form):
                update = update.set(key, python_value(key, value))
            return update
    return None


def expected_pool(body: dict[str, Any]) -> Pool:
    """What a recorded pool object must decode to, worked out independently of `_serde`."""

    def conv(key: str, value: Any) -> Any:
        if value is None:
            return None
        if key in INT_FIELDS or key == "version":
            return int(value)
        if key in FLAG_FIELDS:
            return {"1": True, "0": False}[value]
        if key.endswith("_at"):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if key == "type":
            return PoolType(value)
        return value

    values = {key: conv(key, value) for key, value in body.items()}
    assert values.pop("tls_client_key") is None  # no recording sets it
    return Pool(**values)


@pytest.mark.parametrize("cassette", CASSETTES)
async def test_replay(cassette: str, replayer: tuple[Replayer, str]) -> None:
    interactions = load(cassette)
    server, base_url = replayer
    replayed = 0
    skipped: list[str] = []
    async with Client("replay-token", base_url=base_url, max_retries=0) as client:
        for number, interaction in enumerate(interactions):
            request, response = interaction["request"], interaction["response"]
            url = URL(request["url"])
            method = request["method"]
            form = request.get("form") or {}
            builder = builder_for(client, method, url.raw_path, form)
            if builder is None:
                skipped.append(f"{method} {url.path} is not a pool endpoint")
                continue
            server.queue.append(response)
            sent_before = len(server.received)
            where = f"{cassette}[{number}] {method} {url.path}"

            if response["code"] >= 400:
                with pytest.raises(NotFoundError) as info:
                    await builder.execute_raw()
                check_error(info.value, response)
            else:
                result = await builder.execute_raw()
                check_result(result, response, method, url.raw_path, client)

            assert len(server.received) == sent_before + 1, where
            received = server.received[-1]
            assert received.method == method, where
            assert received.raw_path == url.raw_path, where
            assert Counter(received.form) == pool_form(form), where
            # Junk keys recorded from an old client (ServiceID, ServiceVersion) are not sent.
            assert {k for k, _ in received.form} <= set(WRITABLE_FIELDS), where
            if method in ("POST", "PUT"):
                assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
            assert received.headers["Fastly-Key"] == "replay-token"
            replayed += 1
    assert server.queue == []
    if not replayed:
        assert skipped
        pytest.skip(f"{cassette}: no pool operation to replay ({'; '.join(skipped)})")


def check_result(
    result: APIResponse[Any], response: dict[str, Any], method: str, path: str, client: Client
) -> None:
    assert result.status == response["code"]
    body = json.loads(response["body"])
    if method == "DELETE":
        name = URL.build(path=path.rsplit("/", 1)[1], encoded=True).path
        assert result.data == DeleteResult(name=name, status="ok")
    elif isinstance(body, list):
        assert result.data == [expected_pool(item) for item in body]
    else:
        assert result.data == expected_pool(body)
    remaining = response["headers"].get("Fastly-Ratelimit-Remaining")
    if remaining is not None:
        assert client.rate_limit.remaining == int(remaining[0])
    # Spot checks of the values the official clients got wrong.
    pools = result.data if isinstance(result.data, list) else [result.data]
    for pool in pools:
        if isinstance(pool, Pool):
            assert type(pool.quorum) is int
            assert type(pool.version) is int
            assert type(pool.use_tls) is bool
            assert type(pool.tls_check_cert) is bool
            assert pool.created_at is not None
            assert pool.created_at.tzinfo is not None
            assert pool.deleted_at is None
            assert pool.tls_ca_cert is None


def check_error(error: NotFoundError, response: dict[str, Any]) -> None:
    body = json.loads(response["body"])
    assert error.status == response["code"] == 404
    assert error.msg == body["msg"] == "Record not found"
    assert error.detail == body["detail"]
    assert error.detail is not None
    assert "name =>" in error.detail
    remaining = int(response["headers"]["Fastly-Ratelimit-Remaining"][0])
    assert error.rate_limit == RateLimit(remaining=remaining, reset=RESET)
    assert error.headers["X-Served-By"] == response["headers"]["X-Served-By"][0]


# Pinned values for the recordings, so a lenient decoder cannot quietly drift.
PINNED: dict[str, dict[str, Any]] = {
    "create.yaml": {"quorum": 50, "use_tls": True, "version": 91, "type": PoolType.RANDOM,
                    "tls_cert_hostname": "example.com", "comment": "test pool"},
    "get.yaml": {"quorum": 50, "use_tls": True, "version": 91, "tls_check_cert": True},
    "list.yaml": {"quorum": 50, "use_tls": True, "version": 91},
    "update.yaml": {"quorum": 0, "type": PoolType.HASH, "name": "new_test_pool", "version": 91},
    "create_pool_defaults.yaml": {"quorum": 75, "use_tls": False, "version": 71, "comment": "",
                                  "tls_cert_hostname": None, "connect_timeout": 1000,
                                  "first_byte_timeout": 15000, "between_bytes_timeout": 10000,
                                  "max_conn_default": 200},
}  # fmt: skip


@pytest.mark.parametrize("cassette", sorted(PINNED))
async def test_pinned_values(cassette: str, replayer: tuple[Replayer, str]) -> None:
    response = load(cassette)[0]["response"]
    server, base_url = replayer
    server.queue.append(response)
    request = load(cassette)[0]["request"]
    async with Client("replay-token", base_url=base_url, max_retries=0) as client:
        builder = builder_for(client, request["method"], URL(request["url"]).raw_path,
                              request.get("form") or {})  # fmt: skip
        data = await builder.execute()
    pool = data[0] if isinstance(data, list) else data
    for key, value in PINNED[cassette].items():
        assert getattr(pool, key) == value, key
    assert pool.created_at == pool.updated_at
    assert pool.created_at.tzinfo is not None
    assert pool.created_at.utcoffset().total_seconds() == 0


async def test_cleanup_404s_report_the_budget(replayer: tuple[Replayer, str]) -> None:
    interactions = load("cleanup.yaml")
    server, base_url = replayer
    seen: list[int | None] = []
    async with Client("replay-token", base_url=base_url, max_retries=0) as client:
        for interaction in interactions:
            server.queue.append(interaction["response"])
            name = URL(interaction["request"]["url"]).name
            with pytest.raises(NotFoundError) as info:
                await client.pools.delete("kKJb5bOFI47uHeBVluGfX1", 91, name).execute()
            seen.append(info.value.rate_limit.remaining)
            assert client.rate_limit.remaining == info.value.rate_limit.remaining
    assert seen == [9961, 9960]
