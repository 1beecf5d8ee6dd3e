"""Administration services: accounts, the directory, routing rules, SLA policies, canned responses.

Each service checks that the actor is an administrator, validates the whole record (with the
rules the CSV files are held to, from ``tickets.directory_import``, ``routing.rules`` and
``tickets.sla_policies``) and refuses with every bad field named before writing anything,
applies the change, and records it with ``tickets.audit.record_change`` in the same
transaction — which also bumps the configuration version every cache follows. Services
flush and return ``(record, events)``; the web layer commits and publishes the events.
A change that changes nothing writes nothing and returns no event.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from routing.rules import ANY as RULE_ANY
from routing.rules import CALLER_DISTRICT, parse_rules
from tickets.accounts import MIN_PASSWORD_LENGTH, ApiToken, Role, User, save_user, set_password
from tickets.audit import ConfigChanged, record_change
from tickets.directory import Category, ContactPoint, District, Hospital, Ward
from tickets.directory_import import check_record
from tickets.errors import Forbidden, NotFound, ValidationFailed
from tickets.lifecycle import LINES, PRIORITIES
from tickets.phones import is_mobile, normalise_phone
from tickets.routing_store import RoutingRule
from tickets.sla import ANY, CLOCKS, SlaClock, SlaPolicy
from tickets.sla_policies import parse_target

Events = list[ConfigChanged]
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,79}")
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Which clocks each line runs (tickets.sla: 115 uses acknowledgement where 1022 uses first response).
LINE_CLOCKS = {"1022": ("first_response", "resolution"), "115": ("acknowledgement", "resolution")}
# A lead is the lead of something: of a contact point (staff) or of a hospital (tickets.escalation).
LEAD_ROLES = (Role.STAFF, Role.HOSPITAL)


def require_admin(actor: Any) -> None:
    """Only administrators administer (CONTRACT.md: the directory, accounts and API keys)."""
    if getattr(actor, "role", None) != Role.ADMIN:
        raise Forbidden("Only administrators may do this")


def _text(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value or "").strip())


def _items(values: Iterable[Any] | None) -> list[str]:
    seen: list[str] = []
    for value in values or ():
        item = _text(value)
        if item and item not in seen:
            seen.append(item)
    return seen


def _refuse(problems: dict[str, str], what: str) -> None:
    if problems:
        raise ValidationFailed(f"The {what} is not valid: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                               problems)


def _changed(session: Session, actor: Any, entity: str, key: Any, before: dict | None, after: dict | None,
             now: datetime, action: str | None = None) -> Events:
    """Record the change (if anything changed): deactivate when ``active`` went off."""
    if before == after:
        return []
    if action is None:
        action = "create" if before is None else (
            "deactivate" if before.get("active") and after is not None and after.get("active") is False
            else "update")
    return [record_change(session, actor, entity, str(key), action, before, after, now)]


# ---- representations: the API's output and the audit log's before/after -----------------------

def user_record(user: User) -> dict[str, Any]:
    """An account without its secrets."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "contact_point": user.contact_point.code if user.contact_point else None,
            "hospital": user.hospital.code if user.hospital else None, "active": bool(user.active),
            "is_lead": bool(user.is_lead), "phone": user.phone}


def contact_point_record(cp: ContactPoint) -> dict[str, Any]:
    return {"code": cp.code, "name_vi": cp.name_vi, "name_en": cp.name_en, "kind": cp.kind,
            "district_code": cp.district_code, "categories": list(cp.category_codes or []),
            "aliases": list(cp.aliases or []), "phone": cp.phone, "email": cp.email, "active": bool(cp.active)}


def hospital_record(h: Hospital) -> dict[str, Any]:
    return {"code": h.code, "name": h.name, "kind": h.kind, "district_code": h.district_code,
            "ward_code": h.ward_code, "address": h.address or "", "lat": h.lat, "lon": h.lon,
            "emergency": bool(h.emergency), "specialties": list(h.specialties or []),
            "available": bool(h.available), "desk_phone": h.desk_phone, "sms_phone": h.sms_phone,
            "active": bool(h.active)}


def category_record(c: Category) -> dict[str, Any]:
    return {"code": c.code, "name_vi": c.name_vi, "name_en": c.name_en, "keywords": list(c.keywords or []),
            "default_contact_point": c.default_contact_point_code, "district_level": bool(c.district_level)}


