"""Guards a first-time user hit: --out over --targets, a refused token, a bad --base-url,
a reader that stops early (`| head`), and `fake-server` settings a client cannot use."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import fastly_pools
from fastly_pools.testing import FakeFastly

from . import CLI, TIMEOUT, Result, cli_env, fake_server, run_cli, run_main

FANOUT_ENGINE = Path(fastly_pools.__file__).parent / "_fanout_engine.py"


def seed(fake: FakeFastly, count: int) -> list[str]:
    services = [fake.add_service(f"svc{n}") for n in range(count)]
    for sid in services:
        fake.seed_pool(sid, 1, "origin", quorum=75)
    return services


def write_targets(path: Path, services: list[str]) -> Path:
    path.write_text("".join(f"{sid},1,origin\n" for sid in services))
    return path


async def test_out_over_the_targets_file_is_refused_up_front(
    fake: FakeFastly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = write_targets(tmp_path / "targets.csv", seed(fake, 2))
    original = targets.read_text()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(targets)
    os.link(targets, tmp_path / "hard.csv")
    env = cli_env(fake.base_url, fake.token)
    for out in (
        str(targets),
        str(tmp_path / "sub" / ".." / "targets.csv"),  # another spelling of the same path
        str(tmp_path / "link.csv"),  # a symlink to it
        str(tmp_path / "hard.csv"),  # a hard link: the same file under another name
    ):
        result = await run_main("bulk-update", "--targets", str(targets), "--out", out,
                                "--quorum", "5", env=env, capsys=capsys)  # fmt: skip
        assert result.code == 2, (out, result)
        assert len(result.err_lines) == 1, result.err
        assert "--out" in result.err
        assert "--targets file" in result.err
        assert targets.read_text() == original
    assert fake.requests == []
    # A different file is fine, including one that does not exist yet.
    ok = await run_main("bulk-update", "--targets", str(targets), "--out",
                        str(tmp_path / "out.jsonl"), "--quorum", "5", env=env,
                        capsys=capsys)  # fmt: skip
    assert ok.code == 0, ok


@pytest.mark.parametrize("which", ["wrong", "read_only"])
async def test_a_refused_token_exits_3_with_one_hint_line(
    fake: FakeFastly, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    services = seed(fake, 6)
    targets = write_targets(tmp_path / "targets.csv", services)
    token = "not-the-token" if which == "wrong" else fake.read_only_token
    result = await run_main("bulk-update", "--targets", str(targets), "--quorum", "5",
                            "--concurrency", "2", env=cli_env(fake.base_url, token),
                            capsys=capsys)  # fmt: skip
    assert result.code == 3, result
    status = "401" if which == "wrong" else "403"
    errors = [line for line in result.err_lines if line.startswith("error:")]
    assert len(errors) == 1, result.err
    assert status in errors[0]
    assert "hint:" in errors[0]
    assert all(pool["quorum"] == "75" for sid in services for pool in fake.pools(sid, 1))
    stops_on_401 = "AuthenticationError" in FANOUT_ENGINE.read_text()
    if which == "wrong" and stops_on_401:  # the SDK ends the run on the first 401
        assert len(fake.requests) <= 2  # at most what was in flight at once


async def test_dry_run_counts_requests_in_the_singular_and_plural(
    fake: FakeFastly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = seed(fake, 2)
    env = cli_env(fake.base_url)
    for count, expected in ((1, "dry run: 1 request would be sent;"),
                            (2, "dry run: 2 requests would be sent;")):  # fmt: skip
        targets = write_targets(tmp_path / f"t{count}.csv", services[:count])
        result = await run_main("bulk-update", "--targets", str(targets), "--quorum", "5",
                                "--dry-run", env=env, capsys=capsys)  # fmt: skip
        assert result.code == 0, result
        assert expected in result.err


async def test_a_bad_base_url_names_the_flag_or_variable_it_came_from(
    fake: FakeFastly, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = "http://127.0.0.1:99999"
    cases = [
        (("--base-url", bad), cli_env(token="t"), "error: --base-url: "),
        ((), cli_env(bad, "t"), "error: FASTLY_API_URL: "),
        (("--base-url", "http://example.com"), cli_env(token="t"), "error: --base-url: "),
        # An explicit empty value must not fall back to the environment's (working) URL.
        (("--base-url", ""), cli_env(fake.base_url, fake.token), "error: --base-url must not"),
    ]
    for flags, env, start in cases:
        result = await run_main("list", "svc", "1", *flags, env=env, capsys=capsys)
        assert result.code == 2, (flags, result)
        assert len(result.err_lines) == 1, result.err
        assert result.err.startswith(start), result.err
    assert fake.requests == []


async def run_into_a_closed_pipe(*args: str, env: dict[str, str]) -> Result:
    """Run the CLI with stdout on a pipe whose reader is already gone (`| head` that ended)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = await asyncio.create_subprocess_exec(
            *CLI, *args, stdin=asyncio.subprocess.DEVNULL, stdout=write_end,
            stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
    finally:
        os.close(write_end)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Result(proc.returncode, "", err.decode())


async def test_a_reader_that_went_away_ends_quietly(fake: FakeFastly, tmp_path: Path) -> None:
    services = seed(fake, 3)
    for n in range(200):  # more than a pipe buffer, so the error comes mid-print too
        fake.seed_pool("svc0", 1, f"pool-{n:03}")
    env = cli_env(fake.base_url, fake.token)
    for args in (("list", "svc1", "1"), ("list", "svc0", "1"), ("--help",)):
        result = await run_into_a_closed_pipe(*args, env=env)
        assert result.code == 0, (args, result)
        assert result.err == "", (args, result.err)
    # bulk-update still tells how the targets went, printed or not.
    fake.lock_version("svc2", 1)
    targets = write_targets(tmp_path / "targets.csv", services)
    bulk = await run_into_a_closed_pipe("bulk-update", "--targets", str(targets),
                                        "--quorum", "5", env=env)  # fmt: skip
    assert bulk.code == 1, bulk
    assert "Traceback" not in bulk.err
    assert "Exception ignored" not in bulk.err


async def test_fake_server_on_all_interfaces_prints_a_url_the_client_takes() -> None:
    async with fake_server("--host", "0.0.0.0", "--seed-services", "1") as (server, settings):
        url = settings["FASTLY_API_URL"]
        assert url.startswith("http://127.0.0.1:")
        assert server.stderr is not None
        line = (await asyncio.wait_for(server.stderr.readline(), TIMEOUT)).decode()
        assert "all interfaces" in line
        listed = await run_cli("list", settings["SERVICE_IDS"], "1",
                               env=cli_env(url, settings["FASTLY_API_TOKEN"]))  # fmt: skip
        assert listed.code == 0, listed.err
        assert "(no pools)" in listed.out


async def test_fake_server_refuses_a_token_the_client_would_refuse() -> None:
    for token in ("a b", "tab\there"):
        # A subprocess: if the token were taken, the server would run until killed.
        result = await run_cli("fake-server", "--port", "0", "--token", token, env=cli_env(),
                               timeout=10)  # fmt: skip
        assert result.code == 2, (token, result)
        assert len(result.err_lines) == 1, result.err
        assert "--token" in result.err
        assert "spaces" in result.err
