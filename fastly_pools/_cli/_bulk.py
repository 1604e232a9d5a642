"""`bulk-update`: one update applied to many pools through `client.fan_out`.

The demo runs the same `run_bulk` so it shows exactly what an operator gets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import parse_qsl, quote

from .._client import Client
from .._fanout_report import Outcome, OutcomeState
from .._pools import UpdatePool
from .._types import REDACTED
from ._args import field_values
from ._commands import make_client, read_token, usage_errors, with_fields
from ._errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError, describe
from ._output import emit_json, print_table
from ._progress import ProgressDisplay
from ._targets import Target, parse_states, read_targets

__all__ = [
    "build_updates",
    "print_dry_run",
    "print_report",
    "run_bulk",
    "run_bulk_command",
    "update_template",
]

_SHOWN_FAILURES = 20
_SECRET_FIELDS = frozenset({"tls_client_key"})


def update_template(client: Client, fields: list[tuple[str, object]]) -> UpdatePool:
    """The update every target gets, checked once by the SDK's setters."""
    if not fields:
        raise UsageError("bulk-update needs at least one field flag, e.g. --quorum 50")
    template = with_fields(client.pools.update("service", 1, "pool"), fields)
    with usage_errors():
        template.build_request()
    return template


def build_updates(template: UpdatePool, targets: Sequence[Target]) -> list[UpdatePool]:
    """One builder per target: the template aimed at the target's service, version and pool."""
    return [
        template.with_target(service_id=t.service_id, version=t.version, pool_name=t.pool)
        for t in targets
    ]


def _redacted_form(body: bytes | None, *, show_secrets: bool) -> list[tuple[str, str]]:
    pairs = parse_qsl((body or b"").decode("ascii"), keep_blank_values=True)
    if show_secrets:
        return pairs
    return [(key, REDACTED if key in _SECRET_FIELDS else value) for key, value in pairs]


def print_dry_run(builders: Sequence[UpdatePool], *, as_json: bool, show_secrets: bool) -> None:
    """What would be sent, request by request; secrets redacted."""
    for builder in builders:
        request = builder.build_request()
        form = _redacted_form(request.body, show_secrets=show_secrets)
        if as_json:
            line = {"method": request.method, "path": request.path, "form": dict(form)}
            print(json.dumps(line))
        else:
            body = "&".join(
                f"{quote(k)}={v if v == REDACTED else quote(v, safe='')}" for k, v in form
            )
            print(f"{request.method} {request.path} {body}")
    print(f"dry run: {len(builders)} requests would be sent; nothing was sent", file=sys.stderr)


def _record(target: Target, state: str, error: str | None) -> dict[str, object]:
    row: dict[str, object] = {
        "service_id": target.service_id,
        "version": target.version,
        "pool": target.pool,
        "state": state,
    }
    if error is not None:
        row["error"] = error
    return row


def _why(outcome: Outcome) -> str | None:
    if outcome.state is OutcomeState.SUCCEEDED:
        return None
    if outcome.error is None:
        return outcome.reason or None
    text = describe(outcome.error)
    return f"{text} ({outcome.reason})" if outcome.reason else text


async def run_bulk(
    client: Client,
    targets: Sequence[Target],
    builders: Sequence[UpdatePool],
    *,
    concurrency: int = 16,
    stop_after_failures: int | None = None,
    out: TextIO | None = None,
    progress_every: int | None = None,
    label: str = "bulk-update",
    records: dict[int, dict[str, object]] | None = None,
) -> list[dict[str, object]]:
    """Run the builders with `fan_out`; return (and write to `out`) one record per target.

    Each record is written as soon as its outcome is known. When the run is cancelled
    (Ctrl-C), `records` (filled in place) and `out` still cover every target: outcomes
    settled during the cancellation come from the run's report, and targets the run never
    took are NOT_SENT.
    """
    records = {} if records is None else records

    def keep(index: int, record: dict[str, object]) -> None:
        records[index] = record
        if out is not None:
            out.write(json.dumps(record) + "\n")

    def settled(outcome: Outcome) -> None:
        keep(outcome.index, _record(targets[outcome.index], outcome.state.name, _why(outcome)))

    with ProgressDisplay(len(builders), label=label, every=progress_every) as progress:
        run = client.fan_out(
            builders,
            concurrency=concurrency,
            stop_after_failures=stop_after_failures,
            on_progress=progress,
        )
        async with run:
            try:
                async for outcome in run:
                    settled(outcome)
            finally:
                report = run.report
                for outcome in report.outcomes:
                    if outcome.index not in records:
                        settled(outcome)
                why = f"not started: {report.stopped or 'the run ended first'}"
                for index, target in enumerate(targets):
                    if index not in records:
                        keep(index, _record(target, "NOT_SENT", why))
    return [records[index] for index in range(len(targets))]


