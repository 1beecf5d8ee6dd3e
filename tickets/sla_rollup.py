"""The daily SLA rollup: the summary's figures per local day, so a year reads ~365 small rows
per group instead of a million tickets.

Per local day (``HOTLINE_TIMEZONE``) and per (line, contact point, hospital):

* ``sla_rollup_tickets``: tickets created that day, how many had a ``resolve`` / ``reopen``
  event, survey answers and satisfied answers;
* ``sla_rollup_clocks``: per clock, the scored runs of those tickets, how many met, and
  **every elapsed time, sorted, as packed float64** (8 bytes a run). Medians and p90 over
  any set of days are then exact: the arrays of the days are concatenated and the same
  linear interpolation as PostgreSQL's ``percentile_cont`` picks the values — bit for bit
  the figure the live query gives (no histogram buckets, no approximation);
* ``sla_rollup_calls``: per call line, calls started that day (keyed also by the ticket's
  line, contact point and hospital, which decide who may read them), answered within 15 s
  and abandoned, each as 24 counts, one per local hour (packed int32: a year of a reader's
  calls is a few thousand rows, summed in numpy).

Freshness. A past day changes whenever one of its tickets does (a clock stops days later,
a reopen, a survey answer, a transfer). ``sla_rollup_days`` holds a counter per day:
``note_changes`` — called by ``sla.apply`` inside every transaction that changes tickets —
adds one to the creation day of each ticket changed (and the start day of its calls), and
the rollup of a day is *fresh* while ``computed_changes`` equals ``changes``. The summary
reads only fresh days from the rollup and computes every other day live (today, days
changed since the job last ran), so its figures always equal the live computation. The job
(``refresh``) recomputes stale closed days; it locks a day's counter row while it reads, so
a change committed meanwhile leaves the day stale for the next run rather than lost.
Each run makes the counter rows through tomorrow, so in steady state a change always finds
its day's row. Not covered: a change committed while the very first run (or one after a
long outage) creates and computes old days, and changes made outside the services (raw
SQL) — ``refresh(..., rebuild=True)`` recomputes every closed day.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.calls import Call, CallEnded
from tickets.db import Base, UTCDateTime
from tickets.events import TicketChanged
from tickets.models import Ticket, TicketEvent
from tickets.sla import SlaClock
from tickets.upsert import insert_for

ANSWER_TARGET_SECONDS = 15
# A day is rolled up an hour after its local midnight: calls that straddle midnight have
# ended and their last webhooks have arrived by then.
GRACE = timedelta(hours=1)
BATCH_DAYS = 31
# History actions that change no figure of the summary (the sweep's own marks).
_SILENT_ACTIONS = ("sla_warning", "sla_breached", "sla_escalated")


# ---- the report indexes ----------------------------------------------------------------
# What the summary's live part and the rollup job read, each answered from an index alone
# (INCLUDE and WHERE are PostgreSQL's; elsewhere these are plain indexes on the first
# column). Declared here, beside the queries they serve; the clocks' are on SlaClock.

Index("ix_tickets_created_at_report", Ticket.__table__.c.created_at,
      postgresql_include=["id", "line", "status", "contact_point_id", "hospital_id", "satisfaction",
                          "created_by_id"])
Index("ix_ticket_events_outcome", TicketEvent.__table__.c.at, postgresql_include=["ticket_id", "action"],
      postgresql_where="action IN ('resolve', 'reopen')")
Index("ix_calls_started_at_report", Call.__table__.c.started_at,
      postgresql_include=["ticket_id", "line", "queue_time", "answered_at", "ended_at", "voicemail"])


# ---- the tables ----------------------------------------------------------------------------

class SlaRollupDay(Base):
    """One local day: how often its tickets changed, and as of which change it was rolled up."""

    __tablename__ = "sla_rollup_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    computed_changes: Mapped[int | None] = mapped_column(Integer)  # None: never rolled up
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlaRollupTickets(Base):
    """Tickets created on ``day`` on ``line`` for one contact point / hospital (or none)."""

    __tablename__ = "sla_rollup_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    line: Mapped[str] = mapped_column(String(4))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"))
    tickets: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer)
    surveys: Mapped[int] = mapped_column(Integer)
    satisfied: Mapped[int] = mapped_column(Integer)


class SlaRollupClock(Base):
    """The scored runs of one clock of those tickets: counts and the sorted elapsed times."""

    __tablename__ = "sla_rollup_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    line: Mapped[str] = mapped_column(String(4))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"))
    clock: Mapped[str] = mapped_column(String(20))
    scored: Mapped[int] = mapped_column(Integer)
    met: Mapped[int] = mapped_column(Integer)
    elapsed: Mapped[bytes] = mapped_column(LargeBinary)  # float64 little-endian, ascending


class SlaRollupCalls(Base):
    """Calls started on ``day`` on ``line``, by the ticket they opened: per-hour counts."""

    __tablename__ = "sla_rollup_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    line: Mapped[str] = mapped_column(String(4))  # the call's line
    ticket_line: Mapped[str] = mapped_column(String(4))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"))
    # 24 little-endian int32 each, hours 0-23 local (``pack_hours`` / ``unpack_hours``).
    calls: Mapped[bytes] = mapped_column(LargeBinary)
    answered_15s: Mapped[bytes] = mapped_column(LargeBinary)
    abandoned: Mapped[bytes] = mapped_column(LargeBinary)


# ---- shared definitions (the live report uses the same) -------------------------------------

def answered_fast():
    """Answered by a person within ANSWER_TARGET_SECONDS of waiting."""
    return and_(Call.queue_time <= ANSWER_TARGET_SECONDS, Call.answered_at.is_not(None))


def abandoned():
    """Ended without anyone answering, and not a voicemail."""
    return and_(Call.ended_at.is_not(None), Call.answered_at.is_(None), Call.voicemail.is_(False))


def pack(values: Iterable[float]) -> bytes:
    """Elapsed times as stored: ascending float64, little-endian."""
    return np.sort(np.fromiter(values, dtype="<f8")).tobytes()


def unpack(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob or b"", dtype="<f8")


def unpack_hours(blob: bytes | None) -> np.ndarray:
    """Per-hour counts: one or more 24-count vectors end to end, added up."""
    return np.frombuffer(blob or b"", dtype="<i4").reshape(-1, 24).sum(axis=0, dtype=np.int64)


def percentiles(values: np.ndarray, qs: tuple[float, ...] = (0.5, 0.9)) -> list[float | None]:
    """PostgreSQL's ``percentile_cont`` for each q, in O(n): the two order statistics
    around (n - 1) * q by partial sort, then lo + (hi - lo) * fraction, the same floating
    point operations PostgreSQL does."""
    n = len(values)
    if n == 0:
        return [None for _ in qs]
    positions = [(n - 1) * q for q in qs]
    ranks = sorted({k for p in positions for k in (math.floor(p), math.ceil(p))})
    part = np.partition(values, ranks) if n > 1 else values
    out: list[float | None] = []
    for p in positions:
        lo, hi = math.floor(p), math.ceil(p)
        a, b = float(part[lo]), float(part[hi])
        out.append(a + (b - a) * (p - lo))
    return out


# ---- days ----------------------------------------------------------------------------------

def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def within(column, spans: list[tuple[datetime, datetime]]):
    """``column`` in any of the [lo, hi) spans."""
    conditions = [and_(column >= lo, column < hi) for lo, hi in spans]
    return conditions[0] if len(conditions) == 1 else or_(*conditions)


def spans_of(days: Iterable[date], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The [first midnight, midnight after the last) of each run of days."""
    return [(day_start(a, zone), day_start(b + timedelta(days=1), zone)) for a, b in runs(days)]


