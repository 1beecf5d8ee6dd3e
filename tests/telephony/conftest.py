"""Shared pieces for the Twilio webhook tests.

Twilio itself is out of reach, so these tests send exactly what Twilio sends — the same
form parameters, signed the same way (``X-Twilio-Signature``, HMAC-SHA1 over
PUBLIC_BASE_URL + path + query, computed by twilio's own ``RequestValidator``) — to the
real app on the real database. The only stand-in is the outgoing HTTP call to Twilio's
REST API (``FakeTwilioHttp``), so sent SMS can be counted.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator

import app.api  # noqa: F401 - first: app.publisher cannot be imported on its own (test_imports.py)
from app.database import db
from app.extensions import socketio
from tests.factories import PASSWORD, make_user
from tickets.accounts import User
from tickets.calls import Call
from tickets.messages import InboundMessage, OutboundMessage
from tickets.models import Ticket, TicketEvent

TOKEN = "test-auth-token"
ACCOUNT_SID = "AC" + "5f3c" * 8
HOTLINE_1022 = "+842741022"
HOTLINE_115 = "+84274115"
CALLER = "+84912345678"  # a VinaPhone mobile: reachable by SMS
SMS_FROM = "+842741022"


# ---- markers and guards ------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "swallowed_errors_expected: a webhook is meant to fail inside "
                            "(and answer safely) in this test")


@pytest.fixture(autouse=True)
def _webhooks_never_fail_silently(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture):
    """A webhook turns any exception into a safe answer and a log line; a test that did not
    ask for a failure fails if one happened, so the safe answer cannot hide a bug."""
    yield
    if request.node.get_closest_marker("swallowed_errors_expected"):
        return
    failures = [r for r in caplog.get_records("call") if r.name == "app.telephony" and r.exc_info]
    assert not failures, "a webhook failed and answered safely:\n" + "\n".join(
        r.getMessage() + "\n" + logging.Formatter().formatException(r.exc_info) for r in failures)


# ---- skipping what SQLite cannot show ----------------------------------------------------

def _on_sqlite() -> bool:
    url = os.environ.get("TEST_DATABASE_URL")
    return bool(url) and make_url(url).get_backend_name() == "sqlite"


@pytest.fixture(autouse=True)
def _postgresql_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgresql_only") and _on_sqlite():
        pytest.skip("needs PostgreSQL's concurrency")


# ---- realistic Twilio payloads -----------------------------------------------------------

def call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def recording_sid() -> str:
    return "RE" + secrets.token_hex(16)


def voice_params(sid: str, *, from_: str = CALLER, to: str = HOTLINE_1022, status: str = "ringing",
                 **extra: str) -> dict[str, str]:
    """What Twilio posts to the Voice URL (and, with extras, to every action URL)."""
    return {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": status,
        "Direction": "inbound", "From": from_, "To": to, "Caller": from_, "Called": to,
        "FromCity": "THU DAU MOT", "FromState": "Binh Duong", "FromZip": "", "FromCountry": "VN",
        "CallerCity": "THU DAU MOT", "CallerState": "Binh Duong", "CallerZip": "", "CallerCountry": "VN",
        "ToCity": "", "ToState": "Binh Duong", "ToZip": "", "ToCountry": "VN",
        "CalledCity": "", "CalledState": "Binh Duong", "CalledZip": "", "CalledCountry": "VN",
        **extra,
    }


def status_params(sid: str, status: str, sequence: int, *, duration: int | None = None,
                  **extra: str) -> dict[str, str]:
    """A call status callback (``completed`` carries the duration)."""
    params = voice_params(sid, status=status, CallbackSource="call-progress-events",
                          SequenceNumber=str(sequence), Timestamp="Sun, 29 Nov 2026 03:00:42 +0000", **extra)
    if duration is not None:
        params["CallDuration"] = str(duration)
    return params


def recording_params(sid: str, rec_sid: str, *, status: str = "completed") -> dict[str, str]:
    """The recordingStatusCallback of a <Record> verb."""
    return {"AccountSid": ACCOUNT_SID, "CallSid": sid, "RecordingSid": rec_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec_sid}",
            "RecordingStatus": status, "RecordingDuration": "17", "RecordingChannels": "1",
            "RecordingStartTime": "Sun, 29 Nov 2026 03:00:12 +0000", "RecordingSource": "RecordVerb",
            "ErrorCode": "0"}


def sms_params(body: str, *, sid: str | None = None, from_: str = CALLER, to: str = HOTLINE_1022,
               segments: int = 1) -> dict[str, str]:
    """What Twilio posts to the Messaging URL for an incoming SMS."""
    sid = sid or message_sid()
    return {
        "ToCountry": "VN", "ToState": "Binh Duong", "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
        "FromCity": "", "Body": body, "FromCountry": "VN", "To": to, "ToZip": "",
        "NumSegments": str(segments), "ReferralNumMedia": "0", "MessageSid": sid,
        "AccountSid": ACCOUNT_SID, "From": from_, "ApiVersion": "2010-04-01",
    }


def sms_status_params(sid: str, status: str, *, to: str = CALLER) -> dict[str, str]:
    """An outbound message's status callback."""
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "From": SMS_FROM, "To": to,
            "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status}


