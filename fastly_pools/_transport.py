"""The one place requests go out through aiohttp, and where its errors become ours."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._config import Timeout
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConnectionErrorKind,
)

__all__ = ["RawAnswer", "client_timeout", "send_once"]


@attrs.frozen
class RawAnswer:
    """Strictly private: one HTTP answer, fully read."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


def client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """The aiohttp timeout for one attempt (pool waits are bounded by the client's own gate)."""
    return aiohttp.ClientTimeout(total=timeout.total, sock_connect=timeout.connect)


async def send_once(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    path: str,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: aiohttp.ClientTimeout,
) -> RawAnswer:
    """Send one attempt and read the whole answer; redirects are never followed.

    On any failure or cancellation the connection is closed, never returned to the
    pool half-read.
    """
    try:
        response = await session.request(
            method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout
        )
        try:
            payload = await response.read()
        except BaseException:
            response.close()
            raise
        response.release()
        return RawAnswer(response.status, response.headers, payload)
    except aiohttp.ClientError as exc:
        _scrub(exc)
        raise _map_client_error(exc, method, path) from exc
    except TimeoutError as exc:  # aiohttp's total timeout during the answer
        raise APITimeoutError(
            "timed out waiting for the answer",
            method=method,
            path=path,
            kind=ConnectionErrorKind.TIMEOUT,
            sent=True,
        ) from exc
    except ssl.SSLError as exc:
        raise APIConnectionError(
            f"TLS failure: {exc}", method=method, path=path, kind=ConnectionErrorKind.TLS, sent=True
        ) from exc
    except RuntimeError as exc:
        if not session.closed:
            raise
        raise ClientClosedError(
            f"the aiohttp session was closed while sending ({method} {path})"
        ) from exc
    except OSError as exc:
        raise APIConnectionError(
            f"connection failed: {exc}",
            method=method,
            path=path,
            kind=ConnectionErrorKind.OTHER,
            sent=True,
        ) from exc


_K = ConnectionErrorKind
# First match wins: subclasses before their bases. `sent` is False only where certain.
_CLIENT_ERRORS: tuple[tuple[type[aiohttp.ClientError], ConnectionErrorKind, bool, str], ...] = (
    (aiohttp.ConnectionTimeoutError, _K.TIMEOUT, False, "connect timeout"),
    (aiohttp.ServerTimeoutError, _K.TIMEOUT, True, "read timeout"),
    (aiohttp.ClientSSLError, _K.TLS, False, "TLS failure"),
    (aiohttp.ClientConnectorError, _K.REFUSED, False, "could not connect"),
    (aiohttp.ServerDisconnectedError, _K.DISCONNECTED, True, "server disconnected"),
    (aiohttp.ClientPayloadError, _K.TRUNCATED, True, "answer cut short"),
    (aiohttp.ClientOSError, _K.DISCONNECTED, True, "connection lost"),
    (aiohttp.ClientResponseError, _K.OTHER, True, "malformed answer"),
)


def _scrub(exc: aiohttp.ClientError) -> None:
    """Drop the request headers (and so the token) from an aiohttp error we chain.

    `ClientResponseError` keeps the request's headers in `request_info`, which its repr
    shows; the error is chained as our `__cause__`, so it must not hold the token.
    """
    info = getattr(exc, "request_info", None)
    if not isinstance(info, aiohttp.RequestInfo):
        return
    kept = CIMultiDict((k, v) for k, v in info.headers.items() if k.lower() != "fastly-key")
    clean = aiohttp.RequestInfo(info.url, info.method, CIMultiDictProxy(kept), info.real_url)
    exc.request_info = clean  # type: ignore[attr-defined]
    exc.args = (clean, *exc.args[1:])


def _map_client_error(exc: aiohttp.ClientError, method: str, path: str) -> APIConnectionError:
    """One aiohttp error to one of ours, with its kind and whether it may have been sent."""
    kind, sent, what = _K.OTHER, True, "HTTP client error"
    for error_type, kind_, sent_, what_ in _CLIENT_ERRORS:
        if isinstance(exc, error_type):
            kind, sent, what = kind_, sent_, what_
            break
    if kind is _K.REFUSED and isinstance(getattr(exc, "os_error", None), socket.gaierror):
        # aiohttp >= 3.11 raises ClientConnectorDNSError; older ones only chain the gaierror.
        kind, what = _K.DNS, "DNS lookup failed"
    cls = APITimeoutError if kind is _K.TIMEOUT else APIConnectionError
    text = str(exc) or type(exc).__name__
    return cls(f"{what}: {text}", method=method, path=path, kind=kind, sent=sent)
