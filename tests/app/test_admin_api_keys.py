"""/api/admin/api-keys: administrators list, issue and revoke API keys; the key is in the
creation answer only, and the audit log records each change without it."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.factories import bearer, make_user
from tests.servers import post_json, serving
from tickets import api_keys

PATH = "/api/admin/api-keys"


@pytest.fixture
def as_admin(client, session) -> dict[str, str]:
    return bearer(client, make_user(session, "admin", username="root"))


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names


def issue(client, headers, name="zalo-app", scopes=("open311",)):
    return client.post(PATH, headers=headers, json={"name": name, "scopes": list(scopes)})


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital", "supervisor"])
def test_every_other_role_is_refused_with_403_and_nothing_is_written(client, session, engine, as_admin, role):
    issue(client, as_admin)
    audit_before = count(engine, "audit_log")
    headers = bearer(client, make_user(session, role))

    responses = [client.get(PATH, headers=headers), issue(client, headers, name="mine"),
                 client.delete(f"{PATH}/zalo-app", headers=headers)]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert all(r.get_json()["error"]["code"] == "forbidden" for r in responses)
    assert count(engine, "api_keys") == 1 and count(engine, "audit_log") == audit_before
    assert client.get(PATH, headers=as_admin).get_json()["items"][0]["revoked_at"] is None


def test_strangers_are_asked_to_sign_in(client):
    assert client.get(PATH).status_code == 401
    assert client.post(PATH, json={"name": "x", "scopes": ["read"]}).status_code == 401
    assert client.delete(f"{PATH}/x").status_code == 401


def test_an_admin_issues_a_key_and_sees_it_once(client, as_admin):
    created = issue(client, as_admin, scopes=["open311", "read"])

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["key"].startswith("hk_") and body["key_prefix"] == body["key"][:8]
    assert (body["name"], body["scopes"], body["created_by"], body["revoked_at"]) == (
        "zalo-app", ["open311", "read"], "root", None)
    assert body["created_at"].endswith("+07:00")

    listed = client.get(PATH, headers=as_admin)
    assert listed.status_code == 200
    assert [k["name"] for k in listed.get_json()["items"]] == ["zalo-app"]
    assert "key" not in listed.get_json()["items"][0]
    assert body["key"][8:] not in listed.get_data(as_text=True)


def test_a_revoked_key_is_refused_by_open311_at_once(client, as_admin):
    key = issue(client, as_admin).get_json()["key"]

    revoked = client.delete(f"{PATH}/zalo-app", headers=as_admin)
    posted = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "dien",
                                                             "address_string": "Phú Cường"})

    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"].endswith("+07:00")
    assert posted.status_code == 403


def test_refusals_name_the_field(client, as_admin):
    issue(client, as_admin)

    duplicate = issue(client, as_admin)
    bad_scope = issue(client, as_admin, name="other", scopes=["admin"])
    no_scope = issue(client, as_admin, name="other", scopes=[])
    unknown = client.delete(f"{PATH}/nobody", headers=as_admin)

    assert duplicate.status_code == 422 and duplicate.get_json()["error"]["fields"] == {
        "name": "already used by another key"}
    assert bad_scope.status_code == 400 and "scopes.0" in bad_scope.get_json()["error"]["fields"]
    assert no_scope.status_code == 400 and "scopes" in no_scope.get_json()["error"]["fields"]
    assert unknown.status_code == 404


def test_a_name_differing_only_by_case_is_refused(client, engine, as_admin):
    issue(client, as_admin, name="zalo-app")

    again = issue(client, as_admin, name="Zalo-App")

    assert again.status_code == 422
    assert again.get_json()["error"]["fields"] == {"name": "already used by another key"}
    assert count(engine, "api_keys") == 1


def test_the_database_itself_refuses_a_name_differing_only_by_case(client, engine, as_admin):
    issue(client, as_admin, name="zalo-app")

    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO api_keys (name, scopes, key_prefix, key_hash, created_at) "
                          "VALUES ('ZALO-APP', 'read', 'hk_abcde', :hash, CURRENT_TIMESTAMP)"), {"hash": "0" * 64})


def test_two_admins_issuing_one_name_at_once_get_one_key_and_one_refusal(app, client, session, engine, monkeypatch):
    admins = [bearer(client, make_user(session, "admin")) for _ in range(2)]
    # Both requests get past the early check, as when each looks before the other has written:
    # only the database can keep the name unique now.
    monkeypatch.setattr(api_keys, "find_key", lambda _session, _name: None)
    start = threading.Barrier(2, timeout=30)

    with serving(app) as base:
        def fire(job: tuple[str, dict[str, str]]) -> tuple[int, bytes]:
            name, headers = job
            start.wait()
            return post_json(base + PATH, {"name": name, "scopes": ["open311"]}, headers)

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = sorted(pool.map(fire, [("Zalo", admins[0]), ("zalo", admins[1])]))

    assert [status for status, _ in results] == [201, 422], results
    assert json.loads(results[1][1])["error"]["fields"] == {"name": "already used by another key"}
    assert count(engine, "api_keys") == 1
    assert count(engine, "audit_log") == 1  # the refused request wrote nothing


def test_each_change_is_in_the_audit_log_without_the_key(client, as_admin):
    key = issue(client, as_admin).get_json()["key"]
    client.delete(f"{PATH}/zalo-app", headers=as_admin)

    audit = client.get("/api/admin/audit", headers=as_admin, query_string={"entity": "api_key"})

    assert audit.status_code == 200, audit.get_json()
    entries = audit.get_json()["items"]
    assert [(e["action"], e["key"], e["actor"]) for e in entries] == [
        ("deactivate", "zalo-app", "root"), ("create", "zalo-app", "root")]
    assert key[8:] not in audit.get_data(as_text=True)


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    assert set(paths[PATH]) == {"get", "post"}
    assert set(paths[PATH + "/{name}"]) == {"delete"}
