"""Resolving writes whose answer was lost: a create that may exist, a rename that may be done.

Both read the pool back by name and compare it with what was sent, instead of
sending the write again blind (which would duplicate a create or 404 a rename).
"""

from __future__ import annotations

from collections.abc import Iterable

from ._config import CallSettings
from ._exceptions import APIConnectionError, ConflictError, NotFoundError, OutcomeUnknownError
from ._models import APIResponse, Pool
from ._operation import Executor
from ._pools import CreatePool, GetPool, UpdatePool
from ._serde import encode_value

__all__ = ["differences", "lost_create", "renamed_meanwhile"]


def differences(sent: Iterable[tuple[str, object]], found: Pool) -> list[str]:
    """The names of the sent fields whose stored value differs (empty when they all match)."""
    differing = []
    for field, value in sent:
        stored = getattr(found, field, None)
        have = "" if stored is None else encode_value(stored)
        if have != encode_value(value):
            differing.append(field)
    return differing


def _lookup(executor: Executor, operation: CreatePool | UpdatePool, name: str,
            settings: CallSettings) -> GetPool:  # fmt: skip
    lookup = GetPool(executor, operation.service_id, operation.version, pool_name=name)
    return lookup.with_options(
        timeout=settings.timeout, max_retries=settings.max_retries, retry=settings.retry
    )


async def lost_create(
    executor: Executor, operation: CreatePool, exc: APIConnectionError, settings: CallSettings
) -> APIResponse[Pool]:
    """A create was sent and no answer came: reconcile by name, or say the pool may exist."""
    name = operation.get_field("name")
    assert isinstance(name, str)
    advice = (
        "read it back before creating it again"
        if settings.reconcile_create
        else "read it back before creating it again, or pass reconcile_create=True"
    )
    unknown = OutcomeUnknownError(
        f"create of pool {name!r} was sent but its answer was lost ({exc.kind.value}); "
        f"the pool may exist: {advice}",
        method=exc.method,
        path=exc.path,
        kind=exc.kind,
        sent=True,
    )
    if not settings.reconcile_create:
        raise unknown from exc
    lookup = _lookup(executor, operation, name, settings)
    try:
        found = await executor.send(lookup)
    except NotFoundError:
        # It never landed: one more create is safe; a 409 then means it landed late.
        try:
            once = operation.with_options(max_retries=0, reconcile_create=False)
            return await executor.send(once)
        except ConflictError:
            found = await executor.send(lookup)
    except Exception as lookup_error:
        raise unknown from lookup_error
    differing = differences(operation.fields, found.data)
    if differing:
        raise OutcomeUnknownError(
            f"create of pool {name!r} lost its answer, and a pool of that name exists "
            f"with other values for {', '.join(differing)}; see .existing",
            existing=found.data,
            method=exc.method,
            path=exc.path,
            kind=exc.kind,
            sent=True,
        ) from exc
    return found


async def renamed_meanwhile(
    executor: Executor, operation: UpdatePool, settings: CallSettings
) -> APIResponse[Pool] | None:
    """After a lost answer, a retried rename finds the old name gone: is the new one there?

    Returns the pool under its new name when it holds every value sent, else None (the
    404 then stands).
    """
    new_name = operation.get_field("name")
    if not isinstance(new_name, str) or new_name == operation.pool_name:
        return None
    try:
        found = await executor.send(_lookup(executor, operation, new_name, settings))
    except NotFoundError:
        return None
    return None if differences(operation.fields, found.data) else found
