"""SMS to and from callers: an outbox written in the same transaction as the change that
causes it, and a log of incoming messages keyed on Twilio's MessageSid.

Sending happens later, in a job that claims one outbox row at a time, so a message is
never lost when Redis or Twilio is down and never sent twice when a job runs twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.db import Base, UTCDateTime, claim_for_sending

# Delivery moves forward only: a late "sent" after "delivered" changes nothing.
DELIVERY_RANK = {"queued": 0, "sending": 1, "accepted": 1, "sent": 2, "delivered": 3,
                 "undelivered": 3, "failed": 3, "read": 4, "unknown": 5}
# A row left "sending" this long belongs to a worker that died mid-send. Whether Twilio got
# it is unknowable, so it is marked "unknown" for a person to check, never resent.
STALE_SENDING = timedelta(minutes=10)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # tracking, answer, survey, reply
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # new_ticket, follow_up, survey_answer
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class MessageQueued:
    """An outbox row is waiting to be sent (the app enqueues the send job after commit)."""

    message_id: int


def queue_message(session: Session, *, to: str, body: str, kind: str, now: datetime,
                  ticket_id: int | None = None) -> MessageQueued:
    """Put an SMS in the outbox; it is sent after the surrounding transaction commits."""
    message = OutboundMessage(ticket_id=ticket_id, to_number=to, body=body, kind=kind,
                              status="queued", created_at=now)
    session.add(message)
    session.flush()
    return MessageQueued(message.id)


def claim_message(session: Session, message_id: int, now: datetime) -> OutboundMessage | None:
    """Take the row for sending, atomically; None if it is not waiting (sent, or taken).

    The conditional UPDATE is what makes a duplicated job harmless: of two workers only
    one sees its row count as 1.
    """
    return claim_for_sending(session, OutboundMessage, message_id, now)


def mark_sent(session: Session, message: OutboundMessage, provider_sid: str, now: datetime) -> None:
    """Twilio accepted the message."""
    message.status = "sent"
    message.provider_sid = provider_sid
    message.sent_at = now
    message.status_at = now
    message.last_error = None
    session.commit()


MAX_ATTEMPTS = 6


def release_after_failure(session: Session, message: OutboundMessage, error: str) -> None:
    """Twilio refused or was unreachable: nothing was sent, so the row may be tried again,
    until MAX_ATTEMPTS, when it is marked failed for a person to see."""
    message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "queued"
    message.last_error = error[:500]
    session.commit()


def update_delivery(session: Session, provider_sid: str, status: str, now: datetime,
                    error_code: str | None = None) -> bool:
    """Apply a delivery-status callback; False if the message is unknown."""
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid))
    if message is None:
        return False
    if DELIVERY_RANK.get(status, -1) > DELIVERY_RANK.get(message.status, 0):
        message.status = status
        message.status_at = now
        if error_code:
            message.last_error = f"Twilio error {error_code}"
    return True


def waiting_messages(session: Session, now: datetime, older_than: timedelta) -> list[int]:
    """Queued rows nobody has sent yet (their job was lost, or Redis was down)."""
    return list(session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.status == "queued",
                                         OutboundMessage.created_at <= now - older_than)
        .order_by(OutboundMessage.id).limit(500)))


def expire_stale_sending(session: Session, now: datetime) -> int:
    """Rows stuck in "sending" after a worker died become "unknown" (never resent)."""
    return session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == "sending", OutboundMessage.claimed_at < now - STALE_SENDING)
        .values(status="unknown", last_error="worker stopped while sending; check delivery by hand")
        .execution_options(synchronize_session=False)
    ).rowcount


def record_inbound(session: Session, *, sid: str, from_number: str, to_number: str, body: str,
                   kind: str, ticket_id: int | None, now: datetime) -> InboundMessage:
    """Log an incoming SMS (the unique MessageSid rejects a retried webhook)."""
    message = InboundMessage(sid=sid, from_number=from_number[:64], to_number=to_number[:64],
                             body=body, kind=kind, ticket_id=ticket_id, received_at=now)
    session.add(message)
    session.flush()
    return message


def find_inbound(session: Session, sid: str) -> InboundMessage | None:
    return session.scalar(select(InboundMessage).where(InboundMessage.sid == sid))
