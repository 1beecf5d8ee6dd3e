"""Domain objects → API response models."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.api.schemas import CallOut, EventOut, Named, TicketDetail, TicketOut
from app.timefmt import local
from tickets import lifecycle
from tickets.calls import Call
from tickets.models import Ticket, TicketEvent
from tickets.permissions import Actor, can_read, may
from tickets.services import NUISANCE


def allowed_for(ticket: Ticket, actor: Actor | None) -> list[str]:
    """Lifecycle actions open now, narrowed to what ``actor`` may do (all, if no actor)."""
    actions = lifecycle.allowed_actions(ticket.status)
    if actor is None:
        return actions
    if not can_read(actor, ticket):
        return []
    return [a for a in actions if may(actor, a)]


def call_out(ticket: Ticket, known: Mapping[int, Call | None] | None = None) -> CallOut | None:
    """The ticket's latest phone call, if it came by phone; taken from ``known`` (ticket id →
    latest call or None) when the caller already has it."""
    if known is not None and ticket.id in known:
        call = known[ticket.id]
    else:
        session = object_session(ticket)
        call = session.scalar(select(Call).where(Call.ticket_id == ticket.id).order_by(Call.id.desc()).limit(1)) \
            if session is not None else None
    if call is None:
        return None
    return CallOut(sid=call.sid, status=call.status, duration=call.duration, queue_time=call.queue_time)


def ticket_out(ticket: Ticket, actor: Actor | None = None, *,
               calls: Mapping[int, Call | None] | None = None) -> TicketOut:
    cp, h = ticket.contact_point, ticket.hospital
    return TicketOut(
        id=ticket.id, code=ticket.code, line=ticket.line, channel=ticket.channel,
        status=ticket.status, priority=ticket.priority, category=ticket.category_code,
        description=ticket.description, caller_phone=ticket.caller_phone,
        caller_name=ticket.caller_name, address=ticket.address, ward_code=ticket.ward_code,
        lat=ticket.lat, lon=ticket.lon,
        contact_point=Named(code=cp.code, name=cp.name_vi) if cp else None,
        hospital=Named(code=h.code, name=h.name) if h else None,
        call=call_out(ticket, calls), callback_needed=ticket.callback_needed,
        waiting_on_caller=ticket.waiting_on_caller, resolution=ticket.resolution,
        created_at=local(ticket.created_at), updated_at=local(ticket.updated_at),
        first_response_due=local(ticket.first_response_due),
        resolution_due=local(ticket.resolution_due), sla_state=ticket.sla_state,
        satisfaction=ticket.satisfaction, routing=ticket.routing,
        category_confirmed=ticket.category_confirmed, version=ticket.version,
        cancel_reason=ticket.cancel_reason, nuisance=ticket.cancel_reason == NUISANCE,
        allowed_actions=allowed_for(ticket, actor),
    )


def event_out(event: TicketEvent) -> EventOut:
    return EventOut(id=event.id, action=event.action, actor=event.actor_label,
                    at=local(event.at), data=event.data or {})


def ticket_detail(ticket: Ticket, events: list[TicketEvent], actor: Actor) -> TicketDetail:
    return TicketDetail(**ticket_out(ticket, actor).model_dump(),
                        events=[event_out(e) for e in events])
