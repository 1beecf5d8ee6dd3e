"""SLA reports: standing per contact point, hospital and line, and the list of breaches.

Plain SQLAlchemy, no web framework. Every query is narrowed by
``tickets.permissions.readable_tickets`` so a report shows exactly the tickets its reader
may read (the rule lives in one place).

Definitions (the API and the supervisor page show these figures):

* Period: local days ``start``..``end`` inclusive in the hotline's time zone.
* ``tickets``: tickets created in the period (the cohort every ticket figure is about).
* On time, per clock: of the cohort's clock runs stopped *and scored* (``met`` not null —
  a reassignment stops a clock unscored), the share that met its due time. Median and p90
  are of those runs' ``elapsed_seconds`` (working time on the clock's calendar), as
  PostgreSQL's ``percentile_cont`` computes them (linear interpolation); elsewhere the same
  interpolation in Python.
* Backlog: tickets open *now* (new, assigned, in progress), whatever their creation date,
  by wall-clock age: [0, 1 d), [1 d, 3 d), [3 d, 7 d), 7 d and more.
* Reopen rate: cohort tickets with a ``reopen`` event / cohort tickets with a ``resolve``
  event. Satisfaction: answers ``1`` (hài lòng) / survey answers (1 or 2).
* Calls, per line and local hour of arrival: calls; answered within 15 s (queue_time ≤ 15
  and answered); abandoned (ended, never answered, not a voicemail). Both shares are of all
  calls in that hour.
* Breaches: clock runs stopped late (``met`` false), marked breached by the sweep, or
  running past their due time now; dated by their due time (else the breach time).

Where the figures come from: whole past days whose daily rollup is fresh are read from it
(``tickets.sla_rollup``: counts, and the sorted elapsed times for exact percentiles); today,
days changed since the last rollup, and readable tickets a rollup row cannot describe are
computed live; ``summary(..., rollups=False)`` computes everything live. Both give the same
figures, assuming only that no history event predates its ticket (a day's rollup counts a
ticket as resolved if it ever had a ``resolve`` event; the live query, since the period began).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import (
    Float,
    Integer,
    LargeBinary,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tickets import sla_rollup
from tickets.accounts import Role
from tickets.calls import Call
from tickets.directory import ContactPoint, Hospital
from tickets.errors import Forbidden
from tickets.lifecycle import LINES, OPEN_STATUSES
from tickets.models import Ticket, TicketEvent
from tickets.permissions import Actor, readable_tickets
from tickets.sla import CLOCKS, Calendars, SlaClock

BACKLOG_BUCKETS = ("lt_1d", "d1_3", "d3_7", "gt_7d")
ANSWER_TARGET_SECONDS = sla_rollup.ANSWER_TARGET_SECONDS  # the wallboard reads it here
_BUCKET_EDGES = (timedelta(days=1), timedelta(days=3), timedelta(days=7))
MAX_PERIOD_DAYS = 731
DEFAULT_DAYS = 30
_OPEN = sorted(str(s) for s in OPEN_STATUSES)


# ---- who may read ------------------------------------------------------------------------

def authorize_reports(actor: Actor) -> None:
    """Supervisors and admins read everything; staff, hospital users, operators and
    dispatchers read their own share (narrowed by ``readable_tickets``); others nothing."""
    role = actor.role
    if role in (Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR, Role.DISPATCHER, "system"):
        return
    if role == Role.STAFF and getattr(actor, "contact_point_id", None) is not None:
        return
    if role == Role.HOSPITAL and getattr(actor, "hospital_id", None) is not None:
        return
    raise Forbidden(f"Your role ({role}) may not read SLA reports")


# ---- the period --------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local days ``start``..``end`` inclusive."""

    start: date
    end: date
    timezone: str = "Asia/Ho_Chi_Minh"

    @classmethod
    def last_days(cls, now: datetime, days: int = 30, timezone: str = "Asia/Ho_Chi_Minh") -> Period:
        """The ``days`` local days ending today (today included)."""
        today = now.astimezone(ZoneInfo(timezone)).date()
        return cls(today - timedelta(days=days - 1), today, timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first local midnight, the midnight after the last day) as aware datetimes."""
        return (datetime.combine(self.start, time(0), self.zone),
                datetime.combine(self.end + timedelta(days=1), time(0), self.zone))


# ---- result shapes -----------------------------------------------------------------------

def pct(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal; None when there is no whole."""
    return round(100.0 * part / whole, 1) if whole else None


