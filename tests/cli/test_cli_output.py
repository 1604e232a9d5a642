"""What the command line says: the 401 hint names the token's real source, and --json
keeps non-ASCII text readable without ever failing on a stdout that cannot encode it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from fastly_pools._cli._output import json_text
from fastly_pools.testing import FakeFastly

from . import cli_env, run_cli, run_main

SDK_HINT = "FASTLY_API_TOKEN"


async def test_a_refused_token_from_a_file_names_the_file_in_the_hint(
    fake: FakeFastly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = fake.add_service("svc0")
    fake.seed_pool(sid, 1, "origin")
    token_file = tmp_path / "fastly.token"
    token_file.write_text("not-the-token\n")
    env = cli_env(fake.base_url)

    single = await run_main("list", sid, "1", "--token-file", str(token_file), env=env,
                            capsys=capsys)  # fmt: skip
    assert single.code == 3, single
    assert len(single.err_lines) == 1, single.err
    assert "401" in single.err
    assert f"--token-file '{token_file}'" in single.err
    assert SDK_HINT not in single.err

    targets = tmp_path / "targets.csv"
    targets.write_text(f"{sid},1,origin\n")
    bulk = await run_main("bulk-update", "--targets", str(targets), "--quorum", "5",
                          "--token-file", str(token_file), env=env, capsys=capsys)  # fmt: skip
    assert bulk.code == 3, bulk
    refusal = [line for line in bulk.err_lines if line.startswith("error:")]
    assert len(refusal) == 1, bulk.err
    assert f"--token-file '{token_file}'" in refusal[0]
    assert SDK_HINT not in bulk.out + bulk.err  # neither the line nor the report's rows

    # A token from the environment keeps the SDK's hint, which names the variable.
    from_env = await run_main("list", sid, "1", env=cli_env(fake.base_url, "not-the-token"),
                              capsys=capsys)  # fmt: skip
    assert from_env.code == 3
    assert SDK_HINT in from_env.err
    assert "--token-file '" not in from_env.err


async def test_json_output_keeps_non_ascii_text_and_escapes_it_for_an_ascii_stdout(
    fake: FakeFastly,
) -> None:
    sid = fake.add_service("svc0")
    fake.seed_pool(sid, 1, "origin", comment="café ✓ \x07")
    env = cli_env(fake.base_url, fake.token, PYTHONIOENCODING="utf-8")
    shown = await run_cli("get", sid, "1", "origin", "--json", env=env)
    assert shown.code == 0, shown.err
    assert '"comment": "café ✓ \\u0007"' in shown.out  # controls are still escaped
    assert json.loads(shown.out)["comment"] == "café ✓ \x07"

    dry = await run_cli("bulk-update", "--targets", "-", "--dry-run", "--json", "--comment",
                        "naïve", env=env, stdin=f"{sid},1,origin\n")  # fmt: skip
    assert dry.code == 0, dry.err
    assert '"comment": "naïve"' in dry.out

    ascii_env = cli_env(fake.base_url, fake.token, PYTHONIOENCODING="ascii")
    escaped = await run_cli("get", sid, "1", "origin", "--json", env=ascii_env)
    assert escaped.code == 0, escaped.err
    assert "caf\\u00e9 \\u2713" in escaped.out
    assert json.loads(escaped.out)["comment"] == "café ✓ \x07"


def test_json_text_falls_back_to_escapes_when_the_stream_cannot_encode() -> None:
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    latin1 = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    assert json_text({"c": "café"}, utf8) == '{"c": "café"}'
    assert json_text({"c": "café"}, latin1) == '{"c": "café"}'
    assert json_text({"c": "café ✓"}, latin1) == '{"c": "caf\\u00e9 \\u2713"}'
    assert json_text({"c": "\ud800"}, utf8) == '{"c": "\\ud800"}'  # a lone surrogate
