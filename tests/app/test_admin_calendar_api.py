"""The working calendar over the administration API: administrators only, 422 naming the fields
with nothing written on a refusal, and a declared day used by the very next 1022 clock — in
this app, in a second app instance on the same database, and after a change committed by
another session — without a restart. Real database; the province's days are emptied after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.app import test_admin_api
from tests.factories import bearer, make_user
from tests.sla.helpers import at, iso
from tests.tickets.test_calendar_days import OFFICIAL, empty_calendar_days
from tickets import calendar_days
from tickets.audit import AuditEntry, config_version
from tickets.calendar_days import CalendarDay
from tickets.db import make_engine

URL = "/api/admin/calendar-days"
WED_10 = at(2026, 11, 25, 10)  # a Wednesday mid-morning: 1022's 40-working-hour resolution clock
DUE_PLAIN = at(2026, 12, 2, 14, 30)  # Wed 5 h, Thu, Fri, Mon, Tue 7.5 h each, Wed 2 Dec 4 h + 1 h


@pytest.fixture(autouse=True)
def _calendar_days_emptied(engine) -> Iterator[None]:
    yield from empty_calendar_days(engine)


# The administration API's fixtures: an administrator, their bearer headers, an operator's.
root, as_admin, operator = test_admin_api.root, test_admin_api.as_admin, test_admin_api.operator


def writes(engine) -> tuple[int, int]:
    """(audit rows, calendar days): any write through this API changes one of them."""
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(AuditEntry)).scalar(),
                conn.execute(select(func.count()).select_from(CalendarDay)).scalar())


def resolution_due(client, headers) -> str:
    """A new 1022 ticket's resolution due time, opened now through the real API."""
    response = client.post("/api/tickets", headers=headers, json={"line": "1022", "channel": "phone",
                                                                  "description": "Rác thải"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["resolution_due"]


def declare(client, headers, day: str, kind: str, note: str = "Ngày của tỉnh"):
    return client.post(URL, headers=headers, json={"day": day, "kind": kind, "note": note})


# ---- who may call it -------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital", "supervisor"])
def test_every_other_role_is_refused_and_nothing_is_written(client, session, engine, root, role):
    calendar_days.create_day(session, root, at(2026, 11, 20), {"day": "2027-03-01", "kind": "off", "note": "x"},
                             OFFICIAL)
    session.commit()
    headers = bearer(client, make_user(session, role))
    before, version = writes(engine), config_version(session)

    answers = [client.get(URL + "?year=2027", headers=headers),
               declare(client, headers, "2027-02-20", "working"),
               client.patch(URL + "/2027-03-01", headers=headers, json={"note": "y"}),
               client.delete(URL + "/2027-03-01", headers=headers)]

    assert [a.status_code for a in answers] == [403] * 4
    session.rollback()
    assert writes(engine) == before and config_version(session) == version


def test_strangers_are_asked_to_sign_in(client):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"day": "2027-02-20", "kind": "working", "note": "x"}).status_code == 401


# ---- the year, and refusals --------------------------------------------------------------------

def test_a_year_lists_the_provinces_days_beside_the_public_holidays_and_the_settings(app, client, as_admin):
    app.config.update(HOTLINE_DAYS_OFF=frozenset({at(2027, 5, 4).date()}), HOTLINE_WORKING_DAYS=frozenset())
    assert declare(client, as_admin, "2027-02-20", "working", "Làm bù Tết").status_code == 201

    year = client.get(URL + "?year=2027", headers=as_admin).get_json()

    assert year["year"] == 2027
    assert year["items"] == [{"day": "2027-02-20", "kind": "working", "note": "Làm bù Tết"}]
    assert {"day": "2027-02-06", "name": "Tết Nguyên Đán"} in year["official"]  # Vietnamese by default
    assert year["settings"] == [{"day": "2027-05-04", "kind": "off"}]
    assert client.get(URL + "?year=2026", headers=as_admin).get_json()["items"] == []