def fresh_days(session: Session, first: date, last: date, today: date) -> list[date]:
    """The days of [first, last] before ``today`` whose rollup is up to date."""
    return list(session.scalars(select(SlaRollupDay.day).where(
        SlaRollupDay.day >= first, SlaRollupDay.day <= min(last, today - timedelta(days=1)),
        SlaRollupDay.computed_changes == SlaRollupDay.changes).order_by(SlaRollupDay.day)))


# ---- keeping days stale when their tickets change --------------------------------------------

def note_changes(session: Session, events: list, now: datetime, timezone: str) -> set[date]:
    """Count a change on each past day the events touch: the creation day of each changed
    ticket and the start day of its calls. Runs inside the change's own transaction."""
    zone = ZoneInfo(timezone)
    today = local_day(now, zone)
    days: set[date] = set()
    old_tickets: list[int] = []
    for ticket_id in sorted({e.ticket_id for e in events
                             if isinstance(e, TicketChanged) and e.action not in _SILENT_ACTIONS}):
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and local_day(ticket.created_at, zone) < today:
            days.add(local_day(ticket.created_at, zone))
            old_tickets.append(ticket_id)
    # A call that just ended may have started before midnight (a call arriving now is today's).
    ended = (session.get(Call, e.call_id) for e in events if isinstance(e, CallEnded))
    started: list[datetime] = [call.started_at for call in ended if call is not None]
    if old_tickets:
        started += session.scalars(select(Call.started_at).where(Call.ticket_id.in_(old_tickets)))
    days |= {d for d in (local_day(s, zone) for s in started) if d < today}
    for day in sorted(days):  # one row at a time, in order: two writers never deadlock
        session.execute(update(SlaRollupDay).where(SlaRollupDay.day == day)
                        .values(changes=SlaRollupDay.changes + 1))
    return days


