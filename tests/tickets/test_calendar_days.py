"""The province's calendar days: a day off or a make-up working day per date, refused when it
would change nothing (a "working" Tuesday, an "off" Sunday or Tết), audited with before and
after, and moving the configuration version every cache follows. Real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.factories import NOW, make_user
from tests.tickets import test_admin_services
from tests.tickets.test_admin_services import audit_rows
from tickets import calendar_days
from tickets.audit import bump_config_version, config_version
from tickets.calendar import BusinessCalendar
from tickets.calendar_days import CalendarDay
from tickets.db import utcnow
from tickets.errors import Forbidden, NotFound, ValidationFailed

OFFICIAL = BusinessCalendar()  # Mon–Fri and Vietnam's public holidays, no province day
SAT = date(2027, 2, 20)  # a Saturday, the kind of day worked to bridge a holiday
MON = date(2027, 3, 1)  # a normal Monday
TET = date(2027, 2, 8)  # mùng 3 Tết, a public holiday on a Monday
SUN = date(2027, 2, 21)


def empty_calendar_days(engine: Engine) -> Iterator[None]:
    """Run the test, then remove every province day (and tell the caches): the table is shared
    by the tests of a worker, and a stray day off would move other tests' due times."""
    yield
    with Session(engine) as session:
        session.execute(delete(CalendarDay))
        bump_config_version(session, utcnow())
        session.commit()


@pytest.fixture(autouse=True)
def _calendar_days_emptied(engine) -> Iterator[None]:
    yield from empty_calendar_days(engine)


root = test_admin_services.root  # an administrator (fixture)


