"""The one road from domain events to the outside world, after commit.

Views, webhooks and jobs all finish with ``commit_and_publish``: it lets the domain queue
the SMS the events call for (inside the transaction), commits, and only then tells the
consoles and enqueues the jobs. This module alone knows which Socket.IO event, which rooms
and which payload each domain event becomes; no view emits by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import Session

from app.api.serialize import ticket_out
from app.calendars import sla_calendars
from app.extensions import socketio
from app.jobs import jobs
from app.router import DispatchEscalated, route_new_tickets
from app.timefmt import local
from tickets import sla
from tickets.calls import Call, CallEnded, CallIncoming, caller_history
from tickets.db import utcnow
from tickets.events import LateAcknowledgement, TicketChanged, TicketOpened
from tickets.messages import MessageQueued
from tickets.models import Ticket
from tickets.notifications import NotifySettings, notify

log = logging.getLogger(__name__)


def rooms_for(ticket: Ticket) -> list[str]:
    """Every room whose members may read ``ticket`` (CONTRACT.md, Socket.IO)."""
    rooms = ["supervisors", "operators" if ticket.line == "1022" else "dispatch"]
    if ticket.contact_point is not None:
        rooms.append(f"cp:{ticket.contact_point.code}")
    if ticket.hospital is not None:
        rooms.append(f"hospital:{ticket.hospital.code}")
    return rooms


def _ticket_json(ticket: Ticket) -> dict:
    """The ticket as consoles receive it, serialised once per publish even when several
    events of one request carry it (a call sends ticket.created and call.incoming)."""
    from sqlalchemy.orm import object_session

    cache = object_session(ticket).info.setdefault("published_tickets", {})
    key = (ticket.id, ticket.version)
    if key not in cache:
        cache[key] = ticket_out(ticket).model_dump(mode="json")
    return cache[key]


def _emit(name: str, payload: dict, rooms: list[str]) -> None:
    try:
        socketio.emit(name, payload, to=rooms)
    except Exception:  # a console update must never undo or fail a committed change
        log.exception("publishing %s failed", name)


def _ticket_changed(session: Session, event: TicketChanged) -> None:
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    name = "ticket.created" if isinstance(event, TicketOpened) else "ticket.updated"
    _emit(name, {"ticket": _ticket_json(ticket), "action": event.action},
          rooms_for(ticket))
    if ticket.line == "115" and event.action == "assign" and ticket.assigned_at is not None:
        # The acknowledgement deadline, to the second; the periodic sweep is the safety net.
        ack = current_app.config["DISPATCH_ACK_SECONDS"]
        jobs().enqueue("app.tasks.dispatch.check_dispatch", ticket.id, queue="dispatch",
                       key=f"ack-{ticket.id}-{ticket.version}",
                       at=ticket.assigned_at + timedelta(seconds=ack))


def _dispatch_escalated(session: Session, event: DispatchEscalated) -> None:
    ticket = session.get(Ticket, event.ticket_id)
    _emit("dispatch.escalated", {"ticket": _ticket_json(ticket),
                                 "from_hospital": event.from_hospital, "to_hospital": event.to_hospital,
                                 "reason": event.reason}, rooms_for(ticket))


def _late_acknowledgement(session: Session, event: LateAcknowledgement) -> None:
    ticket = session.get(Ticket, event.ticket_id)
    _emit("dispatch.late_acknowledgement", {"ticket": _ticket_json(ticket),
                                            "hospital": event.hospital}, ["dispatch", "supervisors"])


def _call_incoming(session: Session, event: CallIncoming) -> None:
    call = session.get(Call, event.call_id)
    ticket = call.ticket
    history = caller_history(session, ticket.caller_phone, exclude_ticket_id=ticket.id)
    _emit("call.incoming", {
        "call_sid": call.sid, "line": call.line, "from": ticket.caller_phone or call.from_number,
        "ticket": _ticket_json(ticket),
        "history": [_ticket_json(t) for t in history],
    }, ["supervisors", "operators" if call.line == "1022" else "dispatch"])


def _call_ended(session: Session, event: CallEnded) -> None:
    call = session.get(Call, event.call_id)
    _emit("call.ended", {"call_sid": call.sid, "status": call.status, "duration": call.duration,
                         "ticket": _ticket_json(call.ticket)},
          ["supervisors", "operators" if call.line == "1022" else "dispatch"])


def _sla_alert(session: Session, alert: sla.SlaAlert) -> None:
    ticket = session.get(Ticket, alert.ticket_id)
    clock = session.get(sla.SlaClock, alert.clock_id)
    if ticket is None or clock is None:
        return
    due = local(clock.due_at) if clock.due_at else None
    _emit(f"sla.{alert.kind}", {"ticket": _ticket_json(ticket), "clock": clock.clock,
                                "due": due.isoformat() if due else None}, rooms_for(ticket))


def _message_queued(_session: Session, event: MessageQueued) -> None:
    jobs().enqueue("app.tasks.messages.send_message", event.message_id, queue="sms",
                   key=f"sms-{event.message_id}")


# Domain event type -> what it becomes once committed.
HANDLERS: dict[type, Callable[[Session, object], None]] = {
    TicketOpened: _ticket_changed,
    TicketChanged: _ticket_changed,
    CallIncoming: _call_incoming,
    CallEnded: _call_ended,
    MessageQueued: _message_queued,
    sla.SlaAlert: _sla_alert,
    DispatchEscalated: _dispatch_escalated,
    LateAcknowledgement: _late_acknowledgement,
}


def notify_settings() -> NotifySettings:
    return NotifySettings(track_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/track/{code}")


def publish(session: Session, events: list) -> None:
    """Hand each committed domain event to its handler."""
    session.info.pop("published_tickets", None)  # serialisations of an earlier publish are stale
    for event in events:
        HANDLERS[type(event)](session, event)


def commit_and_publish(session: Session, events: list) -> None:
    """Run the SLA clocks and queue the SMS the events call for, commit it all, then publish."""
    now = utcnow()
    events = [*events, *route_new_tickets(session, events, now)]
    sla.apply(session, events, now, sla_calendars(), current_app.config["DISPATCH_ACK_SECONDS"])
    events = [*events, *notify(session, events, notify_settings(), now)]
    session.commit()
    publish(session, events)
