"""The pools namespace (`client.pools`) and its five builders."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import attrs

from ._fields import PoolFieldSetters
from ._models import DeleteResult, Pool
from ._operation import Executor, Fields, Operation, check_pool_name
from ._serde import DecodeFailure, decode_pool, decode_pools
from ._types import UNSET, Unset
from ._urls import pool_path, pools_path

__all__ = ["CreatePool", "DeletePool", "GetPool", "ListPools", "Pools", "UpdatePool"]


@attrs.frozen
class ListPools(Operation[list[Pool]]):
    """`GET /service/{id}/version/{n}/pool`: every pool of a version."""

    @property
    def path(self) -> str:
        return pools_path(self.service_id, self.version)

    def decode(self, data: Any) -> list[Pool]:
        return decode_pools(data)


@attrs.frozen
class _NamedOperation(Operation[Any]):
    """Base for the builders addressing one pool by name. Strictly private."""

    pool_name: str = attrs.field(converter=check_pool_name, kw_only=True)

    @property
    def path(self) -> str:
        return pool_path(self.service_id, self.version, self.pool_name)

    def with_target(
        self,
        *,
        service_id: str | Unset = UNSET,
        version: int | Unset = UNSET,
        pool_name: str | Unset = UNSET,
    ) -> Self:
        """The same operation aimed at another service, version or pool."""
        moved = super().with_target(service_id=service_id, version=version)
        return moved if pool_name is UNSET else attrs.evolve(moved, pool_name=pool_name)


@attrs.frozen
class GetPool(_NamedOperation, Operation[Pool]):
    """`GET /service/{id}/version/{n}/pool/{name}`: one pool."""

    def decode(self, data: Any) -> Pool:
        return decode_pool(data)


@attrs.frozen
class DeletePool(_NamedOperation, Operation[DeleteResult]):
    """`DELETE /service/{id}/version/{n}/pool/{name}`."""

    method: ClassVar[str] = "DELETE"

    def decode(self, data: Any) -> DeleteResult:
        status = data.get("status") if isinstance(data, dict) else None
        if status != "ok":
            raise DecodeFailure("status", status if status is not None else data, 'expected "ok"')
        return DeleteResult(name=self.pool_name, status=status)


@attrs.frozen
class CreatePool(PoolFieldSetters, Operation[Pool]):
    """`POST /service/{id}/version/{n}/pool`: a new pool; `name(...)` is required."""

    method: ClassVar[str] = "POST"
    fields: Fields = ()

    @property
    def path(self) -> str:
        return pools_path(self.service_id, self.version)

    def form(self) -> Fields:
        if self.get_field("name") is None:
            raise ValueError("create needs a pool name: call .name(...) before execute()")
        return self.fields

    def decode(self, data: Any) -> Pool:
        return decode_pool(data)


@attrs.frozen
class UpdatePool(PoolFieldSetters, _NamedOperation, Operation[Pool]):
    """`PUT /service/{id}/version/{n}/pool/{name}`: a partial update; unset fields are kept."""

    method: ClassVar[str] = "PUT"
    fields: Fields = attrs.field(default=(), kw_only=True)

    def form(self) -> Fields:
        if not self.fields:
            raise ValueError("update has no fields to change: call a setter before execute()")
        return self.fields

    def decode(self, data: Any) -> Pool:
        return decode_pool(data)


@attrs.frozen
class Pools:
    """`client.pools`: each method returns a builder; nothing is sent until `execute()`."""

    _executor: Executor = attrs.field(alias="executor", repr=False)

    def list(self, service_id: str, version: int) -> ListPools:
        """List the pools of a service version."""
        return ListPools(self._executor, service_id, version)

    def get(self, service_id: str, version: int, name: str) -> GetPool:
        """Read one pool by name."""
        return GetPool(self._executor, service_id, version, pool_name=name)

    def create(self, service_id: str, version: int) -> CreatePool:
        """Create a pool; set at least `.name(...)`."""
        return CreatePool(self._executor, service_id, version)

    def update(self, service_id: str, version: int, name: str) -> UpdatePool:
        """Change the pool called `name`; only the fields you set are sent."""
        return UpdatePool(self._executor, service_id, version, pool_name=name)

    def delete(self, service_id: str, version: int, name: str) -> DeletePool:
        """Delete the pool called `name`."""
        return DeletePool(self._executor, service_id, version, pool_name=name)
