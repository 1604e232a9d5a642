"""End-to-end tests of the single-pool commands, `fake-server`, `demo` and the help text."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import attrs
import pytest

import fastly_pools
from fastly_pools._cli._args import build_parser
from fastly_pools.testing import FakeFastly

from . import (
    CLI,
    CLI_WITHOUT_RICH,
    PEM_KEY,
    PEM_MARKER,
    cli_env,
    fake_server,
    run_cli,
    run_in_terminal,
    run_main,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals and ptys")


async def test_help_names_every_command_and_the_exit_codes() -> None:
    result = await run_cli("--help", env=cli_env())
    assert result.code == 0
    for command in ("list", "get", "create", "update", "delete", "bulk-update", "demo",
                    "fake-server"):  # fmt: skip
        assert command in result.out
    assert "exit codes:" in result.out
    assert "130  interrupted" in result.out


async def test_every_writable_field_has_a_flag_that_sends_it(fake: FakeFastly) -> None:
    sid = fake.add_service()
    env = cli_env(fake.base_url, fake.token)
    values = {
        "--comment": "", "--type": "client", "--quorum": "0", "--tls-ca-cert": "CA",
        "--tls-client-cert": "CERT", "--tls-client-key": PEM_KEY, "--tls-cert-hostname": "h",
        "--tls-sni-hostname": "sni", "--tls-ciphers": "HIGH", "--min-tls-version": "1.2",
        "--max-tls-version": "1.3", "--healthcheck": "hc", "--shield": "iad-va-us",
        "--request-condition": "cond", "--override-host": "example.com",
        "--connect-timeout": "0", "--first-byte-timeout": "1", "--between-bytes-timeout": "2",
        "--max-conn-default": "3",
    }  # fmt: skip
    args = [arg for pair in values.items() for arg in pair]
    result = await run_cli(
        "create", sid, "1", "--name", "every", "--no-use-tls", "--tls-check-cert", *args,
        "--json", env=env,
    )  # fmt: skip
    assert result.code == 0, result.err
    form = fake.requests[-1].form
    assert set(form) == set(fastly_pools.WRITABLE_FIELDS)
    assert form["use_tls"] == ["0"]
    assert form["tls_check_cert"] == ["1"]
    assert form["quorum"] == ["0"]
    assert form["comment"] == [""]
    assert form["tls_client_key"] == [PEM_KEY]
    shown = json.loads(result.out)
    assert shown["quorum"] == 0
    assert shown["use_tls"] is False
    assert shown["type"] == "client"
    assert shown["tls_client_key"] == "<redacted>"


async def test_round_trip_through_a_fake_server_subprocess() -> None:
    async with fake_server("--seed-services", "2") as (server, settings):
        url, token = settings["FASTLY_API_URL"], settings["FASTLY_API_TOKEN"]
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        sid, other = settings["SERVICE_IDS"].split(",")
        env = cli_env(url, token)

        created = await run_cli(
            "create", sid, "1", "--name", "origin", "--quorum", "0", "--no-use-tls",
            "--comment", "", "--type", "hash", "--json", env=env,
        )  # fmt: skip
        assert created.code == 0, created.err
        pool = json.loads(created.out)
        assert (pool["name"], pool["quorum"], pool["use_tls"], pool["comment"]) == (
            "origin", 0, False, "",
        )  # fmt: skip
        assert pool["service_id"] == sid
        assert pool["version"] == 1

        listed = await run_cli("list", sid, "1", "--json", env=env)
        assert [p["name"] for p in json.loads(listed.out)] == ["origin"]
        table = await run_cli("list", sid, "1", env=env)
        assert table.code == 0
        header, row = table.out.splitlines()[1:3]
        assert header.split()[:3] == ["name", "type", "quorum"]
        assert row.split()[:3] == ["origin", "hash", "0"]

        got = await run_cli("get", sid, "1", "origin", "--json", env=env)
        assert json.loads(got.out)["type"] == "hash"

        updated = await run_cli(
            "update", sid, "1", "origin", "--quorum", "60", "--name", "origin-eu", "--json",
            env=env,
        )  # fmt: skip
        assert updated.code == 0, updated.err
        after = json.loads(updated.out)
        assert (after["name"], after["quorum"], after["type"]) == ("origin-eu", 60, "hash")

        deleted = await run_cli("delete", sid, "1", "origin-eu", "--json", env=env)
        assert json.loads(deleted.out) == {
            "name": "origin-eu", "status": "ok", "already_absent": False,
        }  # fmt: skip
        empty = await run_cli("list", sid, "1", "--json", env=env)
        assert json.loads(empty.out) == []
        other_list = await run_cli("list", other, "2", env=env)
        assert other_list.code == 0
        assert "(no pools)" in other_list.out

        for output in (created, listed, got, updated, deleted):
            assert token not in output.out + output.err
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 10) == 0


@posix_only
async def test_fake_server_stops_cleanly_on_sigint() -> None:
    async with fake_server("--seed-services", "0", "--token", "local-token") as (server, found):
        assert found["FASTLY_API_TOKEN"] == "local-token"
        assert found["SERVICE_IDS"] == ""
        server.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(server.wait(), 10) == 0
        assert server.stderr is not None
        err = (await server.stderr.read()).decode()
        assert "stopped" in err
        assert "Traceback" not in err


async def test_secrets_are_redacted_in_table_and_json_unless_asked(
    fake: FakeFastly, tmp_path: Path
) -> None:
    sid = fake.add_service()
    key_file = tmp_path / "key.pem"
    key_file.write_text(PEM_KEY)
    env = cli_env(fake.base_url, fake.token)
    created = await run_cli(
        "create", sid, "1", "--name", "tls", "--tls-client-key", f"@{key_file}", env=env
    )
    assert created.code == 0, created.err
    assert fake.requests[-1].form["tls_client_key"] == [PEM_KEY]  # @FILE read the file
    table = await run_cli("get", sid, "1", "tls", env=env)
    as_json = await run_cli("get", sid, "1", "tls", "--json", env=env)
    listed = await run_cli("list", sid, "1", "--json", env=env)
    for result in (created, table, as_json, listed):
        assert result.code == 0
        assert PEM_MARKER not in result.out + result.err
        assert fake.token not in result.out + result.err
    assert "<redacted>" in table.out
    assert json.loads(as_json.out)["tls_client_key"] == "<redacted>"
    shown = await run_cli("get", sid, "1", "tls", "--json", "--show-secrets", env=env)
    assert json.loads(shown.out)["tls_client_key"] == PEM_KEY


async def test_api_errors_are_one_line_with_status_msg_hint_and_exit_code(
    fake: FakeFastly,
) -> None:
    sid = fake.add_service(versions=2)
    fake.seed_pool(sid, 1, "origin")
    fake.lock_version(sid, 2)
    env = cli_env(fake.base_url, fake.token)
    cases = [
        (("create", sid, "1", "--name", "origin"), env, 1, ["409", "Duplicate record"]),
        (("create", sid, "2", "--name", "new"), env, 1, ["422", "Version locked", "hint: Clone"]),
        (("get", sid, "1", "missing"), env, 1, ["404", "Record not found", "hint:"]),
        (("list", sid, "1"), cli_env(fake.base_url, "wrong-token"), 3, ["401", "hint:"]),
        (
            ("delete", sid, "1", "origin"),
            cli_env(fake.base_url, fake.read_only_token),
            3,
            ["403", "Read only", "hint: Writes need a token with the global scope"],
        ),
    ]
    for args, case_env, code, expected in cases:
        result = await run_cli(*args, env=case_env)
        assert result.code == code, (args, result)
        assert len(result.err_lines) == 1, result.err
        line = result.err_lines[0]
        assert line.startswith("error: ")
        assert all(text in line for text in expected), line
        assert result.out == ""
    assert [p["name"] for p in fake.pools(sid, 1)] == ["origin"]
    fake.set_write_budget(1000, remaining=0, reset_at=time.time() + 3600)
    limited = await run_cli("update", sid, "1", "origin", "--quorum", "1", env=env)
    assert limited.code == 1
    assert len(limited.err_lines) == 1
    assert "429" in limited.err
    assert re.search(r"hint: .*refills at", limited.err)


async def test_a_server_that_is_not_there_is_one_line_and_exit_code_4(fake: FakeFastly) -> None:
    # A port that was free a moment ago: the fake's, after it is closed.
    async with FakeFastly() as gone:
        url = gone.base_url
    result = await run_cli("list", "svc", "1", "--max-retries", "0", env=cli_env(url, "t"))
    assert result.code == 4
    assert len(result.err_lines) == 1
    assert "nothing was sent" in result.err
    assert "Traceback" not in result.err


async def test_bad_flags_are_one_line_exit_2_and_nothing_is_sent(
    fake: FakeFastly, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = fake.add_service()
    fake.seed_pool(sid, 1, "origin")
    env = cli_env(fake.base_url, fake.token)
    cases = [
        (("create", sid, "1", "--name", "p", "--quorum", "101"), ["--quorum", "0..100", "101"]),
        (("create", sid, "1", "--name", "p", "--quorum", "lots"), ["--quorum", "'lots'"]),
        (("create", sid, "1", "--name", "p", "--type", "weighted"), ["--type", "'weighted'"]),
        (("create", sid, "1", "--name", "..", "--quorum", "1"), ["name", "'..'"]),
        (("create", sid, "1", "--quorum", "1"), ["--name"]),
        (("create", sid, "x", "--name", "p"), ["version", "'x'"]),
        (("update", sid, "0", "origin", "--quorum", "1"), ["version", "0"]),
        (("update", sid, "1", "origin"), ["at least one field"]),
        (("update", sid, "1", "origin", "--connect-timeout", "-5"), ["--connect-timeout"]),
        (("get", sid, "1", "origin", "--nope"), ["--nope"]),
        (("create", sid, "1", "--name", "p", "--tls-client-key", "@/no/such.pem"), ["cannot read"]),
        (("list", sid, "1"), ["FASTLY_API_TOKEN"]),  # no token in this environment
    ]
    for args, expected in cases:
        case_env = cli_env(fake.base_url) if args[0] == "list" else env
        result = await run_main(*args, env=case_env, capsys=capsys)
        assert result.code == 2, (args, result)
        assert len(result.err_lines) == 1, (args, result.err)
        assert all(text in result.err for text in expected), (args, result.err)
    # The same through the real script, once.
    script = await run_cli("create", sid, "1", "--name", "p", "--quorum", "101", env=env)
    assert script.code == 2
    assert script.err == "error: --quorum: quorum must be 0..100: 101\n"
    assert fake.requests == []


async def test_demo_exits_0_and_prints_the_bulk_report() -> None:
    result = await run_cli("demo", env=cli_env())
    assert result.code == 0, result.err
    out = result.out
    for text in ("ConflictError", "UnprocessableEntityError", "hint: Clone",
                 "report: 200 targets", "SUCCEEDED  199", "FAILED     1",
                 "report: 1 target ", "200 of 200 pools now have quorum 60",
                 "deleted 200 pools; 0 left"):  # fmt: skip
        assert text in out, text
    assert "<redacted>" in out
    assert "MIIdemo" not in out + result.err
    assert "bulk-update: 200/200" in result.err  # progress goes to stderr
    assert "Traceback" not in result.err


def transcript_blocks(out: str) -> list[tuple[list[str], list[str]]]:
    """The demo's `$ fastly-pools ...` commands (as argv) with the lines printed under each."""
    blocks: list[tuple[list[str], list[str]]] = []
    for line in out.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:])
            assert argv[0] == "fastly-pools", line
            blocks.append((argv[1:], []))
        elif line.startswith(("# ", "== ")):  # the demo's own notes and step titles
            blocks.append(([], []))
        elif blocks:
            blocks[-1][1].append(line)
    for _, lines in blocks:
        while lines and not lines[-1]:
            lines.pop()
    return [(argv, lines) for argv, lines in blocks if argv]


