"""Service-level promises: policies, the clocks they start, warnings and breaches.

A clock runs from a start event to a stop event against a target measured on a business
calendar (1022) or around the clock (115):

| clock            | starts                  | stops                | default target          |
|------------------|-------------------------|----------------------|-------------------------|
| first_response   | assigned / transferred  | accepted (or solved) | per policy              |
| acknowledgement  | 115 dispatched          | hospital accepted    | DISPATCH_ACK_SECONDS    |
| resolution       | created / reopened      | resolved             | per policy              |

(The answer clock — call queued to operator answered — is measured from call records.)

Every decision takes ``now`` as an argument, so it is tested with an injected clock; the
sweep re-reads the database, so it is correct after a restart or a missed tick, and marks
each warning and breach with a conditional UPDATE, so a re-run never repeats one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, bindparam, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tickets.calendar import BusinessCalendar
from tickets.db import Base, UTCDateTime
from tickets.events import TicketChanged, TicketOpened
from tickets.models import Ticket, TicketEvent

CLOCKS = ("first_response", "acknowledgement", "resolution")
ANY = "*"


class SlaPolicy(Base):
    """One promise: for tickets matching (line, category, priority, contact point), a target."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # file order: breaks specificity ties
    line: Mapped[str] = mapped_column(String(4))
    category: Mapped[str] = mapped_column(String(40), default=ANY)
    priority: Mapped[str] = mapped_column(String(10), default=ANY)
    contact_point: Mapped[str] = mapped_column(String(40), default=ANY)
    clock: Mapped[str] = mapped_column(String(20))
    target_seconds: Mapped[int] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    warning_share: Mapped[float] = mapped_column(Float, default=0.75)
    name: Mapped[str] = mapped_column(String(200), default="")

    @property
    def specificity(self) -> int:
        return sum(v != ANY for v in (self.category, self.priority, self.contact_point))

    def matches(self, ticket: Ticket, clock: str) -> bool:
        cp = ticket.contact_point.code if ticket.contact_point else None
        return (self.clock == clock and self.line == ticket.line
                and self.category in (ANY, ticket.category_code)
                and self.priority in (ANY, ticket.priority)
                and self.contact_point in (ANY, cp))


