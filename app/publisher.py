"""The one road from domain events to the consoles.

Views and jobs commit, then hand the domain events here; this module alone knows which
Socket.IO event, which rooms and which payload each one becomes. Publishing happens only
after the commit, so no console ever sees a change that was rolled back.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.api.serialize import ticket_out
from app.extensions import socketio
from tickets.events import TicketChanged, TicketOpened
from tickets.models import Ticket

log = logging.getLogger(__name__)


def rooms_for(ticket: Ticket) -> list[str]:
    """Every room whose members may read ``ticket`` (CONTRACT.md, Socket.IO)."""
    rooms = ["supervisors", "operators" if ticket.line == "1022" else "dispatch"]
    if ticket.contact_point is not None:
        rooms.append(f"cp:{ticket.contact_point.code}")
    if ticket.hospital is not None:
        rooms.append(f"hospital:{ticket.hospital.code}")
    return rooms


def publish(session: Session, events: list[TicketChanged]) -> None:
    """Send each committed domain event to the consoles allowed to see it."""
    for event in events:
        ticket = session.get(Ticket, event.ticket_id)
        if ticket is None:
            continue
        name = "ticket.created" if isinstance(event, TicketOpened) else "ticket.updated"
        payload = {"ticket": ticket_out(ticket).model_dump(mode="json"), "action": event.action}
        try:
            socketio.emit(name, payload, to=rooms_for(ticket))
        except Exception:  # a console update must never undo or fail a committed change
            log.exception("publishing %s for ticket %s failed", name, ticket.id)


def commit_and_publish(session: Session, events: list[TicketChanged]) -> None:
    """Commit the request's work, then publish what it did."""
    session.commit()
    publish(session, events)
