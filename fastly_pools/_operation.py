"""The generic immutable builder: validation at construction, a pure `build_request()`,
and `execute()` handed to the client through a small Protocol."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import attrs

from ._config import CallOptions, RetryPolicy, Timeout, as_timeout, check_max_retries
from ._models import APIResponse
from ._serde import DecodeFailure, encode_form
from ._types import UNSET, Unset
from ._urls import check_name, check_service_id, check_version

__all__ = ["Executor", "Operation", "Request"]

T = TypeVar("T")
Fields = tuple[tuple[str, object], ...]


class Executor(Protocol):
    """What a builder needs from the client: something that sends it."""

    async def send(self, operation: Operation[T]) -> APIResponse[T]: ...


@attrs.frozen
class Request:
    """Strictly private: what goes on the wire for one operation."""

    method: str
    path: str
    body: bytes | None


@attrs.frozen
class Operation(Generic[T]):
    """Base of the five builders. Every method returns a new builder; none changes this one."""

    method: ClassVar[str] = "GET"

    _executor: Executor = attrs.field(alias="executor", repr=False, eq=False)
    service_id: str = attrs.field(converter=check_service_id)
    version: int = attrs.field(converter=check_version)
    options: CallOptions = attrs.field(default=CallOptions(), repr=False)

    @property
    def path(self) -> str:
        """The percent-encoded request path."""
        raise NotImplementedError

    @property
    def is_write(self) -> bool:
        """True for create, update and delete: they change the service and use the budget."""
        return self.method != "GET"

    def form(self) -> Fields:
        """The validated fields to send, in the order they were set."""
        return ()

    def build_request(self) -> Request:
        """The method, path and body this builder sends. Pure: no I/O."""
        fields = self.form()
        body = encode_form(fields) if self.method in ("POST", "PUT") else None
        return Request(self.method, self.path, body)

    def decode(self, data: Any) -> T:
        """Structure the decoded JSON answer into this operation's result."""
        raise NotImplementedError

    def decode_body(self, body: bytes) -> T:
        """Parse and structure the raw answer body."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise DecodeFailure("<body>", body[:200], "not JSON") from exc
        return self.decode(data)

    def with_options(
        self,
        *,
        timeout: Timeout | float | Unset | None = UNSET,
        max_retries: int | Unset = UNSET,
        retry: RetryPolicy | Unset = UNSET,
        reconcile_create: bool | Unset = UNSET,
    ) -> Self:
        """A copy that overrides the client's settings for this call only.

        `timeout` is a `Timeout` or a number of seconds (the per-attempt total).
        `reconcile_create`: after a create whose answer was lost, read the pool back by
        name and return it if it matches what was sent.
        """
        current = self.options
        return attrs.evolve(
            self,
            options=CallOptions(
                timeout=current.timeout if timeout is UNSET else as_timeout(timeout),
                max_retries=(
                    current.max_retries if max_retries is UNSET else check_max_retries(max_retries)
                ),
                retry=current.retry if retry is UNSET else retry,
                reconcile_create=(
                    current.reconcile_create
                    if reconcile_create is UNSET
                    else bool(reconcile_create)
                ),
            ),
        )

    def with_target(
        self, *, service_id: str | Unset = UNSET, version: int | Unset = UNSET
    ) -> Self:
        """The same operation, fields and options aimed at another service or version."""
        changes: dict[str, Any] = {}
        if service_id is not UNSET:
            changes["service_id"] = service_id
        if version is not UNSET:
            changes["version"] = version
        return attrs.evolve(self, **changes)

    async def execute_raw(self) -> APIResponse[T]:
        """Send it; return the typed result with the HTTP status and headers."""
        return await self._executor.send(self)

    async def execute(self) -> T:
        """Send it and return the typed result."""
        return (await self._executor.send(self)).data


def check_pool_name(value: object) -> str:
    """attrs converter for a pool name used in the path."""
    return check_name(value, "name")
