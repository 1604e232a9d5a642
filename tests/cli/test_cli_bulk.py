"""End-to-end tests of `bulk-update`: the CLI runs as a subprocess against an in-process
FakeFastly, so faults can be injected while the test's event loop serves it."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import pytest

from fastly_pools.testing import FakeFastly, Fault

from . import CLI, PEM_KEY, PEM_MARKER, TIMEOUT, cli_env, run_cli, run_main


def seed(fake: FakeFastly, count: int) -> list[str]:
    services = [fake.add_service(f"svc{n}") for n in range(count)]
    for sid in services:
        fake.seed_pool(sid, 1, "origin", quorum=75)
    return services


def write_csv(path: Path, services: list[str], *, header: bool = True) -> Path:
    rows = ["service_id,version,pool"] if header else []
    rows += [f"{sid},1,origin" for sid in services]
    path.write_text("\n".join(rows) + "\n")
    return path


def read_out(path: Path) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {str(row["service_id"]): row for row in rows}


def puts_by_service(fake: FakeFastly) -> list[str | None]:
    return sorted(r.service_id for r in fake.requests if r.method == "PUT")


def counts(out: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^(SUCCEEDED|FAILED|NOT_SENT|UNKNOWN)\s+(\d+)$",
                                                 out, re.MULTILINE)}  # fmt: skip


async def test_failures_are_reported_and_the_out_file_rerun_takes_only_what_is_left(
    fake: FakeFastly, tmp_path: Path
) -> None:
    services = seed(fake, 6)
    targets = write_csv(tmp_path / "targets.csv", services)
    out = tmp_path / "out.jsonl"
    fake.inject(Fault.status(503), method="PUT", path="/service/svc1/")
    fake.lock_version("svc2", 1)
    fake.inject(Fault.drop_after(), method="PUT", path="/service/svc3/")
    env = cli_env(fake.base_url, fake.token)
    flags = ("--quorum", "60", "--max-retries", "0", "--concurrency", "2")

    first = await run_cli("bulk-update", "--targets", str(targets), *flags, "--out", str(out),
                          env=env)  # fmt: skip
    assert first.code == 1, first.err
    assert counts(first.out) == {"SUCCEEDED": 3, "FAILED": 2, "NOT_SENT": 0, "UNKNOWN": 1}
    assert re.search(r"FAILED +svc1,1,origin: 503 Service Unavailable", first.out)
    assert re.search(r"FAILED +svc2,1,origin: 422 Version locked.*hint: Clone", first.out)
    assert re.search(r"UNKNOWN +svc3,1,origin: .*may have been applied", first.out)
    assert "--only-states NOT_SENT,FAILED" in first.out
    recorded = read_out(out)
    assert {sid: row["state"] for sid, row in recorded.items()} == {
        "svc0": "SUCCEEDED", "svc1": "FAILED", "svc2": "FAILED", "svc3": "UNKNOWN",
        "svc4": "SUCCEEDED", "svc5": "SUCCEEDED",
    }  # fmt: skip
    assert "error" not in recorded["svc0"]
    assert "503" in str(recorded["svc1"]["error"])
    assert fake.pools("svc3", 1)[0]["quorum"] == "60"  # applied, though its answer was lost

    fake.clear_requests()
    again = await run_cli("bulk-update", "--targets", str(out), "--only-states",
                          "NOT_SENT,FAILED", *flags, env=env)  # fmt: skip
    assert puts_by_service(fake) == ["svc1", "svc2"]  # exactly what was left, nothing else
    assert again.code == 1
    assert counts(again.out) == {"SUCCEEDED": 1, "FAILED": 1, "NOT_SENT": 0, "UNKNOWN": 0}
    assert [sid for sid in services if fake.pools(sid, 1)[0]["quorum"] != "60"] == ["svc2"]


async def test_stop_after_failures_leaves_the_rest_not_sent_for_a_rerun(
    fake: FakeFastly, tmp_path: Path
) -> None:
    services = seed(fake, 5)
    fake.lock_version("svc0", 1)
    targets = write_csv(tmp_path / "targets.csv", services, header=False)
    out = tmp_path / "out.jsonl"
    env = cli_env(fake.base_url, fake.token)
    first = await run_cli(
        "bulk-update", "--targets", str(targets), "--quorum", "10", "--concurrency", "1",
        "--stop-after-failures", "1", "--out", str(out), "--json", env=env,
    )  # fmt: skip
    assert first.code == 1
    report = json.loads(first.out)
    assert report["counts"] == {"SUCCEEDED": 0, "FAILED": 1, "NOT_SENT": 4, "UNKNOWN": 0}
    assert puts_by_service(fake) == ["svc0"]
    assert sorted(read_out(out)) == services  # every target is in the file

    fake.clear_requests()
    rerun = await run_cli("bulk-update", "--targets", str(out), "--only-states", "not_sent",
                          "--quorum", "10", "--json", env=env)  # fmt: skip
    assert rerun.code == 0, rerun.err
    assert json.loads(rerun.out)["counts"]["SUCCEEDED"] == 4
    assert puts_by_service(fake) == services[1:]


async def test_targets_from_stdin_as_json_lines_with_progress_on_stderr(
    fake: FakeFastly,
) -> None:
    services = seed(fake, 3)
    lines = "".join(
        json.dumps({"service_id": sid, "version": "1", "pool": "origin", "note": "x"}) + "\n"
        for sid in services
    )
    result = await run_cli("bulk-update", "--targets", "-", "--no-use-tls", stdin=lines,
                           env=cli_env(fake.base_url, fake.token))  # fmt: skip
    assert result.code == 0, result.err
    assert counts(result.out)["SUCCEEDED"] == 3
    assert "bulk-update: 3/3 (3 succeeded)" in result.err
    assert all(r.form == {"use_tls": ["0"]} for r in fake.requests)


async def test_dry_run_prints_each_request_redacted_and_sends_nothing(
    fake: FakeFastly, tmp_path: Path
) -> None:
    services = seed(fake, 3)
    targets = write_csv(tmp_path / "targets.csv", services)
    key = tmp_path / "key.pem"
    key.write_text(PEM_KEY)
    env = cli_env(fake.base_url)  # no token: a dry run needs none
    flags = ("--quorum", "0", "--tls-client-key", f"@{key}", "--dry-run")
    plain = await run_cli("bulk-update", "--targets", str(targets), *flags, env=env)
    as_json = await run_cli("bulk-update", "--targets", str(targets), *flags, "--json", env=env)
    assert plain.code == 0, plain.err
    assert as_json.code == 0, as_json.err
    assert plain.out.splitlines() == [
        f"PUT /service/{sid}/version/1/pool/origin quorum=0&tls_client_key=<redacted>"
        for sid in services
    ]
    first = json.loads(as_json.out.splitlines()[0])
    assert first == {
        "method": "PUT", "path": "/service/svc0/version/1/pool/origin",
        "form": {"quorum": "0", "tls_client_key": "<redacted>"},
    }  # fmt: skip
    for result in (plain, as_json):
        assert PEM_MARKER not in result.out + result.err
        assert "nothing was sent" in result.err
    assert fake.requests == []


async def test_bad_rows_and_flags_are_one_line_exit_2_and_nothing_is_sent(
    fake: FakeFastly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(fake, 2)
    env = cli_env(fake.base_url, fake.token)
    cases = {
        "svc0,1,origin\nsvc1,x,origin\n": ["line 2", "version", "'x'"],
        "service_id,version,pool\nsvc0,1,origin\n\nsvc1,1\n": ["line 4", "svc1,1"],
        "svc0,1,origin\n ,1,origin\n": ["line 2", "service_id"],
        "svc0,1,..\n": ["line 1", "pool", "'..'"],
        "svc0,1,origin\nsvc0,1,origin\n": ["line 2", "duplicate", "line 1"],
        '{"service_id": "svc0", "version": 1, "pool": "origin"}\n[1, 2]\n': ["line 2", "JSON"],
        '{"service_id": "svc0", "version": 0, "pool": "origin"}\n': ["line 1", "version", "0"],
        "": ["no targets"],
    }
    for index, (text, expected) in enumerate(cases.items()):
        path = tmp_path / f"bad{index}.csv"
        path.write_text(text)
        result = await run_main("bulk-update", "--targets", str(path), "--quorum", "5",
                                env=env, capsys=capsys)  # fmt: skip
        assert result.code == 2, (text, result)
        assert len(result.err_lines) == 1, (text, result.err)
        assert all(part in result.err for part in expected), (text, result.err)
        assert str(path) in result.err
    good = write_csv(tmp_path / "good.csv", ["svc0"])
    flag_cases = [
        (("--quorum", "101"), ["--quorum", "101"]),
        (("--type", "nope"), ["--type", "'nope'"]),
        ((), ["at least one field"]),
        (("--quorum", "1", "--only-states", "DONE"), ["--only-states", "DONE"]),
        (("--quorum", "1", "--concurrency", "0"), ["--concurrency"]),
    ]
    for flags, expected in flag_cases:
        result = await run_main("bulk-update", "--targets", str(good), *flags, env=env,
                                capsys=capsys)  # fmt: skip
        assert result.code == 2, (flags, result)
        assert len(result.err_lines) == 1, result.err
        assert all(part in result.err for part in expected), result.err
    # Through the real script, once: a bad row, and a bad flag value reported before the
    # targets file is even read.
    bad_row = tmp_path / "bad0.csv"
    script = await run_cli("bulk-update", "--targets", str(bad_row), "--quorum", "5", env=env)
    assert script.code == 2
    assert script.err == f"error: {bad_row} line 2: version must be a positive int: 'x'\n"
    missing = await run_cli("bulk-update", "--targets", "/no/such", "--quorum", "-1", env=env)
    assert missing.code == 2
    assert "--quorum" in missing.err
    assert fake.requests == []


async def test_only_states_needs_an_out_file(fake: FakeFastly, tmp_path: Path) -> None:
    targets = write_csv(tmp_path / "targets.csv", seed(fake, 1))
    result = await run_cli("bulk-update", "--targets", str(targets), "--only-states", "FAILED",
                           "--quorum", "1", env=cli_env(fake.base_url, fake.token))  # fmt: skip
    assert result.code == 2
    assert "written by --out" in result.err
    assert fake.requests == []



async def bulk_update_in_flight(
    fake: FakeFastly, targets: Path, out: Path, *flags: str
) -> asyncio.subprocess.Process:
    """Start `bulk-update --quorum 1` as a subprocess; return once a request is in flight."""
    proc = await asyncio.create_subprocess_exec(
        *CLI, "bulk-update", "--targets", str(targets), "--quorum", "1", "--out", str(out),
        *flags,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=cli_env(fake.base_url, fake.token),
    )  # fmt: skip
    try:
        # FakeFastly has no "a request arrived" event, so poll it (bounded).
        async with asyncio.timeout(TIMEOUT):
            while fake.in_flight == 0:  # noqa: ASYNC110 - no event to wait on
                await asyncio.sleep(0.01)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc

@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
async def test_ctrl_c_still_reports_and_records_every_target(
    fake: FakeFastly, tmp_path: Path
) -> None:
    services = seed(fake, 4)
    fake.inject(Fault.hang(), method="PUT", path="/service/svc0/")
    targets = write_csv(tmp_path / "targets.csv", services)
    out = tmp_path / "out.jsonl"
    # With concurrency 1 the only request that can be in flight is svc0's, which hangs.
    proc = await bulk_update_in_flight(fake, targets, out, "--concurrency", "1")
    try:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130, stderr.decode()
    assert counts(stdout.decode()) == {"SUCCEEDED": 0, "FAILED": 0, "NOT_SENT": 3, "UNKNOWN": 1}
    assert "interrupted" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert {sid: row["state"] for sid, row in read_out(out).items()} == {
        "svc0": "UNKNOWN", "svc1": "NOT_SENT", "svc2": "NOT_SENT", "svc3": "NOT_SENT",
    }  # fmt: skip
    assert puts_by_service(fake) == ["svc0"]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
async def test_a_second_ctrl_c_while_stopping_still_reports_and_records_every_target(
    fake: FakeFastly, tmp_path: Path
) -> None:
    # GNU `timeout` and an impatient double Ctrl-C both send two SIGINTs: the second lands
    # while the run settles and must not cut the report or the end of the --out file.
    services = seed(fake, 300)
    fake.latency = 0.05
    targets = write_csv(tmp_path / "targets.csv", services)
    out = tmp_path / "out.jsonl"
    proc = await bulk_update_in_flight(fake, targets, out)
    try:
        proc.send_signal(signal.SIGINT)
        await asyncio.sleep(0.002)  # the behaviour under test: a second SIGINT right after
        proc.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    err = stderr.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: the report covers every target" in err
    reported = counts(stdout.decode())
    assert sum(reported.values()) == 300, stdout.decode()
    assert reported["NOT_SENT"] > 0
    lines = out.read_text().splitlines()
    assert len(lines) == 300
    assert sorted(str(json.loads(line)["service_id"]) for line in lines) == sorted(services)
