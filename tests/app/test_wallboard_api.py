"""GET /api/supervisor/wallboard: who may read it, its shape, and numbers that move when a
ticket is resolved or a (signed) call arrives and ends."""

from __future__ import annotations

import pytest

from tests.factories import bearer, make_user
from tests.telephony.conftest import HOTLINE_115, HOTLINE_1022, TwilioClient, base_config, call_sid, status_params

URL = "/api/supervisor/wallboard"


@pytest.fixture
def app(database_url, engine):
    """The app with Twilio configured (webhooks signed with the test token), as in production,
    but with the wallboard computed afresh on every request (its short cache has its own test)."""
    from app import create_app
    from app.extensions import socketio
    from tests.conftest import _empty_transactional_tables

    socketio.server_options.pop("client_manager", None)
    application = create_app(base_config(database_url, WALLBOARD_CACHE_SECONDS=0))
    yield application
    application.extensions["database"].engine.dispose()
    _empty_transactional_tables(engine)


@pytest.fixture
def sup(client, session):
    return bearer(client, make_user(session, "supervisor", username="sup"))


def board(client, headers) -> dict:
    response = client.get(URL, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def post(client, headers, path: str, **body) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


# ---- who may read it ---------------------------------------------------------------------------

def test_strangers_get_401(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("role", ["operator", "dispatcher", "staff", "hospital"])
def test_other_roles_get_403(client, session, role):
    response = client.get(URL, headers=bearer(client, make_user(session, role)))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_read_it(client, session, role):
    assert board(client, bearer(client, make_user(session, role)))["open"]["total"] == 0


def test_the_board_page_is_for_supervisors_and_admins_only(client, session):
    make_user(session, "operator", username="op")
    make_user(session, "admin", username="adm")

    def page_as(username: str) -> int:
        from tests.factories import PASSWORD

        with client.session_transaction() as s:
            s.clear()
        client.post("/login", data={"username": username, "password": PASSWORD})
        return client.get("/supervisor").status_code

    assert page_as("op") == 403
    assert page_as("adm") == 200
    assert client.get("/supervisor").get_data(as_text=True).count("<article class=\"tile\"") == 8


# ---- shape ---------------------------------------------------------------------------------------

def test_shape_has_every_figure_with_local_times(client, sup):
    body = board(client, sup)
    assert set(body) == {"generated_at", "timezone", "today", "calls", "hourly", "on_duty", "open", "at_risk",
                         "breached", "contact_points", "satisfaction", "on_time", "ack_115", "nuisance_calls"}
    assert body["generated_at"].endswith("+07:00") and body["timezone"] == "Asia/Ho_Chi_Minh"
    assert [line["line"] for line in body["calls"]["lines"]] == ["1022", "115"]
    assert set(body["calls"]["total"]) >= {"active", "waiting", "longest_wait_seconds", "today", "answered",
                                           "answered_15s", "answered_15s_pct", "abandoned", "abandoned_pct"}
    assert len(body["hourly"]["today"]) == len(body["hourly"]["last_week"]) == 24
    assert body["on_duty"] == {"operator": 0, "dispatcher": 0}
    assert body["open"]["by_status"] == {"new": 0, "assigned": 0, "in_progress": 0}
    assert body["at_risk"] == {"total": 0, "items": []} and body["breached"] == {"total": 0, "items": []}
    assert set(body["ack_115"]) == {"count", "median_seconds", "p90_seconds", "awaiting", "cases"}


def test_bad_query_is_400_naming_the_field(client, sup):
    response = client.get(URL, query_string={"top": "0"}, headers=sup)
    assert response.status_code == 400
    assert "top" in response.get_json()["error"]["fields"]


def test_openapi_documents_the_wallboard(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "get" in paths[URL]


# ---- numbers that move ---------------------------------------------------------------------------

def test_open_and_contact_point_figures_move_when_a_ticket_is_assigned_and_resolved(client, session, sup):
    operator = bearer(client, make_user(session, "operator", username="op"))
    staff = bearer(client, make_user(session, "staff", username="tnmt", contact_point="SO_TNMT"))
    ticket = post(client, operator, "/api/tickets", line="1022", channel="phone", caller_phone="0912 345 678",
                  description="Cây đổ chắn đường trước chợ")
    before = board(client, sup)
    assert (before["open"]["total"], before["open"]["by_status"]["new"]) == (1, 1)

    post(client, operator, f"/api/tickets/{ticket['id']}/assign", contact_point="SO_TNMT", reason="đúng lĩnh vực")
    assigned = board(client, sup)
    assert assigned["open"]["by_status"]["assigned"] == 1
    assert [(c["unit"]["code"], c["count"]) for c in assigned["open"]["by_contact_point"]] == [("SO_TNMT", 1)]
    assert [(r["unit"]["code"], r["open"]) for r in assigned["contact_points"]] == [("SO_TNMT", 1)]

    post(client, staff, f"/api/tickets/{ticket['id']}/accept")
    post(client, staff, f"/api/tickets/{ticket['id']}/resolve", resolution="Đã dọn cây đổ")
    after = board(client, sup)
    assert after["open"]["total"] == 0 and after["open"]["by_contact_point"] == []
    [row] = after["contact_points"]
    # Resolved within its 40 working hours: the 7- and 30-day on-time figures now count it.
    assert (row["unit"]["code"], row["open"], row["on_time_7d"], row["scored_7d"]) == ("SO_TNMT", 0, 100.0, 1)
    assert after["on_time"]["resolution_30d"] == 100.0


def test_115_acknowledgement_figures_move_when_a_hospital_accepts(client, session, sup):
    dispatcher = bearer(client, make_user(session, "dispatcher", username="disp"))
    hospital = bearer(client, make_user(session, "hospital", username="bv", hospital="BVDK_TINH"))
    ticket = post(client, dispatcher, "/api/tickets", line="115", channel="phone", caller_phone="0912 345 678",
                  description="Người ngã xe máy, chảy máu đầu")
    post(client, dispatcher, f"/api/tickets/{ticket['id']}/assign", hospital="BVDK_TINH", reason="gần nhất")
    assert board(client, sup)["ack_115"]["awaiting"] == 1

    post(client, hospital, f"/api/tickets/{ticket['id']}/accept")
    ack = board(client, sup)["ack_115"]
    assert (ack["count"], ack["awaiting"]) == (1, 0)
    [case] = ack["cases"]
    assert (case["ticket_id"], case["hospital"]["code"]) == (ticket["id"], "BVDK_TINH")
    assert 0 <= case["seconds"] == ack["median_seconds"] < 60


def test_call_figures_move_with_signed_call_webhooks(app, client, session, sup):
    twilio = TwilioClient(app)
    operator = make_user(session, "operator", username="op")
    operator.on_duty = True
    session.commit()
    start = board(client, sup)
    assert start["on_duty"]["operator"] == 1

    first, second = call_sid(), call_sid()
    assert twilio.voice(first, to=HOTLINE_1022).status_code == 200
    assert twilio.voice(second, to=HOTLINE_115).status_code == 200
    ringing = board(client, sup)
    lines = {row["line"]: row for row in ringing["calls"]["lines"]}
    assert (lines["1022"]["active"], lines["115"]["active"], ringing["calls"]["total"]["waiting"]) == (1, 1, 2)
    assert ringing["calls"]["total"]["today"] == start["calls"]["total"]["today"] + 2
    assert ringing["calls"]["total"]["longest_wait_seconds"] >= 0
    assert sum(ringing["hourly"]["today"]) == sum(start["hourly"]["today"]) + 2

    # The 1022 caller hangs up while waiting: no longer active, and abandoned.
    response = twilio.post("/twilio/voice/status", status_params(first, "completed", 2, duration=20))
    assert response.status_code == 204
    ended = board(client, sup)
    assert (ended["calls"]["total"]["active"], ended["calls"]["total"]["abandoned"]) == (1, 1)
    assert ended["calls"]["total"]["abandoned_pct"] == 50.0


def test_one_computation_serves_the_requests_of_the_same_moment(app, client, session, sup):
    """Every open board refetches on every event: within the cache time they share one answer;
    after it, the next request sees the change."""
    operator = bearer(client, make_user(session, "operator", username="op"))
    app.config["WALLBOARD_CACHE_SECONDS"] = 60
    first = board(client, sup)
    post(client, operator, "/api/tickets", line="1022", channel="phone", description="Đèn giao thông hỏng")
    assert board(client, sup) == first  # the same computation
    app.config["WALLBOARD_CACHE_SECONDS"] = 0
    assert board(client, sup)["open"]["total"] == first["open"]["total"] + 1
