"""Terminal control characters in API data are shown escaped, never sent to the terminal."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from fastly_pools._cli._output import printable
from fastly_pools.testing import FakeFastly, Fault

from . import CLI, CLI_WITHOUT_RICH, cli_env, run_cli, run_in_terminal

# Red text, a C1 control-sequence introducer, a window-title change and a bell.
HOSTILE = "\x1b[31mred\x1b[0m \x9b2J \x1b]0;pwned\x07"
SHOWN = "\\x1b[31mred\\x1b[0m \\x9b2J \\x1b]0;pwned\\x07"
RAW = ("\x1b[31m", "\x9b", "\x07", "\x1b]0;")


def test_printable_escapes_only_what_is_not_printable() -> None:
    assert printable("plain café ✓ [red]") == "plain café ✓ [red]"
    assert printable(HOSTILE) == SHOWN
    assert printable("a\nb\tc\r\x7f\u202e") == "a\\nb\\tc\\r\\x7f\\u202e"
    assert printable("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"


async def test_table_and_plain_output_escape_control_characters(fake: FakeFastly) -> None:
    sid = fake.add_service()
    fake.seed_pool(sid, 1, "origin", comment=HOSTILE)
    env = cli_env(fake.base_url, fake.token)
    for args in (("list", sid, "1"), ("get", sid, "1", "origin")):
        result = await run_cli(*args, env=env)
        assert result.code == 0, result.err
        assert SHOWN in result.out
        assert not any(raw in result.out for raw in RAW), result.out
    as_json = await run_cli("get", sid, "1", "origin", "--json", env=env)
    assert json.loads(as_json.out)["comment"] == HOSTILE  # JSON keeps the real value


@pytest.mark.skipif(sys.platform == "win32", reason="needs ptys")
async def test_a_terminal_table_escapes_control_characters(fake: FakeFastly) -> None:
    pytest.importorskip("rich")
    sid = fake.add_service()
    fake.seed_pool(sid, 1, "origin", comment="\x1b]0;pwned\x07 \x9b2J")
    env = cli_env(fake.base_url, fake.token)
    for command in (CLI, CLI_WITHOUT_RICH):
        code, out = await asyncio.to_thread(run_in_terminal, (*command, "list", sid, "1"), env)
        assert code == 0, out
        assert "\\x1b]0;pwned\\x07 \\x9b2J" in out
        # rich styles with escape sequences of its own, but none of the API's gets through.
        assert "\x1b]0;" not in out
        assert "\x9b" not in out


async def test_error_lines_escape_control_characters(fake: FakeFastly, tmp_path: Path) -> None:
    sid = fake.add_service()
    fake.seed_pool(sid, 1, "origin")
    body = {"msg": "Bad thing", "detail": HOSTILE}
    env = cli_env(fake.base_url, fake.token)
    fake.inject(Fault.status(400, body=body), method="GET")
    single = await run_cli("get", sid, "1", "origin", env=env)
    assert single.code == 1
    assert SHOWN in single.err
    assert not any(raw in single.err for raw in RAW), single.err

    fake.inject(Fault.status(400, body=body), method="PUT")
    targets = tmp_path / "targets.csv"
    targets.write_text(f"{sid},1,origin\n")
    bulk = await run_cli("bulk-update", "--targets", str(targets), "--quorum", "5", env=env)
    assert bulk.code == 1
    assert SHOWN in bulk.out  # the "not done" line of the report
    assert not any(raw in bulk.out + bulk.err for raw in RAW), bulk.out
