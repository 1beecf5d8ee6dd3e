"""Administration services: every change is validated whole (refusals change nothing), recorded
in the audit log with before and after but never a secret, and moves the configuration version
that caches follow. Real database; the directory is put back after each test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from tests.factories import NOW, make_user
from tickets import admin
from tickets.accounts import ApiToken, issue_token, user_for_token
from tickets.audit import AuditEntry, config_version, list_changes
from tickets.db import Base
from tickets.directory import ContactPoint, Hospital
from tickets.errors import Forbidden, NotFound, ValidationFailed
from tickets.routing_store import RoutingRule
from tickets.sla import SlaPolicy

# What administrators edit: shared by every test of a worker, so put back after each one here
# (children before parents: a category names a contact point).
CONFIG_TABLES = ("routing_rules", "sla_policies", "categories", "hospitals", "contact_points")


def restore_config(engine: Engine) -> Iterator[None]:
    """Save the edited tables, run the test, then make them equal again (and tell the caches)."""
    from tests.conftest import _empty_transactional_tables
    from tickets.audit import bump_config_version
    from tickets.db import utcnow

    tables = [Base.metadata.tables[name] for name in CONFIG_TABLES]
    with engine.connect() as conn:
        saved = {t.name: {row[0]: dict(row._mapping) for row in conn.execute(select(t))} for t in tables}
    yield
    _empty_transactional_tables(engine)  # accounts and tickets may point at rows a test added
    with engine.begin() as conn:
        for table in tables:
            key = table.primary_key.columns.values()[0]
            now = {row[0]: dict(row._mapping) for row in conn.execute(select(table))}
            added = set(now) - set(saved[table.name])
            if added:
                conn.execute(table.delete().where(key.in_(added)))
            for pk, row in saved[table.name].items():
                if pk not in now:
                    conn.execute(table.insert().values(row))
                elif now[pk] != row:
                    conn.execute(table.update().where(key == pk).values(row))
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        bump_config_version(session, utcnow())
        session.commit()


@pytest.fixture(autouse=True)
def _config_restored(engine) -> Iterator[None]:
    yield from restore_config(engine)


@pytest.fixture
def root(session):
    return make_user(session, "admin", username="root", display_name="Quản trị viên")


def audit_rows(session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def refused(call, *fields: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert set(fields) <= set(caught.value.fields), caught.value.fields
    return caught.value


def new_contact_point(**overrides):
    return {"code": "TT_1022_TEST", "name_vi": "Trung tâm thử nghiệm", "name_en": "Test centre",
            "kind": "department", "district_code": None, "categories": ["moi_truong"], "aliases": [],
            "phone": "0274 3822 222", "email": "tt@binhduong.gov.vn", "active": True, **overrides}


# ---- who may administer --------------------------------------------------------------------

@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital", "supervisor"])
def test_only_an_administrator_may_administer(session, role):
    someone = make_user(session, role)

    with pytest.raises(Forbidden):
        admin.create_contact_point(session, someone, NOW, new_contact_point())
    with pytest.raises(Forbidden):
        admin.list_users(session, someone)
    with pytest.raises(Forbidden):
        admin.update_user(session, someone, NOW, someone.id, {"role": "admin"})

    session.rollback()
    assert audit_rows(session) == []
    assert session.scalar(select(ContactPoint).where(ContactPoint.code == "TT_1022_TEST")) is None


# ---- accounts ------------------------------------------------------------------------------

def test_a_new_staff_account_is_audited_without_its_password_or_hash(session, root):
    user, events = admin.create_user(session, root, NOW, username="tam", role="staff", password="mat-khau-dai-1",
                                     display_name="Nguyễn Văn Tâm", contact_point="SO_TNMT")
    session.commit()

    [row] = audit_rows(session)
    assert (row.entity, row.entity_key, row.action, row.actor_id, row.actor_label) == (
        "user", "tam", "create", root.id, "Quản trị viên")
    assert row.before is None
    assert row.after == {"id": user.id, "username": "tam", "display_name": "Nguyễn Văn Tâm", "role": "staff",
                         "contact_point": "SO_TNMT", "hospital": None, "active": True, "is_lead": False,
                         "phone": None}
    stored = json.dumps([row.before, row.after])
    assert "mat-khau-dai-1" not in stored and user.password_hash not in stored and "scrypt" not in stored
    assert user.check_password("mat-khau-dai-1")
    assert [(e.entity, e.key, e.action) for e in events] == [("user", "tam", "create")]


def test_a_username_is_taken_whatever_its_case_and_staff_need_a_contact_point(session, root):
    make_user(session, "operator", username="lan")

    error = refused(lambda: admin.create_user(session, root, NOW, username="LAN", role="staff", password="short",
                                              contact_point=None), "username", "password", "contact_point")

    assert error.fields["username"] == "already taken"
    session.rollback()
    assert audit_rows(session) == []


def test_a_password_reset_is_logged_as_a_fact_and_revokes_the_accounts_tokens(session, root):
    lan = make_user(session, "operator", username="lan")
    token = issue_token(session, lan, NOW)
    old_hash = lan.password_hash
    session.commit()

    admin.reset_password(session, root, NOW, lan.id, "mot-mat-khau-moi")
    session.commit()

    assert user_for_token(session, token, NOW) is None
    assert lan.check_password("mot-mat-khau-moi") and lan.password_hash != old_hash
    [row] = audit_rows(session)
    assert (row.action, row.before, row.after) == ("update", {"password_reset": False}, {"password_reset": True})
    assert old_hash not in json.dumps(row.after) and lan.password_hash not in json.dumps(row.after)


def test_a_too_short_new_password_changes_nothing(session, root):
    lan = make_user(session, "operator", username="lan")
    before = lan.password_hash

    refused(lambda: admin.reset_password(session, root, NOW, lan.id, "ngan"), "password")

    session.rollback()
    session.expire_all()
    assert session.get(type(lan), lan.id).password_hash == before
    assert audit_rows(session) == []


def test_an_administrator_can_neither_deactivate_themselves_nor_give_up_their_role(session, root):
    version = config_version(session)

    refused(lambda: admin.update_user(session, root, NOW, root.id, {"active": False}), "active")
    refused(lambda: admin.update_user(session, root, NOW, root.id, {"role": "supervisor"}), "role")

    session.rollback()
    session.expire_all()
    assert root.active and root.role == "admin"
    assert audit_rows(session) == [] and config_version(session) == version


def test_null_for_a_field_that_cannot_be_empty_leaves_it_as_it_was(session, root):
    lan = make_user(session, "operator", username="lan", display_name="Nguyễn Thị Lan")

    admin.update_user(session, root, NOW, root.id, {"active": None, "role": None})  # not "deactivate myself"
    admin.update_user(session, root, NOW, lan.id, {"active": None, "display_name": None, "role": None})

    assert root.active and root.role == "admin"
    assert (lan.active, lan.role, lan.display_name) == (True, "operator", "Nguyễn Thị Lan")


def test_deactivating_an_account_is_logged_as_deactivate_and_ends_its_tokens_and_duty(session, root):
    lan = make_user(session, "operator", username="lan")
    lan.on_duty = True
    issue_token(session, lan, NOW)
    session.commit()

    admin.update_user(session, root, NOW, lan.id, {"active": False})
    session.commit()

    assert not lan.active and not lan.on_duty
    assert count(session, ApiToken) == 0
    [row] = audit_rows(session)
    assert row.action == "deactivate" and row.before["active"] is True and row.after["active"] is False


def test_a_role_without_a_contact_point_drops_the_old_one(session, root):
    tam = make_user(session, "staff", username="tam", contact_point="SO_TNMT")

    admin.update_user(session, root, NOW, tam.id, {"role": "operator"})

    assert tam.role == "operator" and tam.contact_point is None
    refused(lambda: admin.update_user(session, root, NOW, tam.id, {"contact_point": "SO_TNMT"}), "contact_point")


def test_an_unknown_account_is_not_found(session, root):
    with pytest.raises(NotFound):
        admin.update_user(session, root, NOW, 999_999, {"display_name": "x"})


# ---- contact points, hospitals, categories ----------------------------------------------------

def test_an_invalid_contact_point_names_every_bad_field_and_changes_nothing(session, root):
    before = (count(session, ContactPoint), config_version(session))

    error = refused(lambda: admin.create_contact_point(session, root, NOW, new_contact_point(
        code="SO_TNMT", name_vi="", district_code="999", categories=["khong_co"], phone="12",
        email="khong-phai-email")), "code", "name_vi", "district_code", "categories", "phone", "email")

    assert error.fields["code"] == "already exists"
    assert error.fields["name_vi"] == "must not be empty"  # the CSV loader's own words
    assert error.fields["categories"] == "'khong_co' is not a code in categories.csv"
    session.rollback()
    assert (count(session, ContactPoint), config_version(session)) == before
    assert audit_rows(session) == []


def test_a_contact_point_name_is_held_to_the_csv_files_length(session, root):
    error = refused(lambda: admin.create_contact_point(session, root, NOW, new_contact_point(name_vi="x" * 301)),
                    "name_vi")
    assert error.fields["name_vi"] == "longer than 300 characters"


def test_a_contact_point_change_is_audited_before_and_after_and_moves_the_version(session, root):
    version = config_version(session)

    row, events = admin.update_contact_point(session, root, NOW, "SO_TNMT",
                                             {"phone": "0274 3822 222", "aliases": ["Sở TN-MT", "Sở TN-MT", " "]})
    session.commit()

    assert row.phone == "+842743822222" and row.aliases == ["Sở TN-MT"]
    [entry] = audit_rows(session)
    assert (entry.entity, entry.entity_key, entry.action) == ("contact_point", "SO_TNMT", "update")
    assert entry.before["phone"] is None and entry.after["phone"] == "+842743822222"
    assert entry.before["name_vi"] == entry.after["name_vi"] == row.name_vi
    assert config_version(session) == version + 1 == events[0].version


def test_a_change_that_changes_nothing_writes_nothing(session, root):
    version = config_version(session)
    current = admin.contact_point_record(session.scalar(select(ContactPoint).where(ContactPoint.code == "SO_TNMT")))

    _row, events = admin.update_contact_point(session, root, NOW, "SO_TNMT", {"name_vi": current["name_vi"]})

    assert events == [] and audit_rows(session) == [] and config_version(session) == version


def test_the_fallback_rules_contact_point_cannot_be_switched_off(session, root):
    fallback = next(r for r in admin.list_rules(session, root) if r["fallback"])

    refused(lambda: admin.update_contact_point(session, root, NOW, fallback["contact_point"], {"active": False}),
            "active")


def test_a_district_committee_needs_its_district(session, root):
    refused(lambda: admin.create_contact_point(session, root, NOW, new_contact_point(kind="district")),
            "district_code")


def test_a_hospital_ward_must_lie_in_its_district_and_its_place_on_earth(session, root):
    values = {"code": "BV_MOI", "name": "Bệnh viện Mới", "kind": "private_general_hospital",
              "district_code": "724", "ward_code": "25747", "address": "", "lat": 95.0, "lon": 106.7,
              "emergency": True, "specialties": ["general"], "available": True, "desk_phone": None, "active": True}

    error = refused(lambda: admin.create_hospital(session, root, NOW, values), "ward_code", "lat")

    assert error.fields["ward_code"] == "ward '25747' is in district '718', not '724'"
    session.rollback()
    assert session.scalar(select(Hospital).where(Hospital.code == "BV_MOI")) is None


def test_a_hospital_deactivation_is_audited_as_deactivate(session, root):
    admin.update_hospital(session, root, NOW, "BVDK_TINH", {"active": False, "desk_phone": "0274 3822 222"})
    session.commit()

    [entry] = audit_rows(session)
    assert entry.action == "deactivate"
    assert (entry.before["active"], entry.after["active"], entry.after["desk_phone"]) == (True, False, "+842743822222")


def test_category_keywords_are_cleaned_and_a_default_contact_point_must_exist(session, root):
    row, _ = admin.update_category(session, root, NOW, "dien", {"keywords": ["cúp điện", " cúp điện ", "chập điện"]})
    assert row.keywords == ["cúp điện", "chập điện"]

    refused(lambda: admin.update_category(session, root, NOW, "dien", {"default_contact_point": "KHONG_CO"}),
            "default_contact_point")
    refused(lambda: admin.update_category(session, root, NOW, "dien", {"code": "dien2"}), "code")


# ---- routing rules --------------------------------------------------------------------------

def test_a_rule_naming_unknown_codes_is_refused_field_by_field(session, root):
    rules = count(session, RoutingRule)

    refused(lambda: admin.create_rule(session, root, NOW, {"priority": 10, "category": "khong_co",
                                                           "district_code": "999", "ward_code": "1",
                                                           "contact_point": "NOWHERE", "note": ""}),
            "category", "district_code", "ward_code", "contact_point")
    refused(lambda: admin.create_rule(session, root, NOW, {"priority": -1, "contact_point": "SO_TNMT"}), "priority")

    session.rollback()
    assert count(session, RoutingRule) == rules and audit_rows(session) == []


def test_rules_are_listed_in_the_order_routing_tries_them(session, root):
    rules = admin.list_rules(session, root)

    assert [r["rank"] for r in rules] == list(range(1, len(rules) + 1))
    priorities = [r["priority"] for r in rules]
    assert priorities == sorted(priorities)
    assert rules[-1]["fallback"] and rules[-1]["contact_point"] == "VP_UBND"


def test_the_last_fallback_rule_can_be_neither_deleted_nor_given_a_condition(session, root):
    fallback = next(r for r in admin.list_rules(session, root) if r["fallback"])

    refused(lambda: admin.delete_rule(session, root, NOW, fallback["id"]), "rule")
    refused(lambda: admin.update_rule(session, root, NOW, fallback["id"], {"category": "dien"}), "category")
    session.rollback()
    assert session.get(RoutingRule, fallback["id"]) is not None


def test_a_rule_edit_and_delete_are_audited(session, root):
    rule, _ = admin.create_rule(session, root, NOW, {"priority": 5, "category": "dien", "ward_code": "25747",
                                                     "contact_point": "DIENLUC_BD", "note": "thử"})
    admin.update_rule(session, root, NOW, rule.id, {"priority": 6})
    admin.delete_rule(session, root, NOW, rule.id)
    session.commit()

    entries = audit_rows(session)
    assert [(e.action, e.entity_key) for e in entries] == [(a, str(rule.id)) for a in ("create", "update", "delete")]
    assert (entries[1].before["priority"], entries[1].after["priority"]) == (5, 6)
    assert entries[2].after is None and entries[2].before["contact_point"] == "DIENLUC_BD"


def test_a_reorder_must_name_every_rule_once(session, root):
    ids = [r.id for r in session.scalars(select(RoutingRule).order_by(RoutingRule.position))]

    refused(lambda: admin.reorder_rules(session, root, NOW, ids[:-1]), "ids")
    refused(lambda: admin.reorder_rules(session, root, NOW, ids + ids[:1]), "ids")
    admin.reorder_rules(session, root, NOW, list(reversed(ids)))

    assert [r.id for r in session.scalars(select(RoutingRule).order_by(RoutingRule.position))] == ids[::-1]


# ---- SLA policies ---------------------------------------------------------------------------

def test_an_invalid_sla_policy_names_every_field_and_changes_nothing(session, root):
    policies = count(session, SlaPolicy)

    refused(lambda: admin.create_policy(session, root, NOW, {
        "line": "115", "category": "khong_co", "priority": "urgent", "contact_point": "*", "clock": "first_response",
        "target": "4 giờ", "hours": "business", "warning_share": 1.5, "name": ""}),
        "category", "priority", "clock", "target", "warning_share")
    refused(lambda: admin.create_policy(session, root, NOW, {  # the same promise as a row of the file
        "line": "1022", "category": "*", "priority": "*", "contact_point": "*", "clock": "first_response",
        "target": "2h", "hours": "business", "warning_share": 0.75, "name": ""}), "clock")

    session.rollback()
    assert count(session, SlaPolicy) == policies and audit_rows(session) == []


def test_an_sla_policy_target_is_written_as_in_the_file_and_its_changes_are_audited(session, root):
    policy, _ = admin.create_policy(session, root, NOW, {
        "line": "1022", "category": "dien", "priority": "*", "contact_point": "*", "clock": "resolution",
        "target": "90m", "hours": "always", "warning_share": 0.5, "name": "Điện: 90 phút"})
    admin.update_policy(session, root, NOW, policy.id, {"target": "2h"})
    admin.delete_policy(session, root, NOW, policy.id)
    session.commit()

    create, change, removal = audit_rows(session)
    assert create.after["target"] == "90m" and create.after["target_seconds"] == 5400
    assert (change.before["target"], change.after["target"]) == ("90m", "2h")
    assert removal.action == "delete" and removal.after is None


# ---- the audit log ----------------------------------------------------------------------------

def test_the_audit_log_filters_by_entity_actor_and_time_and_pages_newest_first(session, root):
    other = make_user(session, "admin", username="root2")
    admin.update_contact_point(session, root, NOW, "SO_TNMT", {"email": "a@binhduong.gov.vn"})
    admin.update_contact_point(session, root, NOW + timedelta(days=1), "SO_TNMT", {"email": "b@binhduong.gov.vn"})
    admin.update_hospital(session, other, NOW + timedelta(days=2), "BVDK_TINH", {"available": False})
    session.commit()

    assert [e.entity for e in list_changes(session).items] == ["hospital", "contact_point", "contact_point"]
    assert list_changes(session, entity="contact_point").total == 2
    assert [e.actor_label for e in list_changes(session, actor_id=other.id).items] == ["root2"]
    assert list_changes(session, since=NOW + timedelta(hours=12), until=NOW + timedelta(days=1, hours=1)).total == 1
    page = list_changes(session, page=2, per_page=2)
    assert (page.total, len(page.items), page.items[0].after["email"]) == (3, 1, "a@binhduong.gov.vn")


# ---- canned responses -----------------------------------------------------------------------

def test_canned_response_changes_go_through_their_own_checks_and_are_audited(session, root):
    refused(lambda: admin.save_canned(session, root, NOW, {"category": "dien", "title": "", "body": "{x}"}),
            "title", "body")

    row, _ = admin.save_canned(session, root, NOW, {"category": "dien", "title": "Đã báo điện lực",
                                                    "body": "Phiếu {code} đã chuyển Điện lực.", "position": 1})
    admin.save_canned(session, root, NOW, {"active": False}, row.id)
    session.commit()

    created, retired = audit_rows(session)
    assert (created.action, retired.action) == ("create", "deactivate")
    assert retired.after["title"] == "Đã báo điện lực" and retired.after["active"] is False
