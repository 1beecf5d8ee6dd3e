"""SLA escalation: who is told, in which order, when a clock nears or passes its due time.

The rules are data (``data/sla/escalation.csv``, loaded by ``flask --app wsgi init``): per
clock, numbered steps, each started by a trigger (the clock's ``warning`` or its ``breached``
mark) plus an optional delay, and each telling one role:

* ``lead``: the leads (``User.is_lead``) of the ticket's contact point — or of its hospital
  for a 115 ticket;
* ``supervisor``: every active supervisor.

Steps run in order, each exactly once per clock run: the sweep claims "running clocks at
step n-1 whose trigger is old enough" with one conditional UPDATE … RETURNING per rule,
so of two sweeps racing each step is returned to only one. A clock that stops (accepted,
resolved, reassigned) or is paused (waiting on the caller) is not escalated further; a
paused clock carries on from its step when it resumes.

A step writes one history event (who was told, which step), queues one SMS per person told
who has a phone (in the same transaction), and becomes the ``sla.escalated`` socket event.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, UniqueConstraint, and_, func, insert, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.util import identity_key

from tickets import sms_texts
from tickets.accounts import Role, User
from tickets.db import Base
from tickets.events import TicketChanged
from tickets.messages import MessageQueued, OutboundMessage
from tickets.models import Ticket, TicketEvent
from tickets.phones import is_mobile
from tickets.sla import CLOCKS, SlaClock
from tickets.sla_policies import parse_target

TRIGGERS = ("warning", "breached")
ROLES = ("lead", "supervisor")


class EscalationRule(Base):
    """One step: on ``clock``, ``delay_seconds`` after ``trigger``, tell ``notify``."""

    __tablename__ = "sla_escalation_rules"
    __table_args__ = (UniqueConstraint("clock", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # line in the file
    clock: Mapped[str] = mapped_column(String(20))
    step: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(10))
    delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    notify: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")


@dataclass(frozen=True)
class SlaEscalated:
    """A step was taken (published as ``sla.escalated``)."""

    ticket_id: int
    clock_id: int
    clock: str
    step: int
    notify: str  # "lead" or "supervisor"


# ---- the rules file ----------------------------------------------------------------------

def _delay(text: str) -> int:
    return parse_target(text) if text.strip() else 0


def read_rules(path: Path) -> list[EscalationRule]:
    """Rules from the CSV, checked; raises ValueError naming the row and column."""
    rules = []
    with path.open(encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            def bad(column: str, why: str, n: int = n) -> ValueError:
                return ValueError(f"{path.name} line {n}, column {column!r}: {why}")
            if row["clock"] not in CLOCKS:
                raise bad("clock", f"must be one of {CLOCKS}")
            if row["trigger"] not in TRIGGERS:
                raise bad("trigger", f"must be one of {TRIGGERS}")
            if row["notify"] not in ROLES:
                raise bad("notify", f"must be one of {ROLES}")
            try:
                step = int(row["step"])
                delay = _delay(row.get("delay") or "")
            except ValueError as exc:
                raise bad("step/delay", str(exc)) from exc
            rules.append(EscalationRule(position=n, clock=row["clock"], step=step, trigger=row["trigger"],
                                        delay_seconds=delay, notify=row["notify"], name=row.get("name") or ""))
    check_order(rules, path.name)
    return rules


def check_order(rules: list[EscalationRule], source: str = "rules") -> None:
    """Each clock's steps are 1, 2, … with moments that never go back (warning before
    breached, then by delay) and every lead step before any supervisor step."""
    by_clock: dict[str, list[EscalationRule]] = {}
    for rule in rules:
        by_clock.setdefault(rule.clock, []).append(rule)
    for clock, steps in by_clock.items():
        steps.sort(key=lambda r: r.step)
        if [r.step for r in steps] != list(range(1, len(steps) + 1)):
            raise ValueError(f"{source}: the steps of {clock} must be numbered 1, 2, … once each")
        moments = [(TRIGGERS.index(r.trigger), r.delay_seconds) for r in steps]
        if moments != sorted(moments):
            raise ValueError(f"{source}: a step of {clock} comes before the step ahead of it")
        roles = [ROLES.index(r.notify) for r in steps]
        if roles != sorted(roles):
            raise ValueError(f"{source}: {clock} tells the lead after the supervisor")


def load_rules(session: Session, path: Path) -> int:
    """Make the table equal the file. Clocks keep the step they reached."""
    rules = read_rules(path)
    existing = {(r.clock, r.step): r for r in session.scalars(select(EscalationRule))}
    for rule in rules:
        row = existing.pop((rule.clock, rule.step), None)
        if row is None:
            session.add(rule)
            continue
        for column in ("position", "trigger", "delay_seconds", "notify", "name"):
            setattr(row, column, getattr(rule, column))
    for row in existing.values():
        session.delete(row)
    session.flush()
    return session.scalar(select(func.count()).select_from(EscalationRule)) or 0


# ---- the sweep ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claimed:
    rule: EscalationRule
    clock_id: int
    ticket_id: int
    clock: str
    due_at: datetime | None


def _claim(session: Session, rules: list[EscalationRule], now: datetime, limit: int) -> list[_Claimed]:
    """Claim step n (the rules given: one per clock) on every running clock it is due on."""
    step = rules[0].step
    by_clock = {r.clock: r for r in rules}
    due = or_(*(and_(SlaClock.clock == r.clock,
                     (SlaClock.warned_at if r.trigger == "warning" else SlaClock.breached_at)
                     <= now - timedelta(seconds=r.delay_seconds)) for r in rules))
    ready = (SlaClock.stopped_at.is_(None), SlaClock.paused_at.is_(None), SlaClock.escalation_step == step - 1)
    due_ids = select(SlaClock.id).where(*ready, due).order_by(SlaClock.id).limit(limit).scalar_subquery()
    # The conditions again on the UPDATE: a racing sweep (or an accept) that got the row
    # first has changed them, and PostgreSQL re-checks them once the row lock is granted.
    rows = session.execute(
        update(SlaClock).where(SlaClock.id.in_(due_ids), *ready)
        .values(escalation_step=step, escalated_at=now)
        .returning(SlaClock.id, SlaClock.ticket_id, SlaClock.clock, SlaClock.due_at)
        .execution_options(synchronize_session=False)).all()
    return sorted((_Claimed(by_clock[clock], clock_id, ticket_id, clock, due_at)
                   for clock_id, ticket_id, clock, due_at in rows), key=lambda c: c.clock_id)


def _people(session: Session, tickets: dict[int, Ticket], claimed: list[_Claimed]) -> dict:
    """Who each claimed step tells: leads by unit, and the supervisors."""
    roles = {c.rule.notify for c in claimed}
    leads: dict[tuple[str, int], list[User]] = {}
    if "lead" in roles:
        cps = sorted({t.contact_point_id for t in tickets.values() if t.contact_point_id is not None})
        hospitals = sorted({t.hospital_id for t in tickets.values() if t.hospital_id is not None})
        for user in session.scalars(select(User).where(User.active, User.is_lead, (
                (User.role == Role.STAFF) & User.contact_point_id.in_(cps))
                | ((User.role == Role.HOSPITAL) & User.hospital_id.in_(hospitals))).order_by(User.id)).unique():
            key = ("cp", user.contact_point_id) if user.role == Role.STAFF else ("hospital", user.hospital_id)
            leads.setdefault(key, []).append(user)
    supervisors = list(session.scalars(select(User).where(User.active, User.role == Role.SUPERVISOR)
                                       .order_by(User.id)).unique()) if "supervisor" in roles else []
    return {"leads": leads, "supervisors": supervisors}


def _tickets(session: Session, ids: set[int]) -> dict[int, Ticket]:
    """The tickets, from the session where the sweep already loaded them, else in one query."""
    found = {i: session.identity_map.get(identity_key(Ticket, i)) for i in ids}
    missing = sorted(i for i, t in found.items() if t is None)
    if missing:
        found.update((t.id, t) for t in session.scalars(select(Ticket).where(Ticket.id.in_(missing))).unique())
    return found


def _told(people: dict, ticket: Ticket, notify: str) -> list[User]:
    if notify == "supervisor":
        return people["supervisors"]
    # A 115 ticket is handled by its hospital; a 1022 ticket by its contact point.
    if ticket.hospital_id is not None and (ticket.line == "115" or ticket.contact_point_id is None):
        return people["leads"].get(("hospital", ticket.hospital_id), [])
    return people["leads"].get(("cp", ticket.contact_point_id), [])


def _reachable(people: dict, user: User) -> bool:
    """Whether an SMS can reach ``user`` (checked once per person per sweep: parsing is slow)."""
    known = people.setdefault("reachable", {})
    if user.id not in known:
        known[user.id] = bool(user.phone) and is_mobile(user.phone)
    return known[user.id]


def escalate(session: Session, now: datetime, timezone: str = "Asia/Ho_Chi_Minh",
             limit: int = 1000) -> list:
    """Take every escalation step that is due — each exactly once — and return what
    happened: ``SlaEscalated`` and ``TicketChanged`` per step, ``MessageQueued`` per SMS.

    Steps are taken in order: a sweep that finds both steps of a clock due (after a missed
    tick) takes step 1, then step 2.
    """
    steps: dict[int, list[EscalationRule]] = {}
    for rule in session.scalars(select(EscalationRule).order_by(EscalationRule.step, EscalationRule.position)):
        steps.setdefault(rule.step, []).append(rule)
    claimed: list[_Claimed] = []
    for step in sorted(steps):  # one UPDATE per step number, in order
        claimed += _claim(session, steps[step], now, limit)
    if not claimed:
        return []
    tickets = _tickets(session, {c.ticket_id for c in claimed})
    people = _people(session, tickets, claimed)
    zone = ZoneInfo(timezone)
    history: list[dict] = []
    outbox: list[dict] = []
    events: list = []
    for c in claimed:
        ticket = tickets[c.ticket_id]
        told = _told(people, ticket, c.rule.notify)
        unit = ticket.contact_point or ticket.hospital
        unit_name = getattr(unit, "name_vi", None) or getattr(unit, "name", None)
        due = c.due_at.astimezone(zone).strftime("%H:%M %d/%m") if c.due_at else None
        body = sms_texts.escalation(ticket.code, ticket.line, c.clock, c.rule.trigger, due, unit_name,
                                    c.rule.notify)
        texted = [u for u in told if _reachable(people, u)]
        outbox += [{"ticket_id": ticket.id, "to_number": u.phone, "body": body, "kind": "escalation",
                    "status": "queued", "attempts": 0, "created_at": now} for u in texted]
        history.append({"ticket_id": ticket.id, "action": "sla_escalated", "actor_id": None, "actor_label": "SLA",
                        "at": now, "data": {"clock": c.clock, "step": c.rule.step, "trigger": c.rule.trigger,
                                            "notify": c.rule.notify, "to": [u.label for u in told],
                                            "sms": len(texted)}})
        events += [SlaEscalated(ticket.id, c.clock_id, c.clock, c.rule.step, c.rule.notify),
                   TicketChanged(ticket.id, "sla_escalated")]
    # One multi-row INSERT per table, in step order; the outbox ids are read back to send the SMS.
    session.execute(insert(TicketEvent), history)
    sent = session.scalars(insert(OutboundMessage).returning(OutboundMessage.id),
                           outbox).all() if outbox else []
    return [*events, *(MessageQueued(message_id) for message_id in sent)]
