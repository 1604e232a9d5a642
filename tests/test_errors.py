"""Error answers and connection failures become typed `FastlyError`s, whatever the body."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import aiohttp
import pytest
from support import NO_WAIT

from fastly_pools import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    ConnectionErrorKind,
    FastlyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimit,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from fastly_pools.testing import FakeFastly, Fault

RESET_EPOCH = 1667829600
RESET = datetime(2022, 11, 7, 14, 0, tzinfo=UTC)
LIMIT_HEADERS = {
    "Fastly-RateLimit-Remaining": "9961",
    "Fastly-RateLimit-Reset": str(RESET_EPOCH),
    "X-Request-Id": "req-123",
}

STATUS_CASES = [
    (400, BadRequestError, "Bad request", "Quorum must be an integer between 0 and 100"),
    (401, AuthenticationError, "Provided credentials are missing or invalid", None),
    (403, PermissionDeniedError, "Read only tokens are not allowed to access this endpoint.",
     None),
    (404, NotFoundError, "Record not found", "Couldn't find Pool '{ name => origin }'"),
    (409, ConflictError, "Duplicate record", "Duplicate pool: 'origin'"),
    (422, UnprocessableEntityError, "Version locked",
     "Version '1' for service 'svc' is locked"),
    (429, RateLimitError, "You have exceeded your hourly rate limit.", None),
    (500, ServerError, "Internal Server Error", None),
    (502, ServerError, "Bad Gateway", "upstream"),
    (503, ServerError, "Service Unavailable", None),
]  # fmt: skip


@pytest.mark.parametrize(("status", "cls", "msg", "detail"), STATUS_CASES)
async def test_each_status_maps_to_its_class(
    fake: FakeFastly,
    client: Client,
    service: str,
    status: int,
    cls: type[APIStatusError],
    msg: str,
    detail: str | None,
) -> None:
    body = {"msg": msg} if detail is None else {"msg": msg, "detail": detail}
    fake.inject(Fault.status(status, body, headers=LIMIT_HEADERS), method="PUT")
    builder = client.pools.update(service, 1, "origin").quorum(5).with_options(max_retries=0)
    with pytest.raises(cls) as info:
        await builder.execute()
    error = info.value
    assert type(error) is cls
    assert isinstance(error, APIStatusError)
    assert isinstance(error, FastlyError)
    assert error.status == status
    assert (error.msg, error.detail) == (msg, detail)
    assert error.body == json.dumps(body, separators=(",", ":"))
    assert error.headers["X-Served-By"].startswith("cache-")
    assert error.headers["fastly-ratelimit-remaining"] == "9961"  # case-insensitive
    assert error.rate_limit == RateLimit(remaining=9961, reset=RESET)
    assert error.request_id == "req-123"
    assert (error.method, error.path) == ("PUT", f"/service/{service}/version/1/pool/origin")
    assert str(status) in str(error)
    assert msg in str(error)
    assert fake.token not in str(error)
    assert fake.token not in repr(error)
    # A failed write still moves the client's view of the budget.
    assert client.rate_limit == RateLimit(remaining=9961, reset=RESET)


async def test_rate_limit_error_carries_retry_after_and_reset(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(429, headers={**LIMIT_HEADERS, "Retry-After": "120"}))
    with pytest.raises(RateLimitError) as info:
        await client.pools.list(service, 1).with_options(max_retries=0).execute()
    assert info.value.retry_after == 120.0
    assert info.value.reset == RESET


async def test_the_fakes_own_budget_exhaustion_is_a_rate_limit_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.set_write_budget(5, remaining=0, reset_at=RESET_EPOCH + 10 * 365 * 86400)
    with pytest.raises(RateLimitError) as info:
        await client.pools.delete(service, 1, "origin").with_options(max_retries=0).execute()
    assert info.value.rate_limit.remaining == 0
    assert info.value.msg is not None
    assert "hourly rate limit" in info.value.msg


async def test_an_unlisted_4xx_is_still_an_api_status_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(418, {"msg": "I'm a teapot"}))
    with pytest.raises(APIStatusError) as info:
        await client.pools.list(service, 1).execute()
    assert type(info.value) is APIStatusError
    assert (info.value.status, info.value.msg) == (418, "I'm a teapot")


# -- bodies that are not the legacy {msg, detail} ----------------------------------------------

HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(
    ("fault", "msg", "detail", "raw"),
    [
        (Fault.non_json(502, HTML, "text/html"), None, None, HTML),
        (Fault.non_json(500, "upstream connect error", "text/plain"), None, None,
         "upstream connect error"),
        (Fault.status(500, ""), "empty body", None, ""),
        (Fault.status(400, {"errors": [{"title": "Invalid value", "detail": "quorum too big",
                                        "code": "bad_quorum"}]}),
         "Invalid value", "quorum too big", None),
        (Fault.status(400, {"type": "https://example/probs/x", "title": "Bad quorum",
                            "status": 400, "detail": "must be <= 100"},
                      headers={"Content-Type": "application/problem+json"}),
         "Bad quorum", "must be <= 100", None),
        (Fault.status(400, [1, "two", {"msg": "nested"}]), None, None,
         '[1,"two",{"msg":"nested"}]'),
        (Fault.status(400, '"just a string"'), None, None, '"just a string"'),
        (Fault.status(400, "null"), None, None, "null"),
        (Fault.status(400, '{"msg": "cut'), None, None, '{"msg": "cut'),
    ],
)  # fmt: skip
async def test_odd_bodies_still_give_a_typed_error_with_the_raw_text(
    fake: FakeFastly,
    client: Client,
    service: str,
    fault: Fault,
    msg: str | None,
    detail: str | None,
    raw: str | None,
) -> None:
    fake.inject(fault, method="GET")
    with pytest.raises(APIStatusError) as info:
        await client.pools.get(service, 1, "origin").with_options(max_retries=0).execute()
    error = info.value
    assert error.status == fault.code
    assert type(error) is (ServerError if fault.code >= 500 else BadRequestError)
    assert (error.msg, error.detail) == (msg, detail)
    assert error.body == (fault.body if raw is None else raw)
    assert str(fault.code) in str(error)


async def test_json_api_errors_are_kept(fake: FakeFastly, client: Client, service: str) -> None:
    errors = [{"title": "A", "detail": "first"}, {"title": "B", "detail": "second"}]
    fake.inject(Fault.status(400, {"errors": errors}))
    with pytest.raises(BadRequestError) as info:
        await client.pools.list(service, 1).execute()
    assert [dict(e) for e in info.value.errors] == errors


async def test_private_keys_in_error_bodies_are_redacted(
    fake: FakeFastly, client: Client, service: str
) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nSECRETBITS\n-----END RSA PRIVATE KEY-----"
    fake.inject(Fault.status(400, {"msg": "Bad request", "detail": f"bad key {pem}"}))
    with pytest.raises(BadRequestError) as info:
        await client.pools.list(service, 1).execute()
    assert "SECRETBITS" not in info.value.body
    assert "SECRETBITS" not in str(info.value)


# -- real answers from the fake ----------------------------------------------------------------


async def test_unknown_service_404_carries_the_token_hint(client: Client) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.pools.list("NoSuchService", 1).execute()
    error = info.value
    assert (error.msg, error.detail) == ("Record not found", "Cannot find 'service'")
    assert error.hint is not None
    assert "token" in error.hint
    assert error.hint in str(error)


async def test_missing_pool_404_has_no_token_hint(client: Client, service: str) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.pools.get(service, 1, "absent").execute()
    assert info.value.hint is None
    assert info.value.detail is not None
    assert "name => absent" in info.value.detail


async def test_server_errors_are_retried_then_raised(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(503), method="GET", times=10)
    with pytest.raises(ServerError):
        await client.pools.list(service, 1).with_options(max_retries=2).execute()
    assert len(fake.requests) == 3


# -- no answer at all --------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_refused_connection_is_an_api_connection_error() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    async with Client("tok", base_url=base, max_retries=1, retry=NO_WAIT) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pools.get("svc", 1, "origin").execute()
    error = info.value
    assert not isinstance(error, aiohttp.ClientError)
    assert isinstance(error, FastlyError)
    assert error.kind is ConnectionErrorKind.REFUSED
    assert error.sent is False
    assert isinstance(error.__cause__, aiohttp.ClientError)  # kept for debugging, not raised
    assert (error.method, error.path) == ("GET", "/service/svc/version/1/pool/origin")


async def test_refused_create_never_claims_it_may_have_landed() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    async with Client("tok", base_url=base, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.pools.create("svc", 1).name("origin").execute()
    assert info.value.sent is False
    assert info.value.kind is ConnectionErrorKind.REFUSED


async def test_dropped_connection_is_an_api_connection_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.drop_before(), method="GET", times=5)
    with pytest.raises(APIConnectionError) as info:
        await client.pools.list(service, 1).with_options(max_retries=1).execute()
    assert not isinstance(info.value, aiohttp.ClientError)
    assert info.value.kind is ConnectionErrorKind.DISCONNECTED


async def test_truncated_answer_is_an_api_connection_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.truncated_body(), method="GET")
    with pytest.raises(APIConnectionError) as info:
        await client.pools.list(service, 1).with_options(max_retries=0).execute()
    assert not isinstance(info.value, aiohttp.ClientError)
    assert info.value.sent is True