def percentile_cont(values: Iterable[float], q: float) -> float | None:
    """PostgreSQL's ``percentile_cont(q)``: linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _seconds(value: float | None) -> float | None:
    """Durations are shown to a tenth of a second (and float noise goes)."""
    return None if value is None else round(float(value), 1)


@dataclass
class ClockStats:
    scored: int = 0
    met: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def on_time_pct(self) -> float | None:
        return pct(self.met, self.scored)


@dataclass
class GroupRow:
    """One contact point, one hospital, or everything (``code`` None)."""

    code: str | None
    name: str
    tickets: int = 0
    clocks: dict[str, ClockStats] = field(default_factory=lambda: {c: ClockStats() for c in CLOCKS})
    backlog: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BACKLOG_BUCKETS, 0))
    resolved: int = 0
    reopened: int = 0
    surveys: int = 0
    satisfied: int = 0

    @property
    def reopen_pct(self) -> float | None:
        return pct(self.reopened, self.resolved)

    @property
    def satisfaction_pct(self) -> float | None:
        return pct(self.satisfied, self.surveys)


@dataclass
class CallRow:
    line: str
    hour: int  # local
    calls: int = 0
    answered_15s: int = 0
    abandoned: int = 0

    @property
    def answered_15s_pct(self) -> float | None:
        return pct(self.answered_15s, self.calls)

    @property
    def abandoned_pct(self) -> float | None:
        return pct(self.abandoned, self.calls)


@dataclass
class Summary:
    period: Period
    line: str | None
    contact_points: list[GroupRow]
    hospitals: list[GroupRow]
    total: GroupRow
    calls: list[CallRow]


# ---- the summary -------------------------------------------------------------------------

def _scope(actor: Actor, line: str | None):
    """Readable tickets on ``line`` (``line IN (both)`` lets the line/status index serve)."""
    return and_(readable_tickets(actor), (Ticket.line == line) if line else Ticket.line.in_(LINES))


class _Rollup:
    """Rows keyed by contact point id, hospital id and the total, filled from counts that
    are grouped by (contact point, hospital) and added up here."""

    def __init__(self) -> None:
        self.cps: dict[int, GroupRow] = {}
        self.hospitals: dict[int, GroupRow] = {}
        self.total = GroupRow(None, "")
        # Elapsed times per (row, clock), from rollup arrays and live rows: the exact
        # median and p90 are taken at the end (``finish``).
        self.samples: dict[tuple[int, str], tuple[GroupRow, str, list[np.ndarray], list[float]]] = {}

    def cp(self, key: int) -> GroupRow:
        return self.cps.setdefault(key, GroupRow(None, ""))

    def hospital(self, key: int) -> GroupRow:
        return self.hospitals.setdefault(key, GroupRow(None, ""))

    def rows_for(self, cp_id: int | None, hospital_id: int | None) -> list[GroupRow]:
        rows = [self.total]
        if cp_id is not None:
            rows.append(self.cp(cp_id))
        if hospital_id is not None:
            rows.append(self.hospital(hospital_id))
        return rows

    def add_counts(self, cp_id: int | None, h_id: int | None, counts: Iterable) -> None:
        tickets, resolved, reopened, surveys, satisfied = (int(n or 0) for n in counts)
        for row in self.rows_for(cp_id, h_id):
            row.tickets += tickets
            row.resolved += resolved
            row.reopened += reopened
            row.surveys += surveys
            row.satisfied += satisfied

    def add_runs(self, cp_id: int | None, h_id: int | None, clock: str, scored: int, met: int,
                 elapsed: np.ndarray | float) -> None:
        """Scored runs of ``clock``: an array of elapsed times, or one."""
        for row in self.rows_for(cp_id, h_id):
            stats = row.clocks[clock]
            stats.scored += int(scored)
            stats.met += int(met or 0)
            _, _, arrays, values = self.samples.setdefault((id(row), clock), (row, clock, [], []))
            if isinstance(elapsed, np.ndarray):
                arrays.append(elapsed)
            else:
                values.append(elapsed)

    def finish(self) -> None:
        for row, clock, arrays, values in self.samples.values():
            sample = np.concatenate([*arrays, np.asarray(values, dtype="<f8")])
            median, p90 = sla_rollup.percentiles(sample)
            row.clocks[clock].median_seconds = _seconds(median)
            row.clocks[clock].p90_seconds = _seconds(p90)


Spans = list[tuple[datetime, datetime]]


def _ticket_counts(session: Session, scope, spans: Spans, roll: _Rollup) -> None:
    since = min(lo for lo, _ in spans)

    def ever(action: str):
        # "id IN (…)" inside the sum: PostgreSQL probes a hash of the ids built once.
        had = Ticket.id.in_(select(TicketEvent.ticket_id).where(TicketEvent.action == action,
                                                                TicketEvent.at >= since))
        return func.sum(case((had, 1), else_=0))

    stmt = (select(Ticket.contact_point_id, Ticket.hospital_id, func.count(), ever("resolve"), ever("reopen"),
                   func.count(Ticket.satisfaction), func.sum(case((Ticket.satisfaction == 1, 1), else_=0)))
            .where(scope, sla_rollup.within(Ticket.created_at, spans))
            .group_by(Ticket.contact_point_id, Ticket.hospital_id))
    for cp_id, h_id, *counts in session.execute(stmt):
        roll.add_counts(cp_id, h_id, counts)


def _backlog(session: Session, scope, now: datetime, roll: _Rollup) -> None:
    day1, day3, day7 = (now - edge for edge in _BUCKET_EDGES)
    created = Ticket.created_at
    buckets = (created > day1, and_(created <= day1, created > day3),
               and_(created <= day3, created > day7), created <= day7)
    stmt = (select(Ticket.contact_point_id, Ticket.hospital_id,
                   *(func.sum(case((cond, 1), else_=0)) for cond in buckets))
            .where(scope, Ticket.status.in_(_OPEN))
            .group_by(Ticket.contact_point_id, Ticket.hospital_id))
    for cp_id, h_id, *counts in session.execute(stmt):
        for row in roll.rows_for(cp_id, h_id):
            for bucket, n in zip(BACKLOG_BUCKETS, counts, strict=True):
                row.backlog[bucket] += int(n or 0)


def _clock_runs(session: Session, scope, spans: Spans, roll: _Rollup) -> None:
    """The scored runs one by one, for the percentiles in Python (SQLite; and the live days
    of a summary that reads the rollup)."""
    stmt = (select(Ticket.contact_point_id, Ticket.hospital_id, SlaClock.clock, SlaClock.met,
                   func.coalesce(SlaClock.elapsed_seconds, 0.0)).join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(scope, sla_rollup.within(Ticket.created_at, spans), SlaClock.met.is_not(None)))
    for cp_id, h_id, clock, met, elapsed in session.execute(stmt):
        roll.add_runs(cp_id, h_id, clock, 1, bool(met), float(elapsed))


def _clock_stats_sql(session: Session, scope, spans: Spans, roll: _Rollup) -> None:
    """Counts and both percentiles in PostgreSQL, one sort per group."""
    elapsed = func.coalesce(SlaClock.elapsed_seconds, 0.0)
    quantiles = func.percentile_cont(literal([0.5, 0.9], ARRAY(Float))).within_group(elapsed)
    stmt = (select(func.grouping(Ticket.contact_point_id), func.grouping(Ticket.hospital_id),
                   Ticket.contact_point_id, Ticket.hospital_id, SlaClock.clock, func.count(),
                   func.sum(case((SlaClock.met, 1), else_=0)), quantiles)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(scope, sla_rollup.within(Ticket.created_at, spans), SlaClock.met.is_not(None))
            .group_by(func.grouping_sets(tuple_(Ticket.contact_point_id, SlaClock.clock),
                                         tuple_(Ticket.hospital_id, SlaClock.clock),
                                         tuple_(SlaClock.clock))))
    for no_cp, no_h, cp_id, h_id, clock, scored, met, (median, p90) in session.execute(stmt):
        if not no_cp:
            if cp_id is None:
                continue
            row = roll.cp(cp_id)
        elif not no_h:
            if h_id is None:
                continue
            row = roll.hospital(h_id)
        else:
            row = roll.total
        row.clocks[clock] = ClockStats(scored, int(met or 0), _seconds(median), _seconds(p90))


def _calls(session: Session, tickets_scope, line: str | None, spans: Spans, zone: ZoneInfo,
           rows: dict[tuple[str, int], CallRow]) -> None:
    """Calls started in ``spans`` whose ticket is in ``tickets_scope``, added to ``rows``."""
    answered_15s, abandoned = sla_rollup.answered_fast(), sla_rollup.abandoned()
    where = (tickets_scope, sla_rollup.within(Call.started_at, spans), (Call.line == line) if line else true())
    if session.get_bind().dialect.name == "postgresql":
        hour = func.extract("hour", func.timezone(zone.key, Call.started_at)).cast(Integer)
        stmt = (select(Call.line, hour, func.count(), func.sum(case((answered_15s, 1), else_=0)),
                       func.sum(case((abandoned, 1), else_=0)))
                .join(Ticket, Ticket.id == Call.ticket_id).where(*where).group_by(Call.line, hour))
        counted = ((call_line, int(h), n, fast, lost) for call_line, h, n, fast, lost in session.execute(stmt))
    else:
        stmt = (select(Call.line, Call.started_at, case((answered_15s, 1), else_=0), case((abandoned, 1), else_=0))
                .join(Ticket, Ticket.id == Call.ticket_id).where(*where))
        counted = ((call_line, started.astimezone(zone).hour, 1, fast, lost)
                   for call_line, started, fast, lost in session.execute(stmt))
    for call_line, h, n, fast, lost in counted:
        _add_calls(rows, call_line, h, n, fast, lost)


def _add_calls(rows: dict[tuple[str, int], CallRow], line: str, hour: int, calls, fast, lost) -> None:
    row = rows.setdefault((line, int(hour)), CallRow(line, int(hour)))
    row.calls += int(calls or 0)
    row.answered_15s += int(fast or 0)
    row.abandoned += int(lost or 0)


def _named(session: Session, model, rows: dict[int, GroupRow], name_column) -> list[GroupRow]:
    if not rows:
        return []
    for key, code, name in session.execute(select(model.id, model.code, name_column)
                                           .where(model.id.in_(list(rows)))):
        rows[key].code, rows[key].name = code, name
    return sorted(rows.values(), key=lambda r: r.code)


def _tune(session: Session) -> None:
    """On PostgreSQL, for this transaction: room to hash and sort in memory, and no JIT (its
    compile time costs more than it saves on these one-off aggregates)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


