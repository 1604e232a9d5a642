"""pytest plugin: a `fake_fastly` fixture yielding a started `FakeFastly`.

Enable it in a conftest with `pytest_plugins = ["fastly_pools.testing.pytest_plugin"]`.
With pytest-asyncio installed the fixture is registered through it (any mode); otherwise it
is a plain pytest fixture and another async plugin must drive it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ._fake import FakeFastly

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - depends on what is installed
    _async_fixture = pytest.fixture  # type: ignore[assignment]


@_async_fixture
async def fake_fastly() -> AsyncIterator[FakeFastly]:
    """A started `FakeFastly`, closed after the test."""
    async with FakeFastly() as fake:
        yield fake
