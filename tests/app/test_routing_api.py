"""The routing engine through the API: what POST /api/routing/preview proposes (and refuses),
hospitals saying they are full, and what happens to a ticket the moment it is opened.

Real database, real directory and routing rules, the real classifier; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from app import router
from tests.factories import NOW, SYSTEM, bearer, db_counts, make_ticket, make_user
from tickets.directory import Hospital
from tickets.models import Ticket, TicketEvent
from tickets.services import cancel_ticket

PREVIEW = "/api/routing/preview"
STREET_LIGHT = "Đèn đường trước trường học ở phường Phú Cường không sáng"
STREET_LIGHT_ASCII = "den duong khong sang o phuong Phu Cuong"
POWER_CUT = "Cúp điện từ sáng ở phường Phú Cường"  # the classifier is sure of this one (dien, >0.8)
PHU_CUONG, DI_AN = "25747", "25942"  # wards of Thủ Dầu Một (718) and Dĩ An (724)
AT_BVDK_TINH = {"lat": 10.995089, "lon": 106.657617}
AT_TTYT_TDM = {"lat": 10.981331, "lon": 106.651236}  # a medical centre with no emergency department
IN_THUAN_AN = {"lat": 10.8683, "lon": 106.7145}  # Phường Vĩnh Phú, by Bệnh viện Hạnh Phúc


# ---- helpers -----------------------------------------------------------------------------



def as_role(client, session, role: str, **overrides: Any) -> dict[str, str]:
    return bearer(client, make_user(session, role, **overrides))


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert field in error.get("fields", {}), error
    return error




def fresh(session, ticket_id: int) -> Ticket:
    session.rollback()
    session.expire_all()
    return session.get(Ticket, ticket_id)


def events_of(session, ticket_id: int) -> list[TicketEvent]:
    session.rollback()
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id)))


@pytest.fixture(autouse=True)
def _hospitals_left_available(engine) -> Iterator[None]:
    """The directory is shared by every test: whatever a test marks full is made available again."""
    yield
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.available.is_(False)).values(available=True))
    router.forget_snapshot()


@pytest.fixture
def operator(client, session) -> dict[str, str]:
    return as_role(client, session, "operator")


# ---- preview, 1022 -----------------------------------------------------------------------

def test_a_1022_preview_proposes_a_contact_point_with_its_reasons(client, operator):
    response = client.post(PREVIEW, json={"description": STREET_LIGHT}, headers=operator)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["line"] == "1022" and body["hospitals"] == []
    decision = body["decision"]
    assert decision["category"] == "do_thi"
    # Street lighting is a district matter, and Phú Cường is in Thủ Dầu Một.
    assert decision["contact_point"] == "UBND_TDM"
    assert decision["contact_point_name"] == "Ủy ban nhân dân thành phố Thủ Dầu Một"
    assert (decision["location"]["ward_code"], decision["location"]["district_code"]) == (PHU_CUONG, "718")
    assert 0.0 <= decision["confidence"] <= 1.0
    assert isinstance(decision["needs_confirmation"], bool)
    assert decision["reasons"], "a proposal says why"
    assert all(r["code"] and r["vi"] and r["en"] for r in decision["reasons"])
    assert isinstance(decision["alternatives"], list)
    for alternative in decision["alternatives"]:
        assert alternative["contact_point"] != decision["contact_point"]
        assert 0.0 <= alternative["confidence"] <= 1.0 and alternative["reason"]["vi"]


def test_a_description_typed_without_diacritics_is_routed_the_same(client, operator):
    response = client.post(PREVIEW, json={"description": STREET_LIGHT_ASCII}, headers=operator)

    assert response.status_code == 200, response.get_json()
    decision = response.get_json()["decision"]
    assert (decision["category"], decision["contact_point"]) == ("do_thi", "UBND_TDM")
    assert decision["location"]["ward_code"] == PHU_CUONG
    assert 0.0 <= decision["confidence"] <= 1.0 and decision["reasons"]


@pytest.mark.parametrize("category", [None, "dat_dai"], ids=["classified", "given"])
def test_a_district_level_matter_in_a_ward_of_di_an_goes_to_di_an_peoples_committee(
        client, operator, category):
    body = {"description": "tranh chấp đất", "ward_code": DI_AN}
    if category:
        body["category"] = category
    response = client.post(PREVIEW, json=body, headers=operator)

    assert response.status_code == 200, response.get_json()
    decision = response.get_json()["decision"]
    assert decision["category"] == "dat_dai"
    assert decision["contact_point"] == "UBND_DIAN"
    assert decision["location"]["district_code"] == "724"
    assert decision["category_source"] == ("given" if category else "classifier")
    # Without the ward the same words go to the provincial owner of land matters.
    unplaced = client.post(PREVIEW, json={"description": "tranh chấp đất", "category": "dat_dai"},
                           headers=operator).get_json()["decision"]
    assert unplaced["contact_point"] == "SO_TNMT"


def test_a_preview_writes_nothing(client, operator, session, engine):
    make_ticket(session, caller_phone="0912 345 678")
    before = db_counts(engine)

    for body in ({"description": STREET_LIGHT, "caller_phone": "0912345678"},
                 {"description": "tranh chấp đất", "ward_code": DI_AN},
                 {"line": "115", **AT_BVDK_TINH}):
        assert client.post(PREVIEW, json=body, headers=operator).status_code == 200

    assert db_counts(engine) == before


def test_an_open_ticket_of_the_same_caller_is_offered_as_a_duplicate(client, operator, session):
    open_one = make_ticket(session, caller_phone="0912 345 678", description="Cây đổ chắn đường")
    cancelled = make_ticket(session, caller_phone="0912 345 678", description="Gọi nhầm")
    cancel_ticket(session, SYSTEM, cancelled.id, NOW, reason="gọi nhầm")
    session.commit()
    make_ticket(session, caller_phone="0987 654 321", description="Cây đổ chắn đường")

    response = client.post(PREVIEW, json={"description": STREET_LIGHT, "caller_phone": "+84 912 345 678"},
                           headers=operator)

    assert response.status_code == 200, response.get_json()
    duplicates = response.get_json()["duplicates"]
    assert [d["ticket_id"] for d in duplicates] == [open_one.id]  # not the cancelled one, not another caller
    assert duplicates[0]["same_caller"] is True
    assert [r["code"] for r in duplicates[0]["reasons"]] == ["same_caller"]
    # An unknown caller has no duplicates.
    other = client.post(PREVIEW, json={"description": STREET_LIGHT, "caller_phone": "0901 111 222"},
                        headers=operator)
    assert other.get_json()["duplicates"] == []


# ---- preview, bad input and who may ask ---------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"description": "Ổ gà", "ward_code": "99999"}, "ward_code", id="unknown ward_code"),
    pytest.param({"description": "Ổ gà", "lat": 48.85, "lon": 2.35}, "lat", id="Paris"),
    pytest.param({"description": "x" * 10_000}, "description", id="description 10000 chars"),
    pytest.param({"description": "Ổ gà", "category": "khong_co"}, "category", id="unknown category"),
    pytest.param({"line": "115"}, "lat", id="115 without a location"),
    pytest.param({"line": "115", "lon": 106.65}, "lat", id="115 without lat"),
    pytest.param({"line": "115", "lat": 48.85, "lon": 2.35}, "lat", id="115 in Paris"),
    pytest.param({"description": "Ổ gà", "lat": 95, "lon": 106.6}, "lat", id="lat 95"),
    pytest.param({"description": "Ổ gà", "lat": 10.98}, "lon", id="lat without lon"),
    pytest.param({"line": "113", "description": "Ổ gà"}, "line", id="unknown line"),
    pytest.param({"description": "Ổ gà", "colour": "red"}, "colour", id="unknown field"),
])
def test_a_bad_preview_is_refused_naming_the_field(client, operator, engine, body, field):
    before = db_counts(engine)
    assert_error(client.post(PREVIEW, json=body, headers=operator), 400, field)
    assert db_counts(engine) == before


def test_a_description_just_under_the_limit_is_routed(client, operator):
    response = client.post(PREVIEW, json={"description": "Đèn đường hỏng " + "x" * 3_984}, headers=operator)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decision"]["reasons"]


def test_words_the_engine_cannot_place_come_back_as_a_guess_to_confirm(client, operator):
    response = client.post(PREVIEW, json={"description": "my neighbour is loud"}, headers=operator)

    assert response.status_code == 200, response.get_json()
    decision = response.get_json()["decision"]
    assert decision["needs_confirmation"] is True
    assert decision["confidence"] < 0.25
    assert decision["category"] is None  # a guess is not passed off as a category
    assert "fallback" in [r["code"] for r in decision["reasons"]]


@pytest.mark.parametrize("role", ["staff", "hospital"])
def test_departments_and_hospitals_may_not_preview(client, session, role):
    headers = as_role(client, session, role)
    assert_error(client.post(PREVIEW, json={"description": STREET_LIGHT}, headers=headers), 403)
    assert_error(client.post(PREVIEW, json={"line": "115", **AT_BVDK_TINH}, headers=headers), 403)


@pytest.mark.parametrize("role", ["operator", "dispatcher", "supervisor", "admin"])
def test_the_consoles_may_preview(client, session, role):
    headers = as_role(client, session, role)
    assert client.post(PREVIEW, json={"description": STREET_LIGHT}, headers=headers).status_code == 200
    assert client.post(PREVIEW, json={"line": "115", **AT_BVDK_TINH}, headers=headers).status_code == 200


def test_a_preview_without_credentials_is_401(client):
    assert_error(client.post(PREVIEW, json={"description": STREET_LIGHT}), 401)
    assert_error(client.post(PREVIEW, json={"description": STREET_LIGHT},
                             headers={"Authorization": "Bearer forged"}), 401)


# ---- preview, 115 ------------------------------------------------------------------------

def hospital_codes(client, headers, **body) -> list[str]:
    response = client.post(PREVIEW, json={"line": "115", **body}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decision"] is None
    return [h["code"] for h in response.get_json()["hospitals"]]


def test_a_115_preview_lists_the_nearest_emergency_hospitals_first(client, session):
    dispatcher = as_role(client, session, "dispatcher")
    response = client.post(PREVIEW, json={"line": "115", **AT_BVDK_TINH}, headers=dispatcher)

    assert response.status_code == 200, response.get_json()
    hospitals = response.get_json()["hospitals"]
    assert hospitals[0]["code"] == "BVDK_TINH"
    assert hospitals[0]["name"] == "Bệnh viện Đa khoa tỉnh Bình Dương"
    assert hospitals[0]["distance_km"] < 0.1
    etas = [h["eta_minutes"] for h in hospitals]
    assert etas == sorted(etas) and len(hospitals) > 1
    assert all(h["reasons"] and h["reasons"][0]["code"] == "travel" for h in hospitals)
    # A medical centre without an emergency department is never proposed, even next door.
    assert hospital_codes(client, dispatcher, **AT_TTYT_TDM)[0] == "BVDK_TINH"
    assert "TTYT_TDM" not in hospital_codes(client, dispatcher, **AT_TTYT_TDM)


def test_a_115_preview_for_a_specialty_lists_only_hospitals_that_have_it(client, session):
    dispatcher = as_role(client, session, "dispatcher")
    codes = hospital_codes(client, dispatcher, specialty="obstetrics", **IN_THUAN_AN)

    assert codes[0] == "BV_HANHPHUC"  # the women's and children's hospital of Thuận An
    session.rollback()
    specialties = dict(session.execute(select(Hospital.code, Hospital.specialties)).all())
    assert all("obstetrics" in specialties[c] for c in codes)
    # Without the specialty the general hospitals nearby are listed too.
    assert set(hospital_codes(client, dispatcher, **IN_THUAN_AN)) - set(codes)


def test_a_hospital_that_says_it_is_full_is_skipped_at_once(client, session):
    dispatcher = as_role(client, session, "dispatcher")
    hospital = as_role(client, session, "hospital", hospital="BVDK_TINH")
    assert hospital_codes(client, dispatcher, **AT_BVDK_TINH)[0] == "BVDK_TINH"  # the snapshot is warm

    full = client.post("/api/hospitals/BVDK_TINH/availability", json={"available": False}, headers=hospital)

    assert full.status_code == 200, full.get_json()
    assert full.get_json() == {"code": "BVDK_TINH", "available": False}
    assert "BVDK_TINH" not in hospital_codes(client, dispatcher, **AT_BVDK_TINH)
    # A 115 ticket opened now is not sent there either.
    created = client.post("/api/tickets", headers=dispatcher, json={
        "line": "115", "channel": "phone", "description": "Tai nạn giao thông", **AT_BVDK_TINH}).get_json()
    assert created["hospital"]["code"] == "BV_VANPHUC1"

    again = client.post("/api/hospitals/BVDK_TINH/availability", json={"available": True}, headers=hospital)
    assert again.get_json() == {"code": "BVDK_TINH", "available": True}
    assert hospital_codes(client, dispatcher, **AT_BVDK_TINH)[0] == "BVDK_TINH"


def test_a_change_of_availability_is_audited_and_every_dispatch_console_hears_it_at_once(app, client, session,
                                                                                       engine):
    from app.extensions import socketio
    from tickets.audit import AuditEntry, config_version

    hospital = as_role(client, session, "hospital", hospital="BVDK_TINH")
    dispatcher_user = make_user(session, "dispatcher")
    board = socketio.test_client(app, auth={"token": bearer(client, dispatcher_user)["Authorization"][7:]})
    with engine.connect() as conn:
        version = config_version(Session(bind=conn))

    client.post("/api/hospitals/BVDK_TINH/availability", json={"available": False}, headers=hospital)
    client.post("/api/hospitals/BVDK_TINH/availability", json={"available": False}, headers=hospital)  # no change

    heard = [m for m in board.get_received() if m["name"] == "config.changed"]
    assert [m["args"][0]["entity"] for m in heard] == ["hospital"]
    assert heard[0]["args"][0]["key"] == "BVDK_TINH"
    with Session(engine) as fresh:
        [entry] = fresh.scalars(select(AuditEntry).where(AuditEntry.entity == "hospital"))
        assert (entry.entity_key, entry.before, entry.after) == ("BVDK_TINH", {"available": True},
                                                                 {"available": False})
        assert entry.actor_label  # who made it full
        assert config_version(fresh) == version + 1  # every process's routing snapshot is stale now


def test_only_the_hospital_itself_or_dispatch_may_change_its_availability(client, session, engine):
    other_hospital = as_role(client, session, "hospital", hospital="BV_BECAMEX")
    operator = as_role(client, session, "operator")
    staff = as_role(client, session, "staff")
    for headers in (other_hospital, operator, staff):
        assert_error(client.post("/api/hospitals/BVDK_TINH/availability", json={"available": False},
                                 headers=headers), 403)
    with engine.connect() as conn:
        assert conn.scalar(select(Hospital.available).where(Hospital.code == "BVDK_TINH")) is True

    for role in ("dispatcher", "supervisor"):
        headers = as_role(client, session, role)
        response = client.post("/api/hospitals/BVDK_TINH/availability", json={"available": False},
                               headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["available"] is False
    with engine.connect() as conn:
        assert conn.scalar(select(Hospital.available).where(Hospital.code == "BVDK_TINH")) is False


def test_availability_of_an_unknown_hospital_or_with_a_bad_body_is_refused(client, session):
    dispatcher = as_role(client, session, "dispatcher")
    assert_error(client.post("/api/hospitals/BV_KHONGCO/availability", json={"available": False},
                             headers=dispatcher), 404)
    assert_error(client.post("/api/hospitals/BVDK_TINH/availability", json={}, headers=dispatcher),
                 400, "available")
    assert_error(client.post("/api/hospitals/BVDK_TINH/availability", json={"available": "maybe"},
                             headers=dispatcher), 400, "available")
    assert_error(client.post("/api/hospitals/BVDK_TINH/availability", json={"available": False}), 401)


# ---- routing a ticket the moment it is opened ---------------------------------------------

TWILIO_TOKEN = "routing-test-token"


def _sms_app(database_url: str):
    from app import create_app
    from app.extensions import socketio

    socketio.server_options.pop("client_manager", None)
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                       "WTF_CSRF_ENABLED": False, "REDIS_URL": None, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                       "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})


@pytest.fixture
def sms_app(database_url, session):
    application = _sms_app(database_url)
    yield application
    application.extensions["database"].engine.dispose()


def post_sms(application, body: str, sid: str = "SM" + "1" * 32, sender: str = "+84912345678"):
    """An incoming SMS to the 1022 number, exactly as Twilio posts and signs it."""
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
              "To": "+842741022", "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
              "ApiVersion": "2010-04-01"}
    url = application.config["PUBLIC_BASE_URL"] + "/twilio/sms"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    response = application.test_client().post("/twilio/sms", data=params,
                                              headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.get_data(as_text=True)


def only_ticket(session) -> Ticket:
    session.rollback()
    session.expire_all()
    [ticket] = session.scalars(select(Ticket)).unique().all()
    return ticket


def test_a_clear_sms_is_assigned_by_the_router_at_once(sms_app, session):
    post_sms(sms_app, POWER_CUT)

    ticket = only_ticket(session)
    assert (ticket.channel, ticket.created_by_id) == ("sms", None)
    assert ticket.status == "assigned"
    assert ticket.contact_point.code == "DIENLUC_BD"
    assert ticket.category_code == "dien" and ticket.category_confirmed is False
    assert ticket.assigned_at is not None
    assert ticket.routing["contact_point"] == "DIENLUC_BD" and ticket.routing["needs_confirmation"] is False
    created, assigned = events_of(session, ticket.id)
    assert created.action == "created"
    assert (assigned.action, assigned.actor_label, assigned.actor_id) == ("assign", "Định tuyến tự động", None)
    assert assigned.data["contact_point"] == "DIENLUC_BD"
    assert assigned.data["reason"]  # the engine's reasons, readable in the history


def test_an_unclear_sms_stays_new_with_the_proposal_for_an_operator(sms_app, session):
    post_sms(sms_app, "my neighbour is loud")

    ticket = only_ticket(session)
    assert (ticket.status, ticket.contact_point, ticket.category_code) == ("new", None, None)
    assert ticket.routing["needs_confirmation"] is True
    assert [e.action for e in events_of(session, ticket.id)] == ["created"]


def test_a_system_opened_ticket_is_routed_by_commit_and_publish(app, session):
    from app.database import db
    from app.publisher import commit_and_publish
    from tickets.db import utcnow
    from tickets.permissions import SystemActor
    from tickets.services import NewTicket, open_ticket

    with app.app_context():
        ticket, events = open_ticket(db.session, SystemActor("Ứng dụng công dân"), NewTicket(
            line="1022", channel="web", description=POWER_CUT), utcnow())
        commit_and_publish(db.session, events)
        ticket_id = ticket.id

    ticket = fresh(session, ticket_id)
    assert (ticket.status, ticket.contact_point.code) == ("assigned", "DIENLUC_BD")
    assert [(e.action, e.actor_label) for e in events_of(session, ticket_id)] == [
        ("created", "Ứng dụng công dân"), ("assign", "Định tuyến tự động")]


def test_an_operators_ticket_stays_new_but_carries_the_proposal(client, session, operator):
    created = client.post("/api/tickets", headers=operator, json={
        "line": "1022", "channel": "phone", "description": POWER_CUT})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()

    # The operator is at the console: nothing is assigned behind their back.
    assert body["status"] == "new" and body["contact_point"] is None
    ticket = fresh(session, body["id"])
    assert (ticket.status, ticket.contact_point_id, ticket.assigned_at) == ("new", None, None)
    assert [e.action for e in events_of(session, ticket.id)] == ["created"]
    # The proposal is stored with the ticket, for the operator to confirm with "assign".
    assert ticket.routing["contact_point"] == "DIENLUC_BD"
    assert ticket.routing["category"] == "dien"
    assert ticket.routing["reasons"] and 0 <= ticket.routing["confidence"] <= 1
    assert isinstance(ticket.routing["alternatives"], list)
    # ...and shown to the operator with the ticket.
    detail = client.get(f"/api/tickets/{ticket.id}", headers=operator).get_json()
    assert detail["routing"] == ticket.routing
    assert body["routing"] == ticket.routing


def test_a_115_ticket_with_a_location_is_dispatched_to_the_nearest_hospital_at_once(client, session):
    dispatcher = as_role(client, session, "dispatcher")
    created = client.post("/api/tickets", headers=dispatcher, json={
        "line": "115", "channel": "phone", "description": "Ngất xỉu giữa đường", **AT_BVDK_TINH})

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "assigned" and body["hospital"]["code"] == "BVDK_TINH"
    ticket = fresh(session, body["id"])
    assert ticket.assigned_at is not None and ticket.accepted_at is None
    assert [h["code"] for h in ticket.routing["hospitals"]][0] == "BVDK_TINH"
    created_event, assigned = events_of(session, ticket.id)
    assert (assigned.action, assigned.actor_label) == ("assign", "Điều phối tự động 115")
    assert assigned.data["hospital"] == "BVDK_TINH" and assigned.data["reason"]


def test_a_115_ticket_without_a_location_waits_for_the_dispatcher(client, session):
    dispatcher = as_role(client, session, "dispatcher")
    created = client.post("/api/tickets", headers=dispatcher, json={
        "line": "115", "channel": "phone", "description": "Người nhà khó thở"})

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["status"], body["hospital"]) == ("new", None)
    assert [e.action for e in events_of(session, body["id"])] == ["created"]
