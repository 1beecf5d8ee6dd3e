"""The business calendar SLA clocks run on, with the time given (never read from the system):
working hours with the lunch break, weekends, Vietnam's holidays (Tết, Hùng Kings' day), the
province's own days off and worked Saturdays; and pausing a clock while the caller is asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.calendars import sla_calendars
from tests.factories import NOW, SYSTEM, make_ticket
from tickets import sla
from tickets.calendar import BusinessCalendar
from tickets.events import TicketChanged, TicketOpened
from tickets.services import assign_ticket

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = BusinessCalendar()
H = timedelta(hours=1)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


# ---- working hours -----------------------------------------------------------------------

def test_a_four_working_hour_clock_started_friday_16_00_is_due_monday_10_30():
    assert CAL.add(at(2026, 11, 27, 16), 4 * H) == at(2026, 11, 30, 10, 30)


def test_the_lunch_break_11_30_to_13_30_is_skipped():
    assert CAL.add(at(2026, 11, 25, 11), H) == at(2026, 11, 25, 14)
    assert CAL.between(at(2026, 11, 25, 11), at(2026, 11, 25, 14)) == H
    assert not CAL.is_open(at(2026, 11, 25, 12, 15))
    assert CAL.is_open(at(2026, 11, 25, 13, 30))


def test_time_outside_working_hours_counts_from_the_next_opening():
    # Sunday evening: the first working minute is Monday 07:30.
    assert CAL.add(at(2026, 11, 29, 22), 30 * timedelta(minutes=1)) == at(2026, 11, 30, 8)
    assert CAL.between(at(2026, 11, 28, 9), at(2026, 11, 29, 18)) == timedelta(0)  # the weekend


def test_inputs_in_utc_give_the_same_local_answer():
    start = at(2026, 11, 27, 16).astimezone(UTC)
    assert CAL.add(start, 4 * H) == at(2026, 11, 30, 10, 30)


@pytest.mark.parametrize("start", [at(2026, 11, 25, 7), at(2026, 11, 25, 11, 29), at(2026, 11, 27, 16, 59),
                                   at(2026, 11, 28, 10), at(2027, 2, 3, 15)])
@pytest.mark.parametrize("hours", [0.25, 1, 4, 7.5, 40])
def test_between_measures_back_exactly_what_add_added(start: datetime, hours: float):
    due = CAL.add(start, hours * H)
    assert CAL.between(start, due) == hours * H


# ---- holidays ----------------------------------------------------------------------------

def test_tet_2027_from_29_tet_to_the_fifth_day_is_not_worked():
    off = [date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)]
    assert [CAL.is_working_day(d) for d in off] == [False] * 5  # 29 Tết, Giao thừa, mùng 3-5
    assert CAL.is_working_day(date(2027, 2, 3)) and CAL.is_working_day(date(2027, 2, 11))
    # Wednesday 3 Feb 16:00 + 4 h: one hour that day, then nothing until Thursday 11 Feb.
    assert CAL.add(at(2027, 2, 3, 16), 4 * H) == at(2027, 2, 11, 10, 30)


def test_hung_kings_day_2027_is_not_worked():
    assert not CAL.is_working_day(date(2027, 4, 16))  # 10/3 âm lịch, a Friday
    assert CAL.add(at(2027, 4, 15, 16), 4 * H) == at(2027, 4, 19, 10, 30)


def test_a_day_off_added_by_the_province_moves_the_due_time():
    cal = BusinessCalendar(extra_days_off=frozenset({date(2026, 11, 30)}))
    assert cal.add(at(2026, 11, 27, 16), 4 * H) == at(2026, 12, 1, 10, 30)


def test_a_saturday_the_province_works_counts():
    cal = BusinessCalendar(extra_working_days=frozenset({date(2026, 11, 28)}))
    assert cal.add(at(2026, 11, 27, 16), 4 * H) == at(2026, 11, 28, 10, 30)
    assert cal.between(at(2026, 11, 28, 11), at(2026, 11, 28, 14)) == H  # with its lunch break


def test_a_worked_saturday_has_the_configured_hours_not_the_built_in_ones():
    cal = BusinessCalendar(hours="mon-fri 08:00-12:00,13:00-17:00",
                           extra_working_days=frozenset({date(2026, 11, 28)}))
    assert cal.add(at(2026, 11, 28, 0), H) == at(2026, 11, 28, 9)


def test_the_app_calendars_take_the_provinces_days_from_the_settings(app):
    app.config.update(HOTLINE_DAYS_OFF=frozenset({date(2026, 11, 30)}),
                      HOTLINE_WORKING_DAYS=frozenset({date(2027, 2, 20)}))
    with app.app_context():
        calendars = sla_calendars()
    assert calendars.business.add(at(2026, 11, 27, 16), 4 * H) == at(2026, 12, 1, 10, 30)
    assert calendars.business.is_working_day(date(2027, 2, 20))  # a Saturday
    assert calendars.always.add(at(2026, 11, 27, 16), 4 * H) == at(2026, 11, 27, 20)  # 24/7


# ---- clocks on the calendar, paused and resumed ------------------------------------------

def _clock(session, ticket_id: int, name: str) -> sla.SlaClock:
    return session.scalars(select(sla.SlaClock).where(sla.SlaClock.ticket_id == ticket_id, sla.SlaClock.clock == name)
                           .order_by(sla.SlaClock.id.desc()).limit(1)).one()


def test_a_paused_clock_resumes_with_the_working_time_it_had_left(session, policies):
    calendars = sla.Calendars(business=BusinessCalendar(), always=BusinessCalendar(always_open=True))
    wed_10 = NOW  # Wednesday 25 Nov 2026, 10:00 local
    ticket = make_ticket(session, now=wed_10)
    sla.apply(session, [TicketOpened(ticket.id, "created")], wed_10, calendars, 60)
    events = assign_ticket(session, SYSTEM, ticket.id, wed_10, contact_point="SO_TNMT")
    sla.apply(session, events, wed_10, calendars, 60)
    session.commit()
    first = _clock(session, ticket.id, "first_response")
    assert first.due_at == at(2026, 11, 25, 16)  # 4 working hours

    # Asked at 11:00 (3 working hours left), answered the next Monday at 09:00.
    sla.apply(session, [TicketChanged(ticket.id, "ask_caller")], at(2026, 11, 25, 11), calendars, 60)
    assert (first.due_at, first.warn_at, first.remaining_seconds) == (None, None, 3 * 3600)
    assert (ticket.first_response_due, ticket.resolution_due) == (None, None)
    sla.apply(session, [TicketChanged(ticket.id, "caller_replied")], at(2026, 11, 30, 9), calendars, 60)
    assert first.due_at == at(2026, 11, 30, 14)  # 09:00-11:30, lunch, then 30 min
    assert first.warn_at == at(2026, 11, 30, 11)  # with a quarter of the 4 h target (1 h) left
    assert ticket.first_response_due == first.due_at

    # Stopped at 10:00: one working hour before the pause and one after.
    sla.stop_clocks(session, ticket, ("first_response",), at(2026, 11, 30, 10), calendars)
    assert (first.elapsed_seconds, first.met) == (2 * 3600, True)


def test_a_resumed_clock_warns_at_its_policys_share(session, policies):
    calendars = sla.Calendars(business=BusinessCalendar(), always=BusinessCalendar(always_open=True))
    t0 = NOW
    ticket = make_ticket(session, now=t0, priority="emergency")  # first response 30 min 24/7, warn at 50 %
    events = assign_ticket(session, SYSTEM, ticket.id, t0, contact_point="SO_TNMT")
    sla.apply(session, events, t0, calendars, 60)
    first = _clock(session, ticket.id, "first_response")
    assert first.warn_at == t0 + timedelta(minutes=15)
    sla.apply(session, [TicketChanged(ticket.id, "ask_caller")], t0 + timedelta(minutes=5), calendars, 60)
    sla.apply(session, [TicketChanged(ticket.id, "resume")], t0 + timedelta(minutes=65), calendars, 60)
    assert first.due_at == t0 + timedelta(minutes=90)
    assert first.warn_at == t0 + timedelta(minutes=75)  # 15 min used at 65 + 10


def test_a_clock_paused_after_its_due_time_stays_late(session, policies):
    calendars = sla.Calendars(business=BusinessCalendar(), always=BusinessCalendar(always_open=True))
    ticket = make_ticket(session, now=NOW)
    sla.apply(session, assign_ticket(session, SYSTEM, ticket.id, NOW, contact_point="SO_TNMT"), NOW,
              calendars, 60)
    first = _clock(session, ticket.id, "first_response")  # due 16:00
    sla.apply(session, [TicketChanged(ticket.id, "ask_caller")], at(2026, 11, 25, 16, 30), calendars, 60)
    sla.stop_clocks(session, ticket, ("first_response",), at(2026, 11, 26, 9), calendars)
    assert first.met is False
    assert first.elapsed_seconds == 4.5 * 3600
