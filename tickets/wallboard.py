"""The supervisor's wallboard: what is happening now and today, read in one go.

Plain SQLAlchemy, no web framework; ``now`` and the time zone are parameters, so every
figure is tested on a fixed data set. Each figure is an aggregate query (counts, sums,
minimums, percentiles grouped in the database); only the rows shown in the lists are loaded.

Definitions (the README's "Supervisor wallboard" repeats them):

* Today: the local day (Asia/Ho_Chi_Minh by default) that contains ``now``.
* Calls now (per line): calls not ended (no end time, status not final: queued, ringing,
  in-progress…) that started within the last ``ACTIVE_WINDOW`` (2 h) — an older call with
  no final status is a lost status callback, not a call.
* Waiting now: calls now that no person has answered yet, that did not leave the queue and
  are not leaving a voicemail; longest wait: ``now`` − the start of the oldest of them.
* Calls today: calls that started today. Answered: a person picked up. Answered within
  15 s: answered with a queue time of at most 15 s. Answer-time SLA % = answered within
  15 s / answered (the NENA measure, which leaves abandoned calls out). Abandoned: ended,
  never answered, no voicemail; its share is of calls today.
* Calls per hour: calls that started in each local hour of today, and of the same weekday
  one week earlier.
* On duty: active operators and dispatchers who are taking calls.
* Open tickets: status new, assigned or in progress, by status, line, contact point (the
  ``top`` largest and the rest) and hospital; "no destination": open, routed nowhere yet.
* Breached: open tickets with at least one breached clock run — stopped late (``met`` is
  false), marked breached by the sweep, or running past its due time now; listed with the
  earliest missed due time, longest overdue first.
* At risk: open tickets not breached with a running clock in its warning period (warned by
  the sweep, or past its warning time) and not yet due; listed soonest due first.
* On time per contact point, 7 and 30 days: ``tickets.reports.summary`` over the last 7 or
  30 local days (today included): of the resolution clock runs of tickets created in the
  period that were stopped and scored, the share that met their due time (first response
  likewise, 30 days).
* Satisfaction, 30 days: of the survey answers of tickets created in the last 30 local
  days, the share that answered "1" (hài lòng) — ``tickets.reports`` again.
* 115 call → acknowledgement: for 115 tickets opened today (by the call, for phone calls)
  that a hospital has acknowledged, the time from the ticket's creation to the
  acknowledgement (wall clock); median and p90 (PostgreSQL's percentile_cont, linear
  interpolation) and the last 20 acknowledged; "awaiting": 115 tickets dispatched to a
  hospital and not yet acknowledged.
* Nuisance calls (per line), today and 30 days: tickets opened today, or in the last 30 local
  days (today included), that were cancelled as nuisance calls (prank, silent, abusive) —
  counted by when the call came, not when it was cancelled. ``GET /metrics`` reports the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tickets import reports
from tickets.accounts import Role, on_duty_count
from tickets.calls import FINAL, Call
from tickets.db import UTCDateTime
from tickets.directory import ContactPoint, Hospital
from tickets.errors import Forbidden
from tickets.lifecycle import LINES, OPEN_STATUSES
from tickets.models import Ticket
from tickets.permissions import Actor
from tickets.services import NUISANCE
from tickets.sla import SlaClock

ACTIVE_WINDOW = timedelta(hours=2)
ANSWER_TARGET_SECONDS = reports.ANSWER_TARGET_SECONDS
TOP_CONTACT_POINTS = 10
LIST_LIMIT = 100
ACK_CASES = 20
SATISFACTION_DAYS = 30
OPEN = tuple(sorted(str(s) for s in OPEN_STATUSES))
STATUS_ORDER = ("new", "assigned", "in_progress")
DESCRIPTION_CHARS = 140


# ---- result shapes -----------------------------------------------------------------------

@dataclass
class Unit:
    """A contact point or hospital as the wallboard names it."""

    code: str
    name: str
    name_en: str
    short: str


@dataclass
class LineCalls:
    line: str  # "1022", "115", or "*" for both
    active: int = 0
    waiting: int = 0
    longest_wait_seconds: float | None = None
    today: int = 0
    answered: int = 0
    answered_15s: int = 0
    abandoned: int = 0

    @property
    def answered_15s_pct(self) -> float | None:
        return reports.pct(self.answered_15s, self.answered)

    @property
    def abandoned_pct(self) -> float | None:
        return reports.pct(self.abandoned, self.today)


@dataclass
class Calls:
    lines: list[LineCalls]
    total: LineCalls


@dataclass
class HourlyCalls:
    today: list[int]  # 24 local hours
    last_week: list[int]
    last_week_date: date


@dataclass
class UnitCount:
    unit: Unit
    count: int


@dataclass
class OpenTickets:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_ORDER, 0))
    by_line: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINES, 0))
    by_contact_point: list[UnitCount] = field(default_factory=list)  # the largest ``top``
    other_contact_points: int = 0  # tickets at the other contact points
    other_contact_point_count: int = 0  # how many other contact points
    by_hospital: list[UnitCount] = field(default_factory=list)
    no_destination: int = 0


@dataclass
class RiskItem:
    """One open ticket at risk or breached, with the clocks concerned."""

    ticket_id: int
    code: str
    line: str
    status: str
    priority: str
    category: str | None
    description: str
    contact_point: Unit | None
    hospital: Unit | None
    clocks: list[str]
    due_at: datetime  # at risk: the soonest due time; breached: the earliest one missed
    created_at: datetime


@dataclass
class RiskList:
    total: int
    items: list[RiskItem]


@dataclass
class ContactPointRow:
    unit: Unit
    open: int = 0
    at_risk: int = 0
    breached: int = 0
    on_time_7d: float | None = None
    scored_7d: int = 0
    on_time_30d: float | None = None
    scored_30d: int = 0
    first_response_30d: float | None = None
    median_resolution_seconds_30d: float | None = None
    satisfaction_30d: float | None = None
    surveys_30d: int = 0


@dataclass
class Satisfaction:
    days: int
    surveys: int
    satisfied: int

    @property
    def pct(self) -> float | None:
        return reports.pct(self.satisfied, self.surveys)


@dataclass
class OnTime:
    """Resolution (and first response / acknowledgement) on-time % over all lines."""

    resolution_7d: float | None
    resolution_30d: float | None
    first_response_30d: float | None
    acknowledgement_30d: float | None


@dataclass
class AckCase:
    ticket_id: int
    code: str
    hospital: Unit | None
    called_at: datetime
    acknowledged_at: datetime
    seconds: float


@dataclass
class Ack115:
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    awaiting: int
    cases: list[AckCase]


@dataclass
class NuisanceCalls:
    """Tickets of one line cancelled as nuisance calls, by when they were opened."""

    line: str
    today: int = 0
    days_30: int = 0


@dataclass
class Wallboard:
    generated_at: datetime
    timezone: str
    today: date
    calls: Calls
    hourly: HourlyCalls
    on_duty: dict[str, int]
    open: OpenTickets
    at_risk: RiskList
    breached: RiskList
    contact_points: list[ContactPointRow]
    satisfaction: Satisfaction
    on_time: OnTime
    ack_115: Ack115
    nuisance_calls: list[NuisanceCalls] = field(default_factory=list)


# ---- helpers -----------------------------------------------------------------------------

def authorize_wallboard(actor: Actor) -> None:
    """Supervisors and admins only: the wallboard shows every line and contact point."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN, "system"):
        raise Forbidden(f"Your role ({actor.role}) may not read the supervisor wallboard")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, the next local midnight) of ``day``."""
    return (datetime.combine(day, time(0), zone), datetime.combine(day + timedelta(days=1), time(0), zone))


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _seconds_between(session: Session, later, earlier):
    """``later - earlier`` in seconds, as SQL (PostgreSQL or SQLite)."""
    if _is_postgresql(session):
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _at(moment: datetime):
    return literal(moment, UTCDateTime())


def count_if(condition):
    """How many rows meet ``condition`` (an aggregate that works on both databases)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _short(aliases: list[str] | None, name: str) -> str:
    return aliases[0] if aliases else name