class SlaClock(Base):
    """One run of one clock on one ticket (a reopened ticket gets a new resolution clock)."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        # The sweep's two questions, each answered from an index: what is due to warn, to breach.
        Index("ix_sla_clocks_running_warn", "warn_at", postgresql_where="stopped_at IS NULL AND warned_at IS NULL"),
        Index("ix_sla_clocks_running_due", "due_at", postgresql_where="stopped_at IS NULL AND breached_at IS NULL"),
        # The escalation sweep's question (tickets/escalation.py): running clocks at step n of a clock's rules.
        Index("ix_sla_clocks_running_escalation", "clock", "escalation_step",
              postgresql_include=["warned_at", "breached_at", "paused_at"], postgresql_where="stopped_at IS NULL"),
        # The breaches report: runs stopped late, marked breached, or still running, by due time;
        # runs paused after a breach have no due time and are found by their breach time.
        Index("ix_sla_clocks_breach_due", "due_at",
              postgresql_where="met IS FALSE OR breached_at IS NOT NULL OR stopped_at IS NULL"),
        Index("ix_sla_clocks_breach_paused", "breached_at",
              postgresql_where="due_at IS NULL AND breached_at IS NOT NULL"),
        # The SLA summary's clock figures: scored runs of a ticket, answered from the index alone.
        Index("ix_sla_clocks_ticket_scored", "ticket_id", postgresql_include=["clock", "met", "elapsed_seconds"],
              postgresql_where="met IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    clock: Mapped[str] = mapped_column(String(20))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    business_hours: Mapped[bool] = mapped_column(Boolean)
    target_seconds: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While paused (waiting for the caller), due_at is None and the working time that was
    # left is kept here, to be added back from the moment the clock resumes.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remaining_seconds: Mapped[float | None] = mapped_column(Float)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed_seconds: Mapped[float | None] = mapped_column(Float)  # working time, at stop
    met: Mapped[bool | None] = mapped_column(Boolean)  # None: stopped by a reassignment
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Escalation (tickets/escalation.py): how many of this clock's escalation steps are done,
    # and when the last one was. Each step is claimed by a conditional UPDATE, so done once.
    escalation_step: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class SlaAlert:
    """A clock reached its warning share or its due time (published as sla.warning/breached)."""

    ticket_id: int
    clock_id: int
    kind: str  # "warning" or "breached"


@dataclass
class Calendars:
    """The two calendars clocks run on."""

    business: BusinessCalendar
    always: BusinessCalendar

    def of(self, business_hours: bool) -> BusinessCalendar:
        return self.business if business_hours else self.always


def choose_policy(policies: list[SlaPolicy], ticket: Ticket, clock: str) -> SlaPolicy | None:
    """The most specific matching policy; among equals, the one listed first."""
    matching = [p for p in policies if p.matches(ticket, clock)]
    return min(matching, key=lambda p: (-p.specificity, p.position), default=None)


def _running(session: Session, ticket: Ticket, clock: str | None = None) -> list[SlaClock]:
    stmt = select(SlaClock).where(SlaClock.ticket_id == ticket.id, SlaClock.stopped_at.is_(None))
    if clock:
        stmt = stmt.where(SlaClock.clock == clock)
    return list(session.scalars(stmt))


def start_clock(session: Session, ticket: Ticket, clock: str, now: datetime, calendars: Calendars,
                policies: list[SlaPolicy], target_override: int | None = None, *,
                fresh: bool = False) -> SlaClock | None:
    """Start ``clock`` on ``ticket`` (stopping a running one of the same kind, unscored).
    ``fresh``: the ticket was opened in this transaction, so no clock can be running."""
    for running in () if fresh else _running(session, ticket, clock):
        _stop(running, now, calendars, scored=False)
    policy = choose_policy(policies, ticket, clock)
    if policy is None and target_override is None:
        return None
    target = target_override if target_override is not None else policy.target_seconds
    business = policy.business_hours if policy else False
    share = policy.warning_share if policy else 0.75
    cal = calendars.of(business)
    row = SlaClock(ticket_id=ticket.id, clock=clock, policy_id=policy.id if policy else None,
                   business_hours=business, target_seconds=target, started_at=now,
                   due_at=cal.add(now, timedelta(seconds=target)),
                   warn_at=cal.add(now, timedelta(seconds=target * share)))
    session.add(row)
    return row


def _stop(row: SlaClock, now: datetime, calendars: Calendars, scored: bool = True) -> None:
    cal = calendars.of(row.business_hours)
    if row.paused_at is not None:
        used = row.target_seconds - (row.remaining_seconds or 0)  # remaining < 0: paused when late
    else:
        used = row.target_seconds - cal.between(now, row.due_at).total_seconds() if now < row.due_at \
            else row.target_seconds + cal.between(row.due_at, now).total_seconds()
    row.stopped_at = now
    row.elapsed_seconds = max(used, 0.0)
    on_time = (row.remaining_seconds or 0) > 0 if row.paused_at is not None else now <= row.due_at
    row.met = (row.breached_at is None and on_time) if scored else None


def stop_clocks(session: Session, ticket: Ticket, clocks: tuple[str, ...], now: datetime,
                calendars: Calendars, scored: bool = True) -> None:
    """Stop the named running clocks; ``scored=False`` when the stop says nothing about service."""
    if not clocks:
        return  # nothing to look for
    for row in _running(session, ticket):
        if row.clock in clocks:
            _stop(row, now, calendars, scored)


def pause_clocks(session: Session, ticket: Ticket, now: datetime, calendars: Calendars) -> None:
    """Stop time while the ticket waits on the caller, keeping what was left."""
    for row in _running(session, ticket):
        if row.paused_at is None:
            cal = calendars.of(row.business_hours)
            # Paused after its due time (before a sweep noticed): keep the overrun, negative.
            row.remaining_seconds = (cal.between(now, row.due_at).total_seconds() if now < row.due_at
                                     else -cal.between(row.due_at, now).total_seconds())
            row.paused_at = now
            row.due_at = row.warn_at = None


def resume_clocks(session: Session, ticket: Ticket, now: datetime, calendars: Calendars) -> None:
    """The caller answered: time runs again with what was left when it paused."""
    for row in _running(session, ticket):
        if row.paused_at is not None:
            cal = calendars.of(row.business_hours)
            remaining = timedelta(seconds=max(row.remaining_seconds or 0, 0))
            row.due_at = cal.add(now, remaining) if remaining else now  # already late: due now
            policy = session.get(SlaPolicy, row.policy_id) if row.policy_id else None
            share = policy.warning_share if policy else 0.75
            warn_left = remaining - timedelta(seconds=row.target_seconds * (1 - share))
            row.warn_at = cal.add(now, warn_left) if warn_left > timedelta(0) else now
            row.paused_at = None
            row.remaining_seconds = None


def refresh_ticket(session: Session, ticket: Ticket, rows: list[SlaClock] | None = None) -> None:
    """Copy due times and state from the clocks (``rows``, or read now) onto the ticket."""
    if rows is None:
        session.flush()
        rows = list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)
                                    .order_by(SlaClock.id)))
    ticket.first_response_due, ticket.resolution_due, ticket.sla_state = standing(ticket.line, rows)


def standing(line: str, rows: list[SlaClock]) -> tuple[datetime | None, datetime | None, str]:
    """(first response due, resolution due, SLA state) of a ticket on ``line`` with these clocks."""
    current = {r.clock: r for r in sorted(rows, key=lambda r: r.id)}  # the latest run of each clock
    first = current.get("acknowledgement") if line == "115" else current.get("first_response")
    first = first or current.get("first_response")
    res = current.get("resolution")
    latest = list(current.values())
    if any(r.breached_at or r.met is False for r in latest):
        state = "breached"
    elif any(r.warned_at and r.stopped_at is None for r in latest):
        state = "warning"
    elif latest and all(r.stopped_at for r in latest) and any(r.met for r in latest):
        state = "met"
    else:
        state = "ok"
    return (first.due_at if first and first.stopped_at is None else None,
            res.due_at if res and res.stopped_at is None else None, state)


def sweep(session: Session, now: datetime, limit: int = 1000) -> list[SlaAlert]:
    """Mark every clock that has reached its warning or due time — each exactly once.

    One conditional UPDATE … RETURNING per kind claims the due clocks: of two sweeps racing,
    each clock is returned to only one of them. Then the history rows are inserted in bulk
    and each affected ticket is refreshed once, from one read of its clocks, by one batched
    UPDATE that — like the ORM's — refuses a ticket whose version moved meanwhile.
    """
    alerts: list[SlaAlert] = []
    for kind, column, moment in (("warning", SlaClock.warned_at, SlaClock.warn_at),
                                 ("breached", SlaClock.breached_at, SlaClock.due_at)):
        due_ids = (select(SlaClock.id).where(SlaClock.stopped_at.is_(None), column.is_(None), moment <= now)
                   .order_by(moment).limit(limit).scalar_subquery())
        claimed = session.execute(
            update(SlaClock).where(SlaClock.id.in_(due_ids), column.is_(None))
            .values({column.key: now})
            .returning(SlaClock.id, SlaClock.ticket_id, SlaClock.clock, SlaClock.due_at)
            .execution_options(synchronize_session=False)).all()
        if claimed:  # one multi-row INSERT, no ids read back
            session.execute(insert(TicketEvent), [
                {"ticket_id": ticket_id, "action": f"sla_{kind}", "actor_id": None, "actor_label": "SLA", "at": now,
                 "data": {"clock": clock, "due": due.isoformat() if due else None}}
                for _id, ticket_id, clock, due in claimed])
        alerts += [SlaAlert(ticket_id, clock_id, kind) for clock_id, ticket_id, _clock, _due in claimed]
    if alerts:
        ticket_ids = sorted({a.ticket_id for a in alerts})
        session.flush()
        clocks: dict[int, list] = {}
        # Plain rows with the columns ``standing`` reads, not clock objects: nothing to track.
        for row in session.execute(select(SlaClock.id, SlaClock.ticket_id, SlaClock.clock, SlaClock.due_at,
                                          SlaClock.stopped_at, SlaClock.warned_at, SlaClock.breached_at, SlaClock.met)
                                   .where(SlaClock.ticket_id.in_(ticket_ids))):
            clocks.setdefault(row.ticket_id, []).append(row)
        tickets = session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).unique()
        _store_standing(session, tickets, clocks)
    session.flush()
    return alerts


_STANDING = ("first_response_due", "resolution_due", "sla_state")


def _store_standing(session: Session, tickets, clocks: dict[int, list[SlaClock]]) -> None:
    """Write the tickets' derived SLA fields in one executemany (not one UPDATE per ticket);
    the loaded objects take the new values as their committed state."""
    changed = []
    for ticket in tickets:
        values = standing(ticket.line, clocks.get(ticket.id, []))
        if values != tuple(getattr(ticket, name) for name in _STANDING):
            changed.append({"_id": ticket.id, "_version": ticket.version, **dict(zip(_STANDING, values, strict=True))})
            for name, value in zip(_STANDING, values, strict=True):
                set_committed_value(ticket, name, value)
    if not changed:
        return
    table = Ticket.__table__
    result = session.execute(
        update(table).where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
        .values({name: bindparam(name) for name in _STANDING}), changed)
    if result.rowcount != len(changed):
        raise StaleDataError(f"{len(changed) - result.rowcount} of {len(changed)} tickets changed during the sweep; "
                             "the next sweep does them")


def alert_events(alerts: list[SlaAlert]) -> list[TicketChanged]:
    """The ticket changes the alerts imply, for the consoles' ticket lists."""
    return [TicketChanged(a.ticket_id, f"sla_{a.kind}") for a in alerts]


