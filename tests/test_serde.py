"""Decoding every field in every form the API has used, and form encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import attrs
import pytest

from fastly_pools import Client, Pool, PoolType, ResponseDecodeError, Secret
from fastly_pools._serde import DecodeFailure, decode_pool, decode_pools, encode_form, encode_value
from fastly_pools.testing import FakeFastly, Fault

INT_FIELDS = ("quorum", "version", "connect_timeout", "first_byte_timeout",
              "between_bytes_timeout", "max_conn_default")  # fmt: skip
FLAG_FIELDS = ("use_tls", "tls_check_cert")
TEXT_FIELDS = ("id", "service_id", "name", "comment", "tls_ca_cert", "tls_client_cert",
               "tls_cert_hostname", "tls_sni_hostname", "tls_ciphers", "min_tls_version",
               "max_tls_version", "healthcheck", "shield", "request_condition",
               "override_host")  # fmt: skip
TIME_FIELDS = ("created_at", "updated_at", "deleted_at")

# Our own sample in the wire shape of a 2022 answer (numbers as strings, nulls).
WIRE: dict[str, Any] = {
    "id": "SamplePoolId0000000001", "service_id": "SampleServiceId0000001", "version": "3",
    "name": "origin", "comment": "", "type": "hash", "quorum": "0", "use_tls": "0",
    "tls_check_cert": "1", "tls_ca_cert": None, "tls_client_cert": None, "tls_client_key": None,
    "tls_cert_hostname": "origin.example", "tls_sni_hostname": None, "tls_ciphers": None,
    "min_tls_version": None, "max_tls_version": None, "healthcheck": None, "shield": None,
    "request_condition": None, "override_host": None, "connect_timeout": "1000",
    "first_byte_timeout": "15000", "between_bytes_timeout": "10000", "max_conn_default": "200",
    "created_at": "2024-03-01T10:00:00Z", "updated_at": "2024-03-01T10:00:00Z",
    "deleted_at": None,
}  # fmt: skip


def test_every_pool_field_is_decoded() -> None:
    assert {f.name for f in attrs.fields(Pool)} == set(WIRE)
    pool = decode_pool(WIRE)
    assert pool == Pool(
        id="SamplePoolId0000000001", service_id="SampleServiceId0000001", version=3,
        name="origin", comment="", type=PoolType.HASH, quorum=0, use_tls=False,
        tls_check_cert=True, tls_cert_hostname="origin.example", connect_timeout=1000,
        first_byte_timeout=15000, between_bytes_timeout=10000, max_conn_default=200,
        created_at=datetime(2024, 3, 1, 10, tzinfo=UTC),
        updated_at=datetime(2024, 3, 1, 10, tzinfo=UTC),
    )  # fmt: skip


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize(
    ("wire", "expected"),
    [("50", 50), (50, 50), ("0", 0), (0, 0), (" 75 ", 75), ("50.0", 50), (50.0, 50),
     ("", None), (None, None)],
)  # fmt: skip
def test_numbers_decode_from_strings_and_numbers(field: str, wire: object, expected: int) -> None:
    value = getattr(decode_pool({field: wire}), field)
    assert value == expected
    assert value is None or type(value) is int


@pytest.mark.parametrize("field", FLAG_FIELDS)
@pytest.mark.parametrize(
    ("wire", "expected"),
    [("1", True), ("0", False), (1, True), (0, False), (True, True), (False, False),
     ("true", True), ("false", False), (None, None)],
)  # fmt: skip
def test_flags_decode_from_strings_numbers_and_bools(
    field: str, wire: object, expected: bool | None
) -> None:
    assert getattr(decode_pool({field: wire}), field) is expected


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize(("wire", "expected"), [("x", "x"), ("", ""), (None, None)])
def test_text_fields(field: str, wire: object, expected: str | None) -> None:
    assert getattr(decode_pool({field: wire}), field) == expected


@pytest.mark.parametrize(("wire", "expected"), [(1.2, "1.2"), (12, "12"), ("1.3", "1.3")])
def test_tls_versions_decode_from_numbers_as_text(wire: object, expected: str) -> None:
    assert decode_pool({"min_tls_version": wire}).min_tls_version == expected
    assert decode_pool({"max_tls_version": wire}).max_tls_version == expected


def test_missing_keys_are_none() -> None:
    assert decode_pool({}) == Pool()
    assert decode_pool({"name": "only"}) == Pool(name="only")


def test_unknown_keys_are_ignored() -> None:
    pool = decode_pool({**WIRE, "weight": "3", "servers": [{"a": 1}], "Name": "ignored"})
    assert pool == decode_pool(WIRE)


@pytest.mark.parametrize("field", TIME_FIELDS)
@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2022-11-07T13:45:41Z", datetime(2022, 11, 7, 13, 45, 41, tzinfo=UTC)),
        ("2022-11-07T13:45:41+00:00", datetime(2022, 11, 7, 13, 45, 41, tzinfo=UTC)),
        ("2022-11-07T13:45:41.250Z", datetime(2022, 11, 7, 13, 45, 41, 250000, tzinfo=UTC)),
        ("2022-11-07 13:45:41", datetime(2022, 11, 7, 13, 45, 41, tzinfo=UTC)),
        (
            "2022-11-07T15:45:41+02:00",
            datetime(2022, 11, 7, 15, 45, 41, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("0000-00-00 00:00:00", None),
        ("0000-00-00T00:00:00Z", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_in_every_form(field: str, wire: str | None, expected: datetime | None) -> None:
    value = getattr(decode_pool({field: wire}), field)
    assert value == expected
    if value is not None:
        assert value.tzinfo is not None
        assert value.utcoffset() is not None


def test_offset_timestamps_denote_the_same_instant() -> None:
    pool = decode_pool({"created_at": "2022-11-07T15:45:41+02:00"})
    assert pool.created_at == datetime(2022, 11, 7, 13, 45, 41, tzinfo=UTC)


@pytest.mark.parametrize("wire", ["random", "hash", "client"])
def test_known_pool_types(wire: str) -> None:
    kind = decode_pool({"type": wire}).type
    assert kind is PoolType(wire)
    assert kind is not None
    assert kind.known


def test_unknown_pool_type_still_decodes() -> None:
    kind = decode_pool({"type": "weighted"}).type
    assert isinstance(kind, PoolType)
    assert kind.value == "weighted"
    assert kind == "weighted"
    assert not kind.known
    assert decode_pool({"type": "weighted"}).type is kind


def test_tls_client_key_is_a_secret_and_never_shown() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
    pool = decode_pool({"tls_client_key": pem})
    assert pool.tls_client_key == Secret(pem)
    assert pool.tls_client_key is not None
    assert pool.tls_client_key.reveal() == pem
    assert "MIIEv" not in repr(pool)
    assert "MIIEv" not in str(pool)


@pytest.mark.parametrize(
    ("field", "wire"),
    [
        ("quorum", "fifty"),
        ("quorum", "50.5"),
        ("quorum", "1_000"),  # int() alone would take these three
        ("quorum", "+5"),
        ("quorum", "\u0663"),  # ARABIC-INDIC DIGIT THREE
        ("quorum", True),
        ("quorum", [50]),
        ("version", {"n": 1}),
        ("connect_timeout", 1.5),
        ("use_tls", "maybe"),
        ("use_tls", 2),
        ("tls_check_cert", "yes please"),
        ("created_at", "yesterday"),
        ("created_at", 1667828741),
        ("updated_at", "2022-13-45T00:00:00Z"),
        ("type", 1),
        ("type", ""),
        ("name", ["a"]),
        ("comment", {"text": "x"}),
    ],
)
def test_undecodable_values_name_field_and_value(field: str, wire: object) -> None:
    with pytest.raises(DecodeFailure) as info:
        decode_pool({**WIRE, field: wire})
    assert info.value.field == field
    assert info.value.value == wire
    assert info.value.reason


@pytest.mark.parametrize("bad", [[], "pool", 5, None])
def test_a_pool_must_be_an_object(bad: object) -> None:
    with pytest.raises(DecodeFailure, match=r"expected a JSON object"):
        decode_pool(bad)


def test_a_list_answer_decodes_each_item() -> None:
    pools = decode_pools([WIRE, {**WIRE, "name": "second", "quorum": 75}])
    assert [p.name for p in pools] == ["origin", "second"]
    assert [p.quorum for p in pools] == [0, 75]
    assert decode_pools([]) == []


@pytest.mark.parametrize("bad", [{}, "x", None])
def test_a_list_answer_must_be_an_array(bad: object) -> None:
    with pytest.raises(DecodeFailure, match=r"expected a JSON array"):
        decode_pools(bad)


def test_a_bad_item_in_a_list_names_its_field() -> None:
    with pytest.raises(DecodeFailure) as info:
        decode_pools([WIRE, {**WIRE, "use_tls": "sometimes"}])
    assert (info.value.field, info.value.value) == ("use_tls", "sometimes")


# -- through a Client: the public error ------------------------------------------------------


async def test_undecodable_answer_raises_response_decode_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(200, {**WIRE, "quorum": "most"}), method="GET")
    with pytest.raises(ResponseDecodeError) as info:
        await client.pools.get(service, 1, "origin").execute()
    error = info.value
    assert (error.field, error.value) == ("quorum", "most")
    assert "'quorum'" in str(error)
    assert "'most'" in str(error)
    assert error.method == "GET"
    assert error.path.endswith("/pool/origin")


async def test_non_json_success_body_raises_response_decode_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.non_json(status=200, text="<html>ok</html>"), method="GET")
    with pytest.raises(ResponseDecodeError, match=r"not JSON") as info:
        await client.pools.list(service, 1).execute()
    assert info.value.field == "<body>"


async def test_undecodable_tls_client_key_is_not_echoed(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(200, {**WIRE, "tls_client_key": 12345678}), method="GET")
    with pytest.raises(ResponseDecodeError) as info:
        await client.pools.get(service, 1, "origin").execute()
    assert info.value.field == "tls_client_key"
    assert "12345678" not in str(info.value)


async def test_delete_answer_other_than_ok_is_a_decode_error(
    fake: FakeFastly, client: Client, service: str
) -> None:
    fake.inject(Fault.status(200, {"status": "maybe"}), method="DELETE")
    with pytest.raises(ResponseDecodeError) as info:
        await client.pools.delete(service, 1, "origin").execute()
    assert (info.value.field, info.value.value) == ("status", "maybe")


# -- encoding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (100, "100"), (True, "1"), (False, "0"), ("", ""), ("a b", "a b"),
     (PoolType.CLIENT, "client"), (Secret("k"), "k")],
)  # fmt: skip
def test_encode_value(value: object, text: str) -> None:
    assert encode_value(value) == text


@pytest.mark.parametrize("value", [None, 1.5, b"x", [1]])
def test_encode_value_refuses_what_no_setter_produces(value: object) -> None:
    with pytest.raises(TypeError):
        encode_value(value)


def test_encoding_keeps_falsy_values_and_order() -> None:
    body = encode_form([("quorum", 0), ("use_tls", False), ("comment", ""), ("name", "a/b c&d")])
    assert body == b"quorum=0&use_tls=0&comment=&name=a%2Fb+c%26d"
    assert parse_qsl(body.decode(), keep_blank_values=True) == [
        ("quorum", "0"), ("use_tls", "0"), ("comment", ""), ("name", "a/b c&d"),
    ]  # fmt: skip


def test_encoding_never_sends_none_or_null() -> None:
    body = encode_form([("tls_check_cert", False), ("comment", ""), ("max_conn_default", 0)])
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    assert all(v not in ("None", "null") for _, v in pairs)
    assert len(pairs) == 3


def test_encoding_unicode_is_utf8_percent_encoded() -> None:
    assert encode_form([("comment", "café")]) == b"comment=caf%C3%A9"