def refused(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.fields


def create(session, actor, day, kind, note="Làm bù"):
    return calendar_days.create_day(session, actor, NOW, {"day": day, "kind": kind, "note": note}, OFFICIAL)


# ---- what may be declared ----------------------------------------------------------------------

def test_a_saturday_is_declared_worked_and_a_monday_off_and_listed_by_year(session, root):
    create(session, root, SAT.isoformat(), "working", "Làm bù cho ngày nghỉ Tết")
    create(session, root, MON, "off", " Kỷ niệm ngày thành lập tỉnh ")
    create(session, root, date(2026, 12, 31), "off", "Nghỉ cuối năm")
    session.commit()

    listed = [calendar_days.day_record(r) for r in calendar_days.list_days(session, root, 2027)]

    assert listed == [{"day": "2027-02-20", "kind": "working", "note": "Làm bù cho ngày nghỉ Tết"},
                      {"day": "2027-03-01", "kind": "off", "note": "Kỷ niệm ngày thành lập tỉnh"}]
    assert calendar_days.province_days(session) == (frozenset({MON, date(2026, 12, 31)}), frozenset({SAT}))


def test_a_public_holiday_may_be_declared_worked(session, root):
    create(session, root, TET, "working", "Trực Tết")
    session.commit()
    assert calendar_days.province_days(session)[1] == frozenset({TET})


@pytest.mark.parametrize(("day", "kind", "message"), [
    (MON, "working", calendar_days.WORKING_ALREADY),  # already worked: the row would change nothing
    (SUN, "off", calendar_days.OFF_ALREADY),  # already off
    (TET, "off", calendar_days.OFF_ALREADY),  # a public holiday is already off
])
def test_a_day_that_would_change_nothing_is_refused_on_its_date(session, root, day, kind, message):
    assert refused(lambda: create(session, root, day, kind)) == {"day": message}
    session.rollback()
    assert session.scalar(select(CalendarDay)) is None and audit_rows(session) == []


def test_every_bad_field_is_named_at_once(session, root):
    fields = refused(lambda: create(session, root, "30/02/2027", "holiday", "  "))
    assert fields == {"day": calendar_days.NOT_A_DATE, "kind": calendar_days.BAD_KIND, "note": calendar_days.REQUIRED}
    assert refused(lambda: create(session, root, "2207-02-20", "working"))["day"] == calendar_days.OUT_OF_RANGE
    assert refused(lambda: create(session, root, SAT, "working", "x" * 201)) == {"note": calendar_days.TOO_LONG}


def test_a_day_cannot_be_both_off_and_worked(session, root):
    create(session, root, SAT, "working")
    session.commit()
    assert refused(lambda: create(session, root, SAT, "off")) == {"day": calendar_days.TAKEN}


def test_two_administrators_adding_the_same_day_at_once_get_one_row_and_a_field_error(session, root, engine,
                                                                                       monkeypatch):
    checked = calendar_days._check

    def the_other_admin_wins_meanwhile(*args):
        values = checked(*args)  # this admin's check saw no row for the day…
        with Session(engine) as other:  # …and another admin's save lands before the insert
            other.add(CalendarDay(day=SAT, kind="working", note="Làm bù (người khác)"))
            other.commit()
        return values

    monkeypatch.setattr(calendar_days, "_check", the_other_admin_wins_meanwhile)

    assert refused(lambda: create(session, root, SAT, "working")) == {"day": calendar_days.TAKEN}
    session.rollback()
    assert [(d.day, d.note) for d in session.scalars(select(CalendarDay))] == [(SAT, "Làm bù (người khác)")]
    assert audit_rows(session) == []


# ---- changing and removing ---------------------------------------------------------------------

def test_a_day_is_moved_to_another_date_and_its_note_changed(session, root):
    create(session, root, SAT, "working")
    session.commit()

    row, events = calendar_days.update_day(session, root, NOW, "2027-02-20",
                                           {"day": "2027-02-27", "note": "Làm bù (dời)"}, OFFICIAL)
    session.commit()

    assert calendar_days.day_record(row) == {"day": "2027-02-27", "kind": "working", "note": "Làm bù (dời)"}
    assert calendar_days.province_days(session) == (frozenset(), frozenset({date(2027, 2, 27)}))
    last = audit_rows(session)[-1]
    assert (last.entity, last.entity_key, last.action) == ("calendar_day", "2027-02-27", "update")
    assert (last.before["day"], last.after["day"]) == ("2027-02-20", "2027-02-27")
    assert [e.action for e in events] == ["update"]


def test_changing_the_kind_is_checked_against_the_date(session, root):
    create(session, root, SAT, "working")
    session.commit()
    assert refused(lambda: calendar_days.update_day(session, root, NOW, SAT, {"kind": "off"}, OFFICIAL)) == {
        "day": calendar_days.OFF_ALREADY}
    assert refused(lambda: calendar_days.update_day(session, root, NOW, SAT, {"active": False}, OFFICIAL)) == {
        "active": "cannot be changed"}


def test_a_save_that_changes_nothing_writes_nothing(session, root):
    create(session, root, SAT, "working", "Làm bù")
    session.commit()
    version = config_version(session)

    _, events = calendar_days.update_day(session, root, NOW, SAT, {"note": "Làm bù "}, OFFICIAL)
    session.commit()

    assert events == [] and config_version(session) == version and len(audit_rows(session)) == 1


def test_a_removed_day_is_gone_and_the_log_keeps_what_it_was(session, root):
    create(session, root, MON, "off", "Kỷ niệm ngày thành lập tỉnh")
    session.commit()

    calendar_days.delete_day(session, root, NOW, "2027-03-01")
    session.commit()

    assert calendar_days.province_days(session) == (frozenset(), frozenset())
    last = audit_rows(session)[-1]
    assert (last.action, last.before, last.after) == (
        "delete", {"day": "2027-03-01", "kind": "off", "note": "Kỷ niệm ngày thành lập tỉnh"}, None)
    with pytest.raises(NotFound):
        calendar_days.delete_day(session, root, NOW, "2027-03-01")
    with pytest.raises(NotFound):
        calendar_days.update_day(session, root, NOW, "not-a-date", {"note": "x"}, OFFICIAL)


# ---- audited, versioned, administrators only ----------------------------------------------------

def test_each_change_is_audited_and_moves_the_configuration_version_in_its_transaction(session, root):
    before = config_version(session)

    row, events = create(session, root, SAT, "working", "Làm bù")

    assert config_version(session) == before + 1  # not yet committed: same transaction
    session.rollback()
    assert config_version(session) == before and audit_rows(session) == []

    create(session, root, SAT, "working", "Làm bù")
    session.commit()
    [entry] = audit_rows(session)
    assert (entry.entity, entry.entity_key, entry.action, entry.actor_id, entry.actor_label) == (
        "calendar_day", "2027-02-20", "create", root.id, "Quản trị viên")
    assert entry.after == {"day": "2027-02-20", "kind": "working", "note": "Làm bù"} and entry.before is None
    assert config_version(session) == before + 1


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital", "supervisor"])
def test_only_an_administrator_may_change_the_calendar(session, role):
    someone = make_user(session, role)
    with pytest.raises(Forbidden):
        create(session, someone, SAT, "working")
    with pytest.raises(Forbidden):
        calendar_days.list_days(session, someone, 2027)
    session.rollback()
    assert session.scalar(select(CalendarDay)) is None


def test_the_official_holidays_are_named_in_the_consoles_language():
    vi = dict(calendar_days.official_holidays(2027, "vi"))
    en = dict(calendar_days.official_holidays(2027, "en"))
    assert vi[date(2027, 2, 6)] == "Tết Nguyên Đán" and en[date(2027, 2, 6)] == "Lunar New Year"
    assert date(2027, 4, 16) in vi  # Hùng Kings' day
