"""What a fan-out run produces: one `Outcome` per item, progress counts, the final report."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ._exceptions import FastlyError
from ._operation import Operation

__all__ = ["FanOutError", "FanOutProgress", "FanOutReport", "Outcome", "OutcomeState"]

_SHOWN = 10  # outcomes listed in a FanOutError message; the rest are on `.outcomes`


class OutcomeState(enum.Enum):
    """How one item of a fan-out ended."""

    SUCCEEDED = "succeeded"  # applied (or read); `result` holds the answer
    FAILED = "failed"  # the API refused it, or the builder raised: `error` says why
    NOT_SENT = "not_sent"  # never reached the server: safe to run again
    UNKNOWN = "unknown"  # sent, but no answer: check the pool before running it again


@attrs.frozen
class Outcome:
    """One item's end: the `builder` it came from (as given), its `index` in the input,
    its `state`, the `result` when it succeeded, and otherwise the `error` that caused the
    state (if an exception did) and a readable `reason`."""

    builder: Operation[Any]
    index: int
    state: OutcomeState
    result: Any = attrs.field(default=None, repr=False)
    error: BaseException | None = None
    reason: str = ""

    def describe(self) -> str:
        """One line for logs and error messages: index, method, path, state and why."""
        try:
            what = f"{self.builder.method} {self.builder.path}"
        except Exception:  # a broken item must still be describable
            what = type(self.builder).__name__
        why = self.reason or (str(self.error) if self.error is not None else "")
        return f"#{self.index} {what}: {self.state.value}" + (f" ({why})" if why else "")


@attrs.frozen
class FanOutProgress:
    """Counts passed to `on_progress` after every outcome. `total` is the number of items
    taken from the input so far; `done` of them have an outcome."""

    succeeded: int
    failed: int
    not_sent: int
    unknown: int
    total: int

    @property
    def done(self) -> int:
        """Items with an outcome so far."""
        return self.succeeded + self.failed + self.not_sent + self.unknown


@attrs.frozen
class FanOutReport:
    """Every item of a run, accounted for.

    `outcomes` are in completion order; succeeded ones are left out when the run was made
    with `keep_succeeded=False`, but `counts` and `total` always cover every item taken
    from the input. `stopped` says why the run ended early (None when it ran to the end);
    `input_error` is the exception the input iterator raised, if it did.
    """

    outcomes: tuple[Outcome, ...] = attrs.field(repr=False)
    counts: Mapping[OutcomeState, int]
    total: int
    stopped: str | None = None
    input_error: BaseException | None = None

    def by_state(self, state: OutcomeState) -> list[Outcome]:
        """The kept outcomes in `state`, in completion order."""
        return [outcome for outcome in self.outcomes if outcome.state is state]

    @property
    def succeeded(self) -> list[Outcome]:
        """Kept outcomes that succeeded (empty with `keep_succeeded=False`)."""
        return self.by_state(OutcomeState.SUCCEEDED)

    @property
    def failed(self) -> list[Outcome]:
        """Outcomes the API refused, or whose builder raised."""
        return self.by_state(OutcomeState.FAILED)

    @property
    def not_sent(self) -> list[Outcome]:
        """Outcomes that never reached the server: safe to run again."""
        return self.by_state(OutcomeState.NOT_SENT)

    @property
    def unknown(self) -> list[Outcome]:
        """Outcomes that may have been applied: check before running them again."""
        return self.by_state(OutcomeState.UNKNOWN)

    @property
    def ok(self) -> bool:
        """True when every item succeeded and the input was read to its end."""
        return self.counts[OutcomeState.SUCCEEDED] == self.total and self.input_error is None

    def raise_for_failures(self) -> None:
        """Raise `FanOutError` unless every item succeeded and the input raised nothing.

        The error lists the failed, unknown and not-sent outcomes; the input's own
        exception, if any, is its `__cause__`.
        """
        if self.ok:
            return
        raise FanOutError(self) from self.input_error


class FanOutError(FastlyError):
    """Raised by `FanOutReport.raise_for_failures()` when some items did not succeed.

    `report` is the whole report; `outcomes` the items that did not succeed, failed and
    unknown ones first.
    """

    def __init__(self, report: FanOutReport) -> None:
        self.report = report
        order = (OutcomeState.FAILED, OutcomeState.UNKNOWN, OutcomeState.NOT_SENT)
        self.outcomes: tuple[Outcome, ...] = tuple(
            outcome for state in order for outcome in report.by_state(state)
        )
        super().__init__(self._message())

    def _message(self) -> str:
        report, counts = self.report, self.report.counts
        bad = report.total - counts[OutcomeState.SUCCEEDED]
        lines = [
            f"{bad} of {report.total} fan-out items did not succeed: "
            f"{counts[OutcomeState.FAILED]} failed, {counts[OutcomeState.UNKNOWN]} unknown "
            f"(check before re-running), {counts[OutcomeState.NOT_SENT]} not sent"
        ]
        if report.stopped:
            lines.append(f"the run stopped early: {report.stopped}")
        if report.input_error is not None:
            lines.append(f"the input raised {report.input_error!r}")
        lines.extend(f"  {outcome.describe()}" for outcome in self.outcomes[:_SHOWN])
        if len(self.outcomes) > _SHOWN:
            lines.append(f"  ... and {len(self.outcomes) - _SHOWN} more (see .outcomes)")
        return "\n".join(lines)


class Tally:
    """Strictly private: the mutable record a run keeps as outcomes arrive."""

    def __init__(self, *, keep_succeeded: bool) -> None:
        self.keep_succeeded = keep_succeeded
        self.outcomes: list[Outcome] = []
        self.counts = dict.fromkeys(OutcomeState, 0)
        self.total = 0
        self.stopped: str | None = None
        self.input_error: BaseException | None = None

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.state] += 1
        if self.keep_succeeded or outcome.state is not OutcomeState.SUCCEEDED:
            self.outcomes.append(outcome)

    def progress(self) -> FanOutProgress:
        counts = self.counts
        return FanOutProgress(
            counts[OutcomeState.SUCCEEDED],
            counts[OutcomeState.FAILED],
            counts[OutcomeState.NOT_SENT],
            counts[OutcomeState.UNKNOWN],
            self.total,
        )

    def report(self) -> FanOutReport:
        return FanOutReport(
            outcomes=tuple(self.outcomes),
            counts=MappingProxyType(dict(self.counts)),
            total=self.total,
            stopped=self.stopped,
            input_error=self.input_error,
        )
