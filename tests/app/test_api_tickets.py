"""The tickets API over HTTP (CONTRACT.md, REST API): open, list and filter, read with
history, and the whole lifecycle done by the roles that own each step. Every action appends
exactly one event; a refused one (wrong status, stale version, lost race) writes nothing."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import DEFAULT_URL
from tests.factories import NOW, SYSTEM, bearer, make_ticket, make_user
from tickets.codes import normalise_code
from tickets.db import utcnow
from tickets.models import Ticket
from tickets.services import accept_ticket, assign_ticket, resolve_ticket

ON_SQLITE = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)).get_backend_name() == "sqlite"


# ---- helpers -----------------------------------------------------------------------------



def db_counts(engine, ticket_id: int | None = None) -> tuple:
    """(tickets, events) in the database, or (version, events) of one ticket."""
    with engine.connect() as conn:
        if ticket_id is None:
            return tuple(conn.execute(text(
                "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_events)")).one())
        return tuple(conn.execute(text(
            "SELECT (SELECT version FROM tickets WHERE id = :id),"
            " (SELECT count(*) FROM ticket_events WHERE ticket_id = :id)"), {"id": ticket_id}).one())


def event_actions(client, headers, ticket_id: int) -> list[str]:
    response = client.get(f"/api/tickets/{ticket_id}/events", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [e["action"] for e in response.get_json()]


def act(client, headers, ticket_id: int, action: str, **body):
    return client.post(f"/api/tickets/{ticket_id}/{action}", json=body, headers=headers)


def assigned_ticket(session, **fields) -> Ticket:
    """A committed 1022 ticket assigned to SO_TNMT (version 2)."""
    ticket = make_ticket(session, **fields)
    assign_ticket(session, SYSTEM, ticket.id, NOW, contact_point="SO_TNMT")
    session.commit()
    return ticket


def listed(client, headers, **query) -> dict:
    response = client.get("/api/tickets", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def listed_ids(client, headers, **query) -> list[int]:
    return [t["id"] for t in listed(client, headers, **query)["items"]]


def is_local_iso(value: str) -> bool:
    """ISO 8601 with the hotline's +07:00 offset."""
    return value.endswith("+07:00") and datetime.fromisoformat(value).utcoffset() == timedelta(hours=7)


# ---- create ------------------------------------------------------------------------------

def test_an_operator_opens_a_1022_ticket_and_gets_201_with_the_ticket(client, session):
    operator = make_user(session, "operator")
    headers = bearer(client, operator)

    response = client.post("/api/tickets", headers=headers, json={
        "line": "1022", "channel": "phone", "caller_phone": "0912 345 678",
        "caller_name": "Nguyễn Văn An", "category": "moi_truong", "ward_code": "25741",
        "description": "Nhà máy xả nước thải ra suối", "address": "Hẻm 12, Phú Cường"})

    assert response.status_code == 201, response.get_json()
    ticket = response.get_json()
    assert ticket["caller_phone"] == "+84912345678"
    assert normalise_code(ticket["code"]) == ticket["code"]
    assert (ticket["line"], ticket["channel"], ticket["status"], ticket["priority"]) == (
        "1022", "phone", "new", "normal")
    assert (ticket["category"], ticket["ward_code"], ticket["caller_name"]) == (
        "moi_truong", "25741", "Nguyễn Văn An")
    assert ticket["contact_point"] is None and ticket["hospital"] is None
    assert ticket["version"] == 1
    assert is_local_iso(ticket["created_at"])

    events = client.get(f"/api/tickets/{ticket['id']}/events", headers=headers).get_json()
    assert [(e["action"], e["actor"]) for e in events] == [("created", operator.label)]
    assert events[0]["data"]["line"] == "1022"


def test_a_115_ticket_is_an_emergency_unless_told_otherwise(client, session):
    headers = bearer(client, make_user(session, "dispatcher"))

    emergency = client.post("/api/tickets", headers=headers,
                            json={"line": "115", "channel": "phone", "description": "Ngất xỉu"})
    high = client.post("/api/tickets", headers=headers,
                       json={"line": "115", "channel": "phone", "priority": "high"})

    assert emergency.status_code == 201 and emergency.get_json()["priority"] == "emergency"
    assert high.status_code == 201 and high.get_json()["priority"] == "high"


