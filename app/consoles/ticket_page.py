"""The ticket page: everything about one ticket — its clocks, caller and place, the routing
decision, the call, the SMS sent to the caller and the full history — for anyone who may
read it (anyone else gets 404, as from the API). Kept live over Socket.IO.

The words of the history live here and are shared with the department console, which
shows the same timeline in its side panel.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.api.serialize import ticket_detail
from app.consoles import render_console
from app.database import db
from tickets import services
from tickets.directory import Category, ContactPoint, District, Hospital, Ward
from tickets.errors import NotFound

bp = Blueprint("ticket_page", __name__)

CHANNELS = {"phone": _l("phone call"), "sms": _l("SMS"), "web": _l("web form"), "app": _l("citizens' app"),
            "walk_in": _l("in person"), "email": _l("e-mail"), "zalo": _l("Zalo")}
CLOCKS = {"first_response": _l("First response"), "acknowledgement": _l("Acknowledgement"),
          "resolution": _l("Resolution")}
SLA_STATES = {"ok": _l("On time"), "warning": _l("Due soon"), "breached": _l("Overdue"), "met": _l("Met")}
DELIVERY = {"queued": _l("Queued"), "sending": _l("Sending"), "accepted": _l("Accepted by the carrier"),
            "sent": _l("Sent"), "delivered": _l("Delivered"), "undelivered": _l("Not delivered"),
            "failed": _l("Failed"), "read": _l("Read"), "unknown": _l("Unknown — check by hand")}
CALL_STATUSES = {"queued": _l("queued"), "ringing": _l("ringing"), "in-progress": _l("in conversation"),
                 "answered": _l("answered"), "completed": _l("completed"), "busy": _l("busy"),
                 "failed": _l("failed"), "no-answer": _l("no answer"), "canceled": _l("hung up")}
MESSAGE_KINDS = {"tracking": _l("Tracking code"), "answer": _l("Answer"), "survey": _l("Survey"),
                 "reply": _l("Message"), "linked": _l("Linked to this ticket")}
FIELDS = {"description": _l("Description"), "caller_name": _l("Caller's name"), "caller_phone": _l("Phone"),
          "category": _l("Category"), "address": _l("Address"), "ward_code": _l("Ward"), "lat": _l("Latitude"),
          "lon": _l("Longitude"), "priority": _l("Priority")}

# History: one sentence per action ({names} are filled in by the script, as text).
EVENT_STRINGS = {
    "ev_created": _l("Ticket opened ({channel}, line {line})"),
    "ev_assign": _l("Assigned to {destination}"),
    "ev_assign_previous": _l("Reassigned from {previous} to {destination}"),
    "ev_accept": _l("Accepted"),
    "ev_note": _l("Internal note"),
    "ev_to_caller": _l("Message to the caller (sent by SMS)"),
    "ev_from_caller": _l("The caller wrote (SMS)"),
    "ev_transfer": _l("Handed back from {previous} to {destination}"),
    "ev_resolve": _l("Resolved with an answer"),
    "ev_reopen": _l("Reopened"),
    "ev_close": _l("Closed"),
    "ev_cancel": _l("Cancelled"),
    "ev_ask_caller": _l("Asked the caller (by SMS); the SLA clocks are paused"),
    "ev_resume": _l("Stopped waiting for the caller; the SLA clocks run again"),
    "ev_caller_replied": _l("The caller answered; the SLA clocks run again"),
    "ev_call_received": _l("Call received from {caller}"),
    "ev_category_set": _l("Category set to {category} from the phone menu"),
    "ev_callback_needed": _l("The call ended before anyone answered ({status}): call the caller back"),
    "ev_voicemail": _l("The caller left a voicemail ({duration})"),
    "ev_called_back": _l("The caller was called back"),
    "ev_sla_warning": _l("SLA warning: {clock} due at {due}"),
    "ev_sla_breached": _l("SLA breached: {clock} was due at {due}"),
    "ev_late_acknowledgement": _l("{hospital} acknowledged late: the patient had gone to {current}"),
    "ev_escalated": _l("Dispatch handed to a person after {failures} hospital(s) did not acknowledge"),
    "ev_update": _l("Details changed"),
    "ev_survey_yes": _l("Survey: the caller is satisfied"),
    "ev_survey_no": _l("Survey: the caller is not satisfied"),
    "ev_anonymised": _l("Personal data erased (retention period over)"),
    "ev_other": _l("Recorded: {action}"),
    "ev_reason": _l("Reason"),
    "ev_answer": _l("Answer"),
    "ev_question": _l("Question"),
    "ev_status_change": _l("Status"),
    "ev_recording": _l("Listen to the recording"),
    "ev_empty": _l("(empty)"),
    "ev_internal_badge": _l("internal"),
    "ev_sms_badge": _l("SMS to the caller"),
    "ev_caller_badge": _l("from the caller"),
    "unknown_place": _l("not given"),
    "age_minutes": _l("{n} min"),
    "age_hours": _l("{h} h {m} min"),
    "age_days": _l("{d} d {h} h"),
    "system": _l("system"),
}

PAGE_STRINGS = {
    "ticket": _l("Ticket"),
    "channel": _l("Channel"),
    "priority": _l("Priority"),
    "category": _l("Category"),
    "no_category": _l("Not classified yet"),
    "caller": _l("Caller"),
    "anonymous": _l("No name given"),
    "no_phone": _l("No phone number"),
    "place": _l("Place"),
    "coordinates": _l("Coordinates"),
    "handled_by": _l("Handled by"),
    "not_assigned": _l("Not assigned yet"),
    "created": _l("Received"),
    "updated": _l("Last change"),
    "resolution": _l("Answer given"),
    "satisfaction": _l("Satisfaction"),
    "satisfied": _l("Satisfied"),
    "not_satisfied": _l("Not satisfied"),
    "clocks": _l("SLA clocks"),
    "due_at": _l("due at"),
    "paused": _l("Paused: waiting for the caller's answer"),
    "stopped": _l("Not running"),
    "clock_done": _l("Done"),
    "waiting_on_caller": _l("Waiting for the caller"),
    "callback_needed": _l("Call back needed"),
    "routing_none": _l("No routing proposal was recorded for this ticket."),
    "proposed": _l("Proposed"),
    "confidence": _l("Confidence"),
    "needs_confirmation": _l("Needed a person's confirmation"),
    "reasons": _l("Why"),
    "alternatives": _l("Alternatives"),
    "no_alternatives": _l("None"),
    "hospitals_ranked": _l("Nearest suitable hospitals"),
    "minutes": _l("min"),
    "km": _l("km"),
    "latest_assignment": _l("Latest assignment"),
    "no_calls": _l("This ticket did not come by phone."),
    "call_sid": _l("Call SID"),
    "call_status": _l("Status"),
    "call_started": _l("Started"),
    "call_duration": _l("Duration"),
    "queue_time": _l("Waited for an operator"),
    "voicemail": _l("Voicemail"),
    "open_recording": _l("Open the recording"),
    "called_back_at": _l("Called back at"),
    "no_messages": _l("No SMS has been sent about this ticket."),
    "sent_to": _l("Sent to"),
    "attempts": _l("attempts"),
    "history": _l("History"),
    "no_history": _l("No history yet."),
    "not_found": _l("This ticket is no longer visible to you."),
}


def directory_names() -> dict[str, dict[str, str]]:
    """Code → name of every contact point, category, hospital and ward, in the page's language."""
    english = str(get_locale()) == "en"
    districts = {code: name for code, name in db.session.execute(select(District.code, District.name))}
    return {
        "contact_points": {c.code: c.name_en if english else c.name_vi
                           for c in db.session.scalars(select(ContactPoint))},
        "categories": {c.code: c.name_en if english else c.name_vi for c in db.session.scalars(select(Category))},
        "hospitals": {h.code: h.name for h in db.session.scalars(select(Hospital))},
        "wards": {w.code: f"{w.name}, {districts.get(w.district_code, '')}".rstrip(", ")
                  for w in db.session.scalars(select(Ward))},
    }


