"""`Client`: owns or borrows the aiohttp session, sends builders, keeps the rate-limit state."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import sys
import warnings
from collections.abc import AsyncIterable, Iterable
from types import TracebackType
from typing import Any, Final, TypeVar, cast

import aiohttp
import attrs
from yarl import URL

from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    CallOptions,
    RetryPolicy,
    Timeout,
    as_timeout,
    check_max_retries,
)
from ._fanout import FanOut
from ._exceptions import (
    APIConnectionError,
    ClientClosedError,
    ConflictError,
    ConnectionErrorKind,
    NotFoundError,
    OutcomeUnknownError,
    PoolTimeoutError,
    ResponseDecodeError,
)
from ._models import APIResponse, DeleteResult, Pool, RateLimit
from ._operation import Operation, Request
from ._pools import CreatePool, DeletePool, GetPool, Pools
from ._ratelimit import parse_rate_limit, retry_after_seconds, seconds_until
from ._reconcile import differences
from ._retry import Decision, decide
from ._serde import DecodeFailure
from ._status_errors import status_error
from ._transport import RawAnswer, client_timeout, send_once
from ._types import UNSET, Secret
from ._urls import check_base_url
from ._version import __version__

__all__ = ["DEFAULT_BASE_URL", "TOKEN_ENV", "Client"]

T = TypeVar("T")
logger: Final = logging.getLogger("fastly_pools")
DEFAULT_BASE_URL: Final = "https://api.fastly.com"
TOKEN_ENV: Final = "FASTLY_API_TOKEN"
USER_AGENT: Final = (
    f"fastly_pools/{__version__} (python {sys.version_info[0]}.{sys.version_info[1]}; "
    f"aiohttp {aiohttp.__version__})"
)


@attrs.frozen
class CallSettings:
    """Strictly private: the settings in force for one call."""

    timeout: Timeout
    max_retries: int
    retry: RetryPolicy
    reconcile_create: bool


class _State(enum.Enum):
    UNOPENED = "unopened"  # no session yet: nothing to close
    OPENED = "opened"  # a session exists (ours or injected)
    CLOSED = "closed"  # close() was called: every further use raises


def _check_token(token: str | Secret | None) -> Secret:
    if isinstance(token, Secret):
        token = token.reveal()
    if token is None:
        token = os.environ.get(TOKEN_ENV)
    if not token or not token.strip():
        raise ValueError(
            f"no Fastly API token: pass Client(token=...) or set the {TOKEN_ENV} "
            "environment variable"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        # Never echo the token itself.
        raise ValueError("the Fastly API token must not contain spaces or control characters")
    return Secret(token)


class Client:
    """An async client for Fastly's pool API. Create one per application and event loop.

    Use it as `async with Client() as client:`, or create it at start-up and
    `await client.close()` at shutdown. It may be created outside a running loop: the
    aiohttp session is made on first use. An injected `session` is used as is and never
    closed by the client.

    Args:
        token: the API token; defaults to the `FASTLY_API_TOKEN` environment variable.
        base_url: https, or http on a loopback host (for `FakeFastly`).
        session: an aiohttp session to borrow instead of owning one.
        timeout: per-attempt bounds (a `Timeout`, or seconds for the total bound).
        max_retries: retries after the first attempt (see the README's "Reliability").
        retry: the backoff and server-wait policy.
        reconcile_create: after a create whose answer was lost, read the pool back.
        connection_limit: most requests in flight at once through this client.
        trace_configs: aiohttp `TraceConfig`s for the owned session.
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
        self._session: aiohttp.ClientSession | None = None
        self._owns_session = session is None
        self._token = _check_token(token)
        self._base_url = check_base_url(base_url)
        self._base = str(self._base_url)
        self._timeout = as_timeout(timeout)
        self._client_timeout = client_timeout(self._timeout)
        self._max_retries = check_max_retries(max_retries)
        if not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy: {retry!r}")
        self._retry = retry
        self._reconcile_create = bool(reconcile_create)
        if isinstance(connection_limit, bool) or not isinstance(connection_limit, int):
            raise TypeError(f"connection_limit must be an int: {connection_limit!r}")
        if connection_limit < 1:
            raise ValueError(f"connection_limit must be >= 1: {connection_limit!r}")
        self._connection_limit = connection_limit
        self._trace_configs = list(trace_configs)
        agent = USER_AGENT if not user_agent else f"{user_agent} {USER_AGENT}"
        self._headers: dict[str, str] = {
            "Fastly-Key": self._token.reveal(),
            "Accept": "application/json",
            "User-Agent": agent,
        }
        self._form_headers = {
            **self._headers,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self._state = _State.UNOPENED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._rate_limit = RateLimit()
        if session is not None:
            self._session = session
        self.pools: Final = Pools(self)

    def __repr__(self) -> str:
        return f"Client(base_url={self._base!r}, state={self._state.value!r})"

    @property
    def base_url(self) -> URL:
        """The API's base URL."""
        return self._base_url

    @property
    def rate_limit(self) -> RateLimit:
        """The write budget from the latest answer that reported it."""
        return self._rate_limit

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._state is _State.CLOSED

    async def __aenter__(self) -> Client:
        self._open()
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
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        session = getattr(self, "_session", None)
        if session is None or not getattr(self, "_owns_session", False) or session.closed:
            return
        _warn(
            "fastly_pools.Client was never closed: use `async with Client()` or "
            "`await client.close()`",
            ResourceWarning,
            source=self,
            stacklevel=1,
        )
        _detach(session)

    def _open(self) -> aiohttp.ClientSession:
        """The session for the running loop, created on first use."""
        if self._state is _State.CLOSED:
            raise ClientClosedError("this fastly_pools.Client is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            self._slots = asyncio.Semaphore(self._connection_limit)
            if self._session is None:
                self._session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=self._connection_limit),
                    cookie_jar=aiohttp.DummyCookieJar(),
                    trace_configs=self._trace_configs or None,
                )
            self._state = _State.OPENED
        elif loop is not self._loop:
            raise RuntimeError(
                "this fastly_pools.Client was opened in another event loop (another "
                "asyncio.run()?); create one Client per event loop"
            )
        assert self._session is not None
        return self._session

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        request: Request,
        url: URL,
        timeout: Timeout,
    ) -> RawAnswer:
        """One attempt, after waiting (outside the request timeout) for a connection slot."""
        slots = self._slots
        assert slots is not None
        try:
            async with asyncio.timeout(timeout.pool):
                await slots.acquire()
        except TimeoutError:
            raise PoolTimeoutError(
                f"no free connection within {timeout.pool}s (connection_limit="
                f"{self._connection_limit}); the request was not sent",
                method=request.method,
                path=request.path,
                kind=ConnectionErrorKind.POOL_TIMEOUT,
                sent=False,
            ) from None
        try:
            headers = self._headers if request.body is None else self._form_headers
            aio_timeout = (
                self._client_timeout if timeout is self._timeout else client_timeout(timeout)
            )
            return await send_once(
                session, request.method, url, request.path, headers, request.body, aio_timeout
            )
        finally:
            slots.release()

    async def send(self, operation: Operation[T]) -> APIResponse[T]:
        """Send a builder with retries; used by `execute()` and `execute_raw()`."""
        session = self._open()
        request = operation.build_request()
        settings = self._settings(operation.options)
        url = URL(self._base + request.path, encoded=True)
        method = request.method
        retries = 0
        ambiguous = False  # an earlier attempt may have changed the server's state
        while True:
            try:
                answer = await self._attempt(session, request, url, settings.timeout)
            except APIConnectionError as exc:
                ambiguous = ambiguous or exc.sent
                decision = decide(
                    method,
                    retries_done=retries,
                    max_retries=settings.max_retries,
                    policy=settings.retry,
                    kind=exc.kind,
                    sent=exc.sent,
                )
                if not decision.retry:
                    if isinstance(operation, CreatePool) and exc.sent:
                        found = await self._lost_create(operation, exc, settings)
                        return cast(APIResponse[T], found)
                    raise
            else:
                result, decision = self._handle(
                    operation, request, answer, settings, retries, ambiguous
                )
                if result is not None:
                    return result
                ambiguous = ambiguous or answer.status >= 500
            self._log_retry(request, decision, retries + 1, settings.max_retries + 1)
            await asyncio.sleep(decision.wait)
            retries += 1

    def _handle(
        self,
        operation: Operation[T],
        request: Request,
        answer: RawAnswer,
        settings: CallSettings,
        retries: int,
        ambiguous: bool,
    ) -> tuple[APIResponse[T] | None, Decision]:
        """A result for a usable answer, or the decision to retry; raises otherwise."""
        status = answer.status
        headers = answer.headers
        reported = parse_rate_limit(headers)
        if reported is not None:
            self._rate_limit = reported
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (attempt %d)", request.method, request.path, status, retries + 1
            )
        if 200 <= status < 300:
            try:
                data = operation.decode_body(answer.body)
            except DecodeFailure as failure:
                raise ResponseDecodeError(
                    field=failure.field,
                    value=failure.value,
                    reason=failure.reason,
                    method=request.method,
                    path=request.path,
                ) from failure
            return APIResponse(status, headers, data, retries + 1), Decision(False)
        if status == 404 and ambiguous and isinstance(operation, DeletePool):
            gone = DeleteResult(name=operation.pool_name, already_absent=True)
            return APIResponse(status, headers, gone, retries + 1), Decision(False)  # type: ignore[arg-type]
        rate_limit = reported or self._rate_limit
        error = status_error(
            method=request.method,
            path=request.path,
            status=status,
            headers=headers,
            body=answer.body,
            rate_limit=rate_limit,
        )
        server_wait = retry_after_seconds(headers)
        if server_wait is None and status == 429 and reported is not None:
            server_wait = seconds_until(reported.reset)
        decision = decide(
            request.method,
            retries_done=retries,
            max_retries=settings.max_retries,
            policy=settings.retry,
            status=status,
            server_wait=server_wait,
        )
        if not decision.retry:
            raise error
        return None, decision

    def fan_out(
        self,
        builders: Iterable[Operation[Any]] | AsyncIterable[Operation[Any]],
        *,
        concurrency: int = 16,
        **options: Any,
    ) -> FanOut:
        """Run many builders with bounded concurrency; see `FanOut` and the README's
        "Bulk changes across many services"."""
        return FanOut(self, builders, concurrency=concurrency, **options)

    def _settings(self, options: CallOptions) -> CallSettings:
        """The client's settings with one call's overrides applied."""
        return CallSettings(
            timeout=self._timeout if options.timeout is UNSET else options.timeout,
            max_retries=self._max_retries if options.max_retries is UNSET else options.max_retries,
            retry=self._retry if options.retry is UNSET else options.retry,
            reconcile_create=(
                self._reconcile_create
                if options.reconcile_create is UNSET
                else options.reconcile_create
            ),
        )

    async def _lost_create(
        self, operation: CreatePool, exc: APIConnectionError, settings: CallSettings
    ) -> APIResponse[Pool]:
        """A create was sent and no answer came: reconcile by name, or say the pool may exist."""
        name = operation.get_field("name")
        unknown = OutcomeUnknownError(
            f"create of pool {name!r} was sent but its answer was lost ({exc.kind.value}); "
            "the pool may exist: read it back before creating it again",
            method=exc.method,
            path=exc.path,
            kind=exc.kind,
            sent=True,
        )
        if not settings.reconcile_create:
            raise unknown from exc
        assert isinstance(name, str)
        lookup = GetPool(self, operation.service_id, operation.version, pool_name=name)
        lookup = lookup.with_options(timeout=settings.timeout, max_retries=settings.max_retries)
        try:
            found = await self.send(lookup)
        except NotFoundError:
            # It never landed: one more create is safe; a 409 then means it landed late.
            try:
                once = operation.with_options(max_retries=0, reconcile_create=False)
                return await self.send(once)
            except ConflictError:
                found = await self.send(lookup)
        except Exception as lookup_error:
            raise unknown from lookup_error
        differing = differences(operation.fields, found.data)
        if differing:
            raise OutcomeUnknownError(
                f"create of pool {name!r} lost its answer, and a pool of that name exists "
                f"with other values for {', '.join(differing)}",
                existing=found.data,
                method=exc.method,
                path=exc.path,
                kind=exc.kind,
                sent=True,
            ) from exc
        return found

    def _log_retry(self, request: Request, decision: Decision, attempt: int, attempts: int) -> None:
        logger.info(
            "%s %s: %s; retrying in %.2fs (attempt %d of %d)",
            request.method,
            request.path,
            decision.reason,
            decision.wait,
            attempt + 1,
            attempts,
        )


def _detach(session: aiohttp.ClientSession) -> None:
    """Close a forgotten session's sockets without touching a closed loop."""
    connector = session.connector
    loop = getattr(session, "_loop", None)
    if connector is None or loop is None or loop.is_closed():
        return
    with contextlib.suppress(Exception):  # best effort at garbage collection
        connector._close()  # synchronous close: no await is possible in __del__
