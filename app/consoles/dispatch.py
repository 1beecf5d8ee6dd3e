"""The 115 dispatch board: active emergencies, the selected case and the map.

The page is a frame; dispatch.js fills it from the JSON API (tickets, the hospitals ranked
for a case, the directory and district boundaries) and keeps it live over Socket.IO
(call.incoming, ticket.*, dispatch.escalated, dispatch.late_acknowledgement).
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.consoles import render_console, roles_required
from app.database import db
from tickets.accounts import Role
from tickets.directory import Hospital

bp = Blueprint("dispatch", __name__)

# The specialties hospitals list in data/directory/hospitals.csv, in the order a dispatcher
# thinks of them; one a province adds shows under its code until it is named here.
SPECIALTY_LABELS = {
    "trauma": _l("Trauma"),
    "obstetrics": _l("Obstetrics"),
    "pediatrics": _l("Paediatrics"),
    "neonatal": _l("Newborn care"),
    "general": _l("General emergency"),
}

STRINGS = {
    # the list
    "st_new": _l("Not dispatched"),
    "st_assigned": _l("Waiting for the hospital"),
    "st_in_progress": _l("Hospital acknowledged"),
    "stat_needs": _l("Needs you"),
    "stat_waiting": _l("Awaiting hospital"),
    "stat_acknowledged": _l("Acknowledged"),
    "needs_location": _l("Needs a location"),
    "needs_hospital": _l("Needs a hospital"),
    "acknowledged": _l("Acknowledged"),
    "since_call": _l("Time since the call"),
    "no_description": _l("(no description yet)"),
    "no_cases": _l("No active emergencies."),
    # calls
    "incoming_call": _l("Incoming 115 call"),
    "call_ended": _l("115 call ended"),
    "unknown_number": _l("unknown number"),
    "earlier_cases": _l("earlier cases:"),
    "take_case": _l("Take the case"),
    "dismiss": _l("Dismiss"),
    # the case
    "no_selection": _l("No case selected"),
    "no_selection_hint": _l("Choose a case in the list or on the map. A 115 call opens its case here."),
    "no_hospital": _l("No hospital yet"),
    "ack_within": _l("Acknowledgement due in"),
    "caller": _l("Caller"),
    "called": _l("Called"),
    "ago": _l("ago"),
    "what": _l("What happened"),
    "where": _l("Where"),
    "specialty": _l("Specialty"),
    "any_emergency": _l("Any emergency department"),
    "dispatch_chain": _l("Dispatch chain"),
    "not_dispatched": _l("Not dispatched yet."),
    "sent_at": _l("sent {time}"),
    "no_ack_in": _l("no acknowledgement within {s} s"),
    "resent_by": _l("sent elsewhere by {who}"),
    "acknowledged_at": _l("acknowledged {time} by {who}"),
    "late_ack_at": _l("acknowledged late at {time}, after the case had moved on"),
    "waiting_ack": _l("waiting for acknowledgement"),
    "escalated": _l("Needs a dispatcher"),
    "resolved_at": _l("Patient received {time}"),
    "cancelled_at": _l("Cancelled {time}"),
    "eta": _l("{km} km · about {min} min"),
    "complete_case": _l("Complete and dispatch"),
    "edit_case": _l("Edit place and details"),
    "send_elsewhere": _l("Send to another hospital"),
    "send": _l("Send"),
    "send_to": _l("Send to {name}"),
    "sent_to": _l("Sent to {name}."),
    "current": _l("current"),
    "tried": _l("tried"),
    "full": _l("full"),
    "no_specialty": _l("lacks the specialty"),
    "reason": _l("Reason (optional)"),
    "reason_placeholder": _l("e.g. the hospital called: no operating room free"),
    "note": _l("Internal note"),
    "add_note": _l("Add note"),
    "cancel_case": _l("Cancel the case"),
    "cancel_reason": _l("Why is it cancelled?"),
    "case_cancelled": _l("Case cancelled."),
    "cancel_nuisance": _l("Nuisance call"),
    "cancel_as_nuisance": _l("Nuisance call: cancel"),
    "confirm_nuisance": _l("Cancel this case as a nuisance call? What was typed is dropped."),
    "cancel_wrong_number": _l("Wrong number"),
    "cancel_duplicate": _l("Duplicate of another case"),
    "cancel_other": _l("Other reason"),
    "cancel_details": _l("Details (optional for a nuisance call)"),
    "nuisance_90d": _l("Nuisance calls in the last 90 days: {n}"),
    "close_case": _l("Close the case"),
    # completing a case
    "new_case": _l("New 115 case"),
    "complete_title": _l("Case {code}: where and what"),
    "close_form": _l("Close"),
    "caller_phone": _l("Caller's phone"),
    "caller_name": _l("Caller's name"),
    "what_happened": _l("What happened"),
    "ward": _l("Ward"),
    "address": _l("Address"),
    "find_address": _l("Find"),
    "address_unknown": _l("The address names no known ward: click the map or choose the ward."),
    "place_hint": _l("Click the map where the patient is, or choose the ward."),
    "from_map": _l("Placed on the map (drag the pin to adjust)"),
    "from_ward": _l("Centre of the ward (approximate): click the map to be precise"),
    "from_saved": _l("The saved location"),
    "place_first": _l("Place the patient on the map or choose a ward first."),
    "nearest_hospitals": _l("Nearest suitable hospitals"),
    "no_hospital_left": _l("No suitable hospital is available: call the hospitals."),
    "dispatch": _l("Dispatch"),
    "dispatch_to": _l("Dispatch to {name}"),
    "save_details": _l("Save the details"),
    "redispatch_to": _l("Send instead to {name}"),
    "dispatched_to": _l("Case {code} dispatched to {name}."),
    "discard_form": _l("Discard what you typed in the open case?"),
    # live
    "ack_toast": _l("{name} acknowledged case {code}."),
    "redispatch_toast": _l("Case {code}: {from} did not acknowledge in time — sent to {to}."),
    "no_hospital_toast": _l("Case {code}: {from} did not acknowledge and no hospital is left — act now."),
    "needs_dispatcher": _l("A case needs a dispatcher"),
    "late_ack_toast": _l("Case {code}: {name} acknowledged late; the case stays where it is."),
    # the map
    "available": _l("Taking patients"),
    "no_emergency": _l("No emergency department"),
    "patient_here": _l("The patient"),
}


def specialties() -> list[dict[str, str]]:
    """The specialties emergency hospitals list, with their names."""
    found = set()
    for listed in db.session.scalars(select(Hospital.specialties).where(Hospital.active, Hospital.emergency)):
        found.update(s for s in (listed or ()) if s)
    known = [code for code in SPECIALTY_LABELS if code in found]
    return [{"code": code, "label": str(SPECIALTY_LABELS.get(code, code))}
            for code in known + sorted(found - set(known))]


@bp.get("/dispatch")
@roles_required(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
def board():
    page = {"ack_seconds": current_app.config["DISPATCH_ACK_SECONDS"],
            "tile_url": current_app.config.get("MAP_TILE_URL"),
            "specialties": specialties()}
    return render_console("consoles/dispatch.html", "dispatch", strings=STRINGS, page=page)
