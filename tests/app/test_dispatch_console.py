"""The 115 dispatch board and the hospital page, and what they need from the API: who may open
each page, the district boundaries for the map, the hospitals ranked for a case, and
dispatching a case in one step with the specialty it needs (kept for re-dispatch).

Real database, real directory, real routing; time is injected where a deadline matters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import config, router
from tests.factories import NOW, PASSWORD, SYSTEM, bearer, db_counts, make_ticket, make_user
from tickets.db import utcnow
from tickets.directory import Hospital
from tickets.models import Ticket, TicketEvent
from tickets.services import accept_ticket, assign_ticket, resolve_ticket

GEOJSON = router.GEOJSON
AT_BVDK_TINH = {"lat": 10.995089, "lon": 106.657617}
IN_DI_AN = {"lat": 10.896476, "lon": 106.752742}  # by Bệnh viện Quân đoàn 4 (no obstetrics)
BOARD_ROLES = ["dispatcher", "supervisor", "admin"]
ALL_ROLES = ["operator", "dispatcher", "staff", "hospital", "supervisor", "admin"]


@pytest.fixture(autouse=True)
def _hospitals_left_available(engine) -> Iterator[None]:
    yield
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.available.is_(False)).values(available=True))
    router.forget_snapshot()


def sign_in(client, session, role: str, **overrides):
    user = make_user(session, role, **overrides)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return user


def page_config(response) -> dict:
    html = response.get_data(as_text=True)
    start = html.index('id="hotline-config">') + len('id="hotline-config">')
    return json.loads(html[start:html.index("</script>", start)])


def as_role(client, session, role: str, **overrides) -> dict[str, str]:
    return bearer(client, make_user(session, role, **overrides))


def call_ticket(session, **fields) -> Ticket:
    """A 115 ticket as a call opens it: the caller's number, nothing else yet."""
    return make_ticket(session, line="115", description="", caller_phone="0912 345 678", **fields)


def dispatched(session, hospital: str = "BVDK_TINH", **fields) -> Ticket:
    ticket = make_ticket(session, line="115", description="Tai nạn giao thông", **{**AT_BVDK_TINH, **fields})
    assign_ticket(session, SYSTEM, ticket.id, NOW, hospital=hospital)
    session.commit()
    return ticket


def fresh(session, ticket_id: int) -> Ticket:
    session.rollback()
    session.expire_all()
    return session.get(Ticket, ticket_id)


LIFECYCLE = {"created", "update", "assign", "accept", "escalated"}


def actions_of(session, ticket_id: int) -> list[tuple[str, str]]:
    """The ticket's history as (action, who), lifecycle steps only (not, e.g., desk alerts)."""
    session.rollback()
    return [(e.action, e.actor_label) for e in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
        if e.action in LIFECYCLE]


def assert_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert field in error.get("fields", {}), error
    return error


# ---- who may open the pages --------------------------------------------------------------

@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_dispatch_board_is_for_dispatchers_supervisors_and_admins_only(client, session, role):
    sign_in(client, session, role)

    response = client.get("/dispatch")

    assert response.status_code == (200 if role in BOARD_ROLES else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_hospital_page_is_for_hospital_accounts_only(client, session, role):
    sign_in(client, session, role)

    response = client.get("/hospital")

    assert response.status_code == (200 if role == "hospital" else 403)


@pytest.mark.parametrize("path", ["/dispatch", "/hospital"])
def test_strangers_are_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_hospital_page_names_its_own_hospital_and_its_availability(client, session, engine):
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.code == "BV_BECAMEX").values(available=False))
    sign_in(client, session, "hospital", hospital="BV_BECAMEX")

    response = client.get("/hospital")

    page = page_config(response)["page"]
    assert page["hospital"] == {"code": "BV_BECAMEX", "name": "Bệnh viện Quốc tế Becamex", "available": False}
    assert "Bệnh viện Quốc tế Becamex" in response.get_data(as_text=True)


def test_the_board_gets_the_deadline_the_specialties_and_no_tiles_by_default(client, session):
    sign_in(client, session, "dispatcher")

    response = client.get("/dispatch")

    page = page_config(response)["page"]
    assert page["ack_seconds"] == 60
    assert page["tile_url"] is None
    codes = [s["code"] for s in page["specialties"]]
    assert {"trauma", "obstetrics", "pediatrics", "neonatal", "general"} <= set(codes)
    assert "primary_care" not in codes  # listed only by a centre without an emergency department
    html = response.get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/js/dispatch.js" in html
    # A closed network: no script, style or image from another host.
    assert re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', html) == []


