"""Progress of a bulk run on stderr: a rich bar on a terminal, a line now and then otherwise."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Protocol, TextIO

__all__ = ["Counts", "ProgressDisplay"]


class Counts(Protocol):
    """What `on_progress` receives (`FanOutProgress`): counts per state so far."""

    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def not_sent(self) -> int: ...
    @property
    def unknown(self) -> int: ...
    @property
    def done(self) -> int: ...


def summary(counts: Counts) -> str:
    """`12 succeeded, 1 failed` (states with a zero count left out, except succeeded)."""
    parts = [f"{counts.succeeded} succeeded"]
    for label, value in (
        ("failed", counts.failed),
        ("not sent", counts.not_sent),
        ("unknown", counts.unknown),
    ):
        if value:
            parts.append(f"{value} {label}")
    return ", ".join(parts)


class ProgressDisplay:
    """Show `done/total` as outcomes arrive; use as a context manager around the run.

    On a terminal (and with rich installed) a live bar; otherwise a line every `every`
    outcomes (0: none), so logs stay short.
    """

    def __init__(
        self, total: int, *, label: str, every: int | None = None, stream: TextIO | None = None
    ) -> None:
        self._total = total
        self._label = label
        self._stream = stream or sys.stderr
        self._every = max(1, total // 10) if every is None else every
        self._next = self._every
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressDisplay:
        if self._stream.isatty():
            try:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
            except ImportError:
                return self
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[states]}"),
                console=Console(file=self._stream),
                transient=False,
            )
            self._task = self._bar.add_task(self._label, total=self._total, states="")
            self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, counts: Counts) -> None:
        """The `on_progress` callback."""
        if self._bar is not None:
            self._bar.update(self._task, completed=counts.done, states=summary(counts))
            return
        if self._every and (counts.done >= self._next or counts.done == self._total):
            while self._next <= counts.done:
                self._next += self._every
            print(f"{self._label}: {counts.done}/{self._total} ({summary(counts)})",
                  file=self._stream, flush=True)  # fmt: skip
