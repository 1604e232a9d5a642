"""The single-pool commands (list, get, create, update, delete) and the client they share."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

from .._client import DEFAULT_BASE_URL, TOKEN_ENV, Client
from .._config import DEFAULT_MAX_RETRIES
from .._fields import PoolFieldSetters
from .._operation import Operation
from .._pools import Pools
from .._urls import check_base_url
from ._args import field_values, parse_version
from ._errors import EXIT_OK, UsageError
from ._output import print_deleted, print_pool, print_pools

__all__ = [
    "URL_ENV",
    "base_url",
    "make_client",
    "read_token",
    "run_pool_command",
    "usage_errors",
    "with_fields",
]

URL_ENV: Final = "FASTLY_API_URL"
B = TypeVar("B", bound=PoolFieldSetters)


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn the SDK's input checks (ValueError, TypeError) into a `UsageError`, exit code 2.

    Used only around code that builds requests, so a bug elsewhere still shows as one.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def read_token(args: argparse.Namespace, *, required: bool = True) -> str | None:
    """The token from --token-file, else $FASTLY_API_TOKEN. Never printed."""
    path = getattr(args, "token_file", None)
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--token-file: cannot read {path!r}: {exc.strerror}") from None
        if not token:
            raise UsageError(f"--token-file: {path!r} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token and required:
        raise UsageError(f"no API token: set {TOKEN_ENV} or pass --token-file PATH")
    return token or None


def base_url(args: argparse.Namespace) -> str:
    """--base-url, else $FASTLY_API_URL, else Fastly's; a bad value names where it came from."""
    flag: str | None = getattr(args, "base_url", None)
    if flag is not None:
        # An explicit empty value is a mistake (an unset shell variable), not "use the default".
        if not flag.strip():
            raise UsageError("--base-url must not be empty")
        url, source = flag, "--base-url"
    else:
        # An empty environment variable counts as unset, as usual for environment settings.
        url, source = os.environ.get(URL_ENV) or DEFAULT_BASE_URL, URL_ENV
    try:
        check_base_url(url)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{source}: {exc}") from None
    return url


def make_client(args: argparse.Namespace, *, token: str | None = None) -> Client:
    """A client from the command line and environment; bad settings are usage errors."""
    url = base_url(args)
    retries = getattr(args, "max_retries", None)
    with usage_errors():
        return Client(
            token or read_token(args),
            base_url=url,
            max_retries=DEFAULT_MAX_RETRIES if retries is None else retries,
        )


def with_fields(builder: B, fields: list[tuple[str, object]]) -> B:
    """Apply field values through the SDK's setters (its checks, its error messages)."""
    for field, value in fields:
        try:
            builder = builder.set(field, value)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--{field.replace('_', '-')}: {exc}") from None
    return builder


def _plan(
    args: argparse.Namespace, pools: Pools, version: int, fields: list[tuple[str, object]]
) -> tuple[Operation[Any], Callable[[Any], None]]:
    """The builder for one command and how to print its result; raises on bad input."""
    where = f"service {args.service} version {version}"
    shown = {"as_json": args.json, "show_secrets": args.show_secrets}
    if args.command == "list":
        return pools.list(args.service, version), partial(
            print_pools, title=f"pools of {where}", **shown
        )
    if args.command == "get":
        return pools.get(args.service, version, args.pool), partial(print_pool, **shown)
    if args.command == "create":
        creator = with_fields(pools.create(args.service, version), fields)
        creator.build_request()  # checks that a name was given
        return creator, partial(print_pool, title=f"created in {where}", **shown)
    if args.command == "update":
        if not fields:
            raise UsageError("update needs at least one field flag, e.g. --quorum 50")
        updater = with_fields(pools.update(args.service, version, args.pool), fields)
        return updater, partial(print_pool, title=f"updated in {where}", **shown)
    deleter = pools.delete(args.service, version, args.pool)
    return deleter, partial(print_deleted, as_json=args.json, where=where)


async def run_pool_command(args: argparse.Namespace, *, client: Client | None = None) -> int:
    """list, get, create, update or delete one pool, printing the result.

    `client` (the demo's, on its embedded fake) replaces the one made from the flags and
    environment; the caller keeps it open.
    """
    fields = field_values(args) if args.command in ("create", "update") else []
    version = parse_version(args.version)
    async with AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(make_client(args))
        with usage_errors():
            operation, show = _plan(args, client.pools, version, fields)
        show(await operation.execute())
    return EXIT_OK
