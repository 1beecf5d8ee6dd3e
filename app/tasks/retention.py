"""Personal-data retention, once a day (tickets/retention.py): anonymise the tickets finished
for RETENTION_MONTHS, then delete at Twilio the voicemail recordings of anonymised tickets."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from app.database import db
from app.jobs import job
from integrations.twilio_rest import DeleteFailed, RecordingDeleter
from tickets import retention
from tickets.db import utcnow

log = logging.getLogger(__name__)

BATCH = 200  # tickets per transaction
# A run stays well inside RQ's job timeout (180 s): a first run on years of tickets is spread
# over a few days; the command (`flask retention run`) has no such limit.
MAX_BATCHES_PER_RUN = 100  # ~1 ms a ticket on PostgreSQL: 20,000 tickets in well under a minute
RECORDINGS_PER_RUN = 500


def retention_period(now: datetime, months: int | None = None) -> timedelta | None:
    """How long finished tickets keep personal data (``months``, default RETENTION_MONTHS);
    None when retention is off (0)."""
    months = current_app.config["RETENTION_MONTHS"] if months is None else months
    return retention.months_before(now, months) if months > 0 else None


def recording_deleter() -> RecordingDeleter:
    config = current_app.config
    return current_app.extensions.get("recording_deleter") or RecordingDeleter(
        account_sid=config["TWILIO_ACCOUNT_SID"], auth_token=config["TWILIO_AUTH_TOKEN"])


def delete_recordings(limit: int | None = RECORDINGS_PER_RUN) -> int:
    """Delete at Twilio the recordings of anonymised tickets, each sid dropped once Twilio
    confirms; returns how many. A failure leaves the sid for the next run and, after the
    others were tried, raises DeleteFailed (so the job is retried and the failure seen).
    Without a Twilio account nothing is done: the sids wait for one."""
    deleter = recording_deleter()
    if deleter.demo:
        return 0
    session = db.session
    deleted, failures = 0, []
    for call_id, sid in retention.recordings_to_delete(session, limit):
        session.rollback()  # no transaction held open while Twilio answers
        try:
            deleter.delete(sid)
        except DeleteFailed as exc:
            log.warning("recording %s not deleted at Twilio: %s", sid, exc)
            failures.append(sid)
            continue
        retention.forget_recording(session, call_id)
        session.commit()
        deleted += 1
    if failures:
        raise DeleteFailed(f"{len(failures)} recording(s) not deleted at Twilio, kept for the next run: "
                           f"{', '.join(failures[:5])}")
    return deleted


@job
def anonymise_old_tickets() -> int:
    """The daily run: anonymise what has been finished for the retention period, then delete
    the recordings Twilio still holds; returns how many tickets were anonymised."""
    now = utcnow()
    older_than = retention_period(now)
    if older_than is None:
        return 0
    result = retention.anonymise_finished(db.session, now, older_than, BATCH, MAX_BATCHES_PER_RUN)
    delete_recordings()
    return result.tickets
