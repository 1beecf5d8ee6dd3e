"""The department console: a contact point's queue with SLA countdowns, and the ticket in a
side panel with what the staff may do to it — accept, comment, ask the caller, hand back,
answer (with the category's canned responses).

Everything is read and changed through the JSON API (the same permission checks, the same
409 on a stale version), and kept live by the ``cp:CODE`` room's events.
"""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.consoles import render_console, roles_required
from app.consoles.ticket_page import PAGE_STRINGS, directory_names, label_strings
from tickets.accounts import Role

bp = Blueprint("department", __name__)

STRINGS = {
    "in_progress": _l("In progress"),
    "waiting": _l("Waiting for the caller"),
    "due_first": _l("to accept"),
    "due_resolution": _l("to answer"),
    "paused_short": _l("paused"),
    "no_tickets": _l("No tickets here."),
    "no_tickets_search": _l("No ticket matches these filters."),
    "select_ticket": _l("Select a ticket in the queue to see it here and act on it."),
    "open_page": _l("Full page"),
    "close_panel": _l("Close"),
    "new_ticket": _l("New ticket in your queue"),
    "sla_warning_toast": _l("SLA warning"),
    "sla_breached_toast": _l("SLA breached"),
    "gone": _l("This ticket has left your queue."),
    # actions
    "actions": _l("Actions"),
    "accept": _l("Accept"),
    "accepted": _l("Accepted: the ticket is now in progress."),
    "tab_comment": _l("Comment"),
    "tab_ask": _l("Ask the caller"),
    "tab_resume": _l("Stop waiting"),
    "tab_transfer": _l("Not ours"),
    "tab_resolve": _l("Answer"),
    "comment_body": _l("Text"),
    "comment_internal": _l("Internal note — only staff see it"),
    "comment_external": _l("To the caller — sent by SMS"),
    "comment_external_hint": _l("The caller receives this text by SMS, with the tracking code."),
    "no_sms": _l("The caller has no mobile number: no SMS can be sent."),
    "send_note": _l("Add the note"),
    "send_sms": _l("Send to the caller"),
    "comment_sent": _l("Comment added."),
    "sms_queued": _l("Sent to the caller by SMS."),
    "question": _l("Question for the caller"),
    "ask_hint": _l("Sent by SMS. The SLA clocks pause until the caller answers or you stop waiting."),
    "ask_send": _l("Ask and pause the clocks"),
    "asked": _l("Question sent; the clocks are paused."),
    "resume_reason": _l("Why you stop waiting"),
    "resume_hint": _l("The caller answered another way, or waiting is over: the clocks run again."),
    "resume_send": _l("Resume the clocks"),
    "resumed": _l("The clocks run again."),
    "transfer_to": _l("Hand over to"),
    "transfer_reason": _l("Why it is not ours"),
    "transfer_hint": _l("The ticket leaves your queue and goes to the chosen contact point."),
    "transfer_send": _l("Hand the ticket over"),
    "transferred": _l("Handed over; the ticket has left your queue."),
    "suggested": _l("Suggested by routing"),
    "others": _l("All contact points"),
    "choose": _l("Choose…"),
    "resolution_text": _l("Answer to the caller"),
    "resolve_hint": _l("Sent to the caller by SMS with a satisfaction survey; the full answer stays in the history."),
    "canned": _l("Canned responses for this category"),
    "no_canned": _l("No canned response for this category yet."),
    "insert": _l("Insert"),
    "resolve_send": _l("Resolve with this answer"),
    "resolved": _l("Resolved; the answer is on its way to the caller."),
    "sms_length": _l("SMS: {chars} characters, about {segments} message(s)"),
    "sms_long": _l("Long answers are shortened in the SMS; the caller is pointed to the status page."),
    "required": _l("Required"),
}


@bp.get("/department")
@roles_required(Role.STAFF)
def queue():
    cp = current_user.contact_point
    english = str(get_locale()) == "en"
    page = {
        # The answer reaches the caller in Vietnamese whatever the console's language.
        "contact_point": {"code": cp.code, "name": cp.name_en if english else cp.name_vi,
                          "name_vi": cp.name_vi} if cp else None,
        "names": directory_names(),
        "ticket_url": url_for("ticket_page.detail", ticket_id=0)[:-1],
    }
    return render_console("consoles/department.html", "department",
                          strings={**label_strings(), **PAGE_STRINGS, **STRINGS}, page=page,
                          contact_point=page["contact_point"])
