"""The aiohttp side of the fake: auth, write budget, faults, latency and response headers."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl

from aiohttp import web

from ._budget import Budget
from ._errors import RATE_LIMITED, READ_ONLY, UNAUTHORIZED, ApiError
from ._faults import FaultRules
from ._journal import WRITE_METHODS, Flight, Journal
from ._routes import FormPairs, dispatch, service_id_of, split_path
from ._state import State

_SERVED_BY = "cache-control-fake, cache-fake-LCL"


class Backend:
    """Everything one fake server owns, and its request handler (strictly private)."""

    def __init__(self, *, token: str, read_only_token: str, latency: float) -> None:
        self.state = State()
        self.budget = Budget(time.time())
        self.faults = FaultRules()
        self.journal = Journal()
        self.token = token
        self.read_only_token = read_only_token
        self.latency = latency
        # Set on close: wakes hanging and sleeping handlers so shutdown never waits on them.
        self.stopping = asyncio.Event()

    def make_app(self) -> web.Application:
        app = web.Application()
        # One catch-all route: the router's own decoding would split `%2F` inside a pool name.
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.time()
        text = (await request.read()).decode("utf-8", "replace")
        pairs = parse_qsl(text, keep_blank_values=True)
        segments = split_path(request.raw_path)
        form: dict[str, list[str]] = {}
        for key, value in pairs:
            form.setdefault(key, []).append(value)
        flight = Flight(
            method=request.method,
            path="/" + "/".join(segments),
            raw_path=request.raw_path,
            form=form,
            headers={k: v for k, v in request.headers.items() if k.lower() != "fastly-key"},
            service_id=service_id_of(segments),
            started_at=time.monotonic(),
        )
        self.journal.begin(flight)
        try:
            return await self._respond(request, segments, pairs, started)
        finally:
            self.journal.end(flight)

    async def _respond(
        self, request: web.Request, segments: list[str], pairs: FormPairs, started: float
    ) -> web.StreamResponse:
        fault = self.faults.take(request.method, request.raw_path)
        kind = None if fault is None else fault.kind
        delay = self.latency + (0.0 if fault is None else fault.seconds)
        if delay > 0 and not await self._pause(delay):
            return _drop(request)
        if kind == "hang":
            await self.stopping.wait()
            return _drop(request)
        if kind == "drop_before":
            return _drop(request)
        if fault is not None and kind in ("status", "non_json"):
            headers = _base_headers(started)
            headers["Content-Type"] = fault.content_type
            headers.update(fault.headers)
            return web.Response(status=fault.code, body=fault.body.encode(), headers=headers)

        status, payload, extra = self._serve(request, segments, pairs)
        if kind == "drop_after":
            return _drop(request)
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {**_base_headers(started), **extra}
        if kind == "truncated_body":
            return await _truncated(request, status, headers, body)
        return web.Response(status=status, body=body, headers=headers)

    def _serve(
        self, request: web.Request, segments: list[str], pairs: FormPairs
    ) -> tuple[int, object, dict[str, str]]:
        """Status, JSON payload and rate-limit headers of a normally processed request."""
        key = request.headers.get("Fastly-Key")
        if key is None or key not in (self.token, self.read_only_token):
            # No user to charge, so no rate-limit headers either.
            return 401, UNAUTHORIZED, {}
        if request.method not in WRITE_METHODS:
            return (*self._dispatch(request.method, segments, pairs), {})
        # Every authenticated write is charged, failed ones included (recorded 404s were).
        allowed, budget = self.budget.take(time.time())
        if not allowed:
            return 429, RATE_LIMITED, budget.headers
        if key == self.read_only_token:
            return 403, READ_ONLY, budget.headers
        return (*self._dispatch(request.method, segments, pairs), budget.headers)

    def _dispatch(self, method: str, segments: list[str], pairs: FormPairs) -> tuple[int, object]:
        try:
            return 200, dispatch(self.state, method, segments, pairs)
        except ApiError as error:
            return error.status, error.body

    async def _pause(self, seconds: float) -> bool:
        """Sleep without blocking the loop; False when the fake starts closing first."""
        try:
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        except TimeoutError:
            return True
        return False


def _base_headers(started: float) -> dict[str, str]:
    elapsed_ms = round((time.time() - started) * 1000)
    return {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "X-Served-By": _SERVED_BY,
        "X-Timer": f"S{started:.6f},VS0,VE{elapsed_ms}",
    }


def _close_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection unanswered; aiohttp then fails to send this response, quietly."""
    _close_connection(request)
    return web.Response(status=500)


async def _truncated(
    request: web.Request, status: int, headers: dict[str, str], body: bytes
) -> web.StreamResponse:
    """Promise the whole body in Content-Length, send half of it, then close the connection."""
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = len(body) + 16
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    _close_connection(request)
    return response