async def test_the_demo_transcript_shows_what_each_command_really_prints() -> None:
    result = await run_cli("demo", "--services", "5", env=cli_env())
    assert result.code == 0, result.err
    blocks = transcript_blocks(result.out)
    assert [argv[0] for argv, _ in blocks] == [
        "create", "list", "get", "update", "delete", "create", "create", "bulk-update",
        "bulk-update",
    ]  # fmt: skip
    parser = build_parser()
    for argv, _ in blocks:
        try:
            parser.parse_args(argv)  # every command line shown is one the real CLI takes
        except SystemExit:
            pytest.fail(f"the demo shows a command the CLI refuses: {argv}")
    by_command = {" ".join(argv[:1] + argv[3:4]): lines for argv, lines in blocks}
    sid = blocks[0][0][1]
    assert by_command["list"][0] == f"pools of service {sid} version 1"
    shown = json.loads("\n".join(by_command["get origin"]))
    assert set(shown) == {field.name for field in attrs.fields(fastly_pools.Pool)}
    assert shown["tls_client_key"] == "<redacted>"
    updated = by_command["update origin"]
    assert updated[0] == f"updated in service {sid} version 1"
    assert "quorum                 60" in updated
    assert by_command["delete backup"] == [f"deleted pool 'backup' from service {sid} version 1"]
    errors = [lines for argv, lines in blocks if argv[0] == "create"][1:]
    for lines in errors:
        assert len(lines) == 1
        assert lines[0].startswith("error: 4")
        assert not re.search(r"\[\w+Error\]$", lines[0])  # nothing added to the CLI's line
    other = blocks[5][0][1]
    assert f"# version 2 of {other} is now activated" in result.out
    assert "editable versions 1 and 2" not in result.out
    assert "re-run what is left: fastly-pools bulk-update --targets" in result.out


