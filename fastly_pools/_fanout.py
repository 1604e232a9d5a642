"""`FanOut`: many builders at bounded concurrency, one write at a time per service, within
the write budget, every item accounted for. The engine is in `_fanout_engine`."""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable
from types import TracebackType
from typing import Any, Literal

from ._fanout_budget import RateLimited
from ._fanout_engine import Engine, Settings
from ._fanout_report import FanOutProgress, FanOutReport, Outcome
from ._operation import Operation
from ._types import InputTypeError

__all__ = ["FanOut", "OnStop"]

OnStop = Literal["cancel", "finish"]


class FanOut:
    """A run of many builders, made by `client.fan_out(...)`; it can be consumed once.

    Iterate it (`async for outcome in run`) to get each `Outcome` as it completes, or
    `report = await run.run()`. `run.report` is a snapshot at any time, also after a
    cancellation. To leave an `async for` early, use `async with client.fan_out(...) as
    run:` or `await run.aclose()`, so in-flight requests are settled at once.

    If the input iterator raises, no new item starts, everything taken so far is reported,
    and its exception is raised from the iteration (or `run()`) after the last outcome; it
    is also `run.report.input_error`. See the README's "Bulk changes across many services".

    Args:
        builders: an iterable or async iterable of builders, taken one at a time as slots
            free up (at most 5 x `concurrency` are held at once). It is never closed:
            after an early stop, the items not taken are still in it.
        concurrency: most requests in flight at once. Writes to one service never overlap.
        budget_reserve: no write starts while the API's remaining hourly write budget is
            at or below this. When it is above 0, one write runs at a time until an answer
            has reported the budget.
        max_budget_wait: with the budget spent, wait for its reset when that is at most
            this many seconds away (reads go on meanwhile); otherwise stop, reporting the
            items not started as NOT_SENT. A 429 is treated the same way.
        stop_after_failures: stop after this many items did not succeed.
        on_stop: what happens to requests in flight when the run is cancelled, closed or
            stopped by `stop_after_failures`: "cancel" (writes among them are reported
            UNKNOWN) or "finish". A budget stop or a failing input always lets them finish.
        on_progress: called with a `FanOutProgress` after every outcome (once for the
            items reported together when a run stops).
        keep_succeeded: keep succeeded outcomes in the report (counts are always kept).
    """

    def __init__(
        self,
        client: RateLimited,
        builders: Iterable[Operation[Any]] | AsyncIterable[Operation[Any]],
        *,
        concurrency: int = 16,
        budget_reserve: int = 0,
        max_budget_wait: float = 60.0,
        stop_after_failures: int | None = None,
        on_stop: OnStop = "cancel",
        on_progress: Callable[[FanOutProgress], object] | None = None,
        keep_succeeded: bool = True,
    ) -> None:
        if isinstance(max_budget_wait, bool) or not isinstance(max_budget_wait, int | float):
            raise InputTypeError(
                f"max_budget_wait must be a number of seconds: {max_budget_wait!r}"
            )
        if not math.isfinite(max_budget_wait) or max_budget_wait < 0:
            raise ValueError(f"max_budget_wait must be a finite number >= 0: {max_budget_wait!r}")
        if on_stop not in ("cancel", "finish"):
            raise ValueError(f'on_stop must be "cancel" or "finish": {on_stop!r}')
        if on_progress is not None and not callable(on_progress):
            raise InputTypeError(f"on_progress must be callable: {on_progress!r}")
        if inspect.iscoroutinefunction(on_progress):
            # It would be called and never awaited: say so now rather than warn per outcome.
            raise InputTypeError(
                f"on_progress must be a plain function, not a coroutine function: {on_progress!r}"
            )
        settings = Settings(
            concurrency=_count("concurrency", concurrency, 1),
            reserve=_count("budget_reserve", budget_reserve, 0),
            max_wait=float(max_budget_wait),
            stop_after=(
                None
                if stop_after_failures is None
                else _count("stop_after_failures", stop_after_failures, 1)
            ),
            cancel_on_stop=on_stop == "cancel",
            on_progress=on_progress,
            keep_succeeded=bool(keep_succeeded),
        )
        # aiter()/iter() now, so something that is not iterable fails here, not later.
        source = aiter(builders) if isinstance(builders, AsyncIterable) else iter(builders)
        self._concurrency = settings.concurrency
        self._engine = Engine(client, source, settings)
        self._gen: AsyncGenerator[Outcome, None] | None = None
        self._mode: Literal["iterate", "run"] | None = None

    def __repr__(self) -> str:
        tally = self._engine.tally
        progress = tally.progress()
        return (
            f"<FanOut concurrency={self._concurrency} total={progress.total} "
            f"done={progress.done} stopped={tally.stopped!r}>"
        )

    @property
    def report(self) -> FanOutReport:
        """A snapshot of the report: final once the iteration or `run()` has ended."""
        return self._engine.tally.report()

    def __aiter__(self) -> FanOut:
        return self

    async def __anext__(self) -> Outcome:
        if self._mode != "iterate":
            self._claim("iterate")
            self._gen = self._engine.outcomes()
        assert self._gen is not None
        return await self._gen.__anext__()

    async def run(self) -> FanOutReport:
        """Run every item to its end and return the report."""
        self._claim("run")
        self._gen = gen = self._engine.outcomes()
        try:
            async for _ in gen:
                pass
        finally:
            await gen.aclose()
        return self._engine.tally.report()

    async def aclose(self) -> None:
        """End the run now: nothing more starts, in-flight requests are settled as
        `on_stop` says, and every item taken is in `report`. Safe to call twice."""
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> FanOut:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _claim(self, mode: Literal["iterate", "run"]) -> None:
        if self._mode is not None:
            raise RuntimeError("a fan-out run can be consumed once; call client.fan_out() again")
        self._mode = mode


def _count(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputTypeError(f"{name} must be an int: {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}: {value!r}")
    return value
