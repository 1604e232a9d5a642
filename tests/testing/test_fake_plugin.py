"""The `fake_fastly` pytest fixture, enabled the way users enable it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import aiohttp
import pytest
from fastly_pools.testing import FakeFastly

{marker}
async def test_uses_the_fake(fake_fastly):
    assert isinstance(fake_fastly, FakeFastly)
    sid = fake_fastly.add_service()
    async with aiohttp.ClientSession() as session:
        url = f"{{fake_fastly.base_url}}/service/{{sid}}/version/1/pool"
        async with session.get(url, headers={{"Fastly-Key": fake_fastly.token}}) as response:
            assert response.status == 200
            assert await response.json() == []
"""


@pytest.mark.parametrize(("mode", "marker"), [("auto", ""), ("strict", "@pytest.mark.asyncio")])
def test_fixture_via_pytest_plugins(pytester: pytest.Pytester, mode: str, marker: str) -> None:
    pytester.makeconftest('pytest_plugins = ["fastly_pools.testing.pytest_plugin"]')
    pytester.makepyfile(USER_TEST.format(marker=marker))
    # Plain asserts: this process already imported the plugin, so it cannot be rewritten.
    args = ("-p", "asyncio", f"--asyncio-mode={mode}", "-W", "error", "--assert=plain")
    args += ("-o", "asyncio_default_fixture_loop_scope=function")
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=1)


def test_importing_the_package_needs_no_pytest() -> None:
    code = (
        "import sys, fastly_pools.testing; "
        "print(sorted({'pytest', 'pytest_asyncio'} & set(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    assert out.stdout.strip() == "[]"
