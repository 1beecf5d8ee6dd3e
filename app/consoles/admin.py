"""The administration console: accounts, the directory, routing rules, SLA policies, canned
responses, API keys and the working calendar, each a searchable table with an edit drawer, and the audit log of
every change.

Everything is read and written through /api/admin/... (administrators only); a change is
validated by the domain, recorded in the audit log, and used by the next routing decision
in every process. ``config.changed`` keeps several admin consoles in step.
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.consoles import render_console, roles_required
from tickets import api_keys
from tickets.accounts import Role

bp = Blueprint("admin", __name__)

SECTIONS = {
    "users": _l("Users and roles"),
    "contact_points": _l("Contact points"),
    "hospitals": _l("Hospitals"),
    "categories": _l("Categories and keywords"),
    "routing_rules": _l("Routing rules"),
    "sla_policies": _l("SLA policies"),
    "canned_responses": _l("Canned responses"),
    "api_keys": _l("API keys"),
    "calendar_days": _l("Working calendar"),
    "audit": _l("Audit log"),
}

HINTS = {
    "hint_users": _l("Accounts sign in to the consoles and the API. Deactivating one signs it out of the API at "
                     "once; passwords are never shown or logged."),
    "hint_contact_points": _l("Where 1022 requests go. A deactivated contact point is skipped by routing."),
    "hint_hospitals": _l("Where 115 emergencies go: emergency-capable, available hospitals, nearest first."),
    "hint_categories": _l("Keywords help the classifier recognise a category; they are used by the next "
                          "routing decision. A new category is proposed automatically only after "
                          "the classifier is retrained."),
    "hint_routing_rules": _l("Rules are tried in this order: lower priority first, then the more specific rule, "
                             "then the position. The rule with no condition catches everything else."),
    "hint_sla_policies": _l("The most specific matching policy sets a clock's target. Clocks already "
                            "running keep their due times."),
    "hint_canned_responses": _l("Ready-made answers departments insert; {code} and {contact_point} are "
                                "filled in."),
    "hint_api_keys": _l("A key lets an outside client (the citizens' app, a city portal) use the Open311 API. "
                        "The key is shown once, when it is issued; revoking it stops it at once."),
    "hint_calendar_days": _l("The days SLA clocks and the 1022 line skip or work beyond the usual week: public "
                             "holidays (official, read-only), and the province's days off and make-up working "
                             "days. A change applies to the next clock started, everywhere."),
    "hint_audit": _l("Every change made here: who, when, and the record before and after."),
}

FIELDS = {
    "f_username": _l("Username"),
    "f_display_name": _l("Display name"),
    "f_role": _l("Role"),
    "f_contact_point": _l("Contact point"),
    "f_hospital": _l("Hospital"),
    "f_password": _l("Password"),
    "f_new_password": _l("New password"),
    "f_active": _l("Active"),
    "f_code": _l("ID code"),
    "f_name": _l("Name"),
    "f_name_vi": _l("Name (Vietnamese)"),
    "f_name_en": _l("Name (English)"),
    "f_kind": _l("Kind"),
    "f_district_code": _l("District"),
    "f_ward_code": _l("Ward"),
    "f_categories": _l("Categories handled"),
    "f_aliases": _l("Other names (one per line)"),
    "f_phone": _l("Phone"),
    "f_email": _l("E-mail"),
    "f_address": _l("Address"),
    "f_lat": _l("Latitude"),
    "f_lon": _l("Longitude"),
    "f_emergency": _l("Has an emergency department"),
    "f_specialties": _l("Specialties (one per line)"),
    "f_available": _l("Available (taking patients)"),
    "f_desk_phone": _l("Emergency desk phone"),
    "f_sms_phone": _l("Desk SMS number"),
    "f_is_lead": _l("Lead"),
    "f_phone_mobile": _l("Mobile for alerts"),
    "f_keywords": _l("Keywords (one per line)"),
    "f_default_contact_point": _l("Default contact point"),
    "f_district_level": _l("Handled by the district"),
    "f_priority": _l("Priority"),
    "f_category": _l("Category"),
    "f_note": _l("Note"),
    "f_line": _l("Line"),
    "f_clock": _l("Clock"),
    "f_target": _l("Target"),
    "f_hours": _l("Calendar"),
    "f_warning_share": _l("Warn at (share of the target)"),
    "f_title": _l("Title"),
    "f_body": _l("Text"),
    "f_position": _l("Position"),
    "f_password_reset": _l("Password reset"),
    "c_keywords": _l("Keywords"),
    "f_order": _l("Order"),
    "f_rule": _l("Rule"),
    "f_ids": _l("Order"),
    "f_key_prefix": _l("Key begins with"),
    "f_scopes": _l("Allowed to"),
    "f_created_by": _l("Issued by"),
    "f_revoked": _l("Revoked"),
    "f_day": _l("Date"),
    "f_source": _l("Source"),
}

# What each API key scope lets a client do (tickets.api_keys.SCOPES), as the console names it.
SCOPE_LABELS = {
    "scope_open311": _l("Create Open311 requests"),
    "scope_read": _l("Read request details"),
}

STRINGS = {
    **SECTIONS, **HINTS, **FIELDS, **SCOPE_LABELS,
    "sections": _l("Sections"),
    "search": _l("Search"),
    "search_placeholder": _l("Search this list"),
    "show_inactive": _l("Show deactivated"),
    "new": _l("Add new"),
    "edit": _l("Edit"),
    "save": _l("Save"),
    "cancel": _l("Cancel"),
    "close": _l("Close"),
    "create_title": _l("New entry"),
    "edit_title": _l("Edit"),
    "deactivate": _l("Deactivate"),
    "reactivate": _l("Reactivate"),
    "delete": _l("Delete"),
    "confirm_delete": _l("Delete this entry? The audit log keeps what it was."),
    "confirm_deactivate": _l("Deactivate this entry?"),
    "deleted": _l("Deleted"),
    "deactivated": _l("Deactivated"),
    "reactivated": _l("Reactivated"),
    "created": _l("Created"),
    "fix_fields": _l("Please correct the highlighted fields."),
    "loading": _l("Loading…"),
    "empty": _l("Nothing here yet."),
    "no_match": _l("Nothing matches this search."),
    "inactive": _l("Deactivated"),
    "active_state": _l("Active"),
    "on_duty": _l("On duty"),
    "yes": _l("Yes"),
    "no": _l("No"),
    "any": _l("Any"),
    "none_option": _l("— none —"),
    "caller_district": _l("The caller's district People's Committee (@district)"),
    "reset_password": _l("Reset password"),
    "password_was_reset": _l("Password changed; the account's API tokens no longer work."),
    "password_hint": _l("At least 8 characters. Tell the person through a safe channel."),
    "move_up": _l("Move up"),
    "move_down": _l("Move down"),
    "reordered": _l("Order saved"),
    "fallback": _l("fallback"),
    "rank": _l("#"),
    "unit": _l("Unit"),
    "status": _l("Status"),
    "actions": _l("Actions"),
    "keywords_count": _l("keywords"),
    "hours_business": _l("Working hours"),
    "hours_always": _l("Around the clock"),
    "target_hint": _l("A number and s, m or h: 90s, 30m, 4h"),
    "lead_hint": _l("Told first when an SLA clock of their contact point or hospital nears or passes its due time."),
    "mobile_hint": _l("A mobile number: escalation SMS go here (leads and supervisors)."),
    "sms_phone_hint": _l("A mobile number: the dispatch SMS goes here."),
    "lead_badge": _l("Lead"),
    # audit
    "when": _l("When"),
    "who": _l("Who"),
    "what": _l("What"),
    "action": _l("Action"),
    "changes": _l("Changes"),
    "entity": _l("Entry type"),
    "key": _l("Key"),
    "from": _l("From"),
    "to": _l("To"),
    "filter": _l("Filter"),
    "all": _l("All"),
    "previous": _l("Previous"),
    "next": _l("Next"),
    "page_of": _l("of"),
    "a_create": _l("created"),
    "a_update": _l("changed"),
    "a_deactivate": _l("deactivated"),
    "a_delete": _l("deleted"),
    "a_revoke": _l("revoked"),
    "e_user": _l("Account"),
    "e_contact_point": _l("Contact point"),
    "e_hospital": _l("Hospital"),
    "e_category": _l("Category"),
    "e_routing_rule": _l("Routing rule"),
    "e_sla_policy": _l("SLA policy"),
    "e_canned_response": _l("Canned response"),
    "e_api_key": _l("API key"),
    # API keys
    "issued": _l("Issued"),
    "last_used": _l("Last used"),
    "never_used": _l("Never used"),
    "revoke": _l("Revoke"),
    "revoked": _l("Revoked"),
    "confirm_revoke": _l("Revoke this key? Clients using it are refused at once, and it cannot be turned back on."),
    "key_revoked": _l("Key revoked"),
    "key_name_hint": _l("Who the key is for, e.g. zalo-app: 2–80 letters, digits, '.', '_' or '-'. "
                        "A name is never used again, even after the key is revoked."),
    "copied": _l("Copied to the clipboard."),
    "copy_by_hand": _l("The key is selected: press Ctrl+C to copy it."),
    "clock_first_response": _l("First response"),
    "clock_acknowledgement": _l("Acknowledgement"),
    "clock_resolution": _l("Resolution"),
    # the working calendar
    "e_calendar_day": _l("Calendar day"),
    "kind_off": _l("Day off"),
    "kind_working": _l("Make-up working day"),
    "kind_holiday": _l("Public holiday"),
    "source_province": _l("Province"),
    "source_official": _l("Official (public holidays)"),
    "source_settings": _l("Server settings"),
    "read_only": _l("Read-only"),
    "kind_hint": _l("A day off must be a normal working day; a make-up working day must be a weekend day or a "
                    "public holiday."),
    "note_placeholder": _l("e.g. Nghỉ bù Quốc khánh"),
    # the domain's most frequent refusals
    "msg_required": _l("This field is required."),
    "msg_exists": _l("This code already exists."),
    "msg_taken": _l("This username is already taken."),
    "msg_phone": _l("Not a valid phone number."),
    "msg_mobile": _l("Not a mobile number: an SMS cannot reach it."),
    "msg_lead_role": _l("Only department staff and hospital users can be leads."),
    "msg_email": _l("Not a valid e-mail address."),
    "msg_password_length": _l("At least 8 characters."),
    "msg_self_deactivate": _l("You cannot deactivate your own account."),
    "msg_self_role": _l("You cannot take the administrator role from yourself."),
    "msg_staff_cp": _l("Department staff need a contact point."),
    "msg_hospital_user": _l("Hospital users need a hospital."),
    "msg_fallback_cp": _l("The fallback routing rule sends requests here; point it elsewhere first."),
    "msg_fallback_rule": _l("At least one rule must have no condition (the fallback)."),
    "msg_policy_twin": _l("Another policy already sets this clock for the same tickets."),
    "msg_key_name": _l("2–80 letters, digits, '.', '_' or '-', starting with a letter or digit."),
    "msg_key_taken": _l("Another key already has this name (names are never reused)."),
    "msg_choose_one": _l("Choose at least one."),
    "msg_not_a_date": _l("Not a date."),
    "msg_date_range": _l("Choose a date between 2000 and 2100."),
    "msg_day_taken": _l("This day is already in the calendar: edit it instead."),
    "msg_working_already": _l("This is already a working day: a make-up working day must be a weekend day or "
                              "a public holiday."),
    "msg_off_already": _l("This is already a day off (weekend or public holiday): a day off must be a normal "
                          "working day."),
}


@bp.get("/admin")
@roles_required(Role.ADMIN)
def index():
    return render_console("consoles/admin.html", "admin", strings=STRINGS,
                          page={"sections": list(SECTIONS), "api_key_scopes": list(api_keys.SCOPES)},
                          sections=SECTIONS)
