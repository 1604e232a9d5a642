"""The one cattrs converter: lenient decoding of what the API really sends, and form encoding.

The API sends numbers and flags as strings, sometimes as JSON numbers, and has changed
types over the years; every hook here accepts each form seen (see the reference's section 7).
Nothing else in the package imports cattrs.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

import attrs
import cattrs

from ._models import Pool, PoolType
from ._types import Secret

__all__ = ["DecodeFailure", "decode_pool", "decode_pools", "encode_form", "encode_value"]


class DecodeFailure(Exception):
    """Strictly private: a field that cannot be decoded; turned into `ResponseDecodeError`."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(field, reason)


_TRUE: Final = frozenset({"1", "true", "True", "TRUE", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "False", "FALSE", "no", "off", ""})
_ZERO_TIMES: Final = frozenset({"0000-00-00 00:00:00", "0000-00-00T00:00:00Z"})
# Plain ASCII digits, optionally negative; "50.0" (seen from other endpoints) is 50.
_INT_TEXT: Final = re.compile(r"(-?[0-9]+)(?:\.0+)?", re.ASCII)


def _to_int(value: Any, _: object) -> int | None:
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is str:
        if value.isascii() and value.isdigit():  # the common case: "1000"
            return int(value)
        text = value.strip()
        if not text:
            return None
        match = _INT_TEXT.fullmatch(text)
        if match is None:
            # int() alone would also take "1_000", "+5" and non-ASCII digits.
            raise ValueError(f"expected an integer, got {value!r}")
        return int(match[1])
    if kind is float and value.is_integer():
        return int(value)
    raise ValueError(f"expected an integer, got {kind.__name__}")


def _to_flag(value: Any, _: object) -> bool:
    kind = type(value)
    if kind is str:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    elif kind is bool:
        return value  # type: ignore[no-any-return]
    elif kind is int and value in (0, 1):
        return bool(value)
    raise ValueError("expected a flag (0/1, true/false)")


def _to_text(value: Any, _: object) -> str:
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int or kind is float:
        return str(value)  # e.g. min_tls_version as a number
    raise ValueError(f"expected a string, got {kind.__name__}")


def _to_time(value: Any, _: object) -> datetime | None:
    if type(value) is not str:
        raise ValueError(f"expected an RFC 3339 string, got {type(value).__name__}")
    if not value or value in _ZERO_TIMES:
        return None
    moment = datetime.fromisoformat(value)
    # Old answers used "YYYY-MM-DD HH:MM:SS" without an offset; the API's clock is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _to_type(value: Any, _: object) -> PoolType:
    if type(value) is not str or not value:
        raise ValueError("expected a non-empty string")
    return PoolType(value)


def _to_secret(value: Any, _: object) -> Secret:
    if type(value) is not str:
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return Secret(value)


def make_converter() -> cattrs.Converter:
    """Build the converter: lenient hooks for every scalar the pool model uses.

    - int: JSON number or numeric string (`"50"`, `50`, `"50.0"`); `""` is None.
    - bool: `"1"`/`"0"`, `1`/`0`, `true`/`false`, JSON booleans.
    - str: strings, and numbers as their text (`min_tls_version`).
    - datetime: any RFC 3339 form, naive forms taken as UTC, zero dates as None.
    - PoolType: any non-empty string, unknown values included.
    - Unknown keys are ignored; missing keys and nulls become None.
    """
    converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    converter.register_structure_hook(int, _to_int)
    converter.register_structure_hook(bool, _to_flag)
    converter.register_structure_hook(str, _to_text)
    converter.register_structure_hook(datetime, _to_time)
    converter.register_structure_hook(PoolType, _to_type)
    converter.register_structure_hook(Secret, _to_secret)
    return converter


_converter: Final = make_converter()


def _field_hooks() -> dict[str, tuple[type, Callable[[Any, Any], Any]]]:
    """Each Pool field's Python type (None stripped) and the converter's hook for it."""
    hooks = {}
    for field in attrs.fields(attrs.resolve_types(Pool)):
        base = next(arg for arg in typing.get_args(field.type) if arg is not type(None))
        hooks[field.name] = (base, _converter.get_structure_hook(base))
    return hooks


_FIELD_HOOKS: Final = _field_hooks()


# The common wire forms, converted inline by the generated code without a hook call.
_FAST_FORMS: Final[dict[type, str]] = {
    int: "int(v) if type(v) is str and v.isascii() and v.isdigit() else h(v, None)",
    bool: "FLAGS[v] if type(v) is str and v in FLAGS else h(v, None)",
    PoolType: "TYPES.get(v) or h(v, None)",
}


def _compile_structure() -> Callable[[dict[str, Any]], Pool]:
    """Generate a straight-line structuring function for Pool from the converter's hooks.

    A list of 200 pools must decode in well under twice the time aiohttp takes to fetch
    and parse it (see benchmarks/). cattrs' generic code calls two functions per field
    and then the 28-argument frozen `__init__`; this converts the common wire forms
    ("1000", "1", "random") inline, calls the converter's hook for anything else, and
    fills the instance dict directly.
    """
    lines = ["def structure(o):", "    get = o.get", "    pool = new(Pool)"]
    lines.append("    d = pool.__dict__")
    namespace: dict[str, Any] = {
        "new": object.__new__,
        "Pool": Pool,
        "FLAGS": {"1": True, "0": False},
        "TYPES": {member.value: member for member in PoolType},
    }
    for name, (base, hook) in _FIELD_HOOKS.items():
        namespace[f"h_{name}"] = hook
        namespace[f"t_{name}"] = base
        convert = _FAST_FORMS.get(base, "h(v, None)").replace("h(", f"h_{name}(")
        lines.append(f"    v = get({name!r})")
        lines.append(f"    if v is not None and type(v) is not t_{name}:")
        lines.append(f"        v = {convert}")
        lines.append(f"    d[{name!r}] = v")
    lines.append("    return pool")
    exec("\n".join(lines), namespace)
    structure: Callable[[dict[str, Any]], Pool] = namespace["structure"]
    _converter.register_structure_hook(Pool, lambda data, _: structure(data))
    return structure


_structure_pool: Final = _compile_structure()


def _locate(data: Mapping[str, Any], error: Exception) -> DecodeFailure:
    """Find which field broke the fast path, so the error names it."""
    for name, (_, hook) in _FIELD_HOOKS.items():
        value = data.get(name)
        if value is None:
            continue
        try:
            hook(value, None)
        except Exception as exc:
            return DecodeFailure(name, value, str(exc) or type(exc).__name__)
    return DecodeFailure("<pool>", data, str(error) or type(error).__name__)


def decode_pool(data: Any) -> Pool:
    """Structure one pool object (a decoded JSON dict)."""
    if type(data) is not dict:
        raise DecodeFailure("<pool>", data, f"expected a JSON object, got {type(data).__name__}")
    try:
        return _structure_pool(data)
    except Exception as exc:
        raise _locate(data, exc) from exc


def decode_pools(data: Any) -> list[Pool]:
    """Structure a list answer (a JSON array of pool objects)."""
    if type(data) is not list:
        raise DecodeFailure("<list>", data, f"expected a JSON array, got {type(data).__name__}")
    return [decode_pool(item) for item in data]


def encode_value(value: object) -> str:
    """The form text of one validated field value: flags as 1/0, numbers as digits."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, PoolType):
        return value.value
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_form(fields: Iterable[tuple[str, object]]) -> bytes:
    """The application/x-www-form-urlencoded body for validated fields, in the order given."""
    return urlencode([(key, encode_value(value)) for key, value in fields]).encode("ascii")
