"""Transport failures, one by one, become our errors with the aiohttp cause chained.

No traffic leaves the machine: DNS fails in a resolver of our own, every server is on
127.0.0.1, and the TLS certificate is made at test time.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from support import NO_WAIT

from fastly_pools import (
    APIConnectionError,
    APITimeoutError,
    Client,
    ConnectionErrorKind,
    FastlyError,
)
from fastly_pools.testing import FakeFastly, Fault

K = ConnectionErrorKind


def request_counter() -> tuple[aiohttp.TraceConfig, list[str]]:
    """A TraceConfig recording each attempt the client makes."""
    starts: list[str] = []

    async def on_start(
        _: aiohttp.ClientSession, __: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        starts.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return trace, starts


def assert_ours(error: BaseException, cause: type[BaseException]) -> None:
    assert isinstance(error, FastlyError)
    assert not isinstance(error, aiohttp.ClientError)  # no aiohttp error reaches the user
    assert isinstance(error.__cause__, cause)


class FailingResolver(AbstractResolver):
    """Answers every lookup as an unknown name, as a real resolver would for `.invalid`."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_dns_failure() -> None:
    resolver = FailingResolver()
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session,
        Client(
            "t", base_url="https://nonexistent.invalid", session=session, retry=NO_WAIT
        ) as client,
    ):
        with pytest.raises(APIConnectionError) as info:
            await client.pools.create("svc", 1).name("origin").execute()
    assert info.value.kind is K.DNS
    assert info.value.sent is False
    assert_ours(info.value, aiohttp.ClientConnectorError)
    assert resolver.lookups == ["nonexistent.invalid"] * 3  # never sent: a create is retried


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


async def test_refused_connection() -> None:
    trace, starts = request_counter()
    url = f"http://127.0.0.1:{closed_port()}"
    async with Client("t", base_url=url, retry=NO_WAIT, trace_configs=[trace]) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pools.list("svc", 1).execute()
    assert info.value.kind is K.REFUSED
    assert info.value.sent is False
    assert_ours(info.value, aiohttp.ClientConnectorError)
    assert isinstance(info.value.__cause__.__cause__, ConnectionRefusedError)  # type: ignore[union-attr]
    assert starts == ["GET"] * 3


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made now with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command (the cryptography package is not installed)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def tls_server(self_signed: tuple[Path, Path]) -> AsyncIterator[str]:
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def empty_list(_: web.Request) -> web.Response:
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/{tail:.*}", empty_list)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}"
    await runner.cleanup()


async def test_tls_verification_failure_is_not_retried(tls_server: str) -> None:
    trace, starts = request_counter()
    async with Client("t", base_url=tls_server, retry=NO_WAIT, trace_configs=[trace]) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pools.list("svc", 1).execute()
    assert info.value.kind is K.TLS
    assert "TLS" in str(info.value)
    assert_ours(info.value, aiohttp.ClientSSLError)
    assert starts == ["GET"]  # a bad certificate does not fix itself


async def test_the_tls_server_itself_works(tls_server: str, self_signed: tuple[Path, Path]) -> None:
    # The failure above is the verification, not a broken server: trusting the cert works.
    context = ssl.create_default_context(cafile=str(self_signed[0]))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        Client("t", base_url=tls_server, session=session) as client,
    ):
        assert await client.pools.list("svc", 1).execute() == []


async def test_server_disconnect(fake: FakeFastly, client: Client, service: str) -> None:
    fake.inject(Fault.drop_before(), times=3)
    with pytest.raises(APIConnectionError) as info:
        await client.pools.list(service, 1).execute()
    assert info.value.kind is K.DISCONNECTED
    assert info.value.sent is True
    assert_ours(info.value, aiohttp.ServerDisconnectedError)


async def test_truncated_body(fake: FakeFastly, client: Client, service: str) -> None:
    fake.inject(Fault.truncated_body(), times=3)
    with pytest.raises(APIConnectionError) as info:
        await client.pools.list(service, 1).execute()
    assert info.value.kind is K.TRUNCATED
    assert info.value.sent is True
    assert_ours(info.value, aiohttp.ClientPayloadError)


async def test_timeout(fake: FakeFastly, client: Client, service: str) -> None:
    fake.inject(Fault.hang())
    with pytest.raises(APITimeoutError) as info:
        await client.pools.list(service, 1).with_options(timeout=0.2, max_retries=0).execute()
    assert info.value.kind is K.TIMEOUT
    assert_ours(info.value, TimeoutError)


async def test_malformed_answer() -> None:
    async def answer_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Client("t", base_url=f"http://127.0.0.1:{port}", max_retries=0) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.pools.list("svc", 1).execute()
    finally:
        server.close()
        await server.wait_closed()
    assert info.value.kind is K.OTHER
    assert_ours(info.value, aiohttp.ClientResponseError)
