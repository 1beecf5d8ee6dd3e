"""Use cases on tickets. Each verb takes a session, the actor and the time, changes state,
appends exactly one history event, and returns the domain events for the app to publish.

Services flush but never commit: the caller owns the transaction, so a refused action
(an exception) leaves nothing behind once the caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tickets import lifecycle
from tickets.codes import new_code
from tickets.directory import Category, ContactPoint, Hospital, Ward
from tickets.errors import Conflict, InvalidTransition, NotFound, StaleVersion, ValidationFailed
from tickets.events import LateAcknowledgement, TicketChanged, TicketOpened
from tickets.models import Ticket, TicketEvent
from tickets.permissions import Actor, authorize, authorize_create
from tickets.phones import normalise_phone


@dataclass
class NewTicket:
    """What a channel knows when it opens a ticket (types already checked by the caller)."""

    line: str
    channel: str
    description: str = ""
    caller_phone: str | None = None
    caller_name: str | None = None
    category: str | None = None
    address: str | None = None
    ward_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    priority: str | None = None


def record_event(session: Session, ticket: Ticket, actor: Actor, action: str, now: datetime,
                 **data: Any) -> TicketEvent:
    """Append one history event to ``ticket``."""
    event = TicketEvent(ticket_id=ticket.id, action=action, actor_id=actor.id,
                        actor_label=actor.label, at=now, data=data)
    session.add(event)
    return event


def get_ticket(session: Session, actor: Actor, ticket_id: int, action: str = "read") -> Ticket:
    """The ticket, if ``actor`` may read it (and do ``action`` to it); NotFound otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("Ticket not found")
    authorize(actor, ticket, action)
    return ticket


def ticket_events(session: Session, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's history, oldest first."""
    return list(session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ))


def _lookup(session: Session, model, column, value: str, field: str):
    row = session.scalar(select(model).where(column == value))
    if row is None:
        raise ValidationFailed(f"Unknown {field.replace('_', ' ')}", {field: f"unknown code {value!r}"})
    return row


def open_ticket(session: Session, actor: Actor, data: NewTicket, now: datetime) -> tuple[Ticket, list[TicketChanged]]:
    """Open a ticket from any channel and record who opened it."""
    authorize_create(actor, data.line)
    if data.category is not None:
        _lookup(session, Category, Category.code, data.category, "category")
    if data.ward_code is not None:
        _lookup(session, Ward, Ward.code, data.ward_code, "ward_code")
    phone = normalise_phone(data.caller_phone) if data.caller_phone else None
    priority = data.priority or ("emergency" if data.line == "115" else "normal")
    ticket = Ticket(
        code=_unused_code(session), line=data.line, channel=data.channel, status=lifecycle.Status.NEW,
        priority=priority, category_code=data.category, description=data.description,
        caller_phone=phone, caller_name=data.caller_name, address=data.address,
        ward_code=data.ward_code, lat=data.lat, lon=data.lon, created_by_id=actor.id,
        created_at=now, updated_at=now,
    )
    session.add(ticket)
    session.flush()
    event = record_event(session, ticket, actor, "created", now, line=data.line,
                         channel=data.channel, category=data.category, priority=priority)
    session.flush()
    return ticket, [TicketOpened(ticket.id, "created", event.id)]


def _unused_code(session: Session) -> str:
    # 31**8 codes make a collision vanishingly rare; checking first keeps the insert clean
    # and the unique constraint still guards against a concurrent twin.
    while True:
        code = new_code()
        if session.scalar(_CODE_TAKEN, {"code": code}) is None:
            return code


_CODE_TAKEN = select(Ticket.id).where(Ticket.code == bindparam("code"))  # built once: every ticket asks


def _begin(session: Session, actor: Actor, ticket_id: int, action: str,
           expected_version: int | None) -> Ticket:
    """Load, authorise and check the version and the transition before any change."""
    ticket = get_ticket(session, actor, ticket_id, action)
    if expected_version is not None and expected_version != ticket.version:
        raise StaleVersion(
            f"The ticket changed meanwhile (you had version {expected_version}, it is now "
            f"{ticket.version}); reload it and try again",
            {"version": str(ticket.version)},
        )
    lifecycle.next_status(ticket.status, action)
    return ticket