# ---- computing days ------------------------------------------------------------------------

def _ensure_days(session: Session, first: date, last: date) -> None:
    existing = set(session.scalars(select(SlaRollupDay.day).where(SlaRollupDay.day >= first,
                                                                 SlaRollupDay.day <= last)))
    missing = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = [{"day": d, "changes": 0} for d in missing if d not in existing]
    if not rows:
        return
    session.execute(insert_for(session, SlaRollupDay).on_conflict_do_nothing(), rows)  # a racing job made them


def _first_day(session: Session, zone: ZoneInfo) -> date | None:
    firsts = [session.scalar(select(func.min(Ticket.created_at))), session.scalar(select(func.min(Call.started_at)))]
    firsts = [f for f in firsts if f is not None]
    return min(local_day(f, zone) for f in firsts) if firsts else None


def compute(session: Session, days: list[date], zone: ZoneInfo) -> dict[str, list[dict]]:
    """The rollup rows of ``days``, read from tickets, clocks, history and calls."""
    spans = spans_of(days, zone)
    wanted = set(days)
    since = spans[0][0]
    # Which of these tickets were ever resolved / reopened (the live report's definition:
    # a history event since the period began), from their own history rows.
    outcomes = {(ticket_id, action) for ticket_id, action in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.action).distinct().join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(within(Ticket.created_at, spans), TicketEvent.action.in_(("resolve", "reopen")),
               TicketEvent.at >= since))}
    tickets: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for ticket_id, created, line, cp, h, satisfaction in session.execute(
            select(Ticket.id, Ticket.created_at, Ticket.line, Ticket.contact_point_id, Ticket.hospital_id,
                   Ticket.satisfaction).where(within(Ticket.created_at, spans))):
        row = tickets[(local_day(created, zone), line, cp, h)]
        row[0] += 1
        row[1] += (ticket_id, "resolve") in outcomes
        row[2] += (ticket_id, "reopen") in outcomes
        row[3] += satisfaction is not None
        row[4] += satisfaction == 1
    clocks: dict[tuple, list] = defaultdict(lambda: [0, 0, []])
    for created, line, cp, h, clock, met, elapsed in session.execute(
            select(Ticket.created_at, Ticket.line, Ticket.contact_point_id, Ticket.hospital_id, SlaClock.clock,
                   SlaClock.met, func.coalesce(SlaClock.elapsed_seconds, 0.0))
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(within(Ticket.created_at, spans), SlaClock.met.is_not(None))):
        row = clocks[(local_day(created, zone), line, cp, h, clock)]
        row[0] += 1
        row[1] += bool(met)
        row[2].append(elapsed)
    calls: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros((3, 24), dtype="<i4"))
    for started, line, fast, lost, ticket_line, cp, h in session.execute(
            select(Call.started_at, Call.line, case((answered_fast(), 1), else_=0), case((abandoned(), 1), else_=0),
                   Ticket.line, Ticket.contact_point_id, Ticket.hospital_id)
            .join(Ticket, Ticket.id == Call.ticket_id).where(within(Call.started_at, spans))):
        local = started.astimezone(zone)
        row = calls[(local.date(), line, ticket_line, cp, h)]
        row[:, local.hour] += (1, fast, lost)
    keys = ("day", "line", "contact_point_id", "hospital_id")
    return {
        "tickets": [dict(zip(keys, k, strict=True), tickets=v[0], resolved=v[1], reopened=v[2], surveys=v[3],
                         satisfied=v[4]) for k, v in tickets.items() if k[0] in wanted],
        "clocks": [dict(zip((*keys, "clock"), k, strict=True), scored=v[0], met=v[1], elapsed=pack(v[2]))
                   for k, v in clocks.items() if k[0] in wanted],
        "calls": [dict(zip(("day", "line", "ticket_line", "contact_point_id", "hospital_id"), k, strict=True),
                       calls=v[0].tobytes(), answered_15s=v[1].tobytes(), abandoned=v[2].tobytes())
                  for k, v in calls.items() if k[0] in wanted],
    }


