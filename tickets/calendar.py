"""Business calendars: when the 1022 line and the departments work, in local time.

Working hours are per weekday (default Mon–Fri 07:30–11:30 and 13:30–17:00, the
provincial administration's hours), minus Vietnam's public holidays — Tết, Hùng Kings'
day and the rest, from the ``holidays`` package — and minus any day the province adds
(compensatory days off); a province can also add working days (a Saturday worked in
exchange for a bridge day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = "mon-fri 07:30-11:30,13:30-17:00"
Period = tuple[time, time]


def parse_hours(spec: str) -> dict[int, list[Period]]:
    """Weekday → periods from "mon-fri 07:30-11:30,13:30-17:00; sat 07:30-11:30"."""
    week: dict[int, list[Period]] = {d: [] for d in range(7)}
    for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
        m = re.fullmatch(r"(\w{3})(?:-(\w{3}))?\s+(.+)", part)
        if not m or m.group(1) not in WEEKDAYS or (m.group(2) and m.group(2) not in WEEKDAYS):
            raise ValueError(f"bad working-hours part {part!r}: expected like 'mon-fri 07:30-17:00'")
        first = WEEKDAYS.index(m.group(1))
        last = WEEKDAYS.index(m.group(2) or m.group(1))
        periods = []
        for span in m.group(3).split(","):
            start, _, end = span.strip().partition("-")
            periods.append((time.fromisoformat(start), time.fromisoformat(end)))
            if periods[-1][0] >= periods[-1][1]:
                raise ValueError(f"period {span!r} ends before it starts")
        for day in range(first, last + 1):
            week[day] = sorted(periods)
    return week


@dataclass
class BusinessCalendar:
    """Working time in one time zone; all inputs and outputs are aware datetimes."""

    timezone: str = "Asia/Ho_Chi_Minh"
    hours: str = DEFAULT_HOURS
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False  # 115 and other 24/7 clocks

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def week(self) -> dict[int, list[Period]]:
        return parse_hours(self.hours)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("VN")

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off or day in self._holidays:
            return False
        return bool(self.week[day.weekday()])

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as aware local datetimes."""
        if not self.is_working_day(day):
            return []
        # A worked Saturday or Sunday keeps the hours of the calendar's first working weekday.
        spans = self.week[day.weekday()] or next((p for p in self.week.values() if p), [])
        return [(datetime.combine(day, a, self.zone), datetime.combine(day, b, self.zone))
                for a, b in spans]

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in working time."""
        if self.always_open:
            return True
        local = moment.astimezone(self.zone)
        return any(a <= local < b for a, b in self.periods(local.date()))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of working time has passed after ``start``."""
        if self.always_open:
            return start + duration
        remaining = duration
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(3660):  # ten years of days: a calendar with no working time is a bug
            for a, b in self.periods(day):
                begin = max(a, local)
                if begin >= b:
                    continue
                if begin + remaining <= b:
                    return begin + remaining
                remaining -= b - begin
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero if end is earlier)."""
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for a, b in self.periods(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total
