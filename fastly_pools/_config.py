"""Frozen configuration values and their defaults."""

from __future__ import annotations

import math
from typing import Any, Final

import attrs

from ._types import UNSET, InputTypeError, Unset

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "CallOptions",
    "RetryPolicy",
    "Timeout",
]


def _non_negative(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputTypeError(f"{attribute.name} must be a number of seconds or None: {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number >= 0 or None: {value!r}")


def _bound(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A time bound: a positive number of seconds, or None for none (0 is no bound to
    aiohttp, so it would silently mean "wait forever")."""
    _non_negative(_, attribute, value)
    if value is not None and value <= 0:
        raise ValueError(
            f"{attribute.name} must be a number of seconds > 0, or None for no bound: {value!r}"
        )


@attrs.frozen
class Timeout:
    """Time bounds for one attempt, in seconds; None means no bound.

    - `connect`: opening a connection (DNS, TCP, TLS).
    - `total`: one attempt, from sending to the last byte of the answer.
    - `pool`: waiting for a free connection slot. It is not charged to `total`, and
      running out raises `PoolTimeoutError` (never sent) rather than a request timeout.
      With an injected session whose connector allows fewer connections than
      `connection_limit`, waiting for the connector happens inside `total`.
    """

    total: float | None = attrs.field(default=30.0, validator=_bound)
    connect: float | None = attrs.field(default=10.0, validator=_bound)
    pool: float | None = attrs.field(default=60.0, validator=_bound)


@attrs.frozen
class RetryPolicy:
    """How retries wait. The number of retries is `max_retries`, set apart.

    Backoff is `min(initial_wait * 2**n, max_wait)` times a random factor in
    `[1 - jitter, 1]`. A wait the server asks for (`Retry-After`, or
    `Fastly-RateLimit-Reset` on 429) is honoured up to `max_server_wait`; above that the
    error is raised at once instead of sleeping.
    """

    initial_wait: float = attrs.field(default=0.5, validator=_non_negative)
    max_wait: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.25, validator=_non_negative)
    max_server_wait: float = attrs.field(default=60.0, validator=_non_negative)

    @jitter.validator
    def _jitter_at_most_one(self, _: object, value: float) -> None:
        if value > 1:
            raise ValueError(f"jitter must be within 0..1: {value!r}")


DEFAULT_TIMEOUT: Final = Timeout()
DEFAULT_RETRY: Final = RetryPolicy()
DEFAULT_MAX_RETRIES: Final = 2
NO_WAIT: Final = RetryPolicy(initial_wait=0.0, max_wait=0.0, jitter=0.0)
"""A policy for tests: retries happen at once; server-directed waits still count."""


@attrs.frozen
class CallOptions:
    """Per-call overrides set with `builder.with_options(...)`; UNSET takes the client's."""

    timeout: Timeout | Unset = UNSET
    max_retries: int | Unset = UNSET
    retry: RetryPolicy | Unset = UNSET
    reconcile_create: bool | Unset = UNSET


@attrs.frozen
class CallSettings:
    """Strictly private: the settings in force for one call (the client's, overridden)."""

    timeout: Timeout
    max_retries: int
    retry: RetryPolicy
    reconcile_create: bool


def check_max_retries(value: object) -> int:
    """A retry count: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputTypeError(f"max_retries must be an int: {value!r}")
    if value < 0:
        raise ValueError(f"max_retries must be an int >= 0: {value!r}")
    return value


def as_timeout(value: object) -> Timeout:
    """A `Timeout`, or a number meaning a `total` bound with the default connect bound."""
    if isinstance(value, Timeout):
        return value
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return Timeout(total=value)
    raise InputTypeError(f"timeout must be a Timeout, a number of seconds or None: {value!r}")
