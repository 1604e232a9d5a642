"""The argument parser: one flag per writable pool field, generated from `WRITABLE_FIELDS`.

Flag values are only parsed from text here (`--quorum 50` becomes the int 50); the checks
are the SDK's own setters (see `field_values`), so a bad value reads as the SDK says it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn, get_args, get_type_hints

from .._fields import WRITABLE_FIELDS, PoolFieldSetters
from .._models import Pool, PoolType
from .._version import __version__
from ._errors import EXIT_CODES_HELP, EXIT_USAGE, UsageError

__all__ = ["build_parser", "field_values", "parse_version", "read_text_value"]

_PEM_FIELDS = frozenset({"tls_ca_cert", "tls_client_cert", "tls_client_key"})
_HINTS = get_type_hints(Pool)


def _kind(field: str) -> type:
    """The Python type a field holds (`int | None` -> int), read from the `Pool` model."""
    kinds = [arg for arg in get_args(_HINTS[field]) if arg is not type(None)]
    return kinds[0] if kinds else _HINTS[field]  # type: ignore[no-any-return]


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, exit code 2 (argparse prints the whole usage by default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def _add_field_flags(parser: argparse.ArgumentParser, *, name_required: bool) -> None:
    group = parser.add_argument_group(
        "pool fields",
        "Only the fields given are sent. PEM fields also take @FILE to read a file\n"
        "(prefer it for --tls-client-key: other users can see a command line).",
    )
    for field in WRITABLE_FIELDS:
        kind = _kind(field)
        dest = f"field_{field}"
        # The help is the SDK setter's own first docstring line.
        doc = (getattr(PoolFieldSetters, field).__doc__ or "").strip().splitlines()
        help_text = doc[0] if doc else None
        if kind is bool:
            group.add_argument(
                _flag(field), dest=dest, action=argparse.BooleanOptionalAction, help=help_text
            )
        elif kind is int:
            group.add_argument(_flag(field), dest=dest, metavar="INT", help=help_text)
        elif kind is PoolType:
            known = "|".join(member.value for member in PoolType)
            group.add_argument(_flag(field), dest=dest, metavar=known, help=help_text)
        elif field == "name":
            help_text = "the pool's name" if name_required else "a new name (renames the pool)"
            group.add_argument(
                "--name", dest=dest, metavar="NAME", required=name_required, help=help_text
            )
        else:
            metavar = "PEM|@FILE" if field in _PEM_FIELDS else "TEXT"
            group.add_argument(_flag(field), dest=dest, metavar=metavar, help=help_text)


def read_text_value(field: str, text: str) -> str:
    """A PEM field's text; `@FILE` reads the file (so keys stay off the command line)."""
    if field in _PEM_FIELDS and text.startswith("@"):
        path = Path(text[1:])
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{_flag(field)}: cannot read {str(path)!r}: {exc.strerror}") from None
    return text


def field_values(args: argparse.Namespace) -> list[tuple[str, object]]:
    """The fields given on the command line as (API field name, Python value), in API order.

    Ints are parsed here; everything else (ranges, known types, blank names) is left to
    the SDK's setters, which the caller applies.
    """
    values: list[tuple[str, object]] = []
    for field in WRITABLE_FIELDS:
        raw = getattr(args, f"field_{field}", None)
        if raw is None:
            continue
        value: object = raw
        if _kind(field) is int:
            try:
                value = int(raw.strip())
            except ValueError:
                raise UsageError(f"{_flag(field)}: expected an integer, got {raw!r}") from None
        elif isinstance(raw, str):
            value = read_text_value(field, raw)
        values.append((field, value))
    return values


def parse_version(text: str) -> int:
    """A VERSION argument as an int (the SDK then checks it is positive)."""
    try:
        return int(text.strip())
    except ValueError:
        raise UsageError(f"version must be a positive int: {text!r}") from None


def _api_options(parser: argparse.ArgumentParser, *, output: bool = True) -> None:
    parser.add_argument(
        "--base-url", metavar="URL", help="API base URL (default: $FASTLY_API_URL or Fastly's)"
    )
    parser.add_argument(
        "--token-file", metavar="PATH", help="read the token from PATH (default: $FASTLY_API_TOKEN)"
    )
    parser.add_argument(
        "--max-retries", type=int, metavar="N",
        help="retries after a failed attempt (default: the SDK's 2); 0 turns them off",
    )  # fmt: skip
    if output:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument(
            "--show-secrets", action="store_true", help="print tls_client_key instead of <redacted>"
        )


def _add(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text, epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The `fastly-pools` parser with every subcommand."""
    parser = _Parser(
        prog="fastly-pools",
        description="Inspect and change Fastly load-balancing pools; roll one change out to\n"
        "many services. Token from $FASTLY_API_TOKEN or --token-file; API URL from\n"
        "$FASTLY_API_URL or --base-url. `fastly-pools demo` needs neither.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fastly-pools {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, fields in (
        ("list", "list the pools of a service version", None),
        ("get", "show one pool", None),
        ("create", "create a pool", "create"),
        ("update", "change some fields of a pool (others are kept)", "update"),
        ("delete", "delete one pool", None),
    ):
        cmd = _add(sub, name, help_text)
        cmd.add_argument("service", metavar="SERVICE")
        cmd.add_argument("version", metavar="VERSION")
        if name not in ("list", "create"):
            cmd.add_argument("pool", metavar="NAME")
        _api_options(cmd)
        if fields is not None:
            _add_field_flags(cmd, name_required=fields == "create")
    _bulk_parser(_add(sub, "bulk-update", "apply one update to many pools, concurrently"))
    demo = _add(sub, "demo", "walk through every command on an embedded fake (no token needed)")
    demo.add_argument("--services", type=int, default=200, help="services in the bulk step")
    server = _add(sub, "fake-server", "serve FakeFastly on a local port until Ctrl-C")
    server.add_argument(
        "--host", default="127.0.0.1",
        help="address to listen on (default 127.0.0.1); 0.0.0.0 or :: is every interface, "
        "and the URL printed is then a loopback one",
    )  # fmt: skip
    server.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    server.add_argument("--token", help="the token to accept (default: a random one, printed)")
    server.add_argument(
        "--seed-services", type=int, default=1, metavar="N",
        help="services to create, each with editable versions 1 and 2 (ids printed)",
    )  # fmt: skip
    return parser


def _bulk_parser(bulk: argparse.ArgumentParser) -> None:
    bulk.add_argument(
        "--targets", required=True, metavar="FILE",
        help="service_id,version,pool rows: CSV (header optional) or JSON Lines; - for stdin",
    )  # fmt: skip
    bulk.add_argument(
        "--concurrency", type=int, default=16, metavar="N",
        help="most updates in flight at once (default 16); one service never gets two",
    )  # fmt: skip
    bulk.add_argument("--out", metavar="FILE", help="write every outcome as JSON Lines")
    bulk.add_argument(
        "--only-states", metavar="STATE,...",
        help="take only rows of a previous --out file in these states, e.g. NOT_SENT,FAILED",
    )  # fmt: skip
    bulk.add_argument(
        "--dry-run", action="store_true", help="validate and print each request; send nothing"
    )
    bulk.add_argument(
        "--stop-after-failures", type=int, metavar="N",
        help="start nothing new after N failures (the rest is NOT_SENT)",
    )  # fmt: skip
    _api_options(bulk)
    _add_field_flags(bulk, name_required=False)
