"""A 115 dispatch reaches the hospital's emergency desk by phone and SMS, not only on its
console: the desk hears the case in Vietnamese and presses 1 to acknowledge (as the console
would), a late key press after the case went elsewhere changes nothing, every call and SMS is
a row written with the dispatch (placed once, retried, never sent for a case that moved on),
and an escalation reaches the supervisors live and by SMS.

Twilio is reached only through its REST client, whose HTTP is replaced by a recorder
(``FakeDeskRest``, a FakeTwilioHttp that also answers the Calls resource); its webhooks are
posted signed, as Twilio does. The clock is moved with time-machine; the in-process job
runner runs what is due, and one test goes through RQ on a real Redis.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select, update
from twilio.http.response import Response as TwilioResponse

from app import router
from app.config import from_environment
from app.tasks.hospital_alerts import send_alert, sweep_alerts
from integrations import hospital_call
from integrations.simulator import SimulatedCall
from integrations.twilio_rest import CallPlacer, SendFailed, SmsSender
from tests.factories import make_user
from tests.telephony.conftest import (
    ACCOUNT_SID,
    HOTLINE_115,
    TOKEN,
    FakeTwilioHttp,
    TwilioClient,
    bearer,
    console,
    install_fake_sms,
    received,
    sign,
    spoken,
    twiml,
    verbs,
)
from tickets import hospital_alerts, sms_texts
from tickets.codes import display_code
from tickets.directory import District, Hospital, Ward
from tickets.hospital_alerts import HospitalAlert, load_hospital_desks
from tickets.messages import OutboundMessage
from tickets.models import Ticket, TicketEvent
from tickets.sms_texts import segments

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Bình Dương
ACK = 60
AT_BVDK_TINH = {"lat": 10.995089, "lon": 106.657617}
NEAREST = ["BVDK_TINH", "BV_VANPHUC1", "BV_COLUMBIA_BD", "BV_NAMANH"]  # by travel time from there
# Each desk: the phone called (a landline) and the mobile texted.
DESKS = {code: (f"+84274382200{i}", f"+8491200000{i}") for i, code in enumerate(NEAREST, start=1)}
SUPERVISORS = ("+84987654321", "+84912000111")
REDIS_DOWN = "redis://127.0.0.1:1/0"
REDIS_URL = "redis://127.0.0.1:6379/5"  # not 0, 7, 9-15 (other tests and benchmarks)
PUBLIC = "http://127.0.0.1:5000"


# ---- the stand-in for Twilio's REST API, calls included ----------------------------------

class FakeDeskRest(FakeTwilioHttp):
    """FakeTwilioHttp that also answers the Calls resource as Twilio does (201 + a CallSid)."""

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        response = super().request(method, uri, params, data, headers, auth, timeout, allow_redirects)
        if uri.endswith("/Calls.json") and response.status_code == 201:
            body = json.loads(response.text)
            body.update(sid="CA" + secrets.token_hex(16), status="queued", direction="outbound-api")
            return TwilioResponse(201, json.dumps(body))
        return response

    @property
    def calls(self) -> list[dict]:
        return [r.data for r in self.requests if r.uri.endswith("/Calls.json")]


def install_fake_rest(application, fake: FakeDeskRest | None = None) -> FakeDeskRest:
    fake = fake or FakeDeskRest()
    application.extensions["call_placer"] = CallPlacer(ACCOUNT_SID, TOKEN, HOTLINE_115, http_client=fake)
    application.extensions["desk_sms_sender"] = SmsSender(ACCOUNT_SID, TOKEN, HOTLINE_115, http_client=fake)
    install_fake_sms(application, fake)  # the outbox (supervisors' SMS)
    return fake


# ---- fixtures ----------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _desks_numbered(engine) -> Iterator[None]:
    """The four nearest hospitals' desks have numbers; every test leaves the directory as loaded."""
    with engine.begin() as conn:
        for code, (desk, sms) in DESKS.items():
            conn.execute(update(Hospital).where(Hospital.code == code).values(desk_phone=desk, sms_phone=sms))
    yield
    with engine.begin() as conn:
        conn.execute(update(Hospital).values(desk_phone=None, sms_phone=None, available=True))
    router.forget_snapshot()


