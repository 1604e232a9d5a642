"""`Client`: the public face. Settings are checked here; sending lives in `_send`, the
session's life in `_lifecycle`."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterable, Callable, Iterable
from types import TracebackType
from typing import Any, Final, TypeVar

import aiohttp
from yarl import URL

from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    CallSettings,
    RetryPolicy,
    Timeout,
    as_timeout,
    check_max_retries,
)
from ._fanout import FanOut, OnStop
from ._fanout_report import FanOutProgress
from ._lifecycle import Lifecycle, State
from ._models import APIResponse, RateLimit
from ._operation import Operation
from ._pools import Pools
from ._send import Sender
from ._types import InputTypeError, Secret
from ._urls import check_base_url
from ._version import __version__

__all__ = ["DEFAULT_BASE_URL", "TOKEN_ENV", "Client"]

T = TypeVar("T")
DEFAULT_BASE_URL: Final = "https://api.fastly.com"
TOKEN_ENV: Final = "FASTLY_API_TOKEN"
USER_AGENT: Final = (
    f"fastly_pools/{__version__} (python {sys.version_info[0]}.{sys.version_info[1]}; "
    f"aiohttp {aiohttp.__version__})"
)


def _check_token(token: str | Secret | None) -> Secret:
    if isinstance(token, Secret):
        token = token.reveal()
    if token is None:
        token = os.environ.get(TOKEN_ENV)
    if token is not None and not isinstance(token, str):
        raise InputTypeError(f"token must be a str or a Secret, not {type(token).__name__}")
    if not token or not token.strip():
        raise ValueError(
            f"no Fastly API token: pass Client(token=...) or set the {TOKEN_ENV} "
            "environment variable"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        # Never echo the token itself.
        raise ValueError("the Fastly API token must not contain spaces or control characters")
    return Secret(token)


def _check_limit(connection_limit: object) -> int:
    if isinstance(connection_limit, bool) or not isinstance(connection_limit, int):
        raise InputTypeError(f"connection_limit must be an int: {connection_limit!r}")
    if connection_limit < 1:
        raise ValueError(f"connection_limit must be >= 1: {connection_limit!r}")
    return connection_limit


class Client:
    """An async client for Fastly's pool API. Create one per application and event loop.

    `client.pools` holds the five operations (`list`, `get`, `create`, `update`,
    `delete`), each returning a builder to `execute()`; `client.fan_out(builders)` runs
    many at once.

    Use it as `async with Client() as client:`, or create it at start-up and
    `await client.close()` at shutdown. It may be created outside a running loop: the
    aiohttp session is made on first use, in the loop that uses it. An injected
    `session` is used as is and never closed by the client.

    Args:
        token: the API token; defaults to the `FASTLY_API_TOKEN` environment variable.
        base_url: https, or http on a loopback host (for `FakeFastly`).
        session: an aiohttp session to borrow instead of owning one.
        timeout: per-attempt bounds (a `Timeout`, or seconds for the total bound).
        max_retries: retries after the first attempt (see the README's "Reliability").
        retry: the backoff and server-wait policy.
        reconcile_create: after a create whose answer was lost, read the pool back.
        connection_limit: most requests in flight at once through this client; a call
            waits up to `Timeout.pool` for a free one, apart from its request timeout.
        trace_configs: aiohttp `TraceConfig`s for the session the client creates (add
            them to an injected session yourself).
        user_agent: text prepended to the SDK's User-Agent.
    """

    def __init__(
        self,
        token: str | Secret | None = None,
        *,
        base_url: str | URL = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry: RetryPolicy = DEFAULT_RETRY,
        reconcile_create: bool = False,
        connection_limit: int = 100,
        trace_configs: Iterable[aiohttp.TraceConfig] = (),
        user_agent: str | None = None,
    ) -> None:
        secret = _check_token(token)
        self._base_url = check_base_url(base_url)
        if not isinstance(retry, RetryPolicy):
            raise InputTypeError(f"retry must be a RetryPolicy: {retry!r}")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise InputTypeError(f"session must be an aiohttp.ClientSession: {session!r}")
        trace_configs = list(trace_configs)
        if session is not None and trace_configs:
            raise ValueError(
                "trace_configs apply to the session the client creates; pass them to "
                "your own aiohttp.ClientSession instead"
            )
        settings = CallSettings(
            timeout=as_timeout(timeout),
            max_retries=check_max_retries(max_retries),
            retry=retry,
            reconcile_create=bool(reconcile_create),
        )
        self._life = Lifecycle(session, _check_limit(connection_limit), trace_configs)
        agent = USER_AGENT if not user_agent else f"{user_agent} {USER_AGENT}"
        self._sender = Sender(self._life, self._base_url, secret, agent, settings)
        self.pools: Final = Pools(self)

    def __repr__(self) -> str:
        return f"Client(base_url={str(self._base_url)!r}, state={self._life.state.value!r})"

    @property
    def base_url(self) -> URL:
        """The API's base URL."""
        return self._base_url

    @property
    def timeout(self) -> Timeout:
        """The per-attempt time bounds in force unless a call overrides them."""
        return self._sender.settings.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt, unless a call overrides it."""
        return self._sender.settings.max_retries

    @property
    def retry(self) -> RetryPolicy:
        """The backoff and server-wait policy in force unless a call overrides it."""
        return self._sender.settings.retry

    @property
    def rate_limit(self) -> RateLimit:
        """The write budget from the latest answer that reported it (None values until then)."""
        return self._sender.rate_limit

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._life.state is State.CLOSED

    async def __aenter__(self) -> Client:
        self._life.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the owned session. Safe to call more than once; an injected one is left open."""
        await self._life.close()

    async def send(self, operation: Operation[T]) -> APIResponse[T]:
        """Send a builder with retries; `execute()` and `execute_raw()` call this."""
        return await self._sender.send(operation)

    def fan_out(
        self,
        builders: Iterable[Operation[Any]] | AsyncIterable[Operation[Any]],
        *,
        concurrency: int = 16,
        budget_reserve: int = 0,
        max_budget_wait: float = 60.0,
        stop_after_failures: int | None = None,
        on_stop: OnStop = "cancel",
        on_progress: Callable[[FanOutProgress], object] | None = None,
        keep_succeeded: bool = True,
    ) -> FanOut:
        """Run many builders with bounded concurrency; see `FanOut` and the README's
        "Bulk changes across many services"."""
        return FanOut(
            self,
            builders,
            concurrency=concurrency,
            budget_reserve=budget_reserve,
            max_budget_wait=max_budget_wait,
            stop_after_failures=stop_after_failures,
            on_stop=on_stop,
            on_progress=on_progress,
            keep_succeeded=keep_succeeded,
        )