def test_a_refusal_answers_422_naming_each_field_and_writes_nothing(client, as_admin, engine):
    before = writes(engine)

    contradictory = declare(client, as_admin, "2027-03-02", "working")  # a Tuesday is already worked
    bad = client.post(URL, headers=as_admin, json={"day": "2027-13-01", "kind": "off", "note": ""})
    wrong_type = client.post(URL, headers=as_admin, json={"day": "2027-03-02", "kind": "holiday", "note": "x"})

    assert contradictory.status_code == 422
    assert contradictory.get_json()["error"]["fields"] == {"day": calendar_days.WORKING_ALREADY}
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"day": calendar_days.NOT_A_DATE, "note": calendar_days.REQUIRED}
    assert wrong_type.status_code == 400 and "kind" in wrong_type.get_json()["error"]["fields"]
    assert writes(engine) == before


def test_a_day_is_changed_and_deleted(client, as_admin):
    declare(client, as_admin, "2027-03-01", "off")

    changed = client.patch(URL + "/2027-03-01", headers=as_admin, json={"day": "2027-03-02", "note": "Dời ngày"})
    assert changed.status_code == 200
    assert changed.get_json() == {"day": "2027-03-02", "kind": "off", "note": "Dời ngày"}
    assert client.delete(URL + "/2027-03-02", headers=as_admin).status_code == 204
    assert client.delete(URL + "/2027-03-02", headers=as_admin).status_code == 404


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[URL + "/{day}"]) == {"patch", "delete"}


# ---- used at once by the clocks ----------------------------------------------------------------

def test_a_day_off_moves_the_next_1022_resolution_due_time_past_it(client, as_admin, operator):
    with time_machine.travel(WED_10, tick=False):
        before = resolution_due(client, operator)
        assert declare(client, as_admin, "2026-11-30", "off").status_code == 201  # the Monday
        after = resolution_due(client, operator)

    assert (before, after) == (iso(DUE_PLAIN), iso(at(2026, 12, 3, 14, 30)))


def test_a_working_saturday_counts_as_working_time(client, as_admin, operator):
    with time_machine.travel(WED_10, tick=False):
        assert declare(client, as_admin, "2026-11-28", "working", "Làm bù").status_code == 201
        # Sat 28 Nov gives 7.5 h: the 40 hours end on Tuesday 1 Dec, 14:30.
        assert resolution_due(client, operator) == iso(at(2026, 12, 1, 14, 30))
        assert client.delete(URL + "/2026-11-28", headers=as_admin).status_code == 204
        assert resolution_due(client, operator) == iso(DUE_PLAIN)


def test_a_second_app_instance_on_the_same_database_sees_the_day_at_once(client, as_admin, database_url):
    from app import create_app
    from app.database import db

    first_engine = db.engine
    second = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "another-secret",
                         "WTF_CSRF_ENABLED": False})
    first_engine.dispose()  # the second app took over the shared handle, as test_admin_api's test does
    other = second.test_client()
    operator_there = bearer(other, make_user(second.extensions["database"].factory(), "operator"))
    with time_machine.travel(WED_10, tick=False):
        assert resolution_due(other, operator_there) == iso(DUE_PLAIN)  # its days are now cached

        assert declare(client, as_admin, "2026-11-30", "off").status_code == 201

        assert resolution_due(other, operator_there) == iso(at(2026, 12, 3, 14, 30))


def test_a_day_committed_by_another_session_is_used_without_a_restart(client, operator, root, database_url):
    with time_machine.travel(WED_10, tick=False):
        assert resolution_due(client, operator) == iso(DUE_PLAIN)  # cached in this process
        # Another process's view: a plain session, no Flask, nothing in this process is told.
        engine = make_engine(database_url)
        with Session(engine) as other:
            admin = other.get(type(root), root.id)
            calendar_days.create_day(other, admin, WED_10, {"day": "2026-11-30", "kind": "off", "note": "x"},
                                     OFFICIAL)
            other.commit()
        engine.dispose()

        assert resolution_due(client, operator) == iso(at(2026, 12, 3, 14, 30))


def test_the_1022_line_is_outside_working_hours_on_a_province_day_off(app, client, as_admin):
    from app.calendars import hotline_calendar

    app.config["HOTLINE_1022_HOURS"] = "mon-fri 07:30-17:00"
    with app.test_request_context():
        assert hotline_calendar().is_open(at(2026, 11, 30, 9))
    declare(client, as_admin, "2026-11-30", "off")
    with app.test_request_context():
        assert not hotline_calendar().is_open(at(2026, 11, 30, 9))
