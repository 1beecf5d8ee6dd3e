"""The province's own calendar days: days off it adds and make-up working days ("làm bù").

Vietnam's public holidays come from the ``holidays`` package; every year the government also
announces compensatory arrangements (a Saturday worked to bridge a holiday) and the province
adds its own days (its anniversary). Administrators keep those here, one row a day, and the
business calendars (``tickets.calendar.BusinessCalendar``, built in ``app/calendars.py``)
use them with the days of the HOTLINE_DAYS_OFF / HOTLINE_WORKING_DAYS settings.

A row that would change nothing is refused rather than stored: a "working" Tuesday or an
"off" Sunday is almost always the wrong date picked, and the clocks would silently ignore it
— so 'working' is accepted only on a weekend day or a public holiday, and 'off' only on a
normal working day, each judged on the official calendar (weekly hours and public holidays,
without the province's days). Every change is audited and bumps the configuration version
in the caller's transaction, like every other administrative record.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

import holidays
from sqlalchemy import CheckConstraint, Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.admin import Events, require_admin
from tickets.audit import record_change
from tickets.calendar import BusinessCalendar
from tickets.db import Base
from tickets.errors import NotFound, ValidationFailed
from tickets.upsert import insert_for

ENTITY = "calendar_day"
KINDS = ("off", "working")
NOTE_LENGTH = 200
# The `holidays` package knows Vietnam's lunar holidays for these years; a date outside them
# is a typing mistake (2207 for 2027), not a plan.
FIRST_YEAR, LAST_YEAR = 2000, 2100
EDITABLE = ("day", "kind", "note")

NOT_A_DATE = "not a date: expected YYYY-MM-DD"
OUT_OF_RANGE = f"a date between {FIRST_YEAR} and {LAST_YEAR}"
TAKEN = "this day is already in the calendar: edit it instead"
WORKING_ALREADY = "already a working day: a make-up working day must fall on a weekend or a public holiday"
OFF_ALREADY = "already a day off (weekend or public holiday): a province day off must fall on a working day"
BAD_KIND = "'off' or 'working'"
REQUIRED = "must not be empty"
TOO_LONG = f"at most {NOTE_LENGTH} characters"


class CalendarDay(Base):
    """A day the province declares off, or declares worked; who and when are in the audit log."""

    __tablename__ = "calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('off', 'working')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH))


def day_record(row: CalendarDay) -> dict[str, Any]:
    """The day as the API shows it and the audit log keeps it."""
    return {"day": row.day.isoformat(), "kind": row.kind, "note": row.note}


def province_days(session: Session) -> tuple[frozenset[date], frozenset[date]]:
    """Every day the administrators declared (days off, working days), all years."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return (frozenset(d for d, kind in rows if kind == "off"),
            frozenset(d for d, kind in rows if kind == "working"))


def list_days(session: Session, actor: Any, year: int) -> list[CalendarDay]:
    """The province's days of ``year``, in date order."""
    require_admin(actor)
    return list(session.scalars(select(CalendarDay)
                                .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
                                .order_by(CalendarDay.day)))


def parse_day(value: Any) -> date | None:
    """The date ``value`` spells (a date or "YYYY-MM-DD"), whatever its year; None if none."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _in_range(day: date | None) -> bool:
    return day is not None and FIRST_YEAR <= day.year <= LAST_YEAR


def _check(session: Session, values: dict[str, Any], official: BusinessCalendar,
           own: date | None) -> dict[str, Any]:
    """The row ``values`` describe, or ValidationFailed naming every bad field."""
    problems: dict[str, str] = {}
    day = parse_day(values.get("day"))
    if not _in_range(day):
        problems["day"] = NOT_A_DATE if day is None else OUT_OF_RANGE
    elif day != own and session.get(CalendarDay, day) is not None:
        problems["day"] = TAKEN
    kind = str(values.get("kind") or "").strip()
    if kind not in KINDS:
        problems["kind"] = BAD_KIND
    elif "day" not in problems:
        _check_contradiction(day, kind, official, problems)
    note = unicodedata.normalize("NFC", str(values.get("note") or "").strip())
    if not note:
        problems["note"] = REQUIRED
    elif len(note) > NOTE_LENGTH:
        problems["note"] = TOO_LONG
    if problems:
        raise ValidationFailed("The calendar day is not valid: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                               problems)
    return {"day": day, "kind": kind, "note": note}


def _check_contradiction(day: date, kind: str, official: BusinessCalendar, problems: dict[str, str]) -> None:
    normally_worked = official.is_working_day(day)
    if kind == "working" and normally_worked:
        problems["day"] = WORKING_ALREADY
    elif kind == "off" and not normally_worked:
        problems["day"] = OFF_ALREADY


def create_day(session: Session, actor: Any, now: datetime, values: dict[str, Any],
               official: BusinessCalendar) -> tuple[CalendarDay, Events]:
    """Declare a day off or a working day; clocks started from now on follow it.

    ``official`` is the calendar without the province's days (weekly hours, public holidays).
    """
    require_admin(actor)
    checked = _check(session, values, official, None)
    # The check above saw no row for the day, but another administrator may be adding it at
    # this moment: the database decides, and the transaction stays usable either way.
    day = session.scalar(insert_for(session, CalendarDay).values(**checked)
                         .on_conflict_do_nothing(index_elements=[CalendarDay.day]).returning(CalendarDay.day))
    if day is None:
        raise ValidationFailed(f"The calendar day is not valid: day: {TAKEN}", {"day": TAKEN})
    row = session.get(CalendarDay, day)
    return row, [record_change(session, actor, ENTITY, row.day.isoformat(), "create", None, day_record(row), now)]


def _get(session: Session, day: Any) -> CalendarDay:
    parsed = parse_day(day)
    row = session.get(CalendarDay, parsed) if _in_range(parsed) else None
    if row is None:
        raise NotFound("This day is not in the province's calendar")
    return row


def update_day(session: Session, actor: Any, now: datetime, day: Any, changes: dict[str, Any],
               official: BusinessCalendar) -> tuple[CalendarDay, Events]:
    """Change a declared day's date, kind or note (a save that changes nothing writes nothing)."""
    require_admin(actor)
    row = _get(session, day)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed("These fields cannot be changed", dict.fromkeys(unknown, "cannot be changed"))
    before = day_record(row)
    checked = _check(session, {**before, **changes}, official, row.day)
    for name, value in checked.items():
        setattr(row, name, value)  # a new date moves the primary key: one UPDATE
    session.flush()
    after = day_record(row)
    if after == before:
        return row, []
    return row, [record_change(session, actor, ENTITY, row.day.isoformat(), "update", before, after, now)]


def delete_day(session: Session, actor: Any, now: datetime, day: Any) -> Events:
    """Remove a declared day: the official calendar applies to it again."""
    require_admin(actor)
    row = _get(session, day)
    before = day_record(row)
    session.delete(row)
    session.flush()
    return [record_change(session, actor, ENTITY, before["day"], "delete", before, None, now)]


def official_holidays(year: int, language: str = "vi") -> list[tuple[date, str]]:
    """Vietnam's public holidays of ``year`` from the ``holidays`` package, named in
    ``language`` ("vi" or "en"), in date order — what the clocks skip without any row here."""
    named = holidays.country_holidays("VN", years=year, language="vi" if language == "vi" else "en_US")
    return sorted(named.items())
