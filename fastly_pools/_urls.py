"""Path building: every segment checked, then percent-encoded on its own."""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import quote

from yarl import URL

from ._types import InputTypeError

__all__ = ["check_base_url", "pool_path", "pools_path"]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _segment(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InputTypeError(f"{field} must be a str, not {type(value).__name__}: {value!r}")
    return _checked_segment(field, value)


# Every call checks and quotes the same few service ids and names, twice (builder, then
# path): caching keeps this off the per-request CPU budget. Failures are not cached.
@functools.lru_cache(maxsize=4096)
def _checked_segment(field: str, value: str) -> str:
    if not value.strip():
        raise ValueError(f"{field} must not be empty or blank: {value!r}")
    if value in (".", ".."):
        # yarl and servers normalise dot segments away, so the path would change meaning.
        raise ValueError(f"{field} must not be {value!r}")
    if _CONTROL.search(value):
        raise ValueError(f"{field} must not contain control characters: {value!r}")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:  # a lone surrogate cannot go on the wire
        raise ValueError(f"{field} is not valid Unicode text: {value!r}") from None


def check_version(value: object) -> int:
    """Return `value` if it is a positive int version number."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputTypeError(f"version must be an int, not {type(value).__name__}: {value!r}")
    if value < 1:
        raise ValueError(f"version must be a positive int: {value!r}")
    return value


def check_name(value: object, field: str = "name") -> str:
    """Return `value` if it is usable as a pool name in a path."""
    _segment(field, value)
    assert isinstance(value, str)
    return value


def check_service_id(value: object) -> str:
    """Return `value` if it is usable as a service id in a path."""
    _segment("service_id", value)
    assert isinstance(value, str)
    return value


def pools_path(service_id: str, version: int) -> str:
    """The encoded path of a version's pool collection."""
    return f"/service/{_segment('service_id', service_id)}/version/{version}/pool"


def pool_path(service_id: str, version: int, name: str) -> str:
    """The encoded path of one pool."""
    return f"{pools_path(service_id, version)}/{_segment('name', name)}"


def check_base_url(value: str | URL) -> URL:
    """Return the base URL without a trailing slash; https unless the host is loopback."""
    url = URL(value)
    if not url.is_absolute() or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL: {str(value)!r}")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ValueError(
            f"base_url must use https unless its host is loopback, "
            f"so the API token never crosses a network in clear: {str(value)!r}"
        )
    if url.user or url.password or url.query_string or url.fragment:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    return url.with_path(url.path.rstrip("/"), encoded=True)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
