"""The citizen's view: a ticket's status by its tracking code, with no personal data."""

from __future__ import annotations

from flask import Blueprint

from app.api.endpoint import endpoint
from app.api.schemas import Named, PublicStep, PublicTicketOut
from app.database import db
from app.timefmt import local
from tickets.codes import normalise_code
from tickets.errors import NotFound
from tickets.lifecycle import Status
from tickets.queries import find_by_code
from tickets.services import ticket_events

bp = Blueprint("api_public", __name__, url_prefix="/api/public")
STATUSES = frozenset(str(s) for s in Status)


def public_ticket(code: str) -> PublicTicketOut:
    """The public view of the ticket with this code, or NotFound."""
    canonical = normalise_code(code)
    ticket = find_by_code(db.session, canonical) if canonical else None
    if ticket is None:
        raise NotFound("No ticket has this tracking code", {"code": code[:40]})
    # Status changes only: other entries may also have a "to" (a desk alert's phone number).
    steps = [PublicStep(status="new", at=local(ticket.created_at))] + [
        PublicStep(status=e.data["to"], at=local(e.at))
        for e in ticket_events(db.session, ticket) if (e.data or {}).get("to") in STATUSES
    ]
    where = ticket.contact_point.name_vi if ticket.contact_point else (
        ticket.hospital.name if ticket.hospital else None)
    category = Named(code=ticket.category.code, name=ticket.category.name_vi) if ticket.category else None
    return PublicTicketOut(code=ticket.code, line=ticket.line, status=ticket.status,
                           category=category, handled_by=where,
                           created_at=local(ticket.created_at), updated_at=local(ticket.updated_at),
                           steps=steps)


@endpoint(bp, "/track/<code>", summary="Public status of a ticket by its tracking code",
          tag="public", response=PublicTicketOut, public=True)
def track(code: str):
    return public_ticket(code)
