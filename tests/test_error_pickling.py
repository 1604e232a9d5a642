"""Errors cross process boundaries (concurrent.futures, multiprocessing) intact."""

from __future__ import annotations

import pickle

import pytest

from fastly_pools import (
    APIStatusError,
    Client,
    ConflictError,
    ConnectionErrorKind,
    FastlyError,
    OutcomeUnknownError,
    RateLimitError,
)
from fastly_pools.testing import FakeFastly, Fault


async def test_a_status_error_from_a_real_answer_pickles(
    fake: FakeFastly, client: Client, service: str
) -> None:
    await client.pools.create(service, 1).name("origin").execute()
    with pytest.raises(ConflictError) as caught:
        await client.pools.create(service, 1).name("origin").execute()

    copy = pickle.loads(pickle.dumps(caught.value))

    assert type(copy) is ConflictError
    assert (copy.status, copy.msg, copy.detail, copy.path) == (
        409,
        caught.value.msg,
        caught.value.detail,
        caught.value.path,
    )
    assert str(copy) == str(caught.value)
    assert copy.served_by == caught.value.served_by is not None  # any letter case still works
    assert copy.rate_limit == caught.value.rate_limit


async def test_a_rate_limit_error_keeps_its_retry_after(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(429, headers={"Retry-After": "3600"}), method="GET")
    with pytest.raises(RateLimitError) as caught:
        await client.pools.list(service, 1).execute()
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, APIStatusError)
    assert copy.retry_after == 3600


def test_a_connection_error_pickles() -> None:
    error = OutcomeUnknownError(
        "create of pool 'p' was sent but its answer was lost",
        method="POST",
        path="/service/s/version/1/pool",
        kind=ConnectionErrorKind.DISCONNECTED,
        sent=True,
    )
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, FastlyError)
    assert (copy.kind, copy.sent, copy.existing, str(copy)) == (
        error.kind,
        True,
        None,
        str(error),
    )
