"""What the routing engine would do, and hospitals saying whether they can take patients."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from app import router
from app.api.endpoint import endpoint
from app.api.errors import ApiError
from app.api.schemas import AvailabilityBody, AvailabilityOut, RoutingPreviewBody, RoutingPreviewOut
from app.database import db
from routing.errors import RoutingInputError
from tickets.accounts import Role
from tickets.db import utcnow
from tickets.directory import Hospital
from tickets.errors import Forbidden, NotFound
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
        db.session.commit()
        router.forget_snapshot()  # the next dispatch must see it at once
    return AvailabilityOut(code=hospital.code, available=hospital.available)


