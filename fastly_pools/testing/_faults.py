"""Injected faults: what to do to the next matching requests instead of (or after) serving them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

FaultKind = Literal[
    "delay", "drop_after", "drop_before", "hang", "non_json", "status", "truncated_body"
]

_BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The upstream server sent an invalid response.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One kind of misbehaviour; build it with the classmethods, e.g. `Fault.status(503)`.

    Attributes:
        kind: which fault this is.
        code: HTTP status sent by `status` and `non_json` faults.
        body: response text sent by `status` and `non_json` faults.
        content_type: Content-Type of that text.
        headers: extra response headers (override the fake's own).
        seconds: extra latency of a `delay` fault.
    """

    kind: FaultKind
    code: int = 0
    body: str = ""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @classmethod
    def status(
        cls,
        code: int,
        body: Mapping[str, object] | list[object] | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer with `code` and `body` (JSON-encoded unless a str); state is unchanged.

        With no body, sends `{"msg": <reason phrase>}`, the API's legacy error shape.
        """
        if not 100 <= code <= 599:
            raise ValueError("code must be an HTTP status between 100 and 599")
        if body is None:
            text = json.dumps({"msg": _reason(code)})
        elif isinstance(body, str):
            text = body
        else:
            text = json.dumps(body, separators=(",", ":"))
        return cls("status", code=code, body=text, headers=tuple((headers or {}).items()))

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Add `seconds` of latency to the request, then serve it normally."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        return cls("delay", seconds=float(seconds))

    @classmethod
    def hang(cls) -> Fault:
        """Never answer: the request waits until the client gives up or the fake closes."""
        return cls("hang")

    @classmethod
    def drop_before(cls) -> Fault:
        """Close the connection without processing the request (state unchanged)."""
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        """Process the request (state changes), then close the connection without answering."""
        return cls("drop_after")

    @classmethod
    def truncated_body(cls) -> Fault:
        """Process the request, then send a body shorter than its Content-Length and close."""
        return cls("truncated_body")

    @classmethod
    def non_json(
        cls, status: int = 502, text: str = _BAD_GATEWAY_HTML, content_type: str = "text/html"
    ) -> Fault:
        """Answer with a non-JSON body, as an intermediary in front of the API might."""
        if not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status between 100 and 599")
        return cls("non_json", code=status, body=text, content_type=content_type)


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


@dataclass(eq=False, slots=True)
class _Rule:
    fault: Fault
    method: str | None
    pattern: re.Pattern[str] | None
    left: int


class FaultRules:
    """Pending faults in injection order (strictly private)."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []

    def add(self, fault: Fault, *, method: str | None, path: str | None, times: int) -> None:
        if times < 1:
            raise ValueError("times must be >= 1")
        pattern = None if path is None else re.compile(path)
        self._rules.append(_Rule(fault, None if method is None else method.upper(), pattern, times))

    def take(self, method: str, raw_path: str) -> Fault | None:
        """The first pending fault matching this request, used up once."""
        for rule in self._rules:
            if rule.method not in (None, method):
                continue
            if rule.pattern is not None and not rule.pattern.search(raw_path):
                continue
            rule.left -= 1
            if rule.left == 0:
                self._rules.remove(rule)
            return rule.fault
        return None

    def clear(self) -> None:
        self._rules.clear()
