"""Secrets never show: the token and `tls_client_key` in reprs, logs, errors and test diffs.

Also the other security rules: logs carry metadata only, `base_url` is https unless
loopback, and redirects are never followed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from support import NO_WAIT

from fastly_pools import (
    APIConnectionError,
    APIStatusError,
    Client,
    ClientClosedError,
    FastlyError,
    OutcomeUnknownError,
    Pool,
    Secret,
    Timeout,
)
from fastly_pools.testing import FakeFastly, Fault

REPO = Path(__file__).resolve().parents[1]
KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjTESTONLYc2VjcmV0LWtleS1tYXJrZXI"
PRIVATE_KEY = f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n"


def chain_text(error: BaseException) -> list[str]:
    """Everything an error shows: str, repr and the printed traceback, causes included."""
    texts = ["".join(traceback.format_exception(error))]
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args)]
        if isinstance(seen, FastlyError):
            texts.append(repr(vars(seen)))
        seen = seen.__cause__ or seen.__context__
    return texts


def assert_clean(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:300]}"


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


async def garbage_server() -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_sweep_no_secret_anywhere(
    fake: FakeFastly, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, aiohttp's included
    token = fake.token
    texts: list[str] = []
    errors: list[BaseException] = []

    async def expect_error(call: object) -> None:
        assert asyncio.iscoroutine(call)
        try:
            await call
        except (FastlyError, ClientClosedError) as error:
            errors.append(error)
        else:
            raise AssertionError("expected an error")

    client = Client(token, base_url=fake.base_url, retry=NO_WAIT)
    pools = client.pools
    create = pools.create(service, 1).name("tls").tls_client_key(PRIVATE_KEY).use_tls(True)
    update = pools.update(service, 1, "tls").tls_client_key(Secret(PRIVATE_KEY))
    texts += [repr(client), str(client), repr(pools), repr(create), str(create), repr(update)]
    texts += [repr(create.with_options(timeout=1.0)), repr(create.build_request().path)]

    created = await create.execute()
    fetched = await pools.get(service, 1, "tls").execute()
    assert fetched.tls_client_key == Secret(PRIVATE_KEY)  # the key really went both ways
    listed = await pools.list(service, 1).execute_raw()
    texts += [repr(created), str(fetched), repr(listed), repr(await update.execute())]

    # Errors of each kind.
    await expect_error(pools.get(service, 1, "missing").execute())  # 404
    await expect_error(create.execute())  # 409
    echo = {"msg": "Bad request", "detail": f"bad tls_client_key {PRIVATE_KEY} for {token}"}
    fake.inject(Fault.status(400, body=echo), method="POST")
    await expect_error(create.name("echo").execute())  # an answer echoing both secrets
    fake.inject(Fault.status(503), times=3)
    await expect_error(pools.list(service, 1).execute())  # retried, logged, raised
    fake.inject(Fault.drop_after(), method="POST")
    await expect_error(create.name("lost").execute())  # OutcomeUnknownError
    fake.inject(Fault.drop_after(), method="POST")
    await expect_error(  # reconciled, and the stored pool differs: `.existing` is a Pool
        create.quorum(1).with_options(reconcile_create=True).execute()
    )
    assert isinstance(errors[-1], OutcomeUnknownError)
    assert errors[-1].existing is not None
    bad = {"name": "odd", "quorum": "lots", "tls_client_key": PRIVATE_KEY}
    fake.inject(Fault.status(200, body=bad))
    await expect_error(pools.get(service, 1, "odd").execute())  # ResponseDecodeError
    fake.inject(Fault.status(200, body=bad))
    await expect_error(pools.list(service, 1).execute())  # a whole pool as the bad value
    fake.inject(Fault.hang())
    await expect_error(
        pools.list(service, 1).with_options(timeout=Timeout(total=0.2), max_retries=0).execute()
    )
    fake.set_write_budget(10, remaining=0, reset_at=time.time() + 3600)
    await expect_error(create.name("limited").execute())  # RateLimitError at once
    await client.close()
    await expect_error(pools.list(service, 1).execute())  # ClientClosedError

    refused = Client(token, base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0)
    await expect_error(refused.pools.create(service, 1).name("x").execute())
    server = await garbage_server()
    garbage = Client(
        token, base_url=f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", max_retries=0
    )
    await expect_error(garbage.pools.create(service, 1).name("x").execute())  # chained aiohttp
    server.close()
    await server.wait_closed()
    texts += [repr(refused), repr(garbage)]
    await refused.close()
    await garbage.close()

    assert len(errors) == 13
    for error in errors:
        texts += chain_text(error)
    texts.append(caplog.text)
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
    assert any("retrying" in text for text in texts)  # the sweep did see the logs
    assert_clean(texts, token, KEY_BODY)


async def test_logs_carry_metadata_only(
    fake: FakeFastly, client: Client, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="fastly_pools")
    fake.seed_pool(service, 1, "origin")
    fake.inject(Fault.status(503, body={"msg": "body-text-marker"}), method="PUT")
    fake.inject(Fault.drop_before(), method="PUT")
    await client.pools.update(service, 1, "origin").comment("form-marker").execute()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("fastly_pools")]
    path = f"/service/{service}/version/1/pool/origin"
    assert messages == [
        f"PUT {path} -> 503 (attempt 1)",
        f"PUT {path}: status 503; retrying in 0.00s (attempt 2 of 3)",
        f"PUT {path}: disconnected (attempt 2)",
        f"PUT {path}: disconnected; retrying in 0.00s (attempt 3 of 3)",
        f"PUT {path} -> 200 (attempt 3)",
    ]
    for message in messages:
        for forbidden in ("body-text-marker", "form-marker", "comment=", "Fastly-Key",
                          "User-Agent", "Content-Type", fake.token):  # fmt: skip
            assert forbidden not in message


def test_reprs_of_models_and_builders_hide_the_key() -> None:
    pool = Pool(name="p", tls_client_key=Secret(PRIVATE_KEY))
    client = Client("token")
    builder = client.pools.create("svc", 1).name("p").tls_client_key(PRIVATE_KEY)
    for text in (repr(pool), str(pool), repr(builder), repr(builder.fields)):
        assert KEY_BODY not in text
        assert "<redacted>" in text


def test_the_token_is_never_in_the_client_repr() -> None:
    client = Client("tok-visible-if-leaked")
    assert "tok-visible-if-leaked" not in repr(client) + str(client) + repr(vars(client))


FAILING_TESTS = f'''
from fastly_pools import Client, Pool, Secret

KEY = {PRIVATE_KEY!r}

def test_pools_differ():
    one = Pool(name="p", tls_client_key=Secret(KEY))
    assert one == Pool(name="p", tls_client_key=Secret(KEY + "x"))

def test_builders_differ():
    pools = Client("token").pools
    one = pools.create("svc", 1).name("p").tls_client_key(KEY)
    assert one == one.tls_client_key(KEY + "x")

def test_pool_in_a_list():
    assert [Pool(tls_client_key=Secret(KEY))] == []
'''


@pytest.mark.parametrize("verbosity", ["-q", "-vv"])
def test_pytest_failure_diffs_hide_the_key(tmp_path: Path, verbosity: str) -> None:
    (tmp_path / "test_diffs.py").write_text(FAILING_TESTS)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", verbosity, "-p", "no:cacheprovider", "-l",
         str(tmp_path / "test_diffs.py")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    output = shown.stdout + shown.stderr
    assert "3 failed" in output, output
    assert "<redacted>" in output
    assert KEY_BODY not in output


@pytest.mark.parametrize(
    "url", ["http://api.fastly.com", "http://10.0.0.1:8080", "http://example.test/"]
)
def test_base_url_must_be_https_unless_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        Client("token", base_url=url)


@pytest.mark.parametrize(
    "url", ["https://api.fastly.com", "http://127.0.0.1:8080", "http://[::1]:1", "http://localhost"]
)
def test_https_or_loopback_is_accepted(url: str) -> None:
    Client("token", base_url=url)


@pytest.fixture
async def other_host() -> AsyncIterator[tuple[str, list[str]]]:
    """A second server, standing for "another host": records what reaches it."""
    reached: list[str] = []

    async def record(request: web.Request) -> web.Response:
        reached.append(f"{request.method} {request.path} {dict(request.headers)}")
        return web.json_response([])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", reached
    await runner.cleanup()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirects_are_never_followed(
    fake: FakeFastly, client: Client, service: str, other_host: tuple[str, list[str]],
    status: int,
) -> None:  # fmt: skip
    target, reached = other_host
    fake.inject(Fault.status(status, body="", headers={"Location": f"{target}/steal"}))
    with pytest.raises(APIStatusError) as info:
        await client.pools.list(service, 1).execute()
    assert info.value.status == status
    assert "Redirects are never followed" in str(info.value)
    assert reached == []  # the token never went to the other host
    assert len(fake.requests) == 1  # and a redirect is not retried


async def test_an_aiohttp_response_error_keeps_no_request_headers() -> None:
    server = await garbage_server()
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with Client("tok-in-headers", base_url=url, max_retries=0) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.pools.list("svc", 1).execute()
    finally:
        server.close()
        await server.wait_closed()
    cause = info.value.__cause__
    assert cause is not None
    assert "User-Agent" in repr(cause)  # the request headers are there...
    assert "tok-in-headers" not in repr(cause)  # ...without the token


async def test_an_error_body_echoing_the_key_without_its_armour_is_scrubbed(
    fake: FakeFastly, service: str
) -> None:
    first_line = KEY_BODY.splitlines()[0]
    assert len(first_line) >= 16
    fake.inject(
        Fault.status(400, body={"msg": "Bad request", "detail": f"cannot parse {first_line}"}),
        method="POST",
    )
    async with Client(fake.token, base_url=fake.base_url, retry=NO_WAIT) as client:
        create = client.pools.create(service, 1).name("k").tls_client_key(PRIVATE_KEY)
        with pytest.raises(APIStatusError) as caught:
            await create.execute()

    error = caught.value
    for text in (str(error), repr(error), error.body, error.detail or ""):
        assert first_line not in text
    assert "<redacted>" in error.body
