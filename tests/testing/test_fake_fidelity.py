"""Replay the recorded api.fastly.com exchanges against the fake and compare the answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from fastly_pools.testing import FakeFastly

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
SERVICE_ID = "kKJb5bOFI47uHeBVluGfX1"
# Dependency order: version 91 is created first, the pool from create.yaml is then read,
# renamed, deleted and deleted again; create_pool_defaults works in version 71.
CASSETTES = (
    "version", "create", "list", "get", "update", "delete", "cleanup", "create_pool_defaults"
)  # fmt: skip
VOLATILE = {"id", "created_at", "updated_at"}
REMAINING = "Fastly-Ratelimit-Remaining"


def interactions() -> list[tuple[str, dict[str, Any]]]:
    pools = FIXTURES / "pools"
    if not pools.is_dir():
        pytest.skip(
            f"recorded exchanges not found at {pools.resolve()} (they live in the shared folder "
            "beside the repository and are not copied into it)"
        )
    return [
        (f"{name}[{index}]", interaction)
        for name in CASSETTES
        for index, interaction in enumerate(
            yaml.safe_load((pools / f"{name}.yaml").read_text())["interactions"]
        )
    ]


def same_shape(label: str, got: Any, want: Any) -> None:
    """Same keys, same JSON type per value, same value unless it is an id or a timestamp."""
    if isinstance(want, list):
        assert isinstance(got, list), label
        assert len(got) == len(want), label
        for got_item, want_item in zip(got, want, strict=True):
            same_shape(label, got_item, want_item)
        return
    assert isinstance(got, dict), label
    assert set(got) == set(want), f"{label}: keys differ: {set(got) ^ set(want)}"
    for key, value in want.items():
        assert type(got[key]) is type(value), f"{label}: {key}={got[key]!r}, recorded {value!r}"
        if key not in VOLATILE:
            assert got[key] == value, f"{label}: {key}={got[key]!r}, recorded {value!r}"


async def test_recorded_exchanges_replay_faithfully(session: aiohttp.ClientSession) -> None:
    recorded = interactions()
    async with FakeFastly() as fake:
        fake.add_service(SERVICE_ID, versions=90)
        fake.set_write_budget(10_000, remaining=9966)  # the recorded session's count
        for label, exchange in recorded:
            request, response = exchange["request"], exchange["response"]
            path = request["url"].removeprefix("https://api.fastly.com")
            headers = {"Fastly-Key": fake.token}
            if "Content-Type" in request["headers"]:
                headers["Content-Type"] = request["headers"]["Content-Type"][0]
            async with session.request(
                request["method"],
                fake.base_url + path,
                data=request["body"] or None,
                headers=headers,
            ) as answer:
                assert answer.status == response["code"], label
                got = json.loads(await answer.text())
                want = json.loads(response["body"])
                same_shape(label, got, want)
                if request["method"] == "POST" and path.endswith("/pool"):
                    sent = [key for key in request["form"] if key in want]
                    assert list(got)[: len(sent)] == list(want)[: len(sent)], label
                recorded_remaining = response["headers"].get(REMAINING)
                assert (REMAINING in answer.headers) == bool(recorded_remaining), label
                if recorded_remaining and not label.startswith("create_pool_defaults"):
                    assert answer.headers[REMAINING] == recorded_remaining[0], label
                if recorded_remaining:
                    assert int(answer.headers["Fastly-Ratelimit-Reset"]) % 3600 == 0, label
