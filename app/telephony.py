"""Twilio webhooks (CONTRACT.md): calls and SMS open and update tickets.

Every request is signature-checked before anything is read or written. Twilio retries and
reorders requests, so each handler is idempotent (keyed on CallSid, RecordingSid,
MessageSid) and always answers something Twilio can use — valid TwiML or 204 — never a 500:
a caller must never hear "an application error has occurred".
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Callable
from functools import wraps
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator

from app.calendars import hotline_calendar
from app.database import db
from app.publisher import commit_and_publish
from integrations import twiml
from integrations.ivr import choose, load_menu
from tickets import calls, messages
from tickets.accounts import on_duty_count
from tickets.db import utcnow
from tickets.sms_intake import receive_sms

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
DEMO_TOKEN_FILE = "demo-twilio-token"  # noqa: S105 - a file name, not a token


# ---- signatures --------------------------------------------------------------------------

def auth_token(app: Flask) -> str | None:
    """The token webhooks are signed with: Twilio's, or in demo mode a local random one."""
    if app.config["TWILIO_AUTH_TOKEN"]:
        return app.config["TWILIO_AUTH_TOKEN"]
    if not app.config["HOTLINE_DEMO"]:
        return None
    # Shared through the instance folder so that `flask simulate-call` in another process
    # signs with the same token as the server; never committed, made on first use.
    path = Path(app.instance_path) / DEMO_TOKEN_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
    return path.read_text().strip()


def signed_url() -> str:
    """The URL Twilio signed: the public base URL, never the internal host behind a proxy."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    query = request.query_string.decode()
    return base + request.path + (f"?{query}" if query else "")


def signed_by_twilio(token: str, signature: str) -> bool:
    """Whether ``signature`` is Twilio's for this request (URL and form) under ``token``."""
    validator, url, form = RequestValidator(token), signed_url(), request.form
    # First one HMAC over the URL exactly as configured, which is what Twilio signs; the
    # library's own check, which computes two (the URL with and without its default port),
    # only when that fails. Either way only the holder of the token can produce a match.
    expected = validator.compute_signature(url, form)
    return hmac.compare_digest(expected.encode(), signature.encode()) or validator.validate(url, form, signature)


def twilio_webhook(fn: Callable) -> Callable:
    """Refuse unsigned requests (403, nothing written); turn any failure into a safe answer."""

    @wraps(fn)
    def view(*args, **kwargs):
        token = auth_token(current_app)
        if token is None:
            log.error("Twilio webhook refused: TWILIO_AUTH_TOKEN is not set")
            return Response("Twilio is not configured", status=503, mimetype="text/plain")
        if not signed_by_twilio(token, request.headers.get("X-Twilio-Signature", "")):
            log.warning("Twilio webhook %s refused: bad signature from %s", request.path,
                        request.remote_addr)
            return Response("Invalid signature", status=403, mimetype="text/plain")
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("Twilio webhook %s failed; answering safely", request.path)
            db.session.rollback()
            return safe_answer()

    return view


def safe_answer() -> Response:
    """What Twilio gets when handling failed (the database is down, say): an emergency caller
    still reaches the dispatchers' queue, which needs no database; others hear an apology."""
    if request.path in CALL_CONTROL_PATHS:
        if line_for(request.form.get("To", "")) == "115" or request.args.get("line") == "115":
            return xml(voice().queue(twiml.QUEUE_115, url("/voice/wait", line="115"),
                                     url("/voice/queue-result", line="115")))
        if request.path in ("/twilio/voice/queue-result", "/twilio/voice/bridged"):
            return xml(twiml.empty())
        return xml(voice().goodbye(
            "Xin lỗi, hệ thống đang gặp sự cố. Xin quý khách vui lòng gọi lại sau ít phút."))
    return no_content()


# ---- helpers -----------------------------------------------------------------------------

def xml(document: str) -> Response:
    return Response(document, mimetype="text/xml")


def no_content() -> Response:
    return Response(status=204)


def voice() -> twiml.Voice:
    return twiml.Voice(current_app.config["TWILIO_VOICE"])