@pytest.fixture(autouse=True)
def _nothing_fails_silently(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    if request.node.get_closest_marker("swallowed_errors_expected"):
        return
    failures = [r for r in caplog.get_records("call")
                if r.name in ("app.hospital_alerts", "app.jobs", "app.publisher", "app.router")
                and r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]


@pytest.fixture
def clock() -> Iterator:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def happ(make_app, clock):
    return make_app(DISPATCH_ACK_SECONDS=ACK, SUPERVISOR_ALERT_NUMBERS=SUPERVISORS)


@pytest.fixture
def rest(happ) -> FakeDeskRest:
    return install_fake_rest(happ)


@pytest.fixture
def people(session, clock) -> None:
    make_user(session, "dispatcher", username="disp")
    make_user(session, "supervisor", username="sup")
    for i, code in enumerate(NEAREST, start=1):
        make_user(session, "hospital", username=f"bv{i}", hospital=code)


def run_jobs_at(application, clock, seconds: float) -> None:
    """Move the clock to T0 + seconds and run whatever in-process job is due by then."""
    clock.move_to(at(seconds))
    application.extensions["jobs"].run_due(now=at(seconds).timestamp())


def dispatch(application, **fields) -> dict:
    """A dispatcher opens a 115 ticket with the caller's location: dispatched at once."""
    body = {"line": "115", "channel": "phone", "description": "Tai nạn giao thông, chấn thương đầu",
            **AT_BVDK_TINH, **fields}
    response = application.test_client().post("/api/tickets", headers=bearer(application, "disp"), json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fresh(session, model, ident):
    session.rollback()
    session.expire_all()
    return session.get(model, ident)


def alerts(session, ticket_id: int, channel: str | None = None) -> list[HospitalAlert]:
    session.rollback()
    session.expire_all()
    stmt = select(HospitalAlert).where(HospitalAlert.ticket_id == ticket_id).order_by(HospitalAlert.id)
    if channel:
        stmt = stmt.where(HospitalAlert.channel == channel)
    return list(session.scalars(stmt))


def history(session, ticket_id: int, action: str | None = None) -> list[TicketEvent]:
    session.rollback()
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    if action:
        stmt = stmt.where(TicketEvent.action == action)
    return list(session.scalars(stmt))


def call_params(sid: str, to: str, status: str = "in-progress", **extra: str) -> dict[str, str]:
    """What Twilio posts about an outbound (REST-placed) call."""
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": status,
            "Direction": "outbound-api", "From": HOTLINE_115, "To": to, "Caller": HOTLINE_115, "Called": to,
            "ToCountry": "VN", "FromCountry": "VN", **extra}


def fetch(twilio: TwilioClient, url: str, params: dict[str, str]):
    """Twilio requesting one of the URLs the app gave it (signed over the full URL)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    return twilio.post(parts.path, params, query=parts.query or None)


def placed_call(happ, rest, clock, session, ticket_id: int, seconds: float = 1) -> tuple[HospitalAlert, dict]:
    """Run the jobs, and return the ticket's newest call alert with the REST request that placed it."""
    run_jobs_at(happ, clock, seconds)
    alert = alerts(session, ticket_id, "call")[-1]
    [request] = [c for c in rest.calls if c["Url"].endswith(f"alert={alert.id}")]
    return alert, request


def press(twilio: TwilioClient, alert: HospitalAlert, digits: str, sid: str | None = None, query: str = ""):
    return twilio.post("/twilio/dispatch/ack",
                       call_params(sid or alert.provider_sid or "CA" + "0" * 32, alert.to_number, Digits=digits),
                       query=f"alert={alert.id}{query}")


# ---- at dispatch: one call and one SMS, written with the dispatch ------------------------

def test_a_dispatch_queues_one_call_and_one_sms_to_that_hospitals_desk(happ, rest, people, session):
    ticket = dispatch(happ)
    assert ticket["hospital"]["code"] == "BVDK_TINH"

    [assign] = history(session, ticket["id"], "assign")
    rows = alerts(session, ticket["id"])
    assert [(a.channel, a.to_number, a.status, a.attempts) for a in rows] == [
        ("call", DESKS["BVDK_TINH"][0], "queued", 0), ("sms", DESKS["BVDK_TINH"][1], "queued", 0)]
    assert all(a.dispatch_event_id == assign.id and a.hospital.code == "BVDK_TINH" for a in rows)
    assert all(a.created_at == T0 for a in rows)
    assert rest.requests == []  # nothing leaves before the job runs


def test_the_call_job_places_the_call_once_even_when_run_twice(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    call = alerts(session, ticket["id"], "call")[0]

    with happ.app_context():
        sid = send_alert(call.id)
        assert send_alert(call.id) == "not-queued"
    run_jobs_at(happ, clock, 1)  # the job the dispatch queued, and the sweep: nothing left to do

    [request] = rest.calls
    assert (request["To"], request["From"]) == (DESKS["BVDK_TINH"][0], HOTLINE_115)
    assert request["Url"] == f"{PUBLIC}/twilio/dispatch/announce?alert={call.id}"
    assert request["Method"] == "POST"
    assert request["StatusCallback"] == f"{PUBLIC}/twilio/dispatch/status?alert={call.id}"
    call = fresh(session, HospitalAlert, call.id)
    assert (call.status, call.provider_sid, call.attempts, call.placed_at) == ("placed", sid, 1, T0)
    assert sid.startswith("CA")


def test_the_desk_sms_says_where_what_and_the_code_in_a_few_segments(happ, rest, clock, people, session):
    ward = session.get(Ward, "25747")
    ticket = dispatch(happ, ward_code="25747", address="Số 12 đường Yersin",
                      description="Người đàn ông ngã xe máy, chảy máu đầu, còn tỉnh")
    run_jobs_at(happ, clock, 1)

    [sms] = rest.messages
    assert (sms["To"], sms["From"]) == (DESKS["BVDK_TINH"][1], HOTLINE_115)
    body = sms["Body"]
    assert display_code(ticket["code"]) in body
    assert "Số 12 đường Yersin" in body and ward.name in body
    assert "ngã xe máy" in body and "khẩn cấp" in body and "bấm 1" in body
    assert segments(body)[1] <= 4
    row = alerts(session, ticket["id"], "sms")[0]
    assert sms["StatusCallback"] == f"{PUBLIC}/twilio/dispatch/sms-status?alert={row.id}"
    assert (row.status, row.body, row.provider_sid) == ("sent", body, row.provider_sid)
    assert row.provider_sid.startswith("SM")


# ---- the call: what the desk hears --------------------------------------------------------

def test_the_announcement_reads_the_case_in_vietnamese_and_asks_for_key_1(happ, rest, clock, people, session):
    ward = session.get(Ward, "25747")
    district = session.get(District, ward.district_code)
    ticket = dispatch(happ, ward_code="25747", address="Số 12 đường Yersin.",
                      description="Tai nạn giao thông, chấn thương đầu.")
    alert, request = placed_call(happ, rest, clock, session, ticket["id"])

    root = twiml(fetch(TwilioClient(happ), request["Url"], call_params(alert.provider_sid, alert.to_number)))

    assert verbs(root) == ["Gather", "Gather", "Say", "Hangup"]  # read twice, then goodbye
    for gather in root.findall("Gather"):
        assert (gather.get("input"), gather.get("numDigits"), gather.get("method")) == ("dtmf", "1", "POST")
        assert gather.get("action") == f"{PUBLIC}/twilio/dispatch/ack?alert={alert.id}"
        assert "Bấm phím 1 để xác nhận tiếp nhận" in spoken(gather)
    for say in root.iter("Say"):
        assert (say.get("language"), say.get("voice")) == ("vi-VN", "Google.vi-VN-Wavenet-A")
    text = spoken(root)
    assert text.startswith("Tổng đài cấp cứu 115")
    assert "khẩn cấp" in text and "Tai nạn giao thông, chấn thương đầu" in text
    assert "Số 12 đường Yersin" in text and ward.name in text and district.name in text
    assert "Bệnh viện Đa khoa tỉnh Bình Dương" in text
    assert hospital_call.spell(ticket["code"]) in text  # "A B C D, E F G H": read letter by letter
    assert "Xin nhắc lại" in spoken(root.findall("Gather")[1])
    assert ".." not in text  # sentences built from what the dispatcher typed end once
    assert "chưa nhận được xác nhận" in spoken(root.find("Say"))


def test_a_case_with_only_a_point_is_placed_near_the_ward_it_lies_in(happ, rest, clock, people, session):
    ticket = dispatch(happ)  # the caller's position, no ward named
    alert, request = placed_call(happ, rest, clock, session, ticket["id"])
    text = spoken(twiml(fetch(TwilioClient(happ), request["Url"], call_params(alert.provider_sid, alert.to_number))))
    assert f"gần {session.get(Ward, '25741').name}" in text  # BVDK_TINH's own ward


def test_pressing_1_acknowledges_the_dispatch_as_the_desk(happ, rest, clock, people, session):
    disp = console(happ, "disp")
    ticket = dispatch(happ)
    alert, _ = placed_call(happ, rest, clock, session, ticket["id"])
    disp.get_received()
    clock.move_to(at(20))

    root = twiml(press(TwilioClient(happ), alert, "1"))

    assert verbs(root) == ["Say", "Hangup"]
    assert "Đã ghi nhận" in spoken(root) and "tiếp nhận" in spoken(root)
    now = fresh(session, Ticket, ticket["id"])
    assert (now.status, now.hospital.code, now.accepted_at) == ("in_progress", "BVDK_TINH", at(20))
    accept = history(session, ticket["id"])[-1]
    assert accept.action == "accept" and accept.actor_id is None
    assert DESKS["BVDK_TINH"][0] in accept.actor_label and "Trực cấp cứu" in accept.actor_label
    assert "Bệnh viện Đa khoa tỉnh Bình Dương" in accept.actor_label
    assert fresh(session, HospitalAlert, alert.id).acknowledged_at == at(20)
    assert [m["action"] for m in received(disp, "ticket.updated")] == ["accept"]

    run_jobs_at(happ, clock, ACK + 1)  # the deadline passes: acknowledged, so nothing moves
    assert [e.data["hospital"] for e in history(session, ticket["id"], "assign")] == ["BVDK_TINH"]


def test_pressing_1_again_changes_nothing(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    alert, _ = placed_call(happ, rest, clock, session, ticket["id"])
    twiml(press(TwilioClient(happ), alert, "1"))
    before = len(history(session, ticket["id"]))

    root = twiml(press(TwilioClient(happ), alert, "1"))  # Twilio retries, or the desk presses again

    assert "trước đó" in spoken(root)
    assert len(history(session, ticket["id"])) == before


def test_another_key_reads_the_case_again_then_the_call_says_goodbye(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    alert, _ = placed_call(happ, rest, clock, session, ticket["id"])
    twilio = TwilioClient(happ)

    root = twiml(press(twilio, alert, "5"))
    assert verbs(root)[:2] == ["Gather", "Gather"]
    assert spoken(root).startswith(hospital_call.WRONG_KEY)
    assert root.find("Gather").get("action") == f"{PUBLIC}/twilio/dispatch/ack?alert={alert.id}&tries=1"
    root = twiml(press(twilio, alert, "9", query="&tries=1"))
    assert root.find("Gather").get("action").endswith("&tries=2")
    root = twiml(press(twilio, alert, "*", query="&tries=2"))
    assert verbs(root) == ["Say", "Hangup"]

    assert fresh(session, Ticket, ticket["id"]).status == "assigned"
    assert [e.action for e in history(session, ticket["id"])] == ["created", "assign"]


def test_the_console_acknowledged_first_so_the_call_says_so_and_asks_nothing(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    alert, request = placed_call(happ, rest, clock, session, ticket["id"])
    accepted = happ.test_client().post(f"/api/tickets/{ticket['id']}/accept", headers=bearer(happ, "bv1"))
    assert accepted.status_code == 200

    root = twiml(fetch(TwilioClient(happ), request["Url"], call_params(alert.provider_sid, alert.to_number)))

    assert verbs(root) == ["Say", "Hangup"] and "trước đó" in spoken(root)


# ---- the case moved on: late keys, re-dispatch, skipped alerts ---------------------------

def test_pressing_1_after_the_case_went_to_another_hospital_is_recorded_late_not_assigned(
        happ, rest, clock, people, session):
    disp = console(happ, "disp")
    ticket = dispatch(happ)
    alert, _ = placed_call(happ, rest, clock, session, ticket["id"])
    run_jobs_at(happ, clock, ACK + 1)  # BVDK_TINH stayed silent: BV_VANPHUC1 has it now
    disp.get_received()
    clock.move_to(at(ACK + 5))

    root = twiml(press(TwilioClient(happ), alert, "1"))

    text = spoken(root)
    assert "đã được chuyển" in text and "Bệnh viện Đa khoa Vạn Phúc 1" in text
    assert "ghi lại" in text and verbs(root) == ["Say", "Hangup"]
    now = fresh(session, Ticket, ticket["id"])
    assert (now.status, now.hospital.code, now.accepted_at) == ("assigned", "BV_VANPHUC1", None)
    [late] = history(session, ticket["id"], "late_acknowledgement")
    assert late.data == {"hospital": "BVDK_TINH", "current_hospital": "BV_VANPHUC1"}
    assert late.at == at(ACK + 5) and DESKS["BVDK_TINH"][0] in late.actor_label
    assert history(session, ticket["id"], "accept") == []
    [heard] = received(disp, "dispatch.late_acknowledgement")
    assert heard["hospital"] == "BVDK_TINH"

    twiml(press(TwilioClient(happ), alert, "1"))  # pressed again: recorded once
    assert len(history(session, ticket["id"], "late_acknowledgement")) == 1


def test_a_redispatch_calls_and_texts_the_next_hospitals_desk(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    run_jobs_at(happ, clock, 1)
    run_jobs_at(happ, clock, ACK + 1)  # re-dispatched to BV_VANPHUC1, whose alerts go out at once

    assert [c["To"] for c in rest.calls] == [DESKS["BVDK_TINH"][0], DESKS["BV_VANPHUC1"][0]]
    assert [m["To"] for m in rest.messages] == [DESKS["BVDK_TINH"][1], DESKS["BV_VANPHUC1"][1]]
    first, second = alerts(session, ticket["id"], "call")
    assigns = history(session, ticket["id"], "assign")
    assert (first.dispatch_event_id, second.dispatch_event_id) == (assigns[0].id, assigns[1].id)
    assert second.hospital.code == "BV_VANPHUC1" and second.status == "placed"


@pytest.mark.parametrize("moved_on", ["acknowledged on the console", "re-dispatched"])
def test_an_alert_not_yet_sent_when_the_case_moved_on_is_skipped(happ, rest, clock, people, session, moved_on):
    ticket = dispatch(happ)
    call, sms = alerts(session, ticket["id"])
    if moved_on == "re-dispatched":
        moved = happ.test_client().post(f"/api/tickets/{ticket['id']}/assign", headers=bearer(happ, "disp"),
                                        json={"hospital": "BV_NAMANH", "reason": "gần hơn theo thực tế"})
    else:
        moved = happ.test_client().post(f"/api/tickets/{ticket['id']}/accept", headers=bearer(happ, "bv1"))
    assert moved.status_code == 200, moved.get_json()

    with happ.app_context():
        assert send_alert(call.id).startswith("skipped")
        assert send_alert(sms.id).startswith("skipped")

    assert [c["To"] for c in rest.calls] == []
    reason = "redispatched" if moved_on == "re-dispatched" else "acknowledged"
    assert [(a.status, a.last_error) for a in alerts(session, ticket["id"])[:2]] == [("skipped", reason)] * 2
    if moved_on == "re-dispatched":  # the hospital it went to is called instead
        run_jobs_at(happ, clock, 1)
        assert [c["To"] for c in rest.calls] == [DESKS["BV_NAMANH"][0]]


# ---- Twilio's reports: recorded on the row, failures in the history ----------------------

@pytest.mark.parametrize("outcome", ["no-answer", "busy", "failed"])
def test_a_desk_call_nobody_answered_is_recorded_and_shown_in_the_history(happ, rest, clock, people, session,
                                                                           outcome):
    dispatcher = console(happ, "disp")
    ticket = dispatch(happ)
    alert, request = placed_call(happ, rest, clock, session, ticket["id"])
    twilio = TwilioClient(happ)
    dispatcher.get_received()
    clock.move_to(at(35))

    for status, sequence in (("initiated", 0), ("ringing", 1), (outcome, 2), ("ringing", 1), (outcome, 2)):
        response = fetch(twilio, request["StatusCallback"], call_params(
            alert.provider_sid, alert.to_number, status, SequenceNumber=str(sequence),
            CallbackSource="call-progress-events"))
        assert response.status_code == 204

    row = fresh(session, HospitalAlert, alert.id)
    assert (row.status, row.status_at) == (outcome, at(35))  # a late "ringing" does not move it back
    [note] = history(session, ticket["id"], "desk_call_ended")  # the repeated callback adds nothing
    assert note.data["status"] == outcome and note.data["hospital"] == "BVDK_TINH"
    assert note.data["to"] == DESKS["BVDK_TINH"][0] and note.data["acknowledged"] is False
    assert [m["action"] for m in received(dispatcher, "ticket.updated")] == ["desk_call_ended"]


def test_a_desk_call_that_ended_after_the_acknowledgement_adds_no_note(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    alert, request = placed_call(happ, rest, clock, session, ticket["id"])
    twilio = TwilioClient(happ)
    twiml(press(twilio, alert, "1"))
    fetch(twilio, request["StatusCallback"], call_params(alert.provider_sid, alert.to_number, "completed",
                                                         CallDuration="41"))
    row = fresh(session, HospitalAlert, alert.id)
    assert (row.status, row.duration) == ("completed", 41)
    assert history(session, ticket["id"], "desk_call_ended") == []


def test_an_undelivered_desk_sms_is_shown_in_the_history(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    run_jobs_at(happ, clock, 1)
    sms = alerts(session, ticket["id"], "sms")[0]
    params = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "From": HOTLINE_115, "To": sms.to_number,
              "MessageSid": sms.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert fetch(TwilioClient(happ), rest.messages[0]["StatusCallback"], params).status_code == 204
    assert fresh(session, HospitalAlert, sms.id).status == "undelivered"
    [note] = history(session, ticket["id"], "desk_sms_failed")
    assert note.data["error"] == "Twilio error 30003"


@pytest.mark.parametrize("path", ["/twilio/dispatch/ack", "/twilio/dispatch/announce", "/twilio/dispatch/status"])
@pytest.mark.parametrize("forgery", ["unsigned", "another token", "another alert's URL"])
def test_a_forged_or_unsigned_request_is_refused_and_writes_nothing(happ, rest, clock, people, session, path,
                                                                    forgery):
    ticket = dispatch(happ)
    alert, _ = placed_call(happ, rest, clock, session, ticket["id"])
    params = call_params(alert.provider_sid, alert.to_number, "no-answer", Digits="1")
    signature = {"unsigned": "",
                 "another token": sign(f"{PUBLIC}{path}?alert={alert.id}", params, "not-the-auth-token"),
                 "another alert's URL": sign(f"{PUBLIC}{path}?alert={alert.id + 1}", params)}[forgery]
    before = ([(e.id, e.action) for e in history(session, ticket["id"])], fresh(session, Ticket, ticket["id"]).version)

    response = TwilioClient(happ).post(path, params, query=f"alert={alert.id}", signature=signature)

    assert response.status_code == 403
    after = ([(e.id, e.action) for e in history(session, ticket["id"])], fresh(session, Ticket, ticket["id"]).version)
    assert after == before
    row = fresh(session, HospitalAlert, alert.id)
    assert (row.status, row.acknowledged_at) == ("placed", None)


# ---- no number, failures, retries --------------------------------------------------------

def test_without_a_desk_number_no_call_is_made_and_the_history_says_so(happ, rest, clock, people, session, engine):
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.code == "BVDK_TINH").values(desk_phone=None, sms_phone=None))
    bv1 = console(happ, "bv1")

    ticket = dispatch(happ)
    assert [e.action for e in history(session, ticket["id"])] == ["created", "assign"]  # one event per action
    assert "ticket.updated" in [m["name"] for m in bv1.get_received()]  # the console still shows it
    run_jobs_at(happ, clock, 1)

    assert rest.requests == []
    [call] = alerts(session, ticket["id"])
    assert (call.channel, call.to_number, call.status, call.last_error) == ("call", None, "skipped", "no_number")
    [note] = history(session, ticket["id"], "desk_alert_skipped")
    assert note.data["hospital"] == "BVDK_TINH" and note.data["sms_to"] is None
    assert "chưa có số điện thoại trực cấp cứu" in note.data["reason"]
    assert note.actor_label == "Thông báo trực cấp cứu 115"
    assert [m["args"][0]["action"] for m in bv1.get_received() if m["name"] == "ticket.updated"] == [
        "desk_alert_skipped"]


def test_a_desk_phone_that_is_a_mobile_gets_the_sms_too(happ, rest, clock, people, session, engine):
    with engine.begin() as conn:
        conn.execute(update(Hospital).where(Hospital.code == "BVDK_TINH")
                     .values(desk_phone="+84912345000", sms_phone=None))
    ticket = dispatch(happ)
    assert [(a.channel, a.to_number) for a in alerts(session, ticket["id"])] == [
        ("call", "+84912345000"), ("sms", "+84912345000")]


@pytest.mark.swallowed_errors_expected
def test_a_call_twilio_refuses_is_retried_with_backoff_then_given_up_in_the_history(happ, clock, people, session):
    rest = install_fake_rest(happ, FakeDeskRest(fail_with=500))
    ticket = dispatch(happ)
    call = alerts(session, ticket["id"], "call")[0]

    with happ.app_context(), pytest.raises(SendFailed):
        send_alert(call.id)
    row = fresh(session, HospitalAlert, call.id)
    assert (row.status, row.attempts, row.not_before) == ("queued", 1, T0 + timedelta(seconds=10))
    assert row.last_error

    clock.move_to(at(9))
    with happ.app_context():
        assert sweep_alerts() == 1  # the SMS, whose job has not run; the call waits out its backoff
    clock.move_to(at(11))
    with happ.app_context(), pytest.raises(SendFailed):
        send_alert(call.id)
    clock.move_to(at(45))
    with happ.app_context(), pytest.raises(SendFailed):
        send_alert(call.id)
    with happ.app_context():
        assert send_alert(call.id) == "not-queued"

    assert len(rest.calls) == hospital_alerts.MAX_ATTEMPTS
    row = fresh(session, HospitalAlert, call.id)
    assert (row.status, row.attempts) == ("failed", hospital_alerts.MAX_ATTEMPTS)
    [note] = history(session, ticket["id"], "desk_call_failed")
    assert note.data["attempts"] == hospital_alerts.MAX_ATTEMPTS and note.data["to"] == DESKS["BVDK_TINH"][0]


def test_the_sweep_sends_what_waits_but_leaves_a_backoff_and_fresh_rows_alone(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    call, sms = alerts(session, ticket["id"])
    session.execute(update(HospitalAlert).where(HospitalAlert.id == call.id)
                    .values(not_before=T0 + timedelta(seconds=20)))
    session.commit()

    with happ.app_context():
        assert sweep_alerts() == 0  # both younger than the grace: their own jobs are coming
    clock.move_to(at(10))
    with happ.app_context():
        assert sweep_alerts() == 1  # the SMS; the call's backoff runs until T0 + 20 s
    clock.move_to(at(21))
    with happ.app_context():
        assert sweep_alerts() == 2  # (the in-process runner has not run the SMS job yet)


# ---- supervisors ------------------------------------------------------------------------

def test_an_escalation_reaches_the_supervisors_console_and_their_phones_once(happ, rest, clock, people, session):
    sup = console(happ, "sup")
    ticket = dispatch(happ)
    run_jobs_at(happ, clock, ACK + 1)  # BVDK_TINH silent
    run_jobs_at(happ, clock, 2 * ACK + 2)  # BV_VANPHUC1 silent
    assert rest.messages and not [m for m in rest.messages if m["To"] in SUPERVISORS]
    sup.get_received()

    run_jobs_at(happ, clock, 3 * ACK + 3)  # BV_COLUMBIA_BD silent: the third failure
    run_jobs_at(happ, clock, 3 * ACK + 10)  # and the sweeps after it

    messages = sup.get_received()
    [heard] = [m["args"][0] for m in messages if m["name"] == "dispatch.escalated"]
    assert (heard["from_hospital"], heard["to_hospital"]) == ("BV_COLUMBIA_BD", "BV_NAMANH")
    assert "escalated" in [m["args"][0]["action"] for m in messages if m["name"] == "ticket.updated"]
    texts = [m for m in rest.messages if m["To"] in SUPERVISORS]
    assert sorted(m["To"] for m in texts) == sorted(SUPERVISORS)
    for text in texts:
        assert display_code(ticket["code"]) in text["Body"] and "GIÁM SÁT" in text["Body"]
        assert "Bệnh viện Đa khoa Nam Anh" in text["Body"] and segments(text["Body"])[1] <= 4
        assert text["From"] == "+842741022"  # the outbox's number (tests/telephony/conftest.py SMS_FROM)
    session.rollback()
    outbox = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "escalation")).all()
    assert [(m.ticket_id, m.status) for m in outbox] == [(ticket["id"], "sent")] * 2


def test_supervisor_numbers_are_read_from_the_environment_in_e164():
    config = from_environment({"SUPERVISOR_ALERT_NUMBERS": " 0987 654 321, +84912000111 ,"})
    assert config["SUPERVISOR_ALERT_NUMBERS"] == SUPERVISORS
    assert from_environment({})["SUPERVISOR_ALERT_NUMBERS"] == ()
    with pytest.raises(RuntimeError, match="SUPERVISOR_ALERT_NUMBERS"):
        from_environment({"SUPERVISOR_ALERT_NUMBERS": "+84987654321,not-a-number"})


# ---- Redis down, and Redis up --------------------------------------------------------------

@pytest.mark.swallowed_errors_expected  # publishing to the consoles fails loudly while Redis is down
def test_with_redis_down_a_dispatch_still_succeeds_and_the_sweep_calls_the_desk_later(
        make_app, clock, people, session):
    down = make_app(DISPATCH_ACK_SECONDS=ACK, REDIS_URL=REDIS_DOWN)
    ticket = dispatch(down)
    assert [a.status for a in alerts(session, ticket["id"])] == ["queued", "queued"]  # no job could be queued

    # A process without Redis (the embedded mode) sweeps: the desk is called and texted.
    later = make_app(DISPATCH_ACK_SECONDS=ACK)
    rest = install_fake_rest(later)
    run_jobs_at(later, clock, 4)
    assert rest.requests == []  # still within the grace its own job had
    run_jobs_at(later, clock, 10)
    assert [c["To"] for c in rest.calls] == [DESKS["BVDK_TINH"][0]]
    assert [m["To"] for m in rest.messages] == [DESKS["BVDK_TINH"][1]]
    assert [a.status for a in alerts(session, ticket["id"])] == ["placed", "sent"]


@pytest.mark.swallowed_errors_expected  # publishing to the consoles fails loudly while Redis is down
def test_with_redis_down_pressing_1_still_acknowledges(make_app, clock, people, session):
    up = make_app(DISPATCH_ACK_SECONDS=ACK)
    rest = install_fake_rest(up)
    ticket = dispatch(up)
    alert, _ = placed_call(up, rest, clock, session, ticket["id"])

    down = make_app(DISPATCH_ACK_SECONDS=ACK, REDIS_URL=REDIS_DOWN)
    root = twiml(press(TwilioClient(down), alert, "1"))

    assert "Đã ghi nhận" in spoken(root)
    assert fresh(session, Ticket, ticket["id"]).status == "in_progress"
    assert history(session, ticket["id"])[-1].action == "accept"


@pytest.fixture
def redis_conn() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def test_with_redis_the_desk_alerts_are_unique_jobs_on_the_dispatch_queue(make_app, session, redis_conn):
    make_user(session, "dispatcher", username="disp")
    rq_app = make_app(DISPATCH_ACK_SECONDS=ACK, REDIS_URL=REDIS_URL)
    rest = install_fake_rest(rq_app)
    ticket = dispatch(rq_app)  # by the real clock, which RQ reads
    call, sms = alerts(session, ticket["id"])
    queue = Queue("dispatch", connection=redis_conn)
    assert queue.job_ids == [f"desk-alert-{call.id}", f"desk-alert-{sms.id}"]
    assert queue.fetch_job(f"desk-alert-{call.id}").func_name == "app.tasks.hospital_alerts.send_alert"
    with rq_app.app_context():
        sweep_alerts()  # asked again while they wait: still one job each
    assert len(queue.job_ids) == 2

    with rq_app.app_context():
        SimpleWorker([queue], connection=redis_conn).work(burst=True, with_scheduler=False)

    assert [c["To"] for c in rest.calls] == [DESKS["BVDK_TINH"][0]]
    assert [m["To"] for m in rest.messages] == [DESKS["BVDK_TINH"][1]]


# ---- desk numbers: directory data --------------------------------------------------------

def _desk_file(folder: Path, *rows: str) -> Path:
    path = folder / "hospital_desks.csv"
    path.write_text("hospital_code,desk_phone,sms_phone,note\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_shipped_desk_file_lists_every_hospital_without_numbers(session):
    shipped = Path(__file__).resolve().parents[2] / "data" / "directory" / "hospital_desks.csv"
    with shipped.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["hospital_code", "desk_phone", "sms_phone", "note"]
    assert sorted(r["hospital_code"] for r in rows) == sorted(session.scalars(select(Hospital.code)))
    assert all(r["desk_phone"] == r["sms_phone"] == "" for r in rows)  # the province fills them in
    assert load_hospital_desks(session, shipped) == 0


def test_loading_desk_numbers_stores_them_in_e164(session, tmp_path, engine):
    path = _desk_file(tmp_path, "BV_BECAMEX,0274 3822 999,0912 777 888,trực cấp cứu",
                      "BV_MYPHUOC,(+84) 274-3555-111,,chỉ có số bàn", "BV_QD4,,,")
    assert load_hospital_desks(session, path) == 2
    session.commit()
    got = {h.code: (h.desk_phone, h.sms_phone) for h in session.scalars(
        select(Hospital).where(Hospital.code.in_(["BV_BECAMEX", "BV_MYPHUOC", "BV_QD4"])))}
    assert got == {"BV_BECAMEX": ("+842743822999", "+84912777888"), "BV_MYPHUOC": ("+842743555111", None),
                   "BV_QD4": (None, None)}


@pytest.mark.parametrize(("row", "message"), [
    ("BV_KHONG_CO,0274 3822 999,,", "row 2 (line 3), column 'hospital_code': 'BV_KHONG_CO' is not a hospital code"),
    ("BV_QD4,12345,,", "row 2 (line 3), column 'desk_phone': '12345' is not a valid phone number"),
    ("BV_QD4,,0274 3822 998,", "row 2 (line 3), column 'sms_phone': +842743822998 is not a mobile number"),
    ("BV_BECAMEX,0274 3822 998,,", "row 2 (line 3), column 'hospital_code': 'BV_BECAMEX' is listed twice"),
], ids=["unknown hospital", "bad number", "sms to a landline", "twice"])
def test_a_bad_desk_row_is_named_and_nothing_is_written(session, tmp_path, row, message):
    path = _desk_file(tmp_path, "BV_BECAMEX,0274 3822 999,,", row)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_hospital_desks(session, path)
    session.rollback()
    assert session.scalar(select(Hospital.desk_phone).where(Hospital.code == "BV_BECAMEX")) is None


def test_init_refuses_a_bad_desk_file_with_its_row_and_writes_nothing(make_app, tmp_path, engine):
    directory = tmp_path / "directory"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "directory", directory)
    _desk_file(directory, "BV_BECAMEX,0274 3822 999,,", "BV_NHAM,0274 3822 998,,")
    application = make_app()

    with application.app_context():
        result = application.test_cli_runner().invoke(args=["init", "--directory", str(directory)])

    assert result.exit_code != 0
    assert "'BV_NHAM' is not a hospital code" in result.output and "Traceback" not in result.output
    with engine.connect() as conn:
        assert conn.scalar(select(Hospital.desk_phone).where(Hospital.code == "BV_BECAMEX")) is None


def test_seed_demo_in_demo_mode_gives_desks_simulator_numbers_and_the_demo_call_is_only_logged(
        make_app, session, caplog):
    demo = make_app(HOTLINE_DEMO=True, TWILIO_AUTH_TOKEN=None, TWILIO_ACCOUNT_SID=None)
    with demo.app_context():
        result = demo.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    session.rollback()
    assert all(h.desk_phone and h.sms_phone for h in session.scalars(select(Hospital)))
    emergency = session.scalars(select(Ticket).where(Ticket.line == "115")).one()
    call = alerts(session, emergency.id, "call")[0]

    with caplog.at_level(logging.INFO, logger="integrations.twilio_rest"), demo.app_context():
        sid = send_alert(call.id)

    assert sid.startswith("CAdemo")
    assert any(call.to_number in r.getMessage() for r in caplog.records if r.name == "integrations.twilio_rest")


# ---- failures while the desk is on the line, and the demo simulator -----------------------

@pytest.mark.swallowed_errors_expected
def test_a_failure_while_the_desk_listens_still_answers_twiml_it_can_hear(happ, rest, clock, people, session,
                                                                         monkeypatch):
    ticket = dispatch(happ)
    alert, request = placed_call(happ, rest, clock, session, ticket["id"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(hospital_alerts, "acknowledge_by_phone", broken)
    root = twiml(press(TwilioClient(happ), alert, "1"))

    assert verbs(root) == ["Say", "Hangup"] and spoken(root) == hospital_call.TROUBLE
    assert fresh(session, Ticket, ticket["id"]).status == "assigned"


def test_the_demo_simulator_answers_a_desk_call_and_presses_1(happ, rest, clock, people, session):
    ticket = dispatch(happ)
    alert, _ = placed_call(happ, rest, clock, session, ticket["id"])
    sim = SimulatedCall(base_url=PUBLIC, auth_token=TOKEN, line_number=alert.to_number, from_number=HOTLINE_115,
                        sid=alert.provider_sid)
    http = happ.test_client()

    def post(path: str, params: dict[str, str]) -> tuple[int, str]:
        response = http.post(path, data=params, headers={"X-Twilio-Signature": sim.sign(path, params)})
        return response.status_code, response.get_data(as_text=True)

    steps = hospital_call.simulate_answer(sim, post, alert.id, "1")

    assert [(path.partition("?")[0], status) for path, status, _ in steps] == [
        ("/twilio/dispatch/status", 204), ("/twilio/dispatch/announce", 200), ("/twilio/dispatch/ack", 200),
        ("/twilio/dispatch/status", 204)]
    assert steps[1][2].startswith("Tổng đài cấp cứu 115") and "Đã ghi nhận" in steps[2][2]
    assert fresh(session, Ticket, ticket["id"]).status == "in_progress"
    row = fresh(session, HospitalAlert, alert.id)
    assert (row.status, row.duration, row.acknowledged_at) == ("completed", 40, T0 + timedelta(seconds=1))
    assert history(session, ticket["id"], "desk_call_ended") == []


def test_simulate_desk_without_a_placed_call_says_what_to_do_first(happ, people):
    with happ.app_context():
        result = happ.test_cli_runner().invoke(args=["simulate-desk"])
    assert result.exit_code != 0 and "dispatch a 115 case" in result.output


def test_alert_texts_keep_the_code_and_the_instructions_whatever_the_length():
    long_story = "Người bệnh khó thở, tím tái, có tiền sử hen suyễn và tim mạch, gia đình đang hô hấp " * 6
    desk = sms_texts.desk_alert("ABCDEFGH", "khẩn cấp", long_story, "Số 12 đường Yersin, Phường Phú Cường")
    assert segments(desk)[1] <= sms_texts.MAX_ALERT_SEGMENTS
    assert "ABCD-EFGH" in desk and "Số 12 đường Yersin" in desk and desk.endswith("bấm 1 khi 115 gọi.")
    none_left = sms_texts.supervisor_escalation("ABCDEFGH", 1, None, "Phường Phú Cường " * 20)
    assert segments(none_left)[1] <= sms_texts.MAX_ALERT_SEGMENTS
    assert "ABCD-EFGH" in none_left and "không còn bệnh viện phù hợp" in none_left