def test_a_tile_server_is_a_setting(app, client, session):
    assert config.from_environment({})["MAP_TILE_URL"] is None
    assert config.from_environment({"MAP_TILE_URL": "https://tiles.local/{z}/{x}/{y}.png"})["MAP_TILE_URL"] \
        == "https://tiles.local/{z}/{x}/{y}.png"
    app.config["MAP_TILE_URL"] = "https://tiles.local/{z}/{x}/{y}.png"
    sign_in(client, session, "dispatcher")

    assert page_config(client.get("/dispatch"))["page"]["tile_url"] == "https://tiles.local/{z}/{x}/{y}.png"


# ---- the district boundaries ---------------------------------------------------------------

@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_map_reads_the_directorys_own_district_boundaries(client, session, role):
    headers = as_role(client, session, role)

    response = client.get("/api/directory/districts", headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.get_data() == GEOJSON.read_bytes()
    assert len(json.loads(response.get_data())["features"]) == 9


def test_the_district_boundaries_need_credentials(client):
    assert_error(client.get("/api/directory/districts"), 401)


def test_the_hospital_directory_has_what_the_map_needs(client, session):
    response = client.get("/api/directory/hospitals", headers=as_role(client, session, "dispatcher"))

    hospital = next(h for h in response.get_json() if h["code"] == "BV_HANHPHUC")
    assert hospital["lat"] == pytest.approx(10.868261) and hospital["lon"] == pytest.approx(106.714381)
    assert hospital["available"] is True and hospital["emergency"] is True
    assert hospital["specialties"] == ["obstetrics", "pediatrics", "neonatal"]


# ---- hospitals for a case ------------------------------------------------------------------

def test_a_case_lists_hospitals_by_travel_time_suitable_first(client, session, engine):
    ticket = dispatched(session, "BVDK_TINH")
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.code == "BV_VANPHUC1").values(available=False))

    response = client.get(f"/api/tickets/{ticket.id}/hospitals", headers=as_role(client, session, "dispatcher"))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["located"] is True and body["specialty"] is None
    items = body["items"]
    assert items[0]["code"] == "BVDK_TINH" and items[0]["current"] and items[0]["tried"]
    suitable = [i for i in items if i["suitable"]]
    assert items[:len(suitable)] == suitable
    assert [i["eta_minutes"] for i in suitable] == sorted(i["eta_minutes"] for i in suitable)
    full = next(i for i in items if i["code"] == "BV_VANPHUC1")
    assert (full["available"], full["suitable"]) == (False, False)
    assert next(i for i in items if i["code"] == "TTYT_TDM")["suitable"] is False  # no emergency department


def test_asking_for_a_specialty_marks_the_hospitals_without_it_unsuitable(client, session):
    ticket = dispatched(session, "BV_QD4", **IN_DI_AN)

    body = client.get(f"/api/tickets/{ticket.id}/hospitals", query_string={"specialty": "obstetrics"},
                      headers=as_role(client, session, "dispatcher")).get_json()

    qd4 = next(i for i in body["items"] if i["code"] == "BV_QD4")
    assert (qd4["has_specialty"], qd4["suitable"], qd4["current"]) == (False, False, True)
    assert body["items"][0]["code"] == "BV_BECAMEX"


def test_a_hospital_sees_only_how_far_the_patient_is_from_itself(client, session):
    ticket = dispatched(session, "BVDK_TINH")

    body = client.get(f"/api/tickets/{ticket.id}/hospitals",
                      headers=as_role(client, session, "hospital", hospital="BVDK_TINH")).get_json()

    assert [i["code"] for i in body["items"]] == ["BVDK_TINH"]
    assert body["items"][0]["distance_km"] == 0.0


@pytest.mark.parametrize(("role", "extra"), [("hospital", {"hospital": "BV_QD4"}), ("staff", {}),
                                             ("operator", {})])
def test_a_case_someone_may_not_read_is_404_for_its_hospitals(client, session, role, extra):
    ticket = dispatched(session, "BVDK_TINH")

    assert_error(client.get(f"/api/tickets/{ticket.id}/hospitals", headers=as_role(client, session, role, **extra)),
                 404)


def test_hospitals_for_a_case_without_a_place_are_none_yet(client, session):
    ticket = call_ticket(session)

    body = client.get(f"/api/tickets/{ticket.id}/hospitals", headers=as_role(client, session, "dispatcher")).get_json()

    assert body == {"ticket": ticket.id, "located": False, "specialty": None, "items": []}


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"specialty": "astrology"}, 422, "specialty"),
    ({"colour": "red"}, 400, "colour"),
    ({"specialty": "x" * 41}, 400, "specialty"),
])
def test_a_bad_hospitals_query_is_refused_naming_the_field(client, session, query, status, field):
    ticket = dispatched(session)

    assert_error(client.get(f"/api/tickets/{ticket.id}/hospitals", query_string=query,
                            headers=as_role(client, session, "dispatcher")), status, field)


