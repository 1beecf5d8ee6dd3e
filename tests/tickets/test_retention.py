"""Personal-data retention (tickets/retention.py): a ticket finished and unchanged for the
retention period loses every trace of its caller — ticket, calls, SMS both ways, history,
Open311 submission — and every report still gives the same figures; nothing else is touched."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.factories import NOW, SYSTEM, counting_statements, make_ticket, make_user
from tests.sla import dataset
from tickets import reports, retention, sla_rollup
from tickets.calendar import BusinessCalendar
from tickets.calls import Call, attach_recording, open_call, record_queue_result, update_call_status
from tickets.directory import Ward
from tickets.hospital_alerts import HospitalAlert
from tickets.messages import InboundMessage, OutboundMessage, queue_message
from tickets.models import Ticket, TicketEvent
from tickets.open311 import Open311Submission, fingerprint, submit_request
from tickets.permissions import SystemActor
from tickets.retention import MARKER, anonymise_finished, count_finished, months_before
from tickets.services import (
    NewTicket,
    accept_ticket,
    ask_caller,
    assign_ticket,
    cancel_ticket,
    close_ticket,
    comment_ticket,
    link_duplicate,
    resolve_ticket,
    update_ticket,
)
from tickets.sla import Calendars
from tickets.sms_intake import receive_sms

TWO_YEARS = months_before(NOW, 24)
OLD = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)  # long before NOW - 24 months (25 Nov 2024)
HOTLINE = "+842741022"

# Everything that identifies or locates the two callers and the Open311 user, as entered.
CALLER, CALLER_LOCAL = "+84912345678", "912345678"
NAME, ADDRESS = "Nguyễn Văn An", "Số 12 hẻm 34 đường Yersin"
DESCRIPTION = "Đèn đường trước nhà ông An không sáng"
FOLLOWER, FOLLOWER_NAME = "0987654321", "Trần Thị Bình"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0001"
APP_USER = {"device_id": "device-xyz-42", "account_id": "citizen-77", "email": "an@example.vn",
            "media_url": "https://img.example.vn/den-hong.jpg"}
PERSONAL = [CALLER_LOCAL, "987654321", NAME, "Văn An", "ông An", ADDRESS, "hẻm 34", "Yersin", DESCRIPTION,
            FOLLOWER_NAME, RECORDING, "RE0001", "Đã thay bóng", "10.98", "106.65", *APP_USER.values()]


def at(minutes: int) -> datetime:
    return OLD + timedelta(minutes=minutes)


def _ward(session) -> str:
    return session.scalar(select(Ward.code).order_by(Ward.code).limit(1))


def old_phone_ticket(session) -> Ticket:
    """A 1022 call from March 2024, taken to the end: a voicemail-recorded call answered after
    12 s, SMS both ways, an internal note, a question to the caller and their SMS reply, a
    second caller linked as a follower, the answer, closed."""
    staff = make_user(session, "staff")
    call, _ = open_call(session, sid="CA0001", line="1022", from_raw=CALLER, to=HOTLINE, now=at(0))
    record_queue_result(session, call, "bridged", 12, at(0) + timedelta(seconds=12))
    attach_recording(session, call, recording_sid="RE0001", url=RECORDING, duration=170, now=at(3))
    update_call_status(session, call, "completed", at(3), duration=180)
    ticket = call.ticket
    update_ticket(session, SYSTEM, ticket.id, at(1), changes={
        "caller_name": NAME, "address": ADDRESS, "description": DESCRIPTION, "ward_code": _ward(session),
        "lat": 10.98, "lon": 106.65, "category": "do_thi"})
    queue_message(session, to=CALLER, body=f"Mã phiếu {ticket.code}", kind="tracking", now=at(1), ticket_id=ticket.id)
    assign_ticket(session, SYSTEM, ticket.id, at(2), contact_point="SO_TNMT", reason=f"Gần nhà ông An, {ADDRESS}")
    follower = make_ticket(session, now=at(4), caller_phone=FOLLOWER, caller_name=FOLLOWER_NAME,
                           description="Đèn hẻm 34 tắt")
    link_duplicate(session, SYSTEM, follower.id, at(5), duplicate_of=ticket.id)
    accept_ticket(session, staff, ticket.id, at(6))
    comment_ticket(session, staff, ticket.id, at(7), body=f"Đã gọi ông An ({CALLER})")
    ask_caller(session, staff, ticket.id, at(8), question="Ông An cho biết số nhà?")
    receive_sms(session, sid="SM0001", from_raw=CALLER, to=HOTLINE, body=f"{ticket.code} nhà tôi {ADDRESS}", now=at(9))
    resolve_ticket(session, staff, ticket.id, at(10), resolution="Đã thay bóng đèn trước nhà ông An")
    close_ticket(session, SYSTEM, ticket.id, at(11))
    session.commit()
    return ticket


def old_open311_ticket(session) -> Ticket:
    """A request from a citizens' app in March 2024 (with what the app sent beyond the ticket's
    fields), cancelled."""
    client = SystemActor("Open311: app-dan-cu")
    new = NewTicket(line="1022", channel="app", description=DESCRIPTION, caller_phone=CALLER, caller_name=NAME,
                    address=ADDRESS, lat=10.98, lon=106.65)
    submitted = submit_request(session, client, new, at(20), print_=fingerprint(1, [("phone", CALLER)]),
                               received={"client": "app-dan-cu", **APP_USER})
    cancel_ticket(session, SYSTEM, submitted.ticket.id, at(21), reason=f"Ông An gọi lại báo đã sửa ({CALLER})")
    session.commit()
    return submitted.ticket


def rows_of(session, model, ticket_id: int) -> list[dict]:
    """Every column of every row of ``model`` belonging to the ticket, as read from the database."""
    session.expire_all()
    table = model.__table__
    column = table.c.id if model is Ticket else table.c.ticket_id
    rows = session.execute(select(table).where(column == ticket_id).order_by(table.c.id))
    return [dict(row._mapping) for row in rows]


def everything_about(session, ticket_id: int) -> str:
    """All rows of the ticket, its history, calls, SMS and desk alerts, as one text."""
    rows = [rows_of(session, model, ticket_id)
            for model in (Ticket, TicketEvent, Call, OutboundMessage, InboundMessage, HospitalAlert)]
    return json.dumps(rows, default=str, ensure_ascii=False)


def anonymise(session, now: datetime = NOW, older_than: timedelta = TWO_YEARS, **kwargs) -> retention.RetentionResult:
    result = anonymise_finished(session, now, older_than, **kwargs)
    session.expire_all()
    return result


# ---- what goes, what stays ---------------------------------------------------------------------

def test_an_old_closed_ticket_keeps_no_trace_of_its_callers(session):
    ticket = old_phone_ticket(session)
    before = everything_about(session, ticket.id)
    assert all(p in before for p in (CALLER_LOCAL, NAME, ADDRESS, DESCRIPTION, FOLLOWER_NAME, RECORDING))

    result = anonymise(session)

    after = everything_about(session, ticket.id)
    assert [p for p in PERSONAL if p in after] == ["RE0001"]  # the sid: see the next test
    # The follower's ticket too; the SMS: tracking, the caller's follow-up and its receipt.
    assert (result.tickets, result.calls, result.messages) == (2, 1, 3)


def test_the_ticket_row_keeps_what_reports_read_and_loses_the_rest(session):
    ticket = old_phone_ticket(session)
    [before] = rows_of(session, Ticket, ticket.id)
    anonymise(session)
    [row] = rows_of(session, Ticket, ticket.id)

    erased = {"caller_phone": None, "caller_name": None, "address": None, "lat": None, "lon": None,
              "description": MARKER, "resolution": MARKER, "anonymised_at": NOW, "updated_at": NOW,
              "version": before["version"] + 1}
    assert row == {**before, **erased, "routing": row["routing"]}
    assert row["ward_code"] == before["ward_code"] is not None
    assert (row["status"], row["category_code"], row["contact_point_id"]) == ("closed", "do_thi",
                                                                             before["contact_point_id"])


def test_calls_keep_their_times_and_lose_the_number_and_the_recording_link(session):
    ticket = old_phone_ticket(session)
    [before] = rows_of(session, Call, ticket.id)
    anonymise(session)
    [row] = rows_of(session, Call, ticket.id)
    # The RecordingSid stays until Twilio has deleted the recording (app/tasks/retention.py).
    assert row == {**before, "from_number": "", "recording_url": None}
    assert (row["queue_time"], row["duration"], row["status"], row["recording_sid"]) == (12, 180, "completed", "RE0001")


def test_sms_both_ways_keep_kind_status_and_times_and_lose_number_and_text(session):
    ticket = old_phone_ticket(session)
    before = rows_of(session, OutboundMessage, ticket.id) + rows_of(session, InboundMessage, ticket.id)
    anonymise(session)
    after = rows_of(session, OutboundMessage, ticket.id) + rows_of(session, InboundMessage, ticket.id)
    assert [m["kind"] for m in after] == ["tracking", "reply", "follow_up"]
    assert after == [{**m, "body": "", **({"to_number": ""} if "status" in m else {"from_number": ""})}
                     for m in before]
    assert after[2]["to_number"] == HOTLINE  # the hotline's own number is no one's personal data


def test_history_keeps_who_did_what_when_and_loses_numbers_names_and_free_text(session):
    ticket = old_phone_ticket(session)
    before = rows_of(session, TicketEvent, ticket.id)
    anonymise(session)
    after = rows_of(session, TicketEvent, ticket.id)

    assert [(e["id"], e["action"], e["actor_id"], e["actor_label"], e["at"]) for e in after[:-1]] == \
        [(e["id"], e["action"], e["actor_id"], e["actor_label"], e["at"]) for e in before]
    data = {e["action"]: e["data"] for e in after}
    assert data["call_received"] == {"call_sid": "CA0001"}
    assert data["voicemail"] == {"call_sid": "CA0001", "duration": 170}
    assert data["update"]["changes"]["address"] == {"from": None, "to": None}
    assert data["update"]["changes"]["category"] == {"from": None, "to": "do_thi"}
    assert data["assign"]["reason"] == MARKER and data["assign"]["contact_point"] == "SO_TNMT"
    assert set(data["follower_added"]) == {"ticket_id", "ticket_code", "description"}
    assert data["follower_added"]["description"] == MARKER
    assert data["ask_caller"] == {"body": MARKER, "internal": False}
    assert data["resolve"] == {"from": "in_progress", "to": "resolved", "resolution": MARKER}
    assert data["close"] == {"from": "resolved", "to": "closed"}
    comments = [e["data"] for e in after if e["action"] == "comment"]
    assert comments == [{"body": MARKER, "internal": True}, {"body": MARKER, "internal": False, "from_caller": True}]
    last = after[-1]
    assert (last["action"], last["actor_id"], last["at"], last["data"]) == (
        "anonymised", None, NOW, {"older_than_days": TWO_YEARS.days})


def test_an_open311_request_loses_what_the_app_sent_and_its_submission_fingerprint(session):
    ticket = old_open311_ticket(session)
    assert session.scalar(select(func.count()).select_from(Open311Submission)) == 1
    anonymise(session)
    received = next(e for e in rows_of(session, TicketEvent, ticket.id) if e["action"] == "open311_received")
    assert received["data"] == {"client": "app-dan-cu"}
    assert session.scalar(select(func.count()).select_from(Open311Submission)) == 0
    assert not [p for p in PERSONAL if p in everything_about(session, ticket.id)]


def test_the_routing_proposal_keeps_its_destination_and_ward_not_its_reasons_or_point(session):
    ticket = make_ticket(session, now=OLD)
    ticket.routing = {"contact_point": "SO_TNMT", "confidence": 0.9, "category": "do_thi",
                      "reasons": [{"kind": "keyword", "vi": f"Từ khóa: {DESCRIPTION}"}],
                      "alternatives": [{"contact_point": "SO_XAYDUNG", "confidence": 0.1, "reason": {"vi": ADDRESS}}],
                      "location": {"ward_code": "W1", "district_code": "D1", "how": "point", "confidence": 1.0,
                                   "lat": 10.98, "lon": 106.65, "places": ["hẻm 34"], "reason": {"vi": ADDRESS}}}
    cancel_ticket(session, SYSTEM, ticket.id, OLD, reason="thử")
    session.commit()
    anonymise(session)
    assert session.get(Ticket, ticket.id).routing == {
        "contact_point": "SO_TNMT", "confidence": 0.9, "category": "do_thi",
        "alternatives": [{"contact_point": "SO_XAYDUNG", "confidence": 0.1}],
        "location": {"ward_code": "W1", "district_code": "D1", "how": "point", "confidence": 1.0}}


# ---- which tickets -----------------------------------------------------------------------------

def test_open_and_recently_finished_tickets_are_left_alone(session):
    open_old = make_ticket(session, now=OLD, caller_name=NAME)
    recent = make_ticket(session, now=NOW - timedelta(days=300), caller_name=NAME)
    cancel_ticket(session, SYSTEM, recent.id, NOW - timedelta(days=300), reason="trùng")
    session.commit()
    before = [everything_about(session, t.id) for t in (open_old, recent)]

    assert anonymise(session).tickets == 0
    assert [everything_about(session, t.id) for t in (open_old, recent)] == before


def resolved_ticket(session) -> Ticket:
    ticket = make_ticket(session, now=OLD)
    assign_ticket(session, SYSTEM, ticket.id, at(1), contact_point="SO_TNMT")
    accept_ticket(session, SYSTEM, ticket.id, at(2))
    resolve_ticket(session, SYSTEM, ticket.id, at(3), resolution="Đã xử lý")
    session.commit()
    return ticket


def closed_ticket(session) -> Ticket:
    ticket = resolved_ticket(session)
    close_ticket(session, SYSTEM, ticket.id, at(4))
    session.commit()
    return ticket


def test_a_resolved_ticket_nobody_closed_is_finished_once_the_period_has_passed(session):
    ticket = resolved_ticket(session)
    assert anonymise(session).tickets == 1
    assert session.get(Ticket, ticket.id).caller_phone is None


def test_a_comment_within_the_period_is_a_change(session):
    ticket = closed_ticket(session)
    comment_ticket(session, SYSTEM, ticket.id, NOW - timedelta(days=10), body="Đối chiếu lại")
    session.commit()
    assert anonymise(session).tickets == 0


def test_a_follower_of_a_ticket_still_open_is_kept_until_that_ticket_is_finished_too(session):
    original = make_ticket(session, now=OLD)
    follower = make_ticket(session, now=OLD, caller_phone=FOLLOWER, caller_name=FOLLOWER_NAME)
    link_duplicate(session, SYSTEM, follower.id, at(1), duplicate_of=original.id)
    session.commit()
    assert anonymise(session).tickets == 0  # the follower is cancelled and old, but the original still texts them

    cancel_ticket(session, SYSTEM, original.id, at(2), reason="đã xử lý ngoài hệ thống")
    session.commit()
    assert anonymise(session).tickets == 2
    assert session.get(Ticket, follower.id).caller_phone is None


def test_115_cases_follow_the_same_rule(session):
    case = make_ticket(session, now=OLD, line="115", caller_name=NAME, address=ADDRESS)
    open_case = make_ticket(session, now=OLD, line="115", caller_name=NAME)
    cancel_ticket(session, SYSTEM, case.id, at(1), reason="gọi nhầm")
    session.commit()
    assert anonymise(session).tickets == 1
    assert (session.get(Ticket, case.id).address, session.get(Ticket, open_case.id).caller_name) == (None, NAME)


def test_the_dry_run_count_is_what_a_run_then_does(session):
    old_phone_ticket(session)
    old_open311_ticket(session)
    counted = count_finished(session, NOW, TWO_YEARS)
    assert counted == anonymise(session)
    assert (counted.tickets, counted.calls, counted.messages) == (3, 1, 3)


def test_months_are_calendar_months():
    assert NOW - months_before(NOW, 24) == datetime(2024, 11, 25, 3, 0, tzinfo=UTC)
    assert datetime(2026, 3, 31, tzinfo=UTC) - months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == \
        datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(NOW, 0) == timedelta(0)


# ---- running it again, or half-way -------------------------------------------------------------

def test_a_second_run_changes_nothing(session, engine):
    old_phone_ticket(session)
    assert anonymise(session).tickets == 2
    with counting_statements(engine) as statements:
        again = anonymise(session, NOW + timedelta(days=1))
    assert (again.tickets, again.calls, again.messages) == (0, 0, 0)
    assert [s for s in statements if s.lstrip().split()[0].upper() in ("UPDATE", "INSERT", "DELETE")] == []


def test_a_batch_that_fails_leaves_its_tickets_untouched_and_the_next_run_finishes_them(session, engine):
    first = make_ticket(session, now=OLD, caller_name=NAME)
    second = make_ticket(session, now=OLD, caller_name=NAME)
    for ticket in (first, second):
        cancel_ticket(session, SYSTEM, ticket.id, at(1), reason="trùng")
    session.commit()
    untouched = everything_about(session, second.id)
    batches = []

    def crash_in_the_second_batch(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE CALLS"):
            batches.append(statement)
            if len(batches) == 2:
                raise RuntimeError("the worker died")

    event.listen(engine, "before_cursor_execute", crash_in_the_second_batch)
    try:
        with pytest.raises(RuntimeError):
            anonymise_finished(session, NOW, TWO_YEARS, batch=1)
    finally:
        event.remove(engine, "before_cursor_execute", crash_in_the_second_batch)
    session.rollback()
    session.expire_all()
    assert session.get(Ticket, first.id).anonymised_at == NOW
    assert everything_about(session, second.id) == untouched

    assert anonymise(session).tickets == 1
    assert session.get(Ticket, second.id).caller_name is None


# ---- the statistics ----------------------------------------------------------------------------

PERIODS = [reports.Period(date(2026, 10, 1), date(2026, 11, 30), dataset.ZONE),
           reports.Period(date(2026, 11, 1), date(2026, 11, 10), dataset.ZONE)]
CALENDARS = Calendars(business=BusinessCalendar(), always=BusinessCalendar(always_open=True))


def _figures(session, rollups: bool) -> list:
    """Every summary of the periods, per line, and the breaches list."""
    figures = []
    for period in PERIODS:
        for line in (None, "1022", "115"):
            s = reports.summary(session, SYSTEM, period, dataset.NOW, line, rollups=rollups)
            figures.append((s.contact_points, s.hospitals, s.total, s.calls))
        found, total = reports.breaches(session, SYSTEM, period, dataset.NOW, CALENDARS, per_page=100)
        figures.append((total, [(b.clock.id, b.ticket.id, b.late_seconds) for b in found]))
    session.rollback()
    return figures


def test_every_report_gives_the_same_figures_after_anonymisation(session):
    """The fixed SLA data set (tests/sla/dataset.py), anonymised from 26 Nov 2026 back: the
    live summary, and the summary from a rollup rebuilt afterwards, equal what they were."""
    dataset.build(session)
    before = _figures(session, rollups=False)
    assert sla_rollup.refresh(session, dataset.NOW, dataset.ZONE) > 0
    assert _figures(session, rollups=True) == before

    result = anonymise(session, dataset.NOW, timedelta(days=5))
    assert (result.tickets, result.calls) == (7, 5)
    anonymised = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.anonymised_at.is_not(None)))
    assert 0 < anonymised < session.scalar(select(func.count()).select_from(Ticket))  # some tickets, not all

    assert _figures(session, rollups=False) == before
    assert sla_rollup.refresh(session, dataset.NOW, dataset.ZONE, rebuild=True) > 0
    assert _figures(session, rollups=True) == before
