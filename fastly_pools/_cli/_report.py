"""What `bulk-update` prints: each request of a dry run, and the report of a real run."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from urllib.parse import parse_qsl, quote

from .._fanout_report import OutcomeState
from .._pools import UpdatePool
from .._types import REDACTED
from ._output import emit_json, json_text, print_table, printable

__all__ = ["print_dry_run", "print_report"]

_SHOWN_FAILURES = 20
_SECRET_FIELDS = frozenset({"tls_client_key"})


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
            print(json_text(line, sys.stdout))
        else:
            body = "&".join(
                f"{quote(k)}={v if v == REDACTED else quote(v, safe='')}" for k, v in form
            )
            print(f"{request.method} {request.path} {body}")
    count = len(builders)
    noun = "request would be" if count == 1 else "requests would be"
    print(f"dry run: {count} {noun} sent; nothing was sent", file=sys.stderr)


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
        # The error text comes from the API: escape any terminal control sequences in it.
        print(printable(f"  {record['state']:<8} {where}: {record.get('error', '')}"))
    if len(failures) > _SHOWN_FAILURES:
        more = len(failures) - _SHOWN_FAILURES
        print(f"  ... and {more} more" + (f" (all in {out_path})" if out_path else ""))
    if failures and out_path:
        print(
            f"\nre-run what is left: fastly-pools bulk-update --targets {out_path} "
            "--only-states NOT_SENT,FAILED [same field flags]"
        )