def rule_record(r: RoutingRule) -> dict[str, Any]:
    return {"id": r.id, "position": r.position, "priority": r.priority, "category": r.category,
            "district_code": r.district_code, "ward_code": r.ward_code, "contact_point": r.contact_point,
            "note": r.note}


def format_target(seconds: int) -> str:
    """"4h", "30m", "90s": the CSV's way of writing a target."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def policy_record(p: SlaPolicy) -> dict[str, Any]:
    return {"id": p.id, "position": p.position, "line": p.line, "category": p.category, "priority": p.priority,
            "contact_point": p.contact_point, "clock": p.clock, "target": format_target(p.target_seconds),
            "target_seconds": p.target_seconds, "hours": "business" if p.business_hours else "always",
            "warning_share": p.warning_share, "name": p.name}


def canned_record(c: Any) -> dict[str, Any]:
    return {"id": c.id, "category": c.category_code, "title": c.title, "body": c.body,
            "active": bool(c.active), "position": c.position}


# ---- accounts -------------------------------------------------------------------------------

def list_users(session: Session, actor: Any) -> list[User]:
    """Every account, active or not, by username."""
    require_admin(actor)
    return list(session.scalars(select(User).order_by(User.username)))


def _user_links(session: Session, role: str, contact_point: str | None, hospital: str | None,
                problems: dict[str, str]) -> tuple[ContactPoint | None, Hospital | None]:
    cp = h = None
    if role not in Role.__members__.values():
        problems["role"] = f"must be one of {', '.join(Role)}"
        return None, None
    if role == Role.STAFF:
        cp = session.scalar(select(ContactPoint).where(ContactPoint.code == contact_point)) if contact_point else None
        if cp is None:
            problems["contact_point"] = "department staff need an existing contact point"
        elif not cp.active:
            problems["contact_point"] = f"{cp.code} is deactivated"
    elif contact_point:
        problems["contact_point"] = "only department staff belong to a contact point"
    if role == Role.HOSPITAL:
        h = session.scalar(select(Hospital).where(Hospital.code == hospital)) if hospital else None
        if h is None:
            problems["hospital"] = "hospital users need an existing hospital"
        elif not h.active:
            problems["hospital"] = f"{h.code} is deactivated"
    elif hospital:
        problems["hospital"] = "only hospital users belong to a hospital"
    return cp, h


def _check_lead(role: str, is_lead: bool, problems: dict[str, str]) -> None:
    if is_lead and role not in LEAD_ROLES:
        problems["is_lead"] = "only department staff and hospital users can be leads"


def create_user(session: Session, actor: Any, now: datetime, *, username: str, role: str, password: str,
                display_name: str = "", contact_point: str | None = None, hospital: str | None = None,
                is_lead: bool = False, phone: str | None = None) -> tuple[User, Events]:
    """A new account; the username must be new (``save_user`` would update an existing one).

    ``is_lead`` (staff and hospital users only) and ``phone`` (a mobile) are for SLA escalation.
    """
    require_admin(actor)
    username, display_name = _text(username), _text(display_name)
    problems: dict[str, str] = {}
    if not username:
        problems["username"] = "must not be empty"
    elif not USERNAME.fullmatch(username):
        problems["username"] = "2–80 letters, digits, '.', '_' or '-', starting with a letter or digit"
    elif session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        problems["username"] = "already taken"
    if len(display_name) > 200:
        problems["display_name"] = "longer than 200 characters"
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems["password"] = f"at least {MIN_PASSWORD_LENGTH} characters"
    _user_links(session, role, _text(contact_point) or None, _text(hospital) or None, problems)
    _check_lead(role, bool(is_lead), problems)
    number = _mobile(phone, "phone", problems)
    _refuse(problems, "account")
    user = save_user(session, username, role=role, password=password, contact_point=_text(contact_point) or None,
                     hospital=_text(hospital) or None, display_name=display_name, lead=bool(is_lead),
                     phone=number or "")
    return user, _changed(session, actor, "user", user.username, None, user_record(user), now)


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Account not found")
    return user


def _revoke_tokens(session: Session, user: User) -> None:
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


_NOT_NULL = ("role", "display_name", "active", "is_lead")


def update_user(session: Session, actor: Any, now: datetime, user_id: int,
                changes: dict[str, Any]) -> tuple[User, Events]:
    """Change an account's role, contact point, hospital, display name, active flag, lead flag or
    alert mobile.

    An administrator cannot deactivate their own account or give up their own role: the
    province would be left with nobody able to undo it. Deactivating signs the account out
    of the API (its tokens are revoked) and takes it off duty. A role that leads nothing
    (neither staff nor hospital) drops the lead flag; ``phone`` None or "" removes the number.
    """
    require_admin(actor)
    user = _get_user(session, user_id)
    before = user_record(user)
    # null for a field that cannot be empty means "leave it": never "deactivate" or "no role".
    changes = {k: v for k, v in changes.items() if v is not None or k not in _NOT_NULL}
    merged = {**before, **changes}
    problems: dict[str, str] = {}
    if unknown := set(changes) - {"role", "contact_point", "hospital", "display_name", "active", "is_lead", "phone"}:
        problems.update({name: "cannot be changed here" for name in unknown})
    # A new role that has no contact point (hospital) drops the old one unless one is given.
    if merged["role"] != Role.STAFF and "contact_point" not in changes:
        merged["contact_point"] = None
    if merged["role"] != Role.HOSPITAL and "hospital" not in changes:
        merged["hospital"] = None
    if changes.get("is_lead") is None:  # left out (or null): as it was, unless the new role leads nothing
        merged["is_lead"] = before["is_lead"] and merged["role"] in LEAD_ROLES
    _check_lead(merged["role"], bool(merged["is_lead"]), problems)
    phone = _mobile(changes["phone"], "phone", problems) if "phone" in changes else before["phone"]
    display_name = _text(merged["display_name"])
    if len(display_name) > 200:
        problems["display_name"] = "longer than 200 characters"
    if user.id == getattr(actor, "id", None):
        if merged["active"] is False:
            problems["active"] = "you cannot deactivate your own account"
        if merged["role"] != Role.ADMIN:
            problems["role"] = "you cannot take the administrator role from yourself"
    cp, h = _user_links(session, merged["role"], _text(merged["contact_point"]) or None,
                        _text(merged["hospital"]) or None, problems)
    _refuse(problems, "account")
    user.role, user.contact_point, user.hospital = merged["role"], cp, h
    user.display_name, user.active = display_name, bool(merged["active"])
    user.is_lead, user.phone = bool(merged["is_lead"]), phone
    if not user.active:
        user.on_duty = False
        _revoke_tokens(session, user)
    session.flush()
    return user, _changed(session, actor, "user", user.username, before, user_record(user), now)


def reset_password(session: Session, actor: Any, now: datetime, user_id: int, password: str) -> tuple[User, Events]:
    """Set a new password; the account's API tokens stop working. The log says it happened,
    never what the password or its hash is."""
    require_admin(actor)
    user = _get_user(session, user_id)
    set_password(user, password or "")
    _revoke_tokens(session, user)
    session.flush()
    return user, [record_change(session, actor, "user", user.username, "update", {"password_reset": False},
                                {"password_reset": True}, now)]


# ---- contact points, hospitals and categories (held to the CSV files' rules) ----------------

def _directory_row(session: Session, table: str, values: dict[str, Any], fields: dict[str, str],
                   problems: dict[str, str]) -> dict[str, Any]:
    """``values`` by API field checked as a row of ``table``'s CSV file; problems by API field."""
    attributes = {fields.get(name, name): value for name, value in values.items()}
    parsed, found = check_record(session, table, attributes)
    by_attribute = {attribute: name for name, attribute in fields.items()}
    for attribute, problem in found.items():
        problems.setdefault(by_attribute.get(attribute, attribute), problem)
    return parsed


