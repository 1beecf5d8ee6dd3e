"""The supervisor wallboard over HTTP: every live figure in one JSON document."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from typing import Annotated

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from app.api.endpoint import endpoint
from app.api.schemas import Line, Query
from app.database import db
from tickets import wallboard
from tickets.db import utcnow

bp = Blueprint("api_wallboard", __name__, url_prefix="/api/supervisor")


class FromAttributes(BaseModel):
    """Read from the attributes of tickets.wallboard's dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class WallboardUnit(FromAttributes):
    code: str
    name: str = Field(description="Vietnamese name")
    name_en: str
    short: str = Field(description="A short name for charts")


class WallboardLineCalls(FromAttributes):
    line: str = Field(description='"1022", "115", or "*" for both lines')
    active: int = Field(description="Calls now: not ended, started within the last 2 hours")
    waiting: int = Field(description="Calls now that no person has answered yet")
    longest_wait_seconds: float | None
    today: int = Field(description="Calls that started today (local day)")
    answered: int
    answered_15s: int
    answered_15s_pct: float | None = Field(description="answered within 15 s / answered (NENA)")
    abandoned: int
    abandoned_pct: float | None = Field(description="abandoned / calls today")


class WallboardCalls(FromAttributes):
    lines: list[WallboardLineCalls]
    total: WallboardLineCalls


class WallboardHourly(FromAttributes):
    today: list[int] = Field(description="Calls per local hour 0-23, today")
    last_week: list[int] = Field(description="The same, on the same weekday one week earlier")
    last_week_date: date


class WallboardUnitCount(FromAttributes):
    unit: WallboardUnit
    count: int


class WallboardOpen(FromAttributes):
    total: int
    by_status: dict[str, int]
    by_line: dict[str, int]
    by_contact_point: list[WallboardUnitCount] = Field(description="The contact points with the most open tickets")
    other_contact_points: int = Field(description="Open tickets at the other contact points")
    other_contact_point_count: int
    by_hospital: list[WallboardUnitCount]
    no_destination: int = Field(description="Open tickets routed nowhere yet")


class WallboardRiskItem(FromAttributes):
    ticket_id: int
    code: str
    line: Line
    status: str
    priority: str
    category: str | None
    description: str = Field(description="The first 140 characters")
    contact_point: WallboardUnit | None
    hospital: WallboardUnit | None
    clocks: list[str]
    due_at: datetime = Field(description="At risk: the soonest due time; breached: the earliest one missed")
    created_at: datetime


class WallboardRiskList(FromAttributes):
    total: int
    items: list[WallboardRiskItem]


class WallboardContactPoint(FromAttributes):
    unit: WallboardUnit
    open: int
    at_risk: int
    breached: int
    on_time_7d: float | None = Field(description="Resolution clocks on time, tickets of the last 7 days")
    scored_7d: int
    on_time_30d: float | None
    scored_30d: int
    first_response_30d: float | None
    median_resolution_seconds_30d: float | None
    satisfaction_30d: float | None
    surveys_30d: int


class WallboardSatisfaction(FromAttributes):
    days: int
    surveys: int
    satisfied: int
    pct: float | None


class WallboardOnTime(FromAttributes):
    resolution_7d: float | None
    resolution_30d: float | None
    first_response_30d: float | None
    acknowledgement_30d: float | None


class WallboardAckCase(FromAttributes):
    ticket_id: int
    code: str
    hospital: WallboardUnit | None
    called_at: datetime
    acknowledged_at: datetime
    seconds: float


class WallboardAck115(FromAttributes):
    count: int = Field(description="115 tickets opened today and acknowledged by a hospital")
    median_seconds: float | None
    p90_seconds: float | None
    awaiting: int = Field(description="115 tickets dispatched and not yet acknowledged")
    cases: list[WallboardAckCase] = Field(description="The last 20 acknowledged, newest first")


class WallboardNuisance(FromAttributes):
    line: str
    today: int = Field(description="Tickets of this line cancelled as nuisance calls, opened today")
    days_30: int = Field(description="The same over the last 30 local days, today included")


class WallboardOut(FromAttributes):
    generated_at: datetime
    timezone: str
    today: date
    calls: WallboardCalls
    hourly: WallboardHourly
    on_duty: dict[str, int]
    open: WallboardOpen
    at_risk: WallboardRiskList
    breached: WallboardRiskList
    contact_points: list[WallboardContactPoint]
    satisfaction: WallboardSatisfaction
    on_time: WallboardOnTime
    ack_115: WallboardAck115
    nuisance_calls: list[WallboardNuisance]


class WallboardQuery(Query):
    top: Annotated[int, Field(ge=1, le=50)] = wallboard.TOP_CONTACT_POINTS
    limit: Annotated[int, Field(ge=1, le=500)] = wallboard.LIST_LIMIT


# Every supervisor sees the same board, and each event makes every open board refetch (a second
# later): one computation serves all the requests of that moment. Younger than the clients'
# one-second debounce, so a refetch after an event always sees the change.
CACHE_SECONDS = 0.8


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple, tuple[float, dict]] = {}


def _board(key: tuple, compute) -> dict:
    cache = current_app.extensions.setdefault("wallboard_cache", _Cache())
    ttl = current_app.config.get("WALLBOARD_CACHE_SECONDS", CACHE_SECONDS)
    with cache.lock:  # one computation at a time; those waiting reuse its result
        began = time.monotonic()
        hit = cache.entries.get(key)
        if hit is not None and began - hit[0] < ttl:
            return hit[1]
        body = compute()
        cache.entries = {key: (began, body)}
        return body


@endpoint(bp, "/wallboard", summary="The supervisor wallboard: calls now and today, on duty, open, at risk, "
          "breached, on time per contact point, satisfaction, 115 acknowledgement times (supervisors, admins)",
          tag="sla", query=WallboardQuery, response=WallboardOut)
def supervisor_wallboard(actor, query: WallboardQuery):
    wallboard.authorize_wallboard(actor)  # before the cache: a refusal never reads another's answer
    zone = current_app.config["HOTLINE_TIMEZONE"]

    def compute() -> dict:
        board = wallboard.wallboard(db.session, actor, utcnow(), timezone=zone, top=query.top, limit=query.limit)
        return WallboardOut.model_validate(board).model_dump(mode="json")

    return _board((zone, query.top, query.limit), compute)