_TABLES = {"tickets": SlaRollupTickets, "clocks": SlaRollupClock, "calls": SlaRollupCalls}


def _recompute(session: Session, days: list[date], zone: ZoneInfo, now: datetime) -> None:
    # The counters first, locked: a change committing while we read waits, then counts
    # against the value we record, so the day stays stale for the next run.
    seen = dict(session.execute(select(SlaRollupDay.day, SlaRollupDay.changes)
                                .where(SlaRollupDay.day.in_(days)).order_by(SlaRollupDay.day).with_for_update()).all())
    rows = compute(session, days, zone)
    for name, model in _TABLES.items():
        session.execute(delete(model).where(model.day.in_(days)))
        if rows[name]:
            session.execute(insert(model), rows[name])
    for day, changes in seen.items():
        session.execute(update(SlaRollupDay).where(SlaRollupDay.day == day)
                        .values(computed_changes=changes, computed_at=now))


def refresh(session: Session, now: datetime, timezone: str = "Asia/Ho_Chi_Minh", *, rebuild: bool = False,
            batch_days: int = BATCH_DAYS, max_days: int | None = None) -> int:
    """Bring the rollup up to date and return how many days were computed: make the days'
    counter rows (through tomorrow), then recompute every closed day that is stale (or every
    closed day, with ``rebuild``), ``batch_days`` at a time, committing after each batch.

    Idempotent: a second run finds nothing stale and computes nothing.
    """
    zone = ZoneInfo(timezone)
    first = _first_day(session, zone)
    if first is None:
        return 0
    today = local_day(now, zone)
    _ensure_days(session, first, today + timedelta(days=1))
    if rebuild:
        session.execute(update(SlaRollupDay).values(computed_changes=None))
    session.commit()
    last_closed = local_day(now - GRACE, zone) - timedelta(days=1)
    done, cursor = 0, first - timedelta(days=1)
    while max_days is None or done < max_days:
        limit = batch_days if max_days is None else min(batch_days, max_days - done)
        stale = list(session.scalars(select(SlaRollupDay.day).where(
            SlaRollupDay.day > cursor, SlaRollupDay.day <= last_closed,
            or_(SlaRollupDay.computed_changes.is_(None), SlaRollupDay.computed_changes != SlaRollupDay.changes))
            .order_by(SlaRollupDay.day).limit(limit)))
        if not stale:
            break
        _recompute(session, stale, zone, now)
        session.commit()
        done += len(stale)
        cursor = stale[-1]
    return done
