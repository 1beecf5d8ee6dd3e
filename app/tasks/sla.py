"""The SLA sweep: warnings and breaches, each published exactly once."""

from __future__ import annotations

from app.database import db
from app.jobs import job
from app.publisher import commit_and_publish
from tickets import sla
from tickets.db import utcnow


@job
def sweep_sla() -> int:
    """Mark clocks past their warning or due time and tell the consoles."""
    session = db.session
    alerts = sla.sweep(session, utcnow())
    commit_and_publish(session, [*alerts, *sla.alert_events(alerts)])
    return len(alerts)