def _new_code(session: Session, model: type, code: str, problems: dict[str, str]) -> None:
    if not code:
        problems["code"] = "must not be empty"
    elif not CODE.fullmatch(code):
        problems["code"] = "letters, digits, '_', '.' or '-' only"
    elif session.scalar(select(model.code).where(func.lower(model.code) == code.lower())) is not None:
        problems["code"] = "already exists"


def _phone(value: Any, field: str, problems: dict[str, str]) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        return normalise_phone(text, field)
    except ValidationFailed as exc:
        problems.update(exc.fields)
        return None


def _mobile(value: Any, field: str, problems: dict[str, str]) -> str | None:
    """Like ``_phone``, for a number that gets SMS: a landline is refused (a text cannot reach it)."""
    number = _phone(value, field, problems)
    if number and not is_mobile(number):
        problems[field] = "not a mobile number: an SMS cannot reach it"
        return None
    return number


_CP_FIELDS = {"categories": "category_codes"}
_CP_EDITABLE = ("name_vi", "name_en", "kind", "district_code", "categories", "aliases", "phone", "email", "active")


def list_contact_points(session: Session, actor: Any) -> list[ContactPoint]:
    """Every contact point, active or not, by code."""
    require_admin(actor)
    return list(session.scalars(select(ContactPoint).order_by(ContactPoint.code)))


