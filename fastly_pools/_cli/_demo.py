"""`demo`: every command on an embedded `FakeFastly`, then a roll-out to many services.

Needs no token and no network. The roll-out runs `run_bulk`, the code `bulk-update`
runs, with a few injected server errors so the report shows what really happened.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Awaitable
from typing import Any

from .._client import Client
from .._config import RetryPolicy
from .._exceptions import APIStatusError
from .._fanout_report import OutcomeState
from ..testing import FakeFastly, Fault
from ._bulk import build_updates, print_report, run_bulk, update_template
from ._errors import EXIT_OK, UsageError, describe
from ._output import emit_json, pool_to_json, print_deleted, print_pool, print_pools
from ._targets import Target

__all__ = ["run_demo"]

# Short waits so the retried 503s do not slow the demo down.
_QUICK = RetryPolicy(initial_wait=0.01, max_wait=0.05, jitter=0.5)
_DEMO_KEY = "-----BEGIN PRIVATE KEY-----\nMIIdemo...not-a-real-key\n-----END PRIVATE KEY-----\n"


def _step(title: str) -> None:
    print(f"\n== {title}")


def _shell(command: str) -> None:
    print(f"$ fastly-pools {command}")


async def _show_error(call: Awaitable[Any]) -> None:
    """Await a call that is meant to fail and print its error as the CLI would."""
    try:
        await call
    except APIStatusError as exc:
        print(f"error: {describe(exc)}   [{type(exc).__name__}]")
    else:  # pragma: no cover - the fake answers as the API does
        print("unexpectedly succeeded")


async def _tour(fake: FakeFastly, client: Client) -> None:
    """The five operations and two typed errors on a few services."""
    sid, other = fake.add_service(versions=2), fake.add_service(versions=2)
    print(f"seeded services {sid} and {other}, each with editable versions 1 and 2")

    _step("create: falsy values (quorum 0, use_tls off, empty comment) are sent, not dropped")
    _shell(
        f"create {sid} 1 --name origin --type hash --quorum 0 --no-use-tls --comment '' "
        "--connect-timeout 500 --tls-client-key @client-key.pem"
    )
    create = client.pools.create(sid, 1).name("origin").type("hash").quorum(0)
    create = create.use_tls(False).comment("").connect_timeout(500).tls_client_key(_DEMO_KEY)
    print_pool(await create.execute(), as_json=False, show_secrets=False)
    await client.pools.create(sid, 1).name("backup").quorum(50).execute()
    await client.pools.create(other, 1).name("origin").execute()

    _step("list")
    _shell(f"list {sid} 1")
    pools = await client.pools.list(sid, 1).execute()
    print_pools(pools, as_json=False, show_secrets=False)

    _step("get, as JSON: decoded values, the private key redacted")
    _shell(f"get {sid} 1 origin --json")
    pool = await client.pools.get(sid, 1, "origin").execute()
    shown = pool_to_json(pool)
    emit_json({key: shown[key] for key in ("name", "type", "quorum", "use_tls", "tls_client_key")})

    _step("update: a partial change (quorum) and a rename; other fields are kept")
    _shell(f"update {sid} 1 origin --quorum 60 --name origin-eu")
    updated = await client.pools.update(sid, 1, "origin").quorum(60).name("origin-eu").execute()
    print(f"name {pool.name} -> {updated.name}, quorum {pool.quorum} -> {updated.quorum}, "
          f"type still {updated.type and updated.type.value}, "
          f"connect_timeout still {updated.connect_timeout}")  # fmt: skip

    _step("delete")
    _shell(f"delete {sid} 1 backup")
    print_deleted(
        await client.pools.delete(sid, 1, "backup").execute(), as_json=False, where=f"{sid} v1"
    )

    _step("typed errors, one line each")
    _shell(f"create {other} 1 --name origin")
    await _show_error(client.pools.create(other, 1).name("origin").execute())
    fake.lock_version(other, 2)
    _shell(f"create {other} 2 --name origin   # version 2 is locked (activated)")
    await _show_error(client.pools.create(other, 2).name("origin").execute())


async def _rollout(fake: FakeFastly, client: Client, count: int) -> None:
    """Create a pool on `count` services, roll a change out with bulk-update, clean up."""
    _step(f"roll a change out to {count} services")
    services = [fake.add_service() for _ in range(count)]
    setup = client.fan_out(client.pools.create(sid, 1).name("origin") for sid in services)
    report = await setup.run()
    report.raise_for_failures()
    print(f"created pool 'origin' in version 1 of {count} services (fan_out of creates)")

    flaky, broken = services[len(services) // 3], services[len(services) // 2]
    # Three attempts for one service, so the client's retries run out; then three
    # single 503s that the client retries away, and one lost answer after the change.
    fake.inject(Fault.status(503), method="PUT", path=re.escape(f"/service/{broken}/"), times=3)
    fake.inject(Fault.status(503), method="PUT", times=3)
    fake.inject(Fault.drop_after(), method="PUT", path=re.escape(f"/service/{flaky}/"))
    print("injected: 3 x 503 on any update, 1 lost answer, and 3 x 503 on one service")
    fake.clear_requests()
    fake.latency = 0.002  # enough for the progress display to move

    targets = [Target(sid, 1, "origin", line) for line, sid in enumerate(services, start=1)]
    template = update_template(client, [("quorum", 60), ("max_conn_default", 400)])
    # fan_out gives writes the SDK's default backoff unless the builder carries its own.
    template = template.with_options(retry=_QUICK)
    _shell("bulk-update --targets targets.csv --quorum 60 --max-conn-default 400 --out out.jsonl")
    started = time.monotonic()
    records = await run_bulk(client, targets, build_updates(template, targets))
    print_report(records, elapsed=time.monotonic() - started, as_json=False, out_path=None)
    puts = sum(1 for request in fake.requests if request.method == "PUT")
    print(f"the fake received {puts} updates for {count} targets: the client retried "
          f"{puts - count} on its own")  # fmt: skip

    left = [t for t, r in zip(targets, records, strict=True) if r["state"] != "SUCCEEDED"]
    _step(f"re-run what is left ({len(left)})")
    _shell("bulk-update --targets out.jsonl --only-states NOT_SENT,FAILED --quorum 60 ...")
    started = time.monotonic()
    again = await run_bulk(client, left, build_updates(template, left))
    print_report(again, elapsed=time.monotonic() - started, as_json=False, out_path=None)
    changed = sum(1 for sid in services for p in fake.pools(sid, 1) if p["quorum"] == "60")
    print(f"check: {changed} of {count} pools now have quorum 60")

    _step("clean up: delete every pool the demo made")
    fake.latency = 0.0
    cleanup = await client.fan_out(client.pools.delete(s, 1, "origin") for s in services).run()
    left_over = sum(len(fake.pools(sid, 1)) for sid in services)
    print(f"deleted {cleanup.counts[OutcomeState.SUCCEEDED]} pools; {left_over} left")


async def run_demo(args: argparse.Namespace) -> int:
    """The `demo` command."""
    if not 1 <= args.services <= 5000:
        raise UsageError(f"--services must be within 1..5000: {args.services}")
    started = time.monotonic()
    async with FakeFastly() as fake:
        print(f"FakeFastly (fastly_pools.testing) is serving on {fake.base_url}; no token or "
              "network needed")  # fmt: skip
        async with Client(fake.token, base_url=fake.base_url, retry=_QUICK) as client:
            await _tour(fake, client)
            await _rollout(fake, client, args.services)
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s")
    return EXIT_OK
