"""Twilio webhooks of the calls to hospital emergency desks (tickets/hospital_alerts.py).

``/twilio/dispatch/announce?alert=ID`` reads the case when the desk answers; the desk's key
goes to ``/ack``, where 1 acknowledges the dispatch as the hospital's console would; call and
SMS progress arrive at ``/status`` and ``/sms-status``. Signatures are checked by
``app.telephony.twilio_webhook`` (403, nothing written); a failure inside still answers TwiML
the desk can hear, never an application error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, current_app, request
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.database import db
from app.publisher import commit_and_publish
from app.telephony import no_content, twilio_webhook, url, xml
from integrations import hospital_call
from tickets import hospital_alerts
from tickets.db import utcnow
from tickets.hospital_alerts import HospitalAlert
from tickets.models import Ticket

log = logging.getLogger(__name__)
bp = Blueprint("hospital_alerts", __name__, url_prefix="/twilio/dispatch")


# ---- helpers -----------------------------------------------------------------------------

def desk() -> hospital_call.DeskCall:
    return hospital_call.DeskCall(current_app.config["TWILIO_VOICE"])


def case_for(session: Session, ticket: Ticket, hospital) -> hospital_alerts.CaseFacts:
    """The case as the desk hears and reads it; a ticket with only a point is placed near the
    ward it lies in."""
    near = None
    if ticket.ward_code is None and ticket.lat is not None and ticket.lon is not None:
        try:
            from app.router import snapshot
            from routing.location import from_point

            found = from_point(snapshot(session).directory, ticket.lat, ticket.lon)
            near = (found.ward_code, found.district_code) if found.district_code else None
        except Exception:  # a place name is a nicety: the case is read with its coordinates
            log.warning("no ward found for ticket %s at (%s, %s)", ticket.id, ticket.lat, ticket.lon)
    return hospital_alerts.case_facts(session, ticket, hospital, near=near)


def _alert() -> HospitalAlert | None:
    raw = request.args.get("alert", "")
    alert = db.session.get(HospitalAlert, int(raw)) if raw.isdigit() else None
    if alert is None:
        log.warning("Twilio %s for unknown alert %r", request.path, raw)
    return alert


def _int(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() else None


def answers_the_desk(fn: Callable) -> Callable:
    """A failure while the desk is on the line still answers TwiML it can hear."""

    @wraps(fn)
    def view(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("desk call webhook %s failed; answering safely", request.path)
            db.session.rollback()
            return xml(desk().goodbye(hospital_call.TROUBLE))

    return view


# ---- the call ----------------------------------------------------------------------------

@bp.post("/announce")
@twilio_webhook
@answers_the_desk
def announce():
    """The desk answered: read the case, unless it is no longer theirs to take."""
    alert = _alert()
    if alert is None or alert.channel != "call":
        return xml(desk().goodbye(hospital_call.UNKNOWN))
    case = case_for(db.session, alert.ticket, alert.hospital)
    state, elsewhere = hospital_alerts.desk_view(alert)
    if state == "waiting":
        return xml(desk().announce(case, url("/dispatch/ack", alert=str(alert.id))))
    if state == "elsewhere":
        return xml(desk().goodbye(hospital_call.went_elsewhere(case, elsewhere.name if elsewhere else None)))
    if state == "already":
        return xml(desk().goodbye(hospital_call.already_acknowledged(case)))
    return xml(desk().goodbye(hospital_call.closed(case)))


@bp.post("/ack")
@twilio_webhook
@answers_the_desk
def acknowledge():
    """The desk pressed a key: 1 acknowledges, anything else hears the case again."""
    alert = _alert()
    if alert is None or alert.channel != "call":
        return xml(desk().goodbye(hospital_call.UNKNOWN))
    if request.form.get("Digits", "").strip() != "1":
        tries = int(request.args["tries"]) + 1 if request.args.get("tries", "").isdigit() else 1
        if tries >= hospital_call.MAX_WRONG_KEYS:
            return xml(desk().goodbye(hospital_call.NO_ANSWER))
        case = case_for(db.session, alert.ticket, alert.hospital)
        return xml(desk().announce(case, url("/dispatch/ack", alert=str(alert.id), tries=str(tries)),
                                   prefix=hospital_call.WRONG_KEY))
    answer = _acknowledge(alert.id)
    alert = db.session.get(HospitalAlert, alert.id)
    case = case_for(db.session, alert.ticket, alert.hospital)
    other = answer.current_hospital.name if answer.current_hospital else None
    text = {"acknowledged": hospital_call.acknowledged(case), "late": hospital_call.late_recorded(case, other),
            "already": hospital_call.already_acknowledged(case),
            "closed": hospital_call.closed(case)}.get(answer.outcome, hospital_call.UNKNOWN)
    return xml(desk().goodbye(text))


def _acknowledge(alert_id: int) -> hospital_alerts.DeskAnswer:
    """Acknowledge and commit. If the deadline job re-dispatched the case at the same instant,
    the version check refuses one of the two: then this runs again on what the job committed
    (the late-acknowledgement path)."""
    try:
        return _acknowledge_once(alert_id)
    except StaleDataError:
        db.session.rollback()
        return _acknowledge_once(alert_id)


def _acknowledge_once(alert_id: int) -> hospital_alerts.DeskAnswer:
    answer = hospital_alerts.acknowledge_by_phone(db.session, alert_id, utcnow())
    commit_and_publish(db.session, answer.events)
    return answer


# ---- progress callbacks ------------------------------------------------------------------

@bp.post("/status")
@twilio_webhook
def call_status():
    alert = _alert()
    if alert is not None and alert.channel == "call":
        events = hospital_alerts.record_status(db.session, alert, request.form.get("CallStatus", ""), utcnow(),
                                               provider_sid=request.form.get("CallSid"),
                                               duration=_int("CallDuration"), error_code=request.form.get("ErrorCode"))
        commit_and_publish(db.session, events)
    return no_content()


@bp.post("/sms-status")
@twilio_webhook
def sms_status():
    alert = _alert()
    form = request.form
    if alert is not None and alert.channel == "sms":
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        events = hospital_alerts.record_status(db.session, alert, status, utcnow(),
                                               provider_sid=form.get("MessageSid") or form.get("SmsSid"),
                                               error_code=form.get("ErrorCode"))
        commit_and_publish(db.session, events)
    return no_content()


def init_app(app: Flask) -> None:
    from app.extensions import csrf

    csrf.exempt(bp)  # Twilio cannot send a CSRF token; the signature protects these instead
    app.register_blueprint(bp)