def _finish(session: Session, ticket: Ticket, actor: Actor, action: str, now: datetime,
            **data: Any) -> list[TicketChanged]:
    old = ticket.status
    ticket.status = lifecycle.next_status(old, action)
    ticket.touch(now)
    if ticket.status != old:
        data = {"from": old, "to": ticket.status, **data}
    event = record_event(session, ticket, actor, action, now, **data)
    session.flush()
    return [TicketChanged(ticket.id, action, event.id)]


def _destination_payload(cp: ContactPoint | None = None, h: Hospital | None = None) -> dict:
    if cp is not None:
        return {"contact_point": cp.code}
    return {"hospital": h.code if h else None}


def assign_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                  contact_point: str | None = None, hospital: str | None = None,
                  reason: str | None = None, expected_version: int | None = None) -> list[TicketChanged]:
    """Route a ticket by hand: a 1022 ticket to a contact point, a 115 ticket to a hospital."""
    ticket = _begin(session, actor, ticket_id, "assign", expected_version)
    previous: dict[str, Any]
    if ticket.line == "1022":
        if contact_point is None:
            raise ValidationFailed("A 1022 ticket is assigned to a contact point",
                                   {"contact_point": "required for line 1022"})
        cp = _lookup(session, ContactPoint, ContactPoint.code, contact_point, "contact_point")
        previous = _destination_payload(ticket.contact_point) if ticket.contact_point else {}
        ticket.contact_point = cp
        target = _destination_payload(cp)
    else:
        if hospital is None:
            raise ValidationFailed("A 115 ticket is dispatched to a hospital",
                                   {"hospital": "required for line 115"})
        h = _lookup(session, Hospital, Hospital.code, hospital, "hospital")
        previous = _destination_payload(h=ticket.hospital) if ticket.hospital else {}
        ticket.hospital = h
        target = _destination_payload(h=h)
    ticket.assigned_at = now
    ticket.accepted_at = None
    if actor.role != "system" and ticket.category_code:
        ticket.category_confirmed = True  # a person routed it knowing its category
    return _finish(session, ticket, actor, "assign", now, **target, reason=reason,
                   previous=previous or None)


def accept_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                  expected_version: int | None = None) -> list:
    """The department takes the ticket, or the hospital acknowledges the dispatch.

    A hospital acknowledging after the ticket was re-dispatched elsewhere is recorded (the
    dispatcher sees it) but changes nothing: the patient is not sent to two hospitals.
    """
    late = _late_acknowledgement(session, actor, ticket_id, now)
    if late:
        return late
    ticket = _begin(session, actor, ticket_id, "accept", expected_version)
    ticket.accepted_at = now
    return _finish(session, ticket, actor, "accept", now)


def comment_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                   body: str, internal: bool = True, from_caller: bool = False) -> list[TicketChanged]:
    """Add a note; an external one (``internal=False``) is meant for the caller, unless it
    comes ``from_caller`` (their own SMS), which is shown but never sent back to them.

    A comment only appends history and leaves the ticket row untouched, so two people
    commenting at once never conflict.
    """
    ticket = _begin(session, actor, ticket_id, "comment", None)
    extra = {"from_caller": True} if from_caller else {}
    event = record_event(session, ticket, actor, "comment", now, body=body, internal=internal, **extra)
    session.flush()
    return [TicketChanged(ticket.id, "comment", event.id)]


def transfer_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                    contact_point: str, reason: str,
                    expected_version: int | None = None) -> list[TicketChanged]:
    """A department hands a ticket that is not theirs to another contact point."""
    ticket = _begin(session, actor, ticket_id, "transfer", expected_version)
    if ticket.line != "1022":
        raise ValidationFailed("Only 1022 tickets are transferred between contact points",
                               {"contact_point": "115 tickets are re-dispatched, not transferred"})
    cp = _lookup(session, ContactPoint, ContactPoint.code, contact_point, "contact_point")
    if ticket.contact_point_id == cp.id:
        raise ValidationFailed("The ticket is already there", {"contact_point": "same as current"})
    previous = ticket.contact_point.code if ticket.contact_point else None
    ticket.contact_point = cp
    ticket.assigned_at = now
    ticket.accepted_at = None
    return _finish(session, ticket, actor, "transfer", now, contact_point=cp.code,
                   previous=previous, reason=reason)