# ---- signing and posting -----------------------------------------------------------------

def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


class TwilioClient:
    """Posts webhooks to the app the way Twilio does: form-encoded and signed."""

    def __init__(self, app, token: str = TOKEN):
        self.app = app
        self.token = token
        self.http = app.test_client()

    def url(self, path: str, query: str | None = None) -> str:
        base = self.app.config["PUBLIC_BASE_URL"].rstrip("/")
        return base + path + (f"?{query}" if query else "")

    def post(self, path: str, params: dict[str, str], query: str | None = None, *,
             signature: str | None = None, headers: dict[str, str] | None = None):
        if signature is None:
            signature = sign(self.url(path, query), params, self.token)
        all_headers = {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": secrets.token_hex(16),
                       "User-Agent": "TwilioProxy/1.1", **(headers or {})}
        return self.http.post(path + (f"?{query}" if query else ""), data=params, headers=all_headers)

    def voice(self, sid: str, **kwargs: Any):
        return self.post("/twilio/voice", voice_params(sid, **kwargs))


# ---- TwiML -------------------------------------------------------------------------------

def twiml(response) -> ET.Element:
    """The <Response> root of a TwiML answer (checking it is TwiML at all)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 - the app's own answer
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def spoken(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(url.partition("?")[2])


# ---- the stand-in for Twilio's REST API --------------------------------------------------

@dataclass
class RestCall:
    method: str
    uri: str
    data: dict[str, Any]


class FakeTwilioHttp(TwilioHttpClient):
    """Twilio's HTTP client with the network replaced: records each request and answers
    like Twilio's Messages resource (201 + the message), or fails as told."""

    def __init__(self, fail_with: int | Exception | None = None):
        super().__init__()
        self.fail_with = fail_with
        self.requests: list[RestCall] = []
        self._lock = threading.Lock()

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        with self._lock:
            self.requests.append(RestCall(method, uri, dict(data or {})))
        if isinstance(self.fail_with, Exception):
            raise self.fail_with
        if isinstance(self.fail_with, int):
            return TwilioResponse(self.fail_with, json.dumps(
                {"code": 20500, "message": "Internal Server Error", "status": self.fail_with}))
        sid = "SM" + secrets.token_hex(16)
        body = {"sid": sid, "account_sid": ACCOUNT_SID, "to": (data or {}).get("To"),
                "from": (data or {}).get("From"), "body": (data or {}).get("Body"), "status": "queued",
                "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"}
        return TwilioResponse(201, json.dumps(body))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [r.data for r in self.requests if r.uri.endswith("/Messages.json")]


