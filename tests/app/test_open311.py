"""Open311 GeoReport v2 at /open311/v2 (CONTRACT.md; http://wiki.open311.org/GeoReport_v2).

Every method answers in JSON and XML with the specification's shapes and error format. A
POST with an ``open311`` key opens a 1022 ticket on channel ``app`` exactly as any other
channel does (routing, SLA clock, tracking SMS, consoles); anything refused writes nothing.
Reading shows 1022 tickets only — never 115 — and, without a ``read`` key, nothing personal.
"""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own answers in tests
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, text

from app.extensions import socketio
from tests.factories import PASSWORD, SYSTEM, make_ticket, make_user
from tests.servers import post_form, serving
from tickets.api_keys import issue_key, revoke_key, verify_key
from tickets.codes import display_code
from tickets.db import utcnow
from tickets.directory import Category
from tickets.models import Ticket
from tickets.services import accept_ticket, assign_ticket, resolve_ticket

BASE = "/open311/v2"
AT_PHU_CUONG = {"lat": "10.981331", "long": "106.651236"}  # Phường Phú Cường, Thủ Dầu Một
PHU_CUONG = "Phường Phú Cường, Thành phố Thủ Dầu Một"
STREET_LIGHT = "Đèn đường không sáng ở hẻm 12 đường Yersin, tối om nguy hiểm"


@pytest.fixture
def keys(session) -> dict[str, str]:
    """Plaintext keys by what they may do."""
    found = {}
    for name, scopes in (("create", "open311"), ("read", "read"), ("both", "open311,read"), ("revoked", "open311")):
        found[name] = issue_key(session, f"client-{name}", scopes, utcnow())[1]
    revoke_key(session, "client-revoked", utcnow())
    session.commit()
    return found


def post(client, key: str | None, fmt: str = "json", **fields):
    data = {"service_code": "do_thi", **AT_PHU_CUONG, "description": STREET_LIGHT, **fields}
    if key is not None:
        data["api_key"] = key
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
                for table in ("tickets", "ticket_events", "outbound_messages", "sla_clocks")}


def xml(response) -> ET.Element:
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.data)  # noqa: S314 - our own answer