def _save_contact_point(session: Session, actor: Any, now: datetime, row: ContactPoint | None,
                        values: dict[str, Any]) -> tuple[ContactPoint, Events]:
    problems: dict[str, str] = {}
    if row is None:
        _new_code(session, ContactPoint, _text(values.get("code")), problems)
    values = {**values, "categories": _items(values.get("categories")), "aliases": _items(values.get("aliases"))}
    parsed = _directory_row(session, "contact_points", {k: v for k, v in values.items()
                                                        if k not in ("phone", "email", "active")},
                            _CP_FIELDS, problems)
    phone = _phone(values.get("phone"), "phone", problems)
    email = _text(values.get("email")) or None
    if email and (len(email) > 200 or not EMAIL.fullmatch(email)):
        problems["email"] = "not an e-mail address"
    if "kind" not in problems and parsed.get("kind") == "district" and not parsed.get("district_code"):
        problems["district_code"] = "a district People's Committee needs its district"
    if row is not None and row.active and values.get("active") is False:
        _check_not_last_fallback(session, row.code, problems)
    _refuse(problems, "contact point")
    before = contact_point_record(row) if row is not None else None
    if row is None:
        row = ContactPoint()
        session.add(row)
    for attribute, value in parsed.items():
        if before is None or attribute != "code":
            setattr(row, attribute, value)
    row.phone, row.email, row.active = phone, email, bool(values.get("active", True))
    session.flush()
    return row, _changed(session, actor, "contact_point", row.code, before, contact_point_record(row), now)


def _check_not_last_fallback(session: Session, code: str, problems: dict[str, str]) -> None:
    # Requests nothing else matches go to the fallback rule's contact point: switching off the
    # only one would leave them with nowhere to go.
    rules = parse_rules(_rule_rows(session))
    fallbacks = [r.contact_point for r in rules if r.is_fallback]
    active = set(session.scalars(select(ContactPoint.code).where(ContactPoint.active, ContactPoint.code != code)))
    if code in fallbacks and not any(cp in active for cp in fallbacks):
        problems["active"] = "the fallback routing rule sends requests here; point it elsewhere first"


def create_contact_point(session: Session, actor: Any, now: datetime, values: dict[str, Any]):
    """A new 1022 destination."""
    require_admin(actor)
    return _save_contact_point(session, actor, now, None, values)


def update_contact_point(session: Session, actor: Any, now: datetime, code: str, changes: dict[str, Any]):
    """Change a contact point (its code stays: rules, users and tickets refer to it)."""
    require_admin(actor)
    row = session.scalar(select(ContactPoint).where(ContactPoint.code == code))
    if row is None:
        raise NotFound("Contact point not found")
    _only(changes, _CP_EDITABLE)
    return _save_contact_point(session, actor, now, row, {**contact_point_record(row), **changes})


def _only(changes: dict[str, Any], editable: Iterable[str]) -> None:
    if unknown := set(changes) - set(editable):
        raise ValidationFailed("Some fields cannot be changed", {name: "cannot be changed" for name in unknown})


_H_EDITABLE = ("name", "kind", "district_code", "ward_code", "address", "lat", "lon", "emergency", "specialties",
               "available", "desk_phone", "sms_phone", "active")


def list_hospitals(session: Session, actor: Any) -> list[Hospital]:
    """Every hospital, active or not, by code."""
    require_admin(actor)
    return list(session.scalars(select(Hospital).order_by(Hospital.code)))


