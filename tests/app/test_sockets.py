"""Socket.IO: only authenticated consoles connect, and each hears only what it may read."""

from __future__ import annotations

from app.extensions import socketio
from tests.factories import PASSWORD, make_user


def token_for(client, username: str) -> str:
    return client.post("/api/auth/token", json={"username": username, "password": PASSWORD}).json["token"]


def connect(app, client, username: str):
    return socketio.test_client(app, auth={"token": token_for(client, username)})


def names(sock) -> list[str]:
    return [m["name"] for m in sock.get_received()]


def test_a_connection_without_credentials_is_refused(app):
    assert not socketio.test_client(app).is_connected()
    assert not socketio.test_client(app, auth={"token": "forged"}).is_connected()


def test_a_signed_in_browser_connects_with_its_session_cookie(app, client, session):
    make_user(session, "operator", username="lan")
    client.post("/login", data={"username": "lan", "password": PASSWORD})
    assert socketio.test_client(app, flask_test_client=client).is_connected()


def test_each_console_hears_only_about_tickets_it_may_read(app, client, session):
    make_user(session, "operator", username="op")
    make_user(session, "dispatcher", username="disp")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "staff", username="xd", contact_point="SO_XAYDUNG")
    make_user(session, "supervisor", username="sup")
    socks = {u: connect(app, client, u) for u in ("op", "disp", "tnmt", "xd", "sup")}
    op_headers = {"Authorization": f"Bearer {token_for(client, 'op')}"}

    created = client.post("/api/tickets", headers=op_headers, json={
        "line": "1022", "channel": "phone", "description": "Khói bụi từ nhà máy"}).json
    client.post(f"/api/tickets/{created['id']}/assign", headers=op_headers,
                json={"contact_point": "SO_TNMT"})

    assert names(socks["op"]) == ["ticket.created", "ticket.updated"]
    assert names(socks["sup"]) == ["ticket.created", "ticket.updated"]
    assert names(socks["tnmt"]) == ["ticket.updated"]  # it became theirs on assignment
    assert names(socks["disp"]) == []  # a 1022 ticket is not the dispatchers' business
    assert names(socks["xd"]) == []  # nor another department's


def test_a_115_ticket_with_a_location_reaches_dispatch_and_the_hospital_it_was_sent_to(app, client, session):
    make_user(session, "dispatcher", username="disp")
    make_user(session, "hospital", username="bv", hospital="BVDK_TINH")
    make_user(session, "hospital", username="other", hospital="BV_BECAMEX")
    socks = {u: connect(app, client, u) for u in ("disp", "bv", "other")}
    headers = {"Authorization": f"Bearer {token_for(client, 'disp')}"}
    ticket = client.post("/api/tickets", headers=headers, json={
        "line": "115", "channel": "phone", "description": "Ngất xỉu", "lat": 10.9951, "lon": 106.6576}).json

    assert ticket["hospital"]["code"] == "BVDK_TINH"  # dispatched at once, to the nearest
    messages = socks["disp"].get_received()
    assert [m["name"] for m in messages] == ["ticket.created", "ticket.updated"]
    for message in messages:  # what is published is the committed ticket
        sent = message["args"][0]["ticket"]
        assert (sent["id"], sent["code"], sent["version"]) == (ticket["id"], ticket["code"], ticket["version"])
    assert names(socks["bv"]) == ["ticket.created", "ticket.updated"]
    assert names(socks["other"]) == []


def test_a_refused_action_publishes_nothing(app, client, session):
    make_user(session, "operator", username="op")
    sock = connect(app, client, "op")
    headers = {"Authorization": f"Bearer {token_for(client, 'op')}"}
    created = client.post("/api/tickets", headers=headers, json={"line": "1022", "channel": "web"}).json
    client.post(f"/api/tickets/{created['id']}/cancel", headers=headers, json={"reason": "gọi nhầm"})
    sock.get_received()
    refused = client.post(f"/api/tickets/{created['id']}/cancel", headers=headers, json={"reason": "lại"})
    assert refused.status_code == 409
    assert sock.get_received() == []


def test_a_department_that_hands_a_ticket_on_is_told_to_drop_it_and_hears_nothing_more(app, client, session):
    make_user(session, "operator", username="op")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "staff", username="xd", contact_point="SO_XAYDUNG")
    op_headers = {"Authorization": f"Bearer {token_for(client, 'op')}"}
    tnmt_headers = {"Authorization": f"Bearer {token_for(client, 'tnmt')}"}
    created = client.post("/api/tickets", headers=op_headers, json={
        "line": "1022", "channel": "phone", "description": "Nứt tường nhà do công trình bên cạnh"}).json
    client.post(f"/api/tickets/{created['id']}/assign", headers=op_headers, json={"contact_point": "SO_TNMT"})
    socks = {u: connect(app, client, u) for u in ("tnmt", "xd")}

    client.post(f"/api/tickets/{created['id']}/transfer", headers=tnmt_headers,
                json={"contact_point": "SO_XAYDUNG", "reason": "Thuộc lĩnh vực xây dựng"})
    client.post(f"/api/tickets/{created['id']}/comment", headers=op_headers, json={"body": "Đã gọi lại"})

    heard = socks["tnmt"].get_received()
    assert [m["name"] for m in heard] == ["ticket.removed"]  # and nothing after it
    assert heard[0]["args"][0] == {"id": created["id"], "action": "transfer"}  # no ticket content
    assert names(socks["xd"]) == ["ticket.updated", "ticket.updated"]


def test_a_hospital_a_case_is_taken_from_is_told_to_drop_it(app, client, session):
    make_user(session, "dispatcher", username="disp")
    make_user(session, "hospital", username="first", hospital="BVDK_TINH")
    headers = {"Authorization": f"Bearer {token_for(client, 'disp')}"}
    ticket = client.post("/api/tickets", headers=headers, json={
        "line": "115", "channel": "phone", "description": "Ngã cầu thang", "lat": 10.9951, "lon": 106.6576}).json
    assert ticket["hospital"]["code"] == "BVDK_TINH"
    first = connect(app, client, "first")

    client.post(f"/api/tickets/{ticket['id']}/assign", headers=headers, json={"hospital": "BV_BECAMEX"})

    heard = first.get_received()
    assert [m["name"] for m in heard] == ["ticket.removed"]
    assert heard[0]["args"][0] == {"id": ticket["id"], "action": "assign"}
