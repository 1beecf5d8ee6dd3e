"""Open311 GeoReport v2 over 1022 tickets: what a service request is, which tickets outside
clients may see, and how a repeated submission is recognised. (The HTTP side, formats and
errors are ``app.open311``.)

Only 1022 tickets are service requests; a 115 emergency is never listed nor found. The
public sees a generic status text, never what the department answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.directory import District, Ward
from tickets.lifecycle import OPEN_STATUSES, Status
from tickets.models import Ticket, TicketEvent

LINE = "1022"
MAX_REQUESTS = 1000  # the specification's ceiling for GET requests
DEFAULT_WINDOW = timedelta(days=90)  # the specification's default for GET requests
REPEAT_WINDOW = timedelta(minutes=10)
RECEIVED = "open311_received"  # the history event holding what the client sent beyond the ticket's fields

# Our statuses as GeoReport's two: answered, closed or cancelled requests are closed.
OPEN = "open"
CLOSED = "closed"
_STATUS_NOTES = {
    Status.NEW: "Đã tiếp nhận, đang chuyển đến đơn vị có thẩm quyền.",
    Status.ASSIGNED: "Đã chuyển đến đơn vị có thẩm quyền xử lý.",
    Status.IN_PROGRESS: "Đơn vị có thẩm quyền đang xử lý.",
    Status.RESOLVED: "Đã có kết quả trả lời.",
    Status.CLOSED: "Đã hoàn tất.",
    Status.CANCELLED: "Đã hủy (trùng lặp hoặc không đủ thông tin).",
}
WAITING_NOTE = "Đang chờ người phản ánh bổ sung thông tin."


def open311_status(ticket: Ticket) -> str:
    """"open" or "closed"."""
    return OPEN if ticket.status in OPEN_STATUSES else CLOSED


def status_notes(ticket: Ticket) -> str:
    """A generic Vietnamese sentence for the status: never the department's own words."""
    if ticket.waiting_on_caller and ticket.status in OPEN_STATUSES:
        return WAITING_NOTE
    return _STATUS_NOTES.get(Status(ticket.status), "")


@dataclass(frozen=True)
class Places:
    """Ward and district names, to say where a request is without saying the exact place."""

    wards: dict[str, Ward]
    districts: dict[str, str]

    def area(self, ticket: Ticket) -> str | None:
        """"Phường Phú Cường, Thành phố Thủ Dầu Một": the ward (or only the district) the
        ticket is in, from its ward code or where routing located it; None when unknown."""
        located = ((ticket.routing or {}).get("location") or {}) if isinstance(ticket.routing, dict) else {}
        ward = self.wards.get(ticket.ward_code or located.get("ward_code") or "")
        if ward is not None:
            district = self.districts.get(ward.district_code)
            return f"{ward.name}, {district}" if district else ward.name
        return self.districts.get(located.get("district_code") or "")


def places(session: Session) -> Places:
    """Every ward and district name (a hundred rows: read once per request)."""
    return Places({w.code: w for w in session.scalars(select(Ward))},
                  {d.code: d.name for d in session.scalars(select(District))})


def find_request(session: Session, code: str) -> Ticket | None:
    """The 1022 ticket with this (normalised) tracking code; a 115 ticket is not one."""
    return session.scalar(select(Ticket).where(Ticket.code == code, Ticket.line == LINE))


@dataclass
class RequestFilter:
    codes: list[str] | None = None  # tracking codes: when given, every other filter is ignored
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None  # "open", "closed"


def find_requests(session: Session, f: RequestFilter, now: datetime) -> list[Ticket]:
    """1022 tickets matching ``f``, newest first, at most MAX_REQUESTS.

    Without dates, the last 90 days. Tickets with no category yet (a call just arrived) are
    not service requests of any type and are left out of lists (they are found by code).
    """
    stmt = select(Ticket).where(Ticket.line == LINE)
    if f.codes is not None:
        stmt = stmt.where(Ticket.code.in_(f.codes or [""]))
    else:
        end = f.end or now
        start = f.start or (end - DEFAULT_WINDOW)
        stmt = stmt.where(Ticket.category_code.is_not(None), Ticket.created_at >= start, Ticket.created_at <= end)
        if f.service_codes:
            stmt = stmt.where(Ticket.category_code.in_(f.service_codes))
        if f.statuses and set(f.statuses) != {OPEN, CLOSED}:
            open_ = [str(s) for s in OPEN_STATUSES]
            stmt = stmt.where(Ticket.status.in_(open_) if OPEN in f.statuses else Ticket.status.not_in(open_))
    return list(session.scalars(stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_REQUESTS))
                .unique())


def fingerprint(key_id: int, fields: Iterable[tuple[str, str]]) -> str:
    """What makes two submissions the same: the key and every field as sent."""
    body = json.dumps([key_id, sorted(fields)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def repeated_request(session: Session, print_: str, now: datetime) -> Ticket | None:
    """The ticket a submission with this fingerprint opened in the last 10 minutes, if any.

    Looked for among the 1022 tickets of those minutes only (the line/status/created index),
    then in their history, so the cost does not grow with the years of tickets behind.
    """
    recent = select(Ticket.id).where(Ticket.line == LINE, Ticket.status.in_([str(s) for s in Status]),
                                     Ticket.created_at >= now - REPEAT_WINDOW, Ticket.channel == "app")
    ticket_id = session.scalar(select(TicketEvent.ticket_id).where(
        TicketEvent.ticket_id.in_(recent), TicketEvent.action == RECEIVED,
        TicketEvent.data["fingerprint"].as_string() == print_).order_by(TicketEvent.id.desc()).limit(1))
    return session.get(Ticket, ticket_id) if ticket_id is not None else None