def _save_hospital(session: Session, actor: Any, now: datetime, row: Hospital | None,
                   values: dict[str, Any]) -> tuple[Hospital, Events]:
    problems: dict[str, str] = {}
    if row is None:
        _new_code(session, Hospital, _text(values.get("code")), problems)
    values = {**values, "specialties": _items(values.get("specialties")), "address": _text(values.get("address"))}
    parsed = _directory_row(session, "hospitals", {k: v for k, v in values.items()
                                                   if k not in ("available", "desk_phone", "sms_phone", "active")},
                            {}, problems)
    for name, low, high in (("lat", -90, 90), ("lon", -180, 180)):
        if name not in problems and not low <= parsed.get(name, 0) <= high:
            problems[name] = f"must be between {low} and {high}"
    desk_phone = _phone(values.get("desk_phone"), "desk_phone", problems)
    sms_phone = _mobile(values.get("sms_phone"), "sms_phone", problems)
    _refuse(problems, "hospital")
    before = hospital_record(row) if row is not None else None
    if row is None:
        row = Hospital()
        session.add(row)
    for attribute, value in parsed.items():
        if before is None or attribute != "code":
            setattr(row, attribute, value)
    row.desk_phone, row.sms_phone = desk_phone, sms_phone
    row.available, row.active = bool(values.get("available", True)), bool(values.get("active", True))
    session.flush()
    return row, _changed(session, actor, "hospital", row.code, before, hospital_record(row), now)


def create_hospital(session: Session, actor: Any, now: datetime, values: dict[str, Any]):
    """A new 115 destination."""
    require_admin(actor)
    return _save_hospital(session, actor, now, None, values)


def update_hospital(session: Session, actor: Any, now: datetime, code: str, changes: dict[str, Any]):
    """Change a hospital: name, capabilities, availability, desk phone and SMS mobile, place."""
    require_admin(actor)
    row = session.scalar(select(Hospital).where(Hospital.code == code))
    if row is None:
        raise NotFound("Hospital not found")
    _only(changes, _H_EDITABLE)
    return _save_hospital(session, actor, now, row, {**hospital_record(row), **changes})


_CAT_FIELDS = {"default_contact_point": "default_contact_point_code"}
_CAT_EDITABLE = ("name_vi", "name_en", "keywords", "default_contact_point", "district_level")


def list_categories(session: Session, actor: Any) -> list[Category]:
    """Every category, by code."""
    require_admin(actor)
    return list(session.scalars(select(Category).order_by(Category.code)))


def _save_category(session: Session, actor: Any, now: datetime, row: Category | None,
                   values: dict[str, Any]) -> tuple[Category, Events]:
    problems: dict[str, str] = {}
    if row is None:
        _new_code(session, Category, _text(values.get("code")), problems)
    keywords = _items(values.get("keywords"))
    if any(len(k) > 100 for k in keywords):
        problems["keywords"] = "a keyword is longer than 100 characters"
    parsed = _directory_row(session, "categories", {**values, "keywords": keywords}, _CAT_FIELDS, problems)
    _refuse(problems, "category")
    before = category_record(row) if row is not None else None
    if row is None:
        row = Category()
        session.add(row)
    for attribute, value in parsed.items():
        if before is None or attribute != "code":
            setattr(row, attribute, value)
    session.flush()
    return row, _changed(session, actor, "category", row.code, before, category_record(row), now)


def create_category(session: Session, actor: Any, now: datetime, values: dict[str, Any]):
    """A new subject area. The classifier proposes it only after ``flask routing retrain``;
    operators can choose it, and rules can route it, at once."""
    require_admin(actor)
    return _save_category(session, actor, now, None, values)


def update_category(session: Session, actor: Any, now: datetime, code: str, changes: dict[str, Any]):
    """Change a category's names, keywords (used by the classifier at once), default contact
    point or district level."""
    require_admin(actor)
    row = session.get(Category, code)
    if row is None:
        raise NotFound("Category not found")
    _only(changes, _CAT_EDITABLE)
    return _save_category(session, actor, now, row, {**category_record(row), **changes})


# ---- routing rules ----------------------------------------------------------------------------

RULE_FIELDS = ("priority", "category", "district_code", "ward_code", "contact_point", "note")


