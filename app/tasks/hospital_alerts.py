"""Calling and texting hospital emergency desks about 115 dispatches (tickets/hospital_alerts.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flask import current_app

from app.database import db
from app.hospital_alerts import case_for
from app.jobs import job, jobs
from app.publisher import commit_and_publish
from integrations.twilio_rest import CallPlacer, SendFailed, SmsSender
from tickets import hospital_alerts
from tickets.db import utcnow

# A queued row younger than this still has its own job coming; the sweep leaves it alone.
SWEEP_GRACE = timedelta(seconds=5)


def call_placer() -> CallPlacer:
    config = current_app.config
    return current_app.extensions.get("call_placer") or CallPlacer(
        account_sid=config["TWILIO_ACCOUNT_SID"], auth_token=config["TWILIO_AUTH_TOKEN"],
        from_number=config["HOTLINE_NUMBER_115"])


def desk_sms_sender() -> SmsSender:
    config = current_app.config
    return current_app.extensions.get("desk_sms_sender") or SmsSender(
        account_sid=config["TWILIO_ACCOUNT_SID"], auth_token=config["TWILIO_AUTH_TOKEN"],
        from_number=config["HOTLINE_NUMBER_115"])


def _webhook(path: str, alert_id: int) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/twilio/dispatch/{path}?alert={alert_id}"


def enqueue_alert(alert_id: int) -> None:
    jobs().enqueue("app.tasks.hospital_alerts.send_alert", alert_id, queue="dispatch", key=f"desk-alert-{alert_id}")


@job
def send_alert(alert_id: int) -> str:
    """Place one desk call or send one desk SMS, at most once: only the job that claims the row
    acts, and not at all if the case was acknowledged or went elsewhere meanwhile."""
    session = db.session
    alert = hospital_alerts.claim_alert(session, alert_id, utcnow())
    if alert is None:
        return "not-queued"  # done, or another worker has it
    reason = hospital_alerts.why_not_send(session, alert)
    if reason:
        commit_and_publish(session, hospital_alerts.mark_skipped(session, alert, reason, utcnow()))
        return f"skipped: {reason}"
    try:
        if alert.channel == "call":
            sid = call_placer().place(alert.to_number, url=_webhook("announce", alert.id),
                                      status_callback=_webhook("status", alert.id))
        else:
            alert.body = hospital_alerts.desk_sms(case_for(session, alert.ticket, alert.hospital))
            sender = replace(desk_sms_sender(), status_callback=_webhook("sms-status", alert.id))
            sid = sender.send(alert.to_number, alert.body)
    except SendFailed as exc:
        commit_and_publish(session, hospital_alerts.release_after_failure(session, alert, str(exc), utcnow()))
        raise  # the job is retried with backoff (app.jobs.RETRY_INTERVALS); the sweep too
    hospital_alerts.mark_placed(alert, sid, utcnow())
    session.commit()
    return sid


@job
def sweep_alerts() -> int:
    """Enqueue alerts whose job was lost (Redis down, worker restart); expire stuck ones."""
    session = db.session
    now = utcnow()
    hospital_alerts.expire_stale_sending(session, now)
    session.commit()
    waiting = hospital_alerts.waiting_alerts(session, now, SWEEP_GRACE)
    for alert_id in waiting:
        enqueue_alert(alert_id)
    return len(waiting)
