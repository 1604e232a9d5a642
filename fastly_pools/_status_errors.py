"""Turning a non-2xx answer, whatever its body shape, into a typed `APIStatusError`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._exceptions import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from ._models import RateLimit
from ._ratelimit import parse_rate_limit, retry_after_seconds

__all__ = ["redact_text", "status_error"]

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|$)", re.DOTALL
)
_MAX_BODY = 4096


def redact_text(text: str) -> str:
    """Hide any PEM private key in free text (error bodies are kept for support)."""
    if "PRIVATE KEY" not in text:
        return text
    return _PRIVATE_KEY.sub("<redacted private key>", text)


def _parse_body(text: str) -> tuple[str | None, str | None, tuple[Mapping[str, Any], ...]]:
    """Fastly's `msg`/`detail`, from the legacy, problem+json or JSON:API shape."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None, None, ()
    if not isinstance(data, dict):
        return None, None, ()
    msg = data.get("msg") or data.get("title") or data.get("error")
    detail = data.get("detail") or data.get("error_description")
    raw_errors = data.get("errors")
    errors: tuple[Mapping[str, Any], ...] = ()
    if isinstance(raw_errors, list):
        errors = tuple(item for item in raw_errors if isinstance(item, dict))
    if errors and msg is None:
        first = errors[0]
        msg = first.get("title") or first.get("reason") or first.get("code")
        detail = detail or first.get("detail")
    return (
        str(msg) if msg is not None else None,
        str(detail) if detail is not None else None,
        errors,
    )


def _hint(
    status: int, detail: str | None, msg: str | None, rate_limit: RateLimit, spent: bool
) -> str | None:
    if status == 404 and detail and "Cannot find 'service'" in detail:
        return (
            "An expired token, or a token whose role cannot see this service, "
            "also produces this answer"
        )
    if status == 401:
        return "Check the token (FASTLY_API_TOKEN); it may be missing, wrong or expired"
    if status == 403 and msg and "Read only" in msg:
        return "Writes need a token with the global scope, not a read-only one"
    if status == 422 and msg == "Version locked":
        return "Clone the version and change the clone; activated versions cannot change"
    if status == 429 and spent and rate_limit.reset is not None:
        return f"The hourly write budget refills at {rate_limit.reset:%Y-%m-%d %H:%M:%S} UTC"
    if 300 <= status < 400:
        return "Redirects are never followed: check base_url"
    return None


def status_error(
    *,
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    rate_limit: RateLimit,
    secrets: tuple[str, ...] = (),
) -> APIStatusError:
    """The typed error for one non-2xx answer. The raw text is kept (redacted, capped).

    `secrets` are texts never to repeat (the token, a private key being sent), should
    the API echo them in its answer.
    """
    text = redact_text(body[:_MAX_BODY].decode("utf-8", "replace"))
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, "<redacted>")
    msg, detail, errors = _parse_body(text)
    if msg is None and not text.strip():
        msg = "empty body"
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else APIStatusError)
    # Only this answer's own headers say whether the hourly budget is what ran out; a 429
    # that reports budget left is some other throttle, for which Retry-After is the guide.
    own = parse_rate_limit(headers)
    spent = own is not None and (own.remaining is None or own.remaining <= 0)
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "msg": msg,
        "detail": detail,
        "body": text,
        "headers": headers,
        "rate_limit": rate_limit,
        "errors": errors,
        "hint": _hint(status, detail, msg, rate_limit, spent),
    }
    if cls is RateLimitError:
        return RateLimitError(
            retry_after=retry_after_seconds(headers), budget_spent=spent, **fields
        )
    return cls(**fields)
