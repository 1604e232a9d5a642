"""fastly_pools: an async-first SDK for Fastly's load-balancing pool API.

    async with fastly_pools.Client() as client:
        pool = await client.pools.create(service_id, 7).name("origin").quorum(75).execute()
"""

from ._client import DEFAULT_BASE_URL, TOKEN_ENV, Client
from ._config import DEFAULT_MAX_RETRIES, DEFAULT_RETRY, DEFAULT_TIMEOUT, RetryPolicy, Timeout
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    ConnectionErrorKind,
    FastlyError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PoolTimeoutError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    UnprocessableEntityError,
)
from ._fanout import FanOut
from ._fanout_report import FanOutError, FanOutProgress, FanOutReport, Outcome, OutcomeState
from ._fields import WRITABLE_FIELDS
from ._models import APIResponse, DeleteResult, Pool, PoolType, RateLimit
from ._pools import CreatePool, DeletePool, GetPool, ListPools, Pools, UpdatePool
from ._types import UNSET, InputTypeError, Secret
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ConflictError",
    "ConnectionErrorKind",
    "CreatePool",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "DeletePool",
    "DeleteResult",
    "FanOut",
    "FanOutError",
    "FanOutProgress",
    "FanOutReport",
    "FastlyError",
    "GetPool",
    "InputTypeError",
    "ListPools",
    "NotFoundError",
    "Outcome",
    "OutcomeState",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "Pool",
    "PoolTimeoutError",
    "PoolType",
    "Pools",
    "RateLimit",
    "RateLimitError",
    "ResponseDecodeError",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "TOKEN_ENV",
    "Timeout",
    "UNSET",
    "UnprocessableEntityError",
    "UpdatePool",
    "WRITABLE_FIELDS",
    "__version__",
]