def label_strings() -> dict[str, object]:
    """The words shared by both pages that show tickets: history, clocks, SLA states, channels."""
    words: dict[str, object] = dict(EVENT_STRINGS)
    words.update({f"channel_{k}": v for k, v in CHANNELS.items()})
    words.update({f"clock_{k}": v for k, v in CLOCKS.items()})
    words.update({f"sla_{k}": v for k, v in SLA_STATES.items()})
    words.update({f"delivery_{k}": v for k, v in DELIVERY.items()})
    words.update({f"kind_{k}": v for k, v in MESSAGE_KINDS.items()})
    words.update({f"call_{k}": v for k, v in CALL_STATUSES.items()})
    words.update({f"field_{k}": v for k, v in FIELDS.items()})
    return words


@bp.get("/tickets/<int:ticket_id>")
@login_required
def detail(ticket_id: int):
    try:
        ticket = services.get_ticket(db.session, current_user, ticket_id)
    except NotFound:
        abort(404)
    data = ticket_detail(ticket, services.ticket_events(db.session, ticket), current_user).model_dump(mode="json")
    return render_console("consoles/ticket.html", "ticket", strings={**label_strings(), **PAGE_STRINGS},
                          page={"ticket_id": ticket.id, "ticket": data, "names": directory_names()},
                          ticket=data)
