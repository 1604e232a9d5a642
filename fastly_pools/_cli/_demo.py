"""`demo`: every command on an embedded `FakeFastly`, then a roll-out to many services.

Needs no token and no network. Each `$ fastly-pools ...` line is parsed by the real parser
and run by the real command code (on a client pointed at the fake), so what follows it is
exactly what that command prints; an error line, which the command prints on stderr, is
printed on stdout here to keep the transcript in order. Lines starting with `#` are the
demo's own notes. The roll-out injects a few server errors so the report has something
to show.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import tempfile
import time
from pathlib import Path

from .._client import Client
from .._config import RetryPolicy
from .._exceptions import FastlyError
from .._fanout_report import OutcomeState
from ..testing import FakeFastly, Fault
from ._args import build_parser
from ._bulk import run_bulk_command
from ._commands import run_pool_command
from ._errors import EXIT_OK, UsageError, describe, exit_code
from ._output import printable

__all__ = ["run_demo"]

# Short waits so the retried 503s do not slow the demo down.
_QUICK = RetryPolicy(initial_wait=0.01, max_wait=0.05, jitter=0.5)
_DEMO_KEY = "-----BEGIN PRIVATE KEY-----\nMIIdemo...not-a-real-key\n-----END PRIVATE KEY-----\n"


def _step(title: str) -> None:
    print(f"\n== {title}")


def _note(text: str) -> None:
    print(f"# {text}")


async def _run(client: Client, *argv: str) -> int:
    """Show a command line, then run it as `fastly-pools` would; return its exit code."""
    print(f"$ fastly-pools {shlex.join(argv)}")
    args = build_parser().parse_args(argv)
    command = run_bulk_command if args.command == "bulk-update" else run_pool_command
    try:
        return await command(args, client=client)
    except (FastlyError, UsageError) as exc:
        print(f"error: {printable(describe(exc))}")
        return exit_code(exc)


async def _tour(fake: FakeFastly, client: Client, folder: Path) -> None:
    """The five operations and two typed errors on a few services."""
    sid, other = fake.add_service(versions=2), fake.add_service(versions=2)
    _note(f"seeded services {sid} and {other}, each with versions 1 and 2, both editable")
    _note("each `$ fastly-pools` line runs the real command, as if FASTLY_API_URL and "
          "FASTLY_API_TOKEN pointed at the fake")  # fmt: skip
    key = folder / "client-key.pem"
    key.write_text(_DEMO_KEY, encoding="utf-8")

    _step("create: falsy values (quorum 0, use_tls off, empty comment) are sent, not dropped")
    await _run(client, "create", sid, "1", "--name", "origin", "--type", "hash",
               "--quorum", "0", "--no-use-tls", "--comment", "", "--connect-timeout", "500",
               "--tls-client-key", f"@{key}")  # fmt: skip
    await client.pools.create(sid, 1).name("backup").quorum(50).execute()
    await client.pools.create(other, 1).name("origin").execute()
    _note(f"also created (through the SDK): pool 'backup' in {sid} and 'origin' in {other}")

    _step("list")
    await _run(client, "list", sid, "1")

    _step("get, as JSON: decoded values, the private key redacted")
    await _run(client, "get", sid, "1", "origin", "--json")

    _step("update: a partial change (quorum) and a rename; other fields are kept")
    await _run(client, "update", sid, "1", "origin", "--quorum", "60", "--name", "origin-eu")

    _step("delete")
    await _run(client, "delete", sid, "1", "backup")

    _step("typed errors (ConflictError, UnprocessableEntityError): one line each, on stderr")
    await _run(client, "create", other, "1", "--name", "origin")
    fake.lock_version(other, 2)
    _note(f"version 2 of {other} is now activated, which locks it")
    await _run(client, "create", other, "2", "--name", "origin")


async def _rollout(fake: FakeFastly, client: Client, count: int, folder: Path) -> None:
    """Create a pool on `count` services, roll a change out with bulk-update, clean up."""
    _step(f"roll a change out to {count} services")
    services = [fake.add_service() for _ in range(count)]
    setup = client.fan_out(client.pools.create(sid, 1).name("origin") for sid in services)
    report = await setup.run()
    report.raise_for_failures()
    _note(f"created pool 'origin' in version 1 of {count} services (a fan_out of creates)")
    targets, out = folder / "targets.csv", folder / "out.jsonl"
    rows = ["service_id,version,pool", *(f"{sid},1,origin" for sid in services)]
    targets.write_text("\n".join(rows) + "\n", encoding="utf-8")

    flaky, broken = services[len(services) // 3], services[len(services) // 2]
    # Three attempts for one service, so the client's retries run out; then three
    # single 503s that the client retries away, and one lost answer after the change.
    fake.inject(Fault.status(503), method="PUT", path=re.escape(f"/service/{broken}/"), times=3)
    fake.inject(Fault.status(503), method="PUT", times=3)
    fake.inject(Fault.drop_after(), method="PUT", path=re.escape(f"/service/{flaky}/"))
    _note("injected: 3 x 503 on any update, 1 lost answer, and 3 x 503 on one service")
    fake.clear_requests()
    fake.latency = 0.002  # enough for the progress display to move

    change = ("--quorum", "60", "--max-conn-default", "400")
    await _run(client, "bulk-update", "--targets", str(targets), *change, "--out", str(out))
    puts = sum(1 for request in fake.requests if request.method == "PUT")
    _note(f"the fake received {puts} updates for {count} targets: the client retried "
          f"{puts - count} on its own")  # fmt: skip

    states = [json.loads(line)["state"] for line in out.read_text(encoding="utf-8").splitlines()]
    left = sum(1 for state in states if state in ("NOT_SENT", "FAILED"))
    _step(f"re-run what is left ({left})")
    await _run(client, "bulk-update", "--targets", str(out), "--only-states", "NOT_SENT,FAILED",
               *change, "--out", str(folder / "out2.jsonl"))  # fmt: skip
    changed = sum(1 for sid in services for p in fake.pools(sid, 1) if p["quorum"] == "60")
    _note(f"check: {changed} of {count} pools now have quorum 60")

    _step("clean up: delete every pool the demo made")
    fake.latency = 0.0
    cleanup = await client.fan_out(client.pools.delete(s, 1, "origin") for s in services).run()
    left_over = sum(len(fake.pools(sid, 1)) for sid in services)
    _note(f"deleted {cleanup.counts[OutcomeState.SUCCEEDED]} pools; {left_over} left")


async def run_demo(args: argparse.Namespace) -> int:
    """The `demo` command."""
    if not 1 <= args.services <= 5000:
        raise UsageError(f"--services must be within 1..5000: {args.services}")
    started = time.monotonic()
    async with FakeFastly() as fake:
        _note(f"FakeFastly (fastly_pools.testing) is serving on {fake.base_url}; no token or "
              "network needed")  # fmt: skip
        async with Client(fake.token, base_url=fake.base_url, retry=_QUICK) as client:
            with tempfile.TemporaryDirectory(prefix="fastly-pools-demo-") as tmp:
                _note(f"the demo's files (a key, targets, --out files) are in {tmp}")
                await _tour(fake, client, Path(tmp))
                await _rollout(fake, client, args.services, Path(tmp))
    print(f"\n# demo finished in {time.monotonic() - started:.1f}s")
    return EXIT_OK
