"""What the fake received: the request log, concurrency, and overlapping writes per service."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SECRET_FIELDS = frozenset({"tls_client_key"})


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the fake received it.

    Attributes:
        method: HTTP method.
        path: the path with each segment percent-decoded (`a%2Fb` reads `a/b`).
        raw_path: the request target exactly as received, percent-encoding and query kept.
        form: the form body, every value of every key in the order sent.
        headers: request headers except `Fastly-Key`.
        service_id: the decoded service id when the path is under `/service/{id}`, else None.
        started_at: when handling began, `time.monotonic()` seconds.
        finished_at: when handling ended (answered, dropped or cancelled), same clock.
    """

    method: str
    path: str
    raw_path: str
    form: dict[str, list[str]] = field(hash=False)
    headers: dict[str, str] = field(hash=False)
    service_id: str | None
    started_at: float
    finished_at: float

    def __repr__(self) -> str:
        # A private key the client sent must not show up in a log or a test failure.
        form = {
            key: ["<redacted>"] * len(values) if key in _SECRET_FIELDS else values
            for key, values in self.form.items()
        }
        return (
            f"ReceivedRequest(method={self.method!r}, path={self.path!r}, "
            f"raw_path={self.raw_path!r}, form={form!r}, service_id={self.service_id!r})"
        )


@dataclass(frozen=True, slots=True)
class OverlappingWrite:
    """Two writes to one service that were being handled at the same time.

    `second` arrived while `first` was still being handled (added latency included). Fastly
    warns that overlapping writes to one service may lose updates.
    """

    service_id: str
    first: ReceivedRequest
    second: ReceivedRequest


@dataclass(eq=False, slots=True)
class Flight:
    """A request being handled (strictly private)."""

    method: str
    path: str
    raw_path: str
    form: dict[str, list[str]]
    headers: dict[str, str]
    service_id: str | None
    started_at: float
    record: ReceivedRequest | None = None
    # Earlier writes still in flight when this one arrived, and later ones that overlapped us.
    earlier: list[Flight] = field(default_factory=list)
    later: list[Flight] = field(default_factory=list)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS and self.service_id is not None


class Journal:
    """Mutable bookkeeping behind `FakeFastly.requests` and friends (strictly private)."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.overlaps: list[OverlappingWrite] = []
        self.in_flight = 0
        self.max_concurrent = 0
        self._writes: dict[str, list[Flight]] = {}

    def begin(self, flight: Flight) -> None:
        self.in_flight += 1
        self.max_concurrent = max(self.max_concurrent, self.in_flight)
        if flight.is_write:
            assert flight.service_id is not None
            writes = self._writes.setdefault(flight.service_id, [])
            flight.earlier = list(writes)
            writes.append(flight)

    def end(self, flight: Flight) -> None:
        self.in_flight -= 1
        record = ReceivedRequest(
            flight.method, flight.path, flight.raw_path, flight.form, flight.headers,
            flight.service_id, flight.started_at, time.monotonic(),
        )  # fmt: skip
        flight.record = record
        self.requests.append(record)
        if not flight.is_write:
            return
        assert flight.service_id is not None
        self._writes[flight.service_id].remove(flight)
        # A pair is reported once both ends are finished, whichever finishes last.
        for earlier in flight.earlier:
            if earlier.record is None:
                earlier.later.append(flight)
            else:
                self._overlap(earlier.record, record)
        for later in flight.later:
            assert later.record is not None
            self._overlap(record, later.record)

    def clear(self) -> None:
        self.requests.clear()
        self.overlaps.clear()
        self.max_concurrent = self.in_flight

    def _overlap(self, first: ReceivedRequest, second: ReceivedRequest) -> None:
        assert first.service_id is not None
        self.overlaps.append(OverlappingWrite(first.service_id, first, second))
