"""The hourly write budget behind `Fastly-RateLimit-Remaining` / `Fastly-RateLimit-Reset`."""

from __future__ import annotations

import math
from datetime import datetime
from typing import NamedTuple

DEFAULT_WRITE_LIMIT = 10_000
_HOUR = 3600.0


class WriteBudget(NamedTuple):
    """A snapshot of the write budget; unpacks as `limit, remaining, reset_at`.

    Attributes:
        limit: writes allowed per window; the budget refills to it at `reset_at`.
        remaining: writes left in the current window.
        reset_at: end of the window, UTC epoch seconds.
    """

    limit: int
    remaining: int
    reset_at: float

    @property
    def headers(self) -> dict[str, str]:
        """The rate-limit headers a write response carries (reset rounded up to whole seconds)."""
        return {
            "Fastly-RateLimit-Remaining": str(self.remaining),
            "Fastly-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


def next_full_hour(now: float) -> float:
    return (math.floor(now / _HOUR) + 1) * _HOUR


def epoch(value: float | datetime) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("reset_at must be an aware datetime (or epoch seconds)")
        return value.timestamp()
    return float(value)


class Budget:
    """Mutable budget state (strictly private); refills lazily whenever it is read."""

    def __init__(self, now: float) -> None:
        self._snapshot = WriteBudget(DEFAULT_WRITE_LIMIT, DEFAULT_WRITE_LIMIT, next_full_hour(now))

    def set(
        self, limit: int, *, remaining: int | None, reset_at: float | datetime | None, now: float
    ) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        left = limit if remaining is None else remaining
        if not 0 <= left <= limit:
            raise ValueError("remaining must be between 0 and limit")
        reset = next_full_hour(now) if reset_at is None else epoch(reset_at)
        self._snapshot = WriteBudget(limit, left, reset)

    def snapshot(self, now: float) -> WriteBudget:
        current = self._snapshot
        if now >= current.reset_at:
            # Fixed windows: move on by whole hours, so an hour-aligned reset stays aligned.
            hours = math.floor((now - current.reset_at) / _HOUR) + 1
            current = WriteBudget(current.limit, current.limit, current.reset_at + hours * _HOUR)
            self._snapshot = current
        return current

    def take(self, now: float) -> tuple[bool, WriteBudget]:
        """Charge one write; False (and no charge) when the window is used up."""
        current = self.snapshot(now)
        if current.remaining <= 0:
            return False, current
        self._snapshot = WriteBudget(current.limit, current.remaining - 1, current.reset_at)
        return True, self._snapshot
