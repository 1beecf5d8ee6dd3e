"""The working calendar, administered over the JSON API: administrators only.

The province's days off and make-up working days (``tickets.calendar_days``), listed by year
beside what they are added to — the public holidays of the ``holidays`` package and the days
of the HOTLINE_DAYS_OFF / HOTLINE_WORKING_DAYS settings, both read-only here. A change is
audited, bumps the configuration version and so reaches the next clock in every process.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from flask import Blueprint, current_app
from flask_babel import get_locale
from pydantic import BaseModel, Field, StringConstraints

from app.api.endpoint import endpoint
from app.api.schemas import Body, Query
from app.calendars import official_calendar
from app.database import db
from app.publisher import commit_and_publish
from app.timefmt import local
from tickets import calendar_days
from tickets.admin import require_admin
from tickets.db import utcnow

bp = Blueprint("api_admin_calendar", __name__, url_prefix="/api/admin/calendar-days")
TAG = "admin"
Kind = Literal[calendar_days.KINDS]
DAY_HELP = "The date, YYYY-MM-DD"
NOTE_HELP = 'Why, e.g. "Nghỉ bù Quốc khánh"'
KIND_HELP = "off: not worked although it normally is; working: worked although a weekend or public holiday"
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=calendar_days.NOTE_LENGTH)]


class CalendarDayFields(Body):
    day: str | None = Field(None, description=DAY_HELP)
    kind: Kind | None = Field(None, description=KIND_HELP)
    note: Note | None = Field(None, description=NOTE_HELP)


class CalendarDayCreate(CalendarDayFields):
    day: str = Field(description=DAY_HELP)
    kind: Kind = Field(description=KIND_HELP)
    note: Note = Field(description=NOTE_HELP)


class CalendarYearQuery(Query):
    year: int | None = Field(None, ge=calendar_days.FIRST_YEAR, le=calendar_days.LAST_YEAR,
                             description="Default: this year")


class CalendarDayOut(BaseModel):
    day: date
    kind: str
    note: str


class OfficialDayOut(BaseModel):
    day: date
    name: str = Field(description="In the console's language")


class SettingsDayOut(BaseModel):
    day: date
    kind: str = Field(description="From HOTLINE_DAYS_OFF (off) or HOTLINE_WORKING_DAYS (working)")


class CalendarYearOut(BaseModel):
    year: int
    items: list[CalendarDayOut] = Field(description="The province's days, editable")
    official: list[OfficialDayOut] = Field(description="Public holidays, from the holidays package")
    settings: list[SettingsDayOut] = Field(description="Days from the server's settings (a table row wins)")


def _this_year() -> int:
    return local(utcnow()).year


def _settings_days(year: int) -> list[SettingsDayOut]:
    config = current_app.config
    found = [(d, "off") for d in config["HOTLINE_DAYS_OFF"]] + [(d, "working") for d in config["HOTLINE_WORKING_DAYS"]]
    return [SettingsDayOut(day=d, kind=kind) for d, kind in sorted(found) if d.year == year]


@endpoint(bp, "", summary="A year of the working calendar: the province's days, public holidays, settings",
          tag=TAG, query=CalendarYearQuery, response=CalendarYearOut)
def list_calendar_days(actor, query: CalendarYearQuery):
    year = query.year or _this_year()
    rows = calendar_days.list_days(db.session, actor, year)
    return CalendarYearOut(
        year=year, items=[calendar_days.day_record(r) for r in rows],
        official=[OfficialDayOut(day=d, name=name)
                  for d, name in calendar_days.official_holidays(year, str(get_locale()))],
        settings=_settings_days(year))


@endpoint(bp, "", "POST", summary="Declare a day off or a make-up working day", tag=TAG,
          body=CalendarDayCreate, response=CalendarDayOut, status=201)
def create_calendar_day(actor, body: CalendarDayCreate):
    require_admin(actor)  # before reading the official calendar: strangers learn nothing
    row, events = calendar_days.create_day(db.session, actor, utcnow(), body.model_dump(), official_calendar())
    commit_and_publish(db.session, events)
    return CalendarDayOut(**calendar_days.day_record(row))


@endpoint(bp, "/<day>", "PATCH", summary="Change a declared day's date, kind or note", tag=TAG,
          body=CalendarDayFields, response=CalendarDayOut)
def update_calendar_day(actor, day: str, body: CalendarDayFields):
    require_admin(actor)
    row, events = calendar_days.update_day(db.session, actor, utcnow(), day, body.model_dump(exclude_unset=True),
                                           official_calendar())
    commit_and_publish(db.session, events)
    return CalendarDayOut(**calendar_days.day_record(row))


@endpoint(bp, "/<day>", "DELETE", summary="Remove a declared day (the official calendar applies again)",
          tag=TAG, status=204)
def delete_calendar_day(actor, day: str):
    commit_and_publish(db.session, calendar_days.delete_day(db.session, actor, utcnow(), day))
    return "", 204
