"""The calendars the settings describe: the 1022 line's hours and the SLA clocks'."""

from __future__ import annotations

from flask import current_app

from tickets.calendar import DEFAULT_HOURS, BusinessCalendar
from tickets.sla import Calendars


def _calendar(hours: str) -> BusinessCalendar:
    config = current_app.config
    return BusinessCalendar(timezone=config["HOTLINE_TIMEZONE"],
                            hours=DEFAULT_HOURS if hours == "always" else hours,
                            always_open=hours == "always",
                            extra_days_off=config["HOTLINE_DAYS_OFF"],
                            extra_working_days=config["HOTLINE_WORKING_DAYS"])


def hotline_calendar() -> BusinessCalendar:
    """When the 1022 line is staffed."""
    return _calendar(current_app.config["HOTLINE_1022_HOURS"])


def sla_calendars() -> Calendars:
    """Business hours for 1022 clocks, around the clock for 115 and emergencies."""
    return Calendars(business=_calendar(current_app.config["SLA_WORKING_HOURS"]),
                     always=_calendar("always"))
