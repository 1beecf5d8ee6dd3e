"""The administration API, for administrators only: accounts, the audit log, reference lists.

Every endpoint calls a service of ``tickets.admin`` (which refuses anyone but an
administrator with 403), commits with the audit row and the configuration version bump,
and publishes ``config.changed``. The directory, rules and policies are in ``admin_directory``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app

from app.api.admin_schemas import (
    AdminAuditOut,
    AdminAuditPageOut,
    AdminAuditQuery,
    AdminPasswordBody,
    AdminReferenceOut,
    AdminUserCreate,
    AdminUserList,
    AdminUserOut,
    AdminUserUpdate,
)
from app.api.endpoint import endpoint
from app.database import db
from app.publisher import commit_and_publish
from app.timefmt import local
from tickets import admin
from tickets.accounts import User
from tickets.audit import list_changes
from tickets.db import utcnow

bp = Blueprint("api_admin", __name__, url_prefix="/api/admin")
TAG = "admin"


def user_out(user: User) -> AdminUserOut:
    return AdminUserOut(**admin.user_record(user), on_duty=bool(user.on_duty), created_at=local(user.created_at))


@endpoint(bp, "/users", summary="Every account (no password hashes)", tag=TAG, response=AdminUserList)
def list_users(actor):
    return AdminUserList(items=[user_out(u) for u in admin.list_users(db.session, actor)])


@endpoint(bp, "/users", "POST", summary="Create an account", tag=TAG, body=AdminUserCreate, response=AdminUserOut,
          status=201)
def create_user(actor, body: AdminUserCreate):
    user, events = admin.create_user(db.session, actor, utcnow(), **body.model_dump())
    commit_and_publish(db.session, events)
    return user_out(user)


@endpoint(bp, "/users/<int:user_id>", "PATCH",
          summary="Change an account's role, contact point, hospital, display name, active flag, lead flag or "
                  "alert mobile",
          tag=TAG, body=AdminUserUpdate, response=AdminUserOut)
def update_user(actor, user_id: int, body: AdminUserUpdate):
    user, events = admin.update_user(db.session, actor, utcnow(), user_id, body.model_dump(exclude_unset=True))
    commit_and_publish(db.session, events)
    return user_out(user)


@endpoint(bp, "/users/<int:user_id>/password", "POST",
          summary="Set a new password (the account's API tokens stop working)", tag=TAG,
          body=AdminPasswordBody, response=AdminUserOut)
def reset_password(actor, user_id: int, body: AdminPasswordBody):
    user, events = admin.reset_password(db.session, actor, utcnow(), user_id, body.password)
    commit_and_publish(db.session, events)
    return user_out(user)


def _day_start(day, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


@endpoint(bp, "/audit", summary="The audit log of administration, newest first", tag=TAG,
          query=AdminAuditQuery, response=AdminAuditPageOut)
def audit(actor, query: AdminAuditQuery):
    admin.require_admin(actor)
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    found = list_changes(db.session, entity=query.entity, key=query.key, actor_id=query.actor,
                         since=_day_start(query.from_, zone) if query.from_ else None,
                         until=_day_start(query.to + timedelta(days=1), zone) if query.to else None,
                         page=query.page, per_page=query.per_page)
    return AdminAuditPageOut(items=[AdminAuditOut(id=e.id, at=local(e.at), actor_id=e.actor_id, actor=e.actor_label,
                                        entity=e.entity, key=e.entity_key, action=e.action, before=e.before,
                                        after=e.after) for e in found.items],
                        total=found.total, page=found.page, per_page=found.per_page)


@endpoint(bp, "/reference", summary="Codes and names the administration forms choose from", tag=TAG,
          response=AdminReferenceOut)
def reference(actor):
    return AdminReferenceOut(**admin.reference(db.session, actor))
