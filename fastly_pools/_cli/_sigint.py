"""Ctrl-C during `bulk-update`: the first one stops the run, later ones cannot cut the report.

`asyncio.run` cancels the main task on the first SIGINT but raises KeyboardInterrupt on
the second, wherever the code happens to be. GNU `timeout` and an impatient double Ctrl-C
both send two, so the second would land while the run settles and lose the report and
the end of the `--out` file. While `stop_once()` is active, the first SIGINT cancels the
task and any further one only notes on stderr that the command is already stopping.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ALREADY_STOPPING", "stop_once"]

ALREADY_STOPPING = "already stopping: writing the outcome of every target, then the report"


@contextmanager
def stop_once() -> Iterator[None]:
    """Within the current task: the first SIGINT cancels it, later ones are only noted."""
    task = asyncio.current_task()
    previous = signal.getsignal(signal.SIGINT)
    # Only where asyncio.run itself handles SIGINT: the main thread, and not when the
    # shell started the command with SIGINT ignored (a background job).
    if (
        task is None
        or threading.current_thread() is not threading.main_thread()
        or previous in (signal.SIG_IGN, None)
    ):
        yield
        return
    loop = task.get_loop()
    noted = False

    def on_sigint() -> None:  # runs in the event loop, not inside arbitrary code
        nonlocal noted
        if task.done():
            return
        if task.cancelling() == 0:
            task.cancel()
        elif not noted:
            noted = True
            print(ALREADY_STOPPING, file=sys.stderr, flush=True)

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or no wakeup fd
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        # asyncio.run's handler would cancel the task a second time as it returns, and a
        # twice-cancelled task ends in CancelledError. Once stopping, the command is on its
        # way out with exit code 130 and the report printed: a late SIGINT is ignored, so
        # it cannot turn that exit into a death by signal during interpreter shutdown.
        stopping = task.cancelling() > 0
        signal.signal(signal.SIGINT, signal.SIG_IGN if stopping else previous)
