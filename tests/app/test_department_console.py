"""The department console, the ticket page and what they read: who may open which page,
the SMS and call records of a ticket over the API, and the canned responses."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, PASSWORD, SYSTEM, bearer, make_ticket, make_user
from tickets.calls import attach_recording, open_call, update_call_status
from tickets.canned import CannedResponse, deactivate_canned_response, load_canned_responses
from tickets.services import assign_ticket

ROOT = Path(__file__).resolve().parents[2]
CANNED_FILE = ROOT / "data" / "directory" / "canned_responses.csv"


def sign_in(client, user) -> None:
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def ticket_of(session, contact_point: str, **fields):
    """A committed 1022 ticket assigned to ``contact_point``."""
    ticket = make_ticket(session, **fields)
    assign_ticket(session, SYSTEM, ticket.id, NOW, contact_point=contact_point)
    session.commit()
    return ticket


def page_config(html: str) -> dict:
    """The JSON the page hands to its script."""
    found = re.search(r'<script type="application/json" id="hotline-config">(.*?)</script>', html, re.S)
    assert found, "the page has no configuration block"
    return json.loads(found.group(1))


# ---- /department -------------------------------------------------------------------------

def test_a_staff_member_opens_their_department_queue(client, session):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    sign_in(client, staff)

    response = client.get("/department")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Sở Tài nguyên và Môi trường tỉnh Bình Dương" in html
    config = page_config(html)
    assert config["page"]["contact_point"]["code"] == "SO_TNMT"
    assert config["page"]["ticket_url"] == "/tickets/"
    assert config["page"]["names"]["categories"]["moi_truong"] == "Môi trường"


@pytest.mark.parametrize("role", ["operator", "dispatcher", "hospital", "supervisor"])
def test_other_roles_are_refused_the_department_queue(client, session, role):
    sign_in(client, make_user(session, role))
    assert client.get("/department").status_code == 403


def test_a_stranger_is_sent_to_sign_in_from_the_department_queue(client):
    response = client.get("/department")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_department_queue_speaks_english_when_asked(client, session):
    sign_in(client, make_user(session, "staff", contact_point="SO_TNMT"))
    client.get("/lang/en")
    config = page_config(client.get("/department").get_data(as_text=True))
    assert config["strings"]["accept"] == "Accept"
    assert config["page"]["contact_point"]["name"] == "Binh Duong Department of Natural Resources and Environment"
    # What the caller receives stays Vietnamese whatever the console's language.
    assert config["page"]["contact_point"]["name_vi"] == "Sở Tài nguyên và Môi trường tỉnh Bình Dương"


# ---- /tickets/<id> -----------------------------------------------------------------------

def test_the_staff_of_the_ticket_s_contact_point_opens_its_page(client, session):
    ticket = ticket_of(session, "SO_TNMT")
    sign_in(client, make_user(session, "staff", contact_point="SO_TNMT"))

    response = client.get(f"/tickets/{ticket.id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{ticket.code[:4]}-{ticket.code[4:]}" in html
    config = page_config(html)
    assert config["page"]["ticket"]["id"] == ticket.id
    assert [e["action"] for e in config["page"]["ticket"]["events"]] == ["created", "assign"]
    allowed = set(config["page"]["ticket"]["allowed_actions"])
    assert {"accept", "comment", "transfer", "resolve", "ask_caller"} <= allowed
    assert "assign" not in allowed and "cancel" not in allowed  # what staff may do, not the lifecycle


def test_the_staff_of_another_contact_point_gets_404_for_the_ticket_page(client, session):
    ticket = ticket_of(session, "SO_TNMT")
    sign_in(client, make_user(session, "staff", contact_point="SO_XAYDUNG"))
    assert client.get(f"/tickets/{ticket.id}").status_code == 404


def test_a_ticket_that_does_not_exist_is_404_like_one_you_may_not_read(client, session):
    sign_in(client, make_user(session, "supervisor"))
    assert client.get("/tickets/999999").status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "admin", "operator"])
def test_roles_that_read_every_1022_ticket_open_its_page(client, session, role):
    ticket = ticket_of(session, "SO_TNMT")
    sign_in(client, make_user(session, role))
    assert client.get(f"/tickets/{ticket.id}").status_code == 200


def test_a_hospital_may_not_open_a_1022_ticket_page(client, session):
    ticket = ticket_of(session, "SO_TNMT")
    sign_in(client, make_user(session, "hospital"))
    assert client.get(f"/tickets/{ticket.id}").status_code == 404


def test_a_stranger_is_sent_to_sign_in_from_a_ticket_page(client, session):
    ticket = ticket_of(session, "SO_TNMT")
    response = client.get(f"/tickets/{ticket.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_description_cannot_break_out_of_the_page_s_configuration(client, session):
    payload = '</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    ticket = ticket_of(session, "SO_TNMT", description=payload)
    sign_in(client, make_user(session, "supervisor"))

    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)

    assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert page_config(html)["page"]["ticket"]["description"] == payload


# ---- GET /api/tickets/ID/messages --------------------------------------------------------

@pytest.fixture
def routed_ticket(client, session):
    """A ticket opened and assigned to SO_TNMT over the API, so its tracking SMS is queued."""
    operator = make_user(session, "operator")
    headers = bearer(client, operator)
    created = client.post("/api/tickets", headers=headers, json={
        "line": "1022", "channel": "phone", "caller_phone": "0912 345 678", "category": "moi_truong",
        "description": "Khói bụi từ xưởng gỗ cuối hẻm 7"})
    assert created.status_code == 201, created.get_json()
    ticket_id = created.get_json()["id"]
    assigned = client.post(f"/api/tickets/{ticket_id}/assign", headers=headers,
                           json={"contact_point": "SO_TNMT", "reason": "môi trường"})
    assert assigned.status_code == 200, assigned.get_json()
    return ticket_id


def test_the_staff_reads_the_sms_sent_to_the_caller_with_its_delivery_status(client, session, routed_ticket):
    staff = make_user(session, "staff", contact_point="SO_TNMT")
    response = client.get(f"/api/tickets/{routed_ticket}/messages", headers=bearer(client, staff))

    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [(m["kind"], m["status"], m["to"]) for m in items] == [("tracking", "queued", "+84912345678")]
    assert "Mã tra cứu" in items[0]["body"]
    assert items[0]["created_at"].endswith("+07:00")


def test_an_external_comment_appears_among_the_messages_and_an_internal_one_does_not(client, session,
                                                                                  routed_ticket):
    headers = bearer(client, make_user(session, "staff", contact_point="SO_TNMT"))
    for body, internal in (("Ghi chú nội bộ: chờ đoàn kiểm tra", True), ("Đoàn kiểm tra sẽ đến trong tuần", False)):
        sent = client.post(f"/api/tickets/{routed_ticket}/comment", headers=headers,
                           json={"body": body, "internal": internal})
        assert sent.status_code == 200, sent.get_json()

    items = client.get(f"/api/tickets/{routed_ticket}/messages", headers=headers).get_json()["items"]

    assert [m["kind"] for m in items] == ["tracking", "reply"]
    assert "Đoàn kiểm tra sẽ đến trong tuần" in items[1]["body"]


@pytest.mark.parametrize(("role", "contact_point", "status"), [
    ("staff", "SO_XAYDUNG", 404), ("hospital", None, 404), ("supervisor", None, 200), ("operator", None, 200),
])
def test_the_messages_follow_the_ticket_s_read_permission(client, session, routed_ticket, role, contact_point,
                                                         status):
    user = make_user(session, role, **({"contact_point": contact_point} if contact_point else {}))
    response = client.get(f"/api/tickets/{routed_ticket}/messages", headers=bearer(client, user))
    assert response.status_code == status
    if status == 404:
        assert "+84912345678" not in response.get_data(as_text=True)


def test_the_messages_need_credentials(client, routed_ticket):
    assert client.get(f"/api/tickets/{routed_ticket}/messages").status_code == 401


# ---- GET /api/tickets/ID/calls -----------------------------------------------------------

def test_the_call_record_carries_the_voicemail_recording(client, session):
    call, _ = open_call(session, sid="CA" + "1" * 32, line="1022", from_raw="+84912345678", to="+842741022",
                        now=NOW)
    update_call_status(session, call, "completed", NOW, duration=41)
    attach_recording(session, call, recording_sid="RE" + "2" * 32, url="https://api.twilio.com/rec/RE2",
                     duration=17, now=NOW)
    assign_ticket(session, SYSTEM, call.ticket_id, NOW, contact_point="SO_TNMT")
    session.commit()

    own = client.get(f"/api/tickets/{call.ticket_id}/calls",
                     headers=bearer(client, make_user(session, "staff", contact_point="SO_TNMT")))
    other = client.get(f"/api/tickets/{call.ticket_id}/calls",
                       headers=bearer(client, make_user(session, "staff", contact_point="SO_XAYDUNG")))

    assert own.status_code == 200, own.get_json()
    [record] = own.get_json()["items"]
    assert record["sid"] == "CA" + "1" * 32
    assert (record["status"], record["duration"], record["voicemail"]) == ("completed", 41, True)
    assert (record["recording_url"], record["recording_duration"]) == ("https://api.twilio.com/rec/RE2", 17)
    assert record["callback_needed"] is True
    assert other.status_code == 404


def test_a_ticket_that_did_not_come_by_phone_has_no_call_record(client, session):
    ticket = ticket_of(session, "SO_TNMT", channel="web")
    response = client.get(f"/api/tickets/{ticket.id}/calls", headers=bearer(client, make_user(session, "supervisor")))
    assert response.status_code == 200
    assert response.get_json() == {"items": []}


# ---- GET /api/directory/canned-responses -------------------------------------------------

def file_rows(category: str) -> list[dict]:
    with CANNED_FILE.open(encoding="utf-8") as f:
        return sorted((r for r in csv.DictReader(f) if r["category"] == category), key=lambda r: int(r["position"]))


def test_signed_in_users_read_a_category_s_canned_responses_in_order(client, session):
    load_canned_responses(session, CANNED_FILE)
    session.commit()
    headers = bearer(client, make_user(session, "staff", contact_point="SO_XAYDUNG"))

    response = client.get("/api/directory/canned-responses?category=do_thi", headers=headers)

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["title"] for i in items] == [r["title"] for r in file_rows("do_thi")]
    assert {i["category"] for i in items} == {"do_thi"}
    assert set(items[0]) == {"id", "category", "title", "body"}


def test_a_retired_canned_response_is_no_longer_offered(client, session):
    load_canned_responses(session, CANNED_FILE)
    first = session.scalar(select(CannedResponse).where(CannedResponse.category_code == "dien")
                           .order_by(CannedResponse.position))
    deactivate_canned_response(session, first.id)
    session.commit()
    headers = bearer(client, make_user(session, "operator"))

    items = client.get("/api/directory/canned-responses?category=dien", headers=headers).get_json()["items"]

    assert first.id not in [i["id"] for i in items]
    assert len(items) == len(file_rows("dien")) - 1


def test_without_a_category_every_active_canned_response_is_listed(client, session):
    count = load_canned_responses(session, CANNED_FILE)
    session.commit()
    items = client.get("/api/directory/canned-responses",
                       headers=bearer(client, make_user(session, "operator"))).get_json()["items"]
    assert len(items) == count


def test_an_unknown_category_is_422_and_no_credentials_401(client, session):
    headers = bearer(client, make_user(session, "operator"))
    unknown = client.get("/api/directory/canned-responses?category=no_such_thing", headers=headers)
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["fields"] == {"category": "unknown code 'no_such_thing'"}
    assert client.get("/api/directory/canned-responses?category=dien").status_code == 401


def test_the_new_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/api/directory/canned-responses" in paths
    assert any(p.endswith("/messages") for p in paths) and any(p.endswith("/calls") and "tickets" in p for p in paths)


# ---- flask --app wsgi init ---------------------------------------------------------------

def test_init_loads_the_canned_responses_once_however_often_it_runs(app, runner, session):
    with CANNED_FILE.open(encoding="utf-8") as f:
        expected = sum(1 for _ in csv.DictReader(f))
    for _ in range(2):
        with app.app_context():
            result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert f"{expected} canned responses" in result.output
    assert session.scalar(select(func.count()).select_from(CannedResponse)) == expected