def install_fake_sms(app, fake: FakeTwilioHttp | None = None) -> FakeTwilioHttp:
    from integrations.twilio_rest import SmsSender

    fake = fake or FakeTwilioHttp()
    app.extensions["sms_sender"] = SmsSender(
        account_sid=ACCOUNT_SID, auth_token=TOKEN, from_number=SMS_FROM,
        status_callback=app.config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio/sms/status", http_client=fake)
    return fake


# ---- apps --------------------------------------------------------------------------------

def base_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    return {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "HOTLINE_1022_HOURS": "always", "HOTLINE_DEMO": False, "REDIS_URL": None,
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000", "HOTLINE_115_FALLBACK_NUMBER": None,
            **overrides}


@pytest.fixture
def make_app(database_url: str, session) -> Iterator[Callable[..., Any]]:
    """Build an app on the test database with Twilio configured (and any overrides).

    Depends on ``session`` so that the ticket and account tables are emptied afterwards,
    once these apps' connections are closed.
    """
    from app import create_app

    built = []

    def build(**overrides: Any):
        # The database and Socket.IO extensions are process-wide singletons, rebound by each
        # create_app: close the engine the previous app was using before it is replaced, and
        # drop the Redis client manager Flask-SocketIO keeps from an earlier init_app, so each
        # app gets only the message queue it asks for.
        if built:
            db.engine.dispose()
        socketio.server_options.pop("client_manager", None)
        application = create_app(base_config(database_url, **overrides))
        built.append(application)
        return application

    yield build
    socketio.server_options.pop("client_manager", None)
    for application in built:
        application.extensions["database"].engine.dispose()


@pytest.fixture
def tw_app(make_app):
    """The hotline app with a Twilio auth token, 1022 staffed around the clock."""
    return make_app()


@pytest.fixture
def twilio(tw_app) -> TwilioClient:
    return TwilioClient(tw_app)


@pytest.fixture
def fake_sms(tw_app) -> FakeTwilioHttp:
    return install_fake_sms(tw_app)


# ---- people and sockets ------------------------------------------------------------------

def on_duty(session, role: str = "operator", **overrides: Any) -> User:
    user = make_user(session, role, **overrides)
    user.on_duty = True
    session.commit()
    return user


def bearer(app, username: str) -> dict[str, str]:
    token = app.test_client().post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.json
    return {"Authorization": f"Bearer {token.json['token']}"}


def console(app, username: str):
    """A Socket.IO console signed in as ``username`` with a bearer token."""
    token = bearer(app, username)["Authorization"].removeprefix("Bearer ")
    sock = socketio.test_client(app, auth={"token": token})
    assert sock.is_connected()
    return sock


def received(sock, name: str) -> list[dict]:
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


# ---- what is in the database -------------------------------------------------------------

class Rows:
    """Fresh counts and rows from the test's own session (never a stale identity map)."""

    def __init__(self, session):
        self.session = session

    def _fresh(self):
        self.session.rollback()
        self.session.expire_all()
        return self.session

    def count(self, model, *where) -> int:
        return self._fresh().scalar(select(func.count()).select_from(model).where(*where))

    def tickets(self) -> int:
        return self.count(Ticket)

    def calls(self) -> int:
        return self.count(Call)

    def snapshot(self) -> dict[str, int]:
        return {m.__tablename__: self.count(m)
                for m in (Ticket, TicketEvent, Call, OutboundMessage, InboundMessage)}

    def call(self, sid: str) -> Call:
        return self._fresh().scalar(select(Call).where(Call.sid == sid))

    def ticket_of(self, sid: str) -> Ticket:
        return self.call(sid).ticket

    def ticket(self, ticket_id: int) -> Ticket:
        return self._fresh().get(Ticket, ticket_id)

    def only_ticket(self) -> Ticket:
        [ticket] = self._fresh().scalars(select(Ticket)).unique().all()
        return ticket

    def events(self, ticket_id: int, action: str | None = None) -> list[TicketEvent]:
        stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        if action:
            stmt = stmt.where(TicketEvent.action == action)
        return list(self._fresh().scalars(stmt))

    def outbox(self, **where: Any) -> list[OutboundMessage]:
        stmt = select(OutboundMessage).order_by(OutboundMessage.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(OutboundMessage, name) == value)
        return list(self._fresh().scalars(stmt))


@pytest.fixture
def rows(session) -> Rows:
    return Rows(session)

