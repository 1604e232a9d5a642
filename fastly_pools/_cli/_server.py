"""`fake-server`: `FakeFastly` served standalone until SIGINT or SIGTERM.

It prints `KEY=VALUE` lines on stdout (flushed at once, so a parent process can read
them): the URL, the token (a local fake's token is no secret), a read-only token, and
the ids of the seeded services. Everything for humans goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys

from .._client import _check_token
from ..testing import FakeFastly
from ._errors import EXIT_OK, UsageError

__all__ = ["run_fake_server"]


async def run_fake_server(args: argparse.Namespace) -> int:
    """Serve until a stop signal; exit code 0 on a clean stop."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be within 0..65535: {args.port}")
    if args.seed_services < 0:
        raise UsageError(f"--seed-services must be >= 0: {args.seed_services}")
    if args.token is not None:
        # The client's own rule: a token the client would refuse is no use to serve.
        try:
            _check_token(args.token)
        except ValueError as exc:
            raise UsageError(f"--token: {exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows: there Ctrl-C arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    fake = FakeFastly(host=args.host, port=args.port, token=args.token)
    try:
        await fake.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    try:
        services = [fake.add_service(versions=2) for _ in range(args.seed_services)]
        url, where = _client_url(args.host, fake)
        print(f"FASTLY_API_URL={url}")
        print(f"FASTLY_API_TOKEN={fake.token}")
        print(f"FASTLY_READ_ONLY_TOKEN={fake.read_only_token}")
        print(f"SERVICE_IDS={','.join(services)}", flush=True)
        print(
            f"FakeFastly is serving on {where}; seeded services have editable "
            "versions 1 and 2. Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        await fake.close()
    print("FakeFastly stopped", file=sys.stderr)
    return EXIT_OK


def _client_url(host: str, fake: FakeFastly) -> tuple[str, str]:
    """The URL a client should use, and where the fake listens (for the human line).

    A fake on an unspecified address (0.0.0.0, ::) listens on every interface, but that
    address is no place to connect to, and the client takes plain http only on loopback.
    """
    try:
        unspecified = not host or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:  # a host name
        unspecified = False
    if not unspecified:
        return fake.base_url, fake.base_url
    ipv6 = ":" in host
    loopback = "[::1]" if ipv6 else "127.0.0.1"
    url = f"http://{loopback}:{fake.port}"
    bound = f"[{host.strip('[]')}]" if ipv6 else host or "*"
    return url, f"all interfaces ({bound}:{fake.port}; from this machine: {url})"
