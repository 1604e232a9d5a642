"""One-line error messages and the exit codes of `fastly-pools`.

Every failure the command line expects (an API answer, a lost connection, a bad flag or
input row) becomes one line on stderr; a traceback means a bug.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Final

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    FastlyError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_CODES_HELP",
    "EXIT_CONNECTION",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "TOKEN_FILE",
    "UsageError",
    "auth_refusal",
    "describe",
    "exit_code",
    "is_auth_error",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_AUTH: Final = 3
EXIT_CONNECTION: Final = 4
EXIT_INTERRUPTED: Final = 130

EXIT_CODES_HELP: Final = """\
exit codes:
  0    done (bulk-update: every target SUCCEEDED)
  1    the API answered with an error (bulk-update: some target FAILED, UNKNOWN or NOT_SENT)
  2    usage or input error: bad flag value, bad targets row, no token; nothing was sent
  3    the token was refused (401) or may not do this (403); bulk-update: for any target
  4    no usable answer: connection refused, timeout, answer lost
  130  interrupted (Ctrl-C)
"""


# The --token-file the command read its token from, if any: set once per command by
# `main`, so the 401 hint names that file rather than the environment variable.
TOKEN_FILE: ContextVar[str | None] = ContextVar("TOKEN_FILE", default=None)


class UsageError(Exception):
    """Raised for bad command-line input; printed as one line, exit code 2, nothing sent."""


def _status_hint(exc: APIStatusError) -> str | None:
    """The SDK's hint, or one the command line can add because it knows its own flags."""
    token_file = TOKEN_FILE.get()
    if isinstance(exc, AuthenticationError) and token_file:
        # The SDK's hint names FASTLY_API_TOKEN, which this command did not read.
        return f"check the token in --token-file {token_file!r}; it may be wrong or expired"
    if exc.hint:
        return exc.hint
    if isinstance(exc, RateLimitError):
        reset = exc.reset.isoformat() if exc.reset is not None else "within the hour"
        return f"the hourly write budget is used up; it refills at {reset}"
    if isinstance(exc, PermissionDeniedError):
        return "the token's scope or role may not change this service"
    if isinstance(exc, NotFoundError) and exc.detail and "Pool" in exc.detail:
        return "see the pools of this version with `fastly-pools list SERVICE VERSION`"
    if isinstance(exc, AuthenticationError):
        return "check FASTLY_API_TOKEN or --token-file"
    return None


def describe(exc: BaseException) -> str:
    """One line for an error, without the "error:" prefix; never a secret."""
    if isinstance(exc, APIStatusError):
        text = f"{exc.status} {exc.msg or 'error'}"
        if exc.detail:
            text += f": {exc.detail}"
        text += f" ({exc.method} {exc.path})"
        hint = _status_hint(exc)
        return f"{text}; hint: {hint}" if hint else text
    if isinstance(exc, OutcomeUnknownError):
        return (
            f"{exc}; hint: the pool may exist now, check with `fastly-pools get` "
            "before creating it again"
        )
    if isinstance(exc, APIConnectionError):
        text = f"{exc} [{exc.kind.value}]"
        if not exc.sent:
            return f"{text}; hint: nothing was sent; is FASTLY_API_URL / --base-url right?"
        if exc.method != "GET":
            return f"{text}; hint: the change may have been applied; check with `fastly-pools get`"
        return text
    if isinstance(exc, ResponseDecodeError | FastlyError | UsageError | ValueError | TypeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def is_auth_error(exc: BaseException | None) -> bool:
    """Whether the API refused the token (401) or its scope (403): exit code 3."""
    return isinstance(exc, AuthenticationError | PermissionDeniedError)


def auth_refusal(first: APIStatusError, count: int) -> str:
    """The one line a bulk run prints once when the token was refused, with its hint."""
    what = "refused the token" if isinstance(first, AuthenticationError) else "denied the token"
    noun = "target" if count == 1 else "targets"
    text = f"the API {what} ({first.status} {first.msg or 'error'}) for {count} {noun}"
    hint = _status_hint(first)
    return f"{text}; hint: {hint}" if hint else text


def exit_code(exc: BaseException) -> int:
    """The documented exit code for an error (see `EXIT_CODES_HELP`)."""
    if is_auth_error(exc):
        return EXIT_AUTH
    if isinstance(exc, APIConnectionError):
        return EXIT_CONNECTION
    if isinstance(exc, FastlyError):
        return EXIT_FAILED
    if isinstance(exc, UsageError | ValueError | TypeError):
        return EXIT_USAGE
    return EXIT_FAILED
