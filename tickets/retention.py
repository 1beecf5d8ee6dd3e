"""Personal-data retention (Decree 13/2023/NĐ-CP): erase the caller's personal data from
tickets that are long finished, keeping everything the statistics and SLA reports read.

A ticket is *finished* when its status is final — closed, cancelled, or resolved: nothing
closes a resolved ticket by itself, so one nobody touched for the whole retention period is
as finished as a closed one (reopening it afterwards still works; it just no longer says
who called). It is *old* when neither the ticket row nor its history changed since the
cutoff (a comment only appends history). Tickets still open, and the cancelled duplicates
an open ticket counts as its followers (it texts them its answer), are never touched.

What goes: the caller's number, name, address, exact coordinates and description (the
fixed ``MARKER`` replaces it); the department's answer (``resolution``) and every free
text of the history (comments, questions, reasons), since whatever a person types about a
case may name the caller; the numbers and texts of the ticket's SMS both ways; the calling
number and recording link of its calls (the recording itself is deleted at Twilio by the
app, ``recordings_to_delete``); what an Open311 client sent beyond the ticket's fields; the
routing proposal's reasons, points and distances. What stays: line, channel, category,
priority, ward and destination, every time, status, clock, duration, queue time and
satisfaction answer, and who did what when — so every report gives the same figures.

The descriptions of closed, confirmed tickets also feed the classifier's retraining
(``flask routing retrain``); an anonymised ticket's description is only the marker, so
retraining must leave anonymised tickets out (``Ticket.anonymised_at IS NULL``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, aliased, lazyload

from tickets.calls import Call
from tickets.hospital_alerts import HospitalAlert
from tickets.lifecycle import DONE_STATUSES, OPEN_STATUSES
from tickets.messages import InboundMessage, OutboundMessage
from tickets.models import Ticket, TicketEvent
from tickets.open311 import Open311Submission
from tickets.permissions import SystemActor
from tickets.services import record_event

RETENTION = SystemActor("Hệ thống: hết thời hạn lưu trữ dữ liệu cá nhân")
ANONYMISED = "anonymised"  # the history action
MARKER = "[Đã xoá dữ liệu cá nhân theo thời hạn lưu trữ]"

# History keys that identify or locate the caller: removed.
_IDENTIFYING = frozenset({"caller", "caller_phone", "caller_name", "phone", "email", "device_id",
                          "account_id", "media_url", "recording_url", "fingerprint", "address", "lat", "lon"})
# History keys holding free text a person wrote or was sent: replaced by MARKER, so the
# history still shows that something was said.
_FREE_TEXT = frozenset({"body", "description", "resolution", "reason"})
# Ticket fields an "update" event records as {"from", "to"}: their values go, the field
# names stay (the history still says the address was corrected).
_PERSONAL_FIELDS = frozenset({"caller_phone", "caller_name", "address", "lat", "lon", "description"})
# What of the routing proposal stays: where it went and how sure it was, never why (its
# reasons quote the description), nor the caller's point and the distances to it.
_ROUTING_KEPT = ("contact_point", "contact_point_name", "category", "category_source", "confidence",
                 "needs_confirmation", "proposed_categories", "specialty")
_LOCATION_KEPT = ("ward_code", "district_code", "how", "confidence")


@dataclass
class RetentionResult:
    """How many tickets were (or, on a dry run, would be) anonymised, and their calls and SMS."""

    tickets: int = 0
    calls: int = 0
    messages: int = 0

    def add(self, other: RetentionResult) -> None:
        self.tickets += other.tickets
        self.calls += other.calls
        self.messages += other.messages


def months_before(now: datetime, months: int) -> timedelta:
    """The span back to the same day ``months`` calendar months before ``now`` (the 31st
    becomes the month's last day)."""
    years, month0 = divmod(now.month - 1 - months, 12)
    year = now.year + years
    day = min(now.day, calendar.monthrange(year, month0 + 1)[1])
    return now - now.replace(year=year, month=month0 + 1, day=day)


# ---- which tickets -------------------------------------------------------------------------

def _eligible(cutoff: datetime):
    """Ids of the finished tickets unchanged since ``cutoff`` and not anonymised yet."""
    changed_since = select(TicketEvent.id).where(TicketEvent.ticket_id == Ticket.id,
                                                 TicketEvent.at >= cutoff).exists()
    original = aliased(Ticket)
    follower = TicketEvent.data["ticket_id"].as_integer()
    followers_of_open = (select(follower).join(original, original.id == TicketEvent.ticket_id)
                         .where(TicketEvent.action == "follower_added", follower.is_not(None),
                                original.status.in_(sorted(OPEN_STATUSES))))
    return select(Ticket.id).where(Ticket.anonymised_at.is_(None), Ticket.status.in_(sorted(DONE_STATUSES)),
                                   Ticket.updated_at < cutoff, ~changed_since,
                                   Ticket.id.not_in(followers_of_open))


def count_finished(session: Session, now: datetime, older_than: timedelta) -> RetentionResult:
    """What ``anonymise_finished`` would anonymise now (a dry run: nothing is written)."""
    eligible = _eligible(now - older_than)

    def rows(model) -> int:
        return session.scalar(select(func.count()).select_from(model)
                              .where(model.ticket_id.in_(eligible.scalar_subquery()))) or 0

    tickets = session.scalar(select(func.count()).select_from(eligible.subquery())) or 0
    return RetentionResult(tickets, rows(Call), rows(OutboundMessage) + rows(InboundMessage))


# ---- erasing -------------------------------------------------------------------------------

def scrub_event_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """A history event's data without the caller's personal data (see the module's docstring)."""
    cleaned: dict[str, Any] = {}
    for key, value in (data or {}).items():
        if key in _IDENTIFYING:
            continue
        if key in _FREE_TEXT and isinstance(value, str) and value:
            value = MARKER
        elif key == "changes" and isinstance(value, dict):
            value = {field: ({"from": None, "to": None} if field in _PERSONAL_FIELDS else change)
                     for field, change in value.items()}
        cleaned[key] = value
    return cleaned


def _coarse_routing(routing: dict[str, Any] | None) -> dict[str, Any] | None:
    """The routing proposal reduced to where it sent the ticket and the ward it located."""
    if not isinstance(routing, dict):
        return routing
    kept: dict[str, Any] = {k: routing[k] for k in _ROUTING_KEPT if k in routing}
    if isinstance(routing.get("location"), dict):
        kept["location"] = {k: routing["location"].get(k) for k in _LOCATION_KEPT}
    if "alternatives" in routing:
        kept["alternatives"] = [{"contact_point": a.get("contact_point"), "confidence": a.get("confidence")}
                                for a in routing["alternatives"] or [] if isinstance(a, dict)]
    return kept


def _erase_ticket(ticket: Ticket, now: datetime) -> None:
    ticket.caller_phone = None
    ticket.caller_name = None
    ticket.address = None
    ticket.lat = None
    ticket.lon = None
    ticket.description = MARKER
    if ticket.resolution:
        ticket.resolution = MARKER
    ticket.routing = _coarse_routing(ticket.routing)
    ticket.anonymised_at = now
    ticket.touch(now)  # a change: consoles holding the old version, and Open311 mirrors, see it


_EVENT_DATA = (update(TicketEvent.__table__).where(TicketEvent.__table__.c.id == bindparam("event_id"))
               .values(data=bindparam("scrubbed")))


def _scrub_history(session: Session, ids: list[int]) -> None:
    """Rewrite the history rows of these tickets that hold personal data.

    History is append-only (``tickets.models``): this is the one exception, and it goes
    through a Core UPDATE, past the ORM guard, deliberately.
    """
    rows = [{"event_id": event_id, "scrubbed": scrubbed}
            for event_id, data in session.execute(select(TicketEvent.id, TicketEvent.data)
                                                  .where(TicketEvent.ticket_id.in_(ids)))
            if (scrubbed := scrub_event_data(data)) != (data or {})]
    if rows:
        session.execute(_EVENT_DATA, rows)


def _erase_related(session: Session, ids: list[int]) -> RetentionResult:
    """Clear the calls, SMS, desk alerts and Open311 submissions of these tickets."""
    def clear(model, **values) -> int:
        return session.execute(update(model).where(model.ticket_id.in_(ids)).values(**values)
                               .execution_options(synchronize_session=False)).rowcount

    calls = clear(Call, from_number="", recording_url=None)
    messages = clear(OutboundMessage, to_number="", body="") + clear(InboundMessage, from_number="", body="")
    clear(HospitalAlert, body=None)  # the desk's SMS read out the address and description
    # The fingerprint is a hash of what the client sent (number, e-mail…) and has done its job
    # ten minutes after the submission.
    session.execute(delete(Open311Submission).where(Open311Submission.ticket_id.in_(ids)))
    return RetentionResult(len(ids), calls, messages)


def _anonymise_batch(session: Session, ids: list[int], now: datetime, older_than: timedelta) -> RetentionResult:
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)).options(lazyload("*"))
                                   .order_by(Ticket.id)))
    for ticket in tickets:
        _erase_ticket(ticket, now)
    _scrub_history(session, ids)  # before the new events, which hold nothing to scrub
    result = _erase_related(session, ids)
    for ticket in tickets:
        record_event(session, ticket, RETENTION, ANONYMISED, now, older_than_days=older_than.days)
    session.flush()
    return result


