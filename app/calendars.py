"""The calendars the settings and the administration describe: the 1022 line's hours and the
SLA clocks'.

The province's own days come from two places, merged: the ``calendar_days`` table, edited in
/admin (``tickets.calendar_days``), and the HOTLINE_DAYS_OFF / HOTLINE_WORKING_DAYS settings —
the bootstrap before anyone used the administration, still honoured. Where both name a day,
the table wins: it is what administrators see and change, the settings need a restart.

The table's days are a ``VersionedCache`` (``app.config_cache``), like the routing snapshot:
the next clock started in any web process or RQ worker uses a change without a restart.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import current_app

from app.config_cache import VersionedCache
from app.database import db
from tickets.calendar import DEFAULT_HOURS, BusinessCalendar
from tickets.calendar_days import province_days
from tickets.sla import Calendars

Days = tuple[frozenset[date], frozenset[date]]  # (days off, working days)
_table = VersionedCache(province_days)


def _table_days() -> Days:
    """The table's days, as of the configuration version now (``app.config_cache``)."""
    return _table.get(db.session)


def merged_days(settings_off: frozenset[date], settings_working: frozenset[date], table: Days) -> Days:
    """The settings' days with the table's; a day the table names takes the table's kind."""
    table_off, table_working = table
    return ((settings_off - table_working) | table_off, (settings_working - table_off) | table_working)


def _calendar(hours: str) -> BusinessCalendar:
    config = current_app.config
    days_off, working_days = merged_days(frozenset(config["HOTLINE_DAYS_OFF"]),
                                         frozenset(config["HOTLINE_WORKING_DAYS"]), _table_days())
    return _built(config["HOTLINE_TIMEZONE"], hours, days_off, working_days, date.today().year)


@lru_cache(maxsize=16)
def _built(timezone: str, hours: str, days_off: frozenset[date], working_days: frozenset[date],
           year: int) -> BusinessCalendar:
    # Built once per settings and days (and per year), not once per request: the public
    # holidays are computed when a calendar first needs them, which costs more than the rest
    # of its use. They are computed here for the years a clock can reach, so threads that
    # share the calendar only ever read them. An administrative change to something else
    # moves the version but not the days, and finds its calendar here.
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


def official_calendar() -> BusinessCalendar:
    """The SLA working week and the public holidays, without any day the province added:
    what a declared day is checked against (a make-up day must not already be worked)."""
    config = current_app.config
    return _built(config["HOTLINE_TIMEZONE"], config["SLA_WORKING_HOURS"], frozenset(), frozenset(),
                  date.today().year)
