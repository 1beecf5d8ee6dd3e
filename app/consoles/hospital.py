"""A hospital's emergency desk: the 115 cases dispatched to it, to acknowledge in time.

The page is a frame; hospital.js fills it from the JSON API (which shows a hospital its own
tickets only) and keeps it live over the hospital's own Socket.IO room.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.consoles import render_console, roles_required
from app.consoles.dispatch import specialties
from tickets.accounts import Role

bp = Blueprint("hospital", __name__)

STRINGS = {
    "taking_patients": _l("Taking patients"),
    "full_state": _l("Full — not taking patients"),
    "now_available": _l("Marked as taking patients: 115 may dispatch here again."),
    "now_full": _l("Marked as full: 115 sends patients elsewhere until you switch back."),
    "sound_on": _l("Alarm sound: on"),
    "sound_off": _l("Alarm sound: off"),
    "new_dispatch": _l("New 115 dispatch"),
    "acknowledge": _l("Acknowledge"),
    "acknowledge_sub": _l("we take this patient"),
    "left_to_ack": _l("left to acknowledge"),
    "acknowledged": _l("Acknowledged"),
    "acknowledged_toast": _l("Case {code} acknowledged: dispatch has been told."),
    "no_description": _l("(no description yet)"),
    "where": _l("Where"),
    "how_far_label": _l("How far"),
    "how_far": _l("{km} km · about {min} min by road"),
    "specialty": _l("Specialty"),
    "caller": _l("Caller"),
    "called": _l("Called"),
    "note": _l("Note for dispatch"),
    "add_note": _l("Add note"),
    "resolution": _l("Outcome"),
    "resolve": _l("Patient received — close out"),
    "resolved_toast": _l("Case {code} closed out."),
    "nothing_waiting": _l("No dispatch is waiting for you."),
    "nothing_accepted": _l("No acknowledged case open."),
    "dismiss": _l("Dismiss"),
    "gone_late": _l("Case {code} was not acknowledged in time and went to another hospital."),
    "gone_other": _l("Case {code} is no longer dispatched here (sent elsewhere or cancelled)."),
    "cancelled_notice": _l("Dispatch cancelled case {code}."),
}


@bp.get("/hospital")
@roles_required(Role.HOSPITAL)
def board():
    hospital = current_user.hospital
    if hospital is None:
        abort(403)  # an account of the hospital role must name its hospital
    page = {"ack_seconds": current_app.config["DISPATCH_ACK_SECONDS"],
            "hospital": {"code": hospital.code, "name": hospital.name, "available": hospital.available},
            "specialties": specialties()}
    return render_console("consoles/hospital.html", "hospital", strings=STRINGS, page=page,
                          hospital=hospital)