def _rule_rows(session: Session, replace: dict[int, dict[str, Any] | None] | None = None,
               extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rules as ``parse_rules`` reads them, in position order, with edits applied."""
    rows = []
    for rule in session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)):
        row = rule_record(rule)
        if replace and rule.id in replace:
            row = replace[rule.id]
        if row is not None:
            rows.append(row)
    return rows + ([extra] if extra else [])


def list_rules(session: Session, actor: Any) -> list[dict[str, Any]]:
    """The rules in the order routing tries them, each with its ``rank`` (1 = tried first)."""
    require_admin(actor)
    rows = _rule_rows(session)
    # parse_rules numbers the rows it is given from 2 (after a header) and returns them in
    # precedence order: that order is the rank.
    return [{**rows[rule.row - 2], "rank": rank, "fallback": rule.is_fallback}
            for rank, rule in enumerate(parse_rules(rows), start=1)]


def _cond(value: Any) -> str:
    value = _text(value)
    return "" if value == RULE_ANY else value


def _check_rule(session: Session, values: dict[str, Any], problems: dict[str, str]) -> dict[str, Any]:
    row = {"priority": values.get("priority"), "note": _text(values.get("note")),
           "contact_point": _text(values.get("contact_point"))}
    for name in ("category", "district_code", "ward_code"):
        row[name] = _cond(values.get(name))
    priority = row["priority"]
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100_000:
        problems["priority"] = "a whole number from 0 to 100000 (lower is tried first)"
    _check_rule_conditions(session, row, problems)
    cp = row["contact_point"]
    if not cp:
        problems["contact_point"] = "must not be empty"
    elif cp != CALLER_DISTRICT and session.scalar(select(ContactPoint.code).where(ContactPoint.code == cp)) is None:
        problems["contact_point"] = f"{cp!r} is not a contact point (or {CALLER_DISTRICT})"
    if len(row["note"]) > 500:
        problems["note"] = "longer than 500 characters"
    return row


def _check_rule_conditions(session: Session, row: dict[str, Any], problems: dict[str, str]) -> None:
    if row["category"] and session.get(Category, row["category"]) is None:
        problems["category"] = f"{row['category']!r} is not a category"
    if row["district_code"] and session.get(District, row["district_code"]) is None:
        problems["district_code"] = f"{row['district_code']!r} is not a district"
    if row["ward_code"]:
        ward = session.get(Ward, row["ward_code"])
        if ward is None:
            problems["ward_code"] = f"{row['ward_code']!r} is not a ward"
        elif row["district_code"] and ward.district_code != row["district_code"]:
            problems["ward_code"] = f"ward {ward.code} is in district {ward.district_code}, not {row['district_code']}"


def _check_rule_set(rows: list[dict[str, Any]], problems: dict[str, str], field: str) -> None:
    try:
        rules = parse_rules(rows)  # the loader's own checks
    except ValueError as exc:
        problems.setdefault(field, str(exc))
        return
    if not any(rule.is_fallback for rule in rules):
        problems.setdefault(field, "at least one rule must have no conditions (the fallback)")


def create_rule(session: Session, actor: Any, now: datetime, values: dict[str, Any]) -> tuple[RoutingRule, Events]:
    """A new rule, placed after every existing rule (the last tie-break)."""
    require_admin(actor)
    problems: dict[str, str] = {}
    row = _check_rule(session, values, problems)
    _refuse(problems, "routing rule")
    last = session.scalar(select(func.max(RoutingRule.position))) or 1
    rule = RoutingRule(position=last + 1, **row)
    session.add(rule)
    session.flush()
    return rule, _changed(session, actor, "routing_rule", rule.id, None, rule_record(rule), now)


def _get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("Routing rule not found")
    return rule


def update_rule(session: Session, actor: Any, now: datetime, rule_id: int,
                changes: dict[str, Any]) -> tuple[RoutingRule, Events]:
    """Change a rule's conditions, destination, priority or note."""
    require_admin(actor)
    rule = _get_rule(session, rule_id)
    _only(changes, RULE_FIELDS)
    before = rule_record(rule)
    problems: dict[str, str] = {}
    row = _check_rule(session, {**before, **changes}, problems)
    if not problems:
        _check_rule_set(_rule_rows(session, replace={rule.id: row}), problems, "category")
    _refuse(problems, "routing rule")
    for name, value in row.items():
        if name in ("category", "district_code", "ward_code") and not value and not _cond(before[name]):
            continue  # "any" stays written as it was ("*" or empty)
        setattr(rule, name, value)
    session.flush()
    return rule, _changed(session, actor, "routing_rule", rule.id, before, rule_record(rule), now)


def delete_rule(session: Session, actor: Any, now: datetime, rule_id: int) -> Events:
    """Remove a rule; the last fallback rule cannot go."""
    require_admin(actor)
    rule = _get_rule(session, rule_id)
    problems: dict[str, str] = {}
    _check_rule_set(_rule_rows(session, replace={rule.id: None}), problems, "rule")
    _refuse(problems, "deletion")
    before = rule_record(rule)
    session.delete(rule)
    session.flush()
    return _changed(session, actor, "routing_rule", rule_id, before, None, now, action="delete")


def reorder_rules(session: Session, actor: Any, now: datetime, ids: list[int]) -> Events:
    """Set the rules' positions to the order of ``ids`` (every rule, once). Position decides
    between rules of equal priority and specificity."""
    require_admin(actor)
    rules = {r.id: r for r in session.scalars(select(RoutingRule))}
    if sorted(ids) != sorted(rules):
        raise ValidationFailed("The order must list every routing rule exactly once",
                               {"ids": f"expected the {len(rules)} rule ids, each once"})
    before = {"order": [r.id for r in sorted(rules.values(), key=lambda r: (r.position, r.id))]}
    for position, rule_id in enumerate(ids, start=2):  # row 1 of the CSV file is its header
        rules[rule_id].position = position
    session.flush()
    return _changed(session, actor, "routing_rule", "order", before, {"order": list(ids)}, now, action="update")


# ---- SLA policies -----------------------------------------------------------------------------

POLICY_FIELDS = ("line", "category", "priority", "contact_point", "clock", "target", "hours", "warning_share", "name")


def list_policies(session: Session, actor: Any) -> list[SlaPolicy]:
    """Every SLA policy in file order."""
    require_admin(actor)
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))