def anonymise_finished(session: Session, now: datetime, older_than: timedelta, batch: int = 200,
                       max_batches: int | None = None) -> RetentionResult:
    """Anonymise every finished ticket unchanged for ``older_than``, ``batch`` tickets per
    transaction (committed; at most ``max_batches`` of them), and return the totals.

    Idempotent and resumable: an anonymised ticket is never picked again, and a batch is
    committed whole or not at all, so a crash leaves each ticket untouched or fully
    anonymised. On PostgreSQL a batch locks its tickets (``SKIP LOCKED``: two runs at once
    share the work), so no one changes a ticket between the choice and the erasure.
    """
    total = RetentionResult()
    done = 0
    while max_batches is None or done < max_batches:
        ids = list(session.scalars(_eligible(now - older_than).order_by(Ticket.id).limit(batch)
                                   .with_for_update(skip_locked=True, of=Ticket)))
        if not ids:
            session.rollback()  # end the read transaction (and its locks: none)
            break
        total.add(_anonymise_batch(session, ids, now, older_than))
        session.commit()
        done += 1
    return total


# ---- recordings kept by Twilio ---------------------------------------------------------------

def recordings_to_delete(session: Session, limit: int = 500) -> list[tuple[int, str]]:
    """(call id, RecordingSid) of each voicemail of an anonymised ticket that Twilio still
    holds: the sid is kept after the link is erased, as the handle to delete it by."""
    return [(call_id, sid) for call_id, sid in session.execute(
        select(Call.id, Call.recording_sid).join(Ticket, Ticket.id == Call.ticket_id)
        .where(Ticket.anonymised_at.is_not(None), Call.recording_sid.is_not(None))
        .order_by(Call.id).limit(limit))]


def forget_recording(session: Session, call_id: int) -> None:
    """Twilio deleted the call's recording: drop its sid (the caller commits)."""
    session.execute(update(Call).where(Call.id == call_id).values(recording_sid=None)
                    .execution_options(synchronize_session=False))
