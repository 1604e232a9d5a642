"""The error tree. Every error the SDK raises at run time is a `FastlyError`.

    FastlyError
    ├── APIStatusError               the API answered >= 400, or redirected (never followed)
    │   ├── BadRequestError          400
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── ConflictError            409
    │   ├── UnprocessableEntityError 422 (e.g. "Version locked")
    │   ├── RateLimitError           429
    │   └── ServerError              5xx
    ├── APIConnectionError           no usable answer (`sent` says if it may have arrived)
    │   ├── APITimeoutError
    │   │   └── PoolTimeoutError     no free connection in time: never sent
    │   └── OutcomeUnknownError      a create was sent and its answer lost
    └── ResponseDecodeError          a 2xx answer that cannot be read as a pool

Bad input raises `ValueError` / `TypeError` before anything is sent; misuse of a closed
client raises `ClientClosedError`, and use from a second event loop a `RuntimeError`,
both before anything is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any

from ._models import Pool, RateLimit
from ._types import Secret

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "ConnectionErrorKind",
    "FastlyError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "UnprocessableEntityError",
]


class FastlyError(Exception):
    """Root of every error raised by fastly_pools at run time.

    Errors pickle (for `concurrent.futures` and multiprocessing): headers travel as a plain
    dict, and the chained cause stays behind.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        if isinstance(state.get("headers"), Mapping):
            state["headers"] = dict(state["headers"])
        return (_restore, (type(self), self.args, state))


def _restore(cls: type[FastlyError], args: tuple[Any, ...], state: dict[str, Any]) -> FastlyError:
    """Rebuild a pickled error without calling its keyword-only `__init__`."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name in any letter case (a pickled error holds a plain dict)."""
    value = headers.get(name)
    if value is None and not hasattr(headers, "getall"):
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


class ClientClosedError(RuntimeError):
    """Raised when a closed `Client` is used."""


class APIStatusError(FastlyError):
    """Raised when the API answers with a status of 400 or more, or with a redirect.

    Redirects are never followed (the token must not go to another host): a 3xx answer
    is raised as a plain `APIStatusError`.

    Carries what is needed to act and to ask Fastly support: `method`, `path`, `status`,
    Fastly's `msg` and `detail`, `errors` (JSON:API or `errors` arrays), the raw `body` text,
    the response `headers`, `rate_limit`, and the correlation values `served_by`, `timer`
    and `request_id`.
    """

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        msg: str | None,
        detail: str | None,
        body: str,
        headers: Mapping[str, str],
        rate_limit: RateLimit,
        errors: tuple[Mapping[str, Any], ...] = (),
        hint: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.msg = msg
        self.detail = detail
        self.body = body
        self.headers = headers
        self.rate_limit = rate_limit
        self.errors = errors
        self.hint = hint
        super().__init__(self._message())

    @property
    def served_by(self) -> str | None:
        """The `X-Served-By` header: which Fastly nodes answered."""
        return _header(self.headers, "X-Served-By")

    @property
    def timer(self) -> str | None:
        """The `X-Timer` header, which Fastly support can use to find the request."""
        return _header(self.headers, "X-Timer")

    @property
    def request_id(self) -> str | None:
        """A request id header, where the API sent one."""
        for name in ("Fastly-Request-Id", "X-Request-Id", "Request-Id"):
            value = _header(self.headers, name)
            if value:
                return value
        return None

    def _message(self) -> str:
        text = f"{self.status} {self.msg or _reason(self.status)}"
        if self.detail:
            text += f": {self.detail}"
        text += f" ({self.method} {self.path})"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, msg={self.msg!r}, "
            f"detail={self.detail!r}, method={self.method!r}, path={self.path!r})"
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


class BadRequestError(APIStatusError):
    """Raised on 400: the API rejected a value."""


class AuthenticationError(APIStatusError):
    """Raised on 401: the token is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """Raised on 403: the token may not do this (e.g. a read-only token on a write)."""


class NotFoundError(APIStatusError):
    """Raised on 404: the service, version or pool does not exist (or the token cannot see it)."""


class ConflictError(APIStatusError):
    """Raised on 409: a pool of that name already exists. Never retried."""


class UnprocessableEntityError(APIStatusError):
    """Raised on 422, e.g. "Version locked": activated versions cannot be changed."""


class RateLimitError(APIStatusError):
    """Raised on 429, or when a wait for the hourly budget would exceed the allowed cap.

    `rate_limit.reset` says when the budget refills; `retry_after` is the server's
    `Retry-After` in seconds where it sent one.
    """

    def __init__(
        self, *, retry_after: float | None = None, budget_spent: bool = False, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        self.budget_spent = budget_spent
        super().__init__(**kwargs)

    @property
    def reset(self) -> datetime | None:
        """When the hourly budget refills (aware UTC), if the API said."""
        return self.rate_limit.reset


class ServerError(APIStatusError):
    """Raised on a 5xx answer."""


class ConnectionErrorKind(enum.Enum):
    """What went wrong below HTTP."""

    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    DISCONNECTED = "disconnected"
    TRUNCATED = "truncated"
    TIMEOUT = "timeout"
    POOL_TIMEOUT = "pool_timeout"
    OTHER = "other"


class APIConnectionError(FastlyError):
    """Raised when no usable answer arrived.

    `sent` is False when the request provably never reached the server (DNS, refused,
    TLS, no free connection), so running it again is safe; True when it may have arrived.
    The transport's own exception is chained as `__cause__`.
    """

    def __init__(
        self, message: str, *, method: str, path: str, kind: ConnectionErrorKind, sent: bool
    ) -> None:
        self.method = method
        self.path = path
        self.kind = kind
        self.sent = sent
        super().__init__(f"{message} ({method} {path})")


class APITimeoutError(APIConnectionError):
    """Raised when a request timed out."""


class PoolTimeoutError(APITimeoutError):
    """Raised when no pooled connection became free in time; the request was never sent."""


class OutcomeUnknownError(APIConnectionError):
    """Raised when a create was sent but its answer was lost: the pool may exist.

    Read it back with `get()` before creating again, or enable `reconcile_create`.
    `existing` holds the pool found by reconciliation when it differed from what was sent.
    """

    def __init__(self, message: str, *, existing: Pool | None = None, **kwargs: Any) -> None:
        self.existing = existing
        super().__init__(message, **kwargs)


class ResponseDecodeError(FastlyError):
    """Raised when a 2xx answer cannot be decoded; names the field and value."""

    def __init__(self, *, field: str, value: object, reason: str, method: str, path: str) -> None:
        self.field = field
        self.value = _guarded(field, value)
        self.reason = reason
        self.method = method
        self.path = path
        shown = _shown(field, value)
        super().__init__(
            f"cannot decode field {field!r} from value {shown}: {reason} ({method} {path})"
        )


def _guarded(field: str, value: object) -> object:
    """The undecodable value, with any `tls_client_key` text wrapped in a `Secret`."""
    if field == "tls_client_key" and isinstance(value, str):
        return Secret(value)
    if isinstance(value, dict) and isinstance(value.get("tls_client_key"), str):
        return {**value, "tls_client_key": Secret(value["tls_client_key"])}
    if isinstance(value, list):
        return [_guarded("<item>", item) for item in value]
    return value


def _shown(field: str, value: object) -> str:
    """A short repr of an undecodable value that never shows a private key."""
    if field == "tls_client_key":
        return "<redacted>"
    text = repr(_guarded(field, value))
    if "PRIVATE KEY" in text:
        return "<redacted: it holds a private key>"
    return text[:200]
