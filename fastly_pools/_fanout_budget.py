"""The write-budget gate of a fan-out: may the next write start, wait, or must writes stop?

Pure: it reads the client's last `RateLimit`, the number of writes in flight and the time,
and decides. `Budget` keeps one run's view of it and its pause; the run acts on a STOP.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from datetime import UTC, datetime
from typing import Final, Protocol

import attrs

from ._config import RetryPolicy
from ._exceptions import RateLimitError
from ._models import RateLimit

__all__ = [
    "Budget",
    "Gate",
    "GateKind",
    "RateLimited",
    "after_rate_limited",
    "lowest",
    "write_gate",
]

logger: Final = logging.getLogger("fastly_pools")

MAX_RATE_LIMITED: Final = 5  # 429s one item may meet before it is reported FAILED


class GateKind(enum.Enum):
    """Strictly private: what the gate says about the next write."""

    OPEN = "open"  # start it
    HOLD = "hold"  # not now: writes in flight will report the budget, or a pause runs
    PAUSE = "pause"  # no budget left: wait until `until` (epoch seconds)
    STOP = "stop"  # no budget left and the reset is too far: stop starting writes


@attrs.frozen
class Gate:
    """Strictly private: one decision of `write_gate`."""

    kind: GateKind
    until: float = 0.0
    reason: str = ""


OPEN: Final = Gate(GateKind.OPEN)
HOLD: Final = Gate(GateKind.HOLD)


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(math.ceil(epoch), UTC).isoformat()


def lowest(seen: RateLimit, latest: RateLimit) -> RateLimit:
    """The budget to trust: answers to concurrent writes arrive in any order, so within one
    window (same reset) the lowest `remaining` reported is the freshest."""
    if (
        latest.reset == seen.reset
        and latest.remaining is not None
        and seen.remaining is not None
        and latest.remaining > seen.remaining
    ):
        return seen
    return latest


def write_gate(
    rate_limit: RateLimit,
    *,
    writes_in_flight: int,
    reserve: int,
    max_wait: float,
    paused_until: float,
    now: float,
) -> Gate:
    """Whether one more write may start now.

    Writes in flight are counted as already spent, so a budget of 5 with 16 slots starts
    5 writes, not 16. A pause set by an earlier decision or a 429 holds every write.
    """
    if now < paused_until:
        return HOLD
    remaining, reset = rate_limit.remaining, rate_limit.reset
    reset_at = None if reset is None else reset.timestamp()
    if remaining is None or (reset_at is not None and reset_at <= now):
        # Nothing known yet, or the reported window is over (the budget has refilled to an
        # unknown size). With a reserve to keep, one write at a time until an answer
        # reports the budget, so a first burst cannot eat into it. Without one, the worst
        # a burst meets is a few 429s, and those pause the run like any other.
        return HOLD if reserve and writes_in_flight else OPEN
    if remaining - writes_in_flight > reserve:
        return OPEN
    if writes_in_flight:
        return HOLD  # their answers bring fresher numbers
    return pause_or_stop(
        reset_at, now=now, max_wait=max_wait, why=f"{remaining} writes left, reserve {reserve}"
    )


def pause_or_stop(reset_at: float | None, *, now: float, max_wait: float, why: str) -> Gate:
    """Pause writes until `reset_at` when that is within `max_wait`, else stop them."""
    if reset_at is None:
        return Gate(GateKind.STOP, reason=f"write budget exhausted ({why}); no reset time known")
    wait = max(0.0, reset_at - now)
    if wait <= max_wait:
        return Gate(GateKind.PAUSE, until=reset_at, reason=f"write budget exhausted ({why})")
    return Gate(
        GateKind.STOP,
        reason=(
            f"write budget exhausted ({why}); it resets at {_when(reset_at)}, {wait:.0f}s "
            f"from now, beyond max_budget_wait={max_wait:g}s"
        ),
    )


def after_rate_limited(
    *,
    reset_at: float | None,
    retry_after: float | None,
    budget_spent: bool,
    times: int,
    now: float,
    max_wait: float,
) -> Gate:
    """What a 429 means for the run's writes: pause until the server's time, or stop.

    `Retry-After` is the server's own word and comes first. The hourly reset counts only
    when the answer said the budget is spent: a 429 reporting budget left is another
    throttle, and waiting for the end of the hour would stop a run for nothing. When the
    server gives no usable time (no headers, or a reset already past, as with a skewed
    clock), pause 1, 2, 4... seconds as the same item keeps meeting 429s.
    """
    if retry_after is not None:
        until = now + retry_after
    elif budget_spent and reset_at is not None:
        until = reset_at
    else:
        until = 0.0
    if until <= now:
        until = now + 2.0 ** (times - 1)
    return pause_or_stop(until, now=now, max_wait=max_wait, why="the API answered 429")


class RateLimited(Protocol):
    """What a run needs from the client: the write budget the API last reported, and the
    retry policy its writes use (with server waits taken over by the run)."""

    @property
    def rate_limit(self) -> RateLimit: ...

    @property
    def retry(self) -> RetryPolicy: ...


class Budget:
    """Strictly private: one run's view of the write budget, and the pause it is in."""

    def __init__(self, client: RateLimited, *, reserve: int, max_wait: float) -> None:
        self._client = client
        self._reserve = reserve
        self._max_wait = max_wait
        self._seen = RateLimit()  # the lowest budget reported in the current window
        self.paused_until = 0.0  # epoch seconds; no write starts before it

    def check(self, writes_in_flight: int) -> Gate:
        """May one more write start now? A PAUSE is already applied when returned."""
        self._seen = lowest(self._seen, self._client.rate_limit)
        gate = write_gate(
            self._seen,
            writes_in_flight=writes_in_flight,
            reserve=self._reserve,
            max_wait=self._max_wait,
            paused_until=self.paused_until,
            now=time.time(),
        )
        return self._note(gate)

    def rate_limited(self, error: RateLimitError, times: int) -> Gate:
        """A write met a 429 (`times` so far): PAUSE (applied) or STOP."""
        reset = error.reset
        gate = after_rate_limited(
            reset_at=None if reset is None else reset.timestamp(),
            retry_after=error.retry_after,
            budget_spent=error.budget_spent,
            times=times,
            now=time.time(),
            max_wait=self._max_wait,
        )
        return self._note(gate)

    def _note(self, gate: Gate) -> Gate:
        if gate.kind is GateKind.PAUSE and gate.until > self.paused_until:
            wait = gate.until - time.time()
            logger.info("fan_out: %s; writes wait %.1fs (reads go on)", gate.reason, wait)
            self.paused_until = gate.until
        elif gate.kind is GateKind.STOP:
            logger.warning("fan_out: %s; items not started are reported NOT_SENT", gate.reason)
        return gate
