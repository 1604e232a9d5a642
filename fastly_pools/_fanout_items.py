"""The items of a fan-out waiting to start, and how an item's exception becomes its state.

`Queues` holds what was taken from the input and not yet started. Reads are ready at
once. A write is ready only while no other write to its service is in flight or ahead of
it; later writes to that service wait in the service's own queue, which exists only while
the service has a write in flight or waiting (so 100,000 services never mean 100,000
queues). Waiting items hold no concurrency slot.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    OutcomeUnknownError,
    ResponseDecodeError,
)
from ._fanout_report import Outcome, OutcomeState
from ._operation import Operation

__all__ = ["Item", "Queues", "cancelled", "classify"]


class Item:
    """Strictly private: one builder taken from the input, and where it is."""

    __slots__ = ("builder", "index", "is_write", "rate_limited", "service_id", "started")

    def __init__(self, index: int, builder: Operation[Any]) -> None:
        self.index = index
        self.builder = builder
        self.service_id = builder.service_id
        self.is_write = builder.is_write
        self.started = False  # set by the task's first step: until then it surely was not sent
        self.rate_limited = 0  # 429s met so far; the item is run again after each


class Queues:
    """Strictly private: items waiting to start, in input order per kind."""

    def __init__(self) -> None:
        self._reads: deque[Item] = deque()
        self._writes: deque[Item] = deque()  # the next write of each busy service
        self._behind: dict[str, deque[Item]] = {}  # busy service -> writes queued behind
        self.waiting = 0

    def add(self, item: Item) -> None:
        self.waiting += 1
        if not item.is_write:
            self._reads.append(item)
            return
        queue = self._behind.get(item.service_id)
        if queue is None:
            self._behind[item.service_id] = deque()
            self._writes.append(item)
        else:
            queue.append(item)

    @property
    def busy_services(self) -> int:
        """Services with a write in flight or waiting (each has a queue while it lasts)."""
        return len(self._behind)

    @property
    def write_ready(self) -> bool:
        """True when a write could start if the budget allows."""
        return bool(self._writes)

    def take(self, *, writes: bool) -> Item | None:
        """The oldest ready item (writes only when `writes`), or None."""
        read = self._reads[0] if self._reads else None
        write = self._writes[0] if writes and self._writes else None
        if write is not None and (read is None or write.index < read.index):
            self._writes.popleft()
        elif read is not None:
            self._reads.popleft()
            write = read
        else:
            return None
        self.waiting -= 1
        return write

    def write_done(self, item: Item) -> None:
        """A write finished: the next one for its service becomes ready."""
        queue = self._behind.get(item.service_id)
        if queue:
            self._writes.append(queue.popleft())
        else:
            self._behind.pop(item.service_id, None)  # idle: forget the service

    def put_back(self, item: Item) -> None:
        """A write that met a 429 goes first again; its service stays busy meanwhile."""
        self.waiting += 1
        self._writes.appendleft(item)

    def drain(self) -> list[Item]:
        """Remove and return every waiting item, in input order."""
        items = [*self._reads, *self._writes]
        for queue in self._behind.values():
            items.extend(queue)
        self._reads.clear()
        self._writes.clear()
        self._behind.clear()
        self.waiting = 0
        items.sort(key=lambda item: item.index)
        return items


def classify(item: Item, error: Exception) -> tuple[OutcomeState, str]:
    """The state an item ends in when running it raised `error` (429s are handled apart)."""
    if isinstance(error, APIStatusError):
        return OutcomeState.FAILED, ""
    if isinstance(error, OutcomeUnknownError):
        return OutcomeState.UNKNOWN, "sent, but the answer was lost: it may have been applied"
    if isinstance(error, APIConnectionError):
        if not error.sent:
            return OutcomeState.NOT_SENT, "never reached the server"
        if not item.is_write:
            # A read changes nothing, so "it may have been applied" cannot apply.
            return OutcomeState.FAILED, "no answer to a read"
        return OutcomeState.UNKNOWN, "sent, but no answer came: it may have been applied"
    if isinstance(error, ResponseDecodeError):
        if item.is_write:
            return OutcomeState.FAILED, "the API applied it, but its answer could not be decoded"
        return OutcomeState.FAILED, "the answer could not be decoded"
    return OutcomeState.FAILED, f"the builder raised {type(error).__name__}"


def cancelled(item: Item) -> Outcome:
    """The outcome of an item whose task the run cancelled."""
    if not item.started:
        state, why = OutcomeState.NOT_SENT, "cancelled before it was sent"
    elif item.is_write:
        state, why = OutcomeState.UNKNOWN, "cancelled in flight: it may have reached the server"
    else:
        state, why = OutcomeState.NOT_SENT, "cancelled in flight (a read: safe to run again)"
    return Outcome(item.builder, item.index, state, reason=why)
