"""Every pool endpoint of the fake, its wire types and its error answers."""

from __future__ import annotations

import re

import pytest

from fastly_pools.testing import FakeFastly

POOL_KEYS = {
    "id", "service_id", "version", "name", "comment", "type", "quorum", "use_tls",
    "tls_check_cert", "tls_ca_cert", "tls_client_cert", "tls_client_key", "tls_cert_hostname",
    "tls_sni_hostname", "tls_ciphers", "min_tls_version", "max_tls_version", "healthcheck",
    "shield", "request_condition", "override_host", "connect_timeout", "first_byte_timeout",
    "between_bytes_timeout", "max_conn_default", "created_at", "updated_at", "deleted_at",
}  # fmt: skip
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


async def test_new_version_number_is_an_integer(api, sid: str) -> None:
    reply = await api.call("POST", "service", sid, "version")
    assert reply.status == 200
    assert reply.json == {"service_id": sid, "number": 3}
    assert (await api.create(sid, 3, name="p")).status == 200


async def test_activate_locks_the_version(api, fake: FakeFastly, sid: str) -> None:
    reply = await api.call("PUT", "service", sid, "version", 2, "activate")
    assert reply.status == 200
    assert reply.json == {"service_id": sid, "number": 2, "active": True, "locked": True}
    locked = await api.create(sid, 2, name="p")
    assert locked.status == 422
    assert fake.pools(sid, 2) == []


async def test_create_echoes_submitted_values_first(api, sid: str) -> None:
    form = "comment=test+pool&name=test_pool&quorum=50&tls_cert_hostname=example.com&use_tls=1"
    reply = await api.call("POST", "service", sid, "version", 2, "pool", form=form)
    assert reply.status == 200
    body = reply.json
    assert set(body) == POOL_KEYS
    assert list(body)[:5] == ["comment", "name", "quorum", "tls_cert_hostname", "use_tls"]
    assert body["quorum"] == "50"
    assert body["use_tls"] == "1"
    assert body["version"] == "2"
    assert body["service_id"] == sid
    assert re.fullmatch(r"[A-Za-z0-9]{22}", body["id"])
    assert STAMP.fullmatch(body["created_at"])
    assert body["updated_at"] == body["created_at"]
    assert body["deleted_at"] is None


async def test_create_with_defaults_answers_quorum_as_integer(api, sid: str) -> None:
    created = (await api.create(sid, 1, name="plain")).json
    assert created["quorum"] == 75
    assert {k: created[k] for k in ("comment", "type", "use_tls", "tls_check_cert")} == {
        "comment": "",
        "type": "random",
        "use_tls": "0",
        "tls_check_cert": "1",
    }
    assert [created[k] for k in ("connect_timeout", "first_byte_timeout")] == ["1000", "15000"]
    assert [created[k] for k in ("between_bytes_timeout", "max_conn_default")] == ["10000", "200"]
    assert created["shield"] is None
    assert created["tls_ca_cert"] is None
    got = (await api.call("GET", "service", sid, "version", 1, "pool", "plain")).json
    assert got["quorum"] == "75"
    assert got == {**created, "quorum": "75"}


async def test_unknown_and_server_only_form_keys_are_ignored(api, sid: str) -> None:
    form = {"ServiceID": "x", "Name": "ignored", "name": "kept", "id": "mine", "version": "9"}
    body = (await api.create(sid, 1, **form)).json
    assert body["name"] == "kept"
    assert body["id"] != "mine"
    assert body["version"] == "1"
    assert "Name" not in body
    assert next(iter(body)) == "name"


async def test_list_is_an_array_in_creation_order(api, sid: str) -> None:
    empty = await api.call("GET", "service", sid, "version", 1, "pool")
    assert (empty.status, empty.text) == (200, "[]")
    await api.create(sid, 1, name="b", quorum=10)
    await api.create(sid, 1, name="a")
    listed = (await api.call("GET", "service", sid, "version", 1, "pool")).json
    assert [p["name"] for p in listed] == ["b", "a"]
    assert [p["quorum"] for p in listed] == ["10", "75"]
    assert all(set(p) == POOL_KEYS for p in listed)


