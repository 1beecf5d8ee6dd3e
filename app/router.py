"""The routing engine inside the app: built from the database, applied to new tickets.

``routing`` is plain Python on plain data; this module feeds it the directory and rules as
they are in the database now, keeps the classifier loaded once per process, and turns its
decisions into ticket actions.

The snapshot is a ``VersionedCache`` (``app.config_cache``): rebuilt when the configuration
version moved, so an admin's change reaches every web process and worker at their next
decision, and in any case every REFRESH seconds, for changes made outside the
administration (``init``, a hospital marking itself full in another process).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config_cache import VersionedCache
from routing import engine
from routing.corpus import read_keywords
from routing.directory import Directory
from routing.dispatch import next_hospital, should_escalate
from routing.duplicates import find_candidates
from routing.geo import load_boundaries
from routing.hospitals import HospitalIndex, rank
from routing.rules import parse_rules
from tickets import services
from tickets.directory import Category, ContactPoint, District, Hospital, Ward
from tickets.events import TicketChanged, TicketOpened
from tickets.lifecycle import OPEN_STATUSES, Status
from tickets.models import Ticket, TicketEvent
from tickets.permissions import SystemActor
from tickets.routing_store import rule_rows

log = logging.getLogger(__name__)
ROUTER = SystemActor("Định tuyến tự động")
DISPATCHER = SystemActor("Điều phối tự động 115")
GEOJSON = Path(__file__).resolve().parent.parent / "data" / "directory" / "districts.geojson"


@dataclass
class _Snapshot:
    directory: Directory
    hospitals: HospitalIndex
    # The classifier with this snapshot's category keywords, per loaded model: (model, overlay).
    classifiers: dict[int, tuple[Any, Any]] = field(default_factory=dict)


def _build_snapshot(session: Session) -> _Snapshot:
    hospitals = list(session.scalars(select(Hospital)))
    directory = Directory.from_rows(
        session.scalars(select(ContactPoint)), session.scalars(select(Category)),
        session.scalars(select(Ward)), session.scalars(select(District)), hospitals,
        rules=parse_rules(rule_rows(session)) or None, boundaries=_boundaries())
    return _Snapshot(directory, HospitalIndex(directory.hospitals.values()))


_snapshots = VersionedCache(_build_snapshot)
_lock = threading.Lock()  # guards each snapshot's classifiers


def snapshot(session: Session) -> _Snapshot:
    """The directory as routing sees it: current with the last administrative change, and
    with anything else to within REFRESH seconds (``app.config_cache``)."""
    return _snapshots.get(session)


def forget_snapshot() -> None:
    """Drop this process's cached directory (other processes follow the configuration version)."""
    _snapshots.clear()


_boundary_cache: dict[str, Any] = {}


def _boundaries():
    if "b" not in _boundary_cache:
        _boundary_cache["b"] = load_boundaries(GEOJSON)
    return _boundary_cache["b"]


def classifier(session: Session | None = None):
    """The category classifier, loaded (or trained) once per process; given a session, with
    the category keywords as they are in the database now (edited in /admin)."""
    model = engine.default_classifier(current_app.config.get("ROUTING_MODEL_PATH"))
    return model if session is None else _with_keywords(snapshot(session), model)


def _with_keywords(snap: _Snapshot, model):
    # The model has one keyword feature per category, whatever its words: the words can
    # change without retraining. Each category's list is the database's (the official
    # keywords) plus data/routing/keywords.csv's everyday words, as at training time;
    # categories the database lacks keep the model's list. A new category is proposed by
    # the classifier only after `flask routing retrain`.
    with _lock:
        found = snap.classifiers.get(id(model))
        if found is not None and found[0] is model:
            return found[1]
    extra = read_keywords()
    categories = snap.directory.categories
    lists = tuple((code, tuple(categories[code].keywords) + extra.get(code, ())) if code in categories
                  else (code, words) for code, words in model.keyword_lists)
    overlay = model if lists == model.keyword_lists else dataclasses.replace(model, keyword_lists=lists)
    with _lock:
        snap.classifiers[id(model)] = (model, overlay)
    return overlay


