"""The send loop: one attempt at a time, the retry decisions applied, lost answers resolved."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final, TypeVar, cast

import aiohttp
from yarl import URL

from ._config import CallOptions, CallSettings, Timeout
from ._exceptions import (
    APIConnectionError,
    ConnectionErrorKind,
    PoolTimeoutError,
    ResponseDecodeError,
)
from ._lifecycle import Lifecycle
from ._models import APIResponse, DeleteResult, RateLimit
from ._operation import Operation, Request
from ._pools import CreatePool, DeletePool, UpdatePool
from ._ratelimit import parse_rate_limit, retry_after_seconds, seconds_until
from ._recover import lost_create, renamed_meanwhile
from ._retry import Decision, decide
from ._serde import DecodeFailure
from ._status_errors import status_error
from ._transport import RawAnswer, client_timeout, send_once
from ._types import UNSET, Secret

__all__ = ["Sender"]

T = TypeVar("T")
logger: Final = logging.getLogger("fastly_pools")
_NO_OVERRIDES: Final = CallOptions()


class Sender:
    """Strictly private: sends builders for a `Client`, and keeps the rate-limit state."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        base_url: URL,
        token: Secret,
        user_agent: str,
        settings: CallSettings,
    ) -> None:
        self.lifecycle = lifecycle
        self.base = str(base_url)
        self.token = token
        self.headers: dict[str, str] = {
            "Fastly-Key": token.reveal(),
            "Accept": "application/json",
            "User-Agent": user_agent,
        }
        self.form_headers = {**self.headers, "Content-Type": "application/x-www-form-urlencoded"}
        self.settings = settings
        self.client_timeout = client_timeout(settings.timeout)
        self.rate_limit = RateLimit()

    def settings_for(self, options: CallOptions) -> CallSettings:
        """The client's settings with one call's overrides applied."""
        base = self.settings
        if options is _NO_OVERRIDES or options == _NO_OVERRIDES:
            return base  # the common case
        return CallSettings(
            timeout=base.timeout if options.timeout is UNSET else options.timeout,
            max_retries=base.max_retries if options.max_retries is UNSET else options.max_retries,
            retry=base.retry if options.retry is UNSET else options.retry,
            reconcile_create=(
                base.reconcile_create
                if options.reconcile_create is UNSET
                else options.reconcile_create
            ),
        )

    async def attempt(self, session: aiohttp.ClientSession, request: Request, url: URL,
                      timeout: Timeout) -> RawAnswer:  # fmt: skip
        """One attempt, after waiting (outside the request timeout) for a connection slot."""
        slots = self.lifecycle.slots
        assert slots is not None
        if slots.locked():
            try:
                async with asyncio.timeout(timeout.pool):
                    await slots.acquire()
            except TimeoutError:
                raise PoolTimeoutError(
                    f"no free connection within {timeout.pool}s (connection_limit="
                    f"{self.lifecycle.connection_limit}); the request was not sent",
                    method=request.method,
                    path=request.path,
                    kind=ConnectionErrorKind.POOL_TIMEOUT,
                    sent=False,
                ) from None
        else:
            await slots.acquire()  # free: returns at once, no timer needed
        try:
            headers = self.headers if request.body is None else self.form_headers
            aio_timeout = (
                self.client_timeout
                if timeout is self.settings.timeout
                else client_timeout(timeout)
            )
            return await send_once(
                session, request.method, url, request.path, headers, request.body, aio_timeout
            )
        finally:
            slots.release()

    async def send(self, operation: Operation[T]) -> APIResponse[T]:
        """Send a builder with retries; used by `execute()` and `execute_raw()`."""
        session = self.lifecycle.open()
        request = operation.build_request()
        settings = self.settings_for(operation.options)
        url = URL(self.base + request.path, encoded=True)
        retries = 0
        ambiguous = False  # an earlier attempt may have changed the server's state
        while True:
            try:
                answer = await self.attempt(session, request, url, settings.timeout)
            except APIConnectionError as exc:
                ambiguous = ambiguous or exc.sent
                decision = self._after_no_answer(request, exc, settings, retries)
                if not decision.retry:
                    if isinstance(operation, CreatePool) and exc.sent:
                        found = await lost_create(self, operation, exc, settings)
                        return cast(APIResponse[T], found)
                    raise
            else:
                if 200 <= answer.status < 300:
                    return self._success(operation, request, answer, retries)
                outcome = await self._failure(
                    operation, request, answer, settings, retries, ambiguous
                )
                if isinstance(outcome, APIResponse):
                    return outcome
                decision = outcome
                ambiguous = ambiguous or answer.status >= 500
            self._log_retry(request, decision, retries + 1, settings.max_retries + 1)
            await asyncio.sleep(decision.wait)  # cancellable, like every wait here
            retries += 1

    def _after_no_answer(self, request: Request, exc: APIConnectionError,
                         settings: CallSettings, retries: int) -> Decision:  # fmt: skip
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s: %s (attempt %d)", request.method, request.path,
                         exc.kind.value, retries + 1)  # fmt: skip
        return decide(
            request.method,
            retries_done=retries,
            max_retries=settings.max_retries,
            policy=settings.retry,
            kind=exc.kind,
            sent=exc.sent,
        )

    def _success(self, operation: Operation[T], request: Request, answer: RawAnswer,
                 retries: int) -> APIResponse[T]:  # fmt: skip
        """The typed result of a 2xx answer (the hot path: keep it lean)."""
        if request.method != "GET":  # successful reads never carry the budget headers
            reported = parse_rate_limit(answer.headers)
            if reported is not None:
                self.rate_limit = reported
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d (attempt %d)", request.method, request.path,
                         answer.status, retries + 1)  # fmt: skip
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
        return APIResponse(answer.status, answer.headers, data, retries + 1)

    async def _failure(
        self,
        operation: Operation[T],
        request: Request,
        answer: RawAnswer,
        settings: CallSettings,
        retries: int,
        ambiguous: bool,
    ) -> APIResponse[T] | Decision:
        """An error answer: a recovered result, or the decision to retry; raises otherwise."""
        status, headers = answer.status, answer.headers
        reported = parse_rate_limit(headers)
        if reported is not None:
            self.rate_limit = reported
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d (attempt %d)", request.method, request.path, status,
                         retries + 1)  # fmt: skip
        if status == 404 and ambiguous:
            # An earlier attempt whose answer was lost probably did the work.
            if isinstance(operation, DeletePool):
                gone = DeleteResult(name=operation.pool_name, already_absent=True)
                return cast(APIResponse[T], APIResponse(status, headers, gone, retries + 1))
            if isinstance(operation, UpdatePool):
                found = await renamed_meanwhile(self, operation, settings)
                if found is not None:
                    return cast(APIResponse[T], found)
        error = status_error(
            method=request.method,
            path=request.path,
            status=status,
            headers=headers,
            body=answer.body,
            rate_limit=reported or self.rate_limit,
            secrets=_secrets_of(operation, self.token),
        )
        server_wait = retry_after_seconds(headers)
        # The budget is spent until the reset; a 429 that reports budget left is something
        # else, and gets the ordinary backoff.
        if (
            server_wait is None
            and status == 429
            and reported is not None
            and (reported.remaining is None or reported.remaining <= 0)
        ):
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
            if decision.wait > settings.retry.max_server_wait:  # not slept: say why
                error.add_note(f"not retried: {decision.reason}")
            raise error
        return decision

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


def _secrets_of(operation: Operation[Any], token: Secret) -> tuple[str, ...]:
    """Texts an error body must never repeat: the token, and a private key being sent."""
    key = operation.get_field("tls_client_key") if hasattr(operation, "get_field") else None
    if not isinstance(key, Secret):
        return (token.reveal(),)
    # The whole PEM, and each line of its body, should an answer echo the key unarmoured.
    body = [line.strip() for line in key.reveal().splitlines() if "-----" not in line]
    return (token.reveal(), key.reveal(), *(line for line in body if len(line) >= 16))
