"""Property tests: any mix of wire forms decodes; encoding never drops a falsy value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from fastly_pools import WRITABLE_FIELDS, Client, PoolType, Secret
from fastly_pools._serde import decode_pool

FAST = settings(max_examples=60, deadline=None)
INT_FIELDS = ("quorum", "version", "connect_timeout", "first_byte_timeout",
              "between_bytes_timeout", "max_conn_default")  # fmt: skip
FLAG_FIELDS = ("use_tls", "tls_check_cert")
TEXT_FIELDS = ("id", "service_id", "name", "comment", "tls_ca_cert", "tls_client_cert",
               "tls_cert_hostname", "tls_sni_hostname", "tls_ciphers", "healthcheck", "shield",
               "request_condition", "override_host")  # fmt: skip

Pair = tuple[object, object]  # (what the API sends, what the Pool must hold)


def int_forms() -> st.SearchStrategy[Pair]:
    number = st.integers(min_value=0, max_value=10**9)
    return st.one_of(
        number.map(lambda n: (n, n)),
        number.map(lambda n: (str(n), n)),
        number.map(lambda n: (f" {n}", n)),
        number.map(lambda n: (float(n), n)),
        st.just((None, None)),
        st.just(("", None)),
    )


def flag_forms() -> st.SearchStrategy[Pair]:
    forms: list[Pair] = [
        ("1", True), ("0", False), (1, True), (0, False), (True, True), (False, False),
        ("true", True), ("false", False), (None, None),
    ]  # fmt: skip
    return st.sampled_from(forms)


def text_forms() -> st.SearchStrategy[Pair]:
    return st.one_of(st.text(max_size=20).map(lambda s: (s, s)), st.just((None, None)))


def time_forms() -> st.SearchStrategy[Pair]:
    moment = st.datetimes(
        # hypothesis takes naive bounds and attaches the zone itself
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ).map(lambda d: d.replace(microsecond=0))
    return st.one_of(
        moment.map(lambda d: (d.strftime("%Y-%m-%dT%H:%M:%SZ"), d)),
        moment.map(lambda d: (d.isoformat(), d)),
        moment.map(lambda d: (d.strftime("%Y-%m-%d %H:%M:%S"), d)),
        st.just(("0000-00-00 00:00:00", None)),
        st.just((None, None)),
    )


def type_forms() -> st.SearchStrategy[Pair]:
    known = st.sampled_from(["random", "hash", "client"])
    novel = st.from_regex(r"[a-z]{3,12}", fullmatch=True)
    return st.one_of(known, novel).map(lambda s: (s, s))


FORMS: dict[str, st.SearchStrategy[Pair]] = {
    **{f: int_forms() for f in INT_FIELDS},
    **{f: flag_forms() for f in FLAG_FIELDS},
    **{f: text_forms() for f in TEXT_FIELDS},
    "created_at": time_forms(),
    "updated_at": time_forms(),
    "deleted_at": time_forms(),
    "type": type_forms(),
}


@st.composite
def wire_pools(draw: st.DrawFn) -> tuple[dict[str, object], dict[str, object]]:
    """A pool object with a random subset of keys, each in a random form, and what it means."""
    chosen = draw(st.sets(st.sampled_from(sorted(FORMS))))
    wire: dict[str, object] = {}
    expected: dict[str, object] = {}
    for field in sorted(chosen):
        sent, meant = draw(FORMS[field])
        wire[field] = sent
        expected[field] = meant
    if draw(st.booleans()):
        wire["some_future_key"] = draw(st.one_of(st.integers(), st.text(), st.none()))
    return wire, expected


@FAST
@given(wire_pools())
def test_any_mix_of_wire_forms_decodes(case: tuple[dict[str, object], dict[str, object]]) -> None:
    wire, expected = case
    pool = decode_pool(wire)
    for field in FORMS:
        value = getattr(pool, field)
        meant = expected.get(field)
        if field == "type" and meant is not None:
            assert isinstance(value, PoolType)
            assert value.value == meant
        else:
            assert value == meant, field
        if field in INT_FIELDS and value is not None:
            assert type(value) is int
        if field in FLAG_FIELDS and value is not None:
            assert type(value) is bool
        if field.endswith("_at") and value is not None:
            assert value.tzinfo is not None


# -- encoding ----------------------------------------------------------------------------------

SAFE_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), max_size=15
).filter(lambda s: s.strip().lower() not in ("none", "null"))
NAME_TEXT = SAFE_TEXT.filter(
    lambda s: bool(s.strip()) and s not in (".", "..") and all(ord(c) >= 0x20 and ord(c) != 0x7F
                                                               for c in s)
)  # fmt: skip
NON_NEG = st.integers(min_value=0, max_value=10**6)

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": NAME_TEXT,
    "type": st.sampled_from(list(PoolType)),
    "quorum": st.integers(min_value=0, max_value=100),
    "use_tls": st.booleans(),
    "tls_check_cert": st.booleans(),
    "tls_client_key": SAFE_TEXT,
    "min_tls_version": st.sampled_from(["1.0", "1.1", "1.2", "1.3"]),
    "max_tls_version": st.sampled_from(["1.0", "1.1", "1.2", "1.3"]),
    "connect_timeout": NON_NEG,
    "first_byte_timeout": NON_NEG,
    "between_bytes_timeout": NON_NEG,
    "max_conn_default": NON_NEG,
}
FALSY: dict[str, Any] = {"quorum": 0, "use_tls": False, "tls_check_cert": False,
                         "connect_timeout": 0, "first_byte_timeout": 0,
                         "between_bytes_timeout": 0, "max_conn_default": 0}  # fmt: skip


def value_for(field: str) -> st.SearchStrategy[Any]:
    strategy = VALUES.get(field, SAFE_TEXT)
    falsy = FALSY.get(field, "" if strategy is SAFE_TEXT else None)
    return strategy if falsy is None else st.one_of(st.just(falsy), strategy)


def text_of(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, PoolType):
        return value.value
    return str(value)


@st.composite
def settings_to_send(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.sets(st.sampled_from(list(WRITABLE_FIELDS)), min_size=1))
    return {field: draw(value_for(field)) for field in sorted(fields)}


POOLS = Client("property-test-token").pools  # no session: nothing to close


@FAST
@given(settings_to_send(), st.booleans())
def test_encoding_never_drops_a_value_and_round_trips(chosen: dict[str, Any], update: bool) -> None:
    if update:
        builder: Any = POOLS.update("svc", 1, "origin")
    else:
        builder = POOLS.create("svc", 1).name("origin")
        chosen.setdefault("name", "origin")
    for field, value in chosen.items():
        builder = builder.set(field, value)
    body = builder.build_request().body
    assert body is not None
    pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body))
    assert dict(pairs) == {field: text_of(value) for field, value in chosen.items()}
    assert len(pairs) == len(chosen)  # every key exactly once
    for field, text in pairs:
        assert text not in ("None", "null")
        assert field in WRITABLE_FIELDS
    # Read back as the API would, the numbers and flags mean what was set.
    for field, text in pairs:
        value = chosen[field]
        if isinstance(value, bool):
            assert (text == "1") is value
        elif isinstance(value, int):
            assert int(text) == value
        elif isinstance(value, Secret | str):
            assert text == (value.reveal() if isinstance(value, Secret) else value)