# ---- the summary from the daily rollup ---------------------------------------------------

RowFilter = Callable[[Any, Any, Any], Any]  # (ticket line, contact point id, hospital id) columns -> condition


def rollup_scope(actor: Actor) -> tuple[RowFilter, Any] | None:
    """``readable_tickets`` restated for rollup rows: a condition on a row's ticket line,
    contact point and hospital, plus the readable tickets no row can describe (an operator's
    own 115 tickets, a dispatcher's own 1022 ones), which are then read live. None: this
    actor's summary is computed live. Tests compare both paths for every role."""
    role = actor.role
    if role in (Role.SUPERVISOR, Role.ADMIN, "system"):
        return (lambda _line, _cp, _h: true()), None
    if role == Role.STAFF and getattr(actor, "contact_point_id", None) is not None:
        return (lambda _line, cp, _h: cp == actor.contact_point_id), None
    if role == Role.HOSPITAL and getattr(actor, "hospital_id", None) is not None:
        return (lambda _line, _cp, h: h == actor.hospital_id), None
    own_line = {Role.OPERATOR: "1022", Role.DISPATCHER: "115"}.get(role)
    if own_line is None:
        return None
    return (lambda line, _cp, _h: line == own_line), and_(Ticket.line != own_line,
                                                          Ticket.created_by_id == actor.id)