def _cp_unit(cp: ContactPoint) -> Unit:
    return Unit(cp.code, cp.name_vi, cp.name_en, _short(cp.aliases, cp.name_vi))


def _hospital_unit(h: Hospital) -> Unit:
    return Unit(h.code, h.name, h.name, h.name)


# ---- calls -------------------------------------------------------------------------------

def _calls(session: Session, now: datetime, lo: datetime, hi: datetime) -> Calls:
    active = and_(Call.ended_at.is_(None), Call.status.not_in(sorted(FINAL)),
                  Call.started_at > now - ACTIVE_WINDOW, Call.started_at <= now)
    waiting = and_(active, Call.answered_at.is_(None), Call.queue_result.is_(None), Call.voicemail.is_(False))
    today = and_(Call.started_at >= lo, Call.started_at < hi)
    answered = and_(today, Call.answered_at.is_not(None))
    fast = and_(answered, Call.queue_time <= ANSWER_TARGET_SECONDS)
    abandoned = and_(today, Call.ended_at.is_not(None), Call.answered_at.is_(None), Call.voicemail.is_(False))
    stmt = (select(Call.line, count_if(active), count_if(waiting), func.min(case((waiting, Call.started_at))),
                   count_if(today), count_if(answered), count_if(fast), count_if(abandoned))
            .where(Call.started_at >= min(lo, now - ACTIVE_WINDOW)).group_by(Call.line))
    by_line = {line: LineCalls(line) for line in LINES}
    total = LineCalls("*")
    oldest_waiting: datetime | None = None
    for line, n_active, n_waiting, first_waiting, n_today, n_answered, n_fast, n_lost in session.execute(stmt):
        row = by_line.setdefault(line, LineCalls(line))
        row.active, row.waiting, row.today = int(n_active), int(n_waiting), int(n_today)
        row.answered, row.answered_15s, row.abandoned = int(n_answered), int(n_fast), int(n_lost)
        if first_waiting is not None:
            row.longest_wait_seconds = round((now - first_waiting).total_seconds(), 1)
            oldest_waiting = min(oldest_waiting or first_waiting, first_waiting)
        for name in ("active", "waiting", "today", "answered", "answered_15s", "abandoned"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    if oldest_waiting is not None:
        total.longest_wait_seconds = round((now - oldest_waiting).total_seconds(), 1)
    return Calls(lines=[by_line[line] for line in sorted(by_line)], total=total)


def _calls_per_hour(session: Session, lo: datetime, hi: datetime) -> list[int]:
    hour = func.floor(_seconds_between(session, Call.started_at, _at(lo)) / 3600.0)
    counts = [0] * 24
    stmt = select(hour, func.count()).where(Call.started_at >= lo, Call.started_at < hi).group_by(hour)
    for h, n in session.execute(stmt):
        counts[min(max(int(h), 0), 23)] += n
    return counts


def _hourly(session: Session, today: date, zone: ZoneInfo) -> HourlyCalls:
    last_week = today - timedelta(days=7)
    return HourlyCalls(today=_calls_per_hour(session, *day_bounds(today, zone)),
                       last_week=_calls_per_hour(session, *day_bounds(last_week, zone)),
                       last_week_date=last_week)


# ---- clocks: breached and at risk ----------------------------------------------------------

def open_ticket_filter():
    """Open tickets; ``line IN (both)`` lets the (line, status, created_at) index serve."""
    return and_(Ticket.line.in_(LINES), Ticket.status.in_(OPEN))


def breached_run(now: datetime):
    """A clock run that broke its promise (correlated with the outer ticket)."""
    past_due = and_(SlaClock.stopped_at.is_(None), SlaClock.due_at.is_not(None), SlaClock.due_at <= now)
    return or_(SlaClock.met.is_(False), SlaClock.breached_at.is_not(None), past_due)


def warning_run(now: datetime):
    """A running clock in its warning period, not yet due."""
    return and_(SlaClock.stopped_at.is_(None), SlaClock.due_at.is_not(None), SlaClock.due_at > now,
                SlaClock.breached_at.is_(None),
                or_(SlaClock.warned_at.is_not(None), SlaClock.warn_at <= now))


def _breached_ticket(now: datetime):
    return exists().where(SlaClock.ticket_id == Ticket.id, breached_run(now))


def _at_risk_ticket(now: datetime):
    return and_(~_breached_ticket(now), exists().where(SlaClock.ticket_id == Ticket.id, warning_run(now)))


def _risk_items(session: Session, rows: list, clock_condition, zone: ZoneInfo) -> list[RiskItem]:
    """The listed tickets with the names of their clocks that meet ``clock_condition``."""
    ids = [ticket.id for ticket, _due in rows]
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for ticket_id, clock in session.execute(
                select(SlaClock.ticket_id, SlaClock.clock).where(SlaClock.ticket_id.in_(ids), clock_condition)
                .distinct().order_by(SlaClock.ticket_id, SlaClock.clock)):
            names[ticket_id].append(clock)
    return [RiskItem(
        ticket_id=t.id, code=t.code, line=t.line, status=t.status, priority=t.priority,
        category=t.category_code, description=(t.description or "")[:DESCRIPTION_CHARS],
        contact_point=_cp_unit(t.contact_point) if t.contact_point else None,
        hospital=_hospital_unit(t.hospital) if t.hospital else None,
        clocks=names[t.id], due_at=due.astimezone(zone), created_at=t.created_at.astimezone(zone))
        for t, due in rows]


def _breached(session: Session, now: datetime, limit: int, zone: ZoneInfo, total: int) -> RiskList:
    missed = (select(SlaClock.ticket_id, func.min(func.coalesce(SlaClock.due_at, SlaClock.breached_at))
                     .label("due"))
              .join(Ticket, Ticket.id == SlaClock.ticket_id)
              .where(open_ticket_filter(), breached_run(now)).group_by(SlaClock.ticket_id).subquery())
    due = func.coalesce(missed.c.due, Ticket.created_at)
    rows = session.execute(select(Ticket, due).join(missed, missed.c.ticket_id == Ticket.id)
                           .order_by(due, Ticket.id).limit(limit)).unique().all()
    return RiskList(total, _risk_items(session, rows, breached_run(now), zone))


def _at_risk(session: Session, now: datetime, limit: int, zone: ZoneInfo, total: int) -> RiskList:
    soonest = (select(SlaClock.ticket_id, func.min(SlaClock.due_at).label("due"))
               .where(warning_run(now)).group_by(SlaClock.ticket_id).subquery())
    rows = session.execute(select(Ticket, soonest.c.due).join(soonest, soonest.c.ticket_id == Ticket.id)
                           .where(open_ticket_filter(), ~_breached_ticket(now))
                           .order_by(soonest.c.due, Ticket.id).limit(limit)).unique().all()
    return RiskList(total, _risk_items(session, rows, warning_run(now), zone))


# ---- open tickets --------------------------------------------------------------------------

@dataclass
class _OpenCounts:
    """Open tickets grouped by where they are: the raw material of several figures."""

    open: OpenTickets
    cp_open: dict[int, int]
    cp_breached: dict[int, int]
    cp_at_risk: dict[int, int]
    hospital_open: dict[int, int]
    breached: int = 0
    at_risk: int = 0


def _open_counts(session: Session, now: datetime) -> _OpenCounts:
    stmt = (select(Ticket.line, Ticket.status, Ticket.contact_point_id, Ticket.hospital_id, func.count(),
                   count_if(_breached_ticket(now)), count_if(_at_risk_ticket(now)))
            .where(open_ticket_filter())
            .group_by(Ticket.line, Ticket.status, Ticket.contact_point_id, Ticket.hospital_id))
    result = _OpenCounts(OpenTickets(), {}, {}, {}, {})
    totals = result.open
    for line, status, cp_id, h_id, n, n_breached, n_at_risk in session.execute(stmt):
        n_breached, n_at_risk = int(n_breached), int(n_at_risk)
        totals.total += n
        totals.by_status[status] = totals.by_status.get(status, 0) + n
        totals.by_line[line] = totals.by_line.get(line, 0) + n
        result.breached += n_breached
        result.at_risk += n_at_risk
        if cp_id is not None:
            result.cp_open[cp_id] = result.cp_open.get(cp_id, 0) + n
            result.cp_breached[cp_id] = result.cp_breached.get(cp_id, 0) + n_breached
            result.cp_at_risk[cp_id] = result.cp_at_risk.get(cp_id, 0) + n_at_risk
        if h_id is not None:
            result.hospital_open[h_id] = result.hospital_open.get(h_id, 0) + n
        if cp_id is None and h_id is None:
            totals.no_destination += n
    return result


def _largest(counts: dict[int, int], units: dict[int, Unit], top: int) -> tuple[list[UnitCount], list[int]]:
    ranked = sorted(counts, key=lambda k: (-counts[k], units[k].code))
    return [UnitCount(units[k], counts[k]) for k in ranked[:top]], ranked[top:]


# ---- per contact point ---------------------------------------------------------------------

def _contact_points(counts: _OpenCounts, summaries: dict[int, reports.Summary],
                    units: dict[int, Unit]) -> list[ContactPointRow]:
    by_code = {u.code: k for k, u in units.items()}
    rows = {k: ContactPointRow(units[k], open=n, at_risk=counts.cp_at_risk.get(k, 0),
                               breached=counts.cp_breached.get(k, 0)) for k, n in counts.cp_open.items()}
    for days, summary in summaries.items():
        for group in summary.contact_points:
            key = by_code[group.code]
            row = rows.setdefault(key, ContactPointRow(units[key]))
            resolution = group.clocks["resolution"]
            if days == 7:
                row.on_time_7d, row.scored_7d = resolution.on_time_pct, resolution.scored
                continue
            row.on_time_30d, row.scored_30d = resolution.on_time_pct, resolution.scored
            row.first_response_30d = group.clocks["first_response"].on_time_pct
            row.median_resolution_seconds_30d = resolution.median_seconds
            row.satisfaction_30d, row.surveys_30d = group.satisfaction_pct, group.surveys
    return sorted(rows.values(), key=lambda r: (-r.breached, -r.at_risk, -r.open, r.unit.code))


def _contact_point_units(session: Session, ids: set[int], codes: set[str]) -> dict[int, Unit]:
    if not ids and not codes:
        return {}
    rows = session.scalars(select(ContactPoint).where(or_(ContactPoint.id.in_(ids), ContactPoint.code.in_(codes))))
    return {cp.id: _cp_unit(cp) for cp in rows}


def _hospital_units(session: Session, ids: set[int]) -> dict[int, Unit]:
    if not ids:
        return {}
    return {h.id: _hospital_unit(h) for h in session.scalars(select(Hospital).where(Hospital.id.in_(ids)))}


# ---- 115 acknowledgement ---------------------------------------------------------------------

def _ack_115(session: Session, lo: datetime, hi: datetime, zone: ZoneInfo) -> Ack115:
    seconds = _seconds_between(session, Ticket.accepted_at, Ticket.created_at)
    where = (Ticket.line == "115", Ticket.created_at >= lo, Ticket.created_at < hi, Ticket.accepted_at.is_not(None))
    if _is_postgresql(session):
        quantiles = func.percentile_cont(literal([0.5, 0.9], ARRAY(Float))).within_group(seconds)
        count, qs = session.execute(select(func.count(), quantiles).where(*where)).one()
        median, p90 = qs if qs else (None, None)
    else:  # the same interpolation in Python
        sample = [float(s) for s in session.scalars(select(seconds).where(*where))]
        count, median, p90 = (len(sample), reports.percentile_cont(sample, 0.5),
                              reports.percentile_cont(sample, 0.9))
    awaiting = session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.line == "115", Ticket.status == "assigned", Ticket.hospital_id.is_not(None),
        Ticket.accepted_at.is_(None))) or 0
    recent = session.execute(select(Ticket, seconds).where(*where)
                             .order_by(Ticket.accepted_at.desc(), Ticket.id.desc()).limit(ACK_CASES)).unique().all()
    cases = [AckCase(t.id, t.code, _hospital_unit(t.hospital) if t.hospital else None,
                     t.created_at.astimezone(zone), t.accepted_at.astimezone(zone), round(float(s), 1))
             for t, s in recent]
    return Ack115(count=count, median_seconds=_round(median), p90_seconds=_round(p90), awaiting=awaiting,
                  cases=cases)