def test_a_1022_ticket_has_no_hospitals(client, session):
    ticket = make_ticket(session)

    assert_error(client.get(f"/api/tickets/{ticket.id}/hospitals", headers=as_role(client, session, "supervisor")),
                 422, "ticket")


# ---- completing and dispatching a case -----------------------------------------------------

def test_a_call_completed_with_patch_is_dispatched_by_the_router_at_once(client, session):
    ticket = call_ticket(session)

    response = client.patch(f"/api/tickets/{ticket.id}", headers=as_role(client, session, "dispatcher"),
                            json={"description": "Ngã cầu thang, bất tỉnh", **AT_BVDK_TINH})

    assert response.status_code == 200, response.get_json()
    after = fresh(session, ticket.id)
    assert (after.status, after.hospital.code) == ("assigned", "BVDK_TINH")
    assert [a for a, _ in actions_of(session, ticket.id)] == ["created", "update", "assign"]


def test_a_dispatcher_completes_a_call_and_dispatches_it_to_the_nearest_with_the_specialty(client, session):
    ticket = call_ticket(session)
    dispatcher = make_user(session, "dispatcher", display_name="Trần Văn Điều")

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=bearer(client, dispatcher), json={
        "description": "Sản phụ chuyển dạ, ra máu nhiều", "address": "Đường Mỹ Phước Tân Vạn", "ward_code": "25942",
        "specialty": "obstetrics", "version": ticket.version, **IN_DI_AN})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["hospital"]["code"]) == ("assigned", "BV_BECAMEX")  # not BV_QD4, the nearest
    assert body["routing"]["specialty"] == "obstetrics"
    assert body["routing"]["hospitals"][0]["code"] == "BV_BECAMEX"
    after = fresh(session, ticket.id)
    assert (after.lat, after.lon, after.ward_code) == (IN_DI_AN["lat"], IN_DI_AN["lon"], "25942")
    assert actions_of(session, ticket.id)[1:] == [("update", "Trần Văn Điều"), ("assign", "Trần Văn Điều")]
    # The acknowledgement clock runs for DISPATCH_ACK_SECONDS from the dispatch: the board counts
    # it down. (It starts when the change is committed, a moment after assigned_at.)
    left = after.first_response_due - after.assigned_at
    assert timedelta(seconds=60) <= left < timedelta(seconds=65)


def test_without_a_specialty_the_case_goes_to_the_nearest_suitable_hospital(client, session):
    ticket = call_ticket(session)

    body = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=as_role(client, session, "dispatcher"),
                       json=IN_DI_AN).get_json()

    assert body["hospital"]["code"] == "BV_QD4"
    assert body["routing"]["specialty"] is None


def test_the_dispatcher_may_choose_another_hospital_from_the_list(client, session):
    ticket = dispatched(session, "BVDK_TINH")

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=as_role(client, session, "dispatcher"),
                           json={"hospital": "BV_COLUMBIA_BD", "reason": "BVDK báo hết phòng mổ"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hospital"]["code"] == "BV_COLUMBIA_BD"
    session.rollback()
    last = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                     TicketEvent.action == "assign")
                           .order_by(TicketEvent.id.desc())).first()
    assert (last.action, last.data["hospital"], last.data["reason"]) == ("assign", "BV_COLUMBIA_BD",
                                                                        "BVDK báo hết phòng mổ")
    assert last.data["previous"] == {"hospital": "BVDK_TINH"}


def test_a_re_dispatch_after_silence_still_looks_for_the_specialty(app, client, session):
    from app.database import db
    from app.publisher import commit_and_publish

    ticket = call_ticket(session)
    client.post(f"/api/tickets/{ticket.id}/dispatch", headers=as_role(client, session, "dispatcher"),
                json={"specialty": "obstetrics", **IN_DI_AN})

    with app.app_context():
        events = router.redispatch(db.session, ticket.id, utcnow() + timedelta(seconds=61), 60)
        commit_and_publish(db.session, events)

    # BV_QD4 is nearer but has no obstetrics; without the specialty it would have been chosen.
    assert fresh(session, ticket.id).hospital.code == "BV_HANHPHUC"


def test_no_available_hospital_is_a_conflict_and_nothing_is_written(client, session, engine):
    ticket = call_ticket(session)
    headers = as_role(client, session, "dispatcher")
    with engine.begin() as conn:
        conn.execute(update(Hospital).values(available=False))
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=headers, json=AT_BVDK_TINH)

    assert_error(response, 409, "hospital")
    assert db_counts(engine) == before