def print_report(
    records: Sequence[dict[str, object]], *, elapsed: float, as_json: bool, out_path: str | None
) -> None:
    """Counts by state, then every target that did not succeed with its one-line error."""
    counts = {state.name: 0 for state in OutcomeState}
    for record in records:
        counts[str(record["state"])] += 1
    failures = [record for record in records if record["state"] != "SUCCEEDED"]
    if as_json:
        emit_json({"total": len(records), "counts": counts, "not_done": failures})
        return
    noun = "target" if len(records) == 1 else "targets"
    print(f"\nreport: {len(records)} {noun} in {elapsed:.1f}s")
    print_table(("state", "count"), [[name, str(count)] for name, count in counts.items()])
    if failures:
        print("\nnot done:")
    for record in failures[:_SHOWN_FAILURES]:
        where = f"{record['service_id']},{record['version']},{record['pool']}"
        print(f"  {record['state']:<8} {where}: {record.get('error', '')}")
    if len(failures) > _SHOWN_FAILURES:
        more = len(failures) - _SHOWN_FAILURES
        print(f"  ... and {more} more" + (f" (all in {out_path})" if out_path else ""))
    if failures and out_path:
        print(
            f"\nre-run what is left: fastly-pools bulk-update --targets {out_path} "
            "--only-states NOT_SENT,FAILED [same field flags]"
        )


async def run_bulk_command(args: argparse.Namespace) -> int:
    """The `bulk-update` command."""
    fields = field_values(args)
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be >= 1: {args.concurrency}")
    if args.stop_after_failures is not None and args.stop_after_failures < 1:
        raise UsageError(f"--stop-after-failures must be >= 1: {args.stop_after_failures}")
    only = parse_states(args.only_states) if args.only_states else None
    # A dry run sends nothing, so it needs no token: a placeholder one is never used.
    token = None if not args.dry_run else read_token(args, required=False) or "dry-run"
    client = make_client(args, token=token)
    async with client:
        template = update_template(client, fields)  # bad flag values fail before the file
        targets = read_targets(args.targets, only_states=only)
        builders = build_updates(template, targets)
        if args.dry_run:
            print_dry_run(builders, as_json=args.json, show_secrets=args.show_secrets)
            return EXIT_OK
        if not targets:
            print("nothing to do: no target is in the states asked for", file=sys.stderr)
            return EXIT_OK
        out = _open_out(args.out)
        started = time.monotonic()
        settled: dict[int, dict[str, object]] = {}
        interrupted = False
        try:
            await run_bulk(
                client,
                targets,
                builders,
                concurrency=args.concurrency,
                stop_after_failures=args.stop_after_failures,
                out=out,
                records=settled,
            )
        except asyncio.CancelledError:
            # Ctrl-C: asyncio.run cancelled this task. Every target is accounted for by
            # now, so report them all before leaving with the "interrupted" exit code.
            interrupted = True
        finally:
            if out is not None:
                out.close()
    elapsed = time.monotonic() - started
    records = [
        settled.get(i) or _record(target, "NOT_SENT", "not started: interrupted")
        for i, target in enumerate(targets)
    ]
    print_report(records, elapsed=elapsed, as_json=args.json, out_path=args.out)
    if interrupted:
        print("interrupted: the report covers every target", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r["state"] == "SUCCEEDED" for r in records) else EXIT_FAILED


def _open_out(path: str | None) -> TextIO | None:
    if path is None:
        return None
    try:
        # Line-buffered: each outcome is on disk as soon as it is known.
        return open(path, "w", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {path!r}: {exc.strerror}") from None
