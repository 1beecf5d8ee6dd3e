"""Who may read and do what, over HTTP (CONTRACT.md's role table). A ticket someone may not
read is 404 to them and absent from their lists; one they may read but not act on is 403;
`allowed_actions` in every answer tells each role what it may do now."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.factories import NOW, SYSTEM, bearer, db_counts, make_ticket, make_user
from tickets.db import utcnow
from tickets.services import accept_ticket, assign_ticket, resolve_ticket


def ticket_at(session, line: str = "1022", destination: str | None = None, status: str = "assigned",
              **fields):
    """A committed ticket: 1022 assigned to ``destination`` (a contact point), 115 to a hospital."""
    ticket = make_ticket(session, line=line, **fields)
    if status != "new":
        where = {"contact_point": destination or "SO_TNMT"} if line == "1022" else {
            "hospital": destination or "BVDK_TINH"}
        assign_ticket(session, SYSTEM, ticket.id, NOW, **where)
    if status in ("in_progress", "resolved"):
        accept_ticket(session, SYSTEM, ticket.id, NOW)
    if status == "resolved":
        resolve_ticket(session, SYSTEM, ticket.id, NOW, resolution="Đã xử lý")
    session.commit()
    return ticket


def listed_ids(client, headers, **query) -> set[int]:
    response = client.get("/api/tickets", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {t["id"] for t in response.get_json()["items"]}


def assert_json_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and set(response.get_json()["error"]) >= {"code", "message"}
    if code is not None:
        assert response.get_json()["error"]["code"] == code


# ---- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/tickets"), ("GET", "/api/tickets/1"), ("GET", "/api/tickets/1/events"),
    ("POST", "/api/tickets"),
    ("POST", "/api/tickets/1/accept"),
    ("GET", "/api/directory/contact-points"), ("GET", "/api/directory/hospitals"),
    ("GET", "/api/directory/categories"), ("GET", "/api/directory/wards"),
])
def test_without_credentials_the_api_answers_401_json(client, engine, method, path):
    before = db_counts(engine)

    response = client.open(path, method=method, json={"line": "1022", "channel": "web"})

    assert_json_error(response, 401, "unauthenticated")
    assert db_counts(engine) == before


@pytest.mark.parametrize("header", [
    "Bearer not-a-real-token", "Bearer ", "Basic b3BlcmF0b3I6Y29ycmVjdC1ob3JzZS0x", "token",
])
def test_a_bad_token_or_another_scheme_is_401(client, session, header):
    make_user(session, "operator", username="operator")

    assert_json_error(client.get("/api/tickets", headers={"Authorization": header}), 401)


def test_an_expired_token_is_401(client, session, engine):
    headers = bearer(client, make_user(session, "supervisor"))
    assert client.get("/api/tickets", headers=headers).status_code == 200

    with engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = :past"),
                      {"past": utcnow() - timedelta(seconds=1)})

    assert_json_error(client.get("/api/tickets", headers=headers), 401, "unauthenticated")


# ---- reading: 404, not 403, for what you may not see ------------------------------------

def test_an_operator_cannot_read_a_115_ticket_unless_they_opened_it(client, session):
    operator_user = make_user(session, "operator")
    operator = bearer(client, operator_user)
    emergency = ticket_at(session, line="115", status="new")
    citizen = ticket_at(session, line="1022", status="new")
    landed_on_1022 = client.post("/api/tickets", headers=operator, json={
        "line": "115", "channel": "phone", "description": "Cuộc gọi cấp cứu gọi nhầm 1022"})
    assert landed_on_1022.status_code == 201
    own_id = landed_on_1022.get_json()["id"]

    assert_json_error(client.get(f"/api/tickets/{emergency.id}", headers=operator), 404, "not_found")
    assert_json_error(client.get(f"/api/tickets/{emergency.id}/events", headers=operator), 404)
    assert client.get(f"/api/tickets/{citizen.id}", headers=operator).status_code == 200
    assert client.get(f"/api/tickets/{own_id}", headers=operator).status_code == 200
    assert listed_ids(client, operator) == {citizen.id, own_id}


def test_staff_read_and_list_only_their_contact_points_tickets(client, session):
    staff = bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))
    theirs = ticket_at(session, destination="SO_TNMT")
    elsewhere = ticket_at(session, destination="SO_XAYDUNG")
    unassigned = ticket_at(session, status="new")
    emergency = ticket_at(session, line="115")

    assert client.get(f"/api/tickets/{theirs.id}", headers=staff).status_code == 200
    for hidden in (elsewhere, unassigned, emergency):
        assert_json_error(client.get(f"/api/tickets/{hidden.id}", headers=staff), 404, "not_found")
    assert listed_ids(client, staff) == {theirs.id}
    assert listed_ids(client, staff, contact_point="SO_XAYDUNG") == set()


def test_a_hospital_sees_only_tickets_dispatched_to_it(client, session):
    hospital = bearer(client, make_user(session, "hospital", hospital="BVDK_TINH"))
    theirs = ticket_at(session, line="115", destination="BVDK_TINH")
    elsewhere = ticket_at(session, line="115", destination="BV_BECAMEX")
    waiting = ticket_at(session, line="115", status="new")
    citizen = ticket_at(session, line="1022")

    assert client.get(f"/api/tickets/{theirs.id}", headers=hospital).status_code == 200
    for hidden in (elsewhere, waiting, citizen):
        assert_json_error(client.get(f"/api/tickets/{hidden.id}", headers=hospital), 404)
    assert listed_ids(client, hospital) == {theirs.id}


def test_a_dispatcher_reads_115_tickets_only(client, session):
    dispatcher = bearer(client, make_user(session, "dispatcher"))
    emergency = ticket_at(session, line="115", status="new")
    citizen = ticket_at(session, line="1022", status="new")

    assert client.get(f"/api/tickets/{emergency.id}", headers=dispatcher).status_code == 200
    assert_json_error(client.get(f"/api/tickets/{citizen.id}", headers=dispatcher), 404)
    assert listed_ids(client, dispatcher) == {emergency.id}


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_read_everything(client, session, role):
    headers = bearer(client, make_user(session, role))
    tickets = [ticket_at(session, status="new"), ticket_at(session, destination="SO_XAYDUNG"),
               ticket_at(session, line="115"), ticket_at(session, line="115", destination="BV_BECAMEX")]

    for ticket in tickets:
        assert client.get(f"/api/tickets/{ticket.id}", headers=headers).status_code == 200
    assert listed_ids(client, headers) == {t.id for t in tickets}


def test_acting_on_a_ticket_you_cannot_read_is_404_and_writes_nothing(client, session, engine):
    staff = bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))
    elsewhere = ticket_at(session, destination="SO_XAYDUNG")
    before = db_counts(engine)

    assert_json_error(client.post(f"/api/tickets/{elsewhere.id}/accept", headers=staff), 404)
    assert_json_error(client.post(f"/api/tickets/{elsewhere.id}/comment", headers=staff,
                                  json={"body": "nhìn trộm"}), 404)
    assert db_counts(engine) == before


# ---- acting: 403 for what your role may not do -------------------------------------------

@pytest.mark.parametrize(("role", "where", "line", "action", "body"), [
    pytest.param("staff", {"contact_point": "SO_TNMT"}, "1022", "assign",
                 {"contact_point": "SO_XAYDUNG"}, id="staff assign"),
    pytest.param("staff", {"contact_point": "SO_TNMT"}, "1022", "cancel",
                 {"reason": "không phải việc của Sở"}, id="staff cancel"),
    pytest.param("hospital", {"hospital": "BVDK_TINH"}, "115", "transfer",
                 {"contact_point": "SO_TNMT", "reason": "không phải cấp cứu"}, id="hospital transfer"),
    pytest.param("hospital", {"hospital": "BVDK_TINH"}, "115", "assign",
                 {"hospital": "BV_BECAMEX"}, id="hospital assign"),
    pytest.param("operator", {}, "1022", "resolve", {"resolution": "đã trả lời"}, id="operator resolve"),
    pytest.param("operator", {}, "1022", "accept", {}, id="operator accept"),
    pytest.param("dispatcher", {}, "115", "resolve", {"resolution": "xong"}, id="dispatcher resolve"),
])
def test_a_role_may_not_do_what_the_table_does_not_give_it(
        client, session, engine, role, where, line, action, body):
    headers = bearer(client, make_user(session, role, **where))
    ticket = ticket_at(session, line=line)
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/{action}", json=body, headers=headers)

    assert_json_error(response, 403, "forbidden")
    assert db_counts(engine) == before


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital"])
def test_only_supervisors_and_admins_reopen(client, session, engine, role):
    line = "115" if role in ("dispatcher", "hospital") else "1022"
    headers = bearer(client, make_user(session, role))
    ticket = ticket_at(session, line=line, status="resolved")
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/reopen", json={"reason": "chưa xong"},
                           headers=headers)

    assert_json_error(response, 403, "forbidden")
    assert db_counts(engine) == before


@pytest.mark.parametrize(("role", "line"), [
    ("dispatcher", "1022"), ("staff", "1022"), ("staff", "115"), ("hospital", "115"),
])
def test_a_role_that_may_not_open_tickets_on_a_line_gets_403(client, session, engine, role, line):
    headers = bearer(client, make_user(session, role))
    before = db_counts(engine)

    response = client.post("/api/tickets", json={"line": line, "channel": "phone"}, headers=headers)

    assert_json_error(response, 403, "forbidden")
    assert db_counts(engine) == before


@pytest.mark.parametrize(("role", "line"), [
    ("operator", "1022"), ("operator", "115"), ("dispatcher", "115"), ("supervisor", "1022"),
    ("supervisor", "115"), ("admin", "1022"),
])
def test_the_roles_that_open_tickets_may(client, session, role, line):
    headers = bearer(client, make_user(session, role))

    response = client.post("/api/tickets", json={"line": line, "channel": "phone"}, headers=headers)

    assert response.status_code == 201, response.get_json()


# ---- allowed_actions ---------------------------------------------------------------------
# Compared on the contract's lifecycle actions; actions added later (pausing the SLA while
# waiting for the caller, say) are left to their own tests.
CONTRACT_ACTIONS = {"assign", "accept", "comment", "transfer", "resolve", "reopen", "close", "cancel"}


def lifecycle_actions(ticket_json: dict) -> set[str]:
    return set(ticket_json["allowed_actions"]) & CONTRACT_ACTIONS


@pytest.mark.parametrize(("role", "line", "status", "expected"), [
    ("staff", "1022", "assigned", {"accept", "comment", "transfer", "resolve"}),
    ("staff", "1022", "in_progress", {"comment", "transfer", "resolve"}),
    ("staff", "1022", "resolved", {"comment"}),
    ("operator", "1022", "new", {"assign", "comment", "cancel"}),
    ("operator", "1022", "assigned", {"assign", "comment", "cancel"}),
    ("operator", "1022", "resolved", {"comment"}),
    ("hospital", "115", "assigned", {"accept", "comment", "resolve"}),
    ("dispatcher", "115", "assigned", {"assign", "comment", "cancel"}),
    ("dispatcher", "115", "resolved", {"comment", "close"}),
    ("supervisor", "1022", "resolved", {"comment", "close", "reopen"}),
    ("supervisor", "1022", "assigned", {"assign", "comment", "cancel"}),
    ("admin", "1022", "assigned", {"assign", "accept", "comment", "transfer", "resolve", "cancel"}),
])
def test_allowed_actions_are_what_this_role_may_do_now(client, session, role, line, status, expected):
    headers = bearer(client, make_user(session, role))
    ticket = ticket_at(session, line=line, status=status)

    one = client.get(f"/api/tickets/{ticket.id}", headers=headers).get_json()
    in_list = client.get("/api/tickets", headers=headers).get_json()["items"]

    assert lifecycle_actions(one) == expected
    assert [lifecycle_actions(t) for t in in_list if t["id"] == ticket.id] == [expected]


def test_an_action_answer_carries_the_actors_next_allowed_actions(client, session):
    staff = bearer(client, make_user(session, "staff"))
    ticket = ticket_at(session)

    response = client.post(f"/api/tickets/{ticket.id}/accept", headers=staff)

    assert response.status_code == 200
    assert lifecycle_actions(response.get_json()) == {"comment", "transfer", "resolve"}


def test_a_created_ticket_shows_its_creator_what_they_may_do(client, session):
    headers = bearer(client, make_user(session, "operator"))

    response = client.post("/api/tickets", json={"line": "1022", "channel": "web"}, headers=headers)

    assert lifecycle_actions(response.get_json()) == {"assign", "comment", "cancel"}
