"""The targets reader and the flag table (in process), and the entry points."""

from __future__ import annotations

import io
import json
import shlex
import shutil
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

import fastly_pools
from fastly_pools._cli import main
from fastly_pools._cli._args import build_parser, field_values
from fastly_pools._cli._errors import UsageError
from fastly_pools._cli._targets import Target, parse_states, read_targets

from . import cli_env, run_cli

REPO = Path(__file__).resolve().parents[2]


def read(tmp_path: Path, text: str, only_states: frozenset[str] | None = None) -> list[Target]:
    path = tmp_path / "targets"
    path.write_text(text)
    return read_targets(str(path), only_states=only_states)


def keys(targets: list[Target]) -> list[tuple[str, int, str]]:
    return [(t.service_id, t.version, t.pool) for t in targets]


def test_csv_with_and_without_header_comments_and_reordered_columns(tmp_path: Path) -> None:
    plain = read(tmp_path, "# a comment\nsvc,1,origin\n\nsvc, 2 ,a/b\n")
    assert keys(plain) == [("svc", 1, "origin"), ("svc", 2, "a/b")]
    assert [t.line for t in plain] == [2, 4]
    headed = read(tmp_path, "Name,Service_ID,version,owner\norigin,svc,3,me\n")
    assert keys(headed) == [("svc", 3, "origin")]


def test_json_lines_keep_their_state_and_only_states_filters(tmp_path: Path) -> None:
    rows = [
        {"service_id": "a", "version": 1, "pool": "p", "state": "SUCCEEDED"},
        {"service_id": "b", "version": "1", "pool": "p", "state": "FAILED", "error": "x"},
        {"service_id": "c", "version": 1, "name": "p", "state": "NOT_SENT"},
    ]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    everything = read(tmp_path, text)
    assert [t.state for t in everything] == ["SUCCEEDED", "FAILED", "NOT_SENT"]
    left = read(tmp_path, text, only_states=parse_states("not_sent, FAILED"))
    assert keys(left) == [("b", 1, "p"), ("c", 1, "p")]


def test_stdin_is_read_for_a_dash() -> None:
    targets = read_targets("-", stdin=io.StringIO("svc,7,origin\n"))
    assert keys(targets) == [("svc", 7, "origin")]


def test_a_utf8_byte_order_mark_is_ignored_in_files_and_on_stdin(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" starts the file with a BOM, which would glue onto the header.
    for text in ("service_id,version,pool\nsvc,1,origin\n",
                 '{"service_id": "svc", "version": 1, "pool": "origin"}\n'):  # fmt: skip
        path = tmp_path / "bom.csv"
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert keys(read_targets(str(path))) == [("svc", 1, "origin")]
        from_stdin = read_targets("-", stdin=io.StringIO("\ufeff" + text))
        assert keys(from_stdin) == [("svc", 1, "origin")]


@pytest.mark.parametrize(
    "text",
    [
        '[{"service_id": "svc", "version": 1, "pool": "origin"}]\n',
        '\n[\n  {"service_id": "svc", "version": 1, "pool": "origin"}\n]\n',
    ],
)
def test_a_json_array_is_refused_with_a_clear_hint(tmp_path: Path, text: str) -> None:
    with pytest.raises(UsageError) as caught:
        read(tmp_path, text)
    message = str(caught.value)
    assert "looks like a JSON array" in message
    assert "JSON Lines" in message
    assert "jq -c" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("svc,1.5,p\n", "line 1: version must be a positive int: '1.5'"),
        ("svc,-1,p\n", "line 1: version must be a positive int: -1"),
        ("svc,1,p\nsvc,1,.\n", "line 2: pool must not be '.'"),
        ("svc,1,p,extra\n", "line 1: expected the columns service_id,version,pool"),
        ("service_id,version\nsvc,1\n", "line 1: header lacks pool"),
        ('{"service_id": "s", "pool": "p"}\n', "line 1: missing version"),
        ('{"service_id": "s", "version": true, "pool": "p"}\n', "line 1: version must be an int"),
        ('{"service_id": "s", "version": 1, "pool": "p", "state": "DONE"}\n', "state must be"),
        ("   \n# only a comment\n", "no targets in"),
    ],
)
def test_bad_rows_name_the_line_and_value(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(UsageError) as caught:
        read(tmp_path, text)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_only_states_must_be_known_states() -> None:
    with pytest.raises(UsageError, match="--only-states"):
        parse_states("FAILED,DONE")
    with pytest.raises(UsageError, match="--only-states"):
        parse_states(" , ")


def test_every_writable_field_has_one_flag_of_the_right_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = "create svc 1 --name p --quorum ' 7 ' --no-use-tls --tls-check-cert --type hash"
    args = build_parser().parse_args([*shlex.split(argv), "--comment", ""])
    assert field_values(args) == [
        ("name", "p"), ("comment", ""), ("type", "hash"), ("quorum", 7), ("use_tls", False),
        ("tls_check_cert", True),
    ]  # fmt: skip
    assert main(["update", "--help"]) == 0
    help_text = capsys.readouterr().out
    for field in fastly_pools.WRITABLE_FIELDS:
        assert "--" + field.replace("_", "-") in help_text


def test_the_console_script_entry_point_is_main() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    module, _, name = project["project"]["scripts"]["fastly-pools"].partition(":")
    assert getattr(import_module(module), name) is main


def test_main_returns_exit_codes_instead_of_raising(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert fastly_pools.__version__ in capsys.readouterr().out
    assert main(["get", "svc", "1"]) == 2  # NAME missing
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ")


async def test_the_installed_console_script_runs_the_demo() -> None:
    script = shutil.which("fastly-pools")
    if script is None:
        pytest.skip("the fastly-pools script is not on PATH (the package is not installed)")
    version = await run_cli("--version", env=cli_env(), command=(script,))
    if version.out.split() != ["fastly-pools", fastly_pools.__version__]:
        pytest.skip(f"{script} belongs to another install: {version.out.strip()!r}")
    demo = await run_cli("demo", "--services", "20", env=cli_env(), command=(script,))
    assert demo.code == 0, demo.err
    assert "report: 20 targets" in demo.out
