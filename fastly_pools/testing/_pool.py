"""The pool object as the real API stores and shows it: field table, defaults, form validation."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from ._errors import bad_request

StoredPool = dict[str, str | None]

# The 28 keys of every recorded pool response, in the reference's table order.
FIELDS: tuple[str, ...] = (
    "id", "service_id", "version", "name", "comment", "type", "quorum", "use_tls",
    "tls_check_cert", "tls_ca_cert", "tls_client_cert", "tls_client_key", "tls_cert_hostname",
    "tls_sni_hostname", "tls_ciphers", "min_tls_version", "max_tls_version", "healthcheck",
    "shield", "request_condition", "override_host", "connect_timeout", "first_byte_timeout",
    "between_bytes_timeout", "max_conn_default", "created_at", "updated_at", "deleted_at",
)  # fmt: skip
SERVER_ONLY = frozenset({"id", "service_id", "version", "created_at", "updated_at", "deleted_at"})
WRITABLE = frozenset(FIELDS) - SERVER_ONLY

# Server-side defaults seen in the recordings; every other field defaults to null.
DEFAULTS: Mapping[str, str] = {
    "comment": "",
    "type": "random",
    "quorum": "75",
    "use_tls": "0",
    "tls_check_cert": "1",
    "connect_timeout": "1000",
    "first_byte_timeout": "15000",
    "between_bytes_timeout": "10000",
    "max_conn_default": "200",
}
DEFAULT_QUORUM_ON_CREATE = 75  # create without quorum answers a JSON integer, not "75"

_FLAGS = ("use_tls", "tls_check_cert")
_COUNTS = ("connect_timeout", "first_byte_timeout", "between_bytes_timeout", "max_conn_default")
_TYPES = ("random", "hash", "client")
_DIGITS = re.compile(r"[0-9]+")
_ID_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A random 22-character alphanumeric id, the length of recorded pool ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def writable_form(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Keep the writable pool keys of a form, in the order first sent; the last value wins.

    Unknown and server-only keys are ignored, as the API ignores them (keys are case-sensitive).
    """
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in WRITABLE:
            form[key] = value
    return form


def _integer(text: str, detail: str) -> str:
    if not _DIGITS.fullmatch(text.strip()):
        raise bad_request(detail)
    return str(int(text))


def clean(form: Mapping[str, str], *, creating: bool) -> StoredPool:
    """Validate writable fields and return the values to store.

    Raises:
        ApiError: 400 for a missing name on create or a value the API would refuse.
    """
    values: StoredPool = {}
    if creating and not form.get("name"):
        raise bad_request("Name can't be blank")
    for field, text in form.items():
        if field == "name" and not text:
            raise bad_request("Name can't be blank")
        if field == "quorum":
            stored = _integer(text, "Quorum must be an integer between 0 and 100")
            if int(stored) > 100:
                raise bad_request("Quorum must be an integer between 0 and 100")
            values[field] = stored
        elif field in _COUNTS:
            values[field] = _integer(text, f"'{field}' must be a non-negative integer")
        elif field in _FLAGS:
            if text.strip() not in ("0", "1"):
                raise bad_request(f"'{field}' must be 0 or 1")
            values[field] = text.strip()
        elif field == "type":
            if text not in _TYPES:
                raise bad_request("Type must be one of: random, hash, client")
            values[field] = text
        elif field in DEFAULTS or field == "name":
            values[field] = text
        else:
            # Decision (not recorded): an empty value clears a nullable field to null.
            values[field] = text or None
    return values


def new_pool(service_id: str, version: int, values: StoredPool) -> StoredPool:
    """A complete stored pool: defaults, then `values`, with server fields filled in."""
    now = timestamp()
    pool: StoredPool = {field: DEFAULTS.get(field) for field in FIELDS}
    pool.update(id=new_id(), created_at=now, updated_at=now)
    pool.update(values)
    pool.update(service_id=service_id, version=str(version))
    return pool


def created_view(pool: StoredPool, form: Mapping[str, str]) -> dict[str, object]:
    """The create response: submitted keys first, quorum echoed as sent or the integer 75."""
    view: dict[str, object] = {field: pool[field] for field in form}
    view.update((field, pool[field]) for field in FIELDS if field not in view)
    view["quorum"] = form.get("quorum", DEFAULT_QUORUM_ON_CREATE)
    return view
