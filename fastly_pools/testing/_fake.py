"""`FakeFastly`: the stateful fake pool API on a real local socket, and `serve_forever`."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from aiohttp import web

from ._app import Backend
from ._budget import WriteBudget
from ._errors import ApiError
from ._faults import Fault
from ._journal import OverlappingWrite, ReceivedRequest
from ._pool import FIELDS, SERVER_ONLY, StoredPool, clean

# Handlers that outlive this on close are cancelled; hangs and sleeps already end on close.
_SHUTDOWN_TIMEOUT = 0.5


class FakeFastly:
    """A faithful, stateful fake of Fastly's pool API, served over HTTP on `host:port`.

    Use it as `async with FakeFastly() as fake:` (or `await fake.start()` / `await fake.close()`),
    seed services with `add_service`, point a client at `fake.base_url` with `fake.token`, and
    inspect `fake.requests` afterwards. Port 0 picks a free port.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        latency: float = 0.0,
    ) -> None:
        if token == "":
            raise ValueError("token must not be empty")
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self._host = host
        self._port = port
        self._backend = Backend(
            token=token or secrets.token_urlsafe(24),
            read_only_token=secrets.token_urlsafe(24),
            latency=latency,
        )
        self._app = self._backend.make_app()
        self._runner: web.AppRunner | None = None
        self._closed = False

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not running"
        return f"<FakeFastly {where}>"

    async def __aenter__(self) -> FakeFastly:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start serving; does nothing when already started.

        Raises:
            RuntimeError: after `close()`; a fake is not restarted.
        """
        if self._closed:
            raise RuntimeError("this FakeFastly is closed; create a new one")
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self._app,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def close(self) -> None:
        """Stop serving; requests still in flight are dropped. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._backend.stopping.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def app(self) -> web.Application:
        """The aiohttp application, e.g. to serve it some other way."""
        return self._app

    @property
    def port(self) -> int:
        """The bound port (known once started, unless a fixed port was given)."""
        if self._port == 0:
            raise RuntimeError("the fake is not started yet")
        return self._port

    @property
    def base_url(self) -> str:
        """`http://host:port`, no trailing slash."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def token(self) -> str:
        """A token accepted for every request."""
        return self._backend.token

    @property
    def read_only_token(self) -> str:
        """A token accepted for reads; writes with it get 403."""
        return self._backend.read_only_token

    @property
    def latency(self) -> float:
        """Seconds added to every request (awaited, never blocking the loop)."""
        return self._backend.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._backend.latency = seconds

    # -- seeding and inspecting state ------------------------------------------------------

    def add_service(self, service_id: str | None = None, *, versions: int = 1) -> str:
        """Create a service with editable versions 1..`versions`; returns its id."""
        return self._backend.state.add_service(service_id, versions=versions)

    def add_version(self, service_id: str, *, locked: bool = False) -> int:
        """Add the next version to a service; returns its number."""
        with _python_errors():
            return self._backend.state.add_version(service_id, locked=locked)

    def lock_version(self, service_id: str, version: int) -> None:
        """Lock a version, as activation does: writes to it then get 422."""
        with _python_errors():
            self._backend.state.lock(service_id, version)

    def seed_pool(self, service_id: str, version: int, name: str, **fields: object) -> StoredPool:
        """Store a pool directly (locked versions too) and return it as the API shows it.

        Fields take Python values (`quorum=50`, `use_tls=True`, `shield=None`) and are
        validated like a create; `id` and the timestamps may be set too.

        Raises:
            KeyError: unknown service or version.
            ValueError: a value the API would refuse, or a duplicate name.
            TypeError: an unknown field.
        """
        unknown = sorted(fields.keys() - set(FIELDS) | fields.keys() & {"service_id", "version"})
        if unknown:
            raise TypeError(f"cannot seed pool fields: {', '.join(unknown)}")
        form = {"name": name}
        form.update((k, _form_text(v)) for k, v in fields.items() if k not in SERVER_ONLY)
        with _python_errors():
            values = clean(form, creating=True)
            for key in fields.keys() & SERVER_ONLY:
                values[key] = None if fields[key] is None else str(fields[key])
            return self._backend.state.seed_pool(service_id, version, values)

    def pools(self, service_id: str, version: int) -> list[StoredPool]:
        """Copies of the pools stored in a version, as GET shows them."""
        with _python_errors():
            return self._backend.state.list_pools(service_id, version)

    # -- write budget ----------------------------------------------------------------------

    def set_write_budget(
        self, limit: int, *, remaining: int | None = None, reset_at: float | datetime | None = None
    ) -> None:
        """Set the hourly write budget; `reset_at` is epoch seconds or an aware datetime.

        `remaining` defaults to `limit`, `reset_at` to the next full UTC hour. When `reset_at`
        passes, the budget refills to `limit` and the reset moves on by whole hours.
        """
        self._backend.budget.set(limit, remaining=remaining, reset_at=reset_at, now=time.time())

    @property
    def write_budget(self) -> WriteBudget:
        """The current (limit, remaining, reset_at)."""
        return self._backend.budget.snapshot(time.time())

    # -- faults ----------------------------------------------------------------------------

    def inject(
        self, fault: Fault, *, method: str | None = None, path: str | None = None, times: int = 1
    ) -> None:
        """Apply `fault` to the next `times` requests matching `method` and `path`.

        `path` is a regular expression searched in the raw (percent-encoded) path; None
        matches every request. Faults apply in the order injected.
        """
        self._backend.faults.add(fault, method=method, path=path, times=times)

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        self._backend.faults.clear()

    # -- what was received -----------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Finished requests, oldest first."""
        return list(self._backend.journal.requests)

    @property
    def overlapping_writes(self) -> list[OverlappingWrite]:
        """Pairs of writes to one service that were handled at the same time."""
        return list(self._backend.journal.overlaps)

    @property
    def max_concurrent(self) -> int:
        """The most requests seen in flight at once."""
        return self._backend.journal.max_concurrent

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        return self._backend.journal.in_flight

    def clear_requests(self) -> None:
        """Empty `requests` and `overlapping_writes`; `max_concurrent` restarts from now."""
        self._backend.journal.clear()


def _form_text(value: object) -> str:
    """A Python value as the form text a client would send (None sends an empty value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as a pool field")


@contextmanager
def _python_errors() -> Iterator[None]:
    """Turn an API error answer into the builtin error a seeding helper raises."""
    try:
        yield
    except ApiError as error:
        message = error.detail or error.msg
        if error.status == 404:
            raise KeyError(message) from None
        raise ValueError(message) from None


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    *,
    on_ready: Callable[[FakeFastly], object] | None = None,
) -> None:
    """Serve a fake until cancelled; prints nothing.

    `on_ready(fake)` runs once it listens, e.g. to seed a service and print `fake.base_url`
    and `fake.token`.
    """
    async with FakeFastly(host=host, port=port, token=token) as fake:
        if on_ready is not None:
            on_ready(fake)
        await asyncio.Event().wait()
