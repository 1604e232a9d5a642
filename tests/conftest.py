"""Shared fixtures: a FakeFastly on 127.0.0.1 and a Client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import NO_WAIT

import fastly_pools
from fastly_pools import Client
from fastly_pools.testing import FakeFastly

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"



def fixtures_dir() -> Path:
    """The recorded exchanges, or a skip naming where they were looked for."""
    if not (FIXTURES / "pools").is_dir():
        pytest.skip(
            f"recorded exchanges not found at {FIXTURES}/pools (they live in the project's "
            "shared folder beside the repository, not in the repository itself)"
        )
    return FIXTURES


@pytest.fixture
async def fake() -> AsyncIterator[FakeFastly]:
    async with FakeFastly() as server:
        yield server


@pytest.fixture
async def client(fake: FakeFastly) -> AsyncIterator[Client]:
    async with fastly_pools.Client(fake.token, base_url=fake.base_url, retry=NO_WAIT) as api:
        yield api


@pytest.fixture
def service(fake: FakeFastly) -> str:
    """A seeded service with editable versions 1 and 2."""
    return fake.add_service(versions=2)
