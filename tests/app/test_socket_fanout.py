"""Several app processes behind a sticky balancer share one Redis message queue: an event
raised in any process, or in a worker, reaches the consoles connected to every process —
and still only the consoles that may read the ticket.

Two real production servers (``gunicorn -c gunicorn.conf.py wsgi:app``) run on the test
database; real Socket.IO clients connect to each, as consoles do.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
import requests
import socketio as socketio_client

from benchmarks._servers import gunicorn
from tests.factories import PASSWORD, make_user
from tickets.db import utcnow
from tickets.models import Ticket

pytestmark = pytest.mark.postgresql_only

REDIS_URL = "redis://127.0.0.1:6379/13"


class Console:
    """A Socket.IO client signed in with a bearer token, recording what it hears."""

    def __init__(self, base: str, token: str):
        self.heard: dict[str, list[dict]] = defaultdict(list)
        self.arrived = threading.Condition()
        self.client = socketio_client.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=10)

    def _record(self, name, payload=None):
        with self.arrived:
            self.heard[name].append(payload)
            self.arrived.notify_all()

    def wait_for(self, name: str, ticket_id: int, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for payload in self.heard[name]:
                    if payload["ticket"]["id"] == ticket_id:
                        return payload
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{name} for ticket {ticket_id} never arrived: {dict(self.heard)}")
                self.arrived.wait(left)

    def tickets_heard(self) -> set[int]:
        with self.arrived:
            return {p["ticket"]["id"] for events in self.heard.values() for p in events if p and "ticket" in p}

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def cluster(database_url, session):
    """Two app processes on one database and one Redis channel (private to this test)."""
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "SECRET_KEY": "fanout-test-secret",
           "SOCKETIO_CHANNEL": f"hotline-test-{secrets.token_hex(6)}", "GUNICORN_THREADS": "16",
           "PUBLIC_BASE_URL": "{base}"}
    with gunicorn("wsgi:app", env) as first, gunicorn("wsgi:app", env) as second:
        yield first, second, env


def token(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/auth/token", json={"username": username, "password": PASSWORD},
                             timeout=10)
    response.raise_for_status()
    return response.json()["token"]


def test_a_ticket_opened_on_one_process_reaches_consoles_on_both(cluster, session):
    first, second, _env = cluster
    make_user(session, "operator", username="op1")
    make_user(session, "operator", username="op2")
    make_user(session, "staff", username="tnmt", contact_point="SO_TNMT")
    make_user(session, "staff", username="xd", contact_point="SO_XAYDUNG")
    session.commit()
    on_first = Console(first, token(first, "op1"))
    on_second = Console(second, token(second, "op2"))
    tnmt_on_second = Console(second, token(second, "tnmt"))
    xd_on_first = Console(first, token(first, "xd"))
    try:
        headers = {"Authorization": f"Bearer {token(first, 'op1')}"}
        created = requests.post(f"{first}/api/tickets", headers=headers, timeout=10, json={
            "line": "1022", "channel": "phone", "description": "Khói bụi từ nhà máy gỗ"}).json()
        requests.post(f"{first}/api/tickets/{created['id']}/assign", headers=headers, timeout=10,
                      json={"contact_point": "SO_TNMT"}).raise_for_status()

        on_first.wait_for("ticket.created", created["id"])
        on_second.wait_for("ticket.created", created["id"])  # raised on the other process
        assigned = tnmt_on_second.wait_for("ticket.updated", created["id"])
        assert assigned["ticket"]["contact_point"]["code"] == "SO_TNMT"
        time.sleep(0.5)  # what could still be in flight has had time to arrive
        assert created["id"] not in xd_on_first.tickets_heard()  # another department hears nothing
    finally:
        for console in (on_first, on_second, tnmt_on_second, xd_on_first):
            console.close()


def test_an_event_raised_by_a_worker_reaches_consoles_on_every_process(cluster, session, database_url):
    """The re-dispatch job runs outside both servers (as an RQ worker would) and publishes
    through the same publisher over Redis."""
    from app import create_app
    from app.extensions import socketio
    from app.tasks.dispatch import check_dispatch

    first, second, env = cluster
    make_user(session, "dispatcher", username="disp1")
    make_user(session, "dispatcher", username="disp2")
    session.commit()
    on_first = Console(first, token(first, "disp1"))
    on_second = Console(second, token(second, "disp2"))
    try:
        headers = {"Authorization": f"Bearer {token(first, 'disp1')}"}
        ticket = requests.post(f"{first}/api/tickets", headers=headers, timeout=10, json={
            "line": "115", "channel": "phone", "description": "Tai nạn giao thông",
            "lat": 10.9951, "lon": 106.6576}).json()
        first_hospital = ticket["hospital"]["code"]
        # The acknowledgement deadline passed: move the dispatch into the past, as time would.
        session.get(Ticket, ticket["id"]).assigned_at = utcnow() - timedelta(minutes=5)
        session.commit()

        socketio.server_options.pop("client_manager", None)
        worker = create_app({"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "SECRET_KEY": env["SECRET_KEY"],
                             "SOCKETIO_CHANNEL": env["SOCKETIO_CHANNEL"], "TESTING": True})
        with worker.app_context():
            check_dispatch(ticket["id"])
        worker.extensions["database"].engine.dispose()

        for console in (on_first, on_second):
            escalated = console.wait_for("dispatch.escalated", ticket["id"])
            assert escalated["from_hospital"] == first_hospital
            assert escalated["to_hospital"] not in (None, first_hospital)
    finally:
        socketio.server_options.pop("client_manager", None)
        for console in (on_first, on_second):
            console.close()
