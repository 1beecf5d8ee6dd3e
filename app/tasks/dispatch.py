"""115 acknowledgement deadlines: re-dispatch to the next hospital when one stays silent."""

from __future__ import annotations

from flask import current_app

from app.database import db
from app.jobs import job
from app.publisher import commit_and_publish
from app.router import overdue_dispatches, redispatch
from tickets.db import utcnow


@job
def check_dispatch(ticket_id: int) -> int:
    """At a dispatch's deadline: re-dispatch if the hospital has not acknowledged."""
    events = redispatch(db.session, ticket_id, utcnow(), current_app.config["DISPATCH_ACK_SECONDS"])
    commit_and_publish(db.session, events)
    return len(events)


@job
def sweep_dispatch() -> int:
    """Catch every overdue dispatch, whatever happened to its own job."""
    ack = current_app.config["DISPATCH_ACK_SECONDS"]
    done = 0
    for ticket_id in overdue_dispatches(db.session, utcnow(), ack):
        events = redispatch(db.session, ticket_id, utcnow(), ack)
        commit_and_publish(db.session, events)
        done += bool(events)
    return done
