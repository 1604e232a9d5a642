"""The `fastly-pools` command line (install the `cli` extra for tables and progress bars).

`main(argv)` parses the arguments, runs one command and returns its exit code; every
expected failure is printed as one line on stderr (exit codes: see `_errors`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from .._exceptions import FastlyError
from ._args import build_parser
from ._errors import EXIT_INTERRUPTED, UsageError, describe, exit_code

__all__ = ["main"]


def _command(name: str) -> Callable[..., Coroutine[Any, Any, int]]:
    """The coroutine function of a command, imported only when it runs."""
    if name == "bulk-update":
        from ._bulk import run_bulk_command

        return run_bulk_command
    if name == "demo":
        from ._demo import run_demo

        return run_demo
    if name == "fake-server":
        from ._server import run_fake_server

        return run_fake_server
    from ._commands import run_pool_command

    return run_pool_command


def main(argv: Sequence[str] | None = None) -> int:
    """Run `fastly-pools` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else 0
    try:
        return asyncio.run(_command(args.command)(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (FastlyError, UsageError) as exc:
        print(f"error: {describe(exc)}", file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
