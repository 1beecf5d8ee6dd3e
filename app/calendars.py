"""The calendars the settings describe: the 1022 line's hours and the SLA clocks'."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import current_app

from tickets.calendar import DEFAULT_HOURS, BusinessCalendar
from tickets.sla import Calendars


def _calendar(hours: str) -> BusinessCalendar:
    config = current_app.config
    return _built(config["HOTLINE_TIMEZONE"], hours, frozenset(config["HOTLINE_DAYS_OFF"]),
                  frozenset(config["HOTLINE_WORKING_DAYS"]), date.today().year)


@lru_cache(maxsize=16)
def _built(timezone: str, hours: str, days_off: frozenset[date], working_days: frozenset[date],
           year: int) -> BusinessCalendar:
    # Built once per settings (and per year), not once per request: the public holidays are
    # computed when a calendar first needs them, which costs more than the rest of its use.
    # They are computed here for the years a clock can reach, so threads that share the
    # calendar only ever read them.
    calendar = BusinessCalendar(timezone=timezone, hours=DEFAULT_HOURS if hours == "always" else hours,
                                always_open=hours == "always", extra_days_off=days_off,
                                extra_working_days=working_days)
    for y in range(year - 1, year + 3):
        calendar.is_working_day(date(y, 1, 1))
    return calendar


def hotline_calendar() -> BusinessCalendar:
    """When the 1022 line is staffed."""
    return _calendar(current_app.config["HOTLINE_1022_HOURS"])


def sla_calendars() -> Calendars:
    """Business hours for 1022 clocks, around the clock for 115 and emergencies."""
    return Calendars(business=_calendar(current_app.config["SLA_WORKING_HOURS"]),
                     always=_calendar("always"))
