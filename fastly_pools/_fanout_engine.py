"""The engine of one fan-out run: scheduling, the write budget, stopping, and reporting.

A run is one async generator (`Engine.outcomes`): it takes builders from the input only
when a slot is free, starts each as a task, and yields outcomes as the tasks finish.
Scheduling happens only in that generator, so no locks are needed. A cancelled or
abandoned consumer lands in its `except` clause, which settles the tasks and reports the
rest before re-raising.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from functools import partial
from typing import Any, Final, cast

import attrs

from ._config import RetryPolicy
from ._exceptions import AuthenticationError, RateLimitError
from ._fanout_budget import MAX_RATE_LIMITED, Budget, GateKind, RateLimited
from ._fanout_items import Item, Queues, cancelled, classify
from ._fanout_report import FanOutProgress, Outcome, OutcomeState, Tally
from ._operation import Operation

__all__ = ["Engine", "Settings"]

_WAITING_PER_SLOT: Final = 4  # items that may wait (behind a service or the budget) per slot
_S, _F, _N = OutcomeState.SUCCEEDED, OutcomeState.FAILED, OutcomeState.NOT_SENT
_Task = asyncio.Task[tuple[bool, Any]]


@attrs.frozen
class Settings:
    """Strictly private: the validated options of one run (see `FanOut`)."""

    concurrency: int
    reserve: int
    max_wait: float
    stop_after: int | None
    cancel_on_stop: bool
    on_progress: Callable[[FanOutProgress], object] | None
    keep_succeeded: bool


class Engine:
    """Strictly private: the state of one run, driven by `outcomes()`."""

    def __init__(
        self,
        client: RateLimited,
        source: AsyncIterator[Any] | Iterator[Any],
        settings: Settings,
    ) -> None:
        self._source = source
        self._async_source = isinstance(source, AsyncIterator)
        self._concurrency = settings.concurrency
        self._stop_after = settings.stop_after
        self._cancel_on_stop = settings.cancel_on_stop
        self._on_progress = settings.on_progress
        self.tally = Tally(keep_succeeded=settings.keep_succeeded)
        self._queues = Queues()
        self._room = settings.concurrency * _WAITING_PER_SLOT
        self._tasks: set[_Task] = set()
        self._done: deque[tuple[Item, _Task]] = deque()
        self._ready: deque[Outcome] = deque()  # recorded, not yet yielded
        self._wake: asyncio.Future[None] | None = None
        # A read from an async input runs beside the tasks, so a slow input never holds
        # back outcomes, progress or a stop.
        self._pulling: asyncio.Future[Any] | None = None
        self._writes_in_flight = 0
        self._budget = Budget(client, reserve=settings.reserve, max_wait=settings.max_wait)
        self._failures = 0
        self._stopping = False
        self._exhausted = False
        self._quiet = False  # while shutting down: outcomes are recorded, not yielded
        self._default_write_retry = attrs.evolve(client.retry, max_server_wait=0.0)

    async def outcomes(self) -> AsyncGenerator[Outcome, None]:
        try:
            while True:
                await self._fill()
                while self._ready:
                    yield self._ready.popleft()
                idle = not self._tasks and not self._done
                if idle and (self._stopping or (self._exhausted and not self._queues.waiting)):
                    break
                await self._wait()
                self._collect()
            await self._end_pull()
        except BaseException as exc:
            # Cancelled, abandoned (GeneratorExit) or a callback raised: settle everything.
            if isinstance(exc, asyncio.CancelledError):
                why = "the run was cancelled"
            elif isinstance(exc, GeneratorExit):
                why = "the consumer stopped before the end"
            else:
                why = f"the run stopped on {type(exc).__name__}"
            await self._shut_down(why)
            await self._end_pull()
            raise
        error = self.tally.input_error
        if error is not None:
            error.add_note(
                f"fan_out: the input raised after {self.tally.total} items; each of them "
                "is accounted for in the run's report (run.report)"
            )
            raise error

    async def _fill(self) -> None:
        """Start ready items while slots are free; take more from the input as needed."""
        queues = self._queues
        # A finished task keeps its slot until collected, which bounds what is pulled ahead
        # even while an async input is awaited here.
        while not self._stopping and len(self._tasks) + len(self._done) < self._concurrency:
            item = queues.take(writes=queues.write_ready and self._writes_open())
            if item is not None:
                self._start(item)
            elif self._exhausted or queues.waiting >= self._room or self._stopping:
                return
            elif self._async_source:
                if not self._pulled():
                    return  # the input has not answered yet: wait for it or for a task
            else:
                self._pull(lambda: next(cast(Iterator[Any], self._source)))

    def _pulled(self) -> bool:
        """Start a read from the async input, or take its result; False while it is pending."""
        pulling = self._pulling
        if pulling is None:
            source = cast(AsyncIterator[Any], self._source)
            self._pulling = pulling = asyncio.ensure_future(anext(source))
            pulling.add_done_callback(lambda _: self._wake_up())
        if not pulling.done():
            return False
        self._pulling = None
        self._pull(pulling.result)
        return True

    async def _end_pull(self) -> None:
        """The run is over: cancel a pending read, or report an item that just arrived."""
        pulling, self._pulling = self._pulling, None
        if pulling is None:
            return
        if not pulling.done():
            pulling.cancel()  # the input sees CancelledError where it waits
            await asyncio.wait([pulling])
            return
        if pulling.cancelled() or pulling.exception() is not None:
            return
        index = self.tally.total
        self.tally.total += 1
        why = f"not started: {self.tally.stopped or 'the run ended'}"
        self._record(Outcome(pulling.result(), index, _N, reason=why), False)

    def _pull(self, take: Callable[[], Any]) -> None:
        try:
            builder = take()
        except (StopIteration, StopAsyncIteration):
            self._exhausted = True
            return
        except Exception as exc:
            self._exhausted = True
            self.tally.input_error = exc
            # Like a budget stop, it concerns what comes next, not the items in flight.
            self._stop(f"the input raised {type(exc).__name__}: {exc}", False)
            return
        index = self.tally.total
        self.tally.total += 1
        if isinstance(builder, Operation):
            self._queues.add(Item(index, builder))
            return
        error = TypeError(f"fan_out items must be builders, got {type(builder).__name__}")
        self._record(Outcome(cast(Any, builder), index, _F, error=error, reason=str(error)), True)

    def _start(self, item: Item) -> None:
        task = asyncio.create_task(self._call(item), name=f"fastly_pools fan_out #{item.index}")
        self._tasks.add(task)
        task.add_done_callback(partial(self._finished, item))
        if item.is_write:
            self._writes_in_flight += 1

    async def _call(self, item: Item) -> tuple[bool, Any]:
        item.started = True
        try:
            builder = item.builder
            if item.is_write:
                # A 429 must come back at once: the run pauses every write, not each task.
                policy = builder.options.retry
                retry = (
                    attrs.evolve(policy, max_server_wait=0.0)
                    if isinstance(policy, RetryPolicy)
                    else self._default_write_retry
                )
                builder = builder.with_options(retry=retry)
            return True, await builder.execute()
        except Exception as exc:
            return False, exc

    def _finished(self, item: Item, task: asyncio.Task[tuple[bool, Any]]) -> None:
        self._tasks.discard(task)
        self._done.append((item, task))
        self._wake_up()

    def _wake_up(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _wait(self) -> None:
        """Until a task finishes, or a budget pause ends."""
        pulling = self._pulling
        if self._done or (pulling is not None and pulling.done()):
            return
        loop = asyncio.get_running_loop()
        timeout = None
        if self._queues.write_ready and self._budget.paused_until:
            timeout = max(0.0, self._budget.paused_until - time.time())
        if not self._tasks and timeout is None and pulling is None:
            raise RuntimeError("fan_out stalled: nothing in flight and nothing to wait for")
        self._wake = wake = loop.create_future()
        handle = None if timeout is None else loop.call_later(timeout, _settle, wake)
        try:
            await wake
        finally:
            self._wake = None
            if handle is not None:
                handle.cancel()

    def _collect(self) -> None:
        """Turn finished tasks into outcomes (or, after a 429, back into waiting items)."""
        while self._done:
            item, task = self._done.popleft()
            if item.is_write:
                self._writes_in_flight -= 1
            if task.cancelled():
                self._record(cancelled(item), False)
            else:
                ok, value = task.result()
                outcome: Outcome | None
                if ok:
                    outcome = Outcome(item.builder, item.index, _S, result=value)
                elif isinstance(value, RateLimitError) and item.is_write:
                    outcome = self._rate_limited(item, value)
                else:
                    state, reason = classify(item, value)
                    outcome = Outcome(item.builder, item.index, state, error=value, reason=reason)
                if outcome is None:
                    continue  # back in its service's queue until the pause ends
                self._record(outcome, True)
                if isinstance(value, AuthenticationError) and not self._stopping:
                    # Every other item carries the same token: do not send them all to
                    # be refused. Requests in flight finish (they are refused too).
                    self._stop("the token was refused (401)", False)
            if item.is_write:
                self._queues.write_done(item)

    def _rate_limited(self, item: Item, error: RateLimitError) -> Outcome | None:
        """A 429: pause writes and put the item back, or stop writes (it was not applied)."""
        item.rate_limited += 1
        if item.rate_limited >= MAX_RATE_LIMITED:
            why = f"the API answered 429 {item.rate_limited} times"
            return Outcome(item.builder, item.index, _F, error=error, reason=why)
        if not self._stopping:
            gate = self._budget.rate_limited(error, item.rate_limited)
            if gate.kind is GateKind.PAUSE:
                item.started = False
                self._queues.put_back(item)
                return None
            self._budget_stop(gate.reason)
        why = f"not applied (429); {self.tally.stopped}"
        return Outcome(item.builder, item.index, _N, error=error, reason=why)

    def _writes_open(self) -> bool:
        gate = self._budget.check(self._writes_in_flight)
        if gate.kind is GateKind.STOP:
            self._budget_stop(gate.reason)
        return gate.kind is GateKind.OPEN

    def _budget_stop(self, reason: str) -> None:
        # In-flight requests already hold budget: let them finish rather than make them
        # UNKNOWN; the budget does not come back any sooner for cancelling them.
        self._stop(reason, False)

    def _record(self, outcome: Outcome, ran: bool, notify: bool = True) -> None:
        self.tally.add(outcome)
        if not self._quiet:
            self._ready.append(outcome)
            if notify:
                self._notify()
        if ran and outcome.state is not _S and self._stop_after is not None:
            self._failures += 1
            if self._failures >= self._stop_after and not self._stopping:
                n = self._stop_after
                why = f"{n} item{'' if n == 1 else 's'} did not succeed (stop_after_failures={n})"
                self._stop(why, self._cancel_on_stop)

    def _notify(self) -> None:
        callback = self._on_progress
        if callback is None:
            return
        try:
            callback(self.tally.progress())
        except BaseException:
            self._on_progress = None  # it raised: the run stops, and it is not called again
            raise

    def _stop(self, reason: str, cancel: bool) -> None:
        """Start nothing more; report waiting items NOT_SENT; cancel in-flight ones if asked."""
        waiting: list[Item] = []
        if not self._stopping:
            self._stopping = True
            self.tally.stopped = reason
            waiting = self._queues.drain()
            # Record them all before telling on_progress, which might raise.
            for item in waiting:
                outcome = Outcome(item.builder, item.index, _N, reason=f"not started: {reason}")
                self._record(outcome, False, notify=False)
        if cancel:
            for task in self._tasks:
                task.cancel()
        if waiting and not self._quiet:
            self._notify()

    async def _shut_down(self, why: str) -> None:
        """After a cancellation or an abandoned iteration: settle every task, report all."""
        self._quiet = True
        self._ready.clear()
        self._stop(why, self._cancel_on_stop)
        interrupted: BaseException | None = None
        while self._tasks:
            try:
                await asyncio.wait(list(self._tasks))
            except asyncio.CancelledError as exc:  # cancelled again while finishing: cancel all
                interrupted = exc
                self._stop(why, True)
        self._collect()
        self._notify()
        if interrupted is not None:
            raise interrupted


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
