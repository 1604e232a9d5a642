"""The value checks behind every setter: pure, no server."""

from __future__ import annotations

import pytest

from fastly_pools import WRITABLE_FIELDS, PoolType, Secret
from fastly_pools._validate import (
    check_flag,
    check_int,
    check_pool_type,
    check_secret,
    check_text,
    check_tls_version,
)

# The issue fixes these names; the order is the issue's.
ISSUE_FIELDS = [
    "name", "comment", "type", "quorum", "use_tls", "tls_check_cert", "tls_ca_cert",
    "tls_client_cert", "tls_client_key", "tls_cert_hostname", "tls_sni_hostname", "tls_ciphers",
    "min_tls_version", "max_tls_version", "healthcheck", "shield", "request_condition",
    "override_host", "connect_timeout", "first_byte_timeout", "between_bytes_timeout",
    "max_conn_default",
]  # fmt: skip
SERVER_ASSIGNED = ("id", "service_id", "service_id2", "version", "created_at", "updated_at",
                   "deleted_at")  # fmt: skip


def test_writable_fields_are_exactly_the_issues_22() -> None:
    assert len(ISSUE_FIELDS) == 22
    assert list(WRITABLE_FIELDS) == ISSUE_FIELDS


@pytest.mark.parametrize("field", SERVER_ASSIGNED)
def test_server_assigned_fields_are_not_writable(field: str) -> None:
    assert field not in WRITABLE_FIELDS


@pytest.mark.parametrize(("value", "low", "high"), [(0, 0, 100), (100, 0, 100), (5, 0, None)])
def test_check_int_bounds_are_inclusive(value: int, low: int, high: int | None) -> None:
    assert check_int("quorum", value, low=low, high=high) == value


@pytest.mark.parametrize(("value", "high"), [(-1, 100), (101, 100), (-5, None)])
def test_check_int_out_of_range_names_field_and_value(value: int, high: int | None) -> None:
    with pytest.raises(ValueError, match=rf"^quorum must be .*: {value}$"):
        check_int("quorum", value, low=0, high=high)


@pytest.mark.parametrize("value", [True, False, "50", 50.0, None])
def test_check_int_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError, match=r"^connect_timeout must be an int") as info:
        check_int("connect_timeout", value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), (1, True), (0, False)]
)
def test_check_flag_accepts_bools_and_0_1(value: object, expected: bool) -> None:
    result = check_flag("use_tls", value)
    assert result is expected


@pytest.mark.parametrize("value", [2, -1, "1", "true", None, 1.0])
def test_check_flag_refuses_the_rest(value: object) -> None:
    with pytest.raises(TypeError, match=r"^use_tls must be a bool") as info:
        check_flag("use_tls", value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", ["", " ", "text", "é", "a\nb"])
def test_check_text_keeps_any_str(value: str) -> None:
    assert check_text("comment", value) == value


@pytest.mark.parametrize("value", ["None", "null"])
def test_check_text_refuses_placeholder_texts(value: str) -> None:
    with pytest.raises(ValueError, match=r"^shield must not be the text") as info:
        check_text("shield", value)
    assert repr(value) in str(info.value)


def test_check_text_refuses_nul() -> None:
    with pytest.raises(ValueError, match=r"comment must not contain NUL"):
        check_text("comment", "a\x00b")


@pytest.mark.parametrize("value", [5, None, b"x", ["x"]])
def test_check_text_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError, match=r"^comment must be a str") as info:
        check_text("comment", value)
    assert repr(value) in str(info.value)


def test_check_secret_wraps_a_str() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
    wrapped = check_secret("tls_client_key", key)
    assert isinstance(wrapped, Secret)
    assert wrapped.reveal() == key
    assert key not in repr(wrapped)
    assert check_secret("tls_client_key", wrapped) is wrapped


@pytest.mark.parametrize("value", ["None", "null", "a\x00b"])
def test_check_secret_refuses_placeholders_without_echoing(value: str) -> None:
    with pytest.raises(ValueError, match=r"tls_client_key"):
        check_secret("tls_client_key", value)


def test_check_secret_wrong_type_does_not_echo_the_value() -> None:
    with pytest.raises(TypeError, match=r"tls_client_key must be a str or Secret") as info:
        check_secret("tls_client_key", b"secret-bytes")
    assert "secret-bytes" not in str(info.value)


@pytest.mark.parametrize("value", ["random", "hash", "client", PoolType.HASH])
def test_check_pool_type_accepts_known_values(value: object) -> None:
    result = check_pool_type("type", value)
    assert isinstance(result, PoolType)
    assert result.known


def test_check_pool_type_refuses_unknown_text() -> None:
    # Decoding accepts new values from the API; sending one we do not know is refused.
    with pytest.raises(ValueError, match=r"type must be one of .*'weighted'"):
        check_pool_type("type", "weighted")


@pytest.mark.parametrize("value", [1, None, True])
def test_check_pool_type_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError, match=r"^type must be a PoolType or str"):
        check_pool_type("type", value)


@pytest.mark.parametrize(("value", "text"), [("1.2", "1.2"), ("1.10", "1.10"), (1, "1")])
def test_check_tls_version_sends_text(value: object, text: str) -> None:
    assert check_tls_version("min_tls_version", value) == text


@pytest.mark.parametrize(("value", "error"), [("", ValueError), (" ", ValueError),
                                              (True, TypeError), (None, TypeError),
                                              (1.3, TypeError)])  # fmt: skip
def test_check_tls_version_refuses_blank_and_bool(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^min_tls_version must"):
        check_tls_version("min_tls_version", value)


@pytest.mark.parametrize("field", ISSUE_FIELDS)
def test_every_field_check_names_its_field(field: str) -> None:
    # A list is wrong for every field, so every check must refuse it and say which field.
    with pytest.raises((TypeError, ValueError), match=rf"^{field} "):
        WRITABLE_FIELDS[field](field, ["wrong"])


@pytest.mark.parametrize("text", ["null", "None", "NULL", " null ", "none"])
def test_placeholder_texts_are_refused_in_text_fields_and_names(text: str) -> None:
    with pytest.raises(ValueError, match=r"^comment must not be the text"):
        check_text("comment", text)
    with pytest.raises(ValueError, match=r"^name must not be the text"):
        WRITABLE_FIELDS["name"]("name", text)


def test_a_lone_surrogate_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"^comment is not valid Unicode"):
        check_text("comment", "a\udc80b")
    with pytest.raises(ValueError, match=r"^name is not valid Unicode"):
        WRITABLE_FIELDS["name"]("name", "a\udc80b")