# ---- 1022 --------------------------------------------------------------------------------

def decide_1022(session: Session, *, description: str | None, category: str | None = None,
                ward_code: str | None = None, lat: float | None = None, lon: float | None = None,
                address: str | None = None) -> engine.Decision:
    """The routing engine's decision for these facts (nothing is written)."""
    return engine.route_1022(description, category, ward_code, lat, lon, address,
                             directory=snapshot(session).directory, classifier=classifier(session))


def duplicates(session: Session, *, category: str | None, ward_code: str | None, lat: float | None,
               lon: float | None, caller_phone: str | None, now: datetime,
               exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Open tickets this one may repeat: same caller, or same category nearby."""
    conditions = [Ticket.caller_phone == caller_phone] if caller_phone else []
    if category:
        conditions.append(Ticket.category_code == category)
    if not conditions:
        return []
    from sqlalchemy import or_

    rows = session.scalars(select(Ticket).where(Ticket.status.in_([str(s) for s in OPEN_STATUSES]),
                                                or_(*conditions)).order_by(Ticket.id.desc()).limit(200)).unique()
    probe = _Probe(exclude_id, category, ward_code, lat, lon, caller_phone)
    views = [_Probe(t.id, t.category_code, t.ward_code, t.lat, t.lon, t.caller_phone, t.status, t.created_at, t.code)
             for t in rows]
    return [c.to_dict() for c in find_candidates(probe, views, now)][:10]


@dataclass
class _Probe:
    id: int | None
    category: str | None
    ward_code: str | None
    lat: float | None
    lon: float | None
    caller_phone: str | None
    status: str = "new"
    created_at: datetime | None = None
    code: str | None = None


# ---- 115 ---------------------------------------------------------------------------------

def rank_hospitals(session: Session, lat: float, lon: float, specialty: str | None = None,
                   exclude: tuple[str, ...] = (), limit: int = 5) -> list[dict[str, Any]]:
    """Suitable hospitals nearest by travel time."""
    return [c.to_dict() for c in rank(lat, lon, snapshot(session).hospitals, specialty,
                                      exclude=exclude, limit=limit)]


def unavailable_hospitals(session: Session) -> list[str]:
    """Hospitals full or switched off right now, read fresh: the cached snapshot may be up to
    REFRESH seconds old in another process, and a full hospital must be skipped at once."""
    return list(session.scalars(select(Hospital.code).where(~Hospital.available | ~Hospital.active)))


def _escalated_since_last_dispatch(session: Session, ticket: Ticket) -> bool:
    last = session.execute(select(TicketEvent.action).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(("assign", "escalated")))
        .order_by(TicketEvent.id.desc()).limit(1)).scalar()
    return last == "escalated"


def tried_hospitals(session: Session, ticket: Ticket) -> list[str]:
    """Hospitals this ticket was dispatched to so far, in order."""
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                       TicketEvent.action == "assign").order_by(TicketEvent.id))
    return [e.data["hospital"] for e in events if e.data.get("hospital")]


# ---- reacting to new tickets ---------------------------------------------------------------

def route_new_tickets(session: Session, events: list, now: datetime) -> list:
    """Route what was just opened. 1022: the decision is stored as the proposal, and applied
    when nobody is at a console and the engine is sure. 115: a ticket with a location is
    dispatched to the nearest suitable hospital at once."""
    more: list = []
    for event in events:
        opened = isinstance(event, TicketOpened)
        if not (opened or (isinstance(event, TicketChanged) and event.action == "update")):
            continue
        ticket = session.get(Ticket, event.ticket_id)
        if ticket is None or ticket.status != Status.NEW:
            continue
        try:
            more += (_route_115(session, ticket, now) if ticket.line == "115"
                     else _route_1022(session, ticket, now, unattended=opened and ticket.created_by_id is None))
        except Exception:  # routing must never stop a ticket from being recorded
            log.exception("routing ticket %s failed; it stays new for a person", ticket.id)
    return more


def _route_1022(session: Session, ticket: Ticket, now: datetime, unattended: bool) -> list:
    if not (ticket.description or ticket.category_code):
        return []  # a call just arrived: the operator will fill it in
    decision = decide_1022(session, description=ticket.description, category=ticket.category_code,
                           ward_code=ticket.ward_code, lat=ticket.lat, lon=ticket.lon, address=ticket.address)
    ticket.routing = decision.to_dict()
    if unattended and ticket.category_code is None and decision.category and not decision.needs_confirmation:
        ticket.category_code = decision.category
    # A person at a console sees the proposal and confirms it with "assign"; what arrives
    # with nobody watching (SMS, the citizens' app) is assigned at once when the engine is sure.
    if not unattended or decision.needs_confirmation or not decision.contact_point:
        return []
    return services.assign_ticket(session, ROUTER, ticket.id, now, contact_point=decision.contact_point,
                                  reason=_summary(decision.reasons))


def _route_115(session: Session, ticket: Ticket, now: datetime) -> list:
    if ticket.lat is None or ticket.lon is None:
        return []
    found = rank(ticket.lat, ticket.lon, snapshot(session).hospitals, None,
                 exclude=tuple(unavailable_hospitals(session)), limit=3)
    if not found:
        return []
    ticket.routing = {"hospitals": [c.to_dict() for c in found]}
    return services.assign_ticket(session, DISPATCHER, ticket.id, now, hospital=found[0].code,
                                  reason=_summary(found[0].reasons))


def _summary(reasons) -> str:
    return "; ".join(r.vi for r in reasons)[:500] if reasons else "routing engine"


# ---- re-dispatch ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DispatchEscalated:
    """A hospital did not acknowledge in time; the ticket went to the next (or to a person)."""

    ticket_id: int
    from_hospital: str | None
    to_hospital: str | None
    reason: str


def redispatch(session: Session, ticket_id: int, now: datetime, ack_seconds: int) -> list:
    """Send a 115 ticket whose hospital has not acknowledged in time to the next one.

    Idempotent: it acts only while the ticket is still waiting for that acknowledgement
    past its deadline, so a duplicate job or a late sweep does nothing.
    """
    ticket = session.get(Ticket, ticket_id)
    if (ticket is None or ticket.line != "115" or ticket.status != Status.ASSIGNED
            or ticket.hospital is None or ticket.assigned_at is None
            or (now - ticket.assigned_at).total_seconds() < ack_seconds):
        return []
    if _escalated_since_last_dispatch(session, ticket):
        return []  # already handed to a person; repeating it would only add noise
    tried = tried_hospitals(session, ticket)
    late = ticket.hospital.code
    reason = f"Bệnh viện không xác nhận trong {ack_seconds} giây"
    # The specialty the dispatcher asked for (POST /api/tickets/ID/dispatch) still holds.
    specialty = (ticket.routing or {}).get("specialty")
    candidate = (next_hospital((ticket.lat, ticket.lon), snapshot(session).hospitals,
                               [*tried, *unavailable_hospitals(session)], specialty)
                 if ticket.lat is not None and ticket.lon is not None else None)
    events: list = []
    if candidate is not None:
        events += services.assign_ticket(session, DISPATCHER, ticket.id, now, hospital=candidate.code,
                                         reason=reason)
    failures = len(tried)
    if candidate is None or should_escalate(failures):
        services.record_event(session, ticket, DISPATCHER, "escalated", now, failures=failures,
                              hospital=candidate.code if candidate else None,
                              reason="Cần điều phối viên/giám sát can thiệp")
        ticket.touch(now)
        session.flush()
        events.append(TicketChanged(ticket.id, "escalated"))
    events.append(DispatchEscalated(ticket.id, late, candidate.code if candidate else None, reason))
    return events


def overdue_dispatches(session: Session, now: datetime, ack_seconds: int) -> list[int]:
    """115 tickets still waiting for an acknowledgement past the deadline."""
    from datetime import timedelta

    return list(session.scalars(select(Ticket.id).where(
        Ticket.line == "115", Ticket.status == Status.ASSIGNED, Ticket.hospital_id.is_not(None),
        Ticket.assigned_at <= now - timedelta(seconds=ack_seconds)).limit(200)))