def url(path: str, **query: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio" + path
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number or "")


def line_for(to: str) -> str | None:
    """Which hotline a call or SMS was made to, from ``To``; None for a number we don't serve."""
    config = current_app.config
    for line, key in (("1022", "HOTLINE_NUMBER_1022"), ("115", "HOTLINE_NUMBER_115")):
        if _digits(to) and _digits(to) == _digits(config[key]):
            return line
    return None


def _int(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() else None


def current_call() -> calls.Call | None:
    sid = request.form.get("CallSid", "")
    call = calls.find_call(db.session, sid) if sid else None
    if call is None:
        log.warning("Twilio %s for unknown call %r", request.path, sid)
    return call


# ---- voice -------------------------------------------------------------------------------

@bp.post("/voice")
@twilio_webhook
def incoming_call():
    sid, from_raw, to = (request.form.get(k, "").strip() for k in ("CallSid", "From", "To"))
    line = line_for(to)
    if not sid or line is None:
        log.warning("incoming call refused: CallSid=%r To=%r", sid, to)
        return xml(voice().goodbye("Xin lỗi, số điện thoại quý khách gọi không đúng. Xin cảm ơn."))
    # The answer is decided first, inside the transaction that records the call: one
    # connection and one transaction per call, none opened again after the commit.
    if line == "115":
        answer = xml(voice().queue(twiml.QUEUE_115, url("/voice/wait", line="115"),
                                   url("/voice/queue-result", line="115"),
                                   intro="Cấp cứu 115 xin nghe. Đang kết nối điều phối viên."))
    elif not hotline_calendar().is_open(utcnow()):
        answer = _voicemail("Tổng đài 1022 hiện ngoài giờ làm việc.")
    elif on_duty_count(db.session, "operator") == 0:
        answer = _voicemail("Hiện tất cả tổng đài viên đều bận.")
    else:
        answer = xml(voice().menu(load_menu(), url("/voice/gather"), url("/voice/gather", skipped="1")))
    _open_call_once(sid, line, from_raw or "unknown", to)
    return answer


def _open_call_once(sid: str, line: str, from_raw: str, to: str) -> None:
    """Open the call for ``sid`` (and its ticket), unless a request for it came first."""
    try:
        _call, events = calls.open_call(db.session, sid=sid, line=line, from_raw=from_raw, to=to,
                                        now=utcnow())
        commit_and_publish(db.session, events)
    except IntegrityError:
        # A retry of a call already recorded (or a concurrent twin that committed first):
        # its call and ticket stand; this transaction, ticket included, is rolled back.
        db.session.rollback()


def _voicemail(reason: str) -> Response:
    return xml(voice().voicemail(reason, url("/voice/recorded"), url("/voice/recording")))


@bp.post("/voice/gather")
@twilio_webhook
def gathered():
    call = current_call()
    entry = choose(load_menu(), request.form.get("Digits"), request.form.get("SpeechResult"))
    if call is not None and entry is not None:
        events = calls.set_call_category(db.session, call, entry.category,
                                         "dtmf" if request.form.get("Digits") else "speech", utcnow())
        commit_and_publish(db.session, events)
        intro = "Cảm ơn quý khách. Đang chuyển tới tổng đài viên."
    elif request.args.get("skipped"):
        intro = "Đang chuyển tới tổng đài viên."
    else:
        intro = "Lựa chọn chưa rõ. Đang chuyển tới tổng đài viên."
    return xml(voice().queue(twiml.QUEUE_1022, url("/voice/wait", line="1022"), url("/voice/queue-result"),
                             intro=intro))


@bp.post("/voice/wait")
@twilio_webhook
def waiting():
    emergency = request.args.get("line") == "115"
    fallback = current_app.config["HOTLINE_115_FALLBACK_NUMBER"]
    waited = _int("QueueTime") or 0
    if emergency and fallback and waited >= current_app.config["DISPATCHER_ANSWER_SECONDS"]:
        return xml(voice().leave_queue())  # the Enqueue action then dials the fallback
    return xml(voice().waiting(_int("QueuePosition"), emergency))


@bp.post("/voice/queue-result")
@twilio_webhook
def queue_result():
    call = current_call()
    result = request.form.get("QueueResult", "")
    if call is not None:
        calls.record_queue_result(db.session, call, result, _int("QueueTime"), utcnow())
        db.session.commit()
    fallback = current_app.config["HOTLINE_115_FALLBACK_NUMBER"]
    emergency = request.args.get("line") == "115" or (call is not None and call.line == "115")
    if result == "leave" and emergency and fallback:
        return xml(voice().dial(fallback, "Đang chuyển cuộc gọi tới bộ phận cấp cứu dự phòng."))
    return xml(twiml.empty())


@bp.post("/voice/bridged")
@twilio_webhook
def bridged():
    """Run on the waiting caller's leg just before a person is connected: the answer time."""
    call = current_call()
    if call is not None:
        calls.mark_answered(db.session, call, utcnow())
        if call.queue_time is None:
            call.queue_time = _int("QueueTime")
        db.session.commit()
    return xml(twiml.empty())


@bp.post("/voice/operator")
@twilio_webhook
def operator_leg():
    """An operator's (or, with line=115, a dispatcher's) phone: take the next caller."""
    queue = twiml.QUEUE_115 if request.args.get("line") == "115" else twiml.QUEUE_1022
    return xml(voice().bridge_from_queue(queue, url("/voice/bridged")))


@bp.post("/voice/recorded")
@twilio_webhook
def recorded():
    return xml(voice().goodbye("Cảm ơn quý khách. Chúng tôi sẽ gọi lại sớm nhất."))


@bp.post("/voice/status")
@twilio_webhook
def call_status():
    call = current_call()
    if call is not None:
        events = calls.update_call_status(db.session, call, request.form.get("CallStatus", ""),
                                          utcnow(), duration=_int("CallDuration"))
        commit_and_publish(db.session, events)
    return no_content()


@bp.post("/voice/recording")
@twilio_webhook
def recording():
    call = current_call()
    form = request.form
    if call is not None and form.get("RecordingStatus", "completed") == "completed" and form.get("RecordingSid"):
        events = calls.attach_recording(db.session, call, recording_sid=form["RecordingSid"],
                                        url=form.get("RecordingUrl", ""), duration=_int("RecordingDuration"),
                                        now=utcnow())
        try:
            commit_and_publish(db.session, events)
        except IntegrityError:
            db.session.rollback()  # the same recording, delivered twice at once
    return no_content()


# ---- SMS ---------------------------------------------------------------------------------

@bp.post("/sms")
@twilio_webhook
def incoming_sms():
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid or line_for(form.get("To", "")) != "1022":
        log.warning("incoming SMS ignored: MessageSid=%r To=%r", sid, form.get("To"))
        return xml(twiml.empty())
    try:
        kind, events = receive_sms(db.session, sid=sid, from_raw=form.get("From", ""),
                                   to=form.get("To", ""), body=form.get("Body", ""), now=utcnow())
        commit_and_publish(db.session, events)
        log.info("SMS %s handled as %s", sid, kind)
    except IntegrityError:
        db.session.rollback()  # a concurrent retry of the same MessageSid won
    return xml(twiml.empty())


@bp.post("/sms/status")
@twilio_webhook
def sms_status():
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if not messages.update_delivery(db.session, sid, status, utcnow(), form.get("ErrorCode")):
        log.warning("delivery status for unknown message %r", sid)
    db.session.commit()
    return no_content()


# Paths whose answer controls a live call: a failure must still answer TwiML, never 204.
CALL_CONTROL_PATHS = {"/twilio/voice", "/twilio/voice/gather", "/twilio/voice/wait",
                      "/twilio/voice/queue-result", "/twilio/voice/bridged", "/twilio/voice/recorded"}


def init_app(app: Flask) -> None:
    from app.extensions import csrf

    csrf.exempt(bp)  # Twilio cannot send a CSRF token; the signature protects these instead
    app.register_blueprint(bp)
