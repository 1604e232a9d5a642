"""Public records: data only, no I/O and no wire logic (decoding lives in `_serde`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from ._types import Secret

__all__ = ["APIResponse", "DeleteResult", "Pool", "PoolType", "RateLimit"]

T = TypeVar("T")


class PoolType(enum.StrEnum):
    """How a pool picks a server. Values the SDK does not know yet still decode.

    `PoolType("weighted")` returns a member whose `.value` is `"weighted"` and whose
    `.known` is False, so a new API value never breaks decoding.
    """

    RANDOM = "random"
    HASH = "hash"
    CLIENT = "client"

    @property
    def known(self) -> bool:
        """False for a value the API sent that this version of the SDK does not list."""
        return self._name_ in type(self).__members__

    @classmethod
    def _missing_(cls, value: object) -> PoolType | None:
        if not isinstance(value, str) or not value:
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        # Cache it so PoolType("x") is PoolType("x"), as for the listed members.
        cls._value2member_map_[value] = member
        return member

    def __repr__(self) -> str:
        return f"<PoolType.{self._name_}: {self._value_!r}>"


@attrs.frozen(slots=False)  # a dict-backed instance lets _serde fill all fields in one pass
class Pool:
    """A load-balancing pool as the API describes it, in Python types.

    Every field may be None: the API has added and retyped fields over the years,
    and a key missing from an answer is not an error. `tls_client_key` is a `Secret`.
    """

    id: str | None = None
    service_id: str | None = None
    version: int | None = None
    name: str | None = None
    comment: str | None = None
    type: PoolType | None = None
    quorum: int | None = None
    use_tls: bool | None = None
    tls_check_cert: bool | None = None
    tls_ca_cert: str | None = None
    tls_client_cert: str | None = None
    tls_client_key: Secret | None = None
    tls_cert_hostname: str | None = None
    tls_sni_hostname: str | None = None
    tls_ciphers: str | None = None
    min_tls_version: str | None = None
    max_tls_version: str | None = None
    healthcheck: str | None = None
    shield: str | None = None
    request_condition: str | None = None
    override_host: str | None = None
    connect_timeout: int | None = None
    first_byte_timeout: int | None = None
    between_bytes_timeout: int | None = None
    max_conn_default: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


@attrs.frozen
class DeleteResult:
    """What a delete returns.

    `already_absent` is True when a retry after an attempt with no answer found the pool
    gone: the earlier attempt most likely deleted it.
    """

    name: str
    status: str = "ok"
    already_absent: bool = False


@attrs.frozen
class RateLimit:
    """The hourly write budget as the API last reported it.

    `remaining` is None until a write answer carried `Fastly-RateLimit-Remaining`;
    `reset` is the aware UTC time the budget refills.
    """

    remaining: int | None = None
    reset: datetime | None = None


@attrs.frozen
class APIResponse(Generic[T]):
    """A typed result with the HTTP answer it came from (see `execute_raw()`)."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    data: T
    attempts: int = 1
