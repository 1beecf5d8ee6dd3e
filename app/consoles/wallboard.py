"""Supervisor wallboard: a live SLA board — calls now and today, who is on duty, what is late
or about to be, which contact points are slow, satisfaction and 115 acknowledgement times.

The page is a frame; wallboard.js fills it from ``GET /api/supervisor/wallboard`` and
refetches (debounced) on every ticket, call, SLA and dispatch event, and every 30 s.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l

from app.consoles import render_console, roles_required
from tickets.accounts import Role

bp = Blueprint("wallboard", __name__)

STRINGS = {
    "updated": _l("Updated {time}"),
    "longest_wait": _l("longest {time}"),
    "nobody_waiting": _l("nobody waiting"),
    "answered_of": _l("{n} of {total} answered calls"),
    "no_answered": _l("no answered call yet today"),
    "calls_today": _l("{n} calls today"),
    "abandoned": _l("{n} abandoned"),
    "operators": _l("operators"),
    "dispatchers": _l("dispatchers"),
    "at_risk_n": _l("{n} at risk"),
    "surveys_of": _l("{n} of {total} surveys satisfied"),
    "no_surveys": _l("no survey answer"),
    "p90": _l("p90 {time}"),
    "acks_today": _l("{n} today"),
    "awaiting": _l("{n} awaiting"),
    "status_new": _l("new"),
    "status_assigned": _l("assigned"),
    "status_in_progress": _l("in progress"),
    # thresholds (never colour alone)
    "good": _l("On target"),
    "watch": _l("Watch"),
    "bad": _l("Below target"),
    "no_data": _l("No data"),
    # charts
    "today": _l("Today"),
    "last_week": _l("Same day last week"),
    "hour": _l("Hour"),
    "calls": _l("Calls"),
    "open": _l("Still open"),
    "others": _l("{n} other contact points"),
    "on_time_30d": _l("On time, 30 days"),
    # lists
    "showing": _l("showing {n} of {total}"),
    "nothing_at_risk": _l("Nothing is at risk."),
    "nothing_breached": _l("Nothing is breached."),
    "no_contact_points": _l("No contact point has open or recent tickets."),
    "no_acks": _l("No 115 acknowledgement yet today."),
    "first_response": _l("First response"),
    "acknowledgement": _l("Acknowledgement"),
    "resolution": _l("Resolution"),
    "not_routed": _l("Not routed"),
    "ticket": _l("Ticket"),
    "unit": _l("Unit"),
    "clock": _l("Clock"),
    "status": _l("Status"),
    "due": _l("Due"),
    "time_left": _l("Time left"),
    "overdue": _l("Overdue"),
    "description": _l("Description"),
    "line": _l("Line"),
    "contact_point": _l("Contact point"),
    "at_risk": _l("At risk"),
    "breached": _l("Breached"),
    "on_time_7d": _l("On time 7 d"),
    "on_time_30d_col": _l("On time 30 d"),
    "first_response_30d": _l("First response 30 d"),
    "median_resolution": _l("Median resolution"),
    "satisfaction": _l("Satisfaction"),
    "hospital": _l("Hospital"),
    "called_at": _l("Called at"),
    "acknowledged_at": _l("Acknowledged at"),
    "seconds": _l("Seconds"),
    "hours": _l("{n} h"),
    "open_ticket": _l("Open ticket {code}"),
}


@bp.get("/supervisor")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def board():
    return render_console("consoles/wallboard.html", "wallboard", strings=STRINGS,
                          page={"ack_target_seconds": current_app.config["DISPATCH_ACK_SECONDS"],
                                "answer_target_seconds": 15})
