"""The fake's world: services, their versions, and each version's pools (strictly private)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import _errors
from ._pool import StoredPool, clean, created_view, new_id, new_pool, timestamp, writable_form


@dataclass(eq=False, slots=True)
class _Version:
    number: int
    locked: bool = False
    active: bool = False
    pools: dict[str, StoredPool] = field(default_factory=dict)


class State:
    """Pools by service and version. Methods raise `ApiError` with the API's answer."""

    def __init__(self) -> None:
        self._services: dict[str, dict[int, _Version]] = {}

    def add_service(self, service_id: str | None = None, *, versions: int = 1) -> str:
        sid = new_id() if service_id is None else service_id
        if not sid:
            raise ValueError("service_id must not be empty")
        if sid in self._services:
            raise ValueError(f"service {sid!r} already exists")
        if versions < 0:
            raise ValueError("versions must be >= 0")
        self._services[sid] = {n: _Version(n) for n in range(1, versions + 1)}
        return sid

    def add_version(self, service_id: str, *, locked: bool = False) -> int:
        versions = self._service(service_id)
        number = max(versions, default=0) + 1
        versions[number] = _Version(number, locked=locked)
        return number

    def activate(self, service_id: str, version: int | str) -> dict[str, object]:
        target = self._version(service_id, version)
        for other in self._services[service_id].values():
            other.active = False
        # Activation locks the version for good; a locked version may still be activated.
        target.active = target.locked = True
        return {"service_id": service_id, "number": target.number, "active": True, "locked": True}

    def lock(self, service_id: str, version: int | str) -> None:
        self._version(service_id, version).locked = True

    def list_pools(self, service_id: str, version: int | str) -> list[StoredPool]:
        return [dict(pool) for pool in self._version(service_id, version).pools.values()]

    def get_pool(self, service_id: str, version: int | str, name: str) -> StoredPool:
        return dict(self._pool(service_id, version, name))

    def create_pool(
        self, service_id: str, version: int | str, pairs: Iterable[tuple[str, str]]
    ) -> dict[str, object]:
        target = self._editable(service_id, version)
        form = writable_form(pairs)
        values = clean(form, creating=True)
        pool = self._insert(target, service_id, values)
        return created_view(pool, form)

    def seed_pool(self, service_id: str, version: int | str, values: StoredPool) -> StoredPool:
        """Store a pool without the lock check; `values` may set server-only fields too."""
        return dict(self._insert(self._version(service_id, version), service_id, values))

    def update_pool(
        self, service_id: str, version: int | str, name: str, pairs: Iterable[tuple[str, str]]
    ) -> StoredPool:
        target = self._editable(service_id, version)
        pool = self._pool(service_id, version, name)
        values = clean(writable_form(pairs), creating=False)
        new_name = values.get("name") or name
        if new_name != name and new_name in target.pools:
            raise _errors.duplicate_pool(new_name)
        # The API answers with the pre-update updated_at but does store the new one.
        answer_updated_at = pool["updated_at"]
        pool.update(values)
        pool["updated_at"] = timestamp()
        if new_name != name:
            target.pools = {(new_name if k == name else k): v for k, v in target.pools.items()}
        return {**pool, "updated_at": answer_updated_at}

    def delete_pool(self, service_id: str, version: int | str, name: str) -> None:
        target = self._editable(service_id, version)
        self._pool(service_id, version, name)
        del target.pools[name]

    def _insert(self, target: _Version, service_id: str, values: StoredPool) -> StoredPool:
        name = values["name"]
        assert name is not None
        if name in target.pools:
            raise _errors.duplicate_pool(name)
        pool = new_pool(service_id, target.number, values)
        target.pools[name] = pool
        return pool

    def _service(self, service_id: str) -> dict[int, _Version]:
        try:
            return self._services[service_id]
        except KeyError:
            raise _errors.service_not_found() from None

    def _version(self, service_id: str, version: int | str) -> _Version:
        versions = self._service(service_id)
        text = str(version)
        found = versions.get(int(text)) if text.isdecimal() and text.isascii() else None
        if found is None:
            raise _errors.version_not_found(service_id, text)
        return found

    def _editable(self, service_id: str, version: int | str) -> _Version:
        target = self._version(service_id, version)
        if target.locked:
            raise _errors.version_locked(service_id, target.number)
        return target

    def _pool(self, service_id: str, version: int | str, name: str) -> StoredPool:
        target = self._version(service_id, version)
        try:
            return target.pools[name]
        except KeyError:
            raise _errors.pool_not_found(service_id, target.number, name) from None
