"""Reading Fastly's rate-limit and Retry-After headers."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ._models import RateLimit

__all__ = ["parse_rate_limit", "retry_after_seconds", "seconds_until"]

REMAINING = "Fastly-RateLimit-Remaining"
RESET = "Fastly-RateLimit-Reset"


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)  # aiohttp's headers are case-insensitive
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimit | None:
    """The budget the headers report, or None when they carry neither value."""
    remaining = _int_header(headers, REMAINING)
    reset_epoch = _int_header(headers, RESET)
    if remaining is None and reset_epoch is None:
        return None
    reset = datetime.fromtimestamp(reset_epoch, UTC) if reset_epoch is not None else None
    return RateLimit(remaining=remaining, reset=reset)


def seconds_until(moment: datetime | None, now: float | None = None) -> float | None:
    """Seconds from now to `moment` (never negative), or None."""
    if moment is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The `Retry-After` wait in seconds (delta-seconds or an HTTP date), or None."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "nan", "inf" and negative numbers are not delta-seconds.
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return seconds_until(moment, now)
