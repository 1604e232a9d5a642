"""The pure retry rules: method x failure x attempt, backoff bounds, and header parsing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict
from support import NO_WAIT

from fastly_pools import ConnectionErrorKind, RateLimit, RetryPolicy
from fastly_pools._ratelimit import parse_rate_limit, retry_after_seconds, seconds_until
from fastly_pools._retry import backoff, decide

K = ConnectionErrorKind
METHODS = ("GET", "PUT", "DELETE", "POST")
ALL = frozenset(METHODS)
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
NONE: frozenset[str] = frozenset()

# failure -> the methods that retry it. A failure is an HTTP status, or a connection
# failure kind with whether the request may have reached the server.
STATUS_TABLE: dict[int, frozenset[str]] = {
    408: IDEMPOTENT,
    429: ALL,  # a 429 was refused before any change: safe for a create too
    500: IDEMPOTENT,
    502: IDEMPOTENT,
    503: IDEMPOTENT,
    504: IDEMPOTENT,
    302: NONE,  # redirects are never followed, nor retried
    400: NONE,
    401: NONE,
    403: NONE,
    404: NONE,
    409: NONE,  # never: the pool exists
    422: NONE,
}
CONNECTION_TABLE: dict[tuple[ConnectionErrorKind, bool], frozenset[str]] = {
    (K.REFUSED, False): ALL,  # provably not sent
    (K.DNS, False): ALL,
    (K.TIMEOUT, False): ALL,  # connect timeout
    (K.TIMEOUT, True): IDEMPOTENT,  # no answer in time: a create may have landed
    (K.DISCONNECTED, True): IDEMPOTENT,
    (K.TRUNCATED, True): IDEMPOTENT,
    (K.OTHER, True): IDEMPOTENT,
    (K.TLS, False): NONE,  # a certificate problem does not fix itself
    (K.POOL_TIMEOUT, False): NONE,  # already waited the whole pool bound
}
ATTEMPTS = (0, 1, 2)  # retries already done, with max_retries=2


@pytest.mark.parametrize(
    ("method", "status", "retries_done"),
    list(itertools.product(METHODS, STATUS_TABLE, ATTEMPTS)),
)
def test_status_decisions(method: str, status: int, retries_done: int) -> None:
    decision = decide(
        method, retries_done=retries_done, max_retries=2, policy=NO_WAIT, status=status
    )
    expected = method in STATUS_TABLE[status] and retries_done < 2
    assert decision.retry is expected, decision.reason
    assert decision.reason  # every decision says why, for the log
    if expected:
        assert decision.wait == 0.0  # the zero-wait policy really waits nothing


@pytest.mark.parametrize(
    ("method", "failure", "retries_done"),
    list(itertools.product(METHODS, CONNECTION_TABLE, ATTEMPTS)),
)
def test_connection_failure_decisions(
    method: str, failure: tuple[ConnectionErrorKind, bool], retries_done: int
) -> None:
    kind, sent = failure
    decision = decide(
        method, retries_done=retries_done, max_retries=2, policy=NO_WAIT, kind=kind, sent=sent
    )
    assert decision.retry is (method in CONNECTION_TABLE[failure] and retries_done < 2)


def test_every_kind_is_in_the_table() -> None:
    assert {kind for kind, _ in CONNECTION_TABLE} == set(ConnectionErrorKind)


def test_max_retries_zero_never_retries() -> None:
    assert not decide("GET", retries_done=0, max_retries=0, policy=NO_WAIT, status=503).retry


def test_server_wait_within_the_cap_is_honoured() -> None:
    decision = decide(
        "GET", retries_done=0, max_retries=2, policy=NO_WAIT, status=503, server_wait=7.0
    )
    assert decision.retry
    assert decision.wait == 7.0


def test_server_wait_above_the_cap_gives_up_at_once() -> None:
    decision = decide(
        "POST", retries_done=0, max_retries=2, policy=NO_WAIT, status=429, server_wait=3600.0
    )
    assert not decision.retry
    assert decision.wait == 3600.0
    assert "max_server_wait" in decision.reason


def test_server_wait_never_shortens_the_backoff() -> None:
    policy = RetryPolicy(initial_wait=2.0, max_wait=2.0, jitter=0.0)
    decision = decide(
        "GET", retries_done=0, max_retries=2, policy=policy, status=503, server_wait=0.0
    )
    assert decision.wait == 2.0


@pytest.mark.parametrize("status", [409, 400, 404])
def test_retry_after_does_not_make_a_final_answer_retryable(status: int) -> None:
    decision = decide(
        "GET", retries_done=0, max_retries=2, policy=NO_WAIT, status=status, server_wait=1.0
    )
    assert not decision.retry


def test_retry_after_does_not_make_a_failed_create_retryable() -> None:
    decision = decide(
        "POST", retries_done=0, max_retries=2, policy=NO_WAIT, status=503, server_wait=1.0
    )
    assert not decision.retry


@given(
    retries_done=st.integers(min_value=0, max_value=30),
    rand=st.floats(min_value=0.0, max_value=1.0),
    initial=st.floats(min_value=0.0, max_value=5.0),
    cap=st.floats(min_value=0.0, max_value=60.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_backoff_stays_within_its_bounds(
    retries_done: int, rand: float, initial: float, cap: float, jitter: float
) -> None:
    policy = RetryPolicy(initial_wait=initial, max_wait=cap, jitter=jitter)
    base = min(initial * 2.0**retries_done, cap)
    wait = backoff(policy, retries_done, rand)
    assert base * (1 - jitter) - 1e-9 <= wait <= base + 1e-9
    assert wait <= cap + 1e-9


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_wait=0.5, max_wait=8.0, jitter=0.0)
    assert [backoff(policy, n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_backoff_jitter_only_shortens() -> None:
    policy = RetryPolicy(initial_wait=1.0, max_wait=8.0, jitter=0.25)
    assert backoff(policy, 0, rand=0.0) == 1.0
    assert backoff(policy, 0, rand=1.0) == 0.75


NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Sun, 01 Mar 2026 12:01:00 GMT", 60.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),  # already passed
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_seconds_and_http_dates(value: str, expected: float | None) -> None:
    headers = CIMultiDict({"retry-after": value})
    assert retry_after_seconds(headers, now=NOW.timestamp()) == expected


def test_retry_after_absent() -> None:
    assert retry_after_seconds(CIMultiDict()) is None


@pytest.mark.parametrize(
    ("remaining_name", "reset_name"),
    [
        ("Fastly-RateLimit-Remaining", "Fastly-RateLimit-Reset"),
        ("fastly-ratelimit-remaining", "fastly-ratelimit-reset"),  # HTTP/2 lower-cases
        ("FASTLY-RATELIMIT-REMAINING", "Fastly-Ratelimit-Reset"),  # as recorded
    ],
)
def test_rate_limit_headers_in_any_case(remaining_name: str, reset_name: str) -> None:
    headers = CIMultiDict({remaining_name: "9961", reset_name: "1667829600"})
    assert parse_rate_limit(headers) == RateLimit(
        remaining=9961, reset=datetime(2022, 11, 7, 14, 0, tzinfo=UTC)
    )


def test_rate_limit_reset_is_an_aware_datetime() -> None:
    parsed = parse_rate_limit(CIMultiDict({"Fastly-RateLimit-Reset": "1667829600"}))
    assert parsed is not None
    assert parsed.reset is not None
    assert parsed.reset.tzinfo is not None
    assert parsed.remaining is None  # never guessed (no "1000")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Fastly-RateLimit-Remaining": "many"}, {"X-Other": "1"}],
)
def test_rate_limit_absent_or_unreadable(headers: dict[str, str]) -> None:
    assert parse_rate_limit(CIMultiDict(headers)) is None


def test_seconds_until() -> None:
    assert seconds_until(None) is None
    assert seconds_until(NOW, now=NOW.timestamp() - 2) == 2.0
    assert seconds_until(NOW, now=NOW.timestamp() + 2) == 0.0
