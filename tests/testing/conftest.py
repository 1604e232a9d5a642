"""Fixtures for the fake's own tests: a started fake, a seeded service, a plain aiohttp caller."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from fastly_pools.testing import FakeFastly
from fastly_pools.testing.pytest_plugin import fake_fastly  # noqa: F401 - the fixture under test

_KEEP_TOKEN: Any = object()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """Sends raw requests to the fake with plain aiohttp; every path segment is quoted."""

    def __init__(self, fake: FakeFastly, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    def url(self, *segments: object) -> URL:
        path = "/".join(quote(str(segment), safe="") for segment in segments)
        return URL(f"{self.fake.base_url}/{path}", encoded=True)

    async def call(
        self,
        method: str,
        *segments: object,
        form: Mapping[str, object] | str | None = None,
        token: str | None = _KEEP_TOKEN,
        seconds: float = 5.0,
    ) -> Reply:
        headers = {}
        if token is not None:
            headers["Fastly-Key"] = self.fake.token if token is _KEEP_TOKEN else token
        data = None
        if form is not None:
            data = form if isinstance(form, str) else urlencode(dict(form))
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self.session.request(
            method,
            self.url(*segments),
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as response:
            return Reply(response.status, response.headers, await response.text())

    async def create(self, sid: str, version: int, /, **form: object) -> Reply:
        return await self.call("POST", "service", sid, "version", version, "pool", form=form)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def fake(fake_fastly: FakeFastly) -> FakeFastly:  # noqa: F811 - the plugin's fixture
    return fake_fastly


@pytest.fixture
def api(fake: FakeFastly, session: aiohttp.ClientSession) -> Api:
    return Api(fake, session)


@pytest.fixture
def sid(fake: FakeFastly) -> str:
    """A service with editable versions 1 and 2."""
    return fake.add_service(versions=2)
