"""Small shared values: the `UNSET` sentinel and the `Secret` wrapper."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias

__all__ = ["UNSET", "InputTypeError", "Secret", "Unset"]


class _UnsetType(enum.Enum):
    """Strictly private: the type of `UNSET`."""

    UNSET = enum.auto()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = _UnsetType.UNSET
"""Marks an option or field that was not given: "use the default" or "do not send".

It differs from `None`, which some options use to mean "no limit".
"""

Unset: TypeAlias = Literal[_UnsetType.UNSET]

REDACTED: Final = "<redacted>"


class InputTypeError(TypeError, ValueError):
    """Raised when an input has the wrong type.

    Also a `ValueError`, so `except ValueError` catches every kind of bad input.
    """


class Secret:
    """A string that never shows itself in a repr, str, log line or test diff.

    Used for the API token and for `tls_client_key`. Call `reveal()` to get the text.
    Two secrets are equal when their texts are equal.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret text."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))
