"""Map a decoded path and method to a `State` operation (strictly private; no aiohttp here)."""

from __future__ import annotations

from urllib.parse import unquote

from . import _errors
from ._state import State

FormPairs = list[tuple[str, str]]


def split_path(raw_path: str) -> list[str]:
    """Decode each segment of a raw request path on its own, so `%2F` stays inside a segment."""
    path = raw_path.split("?", 1)[0]
    return [unquote(segment) for segment in path.removeprefix("/").split("/")]


def service_id_of(segments: list[str]) -> str | None:
    if len(segments) >= 2 and segments[0] == "service":
        return segments[1]
    return None


def dispatch(state: State, method: str, segments: list[str], form: FormPairs) -> object:
    """Run the request against `state` and return the JSON payload of a 200 answer.

    Raises:
        ApiError: the error answer (404 for unknown paths, 405 for a wrong method).
    """
    match segments:
        case ["service", sid, "version"]:
            if method == "POST":
                return {"service_id": sid, "number": state.add_version(sid)}
        case ["service", sid, "version", version, "activate"]:
            if method == "PUT":
                return state.activate(sid, version)
        case ["service", sid, "version", version, "pool"]:
            if method == "GET":
                return state.list_pools(sid, version)
            if method == "POST":
                return state.create_pool(sid, version, form)
        case ["service", sid, "version", version, "pool", name]:
            if method == "GET":
                return state.get_pool(sid, version, name)
            if method == "PUT":
                return state.update_pool(sid, version, name, form)
            if method == "DELETE":
                state.delete_pool(sid, version, name)
                return {"status": "ok"}
        case _:
            raise _errors.not_found()
    raise _errors.method_not_allowed()