async def test_update_is_partial_and_keeps_updated_at(api, sid: str) -> None:
    created = (await api.create(sid, 1, name="p", comment="keep me", use_tls=1)).json
    reply = await api.call("PUT", "service", sid, "version", 1, "pool", "p", form={"quorum": 0})
    assert reply.status == 200
    updated = reply.json
    assert updated["quorum"] == "0"
    assert updated["comment"] == "keep me"
    assert updated["use_tls"] == "1"
    assert updated["updated_at"] == created["updated_at"]
    assert updated["id"] == created["id"]


async def test_rename_moves_the_pool(api, sid: str) -> None:
    await api.create(sid, 1, name="old")
    renamed = await api.call(
        "PUT", "service", sid, "version", 1, "pool", "old", form={"name": "new"}
    )
    assert renamed.json["name"] == "new"
    gone = await api.call("GET", "service", sid, "version", 1, "pool", "old")
    assert gone.status == 404
    assert (await api.call("GET", "service", sid, "version", 1, "pool", "new")).status == 200


async def test_duplicate_names_conflict(api, sid: str) -> None:
    await api.create(sid, 1, name="one")
    await api.create(sid, 1, name="two")
    again = await api.create(sid, 1, name="one")
    assert again.status == 409
    assert again.json == {"msg": "Duplicate record", "detail": "Duplicate pool: 'one'"}
    clash = await api.call("PUT", "service", sid, "version", 1, "pool", "two", form={"name": "one"})
    assert clash.status == 409
    assert clash.json["detail"] == "Duplicate pool: 'one'"


async def test_delete_then_404_with_the_recorded_detail(api, fake: FakeFastly, sid: str) -> None:
    await api.create(sid, 1, name="p")
    deleted = await api.call("DELETE", "service", sid, "version", 1, "pool", "p")
    assert (deleted.status, deleted.json) == (200, {"status": "ok"})
    assert fake.pools(sid, 1) == []
    again = await api.call("DELETE", "service", sid, "version", 1, "pool", "p")
    assert again.status == 404
    assert again.json == {
        "msg": "Record not found",
        "detail": "Couldn't find Pool '{ deleted => 0000-00-00 00:00:00, name => p, "
        f"service => {sid}, version => 1 }}'",
    }


@pytest.mark.parametrize("name", ["a/b", "my pool", "ümlaut", "50%", "q?x#y", "..", "a%2Fb"])
async def test_names_travel_percent_encoded(api, fake: FakeFastly, sid: str, name: str) -> None:
    assert (await api.create(sid, 1, name=name)).status == 200
    got = await api.call("GET", "service", sid, "version", 1, "pool", name)
    assert (got.status, got.json["name"]) == (200, name)
    last = fake.requests[-1]
    assert last.path == f"/service/{sid}/version/1/pool/{name}"
    assert "/" not in last.raw_path.rsplit("/pool/", 1)[1]


async def test_unknown_service_and_version(api, sid: str) -> None:
    service = await api.call("GET", "service", "nope", "version", 1, "pool")
    assert service.status == 404
    assert service.json == {"msg": "Record not found", "detail": "Cannot find 'service'"}
    for version in (9, "x", 0):
        reply = await api.call("GET", "service", sid, "version", version, "pool")
        assert reply.status == 404
        assert reply.json["msg"] == "Record not found"
        assert reply.json["detail"].startswith("Couldn't find Version")


