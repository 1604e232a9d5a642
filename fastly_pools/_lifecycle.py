"""The client's aiohttp session: opened on first use, borrowed or owned, closed exactly once.

A forgotten client must neither leak sockets nor print aiohttp's "Unclosed client
session" or asyncio's "Event loop is closed" at exit. Two safety nets, each warning
once with a `ResourceWarning`:

- a tiny async generator registered with the running loop: `asyncio.run()` closes
  every live async generator before it closes the loop, so the session is closed
  properly (awaited) while the loop still runs;
- `__del__`, for loops closed by hand: it closes the connector synchronously, which
  aiohttp does without touching a closed loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import warnings
import weakref
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import aiohttp

from ._exceptions import ClientClosedError

__all__ = ["Lifecycle"]

_FORGOTTEN = (
    "fastly_pools.Client was never closed: use `async with Client()` or "
    "`await client.close()`"
)


class State(enum.Enum):
    """Strictly private."""

    UNOPENED = "unopened"  # no session yet: nothing to close
    OPENED = "opened"  # a session exists (ours or injected)
    CLOSED = "closed"  # close() was called: every further use raises
    LOOP_ENDED = "loop_ended"  # its event loop finished while the client was open


class Lifecycle:
    """Strictly private: the session, its event loop and the connection slots."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        connection_limit: int,
        trace_configs: Iterable[aiohttp.TraceConfig],
    ) -> None:
        self.session = session
        self.owns_session = session is None
        self.connection_limit = connection_limit
        self.trace_configs = list(trace_configs)
        self.state = State.UNOPENED
        self.loop: asyncio.AbstractEventLoop | None = None
        # Bounds requests in flight; waiting here is not charged to the request timeout.
        self.slots: asyncio.Semaphore | None = None
        self._watcher: AsyncGenerator[None, None] | None = None

    def open(self) -> aiohttp.ClientSession:
        """The session for the running loop, created on first use."""
        if self.state is State.OPENED and asyncio.get_running_loop() is self.loop:
            assert self.session is not None
            return self.session
        if self.state is State.CLOSED:
            raise ClientClosedError(
                "this fastly_pools.Client is closed; create a new Client (or keep one "
                "open for the life of the application and close it at shutdown)"
            )
        loop = asyncio.get_running_loop()
        if self.loop is not None and loop is not self.loop:
            raise RuntimeError(
                "this fastly_pools.Client belongs to another event loop (a previous "
                "asyncio.run()?); nothing was sent. Create the Client inside the "
                "asyncio.run() that uses it: one Client per event loop"
            )
        if self.session is not None and self.session.closed:
            raise ClientClosedError(
                "the aiohttp session given to fastly_pools.Client was closed by its "
                "owner; nothing was sent"
            )
        self.loop = loop
        self.slots = asyncio.Semaphore(self.connection_limit)
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connection_limit),
                cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=self.trace_configs or None,
            )
            # Retries are ours alone: aiohttp would otherwise resend a DELETE once on a
            # reused connection, and a 404 to that resend would look like a real error.
            if hasattr(self.session, "_retry_connection"):
                self.session._retry_connection = False
            self._watch()
        self.state = State.OPENED
        return self.session

    def _watch(self) -> None:
        """Register with the loop an async generator it closes before the loop ends."""
        watcher = _watch(weakref.ref(self))
        step = watcher.asend(None)  # the loop's first-iteration hook registers it here
        with contextlib.suppress(StopIteration):
            step.send(None)  # run to its `yield`, so closing it runs the `finally`
        self._watcher = watcher

    async def close(self) -> None:
        """Close the owned session; safe to call more than once."""
        self.state = State.CLOSED
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await watcher.aclose()  # finds the client closed: does nothing
        session, self.session = self.session, None
        if session is None or not self.owns_session or session.closed:
            return
        if self.loop is asyncio.get_running_loop():
            await session.close()
        else:  # its loop has gone: close the sockets without awaiting on a foreign loop
            _close_now(session)

    async def loop_ending(self) -> None:
        """The loop is shutting down with the client still open: close it, warn once."""
        session = self.session
        if self.state is not State.OPENED or session is None or session.closed:
            return
        self.state = State.LOOP_ENDED
        await session.close()
        warnings.warn(_FORGOTTEN, ResourceWarning, stacklevel=1)

    def __del__(self, _warn: Any = warnings.warn) -> None:
        session = getattr(self, "session", None)
        if session is None or not getattr(self, "owns_session", False) or session.closed:
            return
        _close_now(session)
        _warn(_FORGOTTEN, ResourceWarning, source=self, stacklevel=1)


def _close_now(session: aiohttp.ClientSession) -> None:
    """Close a session's connector synchronously (no await is possible in `__del__`).

    aiohttp closes the sockets, or only marks the connector closed when its loop is
    already closed, so this never calls into a closed loop.
    """
    with contextlib.suppress(Exception):  # best effort
        connector = session.connector
        if connector is not None:
            connector._close()


async def _watch(owner: weakref.ref[Lifecycle]) -> AsyncGenerator[None, None]:
    """Suspended for the life of the loop; `asyncio.run()` closes it before the loop."""
    try:
        yield
    finally:
        lifecycle = owner()
        if lifecycle is not None:
            await lifecycle.loop_ending()
