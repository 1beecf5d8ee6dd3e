"""The 1022 operator console: take a call, complete its ticket, confirm where it goes.

The page is a frame; operator.js fills it from the JSON API (queue, call-backs, routing
preview) and keeps it live over Socket.IO (call.incoming, call.ended, ticket.*).
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.config import softphone_missing
from app.consoles import render_console, roles_required
from app.database import db
from tickets.accounts import Role, on_duty_count

bp = Blueprint("operator", __name__)


STRINGS = {
    # duty and phone
    "on_duty_count": _l("{n} on duty"),
    "off_duty_call": _l("Call from {caller} (you are off duty)"),
    "phone_ready": _l("Softphone ready"),
    "phone_starting": _l("Softphone starting…"),
    "phone_connecting": _l("Connecting…"),
    "phone_in_call": _l("In call"),
    "phone_error": _l("Softphone unavailable: {message}"),
    "mute": _l("Mute"),
    "unmute": _l("Unmute"),
    # demo
    "simulated": _l("Simulated call from {caller}"),
    # queue
    "queue_empty_new": _l("Nothing waiting to be routed."),
    "queue_empty_open": _l("No open tickets."),
    "queue_empty_search": _l("No ticket matches the search."),
    "no_description": _l("(no description yet)"),
    "no_category": _l("No category"),
    "ago_now": _l("just now"),
    "ago_min": _l("{n} min"),
    "ago_hour": _l("{h} h {m} min"),
    "ago_day": _l("{n} d"),
    "callback_flag": _l("call back"),
    "sla_warning": _l("SLA soon due"),
    "sla_breached": _l("SLA breached"),
    "due": _l("due"),
    # call-backs
    "callbacks_empty": _l("Nobody to call back."),
    "voicemail": _l("voicemail"),
    "missed": _l("hung up waiting"),
    "open_ticket": _l("Open"),
    "called_back": _l("Called back"),
    "called_back_done": _l("Marked as called back."),
    # ticket form
    "new_ticket": _l("New ticket"),
    "ticket": _l("Ticket"),
    "tracking_code": _l("Tracking code"),
    "by_phone": _l("by phone"),
    "call_live": _l("call in progress"),
    "caller_history": _l("Earlier tickets from this caller: {n}"),
    "caller_first": _l("First contact from this number"),
    "draft_restored": _l("Your unsaved text was restored."),
    "draft_kept": _l("Not saved yet — kept in this browser."),
    "saved_ticket": _l("Ticket {code} saved."),
    "created_ticket": _l("Ticket {code} opened."),
    "routed": _l("Ticket {code} sent to {cp}. Give the caller the tracking code {code}."),
    "cancelled": _l("Ticket {code} cancelled."),
    "reason_code_required": _l("Choose why the ticket is cancelled."),
    "nuisance_90d": _l("Nuisance calls in the last 90 days: {n}"),
    "nuisance_mark": _l("nuisance call"),
    "linked": _l("Linked to {code}: the caller now follows that ticket. Give them the code {code}."),
    "read_only": _l("This ticket is {status}: it can no longer be changed here."),
    "remote_update": _l("Someone else updated this ticket; their changes are shown."),
    "remote_conflict": _l("Someone else changed {fields} meanwhile; your text was kept — check it before saving."),
    "remote_assigned": _l("Already sent to {cp}."),
    "kept_edits": _l("Your unsaved edits were kept."),
    "network_kept": _l("The server could not be reached. Nothing was changed; what you typed is still here."),
    "reason_required": _l("Give a reason."),
    "choose_cp": _l("Choose a contact point first."),
    "proposal_changed": _l("The proposal changed with your last words: check it and confirm again."),
    "suggest_category": _l("Suggested: {name} ({pct})"),
    "suggest_ward": _l("Named in the text: {name}"),
    "use": _l("Use"),
    # proposal
    "proposal_empty": _l("Type what the caller says: the contact point is proposed as you type."),
    "proposal_error": _l("No proposal: {message}"),
    "proposed": _l("Proposed contact point"),
    "no_proposal": _l("No contact point could be proposed: choose one below."),
    "confidence": _l("Confidence"),
    "needs_confirmation": _l("Please check"),
    "fairly_sure": _l("Fairly sure"),
    "why": _l("Why"),
    "details": _l("Engine details"),
    "alternatives": _l("Other contact points"),
    "duplicates": _l("Possible duplicates nearby"),
    "duplicates_alert": _l("Possible duplicates: {n} — check before routing"),
    "use_proposal": _l("Use the proposal"),
    "boundary": _l("Near a district boundary: check which district the caller is in."),
    "r_given": _l("Category given: {category}"),
    "r_classifier": _l("The description reads like «{category}» ({pct})"),
    "r_runner_up": _l("next: {others}"),
    "r_keyword": _l("Key words: {words}"),
    "r_place_ward": _l("Place: {ward}, {district} (ward chosen)"),
    "r_place_text": _l("Place: {place} — recognised from {words} in the {source}"),
    "r_place_point": _l("Place: {place} (from the map point)"),
    "r_place_unclear": _l("The {source} names {words}, but which place is unclear"),
    "r_place_unknown": _l("Where it happened is not known yet: add a ward or an address"),
    "r_district_level": _l("A district matter, so the caller's district People's Committee handles it"),
    "r_district_unknown": _l("A district matter, but the district is unknown: sent to the provincial office"),
    "r_rule": _l("Routing rule {row}: {what} → {cp}"),
    "r_fallback_rule": _l("No specific rule: the general desk {cp}"),
    "r_no_rule": _l("No routing rule applies"),
    "r_unclear": _l("The category is unclear: sent to the general desk"),
    "src_description": _l("description"),
    "src_address": _l("address"),
    "any_category": _l("any category"),
    "a_category": _l("if the category is {category} ({pct})"),
    "a_place": _l("if the caller is in {district}"),
    "a_less_specific": _l("the provincial office for this matter"),
    "same_caller": _l("same caller"),
    "same_ward": _l("same ward"),
    "distance": _l("{m} m away"),
    "link": _l("Link"),
    "link_question": _l("Cancel this ticket as a duplicate of {code}? The caller will follow {code}."),
    "link_confirm": _l("Link and cancel this one"),
    "keep": _l("Keep"),
    "link_save_first": _l("Save the ticket first to link it."),
    "reason_default": _l("Routing proposal confirmed: {reasons}"),
    "reason_operator": _l("Chosen by the operator"),
    "route": _l("Confirm and route"),
    "reroute": _l("Send to this contact point"),
    "category_applied": _l("Category: {name}"),
    # call pop-up
    "incoming": _l("Incoming call"),
    "incoming_title": _l("Call {caller}"),
    "call_ticket": _l("Ticket {code} opened for this call"),
    "ivr_choice": _l("Chose in the menu: {category}"),
    "history_none": _l("First call from this number."),
    "hung_up": _l("The caller hung up."),
    "hung_up_callback": _l("The caller hung up before being answered: added to the call-back list."),
    "call_ended": _l("The call ended ({duration})."),
    "more_calls": _l("+{n} more calls waiting"),
    "anonymous": _l("Hidden number"),
}


@bp.get("/console")
@roles_required(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
def console():
    return render_console("consoles/operator.html", "operator", strings=STRINGS, page={
        "on_duty": bool(current_user.on_duty),
        "operators_on_duty": on_duty_count(db.session, Role.OPERATOR),
        "demo": bool(current_app.config.get("HOTLINE_DEMO")),
        "softphone": not softphone_missing(current_app.config),
    })