def _check_policy(session: Session, values: dict[str, Any], problems: dict[str, str], own_id: int | None):
    line, clock = values.get("line"), values.get("clock")
    category = _text(values.get("category")) or ANY
    priority = _text(values.get("priority")) or ANY
    contact_point = _text(values.get("contact_point")) or ANY
    if line not in LINES:
        problems["line"] = f"must be one of {', '.join(LINES)}"
    if clock not in CLOCKS:
        problems["clock"] = f"must be one of {', '.join(CLOCKS)}"
    elif line in LINE_CLOCKS and clock not in LINE_CLOCKS[line]:
        problems["clock"] = f"line {line} runs {' and '.join(LINE_CLOCKS[line])} clocks"
    if priority not in (ANY, *PRIORITIES):
        problems["priority"] = f"must be * or one of {', '.join(PRIORITIES)}"
    if category != ANY and session.get(Category, category) is None:
        problems["category"] = f"{category!r} is not a category"
    if contact_point != ANY and session.scalar(select(ContactPoint.code)
                                               .where(ContactPoint.code == contact_point)) is None:
        problems["contact_point"] = f"{contact_point!r} is not a contact point"
    promise = _check_promise(values, problems)
    if not problems:
        twin = session.scalar(select(SlaPolicy.id).where(
            SlaPolicy.line == line, SlaPolicy.category == category, SlaPolicy.priority == priority,
            SlaPolicy.contact_point == contact_point, SlaPolicy.clock == clock))
        if twin is not None and twin != own_id:
            problems["clock"] = "another policy already promises this clock for the same tickets"
    return {"line": line, "category": category, "priority": priority, "contact_point": contact_point,
            "clock": clock, **promise}


def _check_promise(values: dict[str, Any], problems: dict[str, str]) -> dict[str, Any]:
    """The target (written as in the CSV: 90s, 30m, 4h), calendar, warning share and name."""
    target = 0
    try:
        target = parse_target(str(values.get("target") or ""))
        if target <= 0:
            raise ValueError("must be more than zero")
    except ValueError as exc:
        problems["target"] = str(exc)
    if values.get("hours") not in ("business", "always"):
        problems["hours"] = "must be business or always"
    share = values.get("warning_share")
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
        problems["warning_share"] = "must be between 0 and 1"
    name = _text(values.get("name"))
    if len(name) > 200:
        problems["name"] = "longer than 200 characters"
    return {"target_seconds": target, "business_hours": values.get("hours") == "business",
            "warning_share": float(share) if isinstance(share, int | float) else 0.75, "name": name}


