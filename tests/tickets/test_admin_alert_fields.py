"""What escalation and dispatch alerts use, edited in /admin: an account's lead flag and alert
mobile, a hospital desk's SMS number. Only staff and hospital users lead (a role that leads
nothing drops the flag); numbers that get SMS must be mobiles, stored in E.164; a refusal
writes nothing; the audit log shows before and after. Real database; the directory is put
back after each test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import NOW, make_user
from tests.tickets import test_admin_services
from tests.tickets.test_admin_services import audit_rows, refused
from tickets import admin
from tickets.accounts import User
from tickets.audit import config_version
from tickets.directory import Hospital
from tickets.errors import Forbidden

MOBILE, MOBILE_E164 = "0912 345 678", "+84912345678"
LANDLINE = "0274 3822 222"  # Bình Dương fixed line: no SMS reaches it
LEAD_ONLY = "only department staff and hospital users can be leads"
NOT_MOBILE = "not a mobile number: an SMS cannot reach it"


# The administration's fixtures: an administrator, and the configuration restored after.
root, _config_restored = test_admin_services.root, test_admin_services._config_restored


def stored(session, user_id: int) -> tuple[str, bool, str | None]:
    session.expire_all()
    user = session.get(User, user_id)
    return user.role, user.is_lead, user.phone


def hospital_numbers(session, code: str) -> tuple[str | None, str | None]:
    session.expire_all()
    row = session.scalar(select(Hospital).where(Hospital.code == code))
    return row.desk_phone, row.sms_phone


def no_account(session, username: str) -> bool:
    session.rollback()
    return session.scalar(select(User).where(User.username == username)) is None


# ---- accounts: created -----------------------------------------------------------------------

def test_a_staff_lead_is_created_with_their_mobile_in_e164_and_audited(session, root):
    user, events = admin.create_user(session, root, NOW, username="lan", role="staff", password="mat-khau-dai-1",
                                     contact_point="SO_TNMT", is_lead=True, phone=MOBILE)
    session.commit()

    assert stored(session, user.id) == ("staff", True, MOBILE_E164)
    [entry] = audit_rows(session)
    assert entry.action == "create" and entry.before is None
    assert (entry.after["is_lead"], entry.after["phone"]) == (True, MOBILE_E164)
    assert len(events) == 1


def test_a_hospital_user_can_be_created_a_lead(session, root):
    user, _ = admin.create_user(session, root, NOW, username="bs.an", role="hospital", password="mat-khau-dai-1",
                                hospital="BVDK_TINH", is_lead=True)
    session.commit()

    assert stored(session, user.id) == ("hospital", True, None)


def test_an_account_is_created_without_lead_or_number_unless_given(session, root):
    user, _ = admin.create_user(session, root, NOW, username="tam", role="staff", password="mat-khau-dai-1",
                                contact_point="SO_TNMT", phone="")
    session.commit()

    assert stored(session, user.id) == ("staff", False, None)
    [entry] = audit_rows(session)
    assert (entry.after["is_lead"], entry.after["phone"]) == (False, None)


@pytest.mark.parametrize("role", ["operator", "dispatcher", "supervisor", "admin"])
def test_a_lead_of_nothing_is_refused_at_creation_and_nothing_is_written(session, root, role):
    version = config_version(session)

    error = refused(lambda: admin.create_user(session, root, NOW, username="x1", role=role,
                                              password="mat-khau-dai-1", is_lead=True), "is_lead")

    assert error.fields["is_lead"] == LEAD_ONLY
    assert no_account(session, "x1")
    assert audit_rows(session) == [] and config_version(session) == version


def test_a_supervisor_gets_a_mobile_but_a_landline_or_a_non_number_is_refused(session, root):
    sup, _ = admin.create_user(session, root, NOW, username="hanh", role="supervisor", password="mat-khau-dai-1",
                               phone="0903-111-222")
    session.commit()
    assert stored(session, sup.id) == ("supervisor", False, "+84903111222")

    landline = refused(lambda: admin.create_user(session, root, NOW, username="x2", role="supervisor",
                                                 password="mat-khau-dai-1", phone=LANDLINE), "phone")
    assert landline.fields["phone"] == NOT_MOBILE
    assert no_account(session, "x2")
    refused(lambda: admin.create_user(session, root, NOW, username="x3", role="supervisor",
                                      password="mat-khau-dai-1", phone="12345"), "phone")
    assert no_account(session, "x3")


def test_every_bad_field_is_named_at_once(session, root):
    error = refused(lambda: admin.create_user(session, root, NOW, username="x4", role="operator", password="ngan",
                                              is_lead=True, phone=LANDLINE), "is_lead", "phone", "password")
    assert error.fields["is_lead"] == LEAD_ONLY and error.fields["phone"] == NOT_MOBILE


# ---- accounts: changed -----------------------------------------------------------------------

def test_a_lead_and_a_mobile_are_set_then_cleared_and_each_change_is_audited(session, root):
    tam = make_user(session, "staff", username="tam", contact_point="SO_TNMT")

    admin.update_user(session, root, NOW, tam.id, {"is_lead": True, "phone": MOBILE})
    session.commit()
    assert stored(session, tam.id) == ("staff", True, MOBILE_E164)

    admin.update_user(session, root, NOW, tam.id, {"is_lead": False, "phone": ""})
    session.commit()
    assert stored(session, tam.id) == ("staff", False, None)

    set_entry, cleared_entry = audit_rows(session)
    assert (set_entry.before["is_lead"], set_entry.before["phone"]) == (False, None)
    assert (set_entry.after["is_lead"], set_entry.after["phone"]) == (True, MOBILE_E164)
    assert (cleared_entry.before["is_lead"], cleared_entry.before["phone"]) == (True, MOBILE_E164)
    assert (cleared_entry.after["is_lead"], cleared_entry.after["phone"]) == (False, None)
    assert set_entry.after["contact_point"] == "SO_TNMT"  # the rest of the record, unchanged


def test_a_null_number_clears_it_and_a_change_elsewhere_keeps_both(session, root):
    tam = make_user(session, "staff", username="tam", lead=True, phone=MOBILE)

    admin.update_user(session, root, NOW, tam.id, {"display_name": "Nguyễn Văn Tâm"})
    session.commit()
    assert stored(session, tam.id) == ("staff", True, MOBILE_E164)

    admin.update_user(session, root, NOW, tam.id, {"phone": None})
    session.commit()
    assert stored(session, tam.id) == ("staff", True, None)


def test_a_staff_lead_moved_to_operator_is_no_longer_a_lead(session, root):
    tam = make_user(session, "staff", username="tam", lead=True, phone=MOBILE)

    admin.update_user(session, root, NOW, tam.id, {"role": "operator"})
    session.commit()

    assert stored(session, tam.id) == ("operator", False, MOBILE_E164)  # the number stays theirs
    [entry] = audit_rows(session)
    assert (entry.before["is_lead"], entry.after["is_lead"]) == (True, False)
    assert (entry.before["role"], entry.after["role"]) == ("staff", "operator")


def test_a_staff_lead_moved_to_a_hospital_stays_a_lead(session, root):
    tam = make_user(session, "staff", username="tam", lead=True)

    admin.update_user(session, root, NOW, tam.id, {"role": "hospital", "hospital": "BVDK_TINH"})

    assert stored(session, tam.id) == ("hospital", True, None)


def test_an_operator_cannot_be_made_a_lead_nor_a_lead_moved_to_operator_kept_one(session, root):
    lan = make_user(session, "operator", username="lan")
    tam = make_user(session, "staff", username="tam", lead=True)
    version = config_version(session)

    assert refused(lambda: admin.update_user(session, root, NOW, lan.id, {"is_lead": True}),
                   "is_lead").fields["is_lead"] == LEAD_ONLY
    refused(lambda: admin.update_user(session, root, NOW, tam.id, {"role": "operator", "is_lead": True}), "is_lead")

    session.rollback()
    assert stored(session, lan.id) == ("operator", False, None)
    assert stored(session, tam.id) == ("staff", True, None)
    assert audit_rows(session) == [] and config_version(session) == version


def test_a_landline_is_refused_on_update_and_the_old_number_stays(session, root):
    sup = make_user(session, "supervisor", username="hanh", phone=MOBILE)

    error = refused(lambda: admin.update_user(session, root, NOW, sup.id, {"phone": LANDLINE}), "phone")

    assert error.fields["phone"] == NOT_MOBILE
    session.rollback()
    assert stored(session, sup.id) == ("supervisor", False, MOBILE_E164)
    assert audit_rows(session) == []


def test_setting_what_is_already_set_writes_nothing(session, root):
    tam = make_user(session, "staff", username="tam", lead=True, phone=MOBILE)
    version = config_version(session)

    _user, events = admin.update_user(session, root, NOW, tam.id, {"is_lead": True, "phone": "+84 912 345 678"})

    assert events == [] and audit_rows(session) == [] and config_version(session) == version


# ---- hospitals: the desk's SMS number ---------------------------------------------------------

def test_a_hospital_desk_sms_number_is_set_in_e164_audited_and_cleared(session, root):
    desk_before, sms_before = hospital_numbers(session, "BVDK_TINH")

    row, _ = admin.update_hospital(session, root, NOW, "BVDK_TINH", {"sms_phone": MOBILE})
    session.commit()
    assert hospital_numbers(session, "BVDK_TINH") == (desk_before, MOBILE_E164)
    [entry] = audit_rows(session)
    assert (entry.entity, entry.entity_key, entry.action) == ("hospital", "BVDK_TINH", "update")
    assert (entry.before["sms_phone"], entry.after["sms_phone"]) == (sms_before, MOBILE_E164)

    admin.update_hospital(session, root, NOW, "BVDK_TINH", {"sms_phone": ""})
    session.commit()
    assert hospital_numbers(session, "BVDK_TINH") == (desk_before, None)
    admin.update_hospital(session, root, NOW, "BVDK_TINH", {"sms_phone": "0987 654 321"})
    admin.update_hospital(session, root, NOW, "BVDK_TINH", {"sms_phone": None})
    assert hospital_numbers(session, "BVDK_TINH") == (desk_before, None)


def test_a_hospital_desk_sms_number_must_be_a_mobile_while_its_desk_phone_may_be_a_landline(session, root):
    before = hospital_numbers(session, "BVDK_TINH")

    error = refused(lambda: admin.update_hospital(session, root, NOW, "BVDK_TINH",
                                                  {"desk_phone": LANDLINE, "sms_phone": LANDLINE}), "sms_phone")

    assert error.fields == {"sms_phone": NOT_MOBILE}
    session.rollback()
    assert hospital_numbers(session, "BVDK_TINH") == before and audit_rows(session) == []
    refused(lambda: admin.update_hospital(session, root, NOW, "BVDK_TINH", {"sms_phone": "12"}), "sms_phone")


def test_a_new_hospital_gets_its_desk_sms_number(session, root):
    values = {"code": "BV_MOI", "name": "Bệnh viện Mới", "kind": "private_general_hospital",
              "district_code": "718", "ward_code": "25747", "address": "", "lat": 11.0, "lon": 106.65,
              "emergency": True, "specialties": ["general"], "available": True, "desk_phone": LANDLINE,
              "sms_phone": MOBILE, "active": True}

    row, _ = admin.create_hospital(session, root, NOW, values)
    session.commit()

    assert hospital_numbers(session, "BV_MOI") == ("+842743822222", MOBILE_E164)
    [entry] = audit_rows(session)
    assert entry.action == "create" and entry.after["sms_phone"] == MOBILE_E164


# ---- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["operator", "supervisor", "staff", "hospital"])
def test_only_an_administrator_sets_leads_and_alert_numbers(session, role):
    someone = make_user(session, role)
    tam = make_user(session, "staff", username="tam")

    with pytest.raises(Forbidden):
        admin.update_user(session, someone, NOW, tam.id, {"is_lead": True, "phone": MOBILE})
    with pytest.raises(Forbidden):
        admin.update_hospital(session, someone, NOW, "BVDK_TINH", {"sms_phone": MOBILE})

    session.rollback()
    assert stored(session, tam.id) == ("staff", False, None)
    assert hospital_numbers(session, "BVDK_TINH")[1] != MOBILE_E164
    assert audit_rows(session) == []
