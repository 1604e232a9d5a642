"""The immutable fluent builders: setters, templates, `build_request()` and input checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import attrs
import pytest

from fastly_pools import (
    WRITABLE_FIELDS,
    Client,
    CreatePool,
    DeletePool,
    GetPool,
    ListPools,
    Pools,
    PoolType,
    Secret,
    Timeout,
    UpdatePool,
)
from fastly_pools.testing import FakeFastly

SID = "SU1Z0isxPaozGVKXdv0eY"
PEM = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYBYTES\n-----END PRIVATE KEY-----"

# One valid value per field, with the form text it must be sent as.
SAMPLES: dict[str, tuple[object, str]] = {
    "name": ("origin", "origin"),
    "comment": ("", ""),
    "type": ("hash", "hash"),
    "quorum": (0, "0"),
    "use_tls": (False, "0"),
    "tls_check_cert": (True, "1"),
    "tls_ca_cert": ("CA PEM", "CA PEM"),
    "tls_client_cert": ("CERT PEM", "CERT PEM"),
    "tls_client_key": (PEM, PEM),
    "tls_cert_hostname": ("origin.example", "origin.example"),
    "tls_sni_hostname": ("sni.example", "sni.example"),
    "tls_ciphers": ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
    "min_tls_version": ("1.2", "1.2"),
    "max_tls_version": (1, "1"),
    "healthcheck": ("hc", "hc"),
    "shield": ("iad-va-us", "iad-va-us"),
    "request_condition": ("is_api", "is_api"),
    "override_host": ("backend.example", "backend.example"),
    "connect_timeout": (0, "0"),
    "first_byte_timeout": (15000, "15000"),
    "between_bytes_timeout": (10000, "10000"),
    "max_conn_default": (200, "200"),
}


@pytest.fixture
def pools() -> Pools:
    # No session exists until the first request, so nothing needs closing here.
    return Client("builder-test-token").pools


def form_of(builder: CreatePool | UpdatePool) -> list[tuple[str, str]]:
    body = builder.build_request().body
    assert body is not None
    return parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)


def test_samples_cover_every_field() -> None:
    assert set(SAMPLES) == set(WRITABLE_FIELDS)


@pytest.mark.parametrize("field", list(SAMPLES))
@pytest.mark.parametrize("op", ["create", "update"])
def test_each_setter_returns_a_new_builder_and_leaves_the_original(
    pools: Pools, field: str, op: str
) -> None:
    original = pools.create(SID, 7) if op == "create" else pools.update(SID, 7, "origin")
    value, text = SAMPLES[field]
    changed = getattr(original, field)(value)
    assert changed is not original
    assert type(changed) is type(original)
    assert original.fields == ()
    assert original.get_field(field) is None
    assert changed.get_field(field) is not None
    # The generic form does exactly what the named setter does.
    assert original.set(field, value) == changed
    if op == "update":
        assert form_of(changed) == [(field, text)]


def test_builders_are_frozen(pools: Pools) -> None:
    builder = pools.create(SID, 7).name("origin")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        builder.fields = ()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        builder.version = 8  # type: ignore[misc]


def test_setting_a_field_again_replaces_it(pools: Pools) -> None:
    builder = pools.update(SID, 1, "origin").quorum(10).comment("x").quorum(20)
    assert form_of(builder) == [("comment", "x"), ("quorum", "20")]


@pytest.mark.parametrize("field", list(SAMPLES))
def test_none_unsets_a_field(pools: Pools, field: str) -> None:
    value, _ = SAMPLES[field]
    base = pools.update(SID, 1, "origin").comment("keep")
    builder = getattr(getattr(base, field)(value), field)(None)
    if field == "comment":
        assert builder.fields == ()
    else:
        assert form_of(builder) == [("comment", "keep")]
    assert builder.set(field, None).get_field(field) is None


def test_template_reuse_with_with_target(pools: Pools) -> None:
    base = pools.update(SID, 7, "origin").quorum(60).use_tls(False)
    services = ["svcA", "svcB", "svc/C"]
    built = [base.with_target(service_id=s).build_request() for s in services]
    assert [r.path for r in built] == [
        "/service/svcA/version/7/pool/origin",
        "/service/svcB/version/7/pool/origin",
        "/service/svc%2FC/version/7/pool/origin",
    ]
    assert {r.body for r in built} == {b"quorum=60&use_tls=0"}
    assert {r.method for r in built} == {"PUT"}
    # The template itself is untouched.
    assert base.service_id == SID
    assert base.build_request().path == f"/service/{SID}/version/7/pool/origin"


def test_with_target_version_and_pool_name(pools: Pools) -> None:
    base = pools.delete(SID, 3, "origin")
    moved = base.with_target(version=4, pool_name="a/b")
    assert moved.build_request().path == f"/service/{SID}/version/4/pool/a%2Fb"
    assert base.build_request().path == f"/service/{SID}/version/3/pool/origin"
    listing = pools.list(SID, 1).with_target(service_id="other", version=2)
    assert listing.build_request().path == "/service/other/version/2/pool"


def test_with_target_validates(pools: Pools) -> None:
    base = pools.get(SID, 3, "origin")
    with pytest.raises(ValueError, match=r"version must be a positive int: 0"):
        base.with_target(version=0)
    with pytest.raises(ValueError, match=r"service_id must not be empty"):
        base.with_target(service_id=" ")
    with pytest.raises(ValueError, match=r"name must not be '\.\.'"):
        base.with_target(pool_name="..")


def test_with_options_returns_a_new_builder(pools: Pools) -> None:
    base = pools.get(SID, 1, "origin")
    tuned = base.with_options(timeout=5, max_retries=0)
    assert tuned is not base
    assert tuned.options.timeout == Timeout(total=5)
    assert tuned.options.max_retries == 0
    assert base.options == type(base.options)()
    assert tuned.build_request() == base.build_request()
    with pytest.raises(ValueError, match=r"max_retries"):
        base.with_options(max_retries=-1)


def test_build_request_for_each_operation(pools: Pools) -> None:
    cases: list[tuple[Any, str, str, bytes | None]] = [
        (pools.list(SID, 7), "GET", f"/service/{SID}/version/7/pool", None),
        (pools.get(SID, 7, "origin"), "GET", f"/service/{SID}/version/7/pool/origin", None),
        (
            pools.create(SID, 7).name("origin").quorum(0).type(PoolType.HASH),
            "POST",
            f"/service/{SID}/version/7/pool",
            b"name=origin&quorum=0&type=hash",
        ),
        (
            pools.update(SID, 7, "origin").name("renamed").use_tls(True),
            "PUT",
            f"/service/{SID}/version/7/pool/origin",
            b"name=renamed&use_tls=1",
        ),
        (pools.delete(SID, 7, "origin"), "DELETE", f"/service/{SID}/version/7/pool/origin", None),
    ]
    for builder, method, path, body in cases:
        request = builder.build_request()
        assert (request.method, request.path, request.body) == (method, path, body)
    kinds = [type(c[0]) for c in cases]
    assert kinds == [ListPools, GetPool, CreatePool, UpdatePool, DeletePool]
    assert [c[0].is_write for c in cases] == [False, False, True, True, True]


def test_build_request_is_pure(pools: Pools) -> None:
    builder = pools.create(SID, 7).name("origin").quorum(50)
    assert builder.build_request() == builder.build_request()


def test_create_with_every_field_sends_every_field(pools: Pools) -> None:
    builder = pools.create(SID, 7)
    for field, (value, _) in SAMPLES.items():
        builder = builder.set(field, value)
    assert form_of(builder) == [(field, text) for field, (_, text) in SAMPLES.items()]


def test_repr_redacts_tls_client_key(pools: Pools) -> None:
    builder = pools.create(SID, 7).name("origin").tls_client_key(PEM)
    assert "TOPSECRETKEYBYTES" not in repr(builder)
    assert "TOPSECRETKEYBYTES" not in str(builder)
    assert isinstance(builder.get_field("tls_client_key"), Secret)
    # ...and yet it is sent.
    assert ("tls_client_key", PEM) in form_of(builder)
    assert "builder-test-token" not in repr(builder)


def test_a_secret_is_accepted_as_is(pools: Pools) -> None:
    key = Secret(PEM)
    builder = pools.update(SID, 7, "origin").tls_client_key(key)
    assert builder.get_field("tls_client_key") is key


# -- bad input fails at once, naming field and value -------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "\n"])
def test_empty_or_blank_service_id(pools: Pools, bad: str) -> None:
    for make in (
        lambda: pools.list(bad, 1),
        lambda: pools.get(bad, 1, "p"),
        lambda: pools.create(bad, 1),
        lambda: pools.update(bad, 1, "p"),
        lambda: pools.delete(bad, 1, "p"),
    ):
        with pytest.raises(ValueError, match=r"^service_id must not be empty or blank") as info:
            make()
        assert repr(bad) in str(info.value)


@pytest.mark.parametrize(
    ("bad", "error"), [(0, ValueError), (-1, ValueError), (True, TypeError), ("1", TypeError)]
)
def test_bad_version(pools: Pools, bad: Any, error: type[Exception]) -> None:
    for make in (
        lambda: pools.list(SID, bad),
        lambda: pools.get(SID, bad, "p"),
        lambda: pools.create(SID, bad),
        lambda: pools.update(SID, bad, "p"),
        lambda: pools.delete(SID, bad, "p"),
    ):
        with pytest.raises(error, match=r"^version must be") as info:
            make()
        assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", ["", " ", ".", ".."])
def test_bad_pool_name_in_path(pools: Pools, bad: str) -> None:
    for make in (
        lambda: pools.get(SID, 1, bad),
        lambda: pools.update(SID, 1, bad),
        lambda: pools.delete(SID, 1, bad),
    ):
        with pytest.raises(ValueError, match=r"^name must not be") as info:
            make()
        assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", ["", " ", ".", ".."])
def test_bad_name_setter(pools: Pools, bad: str) -> None:
    with pytest.raises(ValueError, match=r"^name must not be") as info:
        pools.create(SID, 1).name(bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(ValueError, match=r"^name must not be"):
        pools.update(SID, 1, "origin").name(bad)


@pytest.mark.parametrize(
    ("field", "bad", "error"),
    [
        ("quorum", -1, ValueError),
        ("quorum", 101, ValueError),
        ("quorum", "50", TypeError),
        ("quorum", True, TypeError),
        ("quorum", 50.0, TypeError),
        ("connect_timeout", -1, ValueError),
        ("first_byte_timeout", -1, ValueError),
        ("between_bytes_timeout", -5, ValueError),
        ("max_conn_default", -1, ValueError),
        ("connect_timeout", "1000", TypeError),
        ("first_byte_timeout", False, TypeError),
        ("use_tls", "1", TypeError),
        ("use_tls", 2, TypeError),
        ("tls_check_cert", "yes", TypeError),
        ("type", "weighted", ValueError),
        ("type", 1, TypeError),
        ("comment", 5, TypeError),
        ("shield", "null", ValueError),
        ("tls_ca_cert", "None", ValueError),
        ("healthcheck", b"hc", TypeError),
        ("min_tls_version", True, TypeError),
        ("max_tls_version", "", ValueError),
        ("name", 5, TypeError),
    ],
)
@pytest.mark.parametrize("op", ["create", "update"])
def test_bad_field_values(
    pools: Pools, op: str, field: str, bad: object, error: type[Exception]
) -> None:
    builder = pools.create(SID, 1) if op == "create" else pools.update(SID, 1, "origin")
    with pytest.raises(error, match=rf"^{field} ") as info:
        getattr(builder, field)(bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(error, match=rf"^{field} "):
        builder.set(field, bad)


def test_unknown_field_name(pools: Pools) -> None:
    for field in ("version", "service_id", "created_at", "Name", "bogus"):
        with pytest.raises(ValueError, match=rf"'{field}' is not a writable pool field"):
            pools.create(SID, 1).set(field, "x")


def test_create_without_a_name_fails_to_build(pools: Pools) -> None:
    with pytest.raises(ValueError, match=r"create needs a pool name"):
        pools.create(SID, 1).quorum(10).build_request()
    with pytest.raises(ValueError, match=r"create needs a pool name"):
        pools.create(SID, 1).name("x").name(None).build_request()


def test_update_without_fields_fails_to_build(pools: Pools) -> None:
    with pytest.raises(ValueError, match=r"update has no fields"):
        pools.update(SID, 1, "origin").build_request()
    with pytest.raises(ValueError, match=r"update has no fields"):
        pools.update(SID, 1, "origin").quorum(5).quorum(None).build_request()


async def test_incomplete_writes_fail_before_anything_is_sent(fake: FakeFastly) -> None:
    service = fake.add_service()
    async with Client(fake.token, base_url=fake.base_url) as client:
        with pytest.raises(ValueError, match=r"create needs a pool name"):
            await client.pools.create(service, 1).quorum(10).execute()
        with pytest.raises(ValueError, match=r"update has no fields"):
            await client.pools.update(service, 1, "origin").execute()
        with pytest.raises(ValueError, match=r"update has no fields"):
            await client.pools.update(service, 1, "origin").execute_raw()
    assert fake.requests == []
