"""Pure retry decisions: which failures are retried, and how long to wait first.

The rules, by method:
- GET, PUT, DELETE (idempotent here): retried on connection errors, timeouts, 408, 429, 5xx.
- POST (create): retried only when the request provably never reached the server, or on 429.
- Never retried: 409 and other 4xx, redirects, TLS failures, no free pooled connection.
- A retried answer with `Retry-After` (or a 429 whose budget is spent, with
  `Fastly-RateLimit-Reset`): wait what the server asks (at least the backoff), up to
  `RetryPolicy.max_server_wait`; above that, give up at once.
"""

from __future__ import annotations

import random

import attrs

from ._config import RetryPolicy
from ._exceptions import ConnectionErrorKind

__all__ = ["Decision", "backoff", "decide"]

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_NOT_RETRIED_KINDS = frozenset({ConnectionErrorKind.TLS, ConnectionErrorKind.POOL_TIMEOUT})


@attrs.frozen
class Decision:
    """Whether to try again, after how many seconds, and why (for the log)."""

    retry: bool
    wait: float = 0.0
    reason: str = ""


def backoff(policy: RetryPolicy, retries_done: int, rand: float | None = None) -> float:
    """Capped exponential backoff with jitter for the next retry."""
    base = min(policy.initial_wait * (2.0**retries_done), policy.max_wait)
    factor = random.random() if rand is None else rand
    return base * (1.0 - policy.jitter * factor)


def decide(
    method: str,
    *,
    retries_done: int,
    max_retries: int,
    policy: RetryPolicy,
    status: int | None = None,
    kind: ConnectionErrorKind | None = None,
    sent: bool = True,
    server_wait: float | None = None,
    rand: float | None = None,
) -> Decision:
    """Decide about one failed attempt: an HTTP `status`, or a connection failure `kind`.

    `server_wait` is the wait the server asked for (Retry-After, or the rate-limit
    reset on 429), in seconds.
    """
    if status is not None:
        retryable = status == 429 or (
            method in IDEMPOTENT and (status == 408 or status >= 500)
        )
        reason = f"status {status}"
    else:
        assert kind is not None
        retryable = kind not in _NOT_RETRIED_KINDS and (not sent or method in IDEMPOTENT)
        reason = f"{kind.value}{'' if sent else ' (not sent)'}"
    if not retryable:
        return Decision(False, reason=f"{reason} is not retried for {method}")
    if server_wait is not None:
        if server_wait > policy.max_server_wait:
            return Decision(
                False,
                wait=server_wait,
                reason=f"server asked to wait {server_wait:.0f}s, "
                f"above max_server_wait={policy.max_server_wait:.0f}s",
            )
        # Never sooner than the backoff: a reset already passed (clock skew) or a
        # `Retry-After: 0` must not turn retries into a burst.
        wait = max(server_wait, backoff(policy, retries_done, rand))
    else:
        wait = backoff(policy, retries_done, rand)
    if retries_done >= max_retries:
        return Decision(False, wait=wait, reason=f"{reason}: no retries left")
    return Decision(True, wait=wait, reason=reason)
