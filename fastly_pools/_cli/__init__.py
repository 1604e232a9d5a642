"""The `fastly-pools` command line (install the `cli` extra for tables and progress bars).

`main(argv)` parses the arguments, runs one command and returns its exit code; every
expected failure is printed as one line on stderr (exit codes: see `_errors`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from .._exceptions import FastlyError
from ._args import build_parser
from ._errors import EXIT_INTERRUPTED, EXIT_OK, TOKEN_FILE, UsageError, describe, exit_code
from ._output import printable, silence_stdout

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
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, so a reader that went away is seen below, not at exit
        return code
    except BrokenPipeError:
        # The reader stopped reading (`| head -1`) after taking what it wanted: not a
        # failure of this command, so exit quietly with 0 as ripgrep does (unlike 141,
        # this does not fail a `set -o pipefail` script). bulk-update catches it itself
        # so that its exit code still tells how the targets went.
        silence_stdout()
        return EXIT_OK


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else 0
    TOKEN_FILE.set(getattr(args, "token_file", None))  # asyncio.run copies it into the task
    try:
        return asyncio.run(_command(args.command)(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (FastlyError, UsageError) as exc:
        # API text may carry terminal escape sequences: show them, do not obey them.
        print(f"error: {printable(describe(exc))}", file=sys.stderr)
        return exit_code(exc)
