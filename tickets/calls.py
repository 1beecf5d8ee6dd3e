"""Phone calls: the record of each call and what it does to its ticket.

Twilio retries webhooks and sends status callbacks out of order, so every function here
is idempotent: keyed on the CallSid (unique in the database) and ignoring any status that
would move a call backwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ForeignKey, Integer, String, bindparam, func, select
from sqlalchemy.orm import Mapped, Session, lazyload, mapped_column, relationship, selectinload

from tickets.db import Base, UTCDateTime
from tickets.directory import Category
from tickets.events import TicketChanged
from tickets.lifecycle import Status
from tickets.models import Ticket
from tickets.permissions import SystemActor
from tickets.phones import equivalent_numbers, try_normalise_phone
from tickets.services import NUISANCE, NewTicket, open_ticket, record_event

log = logging.getLogger(__name__)
TWILIO = SystemActor("Twilio")

# How far along a call is; a callback may only move it forward. All final states share the
# top rank, so the first final status wins and a late "ringing" changes nothing.
STATUS_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "answered": 2,
               "completed": 3, "busy": 3, "failed": 3, "no-answer": 3, "canceled": 3}
FINAL = frozenset(s for s, rank in STATUS_RANK.items() if rank == 3)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    line: Mapped[str] = mapped_column(String(4))
    from_number: Mapped[str] = mapped_column(String(64))  # raw: may be "anonymous"
    to_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="ringing")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds
    queue_time: Mapped[int | None] = mapped_column(Integer)  # seconds waiting for a person
    queue_result: Mapped[str | None] = mapped_column(String(30))
    voicemail: Mapped[bool] = mapped_column(Boolean, default=False)
    recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_duration: Mapped[int | None] = mapped_column(Integer)
    # Ended before anyone answered: it goes onto the operators' call-back list.
    callback_needed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    callback_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(lazy="joined")


@dataclass(frozen=True)
class CallIncoming:
    """A call arrived and has its ticket (published as ``call.incoming``)."""

    call_id: int
    ticket_id: int


@dataclass(frozen=True)
class CallEnded:
    """A call finished (published as ``call.ended``)."""

    call_id: int
    ticket_id: int


# Statements on the incoming-call path, built once: building a statement costs more than
# running it (SQLAlchemy caches the compiled SQL, not the construction).
_BY_SID = select(Call).where(Call.sid == bindparam("sid"))
# Only what the consoles show of a ticket: its destination's name, not its category or ward
# rows; loaded after the tickets, and only when there are any (usually none: a new caller).
_HISTORY = (select(Ticket).where(Ticket.caller_phone.in_(bindparam("phones", expanding=True)),
                                 Ticket.id != bindparam("exclude"))
            .options(lazyload(Ticket.category), lazyload(Ticket.ward),
                     selectinload(Ticket.contact_point), selectinload(Ticket.hospital))
            .order_by(Ticket.created_at.desc()).limit(bindparam("limit")))
# status = cancelled is implied by the reason; saying it lets the planner use the status index
# as well as the phone one.
_NUISANCE_COUNT = (select(func.count(Ticket.id))
                   .where(Ticket.caller_phone.in_(bindparam("phones", expanding=True)),
                          Ticket.status == Status.CANCELLED, Ticket.cancel_reason == NUISANCE,
                          Ticket.created_at >= bindparam("since", type_=UTCDateTime()),
                          Ticket.id != bindparam("exclude")))
# The tickets are the caller's, already loaded: no join back to them.
_LATEST_CALLS = (select(Call).where(Call.ticket_id.in_(bindparam("ids", expanding=True)))
                 .options(lazyload(Call.ticket)).order_by(Call.id))


def find_call(session: Session, sid: str) -> Call | None:
    """The call with this CallSid, or None."""
    return session.scalar(_BY_SID, {"sid": sid})


def open_call(session: Session, *, sid: str, line: str, from_raw: str, to: str,
              now: datetime) -> tuple[Call, list]:
    """Record a new call and open its ticket.

    The unique CallSid is the guard, and the only one: nearly every request is a new call,
    so there is no look-up first. A retry of a call already recorded (or two at once) fails
    at the INSERT of its call row; the caller rolls the whole transaction back — ticket
    included — and reads the call that won (``app.telephony``).
    """
    phone = try_normalise_phone(from_raw)
    ticket, events = open_ticket(session, TWILIO, NewTicket(
        line=line, channel="phone", caller_phone=phone,
        priority="emergency" if line == "115" else None), now)
    # Linked by object, not by id: the call then holds the ticket, so everything after this
    # in the request (routing, SLA, SMS, the consoles' events) finds it without reading it back.
    call = Call(sid=sid, ticket=ticket, line=line, from_number=from_raw[:64] or "unknown",
                to_number=to[:64], status="ringing", started_at=now)
    session.add(call)
    record_event(session, ticket, TWILIO, "call_received", now, call_sid=sid,
                 caller=phone or from_raw[:64])
    session.flush()
    return call, [*events, CallIncoming(call.id, ticket.id)]


def caller_history(session: Session, phone: str | None, *, exclude_ticket_id: int | None = None,
                   limit: int = 10) -> list[Ticket]:
    """The caller's earlier tickets, newest first, whichever numbering they were stored under."""
    if not phone:
        return []
    return list(session.scalars(_HISTORY, {"phones": list(equivalent_numbers(phone)), "limit": limit,
                                           "exclude": exclude_ticket_id or 0}))  # no ticket has id 0