def _rolled_counts(session: Session, days, rows: RowFilter, line: str | None, roll: _Rollup) -> None:
    r = sla_rollup.SlaRollupTickets
    stmt = (select(r.contact_point_id, r.hospital_id, func.sum(r.tickets), func.sum(r.resolved),
                   func.sum(r.reopened), func.sum(r.surveys), func.sum(r.satisfied))
            .where(days(r.day), rows(r.line, r.contact_point_id, r.hospital_id), (r.line == line) if line else true())
            .group_by(r.contact_point_id, r.hospital_id))
    for cp_id, h_id, *counts in session.execute(stmt):
        roll.add_counts(cp_id, h_id, counts)


def _rolled_runs(session: Session, days, rows: RowFilter, line: str | None, roll: _Rollup) -> None:
    r = sla_rollup.SlaRollupClock
    where = (days(r.day), rows(r.line, r.contact_point_id, r.hospital_id), (r.line == line) if line else true())
    if session.get_bind().dialect.name == "postgresql":
        # One row per group: the day arrays joined end to end by the database.
        stmt = (select(r.contact_point_id, r.hospital_id, r.clock, func.sum(r.scored), func.sum(r.met),
                       func.string_agg(r.elapsed, literal(b"", LargeBinary), type_=LargeBinary))
                .where(*where).group_by(r.contact_point_id, r.hospital_id, r.clock))
    else:
        stmt = select(r.contact_point_id, r.hospital_id, r.clock, r.scored, r.met, r.elapsed).where(*where)
    for cp_id, h_id, clock, scored, met, elapsed in session.execute(stmt):
        roll.add_runs(cp_id, h_id, clock, scored, met, sla_rollup.unpack(elapsed))