async def test_locked_version_refuses_every_write(api, fake: FakeFastly, sid: str) -> None:
    fake.seed_pool(sid, 1, "p")
    fake.lock_version(sid, 1)
    expected = {"msg": "Version locked", "detail": f"Version '1' for service '{sid}' is locked"}
    writes = [
        await api.create(sid, 1, name="q"),
        await api.call("PUT", "service", sid, "version", 1, "pool", "p", form={"quorum": 1}),
        await api.call("DELETE", "service", sid, "version", 1, "pool", "p"),
    ]
    assert [(r.status, r.json) for r in writes] == [(422, expected)] * 3
    assert "Fastly-RateLimit-Remaining" in writes[0].headers
    assert (await api.call("GET", "service", sid, "version", 1, "pool", "p")).status == 200
    assert [p["quorum"] for p in fake.pools(sid, 1)] == ["75"]


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"name": ""},
        {"comment": "no name"},
        {"name": "p", "quorum": "101"},
        {"name": "p", "quorum": "-1"},
        {"name": "p", "quorum": "half"},
        {"name": "p", "connect_timeout": "fast"},
        {"name": "p", "max_conn_default": "1.5"},
        {"name": "p", "use_tls": "2"},
        {"name": "p", "tls_check_cert": "yes"},
        {"name": "p", "type": "round_robin"},
    ],
)
async def test_bad_create_is_400(api, fake: FakeFastly, sid: str, form: dict[str, str]) -> None:
    reply = await api.create(sid, 1, **form)
    assert reply.status == 400
    assert reply.json["msg"] == "Bad request"
    assert reply.json["detail"]
    assert fake.pools(sid, 1) == []


async def test_bad_update_is_400_and_changes_nothing(api, fake: FakeFastly, sid: str) -> None:
    fake.seed_pool(sid, 1, "p", quorum=50)
    for form in ({"name": ""}, {"type": "weighted"}, {"quorum": "200"}):
        reply = await api.call("PUT", "service", sid, "version", 1, "pool", "p", form=form)
        assert (reply.status, reply.json["msg"]) == (400, "Bad request")
    assert [(p["name"], p["quorum"], p["type"]) for p in fake.pools(sid, 1)] == [
        ("p", "50", "random")
    ]


async def test_credentials(api, sid: str) -> None:
    missing = await api.call("GET", "service", sid, "version", 1, "pool", token=None)
    wrong = await api.call("GET", "service", sid, "version", 1, "pool", token="wrong")
    body = {"msg": "Provided credentials are missing or invalid"}
    assert [(missing.status, missing.json), (wrong.status, wrong.json)] == [(401, body)] * 2


async def test_read_only_token(api, fake: FakeFastly, sid: str) -> None:
    token = fake.read_only_token
    read = await api.call("GET", "service", sid, "version", 1, "pool", token=token)
    assert read.status == 200
    write = await api.call("POST", "service", sid, "version", 1, "pool", form="name=p", token=token)
    assert write.status == 403
    assert write.json == {"msg": "Read only tokens are not allowed to access this endpoint."}
    assert fake.pools(sid, 1) == []


async def test_every_answer_carries_the_fastly_headers(api, sid: str) -> None:
    replies = [
        await api.call("GET", "service", sid, "version", 1, "pool"),
        await api.create(sid, 1, name="p"),
        await api.create(sid, 1),
        await api.call("GET", "service", sid, "version", 1, "pool", token=None),
    ]
    for reply in replies:
        assert reply.headers["Content-Type"] == "application/json"
        assert reply.headers["Cache-Control"] == "no-store"
        assert reply.headers["X-Served-By"].startswith("cache-")
        assert re.fullmatch(r"S\d+\.\d+,VS0,VE\d+", reply.headers["X-Timer"])


async def test_unknown_route_and_method(api, sid: str) -> None:
    route = await api.call("GET", "service", sid, "backend")
    assert (route.status, route.json) == (404, {"msg": "Not found"})
    method = await api.call("PATCH", "service", sid, "version", 1, "pool", "p")
    assert (method.status, method.json) == (405, {"msg": "Method not allowed"})
