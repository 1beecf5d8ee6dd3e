"""The operator console (/console) and what it needs from the API: who may open it, what the
page tells its script, the demo call simulator, and linking a duplicate to the ticket it repeats."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import NOW, PASSWORD, SYSTEM, bearer, db_counts, make_ticket, make_user
from tickets.calls import Call
from tickets.models import TicketEvent
from tickets.services import assign_ticket, cancel_ticket

# ---- helpers -----------------------------------------------------------------------------


def sign_in(client, username: str) -> None:
    """Through the login form, with its CSRF token when the app checks it."""
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"username": username, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
    response = client.post("/login", data=data)
    assert (response.status_code, response.headers.get("Location")) in ((302, "/"), (302, "/console")), \
        response.get_data(as_text=True)


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="hotline-config">(.*?)</script>', html, re.S)
    assert match, "the console page carries its configuration"
    return json.loads(match.group(1))


def csrf_of(html: str) -> str:
    return page_config(html)["csrf"]


def events_of(session, ticket_id: int, action: str | None = None) -> list[TicketEvent]:
    session.expire_all()
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    if action:
        stmt = stmt.where(TicketEvent.action == action)
    return list(session.scalars(stmt))


@pytest.fixture
def make_console_app(database_url, engine):
    """Apps with Twilio's auth token set (webhooks are signed with it) and extra settings."""
    from app import create_app
    from app.extensions import socketio
    from tests.conftest import _empty_transactional_tables
    from tests.telephony.conftest import base_config

    built = []

    def build(**overrides):
        socketio.server_options.pop("client_manager", None)
        application = create_app(base_config(database_url, **overrides))
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["database"].engine.dispose()
    _empty_transactional_tables(engine)


@pytest.fixture
def demo_app(make_console_app):
    """Demo mode with CSRF on, as `make run` serves it (with a known signing token)."""
    return make_console_app(HOTLINE_DEMO=True, WTF_CSRF_ENABLED=True)


# ---- the page ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
def test_operators_supervisors_and_admins_open_the_console(client, session, role):
    make_user(session, role, username="lan")
    sign_in(client, "lan")

    response = client.get("/console")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert page_config(html)["user"]["role"] == role
    for element in ('id="queue-list"', 'id="callback-list"', 'id="ticket-form"', 'id="proposal-body"',
                    'id="call-dialog"', 'id="duty"'):
        assert element in html
    assert "js/operator.js" in html and "css/operator.css" in html


@pytest.mark.parametrize("role", ["staff", "hospital", "dispatcher"])
def test_other_roles_are_refused_the_console(client, session, role):
    make_user(session, role, username="tam")
    sign_in(client, "tam")

    assert client.get("/console").status_code == 403


def test_strangers_are_sent_to_the_login_page(client):
    response = client.get("/console")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_operator_lands_on_the_console_after_signing_in(client, session):
    make_user(session, "operator", username="lan")
    sign_in(client, "lan")

    response = client.get("/")

    assert (response.status_code, response.headers["Location"]) == (302, "/console")


def test_the_page_tells_its_script_whether_the_operator_is_on_duty(client, session):
    lan = make_user(session, "operator", username="lan")
    other = make_user(session, "operator", username="mai")
    other.on_duty = True
    session.commit()
    sign_in(client, "lan")

    config = page_config(client.get("/console").get_data(as_text=True))
    assert (config["page"]["on_duty"], config["page"]["operators_on_duty"]) == (False, 1)

    assert client.post("/api/me/duty", json={"on_duty": True}).status_code == 200
    config = page_config(client.get("/console").get_data(as_text=True))
    assert (config["page"]["on_duty"], config["page"]["operators_on_duty"]) == (True, 2)
    session.refresh(lan)
    assert lan.on_duty


def test_without_a_twilio_softphone_the_page_says_desk_phones_and_loads_no_sdk(client, session):
    make_user(session, "operator", username="lan")
    sign_in(client, "lan")

    html = client.get("/console").get_data(as_text=True)

    assert page_config(html)["page"]["softphone"] is False
    assert "vendor/twilio.min.js" not in html
    assert 'id="phone-answer"' not in html  # no button that could not work
    assert "phone-state desk" in html


def test_with_a_twilio_softphone_the_page_loads_the_vendored_sdk_and_offers_its_buttons(make_console_app, session):
    app = make_console_app(TWILIO_API_KEY="SK" + "1" * 32, TWILIO_API_SECRET="secret",  # noqa: S106
                           TWILIO_TWIML_APP_SID="AP" + "2" * 32)
    make_user(session, "operator", username="lan")
    client = app.test_client()
    sign_in(client, "lan")

    html = client.get("/console").get_data(as_text=True)

    assert page_config(html)["page"]["softphone"] is True
    assert "/static/vendor/twilio.min.js" in html
    for button in ("phone-answer", "phone-mute", "phone-hangup"):
        assert f'id="{button}"' in html
    sdk = client.get("/static/vendor/twilio.min.js")
    assert sdk.status_code == 200 and b"Twilio" in sdk.data and b"Device" in sdk.data
    sdk.close()