def _rolled_calls(session: Session, days, rows: RowFilter, line: str | None,
                  calls: dict[tuple[str, int], CallRow]) -> None:
    r = sla_rollup.SlaRollupCalls
    where = (days(r.day), rows(r.ticket_line, r.contact_point_id, r.hospital_id), (r.line == line) if line else true())
    vectors = (r.calls, r.answered_15s, r.abandoned)
    if session.get_bind().dialect.name == "postgresql":
        # One row per line: the per-hour vectors end to end, added up here.
        joined = [func.string_agg(v, literal(b"", LargeBinary), type_=LargeBinary) for v in vectors]
        stmt = select(r.line, *joined).where(*where).group_by(r.line)
    else:
        stmt = select(r.line, *vectors).where(*where)
    for call_line, *blobs in session.execute(stmt):
        per_hour = [sla_rollup.unpack_hours(b) for b in blobs]
        for hour in np.flatnonzero(per_hour[0]):
            _add_calls(calls, call_line, int(hour), *(int(v[hour]) for v in per_hour))


def _day_filter(rolled: list[date]):
    def condition(column):
        parts = [and_(column >= a, column <= b) for a, b in sla_rollup.runs(rolled)]
        return parts[0] if len(parts) == 1 else or_(*parts)
    return condition


def _live(session: Session, actor: Actor, period: Period, line: str | None, roll: _Rollup,
          calls: dict[tuple[str, int], CallRow]) -> None:
    """Every figure computed from the tickets themselves (percentiles by PostgreSQL)."""
    spans = [period.bounds()]
    scope = _scope(actor, line)
    _ticket_counts(session, scope, spans, roll)
    if session.get_bind().dialect.name == "postgresql":
        _clock_stats_sql(session, scope, spans, roll)
    else:
        _clock_runs(session, scope, spans, roll)
    _calls(session, readable_tickets(actor), line, spans, period.zone, calls)


