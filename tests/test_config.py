"""Configuration values refuse what would silently mean something else."""

from __future__ import annotations

import pytest

from fastly_pools import Client, InputTypeError, RetryPolicy, Timeout


@pytest.mark.parametrize("field", ["total", "connect", "pool"])
def test_a_zero_time_bound_is_refused_rather_than_meaning_no_bound(field: str) -> None:
    # aiohttp reads 0 as "no timeout": accepting it would turn the bound off.
    with pytest.raises(ValueError, match=rf"^{field} must be a number of seconds > 0"):
        Timeout(**{field: 0})
    assert getattr(Timeout(**{field: None}), field) is None  # None is the way to say it


def test_a_zero_timeout_on_the_client_or_a_call_is_refused() -> None:
    with pytest.raises(ValueError, match="total must be a number of seconds > 0"):
        Client("token", timeout=0)
    builder = Client("token").pools.list("svc", 1)
    with pytest.raises(ValueError, match="total must be a number of seconds > 0"):
        builder.with_options(timeout=0)


def test_retry_waits_may_be_zero() -> None:
    assert RetryPolicy(initial_wait=0, max_wait=0, jitter=0, max_server_wait=0).max_wait == 0


@pytest.mark.parametrize("value", [True, 1.0, "2"])
def test_max_retries_must_be_an_int(value: object) -> None:
    with pytest.raises(InputTypeError, match=r"^max_retries must be an int"):
        Client("token", max_retries=value)  # type: ignore[arg-type]
