"""Pure parts of fan-out: the waiting queues, how errors become states, the report."""

from __future__ import annotations

from typing import Any

import pytest
from support import F, N, S, U

from fastly_pools import (
    APIConnectionError,
    Client,
    ConnectionErrorKind,
    FanOutError,
    InputTypeError,
    Outcome,
    OutcomeState,
    OutcomeUnknownError,
    PoolTimeoutError,
    RateLimit,
    ResponseDecodeError,
    ServerError,
)
from fastly_pools._fanout_items import Item, Queues, cancelled, classify
from fastly_pools._fanout_report import Tally


@pytest.fixture
def client() -> Client:
    return Client("token", base_url="http://127.0.0.1:9")  # never opened: nothing is sent


def write(client: Client, index: int, service: str) -> Item:
    return Item(index, client.pools.update(service, 1, "origin").quorum(index % 100))


def read(client: Client, index: int, service: str) -> Item:
    return Item(index, client.pools.get(service, 1, "origin"))


def test_one_write_per_service_is_ready_and_reads_are_always_ready(client: Client) -> None:
    queues = Queues()
    items = [write(client, 0, "a"), write(client, 1, "a"), read(client, 2, "a")]
    items += [write(client, 3, "b"), write(client, 4, "a")]
    for item in items:
        queues.add(item)
    assert queues.waiting == 5

    started = [queues.take(writes=True) for _ in range(4)]
    # a's second and third writes wait behind its first; the read does not.
    assert [i.index if i else None for i in started] == [0, 2, 3, None]
    assert queues.waiting == 2

    assert started[0] is not None
    queues.write_done(started[0])
    nxt = queues.take(writes=True)
    assert nxt is not None
    assert nxt.index == 1


def test_writes_wait_while_the_budget_is_closed(client: Client) -> None:
    queues = Queues()
    queues.add(write(client, 0, "a"))
    queues.add(read(client, 1, "a"))
    taken = queues.take(writes=False)
    assert taken is not None
    assert taken.index == 1
    assert queues.take(writes=False) is None
    assert queues.write_ready


def test_an_idle_service_is_forgotten(client: Client) -> None:
    queues = Queues()
    for index in range(1000):
        queues.add(write(client, index, f"svc{index}"))
    assert queues.busy_services == 1000
    while (item := queues.take(writes=True)) is not None:
        queues.write_done(item)
    assert queues.busy_services == 0
    assert queues.waiting == 0


def test_a_rate_limited_write_goes_first_again(client: Client) -> None:
    queues = Queues()
    first, second = write(client, 0, "a"), write(client, 1, "b")
    queues.add(first)
    queues.add(second)
    taken = queues.take(writes=True)
    assert taken is first
    queues.put_back(first)
    assert queues.take(writes=True) is first


def test_drain_returns_every_waiting_item_in_input_order(client: Client) -> None:
    queues = Queues()
    for item in [write(client, 0, "a"), write(client, 1, "a"), read(client, 2, "b")]:
        queues.add(item)
    running = queues.take(writes=True)
    assert running is not None
    assert running.index == 0
    assert [i.index for i in queues.drain()] == [1, 2]
    assert queues.waiting == 0
    queues.write_done(running)  # after a drain, a finishing write is harmless


def _status(status: int) -> ServerError:
    return ServerError(
        method="PUT", path="/p", status=status, msg="boom", detail=None, body="",
        headers={}, rate_limit=RateLimit(),
    )  # fmt: skip


def _connection(sent: bool) -> APIConnectionError:
    kind = ConnectionErrorKind.DISCONNECTED
    return APIConnectionError("dropped", method="PUT", path="/p", kind=kind, sent=sent)


@pytest.mark.parametrize(
    ("error", "is_write", "expected"),
    [
        (_status(503), True, F),
        (_connection(sent=False), True, N),
        (_connection(sent=True), True, U),
        (_connection(sent=True), False, F),  # a read changes nothing: not "may have applied"
        (
            PoolTimeoutError(
                "no slot", method="PUT", path="/p", kind=ConnectionErrorKind.POOL_TIMEOUT,
                sent=False,
            ),
            True,
            N,
        ),
        (
            OutcomeUnknownError(
                "lost", method="POST", path="/p", kind=ConnectionErrorKind.DISCONNECTED, sent=True
            ),
            True,
            U,
        ),
        (ResponseDecodeError(field="quorum", value="x", reason="r", method="PUT", path="/p"),
         True, F),
        (ValueError("a bug in a builder"), True, F),
    ],
)  # fmt: skip
def test_classify(client: Client, error: Exception, is_write: bool, expected: OutcomeState) -> None:
    item = write(client, 0, "a") if is_write else read(client, 0, "a")
    state, _ = classify(item, error)
    assert state is expected


def test_a_cancelled_item_is_unknown_only_if_it_was_a_started_write(client: Client) -> None:
    fresh = write(client, 0, "a")
    assert cancelled(fresh).state is N
    fresh.started = True
    assert cancelled(fresh).state is U
    reading = read(client, 1, "a")
    reading.started = True
    assert cancelled(reading).state is N


def _tally(client: Client, states: list[OutcomeState], keep: bool = True) -> Tally:
    tally = Tally(keep_succeeded=keep)
    for index, state in enumerate(states):
        tally.total += 1
        builder: Any = client.pools.get("svc", 1, f"p{index}")
        error = None if state is S else ValueError(f"problem {index}")
        tally.add(Outcome(builder, index, state, error=error))
    return tally


def test_report_by_state_and_counts(client: Client) -> None:
    report = _tally(client, [S, F, S, N, U, S], keep=False).report()
    assert report.total == 6
    assert dict(report.counts) == {S: 3, F: 1, N: 1, U: 1}
    assert report.succeeded == []  # not kept, yet counted
    assert [o.index for o in report.failed] == [1]
    assert [o.index for o in report.not_sent] == [3]
    assert [o.index for o in report.unknown] == [4]
    assert not report.ok


def test_raise_for_failures_is_silent_when_all_succeeded(client: Client) -> None:
    _tally(client, [S, S]).report().raise_for_failures()


def test_fan_out_error_lists_what_did_not_succeed(client: Client) -> None:
    tally = _tally(client, [N, U, F] + [F] * 12)
    tally.stopped = "2 items did not succeed (stop_after_failures=2)"
    with pytest.raises(FanOutError) as raised:
        tally.report().raise_for_failures()
    error = raised.value
    text = str(error)
    assert text.startswith("15 of 15 fan-out items did not succeed: 13 failed, 1 unknown")
    assert "stopped early: 2 items" in text
    assert "#2 GET /service/svc/version/1/pool/p2: failed (problem 2)" in text
    assert "and 5 more" in text
    # Failed first, then unknown, then not sent.
    assert [o.state for o in error.outcomes[-2:]] == [U, N]
    assert error.report.total == 15
    assert "token" not in text


def test_an_async_progress_callback_is_refused_up_front() -> None:
    async def progress(_: object) -> None:  # pragma: no cover - never called
        return None

    client = Client("token")
    with pytest.raises(InputTypeError, match="not a coroutine function"):
        client.fan_out([], on_progress=progress)
