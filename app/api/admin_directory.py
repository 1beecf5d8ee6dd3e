"""The administration API for the directory, routing rules, SLA policies and canned responses.

Changes are held to the same rules as the CSV files ``init`` loads, recorded in the audit
log and, through the configuration version, used by the very next routing decision in
every process.
"""

from __future__ import annotations

from flask import Blueprint

from app.api.admin_schemas import (
    AdminCannedCreate,
    AdminCannedFields,
    AdminCannedList,
    AdminCannedOut,
    AdminCategoryCreate,
    AdminCategoryFields,
    AdminCategoryList,
    AdminCategoryOut,
    AdminContactPointCreate,
    AdminContactPointFields,
    AdminContactPointList,
    AdminContactPointOut,
    AdminHospitalCreate,
    AdminHospitalFields,
    AdminHospitalList,
    AdminHospitalOut,
    AdminPolicyCreate,
    AdminPolicyFields,
    AdminPolicyList,
    AdminPolicyOut,
    AdminRuleCreate,
    AdminRuleFields,
    AdminRuleList,
    AdminRuleOrder,
    AdminRuleOut,
)
from app.api.endpoint import endpoint
from app.database import db
from app.publisher import commit_and_publish
from tickets import admin
from tickets.db import utcnow

bp = Blueprint("api_admin_directory", __name__, url_prefix="/api/admin")
TAG = "admin"


def _done(events: list) -> None:
    commit_and_publish(db.session, events)


# ---- contact points ---------------------------------------------------------------------------

@endpoint(bp, "/contact-points", summary="Every contact point, active or not", tag=TAG,
          response=AdminContactPointList)
def list_contact_points(actor):
    return AdminContactPointList(items=[admin.contact_point_record(c)
                                   for c in admin.list_contact_points(db.session, actor)])


@endpoint(bp, "/contact-points", "POST", summary="Add a contact point", tag=TAG, body=AdminContactPointCreate,
          response=AdminContactPointOut, status=201)
def create_contact_point(actor, body: AdminContactPointCreate):
    row, events = admin.create_contact_point(db.session, actor, utcnow(), body.model_dump())
    _done(events)
    return AdminContactPointOut(**admin.contact_point_record(row))


@endpoint(bp, "/contact-points/<code>", "PATCH", summary="Change or deactivate a contact point", tag=TAG,
          body=AdminContactPointFields, response=AdminContactPointOut)
def update_contact_point(actor, code: str, body: AdminContactPointFields):
    row, events = admin.update_contact_point(db.session, actor, utcnow(), code, body.model_dump(exclude_unset=True))
    _done(events)
    return AdminContactPointOut(**admin.contact_point_record(row))


# ---- hospitals --------------------------------------------------------------------------------

@endpoint(bp, "/hospitals", summary="Every hospital, active or not", tag=TAG, response=AdminHospitalList)
def list_hospitals(actor):
    return AdminHospitalList(items=[admin.hospital_record(h) for h in admin.list_hospitals(db.session, actor)])


@endpoint(bp, "/hospitals", "POST", summary="Add a hospital", tag=TAG, body=AdminHospitalCreate,
          response=AdminHospitalOut, status=201)
def create_hospital(actor, body: AdminHospitalCreate):
    row, events = admin.create_hospital(db.session, actor, utcnow(), body.model_dump())
    _done(events)
    return AdminHospitalOut(**admin.hospital_record(row))


@endpoint(bp, "/hospitals/<code>", "PATCH", summary="Change or deactivate a hospital", tag=TAG,
          body=AdminHospitalFields, response=AdminHospitalOut)
def update_hospital(actor, code: str, body: AdminHospitalFields):
    row, events = admin.update_hospital(db.session, actor, utcnow(), code, body.model_dump(exclude_unset=True))
    _done(events)
    return AdminHospitalOut(**admin.hospital_record(row))


# ---- categories -------------------------------------------------------------------------------

@endpoint(bp, "/categories", summary="Every category with its keywords", tag=TAG, response=AdminCategoryList)
def list_categories(actor):
    return AdminCategoryList(items=[admin.category_record(c) for c in admin.list_categories(db.session, actor)])


@endpoint(bp, "/categories", "POST", summary="Add a category", tag=TAG, body=AdminCategoryCreate,
          response=AdminCategoryOut, status=201)
def create_category(actor, body: AdminCategoryCreate):
    row, events = admin.create_category(db.session, actor, utcnow(), body.model_dump())
    _done(events)
    return AdminCategoryOut(**admin.category_record(row))


@endpoint(bp, "/categories/<code>", "PATCH", summary="Change a category's names, keywords or defaults",
          tag=TAG, body=AdminCategoryFields, response=AdminCategoryOut)
def update_category(actor, code: str, body: AdminCategoryFields):
    row, events = admin.update_category(db.session, actor, utcnow(), code, body.model_dump(exclude_unset=True))
    _done(events)
    return AdminCategoryOut(**admin.category_record(row))