def test_the_console_speaks_english_after_the_switch(client, session):
    make_user(session, "operator", username="lan")
    sign_in(client, "lan")

    vietnamese = client.get("/console").get_data(as_text=True)
    client.get("/lang/en")
    english = client.get("/console").get_data(as_text=True)

    assert (page_config(vietnamese)["locale"], page_config(english)["locale"]) == ("vi", "en")
    assert '<html lang="vi">' in vietnamese and '<html lang="en">' in english
    # The priority choices come from the translated labels.
    assert '"normal" selected>Bình thường<' in vietnamese and '"normal" selected>Normal<' in english
    assert page_config(english)["strings"]["route"] == "Confirm and route"


# ---- demo: the simulated call --------------------------------------------------------------


def test_outside_demo_mode_the_call_simulator_does_not_exist(client, session, engine):
    user = make_user(session, "operator", username="lan")
    before = db_counts(engine)

    response = client.post("/api/demo/simulate-call", json={}, headers=bearer(client, user))

    assert response.status_code == 404
    assert db_counts(engine) == before


def test_in_demo_mode_a_simulated_call_rings_the_console_through_the_signed_webhooks(demo_app, session):
    from app.extensions import socketio

    lan = make_user(session, "operator", username="lan")
    lan.on_duty = True
    session.commit()
    make_ticket(session, caller_phone="0912345678", description="Nước thải chảy ra suối")
    client = demo_app.test_client()
    sign_in(client, "lan")
    token = csrf_of(client.get("/console").get_data(as_text=True))
    sock = socketio.test_client(demo_app, flask_test_client=client)
    assert sock.is_connected()

    response = client.post("/api/demo/simulate-call", json={"from": "0912 345 678", "digits": "3"},
                           headers={"X-CSRFToken": token})

    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["caller"] == "+84912345678"
    assert [(s["path"], s["status"]) for s in answer["steps"]] == [
        ("/twilio/voice", 200), ("/twilio/voice/gather", 200)]  # signatures accepted
    session.expire_all()
    call = session.scalar(select(Call).where(Call.sid == answer["call_sid"]))
    assert call is not None and call.status == "ringing" and not call.callback_needed
    assert call.ticket.category_code == "rac_thai"  # menu key 3
    [incoming] = [m["args"][0] for m in sock.get_received() if m["name"] == "call.incoming"]
    assert incoming["call_sid"] == answer["call_sid"]
    assert [t["description"] for t in incoming["history"]] == ["Nước thải chảy ra suối"]
    sock.disconnect()


def test_a_simulated_missed_call_lands_on_the_call_back_list(demo_app, session):
    make_user(session, "operator", username="lan")
    client = demo_app.test_client()
    sign_in(client, "lan")
    token = csrf_of(client.get("/console").get_data(as_text=True))

    response = client.post("/api/demo/simulate-call", json={"hang_up": True}, headers={"X-CSRFToken": token})

    assert response.status_code == 200, response.get_json()
    sid = response.get_json()["call_sid"]
    callbacks = client.get("/api/calls/callbacks").get_json()["items"]
    assert [c["call_sid"] for c in callbacks] == [sid]


def test_the_call_simulator_needs_the_csrf_token_from_a_browser_session(demo_app, session, engine):
    make_user(session, "operator", username="lan")
    client = demo_app.test_client()
    sign_in(client, "lan")
    before = db_counts(engine)

    response = client.post("/api/demo/simulate-call", json={})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert db_counts(engine) == before


@pytest.mark.parametrize("role", ["staff", "hospital"])
def test_only_people_who_take_calls_may_simulate_one(demo_app, session, engine, role):
    user = make_user(session, role, username="tam")
    client = demo_app.test_client()
    before = db_counts(engine)

    response = client.post("/api/demo/simulate-call", json={}, headers=bearer(client, user))

    assert response.status_code == 403
    assert db_counts(engine) == before


def test_the_call_simulator_refuses_strangers_and_bad_input(demo_app, session, engine):
    user = make_user(session, "operator", username="lan")
    client = demo_app.test_client()
    before = db_counts(engine)

    assert client.post("/api/demo/simulate-call", json={}).status_code == 401
    headers = bearer(client, user)
    bad_digits = client.post("/api/demo/simulate-call", json={"digits": "1#"}, headers=headers)
    bad_line = client.post("/api/demo/simulate-call", json={"line": "113"}, headers=headers)
    bad_phone = client.post("/api/demo/simulate-call", json={"from": "12"}, headers=headers)

    assert (bad_digits.status_code, list(bad_digits.get_json()["error"]["fields"])) == (400, ["digits"])
    assert (bad_line.status_code, list(bad_line.get_json()["error"]["fields"])) == (400, ["line"])
    assert (bad_phone.status_code, list(bad_phone.get_json()["error"]["fields"])) == (422, ["from"])
    assert db_counts(engine) == before