def resolve_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                   resolution: str, expected_version: int | None = None) -> list[TicketChanged]:
    """Answer the ticket."""
    ticket = _begin(session, actor, ticket_id, "resolve", expected_version)
    ticket.resolution = resolution
    ticket.resolved_at = now
    return _finish(session, ticket, actor, "resolve", now, resolution=resolution)


def reopen_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                  reason: str, expected_version: int | None = None) -> list[TicketChanged]:
    """Send a resolved or closed ticket back to its destination."""
    ticket = _begin(session, actor, ticket_id, "reopen", expected_version)
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.accepted_at = None
    ticket.assigned_at = now
    return _finish(session, ticket, actor, "reopen", now, reason=reason)


def close_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                 expected_version: int | None = None) -> list[TicketChanged]:
    """Close a resolved ticket for good (it can still be reopened)."""
    ticket = _begin(session, actor, ticket_id, "close", expected_version)
    ticket.closed_at = now
    return _finish(session, ticket, actor, "close", now)


# Why a ticket was cancelled, as a code reports count (``tickets.cancel_reason``) beside the
# words a person wrote. "nuisance": a prank, silent or abusive call.
CANCEL_REASONS = ("nuisance", "duplicate", "wrong_number", "other")
NUISANCE = "nuisance"
# A nuisance call needs no explanation: one click records it, with these words.
NUISANCE_TEXT = "Cuộc gọi quấy rối"


def cancel_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                  reason: str | None = None, reason_code: str = "other",
                  expected_version: int | None = None) -> list[TicketChanged]:
    """Cancel a ticket that should not exist, saying why as a code (``CANCEL_REASONS``) and in
    words (optional for a nuisance call)."""
    ticket = _begin(session, actor, ticket_id, "cancel", expected_version)
    if reason_code not in CANCEL_REASONS:
        raise ValidationFailed("Unknown cancel reason", {"reason_code": f"one of {', '.join(CANCEL_REASONS)}"})
    text = (reason or "").strip() or (NUISANCE_TEXT if reason_code == NUISANCE else "")
    if not text:
        raise ValidationFailed("Say why the ticket is cancelled", {"reason": "required unless it is a nuisance call"})
    ticket.cancel_reason = reason_code
    return _finish(session, ticket, actor, "cancel", now, reason=text, reason_code=reason_code)


def link_duplicate(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                   duplicate_of: int, expected_version: int | None = None) -> list[TicketChanged]:
    """Fold a new request into the open ticket it repeats: the new one is cancelled as a
    duplicate and its caller is recorded on the original as a follower (with what they said).

    The original only gains a history event, like a comment, so nobody working on it gets a
    version conflict because someone else called about the same thing.
    """
    ticket = _begin(session, actor, ticket_id, "cancel", expected_version)
    original = get_ticket(session, actor, duplicate_of)
    if original.id == ticket.id or original.line != ticket.line:
        raise ValidationFailed("A ticket is linked to another open ticket of the same line",
                               {"duplicate_of": "not this ticket, and on the same line"})
    if original.status not in lifecycle.OPEN_STATUSES:
        raise Conflict(f"Ticket {original.code} is {original.status}; only an open ticket gains followers",
                       {"duplicate_of": original.status})
    ticket.cancel_reason = "duplicate"
    changed = _finish(session, ticket, actor, "cancel", now, reason=f"Trùng phiếu {original.code}",
                      reason_code="duplicate", duplicate_of=original.id)
    follower = record_event(session, original, actor, "follower_added", now, ticket_id=ticket.id,
                            ticket_code=ticket.code, caller_phone=ticket.caller_phone,
                            caller_name=ticket.caller_name, description=ticket.description or None)
    session.flush()
    return [*changed, TicketChanged(original.id, "follower_added", follower.id)]


