"""Comparing a pool read back after a lost create answer with what the create sent."""

from __future__ import annotations

from collections.abc import Iterable

from ._models import Pool
from ._serde import encode_value

__all__ = ["differences"]


def differences(sent: Iterable[tuple[str, object]], found: Pool) -> list[str]:
    """The names of the sent fields whose stored value differs (empty when they all match)."""
    differing = []
    for field, value in sent:
        stored = getattr(found, field, None)
        wanted = encode_value(value)
        have = "" if stored is None else encode_value(stored)
        if have != wanted:
            differing.append(field)
    return differing