# ---- routing rules ----------------------------------------------------------------------------

def _rules(actor) -> AdminRuleList:
    return AdminRuleList(items=admin.list_rules(db.session, actor))


def _rule_out(actor, rule_id: int) -> AdminRuleOut:
    return next(AdminRuleOut(**r) for r in admin.list_rules(db.session, actor) if r["id"] == rule_id)


@endpoint(bp, "/routing-rules", summary="The routing rules in the order they are tried", tag=TAG,
          response=AdminRuleList)
def list_rules(actor):
    return _rules(actor)


@endpoint(bp, "/routing-rules", "POST", summary="Add a routing rule", tag=TAG, body=AdminRuleCreate,
          response=AdminRuleOut, status=201)
def create_rule(actor, body: AdminRuleCreate):
    rule, events = admin.create_rule(db.session, actor, utcnow(), body.model_dump())
    _done(events)
    return _rule_out(actor, rule.id)


@endpoint(bp, "/routing-rules/<int:rule_id>", "PATCH", summary="Change a routing rule", tag=TAG,
          body=AdminRuleFields, response=AdminRuleOut)
def update_rule(actor, rule_id: int, body: AdminRuleFields):
    rule, events = admin.update_rule(db.session, actor, utcnow(), rule_id, body.model_dump(exclude_unset=True))
    _done(events)
    return _rule_out(actor, rule.id)


@endpoint(bp, "/routing-rules/<int:rule_id>", "DELETE", summary="Delete a routing rule (not the last fallback)",
          tag=TAG, status=204)
def delete_rule(actor, rule_id: int):
    _done(admin.delete_rule(db.session, actor, utcnow(), rule_id))
    return "", 204


@endpoint(bp, "/routing-rules/order", "POST",
          summary="Reorder the rules (position breaks ties of priority and specificity)", tag=TAG,
          body=AdminRuleOrder, response=AdminRuleList)
def reorder_rules(actor, body: AdminRuleOrder):
    _done(admin.reorder_rules(db.session, actor, utcnow(), body.ids))
    return _rules(actor)


# ---- SLA policies -----------------------------------------------------------------------------

@endpoint(bp, "/sla-policies", summary="The SLA policies", tag=TAG, response=AdminPolicyList)
def list_policies(actor):
    return AdminPolicyList(items=[admin.policy_record(p) for p in admin.list_policies(db.session, actor)])


@endpoint(bp, "/sla-policies", "POST", summary="Add an SLA policy", tag=TAG, body=AdminPolicyCreate,
          response=AdminPolicyOut, status=201)
def create_policy(actor, body: AdminPolicyCreate):
    policy, events = admin.create_policy(db.session, actor, utcnow(), body.model_dump())
    _done(events)
    return AdminPolicyOut(**admin.policy_record(policy))


@endpoint(bp, "/sla-policies/<int:policy_id>", "PATCH",
          summary="Change an SLA policy (running clocks keep their due times)", tag=TAG,
          body=AdminPolicyFields, response=AdminPolicyOut)
def update_policy(actor, policy_id: int, body: AdminPolicyFields):
    policy, events = admin.update_policy(db.session, actor, utcnow(), policy_id,
                                         body.model_dump(exclude_unset=True))
    _done(events)
    return AdminPolicyOut(**admin.policy_record(policy))


@endpoint(bp, "/sla-policies/<int:policy_id>", "DELETE", summary="Delete an SLA policy", tag=TAG, status=204)
def delete_policy(actor, policy_id: int):
    _done(admin.delete_policy(db.session, actor, utcnow(), policy_id))
    return "", 204


# ---- canned responses -------------------------------------------------------------------------

@endpoint(bp, "/canned-responses", summary="Every canned response, retired ones too", tag=TAG,
          response=AdminCannedList)
def list_canned(actor):
    return AdminCannedList(items=[admin.canned_record(c) for c in admin.list_canned(db.session, actor)])


@endpoint(bp, "/canned-responses", "POST", summary="Add a canned response", tag=TAG, body=AdminCannedCreate,
          response=AdminCannedOut, status=201)
def create_canned(actor, body: AdminCannedCreate):
    row, events = admin.save_canned(db.session, actor, utcnow(), body.model_dump())
    _done(events)
    return AdminCannedOut(**admin.canned_record(row))


@endpoint(bp, "/canned-responses/<int:canned_id>", "PATCH", summary="Change or retire a canned response",
          tag=TAG, body=AdminCannedFields, response=AdminCannedOut)
def update_canned(actor, canned_id: int, body: AdminCannedFields):
    row, events = admin.save_canned(db.session, actor, utcnow(), body.model_dump(exclude_unset=True), canned_id)
    _done(events)
    return AdminCannedOut(**admin.canned_record(row))
