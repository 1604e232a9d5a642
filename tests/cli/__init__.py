"""Helpers for the command-line tests: run `python -m fastly_pools` as a real subprocess.

Every subprocess is bounded by a timeout and killed in a `finally`. The package is found
through PYTHONPATH (the directory holding the imported `fastly_pools`), so the tests run
the same code whether or not the package is installed.
"""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import sys
import time
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pytest

import fastly_pools
from fastly_pools._cli import main

SOURCE_ROOT = Path(fastly_pools.__file__).resolve().parents[1]
CLI = (sys.executable, "-m", "fastly_pools")
# The same entry point with rich made unimportable, as on an install without the extra.
CLI_WITHOUT_RICH = (
    sys.executable,
    "-c",
    "import sys; sys.modules['rich'] = None; from fastly_pools._cli import main; "
    "raise SystemExit(main())",
)
TIMEOUT = 30.0
PEM_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-test-only-key-material-0f1e2d3c\n"
    "-----END PRIVATE KEY-----\n"
)
PEM_MARKER = "test-only-key-material-0f1e2d3c"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli_env(url: str | None = None, token: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: no FASTLY_* from the caller, the package on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTLY_")}
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(SOURCE_ROOT) + (os.pathsep + path if path else "")
    env["COLUMNS"] = "200"
    if url is not None:
        env["FASTLY_API_URL"] = url
    if token is not None:
        env["FASTLY_API_TOKEN"] = token
    env.update(extra)
    return env


async def run_cli(
    *args: str,
    env: dict[str, str],
    stdin: str | None = None,
    command: Sequence[str] = CLI,
    timeout: float = TIMEOUT,
) -> Result:
    """Run the CLI to its end; the test's event loop keeps serving an in-process fake."""
    proc = await asyncio.create_subprocess_exec(
        *command,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        data = None if stdin is None else stdin.encode()
        out, err = await asyncio.wait_for(proc.communicate(data), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def run_main(*args: str, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Result:
    """`main(args)` in this process, for many quick cases: the same code as the script,
    in a worker thread so the test's event loop keeps serving an in-process fake."""
    capsys.readouterr()
    with patch.dict(os.environ, env, clear=True):
        code = await asyncio.wait_for(asyncio.to_thread(main, list(args)), TIMEOUT)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


@asynccontextmanager
async def fake_server(*args: str) -> AsyncIterator[tuple[Process, dict[str, str]]]:
    """`fastly-pools fake-server --port 0` as a subprocess, with the KEY=VALUE lines it printed."""
    proc = await asyncio.create_subprocess_exec(
        *CLI, "fake-server", "--port", "0", *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        values: dict[str, str] = {}
        async with asyncio.timeout(TIMEOUT):
            while "SERVICE_IDS" not in values:
                line = (await proc.stdout.readline()).decode()
                assert line, "fake-server ended before printing its settings"
                key, _, value = line.strip().partition("=")
                values[key] = value
        yield proc, values
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def run_in_terminal(argv: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with stdout and stderr on a pseudo-terminal; return code and output.

    Blocking: call it through `asyncio.to_thread` so an in-process fake keeps serving.
    """
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the command did not finish in time"
            ready, _, _ = select.select([master], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return proc.wait(timeout=TIMEOUT), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