def create_policy(session: Session, actor: Any, now: datetime, values: dict[str, Any]) -> tuple[SlaPolicy, Events]:
    """A new promise; clocks started from now on use it when it is the most specific match."""
    require_admin(actor)
    problems: dict[str, str] = {}
    row = _check_policy(session, values, problems, None)
    _refuse(problems, "SLA policy")
    last = session.scalar(select(func.max(SlaPolicy.position))) or 1
    policy = SlaPolicy(position=last + 1, **row)
    session.add(policy)
    session.flush()
    return policy, _changed(session, actor, "sla_policy", policy.id, None, policy_record(policy), now)


def _get_policy(session: Session, policy_id: int) -> SlaPolicy:
    policy = session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound("SLA policy not found")
    return policy


def update_policy(session: Session, actor: Any, now: datetime, policy_id: int,
                  changes: dict[str, Any]) -> tuple[SlaPolicy, Events]:
    """Change a promise. Running clocks keep the due time they were given."""
    require_admin(actor)
    policy = _get_policy(session, policy_id)
    _only(changes, POLICY_FIELDS)
    before = policy_record(policy)
    problems: dict[str, str] = {}
    row = _check_policy(session, {**before, **changes}, problems, policy.id)
    _refuse(problems, "SLA policy")
    for name, value in row.items():
        setattr(policy, name, value)
    session.flush()
    return policy, _changed(session, actor, "sla_policy", policy.id, before, policy_record(policy), now)


def delete_policy(session: Session, actor: Any, now: datetime, policy_id: int) -> Events:
    """Remove a promise (clocks it started keep running with their due times)."""
    require_admin(actor)
    policy = _get_policy(session, policy_id)
    before = policy_record(policy)
    session.execute(update(SlaClock).where(SlaClock.policy_id == policy.id).values(policy_id=None))
    session.delete(policy)
    session.flush()
    return _changed(session, actor, "sla_policy", policy_id, before, None, now, action="delete")


# ---- canned responses -------------------------------------------------------------------------

def list_canned(session: Session, actor: Any) -> list[Any]:
    """Every canned response, retired ones too."""
    from tickets.canned import list_canned_responses

    require_admin(actor)
    return list_canned_responses(session, include_inactive=True)


def save_canned(session: Session, actor: Any, now: datetime, values: dict[str, Any],
                canned_id: int | None = None) -> tuple[Any, Events]:
    """Create (no id) or change a canned response through ``tickets.canned``'s own checks."""
    from tickets.canned import CannedResponse, save_canned_response

    require_admin(actor)
    before = None
    if canned_id is not None:
        current = session.get(CannedResponse, canned_id)
        if current is None:
            raise NotFound("Canned response not found")
        before = canned_record(current)
        _only(values, ("category", "title", "body", "active", "position"))
        values = {**before, **values}
    row = save_canned_response(session, id=canned_id, category=_text(values.get("category")),
                               title=values.get("title") or "", body=values.get("body") or "",
                               active=bool(values.get("active", True)),
                               position=values["position"] if values.get("position") is not None else 0)
    return row, _changed(session, actor, "canned_response", row.id, before, canned_record(row), now)


# ---- what the forms choose from -----------------------------------------------------------------

def reference(session: Session, actor: Any) -> dict[str, Any]:
    """Codes and names the administration forms offer in their lists."""
    require_admin(actor)
    return {
        "roles": list(Role),
        "lines": list(LINES),
        "clocks": list(CLOCKS),
        "priorities": list(PRIORITIES),
        "districts": [{"code": d.code, "name": d.name}
                      for d in session.scalars(select(District).order_by(District.code))],
        "wards": [{"code": w.code, "name": w.name, "district_code": w.district_code}
                  for w in session.scalars(select(Ward).order_by(Ward.district_code, Ward.name))],
        "contact_points": [{"code": c.code, "name": c.name_vi, "active": bool(c.active)}
                           for c in session.scalars(select(ContactPoint).order_by(ContactPoint.code))],
        "categories": [{"code": c.code, "name": c.name_vi}
                       for c in session.scalars(select(Category).order_by(Category.code))],
        "hospitals": [{"code": h.code, "name": h.name, "active": bool(h.active)}
                      for h in session.scalars(select(Hospital).order_by(Hospital.code))],
        "contact_point_kinds": sorted(set(session.scalars(select(ContactPoint.kind)))),
        "hospital_kinds": sorted(set(session.scalars(select(Hospital.kind)))),
        "specialties": sorted({s for row in session.scalars(select(Hospital.specialties)) for s in row or ()}),
    }
