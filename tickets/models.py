"""Tickets and their append-only history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tickets.accounts import User
from tickets.db import Base, JSONType, UTCDateTime, utcnow
from tickets.directory import Category, ContactPoint, Hospital, Ward
from tickets.lifecycle import CHANNELS, LINES, PRIORITIES, SLA_STATES, Status


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("line", LINES), name="line"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", list(Status)), name="status"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("sla_state", SLA_STATES), name="sla_state"),
        # The queues every console lists: by status within a line or a destination.
        Index("ix_tickets_line_status_created", "line", "status", "created_at"),
        Index("ix_tickets_contact_point_status", "contact_point_id", "status"),
        Index("ix_tickets_hospital_status", "hospital_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public tracking code read over the phone and sent by SMS.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    line: Mapped[str] = mapped_column(String(4))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default=Status.NEW)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    description: Mapped[str] = mapped_column(Text, default="")
    caller_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("wards.code"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"))
    callback_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The routing engine's proposal (contact point or hospital, reasons, confidence) as shown
    # to the operator; and whether a person confirmed or corrected the category (the
    # classifier retrains on those).
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    category_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set while the department waits for the caller's answer: SLA clocks are paused.
    waiting_on_caller: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    survey_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sla_state: Mapped[str] = mapped_column(String(10), default="ok")
    # When the retention job erased the caller's personal data (tickets/retention.py); None
    # while the ticket still holds it.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was cancelled (``tickets.services.CANCEL_REASONS``); None unless cancelled. The
    # counts by reason filter on line, status = cancelled and created_at as well, so the
    # (line, status, created_at) index serves them and this column needs none of its own.
    cancel_reason: Mapped[str | None] = mapped_column(String(20))

    # Optimistic concurrency: every UPDATE says "WHERE version = <what I read>", so of two
    # concurrent writers the second matches no row and is refused instead of overwriting.
    # The number is ours to move (``touch``): once per change a person would call a change,
    # not once per flush, so derived fields (SLA due times) never make it jump.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def touch(self, now: datetime) -> None:
        """Record that the ticket changed: a new version and update time."""
        self.version = (self.version or 0) + 1
        self.updated_at = now

    category: Mapped[Category | None] = relationship(lazy="joined")
    ward: Mapped[Ward | None] = relationship(lazy="joined")
    contact_point: Mapped[ContactPoint | None] = relationship(lazy="joined")
    hospital: Mapped[Hospital | None] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", lazy="raise_on_sql"
    )


class TicketEvent(Base):
    """One thing that happened to a ticket. Rows are only ever inserted."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    # The actor's id may be null (a system job, Twilio); the label is kept so history still
    # reads correctly after an account is renamed or removed.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _history_is_append_only(_mapper, _connection, target: TicketEvent) -> None:
    raise RuntimeError(f"ticket history is append-only (event {target.id})")