async def test_every_command_runs_without_rich(fake: FakeFastly) -> None:
    demo = await run_cli("demo", "--services", "20", env=cli_env(), command=CLI_WITHOUT_RICH)
    assert demo.code == 0, demo.err
    assert "report: 20 targets" in demo.out
    probe = await run_cli(
        "-c",
        "import sys, fastly_pools, fastly_pools._cli, fastly_pools.testing; "
        "print('rich' in sys.modules)",
        env=cli_env(),
        command=(sys.executable,),
    )
    assert probe.out.strip() == "False"  # importing the SDK (and the CLI) never imports rich


@posix_only
async def test_a_terminal_gets_a_rich_table_or_plain_text_without_rich(fake: FakeFastly) -> None:
    pytest.importorskip("rich")
    sid = fake.add_service()
    fake.seed_pool(sid, 1, "[bold]origin", quorum=0)
    env = cli_env(fake.base_url, fake.token)
    args = ("list", sid, "1")
    code, with_rich = await asyncio.to_thread(run_in_terminal, (*CLI, *args), env)
    assert code == 0
    assert "┃" in with_rich
    assert "[bold]origin" in with_rich
    code, plain = await asyncio.to_thread(run_in_terminal, (*CLI_WITHOUT_RICH, *args), env)
    assert code == 0
    assert "┃" not in plain
    assert plain.splitlines()[2].split()[:3] == ["[bold]origin", "random", "0"]
