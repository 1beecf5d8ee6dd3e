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
from tickets import escalation, sla
from tickets.audit import ConfigChanged
from tickets.calls import Call, CallEnded, CallIncoming, caller_history, latest_calls, nuisance_count
from tickets.db import utcnow
from tickets.events import LateAcknowledgement, TicketChanged, TicketOpened
from tickets.hospital_alerts import AlertQueued
from tickets.messages import MessageQueued
from tickets.models import Ticket, TicketEvent
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
        cache[key] = ticket_out(ticket, calls=object_session(ticket).info.get("known_calls")).model_dump(mode="json")
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
    rooms = rooms_for(ticket)
    _emit(name, {"ticket": _ticket_json(ticket), "action": event.action}, rooms)
    left = _room_left(session, event)
    if left is not None and left not in rooms:
        # The department or hospital that had it may no longer read it: tell its consoles to
        # drop the row, with nothing but the id they already held.
        _emit("ticket.removed", {"id": ticket.id, "action": event.action}, [left])
    if ticket.line == "115" and event.action == "assign" and ticket.assigned_at is not None:
        # The acknowledgement deadline, to the second; the periodic sweep is the safety net.
        ack = current_app.config["DISPATCH_ACK_SECONDS"]
        jobs().enqueue("app.tasks.dispatch.check_dispatch", ticket.id, queue="dispatch",
                       key=f"ack-{ticket.id}-{ticket.version}",
                       at=ticket.assigned_at + timedelta(seconds=ack))


def _room_left(session: Session, event: TicketChanged) -> str | None:
    """The room of the contact point or hospital a transfer or (re)assignment took the
    ticket away from, read from the history event the change appended."""
    if event.action not in ("assign", "transfer") or event.event_id is None:
        return None
    recorded = session.get(TicketEvent, event.event_id)
    previous = (recorded.data or {}).get("previous") if recorded is not None else None
    if isinstance(previous, str):  # a transfer names the contact point it left
        return f"cp:{previous}"
    if isinstance(previous, dict):
        if previous.get("contact_point"):
            return f"cp:{previous['contact_point']}"
        if previous.get("hospital"):
            return f"hospital:{previous['hospital']}"
    return None


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
    history = session.info.get("caller_history", {}).get(event.call_id)
    if history is None:
        history = caller_history(session, ticket.caller_phone, exclude_ticket_id=ticket.id)
    nuisance = session.info.get("nuisance_counts", {}).get(event.call_id)
    if nuisance is None:
        nuisance = _nuisance_count(session, call, history)
    _emit("call.incoming", {
        "call_sid": call.sid, "line": call.line, "from": ticket.caller_phone or call.from_number,
        "ticket": _ticket_json(ticket),
        "history": [_ticket_json(t) for t in history],  # each says whether it was a nuisance call
        "nuisance_count_90d": nuisance,
    }, ["supervisors", "operators" if call.line == "1022" else "dispatch"])


def _nuisance_count(session: Session, call: Call, history: list[Ticket]) -> int:
    # A caller with no earlier ticket (most of them) made no nuisance call: no query.
    if not history:
        return 0
    return nuisance_count(session, call.ticket.caller_phone, call.started_at, exclude_ticket_id=call.ticket_id)


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


def _sla_escalated(session: Session, event: escalation.SlaEscalated) -> None:
    # To the supervisors and to the ticket's contact point (or hospital), whose lead it names.
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    rooms = [r for r in rooms_for(ticket) if r == "supervisors" or r.startswith(("cp:", "hospital:"))]
    _emit("sla.escalated", {"ticket": _ticket_json(ticket), "clock": event.clock, "step": event.step,
                            "notify": event.notify}, rooms)


def _message_queued(_session: Session, event: MessageQueued) -> None:
    jobs().enqueue("app.tasks.messages.send_message", event.message_id, queue="sms",
                   key=f"sms-{event.message_id}")


def _config_changed(_session: Session, event: ConfigChanged) -> None:
    # A change made in /admin: consoles reload the lists they hold (the directory, canned
    # responses). Account changes only concern the administration (admins are "supervisors");
    # the rest goes to every connection (rooms=None), as every console may hold that data.
    payload = {"entity": event.entity, "key": event.key, "action": event.action, "version": event.version}
    _emit("config.changed", payload, ["supervisors"] if event.entity == "user" else None)


def _alert_queued(_session: Session, event: AlertQueued) -> None:
    jobs().enqueue("app.tasks.hospital_alerts.send_alert", event.alert_id, queue="dispatch",
                   key=f"desk-alert-{event.alert_id}")


# Domain event type -> what it becomes once committed.
HANDLERS: dict[type, Callable[[Session, object], None]] = {
    TicketOpened: _ticket_changed,
    TicketChanged: _ticket_changed,
    CallIncoming: _call_incoming,
    CallEnded: _call_ended,
    MessageQueued: _message_queued,
    AlertQueued: _alert_queued,
    sla.SlaAlert: _sla_alert,
    escalation.SlaEscalated: _sla_escalated,
    DispatchEscalated: _dispatch_escalated,
    LateAcknowledgement: _late_acknowledgement,
    ConfigChanged: _config_changed,
}


def notify_settings() -> NotifySettings:
    return NotifySettings(track_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/track/{code}",
                          supervisor_numbers=current_app.config["SUPERVISOR_ALERT_NUMBERS"])


def publish(session: Session, events: list) -> None:
    """Hand each committed domain event to its handler."""
    session.info.pop("published_tickets", None)  # serialisations of an earlier publish are stale
    try:
        for event in events:
            HANDLERS[type(event)](session, event)
    finally:
        # What _read_ahead found is for this publish only.
        for key in ("known_calls", "caller_history", "nuisance_counts"):
            session.info.pop(key, None)


def _read_ahead(session: Session, events: list) -> list:
    """Before the commit, in the same transaction, read what the handlers will need, and
    return it to be held until they have run: publishing then reads nothing again (no second
    transaction after the commit), and no row is loaded twice because the session dropped
    it meanwhile (it holds clean objects only weakly)."""
    held: list = [session.get(Ticket, e.ticket_id) for e in events if isinstance(e, TicketChanged)]
    known: dict[int, Call | None] = {}
    history: dict[int, list[Ticket]] = {}
    nuisance: dict[int, int] = {}
    for event in events:
        if isinstance(event, CallIncoming):
            call = session.get(Call, event.call_id)
            # The call just opened its ticket: it is that ticket's latest call.
            known[call.ticket_id] = call
            history[call.id] = caller_history(session, call.ticket.caller_phone, exclude_ticket_id=call.ticket_id)
            nuisance[call.id] = _nuisance_count(session, call, history[call.id])
            known.update(latest_calls(session, [t.id for t in history[call.id] if t.id not in known]))
            held += [call, *history[call.id]]
    session.info["known_calls"], session.info["caller_history"] = known, history
    session.info["nuisance_counts"] = nuisance
    return held


def commit_and_publish(session: Session, events: list) -> None:
    """Run the SLA clocks and queue the SMS the events call for, commit it all, then publish."""
    now = utcnow()
    events = [*events, *route_new_tickets(session, events, now)]
    sla.apply(session, events, now, sla_calendars(), current_app.config["DISPATCH_ACK_SECONDS"])
    events = [*events, *notify(session, events, notify_settings(), now)]
    held = _read_ahead(session, events)
    session.commit()
    publish(session, events)
    del held