def spec_errors(response, status: int) -> list[dict]:
    """The specification's error array, with each code equal to the HTTP status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/json; charset=utf-8"
    errors = response.get_json()
    assert isinstance(errors, list) and errors
    assert all(set(e) == {"code", "description"} and e["code"] == status and e["description"] for e in errors)
    return errors


def is_local_iso(value: str) -> bool:
    return value.endswith("+07:00") and datetime.fromisoformat(value).utcoffset() == timedelta(hours=7)


def ticket_now(session, **fields) -> Ticket:
    """A committed ticket opened now (GET requests looks at the last 90 days by default)."""
    return make_ticket(session, now=utcnow(), **{"category": "do_thi", "ward_code": "25747", **fields})


# ---- discovery and services -----------------------------------------------------------------

def test_discovery_names_the_endpoint_its_specification_and_formats(client, app):
    as_json = client.get(f"{BASE}/discovery.json")
    as_xml = xml(client.get(f"{BASE}/discovery.xml"))

    assert as_json.status_code == 200
    body = as_json.get_json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    assert is_local_iso(body["changeset"])
    [endpoint] = body["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": app.config["PUBLIC_BASE_URL"] + "/open311/v2", "changeset": body["changeset"],
                        "type": "production", "formats": ["text/xml", "application/json"]}
    assert as_xml.tag == "discovery"
    assert as_xml.findtext("contact") == body["contact"]
    assert [f.text for f in as_xml.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert as_xml.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"


def test_services_are_the_1022_categories_in_both_formats(client, session):
    categories = session.scalars(select(Category)).all()

    as_json = client.get(f"{BASE}/services.json")
    as_xml = xml(client.get(f"{BASE}/services.xml"))

    services = {s["service_code"]: s for s in as_json.get_json()}
    assert set(services) == {c.code for c in categories}
    assert services["moi_truong"] == {
        "service_code": "moi_truong", "service_name": "Môi trường", "description": "Environment and pollution",
        "metadata": False, "type": "realtime", "keywords": services["moi_truong"]["keywords"],
        "group": "Sở Tài nguyên và Môi trường tỉnh Bình Dương"}
    assert services["moi_truong"]["keywords"].startswith("ô nhiễm, khói bụi, ")
    assert "Môi trường".encode() in as_json.data  # diacritics as UTF-8, not \\u escapes
    assert as_xml.tag == "services" and len(as_xml.findall("service")) == len(categories)
    water = next(s for s in as_xml.findall("service") if s.findtext("service_code") == "moi_truong")
    assert (water.findtext("service_name"), water.findtext("metadata"), water.findtext("type")) == (
        "Môi trường", "false", "realtime")


def test_a_service_definition_has_no_attributes_and_an_unknown_code_is_404(client):
    as_json = client.get(f"{BASE}/services/moi_truong.json")
    as_xml = xml(client.get(f"{BASE}/services/moi_truong.xml"))

    assert as_json.get_json() == {"service_code": "moi_truong", "attributes": []}
    assert as_xml.tag == "service_definition"
    assert as_xml.findtext("service_code") == "moi_truong" and list(as_xml.find("attributes")) == []
    spec_errors(client.get(f"{BASE}/services/khong_co.json"), 404)
    missing = client.get(f"{BASE}/services/khong_co.xml")
    assert missing.status_code == 404
    assert [(e.findtext("code"), bool(e.findtext("description"))) for e in xml(missing).findall("error")] == [
        ("404", True)]


def test_the_jurisdiction_is_optional_but_another_one_is_not_found(client):
    assert client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "binhduong.gov.vn"}).status_code == 200
    spec_errors(client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "sf.gov"}), 404)
    spec_errors(client.get(f"{BASE}/requests.json", query_string={"jurisdiction_id": "sf.gov"}), 404)


# ---- POST requests ------------------------------------------------------------------------------

def test_a_post_opens_one_1022_app_ticket_with_its_sms_and_sla_clock(client, session, engine, keys):
    response = post(client, keys["create"], phone="0912 345 678", first_name="Văn An", last_name="Nguyễn",
                    email="an@example.vn", device_id="phone-1", media_url="https://anh.example.vn/1.jpg")

    assert response.status_code == 201, response.get_data(as_text=True)
    [answer] = response.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"} and answer["account_id"] is None
    tickets = session.scalars(select(Ticket)).all()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert answer["service_request_id"] == ticket.code
    assert display_code(ticket.code) in answer["service_notice"] and "tiếp nhận" in answer["service_notice"]
    assert (ticket.line, ticket.channel, ticket.category_code, ticket.description) == (
        "1022", "app", "do_thi", STREET_LIGHT)
    assert (ticket.caller_phone, ticket.caller_name, ticket.lat, ticket.lon) == (
        "+84912345678", "Nguyễn Văn An", 10.981331, 106.651236)
    with engine.connect() as conn:
        sms = conn.execute(text("SELECT to_number, kind, body FROM outbound_messages")).all()
        clocks = conn.execute(text("SELECT clock FROM sla_clocks WHERE ticket_id = :t"), {"t": ticket.id}).scalars()
        history = conn.execute(text("SELECT action, actor_label FROM ticket_events WHERE ticket_id = :t ORDER BY id"),
                               {"t": ticket.id}).all()
        assert "resolution" in set(clocks)
    assert [(to, kind) for to, kind, _ in sms] == [("+84912345678", "tracking")]
    assert display_code(ticket.code) in sms[0][2]
    assert history[:2] == [("created", "Open311: client-create"), ("open311_received", "Open311: client-create")]


def test_the_received_details_are_kept_in_the_history(client, session, keys):
    post(client, keys["create"], email="an@example.vn", device_id="phone-1", media_url="https://anh.example.vn/1.jpg")

    ticket = session.scalar(select(Ticket))
    operator = make_user(session, "operator")
    token = client.post("/api/auth/token", json={"username": operator.username, "password": PASSWORD}).json["token"]
    events = client.get(f"/api/tickets/{ticket.id}/events", headers={"Authorization": f"Bearer {token}"}).get_json()
    received = next(e for e in events if e["action"] == "open311_received")
    assert {k: received["data"][k] for k in ("client", "email", "device_id", "media_url")} == {
        "client": "client-create", "email": "an@example.vn", "device_id": "phone-1",
        "media_url": "https://anh.example.vn/1.jpg"}


def test_the_operators_console_hears_of_the_new_ticket(app, client, session, keys):
    make_user(session, "operator", username="lan")
    token = client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD}).json["token"]
    console = socketio.test_client(app, auth={"token": token})

    post(client, keys["create"])

    received = console.get_received()
    assert "ticket.created" in [m["name"] for m in received]
    created = next(m for m in received if m["name"] == "ticket.created")["args"][0]["ticket"]
    assert (created["line"], created["channel"]) == ("1022", "app")


def test_a_post_answers_in_xml_too(client, session, keys):
    response = post(client, keys["create"], fmt="xml")

    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == session.scalar(select(Ticket.code))
    assert request.find("account_id") is not None and request.findtext("account_id") == ""  # null: empty


def test_an_address_or_a_ward_code_is_enough_location(client, session, keys):
    by_address = post(client, keys["create"], lat=None, long=None, address_string="Hẻm 12 Yersin, Phú Cường")
    by_ward = post(client, keys["create"], lat=None, long=None, address_id="25747")

    assert by_address.status_code == by_ward.status_code == 201
    tickets = {t.code: t for t in session.scalars(select(Ticket))}
    assert tickets[by_address.get_json()[0]["service_request_id"]].address == "Hẻm 12 Yersin, Phú Cường"
    assert tickets[by_ward.get_json()[0]["service_request_id"]].ward_code == "25747"


@pytest.mark.parametrize("which", ["missing", "unknown", "revoked", "read-only"])
def test_no_valid_open311_key_is_403_and_nothing_is_written(client, engine, keys, which):
    key = {"missing": None, "unknown": "hk_" + "x" * 43, "revoked": keys["revoked"], "read-only": keys["read"]}[which]
    before = counts(engine)

    spec_errors(post(client, key), 403)
    assert xml(post(client, key, fmt="xml")).tag == "errors"

    assert counts(engine) == before


def test_the_key_may_come_in_the_query_string(client, session, keys):
    response = client.post(f"{BASE}/requests.json", query_string={"api_key": keys["create"]},
                           data={"service_code": "do_thi", "address_string": "Phú Cường"})
    assert response.status_code == 201


@pytest.mark.parametrize(("fields", "says"), [
    ({"service_code": "khong_co"}, "service_code"),
    ({"service_code": None}, "service_code"),
    ({"lat": None, "long": None}, "location"),
    ({"lat": "95"}, "lat"),
    ({"long": "-181"}, "long"),
    ({"lat": "abc"}, "lat"),
    ({"lat": "nan"}, "lat"),
    ({"long": None}, "together"),
    ({"lat": "48.8566", "long": "2.3522"}, "outside Vietnam"),  # Paris: a mistake for this hotline
    ({"description": "Đèn hỏng 💡🔥 " * 400 + "x" * 200}, "description"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "0912 345 678 999"}, "phone"),
    ({"email": "not-an-email"}, "email"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"address_id": "99999"}, "address_id"),
    ({"first_name": "A" * 101}, "first_name"),
])
def test_bad_input_is_400_naming_the_problem_and_nothing_is_written(client, engine, keys, fields, says):
    before = counts(engine)

    errors = spec_errors(post(client, keys["create"], **fields), 400)

    assert any(says in e["description"] for e in errors), errors
    assert counts(engine) == before


def test_control_characters_are_dropped_and_never_reach_the_database(client, session, keys):
    response = post(client, keys["create"], description="Nắp cống\x00 bị mất\x07", address_string="Hẻm\x00 5",
                    service_code="do_thi\x00")

    assert response.status_code == 201, response.get_data(as_text=True)
    assert session.execute(select(Ticket.description, Ticket.address)).one() == ("Nắp cống bị mất", "Hẻm 5")


def test_every_problem_is_named_at_once(client, keys):
    errors = spec_errors(post(client, keys["create"], service_code="khong_co", lat="95", phone="12"), 400)

    assert len(errors) == 3


def test_emoji_and_vietnamese_within_the_limit_are_kept_intact(client, session, keys):
    description = "Cây đổ chắn đường 🌳🚧 — nguy hiểm!"

    response = post(client, keys["create"], description=description)

    assert response.status_code == 201
    assert session.scalar(select(Ticket.description)) == description


# ---- resubmissions --------------------------------------------------------------------------

def test_the_same_submission_from_the_same_device_within_ten_minutes_opens_one_ticket(client, session, keys):
    first = post(client, keys["create"], device_id="phone-1")
    again = post(client, keys["create"], device_id="phone-1")
    changed = post(client, keys["create"], device_id="phone-1", description=STREET_LIGHT + " (thêm ảnh)")
    other_device = post(client, keys["create"], device_id="phone-2")
    anonymous = [post(client, keys["create"]) for _ in range(2)]

    assert (first.status_code, again.status_code, changed.status_code, other_device.status_code) == (
        201, 200, 201, 201)
    assert again.get_json() == first.get_json()
    opened = {r.get_json()[0]["service_request_id"] for r in (first, changed, other_device)}
    assert len(opened) == 3
    assert all(r.status_code == 201 for r in anonymous)  # without a device_id nothing can be matched
    assert session.scalar(select(text("count(*)")).select_from(Ticket)) == 5


def test_the_window_runs_ten_minutes_from_the_submission_that_opened_the_ticket(client, session, keys):
    start = utcnow()

    def post_at(minutes: int):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            return post(client, keys["create"], device_id="phone-1")

    first, at_nine, at_eleven, at_twelve = post_at(0), post_at(9), post_at(11), post_at(12)

    assert [r.status_code for r in (first, at_nine, at_eleven, at_twelve)] == [201, 200, 201, 200]
    assert at_nine.get_json() == first.get_json()
    assert at_eleven.get_json()[0]["service_request_id"] != first.get_json()[0]["service_request_id"]
    assert at_twelve.get_json() == at_eleven.get_json()  # the new ticket has its own ten minutes
    assert session.scalar(select(text("count(*)")).select_from(Ticket)) == 2


def test_twenty_identical_posts_at_once_open_one_ticket_and_every_answer_names_it(app, session, engine, keys):
    # A key used within the last minute is not written again (verify_key), so the requests
    # below meet only where the resubmission guard is, not on the key's row.
    verify_key(session, keys["create"], None, utcnow())
    session.commit()
    fields = {"api_key": keys["create"], "service_code": "do_thi", **AT_PHU_CUONG, "description": STREET_LIGHT,
              "phone": "0912 345 678", "device_id": "phone-1"}
    start = threading.Barrier(20, timeout=30)

    with serving(app) as base:
        def fire(_: int) -> tuple[int, bytes]:
            start.wait()
            return post_form(f"{base}{BASE}/requests.json", fields)

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(fire, range(20)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 19 + [201], results
    assert len({json.loads(body)[0]["service_request_id"] for _, body in results}) == 1
    after = counts(engine)
    assert (after["tickets"], after["outbound_messages"]) == (1, 1)  # one ticket, one tracking SMS
    assert session.scalar(select(Ticket.code)) == json.loads(results[0][1])[0]["service_request_id"]


# ---- GET requests -------------------------------------------------------------------------------

PERSONAL = ("description", "lat", "long", "phone", "first_name", "last_name", "email")


def test_the_public_sees_status_type_agency_times_and_the_ward_only(client, session):
    ticket = ticket_now(session, caller_name="Nguyễn Văn An", address="Số 5 hẻm 12 Yersin", lat=10.981331,
                        lon=106.651236)
    assign_ticket(session, SYSTEM, ticket.id, utcnow(), contact_point="SO_XAYDUNG")
    session.commit()

    one = client.get(f"{BASE}/requests/{ticket.code}.json")
    listed = client.get(f"{BASE}/requests.json")

    assert one.status_code == listed.status_code == 200
    [request] = one.get_json()
    assert listed.get_json() == [request]
    assert not set(request) & set(PERSONAL)
    assert request["service_request_id"] == ticket.code
    assert (request["status"], request["service_code"], request["service_name"]) == (
        "open", "do_thi", "Trật tự và hạ tầng đô thị")
    assert request["status_notes"] == "Đã chuyển đến đơn vị có thẩm quyền xử lý."
    assert request["agency_responsible"] == "Sở Xây dựng tỉnh Bình Dương"
    assert request["address"] == PHU_CUONG
    assert all(is_local_iso(request[k]) for k in ("requested_datetime", "updated_datetime"))
    raw = one.get_data(as_text=True) + listed.get_data(as_text=True)
    for secret in ("Nguyễn Văn An", "84912345678", "0912", "Yersin", "Đèn đường", "10.98", "106.65"):
        assert secret not in raw


def test_the_department_s_answer_is_never_shown(client, session):
    ticket = ticket_now(session)
    assign_ticket(session, SYSTEM, ticket.id, utcnow(), contact_point="SO_XAYDUNG")
    accept_ticket(session, SYSTEM, ticket.id, utcnow())
    resolve_ticket(session, SYSTEM, ticket.id, utcnow(), resolution="Ông Trần Văn B đã sửa đèn lúc 9 giờ")
    session.commit()

    response = client.get(f"{BASE}/requests/{ticket.code}.json")

    [request] = response.get_json()
    assert (request["status"], request["status_notes"]) == ("closed", "Đã có kết quả trả lời.")
    assert "Trần Văn B" not in response.get_data(as_text=True)


def test_a_read_key_also_sees_the_description_address_and_point(client, session, keys):
    ticket = ticket_now(session, address="Số 5 hẻm 12 Yersin", lat=10.981331, lon=106.651236)

    detailed = client.get(f"{BASE}/requests/{ticket.code}.json", query_string={"api_key": keys["read"]})
    create_only = client.get(f"{BASE}/requests/{ticket.code}.json", query_string={"api_key": keys["create"]})

    [request] = detailed.get_json()
    assert (request["description"], request["address"], request["lat"], request["long"]) == (
        ticket.description, "Số 5 hẻm 12 Yersin", 10.981331, 106.651236)
    assert "caller_phone" not in request and "0912" not in detailed.get_data(as_text=True)
    assert "description" not in create_only.get_json()[0]  # a key without "read" sees what the public sees


def test_an_unknown_or_revoked_key_is_403_when_reading(client, session, keys):
    ticket_now(session)

    spec_errors(client.get(f"{BASE}/requests.json", query_string={"api_key": "hk_nope"}), 403)
    spec_errors(client.get(f"{BASE}/requests.json", query_string={"api_key": keys["revoked"]}), 403)


def test_a_115_ticket_is_never_a_service_request(client, session, keys):
    emergency = ticket_now(session, line="115", category="y_te", description="Ngất xỉu")
    ordinary = ticket_now(session)

    by_id = client.get(f"{BASE}/requests/{emergency.code}.json", query_string={"api_key": keys["read"]})
    listed = client.get(f"{BASE}/requests.json", query_string={"api_key": keys["read"]})
    asked = client.get(f"{BASE}/requests.json",
                       query_string={"service_request_id": f"{emergency.code},{ordinary.code}"})

    spec_errors(by_id, 404)
    assert [r["service_request_id"] for r in listed.get_json()] == [ordinary.code]
    assert [r["service_request_id"] for r in asked.get_json()] == [ordinary.code]
    assert xml(client.get(f"{BASE}/requests/{emergency.code}.xml")).tag == "errors"


def test_an_unknown_id_is_404(client):
    spec_errors(client.get(f"{BASE}/requests/ABCD2345.json"), 404)
    spec_errors(client.get(f"{BASE}/requests/not-a-code.json"), 404)


def test_the_id_is_the_tracking_code_in_any_written_form(client, session):
    ticket = ticket_now(session)

    response = client.get(f"{BASE}/requests/{display_code(ticket.code).lower()}.json")

    assert response.get_json()[0]["service_request_id"] == ticket.code


def test_status_service_code_and_dates_filter_the_list(client, session):
    done = ticket_now(session, category="dien")
    assign_ticket(session, SYSTEM, done.id, utcnow(), contact_point="SO_XAYDUNG")
    resolve_ticket(session, SYSTEM, done.id, utcnow(), resolution="Đã sửa")
    session.commit()
    waiting = ticket_now(session)
    old = ticket_now(session)
    session.execute(text("UPDATE tickets SET created_at = :t WHERE id = :id"),
                    {"t": utcnow() - timedelta(days=120), "id": old.id})
    session.commit()

    def ids(**query) -> list[str]:
        response = client.get(f"{BASE}/requests.json", query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(r["service_request_id"] for r in response.get_json())

    assert ids() == sorted([done.code, waiting.code])  # the last 90 days
    assert ids(status="closed") == [done.code]
    assert ids(status="open") == [waiting.code]
    assert ids(status="open,closed") == sorted([done.code, waiting.code])
    assert ids(service_code="dien") == [done.code]
    since = (utcnow() - timedelta(days=200)).isoformat()
    assert ids(start_date=since) == sorted([done.code, waiting.code, old.code])
    assert ids(start_date=since, end_date=(utcnow() - timedelta(days=100)).isoformat()) == [old.code]
    assert ids(service_request_id=old.code, status="open") == [old.code]  # the ids override every other filter


@pytest.mark.parametrize("query", [{"status": "pending"}, {"service_code": "khong_co"}, {"start_date": "hôm qua"},
                                   {"end_date": "2026-13-40"}, {"start_date": "0001-01-01T00:00:00+07:00"},
                                   {"start_date": "2026-11-20T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}])
def test_bad_parameters_are_400(client, query):
    spec_errors(client.get(f"{BASE}/requests.json", query_string=query), 400)


def test_text_is_escaped_in_xml_and_vietnamese_is_intact_in_both_formats(client, session, keys):
    description = 'Có người dán <script>alert("x")</script> & vẽ bậy lên tường — Phường Phú Cường'
    ticket = ticket_now(session, description=description)

    as_xml = client.get(f"{BASE}/requests/{ticket.code}.xml", query_string={"api_key": keys["read"]})
    as_json = client.get(f"{BASE}/requests/{ticket.code}.json", query_string={"api_key": keys["read"]})

    assert b"<script>" not in as_xml.data
    assert "&lt;script&gt;" in as_xml.get_data(as_text=True) and "&amp; vẽ" in as_xml.get_data(as_text=True)
    request = xml(as_xml).find("request")
    assert request.findtext("description") == description
    assert request.findtext("address") == PHU_CUONG
    assert request.findtext("service_name") == "Trật tự và hạ tầng đô thị"
    assert as_json.content_type == "application/json; charset=utf-8"
    assert "& vẽ bậy lên tường — Phường Phú Cường".encode() in as_json.data  # UTF-8, not \\u escapes
    assert json.loads(as_json.data)[0]["description"] == description


def test_unknown_methods_and_formats_answer_in_the_error_format(client):
    spec_errors(client.get(f"{BASE}/requests.csv"), 404)
    spec_errors(client.get(f"{BASE}/tokens/abc.json"), 404)
    spec_errors(client.delete(f"{BASE}/requests.json"), 404)
    spec_errors(client.get(f"{BASE}/services/%00.json"), 404)
    spec_errors(client.get(f"{BASE}/requests/%00.json"), 404)
    assert xml(client.get(f"{BASE}/nothing.xml")).tag == "errors"