# History action -> (clocks to stop scored, clocks to stop unscored, clocks to start).
# 115 tickets use "acknowledgement" where 1022 tickets use "first_response".
_REACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "created": ((), (), ("resolution",)),
    "assign": ((), ("first_response",), ("first_response",)),
    "transfer": ((), ("first_response",), ("first_response",)),
    "reopen": ((), (), ("first_response", "resolution")),
    "accept": (("first_response",), (), ()),
    "resolve": (("resolution", "first_response"), (), ()),
    "close": ((), ("first_response", "resolution"), ()),
    "cancel": ((), ("first_response", "resolution"), ()),
}


def _for_line(clocks: tuple[str, ...], line: str) -> tuple[str, ...]:
    return tuple("acknowledgement" if c == "first_response" and line == "115" else c for c in clocks)


_POLICIES = select(SlaPolicy).order_by(SlaPolicy.position)  # built once: every new ticket reads them


def _refresh_new(session: Session, ticket: Ticket, started: list[SlaClock | None]) -> None:
    """refresh_ticket for a ticket whose only clocks are those just started."""
    rows = [row for row in started if row is not None]
    if len(rows) > 1:
        session.flush()  # their ids, by which refresh_ticket orders the rows
    refresh_ticket(session, ticket, rows)


def apply(session: Session, events: list, now: datetime, calendars: Calendars,
          ack_seconds: int) -> None:
    """Start, stop, pause and resume clocks for what the events say happened."""
    policies: list[SlaPolicy] | None = None
    for event in events:
        if not isinstance(event, TicketChanged):
            continue
        ticket = session.get(Ticket, event.ticket_id)
        if ticket is None:
            continue
        if event.action == "ask_caller":
            pause_clocks(session, ticket, now, calendars)
        elif event.action in ("caller_replied", "resume"):
            resume_clocks(session, ticket, now, calendars)
        elif event.action in _REACTIONS:
            scored, unscored, start = (_for_line(c, ticket.line) for c in _REACTIONS[event.action])
            stop_clocks(session, ticket, scored, now, calendars)
            stop_clocks(session, ticket, unscored, now, calendars, scored=False)
            if start:
                policies = policies if policies is not None else list(session.scalars(_POLICIES))
                # A ticket opened in this transaction has no clock yet: none to stop, none to read back.
                fresh = isinstance(event, TicketOpened)
                # The 115 acknowledgement deadline is the dispatch setting, 24/7, counted from the
                # dispatch itself (as the re-dispatch job counts), not from this commit.
                started = [start_clock(session, ticket, clock,
                                       (ticket.assigned_at or now) if clock == "acknowledgement" else now,
                                       calendars, policies,
                                       ack_seconds if clock == "acknowledgement" else None, fresh=fresh)
                           for clock in start]
                if fresh:
                    _refresh_new(session, ticket, started)
                    continue
        else:
            continue
        refresh_ticket(session, ticket)
    # Past days whose tickets changed are recomputed live until the rollup job catches up.
    from tickets.sla_rollup import note_changes  # imports this module

    note_changes(session, events, now, calendars.business.timezone)
