"""`fake-server`: `FakeFastly` served standalone until SIGINT or SIGTERM.

It prints `KEY=VALUE` lines on stdout (flushed at once, so a parent process can read
them): the URL, the token (a local fake's token is no secret), a read-only token, and
the ids of the seeded services. Everything for humans goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from ..testing import FakeFastly
from ._errors import EXIT_OK, UsageError

__all__ = ["run_fake_server"]


async def run_fake_server(args: argparse.Namespace) -> int:
    """Serve until a stop signal; exit code 0 on a clean stop."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be within 0..65535: {args.port}")
    if args.seed_services < 0:
        raise UsageError(f"--seed-services must be >= 0: {args.seed_services}")
    if args.token is not None and not args.token.strip():
        raise UsageError("--token must not be empty")
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
        print(f"FASTLY_API_URL={fake.base_url}")
        print(f"FASTLY_API_TOKEN={fake.token}")
        print(f"FASTLY_READ_ONLY_TOKEN={fake.read_only_token}")
        print(f"SERVICE_IDS={','.join(services)}", flush=True)
        print(
            f"FakeFastly is serving on {fake.base_url}; seeded services have editable "
            "versions 1 and 2. Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        await fake.close()
    print("FakeFastly stopped", file=sys.stderr)
    return EXIT_OK