def ask_caller(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
               question: str, expected_version: int | None = None) -> list[TicketChanged]:
    """Ask the caller for more information; the SLA clocks wait for the answer."""
    ticket = _begin(session, actor, ticket_id, "ask_caller", expected_version)
    if ticket.waiting_on_caller:
        raise Conflict("Already waiting for the caller's answer", {"status": "waiting_on_caller"})
    ticket.waiting_on_caller = True
    return _finish(session, ticket, actor, "ask_caller", now, body=question, internal=False)


def resume_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                  reason: str, expected_version: int | None = None) -> list[TicketChanged]:
    """Stop waiting for the caller (they answered by phone, or the wait is over)."""
    ticket = _begin(session, actor, ticket_id, "resume", expected_version)
    if not ticket.waiting_on_caller:
        raise Conflict("The ticket is not waiting for the caller", {"status": ticket.status})
    ticket.waiting_on_caller = False
    return _finish(session, ticket, actor, "resume", now, reason=reason)


def caller_replied(session: Session, actor: Actor, ticket: Ticket, now: datetime) -> list[TicketChanged]:
    """The caller's reply arrived (by SMS): the clocks run again."""
    if not ticket.waiting_on_caller:
        return []
    ticket.waiting_on_caller = False
    ticket.touch(now)
    event = record_event(session, ticket, actor, "caller_replied", now)
    session.flush()
    return [TicketChanged(ticket.id, "caller_replied", event.id)]


def _late_acknowledgement(session: Session, actor: Actor, ticket_id: int, now: datetime) -> list:
    hospital = getattr(actor, "hospital", None)
    ticket = session.get(Ticket, ticket_id)
    if hospital is None or ticket is None or ticket.line != "115" or ticket.hospital_id == hospital.id:
        return []
    dispatched_here = session.scalar(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "assign",
        TicketEvent.data["hospital"].as_string() == hospital.code).limit(1))
    if dispatched_here is None:
        return []
    current = ticket.hospital.code if ticket.hospital else None
    event = record_event(session, ticket, actor, "late_acknowledgement", now, hospital=hospital.code,
                         current_hospital=current)
    session.flush()
    return [TicketChanged(ticket.id, "late_acknowledgement", event.id),
            LateAcknowledgement(ticket.id, hospital.code, current)]


EDITABLE = ("description", "caller_name", "caller_phone", "category", "address", "ward_code", "lat", "lon",
            "priority")


def _checked_changes(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("These fields cannot be edited", {f: "not editable" for f in sorted(unknown)})
    if changes.get("category") is not None:
        _lookup(session, Category, Category.code, changes["category"], "category")
    if changes.get("ward_code") is not None:
        _lookup(session, Ward, Ward.code, changes["ward_code"], "ward_code")
    if changes.get("caller_phone"):
        changes = {**changes, "caller_phone": normalise_phone(changes["caller_phone"])}
    return changes


def update_ticket(session: Session, actor: Actor, ticket_id: int, now: datetime, *,
                  changes: dict[str, Any], expected_version: int | None = None) -> list[TicketChanged]:
    """Complete or correct what the ticket says (the operator filling it in during a call).

    A category set by a person is marked confirmed: the classifier learns from those.
    """
    ticket = get_ticket(session, actor, ticket_id, "update")
    if expected_version is not None and expected_version != ticket.version:
        raise StaleVersion(f"The ticket changed meanwhile (you had version {expected_version}, it is now "
                           f"{ticket.version}); reload it and try again", {"version": str(ticket.version)})
    if ticket.status in ("closed", "cancelled"):
        raise InvalidTransition(f"A {ticket.status} ticket cannot be edited", {"status": ticket.status})
    changes = _checked_changes(session, changes)
    diff = {}
    for field, value in changes.items():
        column = "category_code" if field == "category" else field
        if getattr(ticket, column) != value:
            diff[field] = {"from": getattr(ticket, column), "to": value}
            setattr(ticket, column, value)
    if "category" in changes and changes["category"] is not None and actor.role != "system":
        ticket.category_confirmed = True
    if not diff:
        return []
    ticket.touch(now)
    event = record_event(session, ticket, actor, "update", now, changes=diff)
    session.flush()
    return [TicketChanged(ticket.id, "update", event.id)]