# ---- nuisance calls ----------------------------------------------------------------------------

NUISANCE_DAYS = 30


def nuisance_conditions(now: datetime, timezone: str = "Asia/Ho_Chi_Minh"):
    """SQL conditions on tickets: cancelled as a nuisance call and opened today, and the same
    over the last 30 local days (today included). The wallboard and ``GET /metrics`` count
    with these, each in its own statement."""
    zone = ZoneInfo(timezone)
    month_lo, hi = reports.Period.last_days(now, NUISANCE_DAYS, timezone).bounds()
    today_lo = day_bounds(now.astimezone(zone).date(), zone)[0]
    nuisance = and_(Ticket.status == "cancelled", Ticket.cancel_reason == NUISANCE, Ticket.created_at < _at(hi))
    return and_(nuisance, Ticket.created_at >= _at(today_lo)), and_(nuisance, Ticket.created_at >= _at(month_lo))


def nuisance_calls(session: Session, now: datetime, timezone: str = "Asia/Ho_Chi_Minh") -> list[NuisanceCalls]:
    """Per line, the tickets cancelled as nuisance calls opened today and in the last 30 local days."""
    today, days_30 = nuisance_conditions(now, timezone)
    # line IN (both) and status = cancelled (which a cancel reason implies) let the
    # (line, status, created_at) index find the rows.
    stmt = (select(Ticket.line, count_if(today), count_if(days_30))
            .where(Ticket.line.in_(LINES), days_30).group_by(Ticket.line))
    found = {line: NuisanceCalls(line) for line in LINES}
    for line, n_today, n_30 in session.execute(stmt):
        found[line] = NuisanceCalls(line, int(n_today), int(n_30))
    return [found[line] for line in sorted(found)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# ---- the wallboard -----------------------------------------------------------------------------

def wallboard(session: Session, actor: Actor, now: datetime, *, timezone: str = "Asia/Ho_Chi_Minh",
              top: int = TOP_CONTACT_POINTS, limit: int = LIST_LIMIT) -> Wallboard:
    """Every figure of the supervisor wallboard at ``now`` (see the module's definitions)."""
    authorize_wallboard(actor)
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    lo, hi = day_bounds(today, zone)
    counts = _open_counts(session, now)
    summaries = {days: reports.summary(session, actor, reports.Period.last_days(now, days, timezone), now)
                 for days in (7, SATISFACTION_DAYS)}
    cp_units = _contact_point_units(session, set(counts.cp_open),
                                    {g.code for s in summaries.values() for g in s.contact_points})
    hospital_units = _hospital_units(session, set(counts.hospital_open))
    open_tickets = counts.open
    open_tickets.by_contact_point, rest = _largest(counts.cp_open, cp_units, top)
    open_tickets.other_contact_points = sum(counts.cp_open[k] for k in rest)
    open_tickets.other_contact_point_count = len(rest)
    open_tickets.by_hospital, _ = _largest(counts.hospital_open, hospital_units, top)
    month, week = summaries[SATISFACTION_DAYS].total, summaries[7].total
    return Wallboard(
        generated_at=now.astimezone(zone), timezone=timezone, today=today,
        calls=_calls(session, now, lo, hi), hourly=_hourly(session, today, zone),
        on_duty={role: on_duty_count(session, role) for role in ("operator", "dispatcher")},
        open=open_tickets,
        at_risk=_at_risk(session, now, limit, zone, counts.at_risk),
        breached=_breached(session, now, limit, zone, counts.breached),
        contact_points=_contact_points(counts, summaries, cp_units),
        satisfaction=Satisfaction(SATISFACTION_DAYS, month.surveys, month.satisfied),
        on_time=OnTime(resolution_7d=week.clocks["resolution"].on_time_pct,
                       resolution_30d=month.clocks["resolution"].on_time_pct,
                       first_response_30d=month.clocks["first_response"].on_time_pct,
                       acknowledgement_30d=month.clocks["acknowledgement"].on_time_pct),
        ack_115=_ack_115(session, lo, hi, zone),
        nuisance_calls=nuisance_calls(session, now, timezone))
