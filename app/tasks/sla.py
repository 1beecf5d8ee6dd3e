"""The SLA jobs: the sweep (warnings, breaches and escalation steps, each published exactly
once) and the daily rollup the summary reads."""

from __future__ import annotations

from flask import current_app

from app.database import db
from app.jobs import job
from app.publisher import commit_and_publish
from tickets import escalation, sla, sla_rollup
from tickets.db import utcnow

ROLLUP_DAYS_PER_RUN = 120  # a few seconds a day at a million tickets: a backfill takes a few runs


@job
def sweep_sla() -> int:
    """Mark clocks past their warning or due time, take the escalation steps now due, and
    tell the consoles (and, by SMS, the people escalated to) — all in one transaction."""
    session = db.session
    now = utcnow()
    alerts = sla.sweep(session, now)
    escalated = escalation.escalate(session, now, current_app.config["HOTLINE_TIMEZONE"])
    commit_and_publish(session, [*alerts, *sla.alert_events(alerts), *escalated])
    return len(alerts)


@job
def rollup_sla() -> int:
    """Recompute the daily rollup of closed days whose tickets changed (idempotent). A first
    run on a large database is spread over several periods; meanwhile the summary computes
    the days not rolled up yet live."""
    return sla_rollup.refresh(db.session, utcnow(), current_app.config["HOTLINE_TIMEZONE"],
                              max_days=ROLLUP_DAYS_PER_RUN)
