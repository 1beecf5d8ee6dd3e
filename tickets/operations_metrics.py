"""The figures the province's operations centre scrapes (``GET /metrics``), read in one go.

Plain SQLAlchemy, no web framework and no metrics library: ``app.metrics`` turns the result
into Prometheus families. ``now`` is a parameter. Each group of figures is one aggregate
statement (eight in all, whatever the number of rows), and only codes of bounded sets come
out: lines, channels, statuses, clocks, roles, contact point and hospital codes — never a
phone number, a tracking code, a name or free text.

Where a figure is also on the supervisor's wallboard it has the wallboard's definition
(``tickets.wallboard``): open tickets, calls active and waiting, the longest wait, a clock
run breached or in its warning period, users on duty, 115 dispatches awaiting
acknowledgement. The others:

* Created: every ticket ever opened, by line and channel (neither ever changes: a counter).
* Clock runs: a running clock is ``breached`` (marked by the sweep, or past its due time),
  ``warning`` (the wallboard's warning period), ``paused`` (waiting on the caller, neither
  of those) or ``ok``. Breaches: runs ever breached — marked by the sweep or stopped late —
  which never go back (a counter).
* Calls: ended calls, answered by a person or not (voicemails are among the unanswered, and
  counted apart too, since their flag is set when the recording arrives, after the end);
  the call-back list: calls marked for call-back and not yet called back.
* Outbox: SMS rows by status; unsent means queued or being sent, and the age of the oldest
  such row is what alerts fire on.
* Hospital desk alerts pending: desk calls and SMS queued or being placed.
* 115 acknowledgement time: the scored runs of the ``acknowledgement`` clock, each from a
  dispatch to the hospital's acknowledgement (24/7, so wall-clock seconds). Runs are never
  rescored, so their count and sum only grow — a Prometheus summary — and the same figures
  are given for the runs stopped in the last 24 hours.
* Nuisance calls: the wallboard's figure (``tickets.wallboard.nuisance_conditions``), per
  line, for today and the last 30 local days, counted in the tickets' pass; days leaving the
  window lower them: gauges.
* Satisfaction: survey answers held by tickets now, by score (1 satisfied, 2 not). A "not
  satisfied" answer is cleared when the reopened ticket is resolved again (the history keeps
  it), so these can fall: a gauge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from tickets.accounts import on_duty_count
from tickets.calls import FINAL, Call
from tickets.directory import ContactPoint, Hospital
from tickets.hospital_alerts import HospitalAlert
from tickets.lifecycle import CHANNELS, LINES, Status
from tickets.messages import DELIVERY_RANK, OutboundMessage
from tickets.models import Ticket
from tickets.sla import CLOCKS, SlaClock
from tickets.wallboard import (
    ACTIVE_WINDOW,
    OPEN,
    STATUS_ORDER,
    breached_run,
    count_if,
    nuisance_conditions,
    open_ticket_filter,
    warning_run,
)

CLOCK_STATES = ("ok", "warning", "breached", "paused")
CALL_OUTCOMES = ("answered", "unanswered")
ON_DUTY_ROLES = ("operator", "dispatcher")
OUTBOX_STATUSES = tuple(DELIVERY_RANK)  # queued, sending, accepted, sent, delivered, …
UNSENT = ("queued", "sending")
ALERT_CHANNELS = ("call", "sms")
PENDING_ALERT = ("queued", "sending")
SCORES = ("1", "2")
RECENT = timedelta(hours=24)
OTHER = "other"  # a value outside the known set (never expected) keeps the label set bounded


@dataclass
class LineCalls:
    """One line's calls: counters since the first call, and what is happening now."""

    answered: int = 0
    unanswered: int = 0
    voicemail: int = 0
    active: int = 0
    waiting: int = 0
    longest_wait_seconds: float = 0.0
    callbacks_pending: int = 0


@dataclass
class Acknowledgements:
    """115 dispatch → hospital acknowledgement: all scored runs, and those of the last 24 h."""

    count: int = 0
    seconds: float = 0.0
    count_24h: int = 0
    seconds_24h: float = 0.0
    awaiting: int = 0


def _zeros(*keys: tuple) -> dict:
    return dict.fromkeys(keys, 0)


