"""Reading bulk-update targets: `service_id,version,pool` rows from CSV or JSON Lines.

- CSV: three columns `service_id,version,pool`; a header row is optional (with a header,
  the columns may come in any order and extra columns are ignored; `name` may stand for
  `pool`). Blank lines and lines starting with `#` are skipped.
- JSON Lines: one object per line with `service_id`, `version` and `pool` (or `name`).
  The `--out` file of a previous run is such a file; its `state` key lets `--only-states`
  take exactly the rows left to do.
- `-` reads stdin. The format is taken from the first non-blank line (`{` means JSON Lines).
  A leading UTF-8 byte order mark (Excel's "CSV UTF-8") is ignored. A JSON array is not
  read: it is refused with a hint to convert it to JSON Lines.

Every row is checked with the SDK's own checks before anything is sent; the first bad row
raises a `UsageError` naming the line number and the value.
"""

from __future__ import annotations

import csv
import json
import shlex
import sys
from collections.abc import Iterator
from typing import Any, Final, TextIO

import attrs

from .._urls import check_name, check_service_id, check_version
from ._errors import UsageError

__all__ = ["STATES", "Target", "parse_states", "read_targets"]

STATES: Final = ("SUCCEEDED", "FAILED", "NOT_SENT", "UNKNOWN")
_COLUMNS: Final = ("service_id", "version", "pool")


@attrs.frozen
class Target:
    """One pool to update, and where it came from."""

    service_id: str
    version: int
    pool: str
    line: int
    state: str | None = None


def parse_states(text: str) -> frozenset[str]:
    """The `--only-states` value: comma-separated outcome states."""
    states = frozenset(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = sorted(states - set(STATES))
    if not states or unknown:
        raise UsageError(
            f"--only-states takes some of {','.join(STATES)}, got {text!r}"
        )
    return states


def _check(line: int, service_id: object, version: object, pool: object, state: object) -> Target:
    """Build a target with the SDK's checks; a failure names the line."""
    try:
        if isinstance(version, str):
            version = int(version.strip()) if version.strip().lstrip("-").isdigit() else version
        if isinstance(version, str):
            raise ValueError(f"version must be a positive int: {version!r}")
        sid = check_service_id(service_id)
        number = check_version(version)
        name = check_name(pool, "pool")
    except (ValueError, TypeError) as exc:
        raise UsageError(f"line {line}: {exc}") from None
    if state is not None and (not isinstance(state, str) or state not in STATES):
        raise UsageError(f"line {line}: state must be one of {','.join(STATES)}: {state!r}")
    return Target(sid, number, name, line, state)


def _rows(lines: list[str]) -> Iterator[tuple[int, str]]:
    for number, text in enumerate(lines, start=1):
        if text.strip() and not text.lstrip().startswith("#"):
            yield number, text


def _from_jsonl(lines: list[str]) -> Iterator[Target]:
    for number, text in _rows(lines):
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise UsageError(f"line {number}: expected a JSON object, got {text.strip()[:80]!r}")
        pool = data.get("pool", data.get("name"))
        missing = [key for key in _COLUMNS if (pool if key == "pool" else data.get(key)) is None]
        if missing:
            raise UsageError(f"line {number}: missing {', '.join(missing)}: {text.strip()[:80]!r}")
        yield _check(number, data["service_id"], data["version"], pool, data.get("state"))


def _from_csv(lines: list[str]) -> Iterator[Target]:
    numbered = list(_rows(lines))
    parsed = csv.reader(text for _, text in numbered)
    order = [0, 1, 2]
    for index, ((number, text), row) in enumerate(zip(numbered, parsed, strict=True)):
        cells = [cell.strip() for cell in row]
        names = ["pool" if cell.lower() == "name" else cell.lower() for cell in cells]
        if index == 0 and "service_id" in names:
            missing = [column for column in _COLUMNS if column not in names]
            if missing:
                raise UsageError(f"line {number}: header lacks {', '.join(missing)}: {text!r}")
            order = [names.index(column) for column in _COLUMNS]
            continue
        if len(cells) <= max(order) or (order == [0, 1, 2] and len(cells) != 3):
            raise UsageError(
                f"line {number}: expected the columns service_id,version,pool, got {text.strip()!r}"
            )
        service_id, version, pool = (cells[i] for i in order)
        yield _check(number, service_id, version, pool, None)


def read_targets(
    path: str, *, only_states: frozenset[str] | None = None, stdin: TextIO | None = None
) -> list[Target]:
    """Every target of a file (or `-` for stdin), checked; filtered by `only_states`."""
    label = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            text = (stdin or sys.stdin).read().removeprefix("\ufeff")
        else:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read targets from {label}: {exc}") from None
    lines = text.splitlines()
    first = next((line.strip() for _, line in _rows(lines)), "")
    if first.startswith("["):
        # Without this it would be read as CSV and fail with a puzzling column error.
        source = "FILE" if path == "-" else shlex.quote(path)
        raise UsageError(
            f"{label} looks like a JSON array; targets are JSON Lines (one object per line) "
            f"or CSV rows service_id,version,pool (convert with: jq -c '.[]' {source})"
        )
    reader = _from_jsonl if first.startswith("{") else _from_csv
    targets: list[Target] = []
    seen: dict[tuple[str, int, str], int] = {}
    try:
        for target in reader(lines):
            key = (target.service_id, target.version, target.pool)
            if key in seen:
                raise UsageError(
                    f"line {target.line}: duplicate target {','.join(map(str, key))} "
                    f"(first on line {seen[key]})"
                )
            seen[key] = target.line
            targets.append(target)
    except UsageError as exc:
        raise UsageError(f"{label} {exc}") from None
    if not targets:
        raise UsageError(f"no targets in {label}")
    if only_states is None:
        return targets
    stateless = next((t for t in targets if t.state is None), None)
    if stateless is not None:
        raise UsageError(
            f"{label} line {stateless.line}: no state; --only-states reads a JSON Lines "
            "file written by --out"
        )
    return [t for t in targets if t.state in only_states]
