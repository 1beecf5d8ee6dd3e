"""Ticket services on a real database: each verb changes the ticket, appends exactly one
history event, and a refused verb leaves nothing behind once the caller rolls back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, SYSTEM, make_ticket, make_user
from tickets.codes import ALPHABET
from tickets.errors import Forbidden, InvalidTransition, NotFound, StaleVersion, ValidationFailed
from tickets.events import TicketChanged, TicketOpened
from tickets.models import Ticket, TicketEvent
from tickets.services import (
    NewTicket,
    accept_ticket,
    assign_ticket,
    cancel_ticket,
    close_ticket,
    comment_ticket,
    get_ticket,
    open_ticket,
    reopen_ticket,
    resolve_ticket,
    ticket_events,
    transfer_ticket,
)

LATER = NOW + timedelta(minutes=30)

# How a test ticket reaches each status, step by step, all done by the system actor.
_ROAD = {
    "new": [],
    "assigned": ["assign"],
    "in_progress": ["assign", "accept"],
    "resolved": ["assign", "accept", "resolve"],
    "closed": ["assign", "accept", "resolve", "close"],
    "cancelled": ["cancel"],
}


def ticket_at(session, status: str, line: str = "1022", **fields) -> Ticket:
    """A committed ticket in ``status``: 1022 at SO_TNMT, 115 at BVDK_TINH once assigned."""
    ticket = make_ticket(session, line=line, **fields)
    destination = {"contact_point": "SO_TNMT"} if line == "1022" else {"hospital": "BVDK_TINH"}
    steps = {
        "assign": lambda at: assign_ticket(session, SYSTEM, ticket.id, at, **destination),
        "accept": lambda at: accept_ticket(session, SYSTEM, ticket.id, at),
        "resolve": lambda at: resolve_ticket(session, SYSTEM, ticket.id, at, resolution="done"),
        "close": lambda at: close_ticket(session, SYSTEM, ticket.id, at),
        "cancel": lambda at: cancel_ticket(session, SYSTEM, ticket.id, at, reason="duplicate"),
    }
    for minute, step in enumerate(_ROAD[status], start=1):
        steps[step](NOW + timedelta(minutes=minute))
    session.commit()
    assert ticket.status == status
    return ticket


def count_tickets(session) -> int:
    return session.scalar(select(func.count()).select_from(Ticket))


def count_events(session) -> int:
    return session.scalar(select(func.count()).select_from(TicketEvent))


def history(session, ticket) -> list[tuple[int, str]]:
    return [(e.id, e.action) for e in ticket_events(session, ticket)]


def reloaded(session, ticket) -> Ticket:
    """The ticket as the database has it now."""
    session.expire_all()
    return session.get(Ticket, ticket.id)


# --- opening a ticket --------------------------------------------------------------------


def test_a_115_ticket_defaults_to_emergency_priority(session):
    ticket = make_ticket(session, line="115")
    assert ticket.priority == "emergency"


def test_a_1022_ticket_defaults_to_normal_priority(session):
    ticket = make_ticket(session, line="1022")
    assert ticket.priority == "normal"


def test_a_priority_given_when_opening_is_kept(session):
    assert make_ticket(session, line="1022", priority="high").priority == "high"
    assert make_ticket(session, line="115", priority="low").priority == "low"


@pytest.mark.parametrize("raw", ["0912 345 678", "84912345678", "(+84) 912-345-678"])
def test_the_callers_phone_is_stored_in_e164(session, raw):
    ticket = make_ticket(session, caller_phone=raw)
    assert reloaded(session, ticket).caller_phone == "+84912345678"


def test_a_new_ticket_starts_new_at_version_one_with_its_opener_and_time(session):
    operator = make_user(session, "operator")
    ticket = make_ticket(session, actor=operator, category="do_thi", ward_code="25741")
    ticket = reloaded(session, ticket)
    assert ticket.status == "new"
    assert ticket.version == 1
    assert ticket.created_by_id == operator.id
    assert ticket.created_at == NOW
    assert ticket.category_code == "do_thi"
    assert ticket.ward_code == "25741"


def test_opening_appends_one_created_event_with_the_actor_and_what_was_opened(session):
    operator = make_user(session, "operator", display_name="Nguyễn Thị Lan")
    ticket = make_ticket(session, actor=operator, line="1022", channel="sms", category="do_thi")
    [event] = ticket_events(session, reloaded(session, ticket))
    assert event.action == "created"
    assert event.actor_id == operator.id
    assert event.actor_label == "Nguyễn Thị Lan"
    assert event.at == NOW
    assert event.data["line"] == "1022"
    assert event.data["channel"] == "sms"
    assert event.data["category"] == "do_thi"
    assert event.data["priority"] == "normal"


def test_opening_reports_a_ticket_opened_event_for_the_app_to_publish(session):
    ticket, published = open_ticket(session, SYSTEM, NewTicket(line="1022", channel="web"), NOW)
    [created] = ticket_events(session, ticket)
    assert published == [TicketOpened(ticket.id, "created", created.id)]


@pytest.mark.parametrize(("field", "overrides"), [
    ("category", {"category": "khong_co_linh_vuc_nay"}),
    ("ward_code", {"ward_code": "99999"}),
    ("caller_phone", {"caller_phone": "09123"}),
])
def test_opening_with_an_unknown_code_or_bad_phone_names_the_field_and_writes_nothing(
        session, field, overrides):
    make_ticket(session)  # an unrelated ticket already there
    tickets_before, events_before = count_tickets(session), count_events(session)
    data = NewTicket(line="1022", channel="phone", description="x", **overrides)
    with pytest.raises(ValidationFailed) as refused:
        open_ticket(session, SYSTEM, data, NOW)
    assert field in refused.value.fields
    assert (count_tickets(session), count_events(session)) == (tickets_before, events_before)
    session.rollback()
    assert (count_tickets(session), count_events(session)) == (tickets_before, events_before)


def test_a_tracking_code_is_eight_characters_from_the_alphabet(session):
    code = make_ticket(session).code
    assert len(code) == 8
    assert set(code) <= set(ALPHABET)


def test_tracking_codes_are_unique_over_many_tickets(session):
    for i in range(200):
        open_ticket(session, SYSTEM, NewTicket(line="1022", channel="web", description=str(i)),
                    NOW)
    session.commit()
    codes = session.scalars(select(Ticket.code)).all()
    assert len(codes) == 200
    assert len(set(codes)) == 200
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)


def test_get_ticket_of_an_id_that_does_not_exist_is_not_found(session):
    with pytest.raises(NotFound):
        get_ticket(session, SYSTEM, 424242)


# --- every verb: one event with who, what, from, to and its data ---------------------------

_VERBS = [
    # (status before, verb, its arguments, status after)
    ("new", assign_ticket, {"contact_point": "SO_TNMT", "reason": "theo lĩnh vực"}, "assigned"),
    ("assigned", accept_ticket, {}, "in_progress"),
    ("in_progress", transfer_ticket,
     {"contact_point": "SO_XAYDUNG", "reason": "không thuộc thẩm quyền"}, "assigned"),
    ("assigned", resolve_ticket, {"resolution": "Đã thay bóng đèn"}, "resolved"),
    ("in_progress", resolve_ticket, {"resolution": "Đã thay bóng đèn"}, "resolved"),
    ("resolved", close_ticket, {}, "closed"),
    ("resolved", reopen_ticket, {"reason": "người dân báo chưa sửa"}, "assigned"),
    ("closed", reopen_ticket, {"reason": "người dân báo chưa sửa"}, "assigned"),
    ("new", cancel_ticket, {"reason": "gọi nhầm"}, "cancelled"),
    ("assigned", cancel_ticket, {"reason": "trùng phiếu"}, "cancelled"),
]


@pytest.mark.parametrize(("before", "verb", "kwargs", "after"), _VERBS,
                         ids=[f"{v.__name__}-from-{b}" for b, v, _, _ in _VERBS])
def test_each_verb_moves_the_status_and_appends_exactly_one_event_saying_who_what_and_how(
        session, before, verb, kwargs, after):
    admin = make_user(session, "admin", display_name="Trần Văn Quản")
    ticket = ticket_at(session, before)
    events_before = history(session, ticket)
    version_before = ticket.version

    published = verb(session, admin, ticket.id, LATER, **kwargs)
    session.commit()

    ticket = reloaded(session, ticket)
    assert ticket.status == after
    assert ticket.version == version_before + 1
    assert ticket.updated_at == LATER
    events = ticket_events(session, ticket)
    assert [(e.id, e.action) for e in events[:-1]] == events_before
    event = events[-1]
    action = verb.__name__.removesuffix("_ticket")
    assert event.action == action
    assert event.actor_id == admin.id
    assert event.actor_label == "Trần Văn Quản"
    assert event.at == LATER
    assert event.data["from"] == before
    assert event.data["to"] == after
    for key, value in kwargs.items():
        assert event.data[key] == value
    assert published == [TicketChanged(ticket.id, action, event.id)]


def test_assign_records_the_destination_and_reason_and_no_previous_destination(session):
    operator = make_user(session, "operator")
    ticket = ticket_at(session, "new")
    assign_ticket(session, operator, ticket.id, LATER, contact_point="SO_TNMT",
                  reason="đất đai")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.contact_point.code == "SO_TNMT"
    assert ticket.assigned_at == LATER
    event = ticket_events(session, ticket)[-1]
    assert event.data["contact_point"] == "SO_TNMT"
    assert event.data["reason"] == "đất đai"
    assert not event.data.get("previous")


def test_reassigning_records_the_previous_destination_and_the_reason(session):
    operator = make_user(session, "operator")
    ticket = ticket_at(session, "assigned")  # at SO_TNMT
    assign_ticket(session, operator, ticket.id, LATER, contact_point="SO_XAYDUNG",
                  reason="đèn đường thuộc Sở Xây dựng")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "assigned"
    assert ticket.contact_point.code == "SO_XAYDUNG"
    event = ticket_events(session, ticket)[-1]
    assert event.action == "assign"
    assert event.data["contact_point"] == "SO_XAYDUNG"
    assert event.data["previous"] == {"contact_point": "SO_TNMT"}
    assert event.data["reason"] == "đèn đường thuộc Sở Xây dựng"


def test_reassigning_an_accepted_ticket_sends_it_back_to_assigned(session):
    ticket = ticket_at(session, "in_progress")
    assign_ticket(session, SYSTEM, ticket.id, LATER, contact_point="SO_XAYDUNG", reason="sai")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "assigned"
    assert ticket.accepted_at is None
    event = ticket_events(session, ticket)[-1]
    assert (event.data["from"], event.data["to"]) == ("in_progress", "assigned")


def test_a_115_ticket_is_dispatched_to_a_hospital_recording_the_previous_one(session):
    dispatcher = make_user(session, "dispatcher")
    ticket = ticket_at(session, "assigned", line="115")  # at BVDK_TINH
    assign_ticket(session, dispatcher, ticket.id, LATER, hospital="BV_QD4", reason="gần hơn")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.hospital.code == "BV_QD4"
    event = ticket_events(session, ticket)[-1]
    assert event.data["hospital"] == "BV_QD4"
    assert event.data["previous"] == {"hospital": "BVDK_TINH"}
    assert event.data["reason"] == "gần hơn"


def test_a_1022_ticket_is_assigned_to_a_contact_point_not_a_hospital(session):
    ticket = ticket_at(session, "new", line="1022")
    with pytest.raises(ValidationFailed) as refused:
        assign_ticket(session, SYSTEM, ticket.id, LATER, hospital="BVDK_TINH")
    assert "contact_point" in refused.value.fields


def test_a_115_ticket_is_assigned_to_a_hospital_not_a_contact_point(session):
    ticket = ticket_at(session, "new", line="115")
    with pytest.raises(ValidationFailed) as refused:
        assign_ticket(session, SYSTEM, ticket.id, LATER, contact_point="SO_TNMT")
    assert "hospital" in refused.value.fields


@pytest.mark.parametrize(("line", "destination", "field"), [
    ("1022", {"contact_point": "SO_KHONG_CO"}, "contact_point"),
    ("115", {"hospital": "BV_KHONG_CO"}, "hospital"),
])
def test_assigning_to_an_unknown_destination_names_the_field(session, line, destination, field):
    ticket = ticket_at(session, "new", line=line)
    with pytest.raises(ValidationFailed) as refused:
        assign_ticket(session, SYSTEM, ticket.id, LATER, **destination)
    assert field in refused.value.fields


def test_accept_stamps_when_the_department_took_the_ticket(session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = ticket_at(session, "assigned")
    accept_ticket(session, staff, ticket.id, LATER)
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "in_progress"
    assert ticket.accepted_at == LATER
    assert ticket_events(session, ticket)[-1].actor_label == staff.username


def test_a_comment_appends_one_event_and_leaves_status_and_version_unchanged(session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = ticket_at(session, "in_progress")
    status, version, updated_at = ticket.status, ticket.version, ticket.updated_at
    events_before = history(session, ticket)

    published = comment_ticket(session, staff, ticket.id, LATER, body="Đã cử người kiểm tra",
                               internal=False)
    session.commit()

    ticket = reloaded(session, ticket)
    assert (ticket.status, ticket.version, ticket.updated_at) == (status, version, updated_at)
    events = ticket_events(session, ticket)
    assert len(events) == len(events_before) + 1
    event = events[-1]
    assert event.action == "comment"
    assert event.actor_label == staff.username
    assert event.at == LATER
    assert event.data == {"body": "Đã cử người kiểm tra", "internal": False}
    assert published == [TicketChanged(ticket.id, "comment", event.id)]


def test_a_comment_is_internal_unless_said_otherwise(session):
    ticket = ticket_at(session, "new")
    comment_ticket(session, SYSTEM, ticket.id, LATER, body="ghi chú")
    session.commit()
    assert ticket_events(session, reloaded(session, ticket))[-1].data["internal"] is True


def test_a_cancelled_ticket_takes_no_comment(session):
    ticket = ticket_at(session, "cancelled")
    with pytest.raises(InvalidTransition):
        comment_ticket(session, SYSTEM, ticket.id, LATER, body="muộn rồi")


def test_transfer_records_the_previous_contact_point_and_the_reason(session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = ticket_at(session, "assigned")
    transfer_ticket(session, staff, ticket.id, LATER, contact_point="SO_XAYDUNG",
                    reason="chiếu sáng công cộng không thuộc Sở TNMT")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "assigned"
    assert ticket.contact_point.code == "SO_XAYDUNG"
    assert ticket.assigned_at == LATER
    event = ticket_events(session, ticket)[-1]
    assert event.action == "transfer"
    assert event.actor_label == staff.username
    assert event.data["contact_point"] == "SO_XAYDUNG"
    assert event.data["previous"] == "SO_TNMT"
    assert event.data["reason"] == "chiếu sáng công cộng không thuộc Sở TNMT"


def test_transfer_to_the_contact_point_that_already_has_the_ticket_is_refused(session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = ticket_at(session, "assigned")
    with pytest.raises(ValidationFailed) as refused:
        transfer_ticket(session, staff, ticket.id, LATER, contact_point="SO_TNMT", reason="?")
    assert "contact_point" in refused.value.fields


def test_a_115_ticket_is_redispatched_not_transferred(session):
    ticket = ticket_at(session, "assigned", line="115")
    with pytest.raises(ValidationFailed):
        transfer_ticket(session, SYSTEM, ticket.id, LATER, contact_point="SO_TNMT", reason="?")


def test_resolve_stores_the_resolution_and_when(session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = ticket_at(session, "in_progress")
    resolve_ticket(session, staff, ticket.id, LATER, resolution="Đã thay bóng đèn hẻm 12")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "resolved"
    assert ticket.resolution == "Đã thay bóng đèn hẻm 12"
    assert ticket.resolved_at == LATER
    assert ticket_events(session, ticket)[-1].data["resolution"] == "Đã thay bóng đèn hẻm 12"


def test_close_stamps_when_it_was_closed(session):
    supervisor = make_user(session, "supervisor")
    ticket = ticket_at(session, "resolved")
    close_ticket(session, supervisor, ticket.id, LATER)
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "closed"
    assert ticket.closed_at == LATER


@pytest.mark.parametrize("before", ["resolved", "closed"])
def test_reopen_sends_the_ticket_back_to_its_destination_with_the_reason(session, before):
    supervisor = make_user(session, "supervisor")
    ticket = ticket_at(session, before)
    reopen_ticket(session, supervisor, ticket.id, LATER, reason="vẫn chưa sửa")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "assigned"
    assert ticket.contact_point.code == "SO_TNMT"
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.assigned_at == LATER
    assert ticket_events(session, ticket)[-1].data["reason"] == "vẫn chưa sửa"


def test_cancel_records_the_reason(session):
    operator = make_user(session, "operator")
    ticket = ticket_at(session, "new")
    cancel_ticket(session, operator, ticket.id, LATER, reason="gọi nhầm số")
    session.commit()
    ticket = reloaded(session, ticket)
    assert ticket.status == "cancelled"
    assert ticket_events(session, ticket)[-1].data["reason"] == "gọi nhầm số"


# --- optimistic versions and refusals ------------------------------------------------------


def test_the_expected_version_when_current_lets_the_change_through(session):
    ticket = ticket_at(session, "assigned")
    accept_ticket(session, SYSTEM, ticket.id, LATER, expected_version=ticket.version)
    session.commit()
    assert reloaded(session, ticket).status == "in_progress"


def test_an_outdated_expected_version_is_refused_as_stale_and_changes_nothing(session):
    ticket = ticket_at(session, "assigned")  # version 2: created, then assigned
    assert ticket.version == 2
    events_before = history(session, ticket)
    with pytest.raises(StaleVersion) as refused:
        accept_ticket(session, SYSTEM, ticket.id, LATER, expected_version=1)
    assert refused.value.fields == {"version": "2"}
    session.rollback()
    ticket = reloaded(session, ticket)
    assert (ticket.status, ticket.version, ticket.accepted_at) == ("assigned", 2, None)
    assert history(session, ticket) == events_before


def _snapshot(session, ticket) -> tuple:
    t = reloaded(session, ticket)
    row = (t.status, t.version, t.contact_point_id, t.hospital_id, t.resolution,
           t.assigned_at, t.accepted_at, t.resolved_at, t.updated_at)
    return row, history(session, t)


_REFUSALS = [
    # (status of the ticket, the refused call, the error)
    ("new", lambda s, u, t: accept_ticket(s, u, t, LATER), InvalidTransition),
    ("in_progress", lambda s, u, t: cancel_ticket(s, u, t, LATER, reason="x"), InvalidTransition),
    ("closed", lambda s, u, t: resolve_ticket(s, u, t, LATER, resolution="x"), InvalidTransition),
    ("assigned", lambda s, u, t: transfer_ticket(s, u, t, LATER, contact_point="SO_TNMT",
                                                 reason="x"), ValidationFailed),
    ("assigned", lambda s, u, t: assign_ticket(s, u, t, LATER, contact_point="SO_KHONG_CO"),
     ValidationFailed),
    ("in_progress", lambda s, u, t: resolve_ticket(s, u, t, LATER, resolution="x",
                                                   expected_version=1), StaleVersion),
]


@pytest.mark.parametrize(("status", "refused_call", "error"), _REFUSALS,
                         ids=["accept-new", "cancel-in-progress", "resolve-closed",
                              "transfer-same-place", "assign-unknown", "stale-version"])
def test_a_refused_action_leaves_the_ticket_and_its_history_as_they_were(
        session, status, refused_call, error):
    ticket = ticket_at(session, status)
    before = _snapshot(session, ticket)
    with pytest.raises(error):
        refused_call(session, SYSTEM, ticket.id)
    session.rollback()
    assert _snapshot(session, ticket) == before


def test_an_action_the_role_may_not_do_leaves_the_ticket_and_its_history_as_they_were(session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    ticket = ticket_at(session, "assigned")
    before = _snapshot(session, ticket)
    with pytest.raises(Forbidden):
        cancel_ticket(session, staff, ticket.id, LATER, reason="không phải việc của tôi")
    session.rollback()
    assert _snapshot(session, ticket) == before
