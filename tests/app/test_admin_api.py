"""The administration API: administrators only, JSON errors naming the fields, nothing written on
a refusal, and a change used at once — by the next routing preview, by a second app instance
and by another process on the same database, without a restart.

Real database, real routing engine and classifier; the directory is put back after each test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.api.endpoint import ENDPOINTS
from app.extensions import socketio
from tests.factories import PASSWORD, bearer, make_user
from tests.tickets.test_admin_services import restore_config
from tickets.audit import AuditEntry, config_version

ROOT = Path(__file__).resolve().parents[2]
PREVIEW = "/api/routing/preview"
AT_BVDK_TINH = {"lat": 10.995089, "lon": 106.657617}
PYTHON_WITH_NO_KEYWORD = "có con trăn lớn bò vào sân nhà"  # the classifier's guess: nong_nghiep, unsure

# One valid request per admin endpoint (path parameters filled in), to prove who may call it.
SAMPLES = {
    ("get", "/api/admin/api-keys"): None,
    ("post", "/api/admin/api-keys"): {"name": "zalo-app", "scopes": ["open311"]},
    ("delete", "/api/admin/api-keys/{name}"): None,
    ("get", "/api/admin/calendar-days"): None,
    ("post", "/api/admin/calendar-days"): {"day": "2027-02-20", "kind": "working", "note": "Làm bù"},
    ("patch", "/api/admin/calendar-days/{day}"): {"note": "x"},
    ("delete", "/api/admin/calendar-days/{day}"): None,
    ("get", "/api/admin/users"): None,
    ("post", "/api/admin/users"): {"username": "moi", "role": "operator", "password": "mat-khau-dai"},
    ("patch", "/api/admin/users/{user_id}"): {"display_name": "Tên mới"},
    ("post", "/api/admin/users/{user_id}/password"): {"password": "mat-khau-dai"},
    ("get", "/api/admin/audit"): None,
    ("get", "/api/admin/reference"): None,
    ("get", "/api/admin/contact-points"): None,
    ("post", "/api/admin/contact-points"): {"code": "CP_MOI", "name_vi": "Đơn vị mới"},
    ("patch", "/api/admin/contact-points/{code}"): {"email": "a@binhduong.gov.vn"},
    ("get", "/api/admin/hospitals"): None,
    ("post", "/api/admin/hospitals"): {"code": "BV_MOI", "name": "BV mới", "kind": "x", "lat": 11.0, "lon": 106.6},
    ("patch", "/api/admin/hospitals/{code}"): {"available": False},
    ("get", "/api/admin/categories"): None,
    ("post", "/api/admin/categories"): {"code": "moi", "name_vi": "Mới"},
    ("patch", "/api/admin/categories/{code}"): {"name_en": "New"},
    ("get", "/api/admin/routing-rules"): None,
    ("post", "/api/admin/routing-rules"): {"priority": 1, "contact_point": "SO_TNMT"},
    ("patch", "/api/admin/routing-rules/{rule_id}"): {"note": "x"},
    ("delete", "/api/admin/routing-rules/{rule_id}"): None,
    ("post", "/api/admin/routing-rules/order"): {"ids": []},
    ("get", "/api/admin/sla-policies"): None,
    ("post", "/api/admin/sla-policies"): {"line": "1022", "clock": "resolution", "target": "4h"},
    ("patch", "/api/admin/sla-policies/{policy_id}"): {"name": "x"},
    ("delete", "/api/admin/sla-policies/{policy_id}"): None,
    ("get", "/api/admin/canned-responses"): None,
    ("post", "/api/admin/canned-responses"): {"category": "dien", "title": "x", "body": "y"},
    ("patch", "/api/admin/canned-responses/{canned_id}"): {"title": "x"},
}
PATH_VALUES = {"user_id": "1", "name": "zalo-app", "code": "SO_TNMT", "rule_id": "1", "policy_id": "1",
               "canned_id": "1", "day": "2027-02-20"}


@pytest.fixture(autouse=True)
def _config_restored(engine) -> Iterator[None]:
    yield from restore_config(engine)


@pytest.fixture
def root(session):
    return make_user(session, "admin", username="root")


@pytest.fixture
def as_admin(client, root) -> dict[str, str]:
    return bearer(client, root)


@pytest.fixture
def operator(client, session) -> dict[str, str]:
    return bearer(client, make_user(session, "operator"))


def admin_operations() -> list[tuple[str, str]]:
    return sorted({(e.method, e.path.replace("<int:", "{").replace("<", "{").replace(">", "}"))
                   for e in ENDPOINTS if e.path.startswith("/api/admin")})


def url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


def call(client, method: str, path: str, headers=None, body=None):
    return client.open(url(path), method=method.upper(), json=body, headers=headers or {})


def audit_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEntry)).scalar()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


# ---- who may call it ------------------------------------------------------------------------

def test_every_admin_endpoint_has_a_sample_request_here(app):
    assert set(admin_operations()) == set(SAMPLES)


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital", "supervisor"])
def test_every_admin_endpoint_refuses_every_other_role_and_writes_nothing(client, session, engine, role):
    headers = bearer(client, make_user(session, role))
    version = config_version(session)

    for method, path in admin_operations():
        response = call(client, method, path, headers, SAMPLES[(method, path)])
        assert response.status_code in (403, 404), (method, path, response.status_code)
        error_of(response, response.status_code)

    session.rollback()
    assert audit_count(engine) == 0 and config_version(session) == version


def test_every_admin_endpoint_asks_strangers_to_sign_in(client):
    for method, path in admin_operations():
        assert error_of(call(client, method, path, None, SAMPLES[(method, path)]), 401)["code"] == "unauthenticated"


def test_the_admin_console_page_is_for_administrators_only(client, session, root):
    make_user(session, "supervisor", username="sup")
    client.post("/login", data={"username": "sup", "password": PASSWORD})
    assert client.get("/admin").status_code == 403
    client.get("/logout")
    client.post("/login", data={"username": "root", "password": PASSWORD})
    page = client.get("/admin")
    assert page.status_code == 200 and b'id="admin"' in page.data


# ---- accounts --------------------------------------------------------------------------------

def test_accounts_are_listed_and_created_without_any_password_or_hash(client, as_admin, session):
    created = client.post("/api/admin/users", headers=as_admin, json={
        "username": "tam", "role": "staff", "password": "mat-khau-dai", "contact_point": "SO_TNMT",
        "display_name": "Nguyễn Văn Tâm"})

    assert created.status_code == 201, created.get_json()
    assert created.get_json()["contact_point"] == "SO_TNMT"
    listing = client.get("/api/admin/users", headers=as_admin)
    text = listing.get_data(as_text=True)
    assert "tam" in text and "password" not in text and "scrypt" not in text and "hash" not in text
    assert client.post("/api/auth/token", json={"username": "tam", "password": "mat-khau-dai"}).status_code == 200


def test_bad_input_answers_json_errors_that_name_the_fields(client, as_admin, root, engine):
    assert error_of(client.post("/api/admin/users", headers=as_admin, json={
        "username": "x1", "role": "king", "password": "mat-khau-dai"}), 400)["fields"].keys() == {"role"}
    assert "is_root" in error_of(client.post("/api/admin/users", headers=as_admin, json={
        "username": "x1", "role": "admin", "password": "mat-khau-dai", "is_root": True}), 400)["fields"]
    assert error_of(client.post("/api/admin/users", headers=as_admin, data="not json",
                                content_type="application/json"), 400)["code"] == "invalid_json"
    staff = error_of(client.post("/api/admin/users", headers=as_admin, json={
        "username": "x1", "role": "staff", "password": "ngan"}), 422)
    assert {"contact_point", "password"} <= staff["fields"].keys()
    assert error_of(client.patch(f"/api/admin/users/{root.id}", headers=as_admin, json={"active": False}),
                    422)["fields"]["active"] == "you cannot deactivate your own account"
    assert error_of(client.patch("/api/admin/hospitals/BVDK_TINH", headers=as_admin, json={"lat": 200}),
                    400)["fields"].keys() == {"lat"}
    assert error_of(client.patch("/api/admin/contact-points/KHONG_CO", headers=as_admin, json={}), 404)
    assert audit_count(engine) == 0


def test_a_deactivated_account_can_no_longer_use_the_api(client, as_admin, session):
    lan = make_user(session, "operator", username="lan")
    lan_headers = bearer(client, lan)

    changed = client.patch(f"/api/admin/users/{lan.id}", headers=as_admin, json={"active": False})

    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert client.get("/api/tickets", headers=lan_headers).status_code == 401
    assert client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD}).status_code == 401


# ---- effective without a restart ------------------------------------------------------------------

def preview_1022(client, headers, **fields) -> dict:
    response = client.post(PREVIEW, headers=headers, json=fields)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["decision"]


def the_rule(client, as_admin, category: str) -> dict:
    rules = client.get("/api/admin/routing-rules", headers=as_admin).get_json()["items"]
    return next(r for r in rules if r["category"] == category and not r["district_code"] and not r["ward_code"])


def test_a_rule_changed_in_admin_is_used_by_the_very_next_routing_preview(client, as_admin, operator):
    assert preview_1022(client, operator, category="giao_thong")["contact_point"] == "SO_GTVT"  # cached now
    rule = the_rule(client, as_admin, "giao_thong")

    changed = client.patch(f"/api/admin/routing-rules/{rule['id']}", headers=as_admin,
                           json={"contact_point": "SO_XAYDUNG", "note": "thử chuyển"})

    assert changed.status_code == 200, changed.get_json()
    assert preview_1022(client, operator, category="giao_thong")["contact_point"] == "SO_XAYDUNG"


def test_a_keyword_added_in_admin_is_used_by_the_next_preview(client, as_admin, operator):
    before = preview_1022(client, operator, description=PYTHON_WITH_NO_KEYWORD)
    assert before["category"] != "moi_truong"
    keywords = next(c for c in client.get("/api/admin/categories", headers=as_admin).get_json()["items"]
                    if c["code"] == "moi_truong")["keywords"]

    changed = client.patch("/api/admin/categories/moi_truong", headers=as_admin,
                           json={"keywords": [*keywords, "con trăn"]})

    assert changed.status_code == 200, changed.get_json()
    after = preview_1022(client, operator, description=PYTHON_WITH_NO_KEYWORD)
    assert after["category"] == "moi_truong"
    found = [k["keyword"] for r in after["reasons"] if r["code"] == "keyword" for k in r["data"]["keywords"]]
    assert found == ["con trăn"]


def test_a_second_app_instance_on_the_same_database_sees_the_change_at_once(app, client, as_admin, database_url):
    from app import create_app
    from app.database import db

    first_engine = db.engine
    second = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "another-secret",
                         "WTF_CSRF_ENABLED": False})
    first_engine.dispose()
    other = second.test_client()
    operator_there = bearer(other, make_user(second.extensions["database"].factory(), "operator"))
    assert preview_1022(other, operator_there, category="giao_thong")["contact_point"] == "SO_GTVT"
    rule = the_rule(client, as_admin, "giao_thong")

    assert client.patch(f"/api/admin/routing-rules/{rule['id']}", headers=as_admin,
                        json={"contact_point": "SO_CONGTHUONG"}).status_code == 200

    assert preview_1022(other, operator_there, category="giao_thong")["contact_point"] == "SO_CONGTHUONG"


def test_a_change_committed_by_another_process_is_used_here_without_a_restart(client, as_admin, database_url):
    rank = client.post(PREVIEW, headers=as_admin, json={"line": "115", **AT_BVDK_TINH}).get_json()["hospitals"]
    assert rank[0]["code"] == "BVDK_TINH"  # and the snapshot is cached in this process
    script = (
        "import sys\n"
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\n"
        "import tickets.registry\n"
        "from tickets import admin\n"
        "from tickets.accounts import User\n"
        "from tickets.db import make_engine, utcnow\n"
        "engine = make_engine(sys.argv[1])\n"
        "with Session(engine) as s:\n"
        "    root = s.scalar(select(User).where(User.username == 'root'))\n"
        "    admin.update_hospital(s, root, utcnow(), 'BVDK_TINH', {'active': False})\n"
        "    s.commit()\n"
        "engine.dispose()\n")
    done = subprocess.run([sys.executable, "-c", script, database_url], cwd=ROOT,  # noqa: S603 - our own script capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 0, done.stderr

    rank = client.post(PREVIEW, headers=as_admin, json={"line": "115", **AT_BVDK_TINH}).get_json()["hospitals"]
    assert rank and "BVDK_TINH" not in [h["code"] for h in rank]


# ---- the audit log and the consoles ---------------------------------------------------------------

def test_the_audit_log_is_filtered_by_entity_actor_and_day_and_paged(client, as_admin, session, root):
    other = make_user(session, "admin", username="root2")
    other_headers = bearer(client, other)
    client.patch("/api/admin/contact-points/SO_TNMT", headers=as_admin, json={"email": "a@binhduong.gov.vn"})
    client.patch("/api/admin/contact-points/SO_TNMT", headers=as_admin, json={"email": "b@binhduong.gov.vn"})
    client.patch("/api/admin/hospitals/BVDK_TINH", headers=other_headers, json={"available": False})

    page = client.get("/api/admin/audit?entity=contact_point&per_page=1&page=2", headers=as_admin).get_json()
    assert (page["total"], page["page"], page["per_page"]) == (2, 2, 1)
    [oldest] = page["items"]
    assert (oldest["actor"], oldest["key"], oldest["action"]) == ("root", "SO_TNMT", "update")
    assert (oldest["before"]["email"], oldest["after"]["email"]) == (None, "a@binhduong.gov.vn")
    assert oldest["at"].endswith("+07:00")
    by_other = client.get(f"/api/admin/audit?actor={other.id}", headers=as_admin).get_json()
    assert [e["entity"] for e in by_other["items"]] == ["hospital"]
    today = oldest["at"][:10]
    assert client.get(f"/api/admin/audit?from={today}&to={today}", headers=as_admin).get_json()["total"] == 3
    assert client.get("/api/admin/audit?to=2000-01-01", headers=as_admin).get_json()["total"] == 0
    assert "entity" in error_of(client.get("/api/admin/audit?entity=ticket", headers=as_admin), 400)["fields"]


def test_consoles_hear_that_the_directory_changed_and_only_admins_about_accounts(app, client, session, as_admin):
    make_user(session, "operator", username="op")
    make_user(session, "supervisor", username="sup")

    def connect(username):
        token = client.post("/api/auth/token", json={"username": username, "password": PASSWORD}).json["token"]
        return socketio.test_client(app, auth={"token": token})

    op, sup = connect("op"), connect("sup")
    client.patch("/api/admin/contact-points/SO_TNMT", headers=as_admin, json={"email": "c@binhduong.gov.vn"})
    lan = make_user(session, "operator", username="lan")
    client.patch(f"/api/admin/users/{lan.id}", headers=as_admin, json={"display_name": "Lan"})

    heard_op = [m["args"][0] for m in op.get_received() if m["name"] == "config.changed"]
    heard_sup = [m["args"][0] for m in sup.get_received() if m["name"] == "config.changed"]
    assert [(e["entity"], e["key"], e["action"]) for e in heard_op] == [("contact_point", "SO_TNMT", "update")]
    assert [e["entity"] for e in heard_sup] == ["contact_point", "user"]
    op.disconnect()
    sup.disconnect()
