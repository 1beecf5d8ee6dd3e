"""/api/admin sets what SLA escalation and 115 dispatch alerts use: an account's ``is_lead`` and
``phone`` (a mobile, answered in E.164), a hospital's ``sms_phone``. Refusals are JSON naming the
field (400 for a type, 422 for a rule) and write nothing; other roles get 403; the audit log
shows before and after. Real database; the directory is put back after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.app.test_admin_api import audit_count, error_of
from tests.factories import PASSWORD, bearer, make_user
from tests.tickets.test_admin_services import restore_config
from tickets.accounts import User
from tickets.directory import Hospital

MOBILE, MOBILE_E164 = "0912 345 678", "+84912345678"
LANDLINE = "0274 3822 222"


@pytest.fixture(autouse=True)
def _config_restored(engine) -> Iterator[None]:
    yield from restore_config(engine)


@pytest.fixture
def as_admin(client, session) -> dict[str, str]:
    return bearer(client, make_user(session, "admin", username="root"))


def account(session, username: str) -> User | None:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def sms_phone(session, code: str) -> str | None:
    session.expire_all()
    return session.scalar(select(Hospital.sms_phone).where(Hospital.code == code))


def listed(client, headers, username: str) -> dict:
    return next(u for u in client.get("/api/admin/users", headers=headers).get_json()["items"]
                if u["username"] == username)


def test_a_lead_with_a_mobile_is_created_and_listed_with_both(client, as_admin, session):
    created = client.post("/api/admin/users", headers=as_admin, json={
        "username": "lan", "role": "staff", "password": "mat-khau-dai", "contact_point": "SO_TNMT",
        "is_lead": True, "phone": MOBILE})

    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["is_lead"], created.get_json()["phone"]) == (True, MOBILE_E164)
    assert (listed(client, as_admin, "lan")["is_lead"], listed(client, as_admin, "lan")["phone"]) == (
        True, MOBILE_E164)
    other = client.post("/api/admin/users", headers=as_admin, json={
        "username": "tam", "role": "operator", "password": "mat-khau-dai"}).get_json()
    assert (other["is_lead"], other["phone"]) == (False, None)


def test_a_lead_and_a_mobile_are_set_and_cleared_and_the_audit_log_shows_before_and_after(client, as_admin,
                                                                                           session):
    tam = make_user(session, "staff", username="tam")

    set_ = client.patch(f"/api/admin/users/{tam.id}", headers=as_admin, json={"is_lead": True, "phone": MOBILE})
    assert set_.status_code == 200, set_.get_json()
    assert (set_.get_json()["is_lead"], set_.get_json()["phone"]) == (True, MOBILE_E164)
    cleared = client.patch(f"/api/admin/users/{tam.id}", headers=as_admin, json={"is_lead": False, "phone": None})
    assert (cleared.get_json()["is_lead"], cleared.get_json()["phone"]) == (False, None)
    assert client.patch(f"/api/admin/users/{tam.id}", headers=as_admin, json={"phone": "0987654321"}).get_json()[
        "phone"] == "+84987654321"
    assert client.patch(f"/api/admin/users/{tam.id}", headers=as_admin, json={"phone": ""}).get_json()[
        "phone"] is None

    entries = client.get("/api/admin/audit?entity=user&key=tam", headers=as_admin).get_json()["items"]
    oldest = entries[-1]  # newest first
    assert (oldest["before"]["is_lead"], oldest["before"]["phone"]) == (False, None)
    assert (oldest["after"]["is_lead"], oldest["after"]["phone"]) == (True, MOBILE_E164)
    assert len(entries) == 4


def test_moving_a_staff_lead_to_operator_clears_the_lead(client, as_admin, session):
    tam = make_user(session, "staff", username="tam", lead=True, phone=MOBILE)

    moved = client.patch(f"/api/admin/users/{tam.id}", headers=as_admin, json={"role": "operator"})

    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["role"], moved.get_json()["is_lead"], moved.get_json()["phone"]) == (
        "operator", False, MOBILE_E164)
    [entry] = client.get("/api/admin/audit?entity=user&key=tam", headers=as_admin).get_json()["items"]
    assert (entry["before"]["is_lead"], entry["after"]["is_lead"]) == (True, False)


def test_a_lead_of_nothing_and_a_landline_are_refused_field_by_field_and_nothing_is_written(client, as_admin,
                                                                                           session, engine):
    lan = make_user(session, "operator", username="lan")
    audits = audit_count(engine)

    created = error_of(client.post("/api/admin/users", headers=as_admin, json={
        "username": "x1", "role": "operator", "password": "mat-khau-dai", "is_lead": True, "phone": LANDLINE}), 422)
    assert created["fields"] == {"is_lead": "only department staff and hospital users can be leads",
                                 "phone": "not a mobile number: an SMS cannot reach it"}
    lead = error_of(client.patch(f"/api/admin/users/{lan.id}", headers=as_admin, json={"is_lead": True}), 422)
    assert lead["fields"].keys() == {"is_lead"}
    landline = error_of(client.patch(f"/api/admin/users/{lan.id}", headers=as_admin, json={"phone": LANDLINE}), 422)
    assert landline["fields"].keys() == {"phone"}
    assert error_of(client.patch(f"/api/admin/users/{lan.id}", headers=as_admin, json={"is_lead": "yes"}),
                    400)["fields"].keys() == {"is_lead"}

    assert account(session, "x1") is None
    assert (account(session, "lan").is_lead, account(session, "lan").phone) == (False, None)
    assert audit_count(engine) == audits


def test_a_hospital_desk_sms_number_is_set_normalised_cleared_and_audited(client, as_admin, session):
    before = sms_phone(session, "BVDK_TINH")

    changed = client.patch("/api/admin/hospitals/BVDK_TINH", headers=as_admin, json={"sms_phone": MOBILE})

    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["sms_phone"] == MOBILE_E164 == sms_phone(session, "BVDK_TINH")
    listed_row = next(h for h in client.get("/api/admin/hospitals", headers=as_admin).get_json()["items"]
                      if h["code"] == "BVDK_TINH")
    assert listed_row["sms_phone"] == MOBILE_E164
    [entry] = client.get("/api/admin/audit?entity=hospital&key=BVDK_TINH", headers=as_admin).get_json()["items"]
    assert (entry["before"]["sms_phone"], entry["after"]["sms_phone"]) == (before, MOBILE_E164)
    cleared = client.patch("/api/admin/hospitals/BVDK_TINH", headers=as_admin, json={"sms_phone": ""})
    assert cleared.get_json()["sms_phone"] is None and sms_phone(session, "BVDK_TINH") is None


def test_a_landline_desk_sms_number_is_refused_and_nothing_is_written(client, as_admin, session, engine):
    before, audits = sms_phone(session, "BVDK_TINH"), audit_count(engine)

    error = error_of(client.patch("/api/admin/hospitals/BVDK_TINH", headers=as_admin,
                                  json={"sms_phone": LANDLINE}), 422)

    assert error["fields"] == {"sms_phone": "not a mobile number: an SMS cannot reach it"}
    assert sms_phone(session, "BVDK_TINH") == before and audit_count(engine) == audits


def test_a_new_hospital_is_created_with_its_desk_sms_number(client, as_admin):
    created = client.post("/api/admin/hospitals", headers=as_admin, json={
        "code": "BV_MOI", "name": "BV mới", "kind": "x", "lat": 11.0, "lon": 106.6,
        "desk_phone": LANDLINE, "sms_phone": MOBILE})

    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["desk_phone"], created.get_json()["sms_phone"]) == ("+842743822222", MOBILE_E164)


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_an_operator_or_supervisor_gets_403_and_changes_nothing(client, session, engine, role):
    headers = bearer(client, make_user(session, role))
    tam = make_user(session, "staff", username="tam")
    before = sms_phone(session, "BVDK_TINH")

    assert error_of(client.patch(f"/api/admin/users/{tam.id}", headers=headers,
                                 json={"is_lead": True, "phone": MOBILE}), 403)
    assert error_of(client.post("/api/admin/users", headers=headers, json={
        "username": "x1", "role": "staff", "password": "mat-khau-dai", "contact_point": "SO_TNMT",
        "is_lead": True, "phone": MOBILE}), 403)
    assert error_of(client.patch("/api/admin/hospitals/BVDK_TINH", headers=headers,
                                 json={"sms_phone": MOBILE}), 403)

    assert (account(session, "tam").is_lead, account(session, "tam").phone) == (False, None)
    assert account(session, "x1") is None and sms_phone(session, "BVDK_TINH") == before
    assert audit_count(engine) == 0


def test_the_console_is_given_labels_for_the_new_fields(client, session):
    make_user(session, "admin", username="root")
    client.post("/login", data={"username": "root", "password": PASSWORD})

    page = client.get("/admin").get_data(as_text=True)

    for key in ("f_is_lead", "f_phone_mobile", "f_sms_phone", "lead_hint", "msg_mobile", "msg_lead_role"):
        assert f'"{key}"' in page
