"""Phones for operators and dispatchers: on-duty status, the call-back list, softphone tokens."""

from __future__ import annotations

from flask import Blueprint, current_app

from app.api.endpoint import endpoint
from app.api.errors import ApiError
from app.api.schemas import CallbackList, CallbackOut, DutyBody, DutyOut, TicketOut, VoiceTokenOut
from app.api.serialize import ticket_out
from app.config import softphone_missing
from app.database import db
from app.publisher import commit_and_publish
from app.timefmt import local
from tickets import calls
from tickets.accounts import Role, on_duty_count, set_on_duty
from tickets.db import utcnow
from tickets.errors import Forbidden, NotFound
from tickets.models import Ticket
from tickets.permissions import can_read

bp = Blueprint("api_calls", __name__, url_prefix="/api")
PHONE_ROLES = {Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN}
VOICE_TOKEN_TTL = 3600


def _phone_user(actor) -> None:
    if actor.role not in PHONE_ROLES:
        raise Forbidden("Only operators, dispatchers and supervisors take calls")


@endpoint(bp, "/me/duty", "POST", summary="Start or end your shift on the phones", tag="calls",
          body=DutyBody, response=DutyOut)
def set_duty(actor, body: DutyBody):
    _phone_user(actor)
    set_on_duty(db.session, actor, body.on_duty)
    db.session.commit()
    return DutyOut(on_duty=actor.on_duty, operators_on_duty=on_duty_count(db.session, Role.OPERATOR),
                   dispatchers_on_duty=on_duty_count(db.session, Role.DISPATCHER))


@endpoint(bp, "/calls/callbacks", summary="Calls that ended before anyone answered",
          tag="calls", response=CallbackList)
def callbacks(actor):
    _phone_user(actor)
    items = [
        CallbackOut(call_sid=c.sid, line=c.line, caller=c.ticket.caller_phone or c.from_number,
                    started_at=local(c.started_at), status=c.status, voicemail=c.voicemail,
                    recording_url=c.recording_url, ticket=ticket_out(c.ticket, actor))
        for c in calls.callback_list(db.session) if can_read(actor, c.ticket)
    ]
    return CallbackList(items=items)


@endpoint(bp, "/calls/<sid>/called-back", "POST", summary="Mark a call as called back",
          tag="calls", response=TicketOut)
def called_back(actor, sid: str):
    _phone_user(actor)
    call = calls.find_call(db.session, sid)
    if call is None or not can_read(actor, call.ticket):
        raise NotFound("Call not found")
    events = calls.mark_called_back(db.session, call, actor, utcnow())
    commit_and_publish(db.session, events)
    return ticket_out(db.session.get(Ticket, call.ticket_id), actor)


@endpoint(bp, "/voice/token", summary="A Twilio Voice access token for the browser softphone",
          tag="calls", response=VoiceTokenOut)
def voice_token(actor):
    _phone_user(actor)
    config = current_app.config
    if missing := softphone_missing(config):
        raise ApiError(503, "softphone_not_configured",
                       "The browser softphone needs " + ", ".join(missing) + "; desk phones still work")
    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import VoiceGrant

    token = AccessToken(config["TWILIO_ACCOUNT_SID"], config["TWILIO_API_KEY"], config["TWILIO_API_SECRET"],
                        identity=actor.username, ttl=VOICE_TOKEN_TTL)
    token.add_grant(VoiceGrant(outgoing_application_sid=config["TWILIO_TWIML_APP_SID"], incoming_allow=True))
    return VoiceTokenOut(token=token.to_jwt(), identity=actor.username, expires_in=VOICE_TOKEN_TTL)
