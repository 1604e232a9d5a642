"""Printing pools: a table on a terminal (with `rich` when installed), aligned text otherwise,
JSON with `--json`. `tls_client_key` is shown as "<redacted>" unless secrets are asked for.

Text from the API is shown with control characters escaped (`printable`), so a value
cannot move the cursor, recolour or retitle the operator's terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TextIO

import attrs

from .._models import DeleteResult, Pool
from .._types import REDACTED, Secret

__all__ = [
    "emit_json",
    "json_text",
    "print_deleted",
    "print_pool",
    "print_pools",
    "print_table",
    "plain_value",
    "pool_to_json",
    "printable",
    "rich_console",
    "silence_stdout",
]

LIST_COLUMNS = (
    "name", "type", "quorum", "use_tls", "healthcheck", "shield", "max_conn_default", "comment",
)  # fmt: skip


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every non-printable character escaped as `repr` shows it (`\\x1b`, `\\n`).

    C0 and C1 controls, DEL and invisible format characters (such as bidi overrides) all
    become visible escapes; ordinary text, including non-ASCII letters, is unchanged.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or (keep_newlines and ch == "\n") else repr(ch)[1:-1]
        for ch in text
    )


def silence_stdout() -> None:
    """Point stdout at the null device once its reader has gone (`| head`).

    Python flushes stdout at exit; without this that flush fails again and prints a
    traceback-like "Exception ignored" message.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. captured)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def rich_console(stream: TextIO) -> Any | None:
    """A rich `Console` for a terminal stream, or None (not a terminal, or rich not installed).

    rich is imported here only, so `import fastly_pools` never pulls it in.
    """
    if not stream.isatty():
        return None
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=stream, highlight=False)


def json_value(value: object, *, show_secrets: bool) -> object:
    """A decoded value as JSON: enums by value, datetimes in ISO 8601, secrets redacted."""
    if isinstance(value, Secret):
        return value.reveal() if show_secrets else REDACTED
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def pool_to_json(pool: Pool, *, show_secrets: bool = False) -> dict[str, object]:
    """Every field of a pool as a JSON-ready dict, in the model's order."""
    return {
        field.name: json_value(getattr(pool, field.name), show_secrets=show_secrets)
        for field in attrs.fields(Pool)
    }


def plain_value(value: object, *, show_secrets: bool = False) -> str:
    """A value as table text: `-` for None, true/false for flags."""
    shown = json_value(value, show_secrets=show_secrets)
    if shown is None:
        return "-"
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return str(shown)


def json_text(data: object, stream: TextIO, *, indent: int | None = None) -> str:
    """`data` as JSON with non-ASCII text as is ("café"), when `stream` can encode it.

    Otherwise (a non-UTF-8 stdout, a lone surrogate) the text is escaped as `\\u00e9`, so
    printing it cannot fail; either way it is the same JSON, control characters escaped.
    """
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return json.dumps(data, indent=indent)
    return text


def emit_json(data: object, stream: TextIO | None = None) -> None:
    """Print a JSON document."""
    out = stream or sys.stdout
    print(json_text(data, out, indent=2), file=out)


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    stream: TextIO | None = None,
    title: str | None = None,
) -> None:
    """Rows under headers: a rich table on a terminal, aligned plain text otherwise."""
    out = stream or sys.stdout
    console = rich_console(out)
    if console is not None:
        from rich.table import Table
        from rich.text import Text

        # Text, not str: a value such as "[red]" must show as typed, not as rich markup.
        # A table cell may span lines (PEM certificates); other controls are escaped.
        shown = Text(printable(title)) if title else None
        table = Table(*headers, title=shown, title_justify="left")
        for row in rows:
            table.add_row(*(Text(printable(cell, keep_newlines=True)) for cell in row))
        console.print(table)
        return
    if title:
        print(printable(title), file=out)
    # One line per row: multi-line values (PEM certificates) show as literal backslash-n.
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(line.rstrip(), file=out)


def print_pools(
    pools: Sequence[Pool], *, as_json: bool, show_secrets: bool, title: str | None = None
) -> None:
    """The pools of a version: one row each."""
    if as_json:
        emit_json([pool_to_json(pool, show_secrets=show_secrets) for pool in pools])
        return
    rows = [
        [plain_value(getattr(pool, column), show_secrets=show_secrets) for column in LIST_COLUMNS]
        for pool in pools
    ]
    print_table(LIST_COLUMNS, rows, title=title)
    if not pools:
        print("(no pools)")


def print_pool(
    pool: Pool, *, as_json: bool, show_secrets: bool, title: str | None = None
) -> None:
    """One pool: every field on its own row."""
    if as_json:
        emit_json(pool_to_json(pool, show_secrets=show_secrets))
        return
    rows = [
        [field.name, plain_value(getattr(pool, field.name), show_secrets=show_secrets)]
        for field in attrs.fields(Pool)
    ]
    print_table(("field", "value"), rows, title=title)


def print_deleted(result: DeleteResult, *, as_json: bool, where: str) -> None:
    """What a delete did."""
    if as_json:
        emit_json(attrs.asdict(result))
    elif result.already_absent:
        print(f"pool {result.name!r} is gone from {where} (an earlier attempt deleted it)")
    else:
        print(f"deleted pool {result.name!r} from {where}")
