"""`bulk-update`: one update applied to many pools through `client.fan_out`.

The demo runs this same command on its embedded fake, so it shows what an operator gets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import TextIO

from .._client import Client
from .._exceptions import APIStatusError, AuthenticationError, PermissionDeniedError
from .._fanout_report import Outcome, OutcomeState
from .._pools import UpdatePool
from ._args import field_values
from ._commands import make_client, read_token, usage_errors, with_fields
from ._errors import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    auth_refusal,
    describe,
)
from ._output import printable, silence_stdout
from ._progress import ProgressDisplay
from ._report import print_dry_run, print_report
from ._sigint import stop_once
from ._targets import Target, parse_states, read_targets

__all__ = [
    "build_updates",
    "run_bulk",
    "run_bulk_command",
    "update_template",
]

_AUTH_ERRORS = (AuthenticationError, PermissionDeniedError)  # exit code 3


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
    refused: list[APIStatusError] | None = None,
) -> list[dict[str, object]]:
    """Run the builders with `fan_out`; return (and write to `out`) one record per target.

    Each record is written as soon as its outcome is known. When the run is cancelled
    (Ctrl-C), `records` (filled in place) and `out` still cover every target: outcomes
    settled during the cancellation come from the run's report, and targets the run never
    took are NOT_SENT. `refused` collects the 401 and 403 errors (the token was refused).
    """
    records = {} if records is None else records

    def keep(index: int, record: dict[str, object]) -> None:
        records[index] = record
        if out is not None:
            out.write(json.dumps(record) + "\n")

    def settled(outcome: Outcome) -> None:
        if refused is not None and isinstance(outcome.error, _AUTH_ERRORS):
            refused.append(outcome.error)
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


def _refuse_out_over_targets(targets: str, out: str | None) -> None:
    """--out must not be the --targets file: the run would replace it with the outcomes of
    only the rows it takes, losing the others (such as UNKNOWN ones --only-states left out)."""
    if out is None or targets == "-":
        return
    try:
        same = os.path.samefile(targets, out)
    except OSError:  # one of them does not exist (yet): compare where the paths lead
        same = Path(targets).resolve() == Path(out).resolve()
    if same:
        raise UsageError(
            f"--out {out!r} is the --targets file; write the outcomes to another file "
            "(this one would be overwritten)"
        )


def _check_flags(args: argparse.Namespace) -> frozenset[str] | None:
    """Checks that need no client or file; returns the --only-states filter."""
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be >= 1: {args.concurrency}")
    if args.stop_after_failures is not None and args.stop_after_failures < 1:
        raise UsageError(f"--stop-after-failures must be >= 1: {args.stop_after_failures}")
    _refuse_out_over_targets(args.targets, args.out)
    return parse_states(args.only_states) if args.only_states else None


async def run_bulk_command(args: argparse.Namespace, *, client: Client | None = None) -> int:
    """The `bulk-update` command; `client` (the demo's) replaces the one made from the flags."""
    with ExitStack() as signals:  # spans the run and the report, which follows closing
        return await _bulk_command(args, client, signals)


async def _bulk_command(
    args: argparse.Namespace, client: Client | None, signals: ExitStack
) -> int:
    """The command's body; `signals` takes the SIGINT guard once the run is about to start."""
    fields = field_values(args)
    only = _check_flags(args)
    refused: list[APIStatusError] = []
    async with AsyncExitStack() as stack:
        if client is None:
            # A dry run sends nothing, so it needs no token: a placeholder one is never used.
            token = None if not args.dry_run else read_token(args, required=False) or "dry-run"
            client = await stack.enter_async_context(make_client(args, token=token))
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
        # From here on, a second Ctrl-C must not cut the settling, --out or the report.
        signals.enter_context(stop_once())
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
                refused=refused,
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
    try:
        print_report(records, elapsed=elapsed, as_json=args.json, out_path=args.out)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()  # the reader went away (`| head`); the exit code still tells
    if refused:
        print(f"error: {printable(auth_refusal(refused[0], len(refused)))}", file=sys.stderr)
    if interrupted:
        print("interrupted: the report covers every target", file=sys.stderr)
        return EXIT_INTERRUPTED
    if refused:
        return EXIT_AUTH
    return EXIT_OK if all(r["state"] == "SUCCEEDED" for r in records) else EXIT_FAILED


def _open_out(path: str | None) -> TextIO | None:
    if path is None:
        return None
    try:
        # Line-buffered: each outcome is on disk as soon as it is known.
        return open(path, "w", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {path!r}: {exc.strerror}") from None
