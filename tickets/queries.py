"""Reading tickets: the filtered, paginated list every console and API client uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from tickets.directory import ContactPoint, Hospital
from tickets.lifecycle import DONE_STATUSES
from tickets.models import Ticket
from tickets.permissions import Actor, readable_tickets


@dataclass
class TicketFilter:
    status: str | None = None
    line: str | None = None
    contact_point: str | None = None
    hospital: str | None = None
    category: str | None = None
    overdue: bool | None = None
    q: str | None = None
    phone: str | None = None  # already E.164


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(actor: Actor, f: TicketFilter, now: datetime) -> Select:
    stmt = select(Ticket).where(readable_tickets(actor))
    if f.status:
        stmt = stmt.where(Ticket.status == f.status)
    if f.line:
        stmt = stmt.where(Ticket.line == f.line)
    if f.category:
        stmt = stmt.where(Ticket.category_code == f.category)
    if f.contact_point:
        stmt = stmt.where(Ticket.contact_point_id.in_(
            select(ContactPoint.id).where(ContactPoint.code == f.contact_point)))
    if f.hospital:
        stmt = stmt.where(Ticket.hospital_id.in_(
            select(Hospital.id).where(Hospital.code == f.hospital)))
    if f.phone:
        stmt = stmt.where(Ticket.caller_phone == f.phone)
    if f.overdue is not None:
        late = (Ticket.resolution_due < now) & Ticket.status.not_in([str(s) for s in DONE_STATUSES])
        stmt = stmt.where(late if f.overdue else ~late | Ticket.resolution_due.is_(None))
    if f.q:
        pattern = f"%{_escape_like(f.q.lower())}%"
        stmt = stmt.where(or_(*(
            func.lower(col).like(pattern, escape="\\")
            for col in (Ticket.description, Ticket.code, Ticket.caller_name, Ticket.address)
        )))
    return stmt


def list_tickets(session: Session, actor: Actor, f: TicketFilter, now: datetime, *,
                 page: int = 1, per_page: int = 25) -> tuple[list[Ticket], int]:
    """One page of the tickets ``actor`` may read that match ``f``, newest first, and the total."""
    stmt = _filtered(actor, f, now)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(
        stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).unique()
    return list(rows), total or 0


def find_by_code(session: Session, code: str) -> Ticket | None:
    """The ticket with this public tracking code (already normalised), or None."""
    return session.scalar(select(Ticket).where(Ticket.code == code))