def test_the_simulator_is_documented_in_openapi(client):
    document = client.get("/api/openapi.json").get_json()

    assert "post" in document["paths"]["/api/demo/simulate-call"]
    assert "post" in document["paths"]["/api/tickets/{ticket_id}/link"]


# ---- linking a duplicate: the new caller follows the open ticket ----------------------------


@pytest.fixture
def operator(session):
    return make_user(session, "operator", username="lan")


def test_linking_cancels_the_new_ticket_and_makes_its_caller_a_follower_of_the_original(client, session, operator):
    original = make_ticket(session, caller_phone="0987654321", category="rac_thai", ward_code="25942",
                           description="Rác đổ trộm đầu hẻm 5")
    assign_ticket(session, SYSTEM, original.id, NOW, contact_point="BIWASE")
    session.commit()
    original_version = original.version
    duplicate = make_ticket(session, caller_phone="0912345678", caller_name="Chị Hoa",
                            description="Bãi rác tự phát ở hẻm 5 Dĩ An", now=NOW + timedelta(hours=1))

    response = client.post(f"/api/tickets/{duplicate.id}/link",
                           json={"duplicate_of": original.id, "version": duplicate.version},
                           headers=bearer(client, operator))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    [cancelled] = events_of(session, duplicate.id, "cancel")
    assert cancelled.data["duplicate_of"] == original.id and original.code in cancelled.data["reason"]
    [follower] = events_of(session, original.id, "follower_added")
    assert follower.data["caller_phone"] == "+84912345678"
    assert follower.data["ticket_code"] == duplicate.code
    assert follower.data["description"] == "Bãi rác tự phát ở hẻm 5 Dĩ An"
    assert follower.actor_label == operator.label
    session.refresh(original)
    # Only history was added to the original: whoever works on it meets no version conflict.
    assert (original.status, original.version) == ("assigned", original_version)


def test_linking_with_a_stale_version_is_refused_and_writes_nothing(client, session, operator, engine):
    original = make_ticket(session, description="Cây đổ chắn đường")
    duplicate = make_ticket(session, description="Cây đổ ở đường Yersin")
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{duplicate.id}/link",
                           json={"duplicate_of": original.id, "version": duplicate.version - 1},
                           headers=bearer(client, operator))

    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "stale_version")
    assert db_counts(engine) == before


def test_a_ticket_is_not_linked_to_itself_or_across_lines(client, session, operator, engine):
    ticket = make_ticket(session)
    emergency = make_ticket(session, line="115", actor=operator, description="Tai nạn")
    headers = bearer(client, operator)
    before = db_counts(engine)

    to_itself = client.post(f"/api/tickets/{ticket.id}/link", json={"duplicate_of": ticket.id}, headers=headers)
    across = client.post(f"/api/tickets/{ticket.id}/link", json={"duplicate_of": emergency.id}, headers=headers)

    assert (to_itself.status_code, list(to_itself.get_json()["error"]["fields"])) == (422, ["duplicate_of"])
    assert (across.status_code, list(across.get_json()["error"]["fields"])) == (422, ["duplicate_of"])
    assert db_counts(engine) == before


def test_only_an_open_ticket_gains_followers(client, session, operator, engine):
    closed = make_ticket(session, description="Đã xử lý xong")
    cancel_ticket(session, SYSTEM, closed.id, NOW, reason="nhầm số")
    session.commit()
    duplicate = make_ticket(session)
    before = db_counts(engine)

    response = client.post(f"/api/tickets/{duplicate.id}/link", json={"duplicate_of": closed.id},
                           headers=bearer(client, operator))

    assert response.status_code == 409
    assert db_counts(engine) == before


def test_a_ticket_the_user_may_not_read_cannot_be_linked_to_and_staff_may_not_link(client, session, operator,
                                                                                     engine):
    hidden = make_ticket(session, line="115", description="Đau ngực")  # not the operator's to read
    duplicate = make_ticket(session)
    staff = make_user(session, "staff", username="tam", contact_point="SO_TNMT")
    mine = make_ticket(session)
    assign_ticket(session, SYSTEM, mine.id, NOW, contact_point="SO_TNMT")
    other = make_ticket(session)
    assign_ticket(session, SYSTEM, other.id, NOW, contact_point="SO_TNMT")
    session.commit()
    before = db_counts(engine)

    unseen = client.post(f"/api/tickets/{duplicate.id}/link", json={"duplicate_of": hidden.id},
                         headers=bearer(client, operator))
    by_staff = client.post(f"/api/tickets/{mine.id}/link", json={"duplicate_of": other.id},
                           headers=bearer(client, staff))

    assert unseen.status_code == 404
    assert by_staff.status_code == 403
    assert db_counts(engine) == before