@dataclass
class OperationsFigures:
    """Everything ``GET /metrics`` reports from the database, keyed by label values."""

    tickets_open: dict[tuple[str, str], int] = field(
        default_factory=lambda: _zeros(*((line, s) for line in LINES for s in STATUS_ORDER)))  # (line, status)
    tickets_created: dict[tuple[str, str], int] = field(
        default_factory=lambda: _zeros(*((line, c) for line in LINES for c in CHANNELS)))  # (line, channel)
    satisfaction: dict[tuple[str, str], int] = field(
        default_factory=lambda: _zeros(*((line, s) for line in LINES for s in SCORES)))  # (line, score)
    open_by_contact_point: dict[str, int] = field(default_factory=dict)  # code → open tickets
    open_by_hospital: dict[str, int] = field(default_factory=dict)
    open_unrouted: dict[str, int] = field(default_factory=lambda: _zeros(*LINES))  # line → open, routed nowhere
    clocks_running: dict[tuple[str, str], int] = field(
        default_factory=lambda: _zeros(*((c, s) for c in CLOCKS for s in CLOCK_STATES)))  # (clock, state)
    breaches: dict[str, int] = field(default_factory=lambda: _zeros(*CLOCKS))
    calls: dict[str, LineCalls] = field(default_factory=lambda: {line: LineCalls() for line in LINES})
    on_duty: dict[str, int] = field(default_factory=lambda: _zeros(*ON_DUTY_ROLES))
    outbox: dict[str, int] = field(default_factory=lambda: _zeros(*OUTBOX_STATUSES))
    oldest_unsent_age_seconds: float = 0.0
    hospital_alerts_pending: dict[str, int] = field(default_factory=lambda: _zeros(*ALERT_CHANNELS))
    acknowledgements: Acknowledgements = field(default_factory=Acknowledgements)
    nuisance_today: dict[str, int] = field(default_factory=lambda: _zeros(*LINES))  # line → count
    nuisance_30d: dict[str, int] = field(default_factory=lambda: _zeros(*LINES))


def _known(value: str | None, known) -> str:
    return value if value in known else OTHER


def _add(counts: dict, key, n: int) -> None:
    counts[key] = counts.get(key, 0) + int(n or 0)


# ---- tickets -----------------------------------------------------------------------------------

def _tickets(session: Session, now: datetime, timezone: str, figures: OperationsFigures) -> None:
    """Created, open and satisfaction figures, 115 awaiting acknowledgement and nuisance calls:
    one pass."""
    awaiting = and_(Ticket.line == "115", Ticket.status == Status.ASSIGNED, Ticket.hospital_id.is_not(None),
                    Ticket.accepted_at.is_(None))  # the wallboard's "awaiting"
    nuisance_today, nuisance_30d = nuisance_conditions(now, timezone)
    stmt = (select(Ticket.line, Ticket.channel, Ticket.status, Ticket.satisfaction, func.count(), count_if(awaiting),
                   count_if(nuisance_today), count_if(nuisance_30d))
            .group_by(Ticket.line, Ticket.channel, Ticket.status, Ticket.satisfaction))
    for line, channel, status, score, n, n_awaiting, n_nuisance_today, n_nuisance_30d in session.execute(stmt):
        _add(figures.nuisance_today, _known(line, LINES), n_nuisance_today)
        _add(figures.nuisance_30d, _known(line, LINES), n_nuisance_30d)
        _add(figures.tickets_created, (line, channel), n)
        if status in OPEN:
            _add(figures.tickets_open, (line, status), n)
        if score is not None:
            _add(figures.satisfaction, (line, _known(str(score), SCORES)), n)
        figures.acknowledgements.awaiting += int(n_awaiting)


def _open_by_unit(session: Session, figures: OperationsFigures) -> None:
    """Open tickets per contact point and per hospital (every one, zeros included), and those
    routed nowhere yet, per line."""
    by_cp = (select(literal("contact_point"), ContactPoint.code, func.count(Ticket.id))
             .select_from(ContactPoint)
             .outerjoin(Ticket, and_(Ticket.contact_point_id == ContactPoint.id, open_ticket_filter()))
             .group_by(ContactPoint.code))
    by_hospital = (select(literal("hospital"), Hospital.code, func.count(Ticket.id))
                   .select_from(Hospital)
                   .outerjoin(Ticket, and_(Ticket.hospital_id == Hospital.id, open_ticket_filter()))
                   .group_by(Hospital.code))
    unrouted = (select(literal("unrouted"), Ticket.line, func.count())
                .where(open_ticket_filter(), Ticket.contact_point_id.is_(None), Ticket.hospital_id.is_(None))
                .group_by(Ticket.line))
    for kind, code, n in session.execute(union_all(by_cp, by_hospital, unrouted)):
        target = {"contact_point": figures.open_by_contact_point, "hospital": figures.open_by_hospital,
                  "unrouted": figures.open_unrouted}[kind]
        _add(target, code, n)


# ---- clocks -------------------------------------------------------------------------------------

def _ever_breached():
    """A run that broke its promise, for good: marked by the sweep, or stopped late."""
    return or_(SlaClock.breached_at.is_not(None), SlaClock.met.is_(False))