NUISANCE_WINDOW = timedelta(days=90)


def nuisance_count(session: Session, phone: str | None, now: datetime, *,
                   exclude_ticket_id: int | None = None) -> int:
    """How many of the caller's tickets (either line, any numbering) opened in the last 90
    days were cancelled as nuisance calls. Shown to whoever answers; never used to refuse a
    call: an emergency line answers everyone, and a prank caller may one day need help."""
    if not phone:
        return 0
    return session.scalar(_NUISANCE_COUNT, {"phones": list(equivalent_numbers(phone)),
                                            "since": now - NUISANCE_WINDOW, "exclude": exclude_ticket_id or 0})


def latest_calls(session: Session, ticket_ids: Iterable[int]) -> dict[int, Call | None]:
    """Each ticket's latest call (None for a ticket without one), in one query."""
    ids = set(ticket_ids)
    found: dict[int, Call | None] = dict.fromkeys(ids)
    if ids:
        for call in session.scalars(_LATEST_CALLS, {"ids": sorted(ids)}):
            found[call.ticket_id] = call
    return found


def set_call_category(session: Session, call: Call, category: str, source: str,
                      now: datetime) -> list[TicketChanged]:
    """The caller chose a subject in the IVR menu; record it on the ticket."""
    if session.get(Category, category) is None:
        log.warning("IVR menu names unknown category %r", category)
        return []
    ticket = call.ticket
    if ticket.category_code == category:
        return []  # a retried <Gather> result
    ticket.category_code = category
    ticket.touch(now)
    record_event(session, ticket, TWILIO, "category_set", now, category=category, source=source)
    session.flush()
    return [TicketChanged(ticket.id, "category_set")]


def record_queue_result(session: Session, call: Call, result: str, queue_time: int | None,
                        now: datetime) -> list[TicketChanged]:
    """The call left the waiting queue: bridged to a person, or not."""
    if call.queue_result is not None:
        return []
    call.queue_result = result[:30]
    call.queue_time = queue_time
    if result in ("bridged", "bridging-in-process") and call.answered_at is None:
        call.answered_at = now
    session.flush()
    return []


def mark_answered(session: Session, call: Call, now: datetime) -> None:
    """A person picked the call up."""
    if call.answered_at is None:
        call.answered_at = now
        session.flush()


def update_call_status(session: Session, call: Call, status: str, now: datetime, *,
                       duration: int | None = None) -> list:
    """Apply a status callback, ignoring duplicates and anything that goes backwards."""
    rank = STATUS_RANK.get(status)
    if rank is None or rank <= STATUS_RANK.get(call.status, 0):
        return []
    call.status = status
    if status in ("in-progress", "answered"):
        return []
    if status not in FINAL:
        session.flush()
        return []
    call.ended_at = now
    call.duration = duration
    events: list = [CallEnded(call.id, call.ticket_id)]
    if call.answered_at is None:
        # Nobody spoke to the caller (hung up waiting, or left a voicemail): call back.
        call.callback_needed = True
        ticket = call.ticket
        ticket.callback_needed = True
        ticket.touch(now)
        record_event(session, ticket, TWILIO, "callback_needed", now, call_sid=call.sid,
                     status=status, voicemail=call.voicemail)
        events.append(TicketChanged(ticket.id, "callback_needed"))
    session.flush()
    return events


def attach_recording(session: Session, call: Call, *, recording_sid: str, url: str,
                     duration: int | None, now: datetime) -> list[TicketChanged]:
    """Attach a finished voicemail recording to the call's ticket (once per RecordingSid)."""
    if call.recording_sid is not None:
        return []
    call.recording_sid = recording_sid
    call.recording_url = url[:500]
    call.recording_duration = duration
    call.voicemail = True
    call.callback_needed = call.answered_at is None
    ticket = call.ticket
    ticket.callback_needed = ticket.callback_needed or call.callback_needed
    ticket.touch(now)
    record_event(session, ticket, TWILIO, "voicemail", now, call_sid=call.sid,
                 recording_url=url[:500], duration=duration)
    session.flush()
    return [TicketChanged(ticket.id, "voicemail")]


def callback_list(session: Session, limit: int = 50) -> list[Call]:
    """Calls still waiting to be called back, oldest first."""
    return list(session.scalars(
        select(Call).where(Call.callback_needed, Call.callback_done_at.is_(None))
        .order_by(Call.started_at).limit(limit)).unique())


def mark_called_back(session: Session, call: Call, actor, now: datetime) -> list[TicketChanged]:
    """An operator called the caller back."""
    if call.callback_done_at is not None:
        return []
    call.callback_done_at = now
    ticket = call.ticket
    ticket.callback_needed = False
    ticket.touch(now)
    record_event(session, ticket, actor, "called_back", now, call_sid=call.sid)
    session.flush()
    return [TicketChanged(ticket.id, "called_back")]
