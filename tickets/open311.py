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

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.db import Base, UTCDateTime
from tickets.directory import District, Ward
from tickets.events import TicketChanged
from tickets.lifecycle import OPEN_STATUSES, Status
from tickets.models import Ticket
from tickets.permissions import Actor
from tickets.services import NewTicket, open_ticket, record_event
from tickets.upsert import insert_for

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


class Open311Submission(Base):
    """The ticket a named device's submission opened, under the submission's fingerprint.

    The fingerprint is the primary key, so the database itself lets one request at a time
    hold it: of two identical POSTs racing, the second waits for the first to commit and
    then finds its ticket. A row older than REPEAT_WINDOW is taken over by the next
    identical submission (see ``_claim``), so a table keyed for ever by fingerprint still
    accepts the same submission again after ten minutes. One row per distinct submission
    at most: the table grows no faster than the tickets.
    """

    __tablename__ = "open311_submissions"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Empty only inside the transaction that claims the row and then opens the ticket.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Submitted:
    """What a POST came to: the ticket it opened, or the one an identical submission opened."""

    ticket: Ticket
    events: list[TicketChanged]  # empty for a repeat: nothing happened
    repeated: bool  # the same submission opened ``ticket`` in the last 10 minutes


def fingerprint(key_id: int, fields: Iterable[tuple[str, str]]) -> str:
    """What makes two submissions the same: the key and every field as sent."""
    body = json.dumps([key_id, sorted(fields)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _claim(session: Session, print_: str, now: datetime) -> Ticket | None:
    """Hold ``print_`` for a ticket about to be opened (None), or the ticket a submission with
    this fingerprint opened in the last 10 minutes.

    One statement decides: insert the row, or take over one older than the window; a fresh
    row is left alone and nothing is returned. A concurrent claim of the same fingerprint
    waits on the row until the first transaction ends, then sees its committed row.
    """
    stale = Open311Submission.received_at < now - REPEAT_WINDOW
    claim = (insert_for(session, Open311Submission)
             .values(fingerprint=print_, ticket_id=None, received_at=now)
             .on_conflict_do_update(index_elements=[Open311Submission.fingerprint],
                                    set_={"ticket_id": None, "received_at": now}, where=stale)
             .returning(Open311Submission.fingerprint))
    if session.execute(claim).first() is not None:
        return None
    ticket_id = session.scalar(select(Open311Submission.ticket_id).where(Open311Submission.fingerprint == print_))
    return session.get(Ticket, ticket_id)


def submit_request(session: Session, actor: Actor, data: NewTicket, now: datetime, *, print_: str | None,
                   received: dict[str, str]) -> Submitted:
    """Open the 1022 ticket for a submission, keeping what the client sent (``received``) in its
    history; a submission with the fingerprint ``print_`` seen in the last 10 minutes opens
    nothing and gets that earlier ticket back. Without a fingerprint, every submission is new.
    """
    if print_ is not None:
        earlier = _claim(session, print_, now)
        if earlier is not None:
            return Submitted(earlier, [], repeated=True)
    ticket, events = open_ticket(session, actor, data, now)
    record_event(session, ticket, actor, RECEIVED, now, **received, **({"fingerprint": print_} if print_ else {}))
    if print_ is not None:
        session.execute(update(Open311Submission).where(Open311Submission.fingerprint == print_)
                        .values(ticket_id=ticket.id))
    return Submitted(ticket, events, repeated=False)