def _clocks(session: Session, now: datetime, figures: OperationsFigures) -> None:
    """Running clocks by state, breaches ever, and the 115 acknowledgement times: one pass."""
    state = case((SlaClock.stopped_at.is_not(None), None),
                 (breached_run(now), "breached"),
                 (warning_run(now), "warning"),
                 (SlaClock.paused_at.is_not(None), "paused"),
                 else_="ok")
    scored = SlaClock.met.is_not(None)
    recent = and_(scored, SlaClock.stopped_at > now - RECENT)
    runs = select(SlaClock.clock, state.label("state"),
                  case((_ever_breached(), 1), else_=0).label("breached"),
                  case((scored, 1), else_=0).label("scored"),
                  case((scored, SlaClock.elapsed_seconds), else_=0.0).label("elapsed"),
                  case((recent, 1), else_=0).label("recent"),
                  case((recent, SlaClock.elapsed_seconds), else_=0.0).label("elapsed_recent")).subquery()
    stmt = (select(runs.c.clock, runs.c.state, func.count(), func.sum(runs.c.breached), func.sum(runs.c.scored),
                   func.sum(runs.c.elapsed), func.sum(runs.c.recent), func.sum(runs.c.elapsed_recent))
            .group_by(runs.c.clock, runs.c.state))
    ack = figures.acknowledgements
    for clock, run_state, n, n_breached, n_scored, elapsed, n_recent, elapsed_recent in session.execute(stmt):
        clock = _known(clock, CLOCKS)
        if run_state is not None:
            _add(figures.clocks_running, (clock, run_state), n)
        _add(figures.breaches, clock, n_breached)
        if clock == "acknowledgement":
            ack.count += int(n_scored or 0)
            ack.seconds += float(elapsed or 0)
            ack.count_24h += int(n_recent or 0)
            ack.seconds_24h += float(elapsed_recent or 0)


# ---- calls --------------------------------------------------------------------------------------

def _calls(session: Session, now: datetime, figures: OperationsFigures) -> None:
    """Call counters and the calls active and waiting now, per line: one pass."""
    # The wallboard's definitions (``wallboard._calls``): a call not ended within the last two
    # hours is a lost status callback, not a call; waiting: not answered, not left the queue,
    # not leaving a voicemail.
    active = and_(Call.ended_at.is_(None), Call.status.not_in(sorted(FINAL)),
                  Call.started_at > now - ACTIVE_WINDOW, Call.started_at <= now)
    waiting = and_(active, Call.answered_at.is_(None), Call.queue_result.is_(None), Call.voicemail.is_(False))
    ended = Call.ended_at.is_not(None)
    stmt = (select(Call.line,
                   count_if(and_(ended, Call.answered_at.is_not(None))),
                   count_if(and_(ended, Call.answered_at.is_(None))),
                   count_if(Call.voicemail.is_(True)),
                   count_if(active), count_if(waiting), func.min(case((waiting, Call.started_at))),
                   count_if(and_(Call.callback_needed.is_(True), Call.callback_done_at.is_(None))))
            .group_by(Call.line))
    for line, answered, unanswered, voicemail, n_active, n_waiting, first_waiting, callbacks in session.execute(stmt):
        row = figures.calls.setdefault(_known(line, LINES), LineCalls())
        row.answered += int(answered)
        row.unanswered += int(unanswered)
        row.voicemail += int(voicemail)
        row.active += int(n_active)
        row.waiting += int(n_waiting)
        row.callbacks_pending += int(callbacks)
        if first_waiting is not None:
            row.longest_wait_seconds = max(row.longest_wait_seconds, round((now - first_waiting).total_seconds(), 1))


# ---- outbox and desk alerts ---------------------------------------------------------------------

def _outbox(session: Session, now: datetime, figures: OperationsFigures) -> None:
    stmt = (select(OutboundMessage.status, func.count(), func.min(OutboundMessage.created_at))
            .group_by(OutboundMessage.status))
    oldest: datetime | None = None
    for status, n, first in session.execute(stmt):
        _add(figures.outbox, _known(status, OUTBOX_STATUSES), n)
        if status in UNSENT and first is not None:
            oldest = first if oldest is None else min(oldest, first)
    if oldest is not None:
        figures.oldest_unsent_age_seconds = max(round((now - oldest).total_seconds(), 1), 0.0)


def _hospital_alerts(session: Session, figures: OperationsFigures) -> None:
    stmt = (select(HospitalAlert.channel, func.count()).where(HospitalAlert.status.in_(PENDING_ALERT))
            .group_by(HospitalAlert.channel))
    for channel, n in session.execute(stmt):
        _add(figures.hospital_alerts_pending, _known(channel, ALERT_CHANNELS), n)


# ---- all of it ----------------------------------------------------------------------------------

def operations_figures(session: Session, now: datetime, timezone: str = "Asia/Ho_Chi_Minh") -> OperationsFigures:
    """Every figure of ``GET /metrics`` that comes from the database, at ``now`` ("today" is the
    local day in ``timezone``)."""
    figures = OperationsFigures()
    _tickets(session, now, timezone, figures)
    _open_by_unit(session, figures)
    _clocks(session, now, figures)
    _calls(session, now, figures)
    figures.on_duty = {role: on_duty_count(session, role) for role in ON_DUTY_ROLES}
    _outbox(session, now, figures)
    _hospital_alerts(session, figures)
    return figures