@pytest.mark.parametrize(("body", "status", "field"), [
    pytest.param({}, 400, "lat", id="no place at all"),
    pytest.param({"lat": 10.9}, 400, "lon", id="lat without lon"),
    pytest.param({"lat": 91, "lon": 106.6}, 400, "lat", id="lat 91"),
    pytest.param({"lat": "10.9", "lon": 106.6}, 400, "lat", id="lat as text"),
    pytest.param({**AT_BVDK_TINH, "specialty": "astrology"}, 422, "specialty", id="unknown specialty"),
    pytest.param({**AT_BVDK_TINH, "hospital": "BV_NOWHERE"}, 422, "hospital", id="unknown hospital"),
    pytest.param({**AT_BVDK_TINH, "ward_code": "99999"}, 422, "ward_code", id="unknown ward"),
    pytest.param({**AT_BVDK_TINH, "colour": "red"}, 400, "colour", id="unknown field"),
    pytest.param({**AT_BVDK_TINH, "description": "x" * 4001}, 400, "description", id="description too long"),
    pytest.param({**AT_BVDK_TINH, "version": 99}, 409, "version", id="stale version"),
])
def test_a_bad_dispatch_is_refused_naming_the_field_and_nothing_is_written(client, session, engine, body,
                                                                           status, field):
    ticket = call_ticket(session)
    headers = as_role(client, session, "dispatcher")
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=headers, json=body)

    assert_error(response, status, field)
    assert db_counts(engine) == before


@pytest.mark.parametrize("payload", ['["lat", 10.9]', "lat=10.9", ""])
def test_a_dispatch_body_that_is_not_a_json_object_is_refused(client, session, engine, payload):
    ticket = call_ticket(session)
    headers = as_role(client, session, "dispatcher")
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=headers, data=payload,
                           content_type="application/json")

    assert_error(response, 400, "body", code="invalid_json")
    assert db_counts(engine) == before


def test_a_closed_out_case_is_not_dispatched_again_and_its_details_stay(client, session, engine):
    ticket = dispatched(session)
    accept_ticket(session, SYSTEM, ticket.id, NOW)
    resolve_ticket(session, SYSTEM, ticket.id, NOW, resolution="Đã tiếp nhận bệnh nhân")
    session.commit()
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=as_role(client, session, "dispatcher"),
                           json={"description": "changed", **IN_DI_AN})

    assert_error(response, 409, code="invalid_transition")
    assert db_counts(engine) == before
    assert fresh(session, ticket.id).description == "Tai nạn giao thông"


def test_a_1022_ticket_is_not_dispatched_to_a_hospital(client, session, engine):
    ticket = make_ticket(session)
    before = db_counts(engine)

    assert_error(client.post(f"/api/tickets/{ticket.id}/dispatch", headers=as_role(client, session, "supervisor"),
                             json=AT_BVDK_TINH), 422, "ticket")
    assert db_counts(engine) == before


@pytest.mark.parametrize(("role", "extra", "status"), [
    ("hospital", {"hospital": "BVDK_TINH"}, 403),  # reads its own case, may not dispatch it
    ("hospital", {"hospital": "BV_QD4"}, 404),
    ("staff", {}, 404),
    ("operator", {}, 404),  # a 115 case it did not open
])
def test_only_dispatch_dispatches(client, session, engine, role, extra, status):
    ticket = dispatched(session, "BVDK_TINH")
    headers = as_role(client, session, role, **extra)
    before = db_counts(engine)

    assert_error(client.post(f"/api/tickets/{ticket.id}/dispatch", headers=headers,
                             json={"hospital": "BV_QD4"}), status)
    assert db_counts(engine) == before


@pytest.mark.parametrize("role", BOARD_ROLES)
def test_the_board_roles_may_dispatch(client, session, role):
    ticket = call_ticket(session)

    response = client.post(f"/api/tickets/{ticket.id}/dispatch", headers=as_role(client, session, role),
                           json=AT_BVDK_TINH)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hospital"]["code"] == "BVDK_TINH"


def test_dispatching_without_credentials_is_401(client, session, engine):
    ticket = call_ticket(session)
    before = db_counts(engine)

    assert_error(client.post(f"/api/tickets/{ticket.id}/dispatch", json=AT_BVDK_TINH), 401)
    assert db_counts(engine) == before


def test_the_new_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    assert "post" in paths["/api/tickets/{ticket_id}/dispatch"]
    assert "get" in paths["/api/tickets/{ticket_id}/hospitals"]
    assert "get" in paths["/api/directory/districts"]
