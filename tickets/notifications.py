"""What callers are told by SMS when their ticket changes (and, for 115, how the hospital's
emergency desk and the supervisors are alerted: tickets/hospital_alerts.py).

Runs inside the transaction that made the change (the app calls ``notify`` just before
commit), so a ticket and the SMS announcing it are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
        if ticket is None or not _reachable(ticket):
            continue
        url = settings.track_url.format(code=ticket.code)

        def send(body: str, kind: str, ticket: Ticket = ticket) -> None:
            queued.append(queue_message(session, to=ticket.caller_phone, body=body, kind=kind,
                                        now=now, ticket_id=ticket.id))

        if isinstance(event, TicketOpened):
            send(sms_texts.tracking(ticket.code, url), "tracking")
        elif event.action == "resolve":
            send(sms_texts.answer(ticket.code, ticket.resolution or "", url), "answer")
            send(sms_texts.survey(ticket.code), "survey")
            ticket.survey_sent_at = now
            ticket.satisfaction = None  # a new answer is asked for (the old one stays in history)
        elif event.action in ("comment", "ask_caller") and event.event_id is not None:
            note = session.get(TicketEvent, event.event_id)
            if note is not None and note.data.get("internal") is False and not note.data.get("from_caller"):
                send(sms_texts.reply_to_caller(ticket.code, note.data["body"], url), "reply")
    return queued