def test_each_created_ticket_gets_its_own_tracking_code(client, session):
    headers = bearer(client, make_user(session, "operator"))
    codes = {client.post("/api/tickets", headers=headers,
                         json={"line": "1022", "channel": "web"}).get_json()["code"]
             for _ in range(5)}
    assert len(codes) == 5


# ---- list and filter ---------------------------------------------------------------------

def test_the_list_filters_by_status_line_contact_point_hospital_and_category(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    fresh = make_ticket(session, category="do_thi")
    at_tnmt = assigned_ticket(session, category="moi_truong")
    at_xaydung = make_ticket(session, category="do_thi")
    assign_ticket(session, SYSTEM, at_xaydung.id, NOW, contact_point="SO_XAYDUNG")
    at_tinh = make_ticket(session, line="115")
    assign_ticket(session, SYSTEM, at_tinh.id, NOW, hospital="BVDK_TINH")
    at_becamex = make_ticket(session, line="115")
    assign_ticket(session, SYSTEM, at_becamex.id, NOW, hospital="BV_BECAMEX")
    session.commit()

    assert set(listed_ids(client, headers, status="new")) == {fresh.id}
    assert set(listed_ids(client, headers, status="assigned")) == {
        at_tnmt.id, at_xaydung.id, at_tinh.id, at_becamex.id}
    assert set(listed_ids(client, headers, line="1022")) == {fresh.id, at_tnmt.id, at_xaydung.id}
    assert set(listed_ids(client, headers, line="115")) == {at_tinh.id, at_becamex.id}
    assert listed_ids(client, headers, contact_point="SO_TNMT") == [at_tnmt.id]
    assert listed_ids(client, headers, contact_point="SO_XAYDUNG") == [at_xaydung.id]
    assert listed_ids(client, headers, hospital="BVDK_TINH") == [at_tinh.id]
    assert listed_ids(client, headers, hospital="BV_BECAMEX") == [at_becamex.id]
    assert set(listed_ids(client, headers, category="do_thi")) == {fresh.id, at_xaydung.id}
    assert listed_ids(client, headers, category="moi_truong") == [at_tnmt.id]
    assert set(listed_ids(client, headers, line="1022", category="do_thi", status="assigned")) == {
        at_xaydung.id}


def test_the_search_q_is_a_case_insensitive_substring_of_the_description(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    lamp = make_ticket(session, description="Street LAMP broken near the school")
    make_ticket(session, description="Garbage not collected for three days")

    assert listed_ids(client, headers, q="lamp broken") == [lamp.id]
    assert listed_ids(client, headers, q="STREET Lamp") == [lamp.id]
    assert listed_ids(client, headers, q="nothing like this") == []


def test_the_search_q_folds_vietnamese_capitals_too(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    lamp = make_ticket(session, description="Đèn đường không sáng ở hẻm 12")
    make_ticket(session, description="Rác tồn đọng ba ngày")

    assert listed_ids(client, headers, q="ĐÈN ĐƯỜNG") == [lamp.id]
    assert listed_ids(client, headers, q="đèn đường") == [lamp.id]


def test_the_search_q_treats_percent_and_underscore_literally(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    percent = make_ticket(session, description="Giá điện tăng 50% trong tháng")
    underscore = make_ticket(session, description="Mã hồ sơ HS_2026 chưa xử lý")
    plain = make_ticket(session, description="Giá điện tăng 50 lần, mã HS 2026")

    assert listed_ids(client, headers, q="50%") == [percent.id]
    assert listed_ids(client, headers, q="%") == [percent.id]
    assert listed_ids(client, headers, q="hs_2026") == [underscore.id]
    assert listed_ids(client, headers, q="_") == [underscore.id]
    assert plain.id in listed_ids(client, headers, q="50")


@pytest.mark.parametrize("form", [
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84912345678",
    "84912345678", "0084912345678", "+84 912 345 678",
])
def test_the_phone_filter_accepts_any_vietnamese_form_of_the_number(client, session, form):
    headers = bearer(client, make_user(session, "supervisor"))
    caller = make_ticket(session, caller_phone="0912 345 678")
    make_ticket(session, caller_phone="0987654321")

    assert listed_ids(client, headers, phone=form) == [caller.id]


def test_the_overdue_filter_lists_open_tickets_past_their_resolution_due_time(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    late = make_ticket(session)
    on_time = make_ticket(session)
    late_but_resolved = assigned_ticket(session)
    no_deadline = make_ticket(session)
    resolve_ticket(session, SYSTEM, late_but_resolved.id, NOW, resolution="Đã xử lý")
    hour = timedelta(hours=1)
    late.resolution_due = late_but_resolved.resolution_due = utcnow() - hour
    on_time.resolution_due = utcnow() + 24 * hour
    session.commit()

    assert listed_ids(client, headers, overdue="true") == [late.id]
    assert set(listed_ids(client, headers, overdue="false")) == {
        on_time.id, late_but_resolved.id, no_deadline.id}


def test_the_list_pages_newest_first_with_total_page_and_per_page(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    tickets = [make_ticket(session, now=NOW + timedelta(minutes=i)) for i in range(5)]
    newest_first = [t.id for t in reversed(tickets)]

    first = listed(client, headers, per_page=2)
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert [t["id"] for t in first["items"]] == newest_first[:2]
    assert listed_ids(client, headers, per_page=2, page=2) == newest_first[2:4]
    assert listed_ids(client, headers, per_page=2, page=3) == newest_first[4:]
    assert listed_ids(client, headers, per_page=2, page=4) == []
    default = listed(client, headers)
    assert (default["total"], default["page"], default["per_page"]) == (5, 1, 25)
    assert [t["id"] for t in default["items"]] == newest_first


def test_per_page_is_at_most_100(client, session):
    headers = bearer(client, make_user(session, "supervisor"))

    assert client.get("/api/tickets?per_page=100", headers=headers).status_code == 200
    too_many = client.get("/api/tickets?per_page=101", headers=headers)
    assert too_many.status_code == 400
    assert "per_page" in too_many.get_json()["error"]["fields"]


# ---- read --------------------------------------------------------------------------------

def test_get_returns_the_ticket_with_its_events(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    ticket = assigned_ticket(session)

    response = client.get(f"/api/tickets/{ticket.id}", headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["code"], body["status"]) == (ticket.id, ticket.code, "assigned")
    assert body["contact_point"]["code"] == "SO_TNMT" and body["contact_point"]["name"]
    assert [e["action"] for e in body["events"]] == ["created", "assign"]


def test_events_have_id_action_actor_at_data_with_times_in_local_iso_8601(client, session):
    headers = bearer(client, make_user(session, "supervisor"))
    ticket = assigned_ticket(session)

    events = client.get(f"/api/tickets/{ticket.id}/events", headers=headers).get_json()

    assert [set(e) for e in events] == [{"id", "action", "actor", "at", "data"}] * 2
    assert [e["action"] for e in events] == ["created", "assign"]
    assert all(e["actor"] == "test" for e in events)
    assert events[0]["id"] < events[1]["id"]
    assert events[1]["data"]["contact_point"] == "SO_TNMT"
    assert events[0]["at"] == "2026-11-25T10:00:00+07:00"
    assert all(is_local_iso(e["at"]) for e in events)
    ticket_json = client.get(f"/api/tickets/{ticket.id}", headers=headers).get_json()
    assert is_local_iso(ticket_json["created_at"]) and is_local_iso(ticket_json["updated_at"])


# ---- the lifecycle, by the roles that own each step --------------------------------------

def test_a_1022_ticket_goes_through_its_whole_life_over_http(client, session, engine):
    operator = bearer(client, make_user(session, "operator"))
    staff = bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))
    supervisor = bearer(client, make_user(session, "supervisor"))
    created = client.post("/api/tickets", headers=operator, json={
        "line": "1022", "channel": "phone", "caller_phone": "0912345678",
        "category": "moi_truong", "description": "Khói bụi từ xưởng gỗ"})
    assert created.status_code == 201
    ticket_id = created.get_json()["id"]
    assert db_counts(engine, ticket_id) == (1, 1)

    steps = [  # (who, action, body, status after)
        (operator, "assign", {"contact_point": "SO_TNMT", "reason": "môi trường"}, "assigned"),
        (staff, "accept", {}, "in_progress"),
        (staff, "comment", {"body": "Đã cử cán bộ xuống kiểm tra", "internal": True}, "in_progress"),
        (staff, "resolve", {"resolution": "Đã yêu cầu xưởng lắp lọc bụi"}, "resolved"),
        (supervisor, "close", {}, "closed"),
        (supervisor, "reopen", {"reason": "Người dân báo vẫn còn khói"}, "assigned"),
    ]
    for action_number, (who, action, body, status) in enumerate(steps, start=2):
        version_before, _ = db_counts(engine, ticket_id)
        response = act(client, who, ticket_id, action, **body)
        assert response.status_code == 200, (action, response.get_json())
        version, events = db_counts(engine, ticket_id)
        assert response.get_json()["status"] == status
        assert events == action_number, f"{action} must append exactly one event"
        if action == "comment":  # a note leaves the ticket row alone
            assert version == version_before
        else:
            assert version > version_before

    assert event_actions(client, supervisor, ticket_id) == [
        "created", "assign", "accept", "comment", "resolve", "close", "reopen"]
    final = client.get(f"/api/tickets/{ticket_id}", headers=supervisor).get_json()
    assert final["contact_point"]["code"] == "SO_TNMT"
    assert final["resolution"] == "Đã yêu cầu xưởng lắp lọc bụi"
    by_action = {e["action"]: e for e in final["events"]}
    assert by_action["accept"]["data"] == {"from": "assigned", "to": "in_progress"}
    assert by_action["comment"]["data"] == {"body": "Đã cử cán bộ xuống kiểm tra", "internal": True}
    assert by_action["reopen"]["data"]["reason"] == "Người dân báo vẫn còn khói"


def test_staff_transfer_a_ticket_that_is_not_theirs_to_another_contact_point(client, session, engine):
    tnmt = bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))
    xaydung = bearer(client, make_user(session, "staff", contact_point="SO_XAYDUNG"))
    ticket = assigned_ticket(session)
    assert client.get(f"/api/tickets/{ticket.id}", headers=xaydung).status_code == 404

    response = act(client, tnmt, ticket.id, "transfer", contact_point="SO_XAYDUNG",
                   reason="Đèn đường thuộc Sở Xây dựng")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["contact_point"]["code"] == "SO_XAYDUNG"
    assert response.get_json()["allowed_actions"] == []
    assert db_counts(engine, ticket.id) == (3, 3)
    assert client.get(f"/api/tickets/{ticket.id}", headers=tnmt).status_code == 404
    assert ticket.id not in listed_ids(client, tnmt)
    seen = client.get(f"/api/tickets/{ticket.id}", headers=xaydung).get_json()
    assert (seen["status"], seen["contact_point"]["code"]) == ("assigned", "SO_XAYDUNG")
    assert seen["events"][-1]["action"] == "transfer"
    assert seen["events"][-1]["data"] == {
        "contact_point": "SO_XAYDUNG", "previous": "SO_TNMT", "reason": "Đèn đường thuộc Sở Xây dựng"}
    assert ticket.id in listed_ids(client, xaydung)


def test_a_115_call_is_dispatched_acknowledged_and_resolved_by_the_hospital(client, session, engine):
    dispatcher = bearer(client, make_user(session, "dispatcher"))
    hospital = bearer(client, make_user(session, "hospital", hospital="BVDK_TINH"))
    created = client.post("/api/tickets", headers=dispatcher, json={
        "line": "115", "channel": "phone", "caller_phone": "0977000111",
        "description": "Tai nạn giao thông, một người bị thương"})
    assert created.status_code == 201
    ticket_id = created.get_json()["id"]
    assert created.get_json()["priority"] == "emergency"
    assert client.get(f"/api/tickets/{ticket_id}", headers=hospital).status_code == 404

    assigned = act(client, dispatcher, ticket_id, "assign", hospital="BVDK_TINH")
    assert assigned.status_code == 200, assigned.get_json()
    assert (assigned.get_json()["status"], assigned.get_json()["hospital"]["code"]) == (
        "assigned", "BVDK_TINH")
    accepted = act(client, hospital, ticket_id, "accept")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "in_progress"
    resolved = act(client, hospital, ticket_id, "resolve", resolution="Đã đưa bệnh nhân về viện")
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"

    assert db_counts(engine, ticket_id)[1] == 4
    assert event_actions(client, dispatcher, ticket_id) == ["created", "assign", "accept", "resolve"]


def test_accept_with_an_empty_body_or_no_body_at_all_is_fine(client, session):
    staff = bearer(client, make_user(session, "staff"))
    ticket = assigned_ticket(session)

    response = client.post(f"/api/tickets/{ticket.id}/accept", headers=staff)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "in_progress"


# ---- refusals write nothing --------------------------------------------------------------

def test_an_invalid_transition_is_409_listing_the_allowed_actions_and_writes_nothing(
        client, session, engine):
    supervisor = bearer(client, make_user(session, "supervisor"))
    ticket = make_ticket(session)
    before = db_counts(engine, ticket.id)

    response = act(client, supervisor, ticket.id, "close")

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition"
    assert "new" in error["message"]
    for allowed in ("assign", "cancel", "comment"):
        assert allowed in error["message"]
    assert db_counts(engine, ticket.id) == before == (1, 1)


def test_a_final_status_says_nothing_is_allowed(client, session, engine):
    supervisor = bearer(client, make_user(session, "supervisor"))
    ticket = make_ticket(session)
    assert act(client, supervisor, ticket.id, "cancel", reason="Gọi nhầm").status_code == 200
    before = db_counts(engine, ticket.id)

    response = act(client, supervisor, ticket.id, "reopen", reason="thử lại")

    assert response.status_code == 409
    assert "nothing" in response.get_json()["error"]["message"]
    assert db_counts(engine, ticket.id) == before


def test_a_stale_version_is_409_stale_version_and_writes_nothing(client, session, engine):
    staff = bearer(client, make_user(session, "staff"))
    ticket = assigned_ticket(session)
    before = db_counts(engine, ticket.id)
    assert before == (2, 2)

    response = act(client, staff, ticket.id, "accept", version=1)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_version"
    assert db_counts(engine, ticket.id) == before
    assert act(client, staff, ticket.id, "accept", version=2).status_code == 200


@pytest.mark.postgresql_only
def test_of_two_clients_racing_to_accept_one_wins_and_the_other_gets_409(app, client, session, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL's row locking")
    first = bearer(client, make_user(session, "staff"))
    second = bearer(client, make_user(session, "staff"))
    ticket = assigned_ticket(session)
    version = client.get(f"/api/tickets/{ticket.id}", headers=first).get_json()["version"]
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def accept(name: str, headers: dict) -> None:
        own_client = app.test_client()
        start.wait()
        results[name] = own_client.post(f"/api/tickets/{ticket.id}/accept",
                                         json={"version": version}, headers=headers)

    threads = [threading.Thread(target=accept, args=("first", first)),
               threading.Thread(target=accept, args=("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    responses = sorted(results.values(), key=lambda r: r.status_code)
    assert [r.status_code for r in responses] == [200, 409]
    assert responses[1].get_json()["error"]["code"] == "stale_version"
    assert db_counts(engine, ticket.id) == (3, 3)
    assert event_actions(client, first, ticket.id) == ["created", "assign", "accept"]


def test_accept_refused_after_someone_else_accepted_does_not_append_history(client, session, engine):
    staff = bearer(client, make_user(session, "staff"))
    ticket = assigned_ticket(session)
    accept_ticket(session, SYSTEM, ticket.id, NOW)
    session.commit()
    before = db_counts(engine, ticket.id)

    response = act(client, staff, ticket.id, "accept")

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"
    assert db_counts(engine, ticket.id) == before
