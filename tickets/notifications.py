"""What callers are told by SMS when their ticket changes (and, for 115, how the hospital's
emergency desk and the supervisors are alerted: tickets/hospital_alerts.py).

Runs inside the transaction that made the change (the app calls ``notify`` just before
commit), so a ticket and the SMS announcing it are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import sms_texts
from tickets.events import TicketChanged, TicketOpened
from tickets.hospital_alerts import AlertQueued, alert_supervisors, queue_desk_alerts
from tickets.messages import MessageQueued, queue_message
from tickets.models import Ticket, TicketEvent
from tickets.phones import is_mobile


@dataclass(frozen=True)
class NotifySettings:
    """Where citizens follow their ticket: a URL template with ``{code}``; who hears of 115
    escalations by SMS (E.164 numbers)."""

    track_url: str
    supervisor_numbers: tuple[str, ...] = ()


def _reachable(ticket: Ticket) -> bool:
    # 115 callers are in an emergency, not waiting for a tracking code.
    return ticket.line == "1022" and bool(ticket.caller_phone) and is_mobile(ticket.caller_phone)


def _follower_phone(event: TicketEvent, ticket: Ticket) -> str | None:
    """The mobile number of a follower (a caller linked as a duplicate), unless it is the
    ticket's own caller, who hears everything anyway."""
    phone = event.data.get("caller_phone")
    return phone if phone and phone != ticket.caller_phone and is_mobile(phone) else None


def _followers(session: Session, ticket: Ticket) -> list[str]:
    """Every follower's mobile number, once each, in the order they called."""
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                       TicketEvent.action == "follower_added")
                             .order_by(TicketEvent.id))
    return list(dict.fromkeys(p for p in (_follower_phone(e, ticket) for e in events) if p))


def notify(session: Session, events: list, settings: NotifySettings,
           now: datetime) -> list[MessageQueued | AlertQueued]:
    """Queue the SMS (and desk calls) these domain events call for; returns what was queued."""
    queued: list[MessageQueued | AlertQueued] = [
        *queue_desk_alerts(session, events, now),
        *alert_supervisors(session, events, settings.supervisor_numbers, now)]
    for event in events:
        if not isinstance(event, TicketChanged):
            continue
        ticket = session.get(Ticket, event.ticket_id)
        if ticket is None or ticket.line != "1022":
            continue
        url = settings.track_url.format(code=ticket.code)
        for to, body, kind in _texts(session, event, ticket, url, now):
            queued.append(queue_message(session, to=to, body=body, kind=kind, now=now, ticket_id=ticket.id))
    return queued


def _texts(session: Session, event: TicketChanged, ticket: Ticket, url: str,
           now: datetime) -> list[tuple[str, str, str]]:
    """(to, body, kind) of each SMS one change of a 1022 ticket calls for."""
    caller = ticket.caller_phone if _reachable(ticket) else None
    if event.action == "resolve":
        answer = sms_texts.answer(ticket.code, ticket.resolution or "", url)
        texts = []
        if caller:
            texts = [(caller, answer, "answer"), (caller, sms_texts.survey(ticket.code), "survey")]
            ticket.survey_sent_at = now
            ticket.satisfaction = None  # a new answer is asked for (the old one stays in history)
        # Followers get the answer too; the survey is the ticket's own caller's to answer.
        return texts + [(follower, answer, "answer") for follower in _followers(session, ticket)]
    if event.action == "follower_added" and event.event_id is not None:
        # Someone called about what this ticket already handles: tell them where to follow it.
        follower = _follower_phone(session.get(TicketEvent, event.event_id), ticket)
        return [(follower, sms_texts.linked(ticket.code, url), "linked")] if follower else []
    if caller is None:
        return []
    if isinstance(event, TicketOpened):
        return [(caller, sms_texts.tracking(ticket.code, url), "tracking")]
    if event.action in ("comment", "ask_caller") and event.event_id is not None:
        note = session.get(TicketEvent, event.event_id)
        if note is not None and note.data.get("internal") is False and not note.data.get("from_caller"):
            return [(caller, sms_texts.reply_to_caller(ticket.code, note.data["body"], url), "reply")]
    return []
