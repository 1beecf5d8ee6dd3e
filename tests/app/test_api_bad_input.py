"""Bad input to the API: every refusal is a JSON error {"error": {"code", "message",
"fields"?}} naming the field at fault, with 400 (malformed), 413 (too big) or 422 (refers to
something unknown), and nothing is written to the database."""

from __future__ import annotations

import json

import pytest

from tests.factories import NOW, SYSTEM, bearer, db_counts, make_ticket, make_user
from tickets.services import assign_ticket

VALID = {"line": "1022", "channel": "phone", "description": "Ổ gà lớn trên đường DT743"}






def assert_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    """The response is the contract's JSON error with ``status``; ``field`` is named in fields."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert field in error.get("fields", {}), error
    return error


@pytest.fixture
def operator(client, session):
    return bearer(client, make_user(session, "operator"))


# ---- POST /api/tickets -------------------------------------------------------------------

def test_a_valid_body_is_accepted_so_the_refusals_below_are_about_their_one_change(
        client, operator, engine):
    before = db_counts(engine)
    response = client.post("/api/tickets", json={**VALID, "category": "do_thi", "ward_code": "25741",
                                                 "lat": 10.98, "lon": 106.65,
                                                 "caller_phone": "0912345678"}, headers=operator)
    assert response.status_code == 201, response.get_json()
    assert db_counts(engine) == (before[0] + 1, before[1] + 1, before[2] + 1)


@pytest.mark.parametrize(("change", "status", "field"), [
    pytest.param({"category": "khong_co"}, 422, "category", id="unknown category"),
    pytest.param({"ward_code": "99999"}, 422, "ward_code", id="unknown ward"),
    pytest.param({"caller_phone": "123"}, 422, "caller_phone", id="phone 123"),
    pytest.param({"caller_phone": "abc"}, 422, "caller_phone", id="phone abc"),
    pytest.param({"lat": 91, "lon": 106.6}, 400, "lat", id="lat 91"),
    pytest.param({"lat": 10.9, "lon": 181}, 400, "lon", id="lon 181"),
    pytest.param({"line": 1022}, 400, "line", id="line as int"),
    pytest.param({"line": "113"}, 400, "line", id="unknown line"),
    pytest.param({"channel": "fax"}, 400, "channel", id="unknown channel"),
    pytest.param({"priority": "urgent"}, 400, "priority", id="unknown priority"),
    pytest.param({"lat": "x", "lon": 106.6}, 400, "lat", id="lat as text"),
    pytest.param({"description": 42}, 400, "description", id="description as int"),
    pytest.param({"colour": "red"}, 400, "colour", id="unknown field"),
    pytest.param({"description": "x" * 4001}, 400, "description", id="description 4001 chars"),
])
def test_a_bad_field_is_refused_naming_it_and_nothing_is_written(
        client, operator, engine, change, status, field):
    before = db_counts(engine)

    response = client.post("/api/tickets", json={**VALID, **change}, headers=operator)

    assert_error(response, status, field)
    assert db_counts(engine) == before


@pytest.mark.parametrize("missing", ["line", "channel"])
def test_line_and_channel_are_required(client, operator, engine, missing):
    before = db_counts(engine)
    body = {k: v for k, v in VALID.items() if k != missing}

    assert_error(client.post("/api/tickets", json=body, headers=operator), 400, missing)
    assert db_counts(engine) == before


@pytest.mark.parametrize("half", [{"lat": 10.98}, {"lon": 106.65}])
def test_a_latitude_without_longitude_or_the_reverse_names_the_coordinates(
        client, operator, engine, half):
    before = db_counts(engine)

    error = assert_error(client.post("/api/tickets", json={**VALID, **half}, headers=operator), 400)

    assert {"lat", "lon"} & set(error.get("fields", {})), error
    assert db_counts(engine) == before


@pytest.mark.parametrize("half", [{"lat": 10.98}, {"lon": 106.65}])
def test_a_latitude_without_longitude_or_the_reverse_is_refused(client, operator, engine, half):
    before = db_counts(engine)

    assert_error(client.post("/api/tickets", json={**VALID, **half}, headers=operator), 400)
    assert db_counts(engine) == before


def test_internal_must_be_a_json_boolean(client, session, engine):
    staff = bearer(client, make_user(session, "staff"))
    ticket = make_ticket(session)
    assign_ticket(session, SYSTEM, ticket.id, NOW, contact_point="SO_TNMT")
    session.commit()
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/comment", headers=staff,
                           json={"body": "Đã gọi lại cho người dân", "internal": "yes"})

    assert_error(response, 400, "internal")
    assert db_counts(engine) == before


def test_a_description_of_exactly_4000_characters_is_accepted(client, operator):
    response = client.post("/api/tickets", json={**VALID, "description": "đ" * 4000}, headers=operator)

    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["description"]) == 4000


@pytest.mark.parametrize(("data", "content_type"), [
    pytest.param("line=1022&channel=phone", "application/x-www-form-urlencoded", id="a form"),
    pytest.param("{not json", "application/json", id="broken JSON"),
    pytest.param(json.dumps(VALID), "text/plain", id="JSON sent as text/plain"),
    pytest.param(json.dumps([VALID]), "application/json", id="a JSON array"),
    pytest.param("null", "application/json", id="JSON null"),
    pytest.param("", "application/json", id="empty"),
])
def test_a_body_that_is_not_a_json_object_is_400(client, operator, engine, data, content_type):
    before = db_counts(engine)

    response = client.post("/api/tickets", data=data, content_type=content_type, headers=operator)

    assert_error(response, 400, "body", code="invalid_json")
    assert db_counts(engine) == before


def test_a_body_over_1_mb_is_413(client, operator, engine):
    before = db_counts(engine)
    huge = json.dumps({**VALID, "description": "x" * (1024 * 1024)})

    response = client.post("/api/tickets", data=huge, content_type="application/json", headers=operator)

    assert_error(response, 413, code="body_too_large")
    assert db_counts(engine) == before


# ---- actions -----------------------------------------------------------------------------

@pytest.fixture
def assigned(session):
    """A committed 1022 ticket assigned to SO_TNMT."""
    ticket = make_ticket(session)
    assign_ticket(session, SYSTEM, ticket.id, NOW, contact_point="SO_TNMT")
    session.commit()
    return ticket


@pytest.fixture
def staff(client, session):
    return bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))


@pytest.mark.parametrize("body", [
    pytest.param({"contact_point": "SO_TNMT", "hospital": "BVDK_TINH"}, id="both"),
    pytest.param({"reason": "không rõ"}, id="neither"),
])
def test_assign_names_contact_point_or_hospital_when_not_exactly_one_is_given(
        client, operator, assigned, engine, body):
    before = db_counts(engine)

    error = assert_error(client.post(f"/api/tickets/{assigned.id}/assign", json=body,
                                     headers=operator), 400)

    assert {"contact_point", "hospital"} & set(error.get("fields", {})), error
    assert db_counts(engine) == before


@pytest.mark.parametrize("body", [
    pytest.param({"contact_point": "SO_TNMT", "hospital": "BVDK_TINH"}, id="both"),
    pytest.param({"reason": "không rõ"}, id="neither"),
])
def test_assign_needs_exactly_one_destination(client, operator, assigned, engine, body):
    before = db_counts(engine)

    assert_error(client.post(f"/api/tickets/{assigned.id}/assign", json=body, headers=operator), 400)
    assert db_counts(engine) == before


def test_assign_to_an_unknown_contact_point_is_422(client, operator, assigned, engine):
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{assigned.id}/assign", json={"contact_point": "SO_KHONG_CO"},
                           headers=operator)

    assert_error(response, 422, "contact_point", code="validation_failed")
    assert db_counts(engine) == before


def test_assign_a_1022_ticket_to_a_hospital_is_422_naming_contact_point(
        client, operator, assigned, engine):
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{assigned.id}/assign", json={"hospital": "BVDK_TINH"},
                           headers=operator)

    assert_error(response, 422, "contact_point")
    assert db_counts(engine) == before


@pytest.mark.parametrize(("action", "body", "field"), [
    pytest.param("transfer", {"contact_point": "SO_XAYDUNG"}, "reason", id="transfer without reason"),
    pytest.param("transfer", {"contact_point": "SO_XAYDUNG", "reason": "   "}, "reason",
                 id="transfer with blank reason"),
    pytest.param("transfer", {"reason": "không phải của Sở"}, "contact_point",
                 id="transfer without contact point"),
    pytest.param("comment", {"body": ""}, "body", id="empty comment"),
    pytest.param("comment", {}, "body", id="comment without body"),
    pytest.param("resolve", {}, "resolution", id="resolve without resolution"),
    pytest.param("resolve", {"resolution": "xong", "version": "2"}, "version", id="version as text"),
    pytest.param("accept", {"note": "ok"}, "note", id="unknown field"),
])
def test_an_action_with_a_missing_or_bad_field_is_400_and_writes_nothing(
        client, staff, assigned, engine, action, body, field):
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{assigned.id}/{action}", json=body, headers=staff)

    assert_error(response, 400, field)
    assert db_counts(engine) == before


def test_transfer_to_an_unknown_contact_point_is_422(client, staff, assigned, engine):
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{assigned.id}/transfer", headers=staff,
                           json={"contact_point": "SO_KHONG_CO", "reason": "không phải của Sở"})

    assert_error(response, 422, "contact_point")
    assert db_counts(engine) == before


def test_an_action_body_that_is_not_a_json_object_is_400(client, staff, assigned, engine):
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{assigned.id}/resolve", data="[]",
                           content_type="application/json", headers=staff)

    assert_error(response, 400, "body", code="invalid_json")
    assert db_counts(engine) == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/tickets/999999", None),
    ("GET", "/api/tickets/999999/events", None),
    ("POST", "/api/tickets/999999/accept", {}),
    ("POST", "/api/tickets/999999/comment", {"body": "có ai không?"}),
    ("POST", "/api/tickets/999999/assign", {"contact_point": "SO_TNMT"}),
])
def test_a_ticket_that_does_not_exist_is_404(client, session, engine, method, path, body):
    supervisor = bearer(client, make_user(session, "supervisor"))
    before = db_counts(engine)

    response = client.open(path, method=method, json=body, headers=supervisor)

    assert_error(response, 404, code="not_found")
    assert db_counts(engine) == before


def test_a_path_that_does_not_exist_under_the_api_is_a_json_404(client, operator):
    assert_error(client.get("/api/tickets/abc", headers=operator), 404)
    assert_error(client.get("/api/nothing-here", headers=operator), 404)


@pytest.mark.parametrize("query", [
    "colour=red", "status=open", "line=113", "page=0", "per_page=0", "per_page=abc", "overdue=maybe",
])
def test_an_unknown_or_bad_query_parameter_is_400_naming_it(client, operator, query):
    name = query.split("=")[0]

    assert_error(client.get(f"/api/tickets?{query}", headers=operator), 400, name)


def test_an_invalid_phone_filter_is_refused_naming_phone(client, operator):
    error = assert_error(client.get("/api/tickets?phone=abc", headers=operator), 422, "phone")
    assert error["code"] == "validation_failed"
