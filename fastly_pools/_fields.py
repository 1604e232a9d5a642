"""Fluent setters for every writable pool field, each named as the API names the field.

A setter validates at once (a bad value raises here, long before anything is sent) and
returns a new builder. `None` removes the field from the request again: it is never sent
as the text "None" or "null". Falsy values such as `quorum(0)`, `use_tls(False)` and
`comment("")` are sent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Self

import attrs

from ._models import PoolType
from ._types import Secret
from ._urls import check_name
from ._validate import (
    check_flag,
    check_int,
    check_not_placeholder,
    check_pool_type,
    check_secret,
    check_text,
    check_tls_version,
)

__all__ = ["WRITABLE_FIELDS", "PoolFieldSetters"]

_percent = partial(check_int, low=0, high=100)
_non_negative = partial(check_int, low=0)

WRITABLE_FIELDS: dict[str, Callable[[str, object], object]] = {
    "name": lambda field, value: check_not_placeholder(field, check_name(value, field)),
    "comment": check_text,
    "type": check_pool_type,
    "quorum": _percent,
    "use_tls": check_flag,
    "tls_check_cert": check_flag,
    "tls_ca_cert": check_text,
    "tls_client_cert": check_text,
    "tls_client_key": check_secret,
    "tls_cert_hostname": check_text,
    "tls_sni_hostname": check_text,
    "tls_ciphers": check_text,
    "min_tls_version": check_tls_version,
    "max_tls_version": check_tls_version,
    "healthcheck": check_text,
    "shield": check_text,
    "request_condition": check_text,
    "override_host": check_text,
    "connect_timeout": _non_negative,
    "first_byte_timeout": _non_negative,
    "between_bytes_timeout": _non_negative,
    "max_conn_default": _non_negative,
}
"""Every field a create or update may send, with the check its value must pass."""


class PoolFieldSetters:
    """Mixin for the create and update builders. Strictly private."""

    __slots__ = ()
    fields: tuple[tuple[str, object], ...]

    def set(self, field: str, value: object) -> Self:
        """Set a field by its API name (as the named setters do); None unsets it."""
        check = WRITABLE_FIELDS.get(field)
        if check is None:
            raise ValueError(f"{field!r} is not a writable pool field")
        kept = tuple(item for item in self.fields if item[0] != field)
        if value is not None:
            kept = (*kept, (field, check(field, value)))
        return attrs.evolve(self, fields=kept)  # type: ignore[misc]

    def get_field(self, field: str) -> object:
        """The value set for a field, or None."""
        for key, value in self.fields:
            if key == field:
                return value
        return None

    def name(self, value: str | None) -> Self:
        """The pool's name (on update: the new name, which renames the pool)."""
        return self.set("name", value)

    def comment(self, value: str | None) -> Self:
        """Free text; `""` is sent and clears the comment."""
        return self.set("comment", value)

    def type(self, value: PoolType | str | None) -> Self:
        """How servers are picked: random, hash or client."""
        return self.set("type", value)

    def quorum(self, value: int | None) -> Self:
        """Percentage (0..100) of servers that must be up for the pool to be up."""
        return self.set("quorum", value)

    def use_tls(self, value: bool | None) -> Self:
        """Whether to use TLS to the servers."""
        return self.set("use_tls", value)

    def tls_check_cert(self, value: bool | None) -> Self:
        """Whether to verify the servers' certificates."""
        return self.set("tls_check_cert", value)

    def tls_ca_cert(self, value: str | None) -> Self:
        """PEM CA certificate used to verify the servers."""
        return self.set("tls_ca_cert", value)

    def tls_client_cert(self, value: str | None) -> Self:
        """PEM client certificate presented to the servers."""
        return self.set("tls_client_cert", value)

    def tls_client_key(self, value: str | Secret | None) -> Self:
        """PEM private key for the client certificate; kept as a `Secret`, never shown."""
        return self.set("tls_client_key", value)

    def tls_cert_hostname(self, value: str | None) -> Self:
        """Hostname to check the servers' certificates against."""
        return self.set("tls_cert_hostname", value)

    def tls_sni_hostname(self, value: str | None) -> Self:
        """SNI hostname to send to the servers."""
        return self.set("tls_sni_hostname", value)

    def tls_ciphers(self, value: str | None) -> Self:
        """OpenSSL cipher list."""
        return self.set("tls_ciphers", value)

    def min_tls_version(self, value: str | float | None) -> Self:
        """Lowest TLS version to accept, e.g. "1.2"."""
        return self.set("min_tls_version", value)

    def max_tls_version(self, value: str | float | None) -> Self:
        """Highest TLS version to accept, e.g. "1.3"."""
        return self.set("max_tls_version", value)

    def healthcheck(self, value: str | None) -> Self:
        """Name of a healthcheck in the same version."""
        return self.set("healthcheck", value)

    def shield(self, value: str | None) -> Self:
        """POP code to shield through."""
        return self.set("shield", value)

    def request_condition(self, value: str | None) -> Self:
        """Name of the condition that selects this pool."""
        return self.set("request_condition", value)

    def override_host(self, value: str | None) -> Self:
        """Host header to send to the servers."""
        return self.set("override_host", value)

    def connect_timeout(self, value: int | None) -> Self:
        """Milliseconds to wait for a connection to a server."""
        return self.set("connect_timeout", value)

    def first_byte_timeout(self, value: int | None) -> Self:
        """Milliseconds to wait for a server's first byte."""
        return self.set("first_byte_timeout", value)

    def between_bytes_timeout(self, value: int | None) -> Self:
        """Milliseconds to wait between bytes from a server."""
        return self.set("between_bytes_timeout", value)

    def max_conn_default(self, value: int | None) -> Self:
        """Most connections to each server."""
        return self.set("max_conn_default", value)
