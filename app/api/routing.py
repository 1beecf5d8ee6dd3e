"""What the routing engine would do, and hospitals saying whether they can take patients."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint
from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlalchemy import select

from app import router
from app.api.endpoint import endpoint
from app.api.errors import ApiError
from app.api.schemas import (
    DESCRIPTION_LIMIT,
    AvailabilityBody,
    AvailabilityOut,
    Code,
    Query,
    RoutingPreviewBody,
    RoutingPreviewOut,
    ShortText,
    TicketOut,
    Versioned,
    lat_lon_together,
)
from app.api.serialize import ticket_out
from app.database import db
from app.publisher import commit_and_publish
from routing.dispatch import next_hospital
from routing.errors import RoutingInputError
from routing.hospitals import DEFAULT_ESTIMATOR, has_specialty, is_suitable
from tickets import services
from tickets.accounts import Role
from tickets.audit import record_change
from tickets.db import utcnow
from tickets.directory import Hospital
from tickets.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from tickets.models import Ticket
from tickets.phones import try_normalise_phone

bp = Blueprint("api_routing", __name__, url_prefix="/api")
PREVIEW_ROLES = {Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN}


@endpoint(bp, "/routing/preview", "POST", summary="The routing decision, without creating anything",
          tag="routing", body=RoutingPreviewBody, response=RoutingPreviewOut)
def preview(actor, body: RoutingPreviewBody):
    if actor.role not in PREVIEW_ROLES:
        raise Forbidden("Only operators, dispatchers and supervisors route tickets")
    session = db.session
    try:
        if body.line == "115":
            if body.lat is None or body.lon is None:
                raise RoutingInputError("lat", "115 routing needs the caller's lat and lon")
            return RoutingPreviewOut(line="115", hospitals=router.rank_hospitals(
                session, body.lat, body.lon, body.specialty))
        decision = router.decide_1022(session, description=body.description, category=body.category,
                                      ward_code=body.ward_code, lat=body.lat, lon=body.lon, address=body.address)
    except RoutingInputError as exc:
        raise ApiError(400, "invalid_request", str(exc), {exc.field: exc.message}) from exc
    dupes = router.duplicates(session, category=decision.category, ward_code=decision.location.ward_code,
                              lat=body.lat, lon=body.lon, caller_phone=try_normalise_phone(body.caller_phone),
                              now=utcnow())
    return RoutingPreviewOut(line="1022", decision=decision.to_dict(), duplicates=dupes)


@endpoint(bp, "/hospitals/<code>/availability", "POST",
          summary="A hospital marks itself available or full (diverting)", tag="routing",
          body=AvailabilityBody, response=AvailabilityOut)
def set_availability(actor, code: str, body: AvailabilityBody):
    hospital = db.session.scalar(select(Hospital).where(Hospital.code == code))
    if hospital is None:
        raise NotFound("Hospital not found")
    own = actor.role == Role.HOSPITAL and actor.hospital_id == hospital.id
    if not own and actor.role not in (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("Only the hospital itself or dispatch may change its availability")
    if hospital.available != body.available:
        hospital.available = body.available
        # Like an administrator's edit: in the audit log (who made the hospital full, and when),
        # and a new configuration version, so every process routes with it at once and the
        # dispatch boards redraw (config.changed) instead of at their next poll.
        change = record_change(db.session, actor, "hospital", hospital.code, "update",
                               {"available": not body.available}, {"available": body.available}, utcnow())
        router.forget_snapshot()
        commit_and_publish(db.session, [change])
    return AvailabilityOut(code=hospital.code, available=hospital.available)


# ---- 115 cases: the hospitals for a case, and dispatching it ------------------------------

Specialty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class HospitalOptionsQuery(Query):
    specialty: Specialty | None = None


class HospitalOption(BaseModel):
    code: str
    name: str
    lat: float
    lon: float
    distance_km: float = Field(description="Estimated road distance from the patient")
    eta_minutes: float = Field(description="Estimated travel time from the patient")
    available: bool
    emergency: bool
    has_specialty: bool
    suitable: bool = Field(description="Emergency-capable, available and with the specialty")
    tried: bool = Field(description="This case was already dispatched there")
    current: bool = Field(description="The hospital the case is dispatched to now")


class HospitalOptions(BaseModel):
    ticket: int
    located: bool
    specialty: str | None
    items: list[HospitalOption] = Field(description="Suitable hospitals first, each group by travel time")


class DispatchBody(Versioned):
    """Complete a 115 case and dispatch it in one step (one transaction)."""

    caller_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_LIMIT)] | None = None
    address: ShortText | None = None
    ward_code: Code | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = Field(None, validate_default=True)
    specialty: Specialty | None = Field(None, description="Kept on the case: re-dispatch looks for it too")
    hospital: Code | None = Field(None, description="The dispatcher's choice; default: the nearest suitable")
    reason: ShortText | None = None

    _lat_lon = field_validator("lon")(lat_lon_together)


def _check_specialty(session, specialty: str | None) -> None:
    if specialty and not any(has_specialty(h, specialty) for h in session.scalars(select(Hospital))):
        raise ValidationFailed("No hospital lists this specialty", {"specialty": f"unknown specialty {specialty!r}"})


def _case_115(actor, ticket_id: int, action: str = "read") -> Ticket:
    ticket = services.get_ticket(db.session, actor, ticket_id, action)
    if ticket.line != "115":
        raise ValidationFailed("Only 115 cases go to hospitals", {"ticket": "a 1022 ticket"})
    return ticket


@endpoint(bp, "/tickets/<int:ticket_id>/hospitals", summary="115: hospitals for this case by estimated travel time",
          tag="routing", query=HospitalOptionsQuery, response=HospitalOptions)
def ticket_hospitals(actor, ticket_id: int, query: HospitalOptionsQuery):
    session = db.session
    ticket = _case_115(actor, ticket_id)
    specialty = query.specialty or (ticket.routing or {}).get("specialty")
    _check_specialty(session, query.specialty)
    if ticket.lat is None or ticket.lon is None:
        return HospitalOptions(ticket=ticket.id, located=False, specialty=specialty, items=[])
    tried = set(router.tried_hospitals(session, ticket))
    rows = session.scalars(select(Hospital).where(Hospital.active)).all()
    if actor.role == Role.HOSPITAL:  # a hospital learns how far the patient is from itself, nothing more
        rows = [h for h in rows if h.id == actor.hospital_id]
    items = []
    for h in rows:
        road, seconds = DEFAULT_ESTIMATOR.estimate(ticket.lat, ticket.lon, h.lat, h.lon)
        items.append(HospitalOption(
            code=h.code, name=h.name, lat=h.lat, lon=h.lon, distance_km=round(road / 1000, 2),
            eta_minutes=round(seconds / 60, 1), available=h.available, emergency=h.emergency,
            has_specialty=has_specialty(h, specialty), suitable=is_suitable(h, specialty),
            tried=h.code in tried, current=ticket.hospital_id == h.id))
    items.sort(key=lambda o: (not o.suitable, o.eta_minutes, o.distance_km, o.code))
    return HospitalOptions(ticket=ticket.id, located=True, specialty=specialty, items=items)


@endpoint(bp, "/tickets/<int:ticket_id>/dispatch", "POST",
          summary="115: complete the case (place, details, specialty) and dispatch it to the nearest "
                  "suitable hospital, or to the hospital named", tag="routing", body=DispatchBody, response=TicketOut)
def dispatch_ticket(actor, ticket_id: int, body: DispatchBody):
    session, now = db.session, utcnow()
    ticket = _case_115(actor, ticket_id, "assign")
    if body.version is not None and body.version != ticket.version:
        raise StaleVersion(f"The ticket changed meanwhile (you had version {body.version}, it is now "
                           f"{ticket.version}); reload it and try again", {"version": str(ticket.version)})
    if body.lat is None and ticket.lat is None:
        raise ApiError(400, "invalid_request", "Say where the patient is first",
                       {"lat": "required: the case has no location yet"})
    _check_specialty(session, body.specialty)
    changes = body.model_dump(include={"caller_name", "description", "address", "ward_code", "lat", "lon"},
                              exclude_none=True)
    events = services.update_ticket(session, actor, ticket_id, now, changes=changes) if changes else []
    unavailable = router.unavailable_hospitals(session)
    ranked = router.rank_hospitals(session, ticket.lat, ticket.lon, body.specialty, exclude=tuple(unavailable))
    if body.hospital:
        hospital, reason = body.hospital, body.reason or "Điều phối viên chọn bệnh viện"
    else:
        best = next_hospital((ticket.lat, ticket.lon), router.snapshot(session).hospitals, unavailable,
                             body.specialty)
        if best is None:
            raise Conflict("No suitable hospital is available now; call the hospitals and choose one",
                           {"hospital": "none available"})
        hospital = best.code
        reason = body.reason or "; ".join(r.vi for r in best.reasons)[:500]
    ticket.routing = {"hospitals": ranked, "specialty": body.specialty}
    events += services.assign_ticket(session, actor, ticket_id, now, hospital=hospital, reason=reason)
    commit_and_publish(session, events)
    return ticket_out(session.get(Ticket, ticket_id), actor)

