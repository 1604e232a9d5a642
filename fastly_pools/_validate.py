"""Checks for the values given to builder setters: bad input fails before anything is sent."""

from __future__ import annotations

from ._models import PoolType
from ._types import InputTypeError, Secret

_KNOWN_TYPES = frozenset(member.value for member in PoolType)

__all__ = ["check_flag", "check_int", "check_pool_type", "check_text", "check_tls_version"]


def _type_error(field: str, expected: str, value: object) -> InputTypeError:
    return InputTypeError(f"{field} must be {expected}, not {type(value).__name__}: {value!r}")


def check_int(field: str, value: object, *, low: int = 0, high: int | None = None) -> int:
    """An int within [low, high]; bools are refused (True is not a timeout)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(field, "an int", value)
    if value < low or (high is not None and value > high):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{field} must be {span}: {value!r}")
    return value


def check_flag(field: str, value: object) -> bool:
    """A bool (0 and 1 are accepted as the API's own spelling)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _type_error(field, "a bool", value)


def check_not_placeholder(field: str, value: str) -> str:
    """Refuse the texts "None" and "null" (any case, any padding).

    The official clients' docs show them as defaults; copying one would store it as a value.
    """
    if value.strip().lower() in ("none", "null"):
        raise ValueError(
            f"{field} must not be the text {value!r}; to leave it unchanged, do not set it"
        )
    return value


def check_text(field: str, value: object) -> str:
    """Any str, the empty string included (it is sent, never dropped)."""
    if not isinstance(value, str):
        raise _type_error(field, "a str", value)
    check_not_placeholder(field, value)
    if "\x00" in value:
        raise ValueError(f"{field} must not contain NUL characters: {value!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{field} is not valid Unicode text: {value!r}") from None
    return value


def check_secret(field: str, value: object) -> Secret:
    """A PEM private key, kept wrapped so it never shows in a repr."""
    if isinstance(value, Secret):
        check_text(field, value.reveal())
        return value
    if not isinstance(value, str):
        # Never echo the value: it may be a key in the wrong wrapper.
        raise InputTypeError(f"{field} must be a str or Secret, not {type(value).__name__}")
    if value.strip().lower() in ("none", "null") or "\x00" in value:
        raise ValueError(f"{field} must be PEM text, not a placeholder or binary value")
    return Secret(value)


def check_pool_type(field: str, value: object) -> PoolType:
    """A `PoolType`, or one of the known values as a str."""
    if isinstance(value, PoolType):
        return value
    if isinstance(value, str):
        if value in _KNOWN_TYPES:
            return PoolType(value)
        known = ", ".join(repr(m.value) for m in PoolType)
        raise ValueError(f"{field} must be one of {known}: {value!r}")
    raise _type_error(field, "a PoolType or str", value)


def check_tls_version(field: str, value: object) -> str:
    """A TLS version such as "1.2"; an int is accepted and sent as text.

    Floats are refused: 1.10 and 1.1 are the same float, so the text sent would be a guess.
    """
    if isinstance(value, bool | float):
        raise _type_error(field, 'a str such as "1.2"', value)
    if isinstance(value, int):
        value = str(value)
    text = check_text(field, value)
    if not text.strip():
        raise ValueError(f"{field} must not be blank: {value!r}")
    return text