def _mixed(session: Session, actor: Actor, period: Period, line: str | None, rolled: list[date],
           split: tuple[RowFilter, Any], roll: _Rollup, calls: dict[tuple[str, int], CallRow]) -> None:
    """Fresh past days from the rollup; the other days, and what no rollup row can
    describe, live; the percentiles over the union of both."""
    rows, extra = split
    days = _day_filter(rolled)
    _rolled_counts(session, days, rows, line, roll)
    _rolled_runs(session, days, rows, line, roll)
    _rolled_calls(session, days, rows, line, calls)
    rolled_set = set(rolled)
    live_days = [d for d in (period.start + timedelta(days=i) for i in range((period.end - period.start).days + 1))
                 if d not in rolled_set]
    parts = []
    if live_days:
        parts.append((readable_tickets(actor), sla_rollup.spans_of(live_days, period.zone)))
    if extra is not None:
        parts.append((extra, sla_rollup.spans_of(rolled, period.zone)))
    for tickets_scope, spans in parts:
        scope = and_(tickets_scope, (Ticket.line == line) if line else Ticket.line.in_(LINES))
        _ticket_counts(session, scope, spans, roll)
        _clock_runs(session, scope, spans, roll)
        _calls(session, tickets_scope, line, spans, period.zone, calls)


def summary(session: Session, actor: Actor, period: Period, now: datetime,
            line: str | None = None, *, rollups: bool = True) -> Summary:
    """The SLA standing of what ``actor`` may read, for ``period`` (and ``line``).

    Whole past days come from the daily rollup where it is fresh (``tickets.sla_rollup``),
    the rest live; ``rollups=False`` computes everything live. Both give the same figures.
    """
    authorize_reports(actor)
    _tune(session)
    roll = _Rollup()
    calls: dict[tuple[str, int], CallRow] = {}
    today = now.astimezone(period.zone).date()
    split = rollup_scope(actor) if rollups else None
    rolled = sla_rollup.fresh_days(session, period.start, period.end, today) if split else []
    if rolled:
        _mixed(session, actor, period, line, rolled, split, roll, calls)
    else:
        _live(session, actor, period, line, roll, calls)
    roll.finish()
    _backlog(session, _scope(actor, line), now, roll)
    roll.total.name = "*"
    return Summary(period=period, line=line,
                   contact_points=_named(session, ContactPoint, roll.cps, ContactPoint.name_vi),
                   hospitals=_named(session, Hospital, roll.hospitals, Hospital.name),
                   total=roll.total, calls=[calls[k] for k in sorted(calls)])


# ---- breaches ----------------------------------------------------------------------------

@dataclass
class Breach:
    clock: SlaClock
    ticket: Ticket
    late_seconds: float  # working time past due (on the clock's calendar)


def _breaches_query(actor: Actor, period: Period, now: datetime, line: str | None,
                    contact_point_id: int | None) -> Select:
    lo, hi = period.bounds()
    moment = func.coalesce(SlaClock.due_at, SlaClock.breached_at)
    # "moment in the period", spelt so each half has its index (ix_sla_clocks_breach_*).
    in_period = or_(and_(SlaClock.due_at >= lo, SlaClock.due_at < hi),
                    and_(SlaClock.due_at.is_(None), SlaClock.breached_at >= lo, SlaClock.breached_at < hi))
    stmt = (select(SlaClock, Ticket).join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(_scope(actor, line), in_period,
                   or_(SlaClock.met.is_(False), SlaClock.breached_at.is_not(None),
                       and_(SlaClock.stopped_at.is_(None), SlaClock.due_at <= now))))
    if contact_point_id is not None:
        stmt = stmt.where(Ticket.contact_point_id == contact_point_id)
    return stmt.order_by(moment.desc(), SlaClock.id.desc())


def late_by(row: SlaClock, now: datetime, calendars: Calendars) -> float:
    """How much working time the run spent (or has spent so far) past its due time."""
    if row.stopped_at is not None:
        return max((row.elapsed_seconds or 0.0) - row.target_seconds, 0.0)
    if row.due_at is None:  # paused after the breach: what was left is nothing
        return 0.0
    return calendars.of(row.business_hours).between(row.due_at, now).total_seconds()


def breaches(session: Session, actor: Actor, period: Period, now: datetime, calendars: Calendars, *,
             line: str | None = None, contact_point_id: int | None = None, page: int = 1,
             per_page: int = 25) -> tuple[list[Breach], int]:
    """One page of breached clock runs ``actor`` may read, newest first, and the total."""
    authorize_reports(actor)
    stmt = _breaches_query(actor, period, now, line, contact_point_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return [Breach(clock, ticket, late_by(clock, now, calendars)) for clock, ticket in rows], total
