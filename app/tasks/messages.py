"""Sending the SMS outbox."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.database import db
from app.jobs import job, jobs
from integrations.twilio_rest import SendFailed, SmsSender
from tickets import messages
from tickets.db import utcnow

# A queued row younger than this still has its own job coming; the sweep leaves it alone.
SWEEP_GRACE = timedelta(seconds=15)


def sms_sender() -> SmsSender:
    config = current_app.config
    return current_app.extensions.get("sms_sender") or SmsSender(
        account_sid=config["TWILIO_ACCOUNT_SID"], auth_token=config["TWILIO_AUTH_TOKEN"],
        from_number=config["HOTLINE_NUMBER_1022"],
        status_callback=config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio/sms/status")


@job
def send_message(message_id: int) -> str:
    """Send one outbox row, at most once: only the job that claims the row sends it."""
    session = db.session
    message = messages.claim_message(session, message_id, utcnow())
    if message is None:
        return "not-queued"  # already sent, or another worker has it
    try:
        sid = sms_sender().send(message.to_number, message.body)
    except SendFailed as exc:
        messages.release_after_failure(session, message, str(exc))
        raise  # the job is retried with backoff (RETRY_INTERVALS)
    messages.mark_sent(session, message, sid, utcnow())
    return sid


@job
def sweep_outbox() -> int:
    """Enqueue rows whose send job was lost (Redis down, worker restart); expire stuck ones."""
    session = db.session
    now = utcnow()
    messages.expire_stale_sending(session, now)
    session.commit()
    waiting = messages.waiting_messages(session, now, SWEEP_GRACE)
    for message_id in waiting:
        jobs().enqueue("app.tasks.messages.send_message", message_id, queue="sms",
                       key=f"sms-{message_id}")
    return len(waiting)
