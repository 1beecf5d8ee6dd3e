"""Incoming SMS to the 1022 number: a survey answer, a follow-up, or a new ticket."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.text import fold
from tickets import sms_texts
from tickets.codes import ALPHABET, normalise_code
from tickets.events import TicketChanged
from tickets.lifecycle import OPEN_STATUSES, Status
from tickets.messages import find_inbound, queue_message, record_inbound
from tickets.models import Ticket
from tickets.permissions import SystemActor
from tickets.phones import equivalent_numbers, try_normalise_phone
from tickets.services import (
    NewTicket,
    caller_replied,
    comment_ticket,
    open_ticket,
    record_event,
    reopen_ticket,
)

CALLER = SystemActor("Người phản ánh (SMS)")
SURVEY_WINDOW = timedelta(days=7)
DESCRIPTION_LIMIT = 4000
_CODE = re.compile(rf"(?<![A-Z0-9])([{ALPHABET}]{{4}}-?[{ALPHABET}]{{4}})(?![A-Z0-9])")



def parse_survey_answer(body: str) -> int | None:
    """1 (satisfied) or 2 (not satisfied) from "1", "2", "hài lòng", "chua hai long"…; else None."""
    text = fold(body).strip(" .!")
    if text in ("1", "2"):
        return int(text)
    if re.fullmatch(r"(khong|chua|ko|k) hai long", text):
        return 2
    if text == "hai long":
        return 1
    return None


def find_code(body: str) -> str | None:
    """A tracking code written anywhere in the text ("ma ABCD-EFGH", "abcdefgh")."""
    match = _CODE.search(body.upper())
    return normalise_code(match.group(1)) if match else None


def _survey_ticket(session: Session, phones: list[str], now: datetime) -> Ticket | None:
    return session.scalar(
        select(Ticket).where(Ticket.caller_phone.in_(phones), Ticket.survey_sent_at >= now - SURVEY_WINDOW,
                             Ticket.satisfaction.is_(None))
        .order_by(Ticket.survey_sent_at.desc()).limit(1))


def receive_sms(session: Session, *, sid: str, from_raw: str, to: str, body: str,
                now: datetime) -> tuple[str, list]:
    """Handle one incoming SMS exactly once; returns what it was and the domain events."""
    if find_inbound(session, sid) is not None:
        return "duplicate", []
    phone = try_normalise_phone(from_raw)
    phones = equivalent_numbers(phone) if phone else []
    events: list = []

    answer = parse_survey_answer(body)
    ticket = _survey_ticket(session, phones, now) if answer and phones else None
    if ticket is not None:
        kind = "survey_answer"
        events += _apply_survey(session, ticket, answer, now)
        events.append(queue_message(session, to=phone, body=sms_texts.survey_thanks(answer == 1),
                                    kind="reply", now=now, ticket_id=ticket.id))
    else:
        code = find_code(body)
        ticket = session.scalar(select(Ticket).where(Ticket.code == code)) if code else None
        if ticket is not None and ticket.caller_phone in phones and ticket.status in OPEN_STATUSES:
            kind = "follow_up"
            events += comment_ticket(session, CALLER, ticket.id, now,
                                     body=body[:DESCRIPTION_LIMIT], internal=False, from_caller=True)
            events += caller_replied(session, CALLER, ticket, now)
            events.append(queue_message(session, to=phone, body=sms_texts.follow_up_received(ticket.code),
                                        kind="reply", now=now, ticket_id=ticket.id))
        else:
            kind = "new_ticket"
            ticket, opened = open_ticket(session, CALLER, NewTicket(
                line="1022", channel="sms", caller_phone=phone,
                description=" ".join(body.split())[:DESCRIPTION_LIMIT]), now)
            events += opened
    record_inbound(session, sid=sid, from_number=from_raw, to_number=to, body=body, kind=kind,
                   ticket_id=ticket.id, now=now)
    return kind, events


def _apply_survey(session: Session, ticket: Ticket, answer: int, now: datetime) -> list:
    """Store the satisfaction; "not satisfied" sends the ticket back and alerts supervisors."""
    ticket.satisfaction = answer
    ticket.touch(now)
    event = record_event(session, ticket, CALLER, "survey_answer", now, satisfied=answer == 1)
    session.flush()
    events: list = [TicketChanged(ticket.id, "survey_answer", event.id)]
    if answer == 2 and ticket.status in (Status.RESOLVED, Status.CLOSED):
        events += reopen_ticket(session, CALLER, ticket.id, now,
                                reason="Người phản ánh chưa hài lòng (khảo sát SMS)")
    return events

