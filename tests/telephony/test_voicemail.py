"""After hours, or with nobody on duty, a 1022 caller leaves a voicemail; the recording lands
on the ticket and the call goes onto the operators' call-back list until someone calls back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.factories import make_user
from tests.telephony.conftest import (
    TwilioClient,
    bearer,
    call_sid,
    on_duty,
    recording_params,
    recording_sid,
    spoken,
    status_params,
    twiml,
    verbs,
)
from tickets.calendar import DEFAULT_HOURS

SUNDAY_MORNING = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 10:00 in Bình Dương, a Sunday
WEDNESDAY_MORNING = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00, a working day


@pytest.fixture
def office_hours(make_app) -> TwilioClient:
    """1022 staffed during the provincial administration's hours only (the default)."""
    return TwilioClient(make_app(HOTLINE_1022_HOURS=DEFAULT_HOURS))


def assert_voicemail(root) -> None:
    assert verbs(root) == ["Say", "Record"]
    record = root.find("Record")
    assert record.get("recordingStatusCallback") == "http://127.0.0.1:5000/twilio/voice/recording"
    assert record.get("action") == "http://127.0.0.1:5000/twilio/voice/recorded"
    assert record.get("maxLength") and record.get("finishOnKey") == "#"
    assert "gọi lại" in spoken(root)


def test_on_a_sunday_the_caller_is_asked_to_leave_a_message(office_hours, session, rows):
    on_duty(session)  # someone is logged in, but the line is closed
    sid = call_sid()
    with time_machine.travel(SUNDAY_MORNING, tick=False):
        root = twiml(office_hours.voice(sid))
    assert_voicemail(root)
    assert "ngoài giờ" in spoken(root)
    assert rows.ticket_of(sid).channel == "phone"  # the call still has its ticket


def test_in_office_hours_with_nobody_on_duty_the_caller_leaves_a_message(office_hours, rows):
    sid = call_sid()
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        root = twiml(office_hours.voice(sid))
    assert_voicemail(root)
    assert "bận" in spoken(root)


def test_in_office_hours_with_an_operator_on_duty_the_menu_plays(office_hours, session):
    on_duty(session)
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        assert verbs(twiml(office_hours.voice(call_sid()))) == ["Gather", "Redirect"]


def leave_voicemail(client: TwilioClient, sid: str, rec: str) -> None:
    with time_machine.travel(SUNDAY_MORNING, tick=False):
        twiml(client.voice(sid))
        action = {**status_params(sid, "in-progress", 1), "RecordingUrl": "https://api.twilio.com/x",
                  "RecordingDuration": "17", "Digits": "#"}
        twiml(client.post("/twilio/voice/recorded", action))
        assert client.post("/twilio/voice/recording", recording_params(sid, rec)).status_code == 204


def test_the_recording_is_attached_and_the_call_needs_a_call_back(office_hours, session, rows):
    on_duty(session, username="lan")
    sid, rec = call_sid(), recording_sid()
    leave_voicemail(office_hours, sid, rec)

    ticket = rows.ticket_of(sid)
    assert ticket.callback_needed
    [voicemail] = rows.events(ticket.id, "voicemail")
    assert voicemail.data["recording_url"].endswith(rec)
    assert voicemail.data["duration"] == 17
    call = rows.call(sid)
    assert (call.voicemail, call.recording_sid, call.callback_needed) == (True, rec, True)


def test_the_same_recording_delivered_twice_is_attached_once(office_hours, session, rows):
    sid, rec = call_sid(), recording_sid()
    leave_voicemail(office_hours, sid, rec)
    assert office_hours.post("/twilio/voice/recording", recording_params(sid, rec)).status_code == 204
    assert len(rows.events(rows.ticket_of(sid).id, "voicemail")) == 1


def test_a_failed_or_unfinished_recording_attaches_nothing(office_hours, session, rows):
    sid = call_sid()
    with time_machine.travel(SUNDAY_MORNING, tick=False):
        twiml(office_hours.voice(sid))
    for status in ("failed", "absent", "in-progress"):
        params = recording_params(sid, recording_sid(), status=status)
        response = office_hours.post("/twilio/voice/recording", params)
        assert response.status_code == 204
    assert rows.events(rows.ticket_of(sid).id, "voicemail") == []
    assert rows.call(sid).recording_sid is None


def test_a_recording_for_an_unknown_call_writes_nothing(office_hours, rows):
    before = rows.snapshot()
    params = recording_params(call_sid(), recording_sid())
    assert office_hours.post("/twilio/voice/recording", params).status_code == 204
    assert rows.snapshot() == before


def test_operators_see_the_voicemail_on_the_call_back_list_until_called_back(office_hours, session, rows):
    on_duty(session, username="lan")
    sid, rec = call_sid(), recording_sid()
    leave_voicemail(office_hours, sid, rec)
    # The caller hangs up after the message: the status callback comes too.
    office_hours.post("/twilio/voice/status", status_params(sid, "completed", 2, duration=35))
    app, headers = office_hours.app, bearer(office_hours.app, "lan")
    http = app.test_client()

    [item] = http.get("/api/calls/callbacks", headers=headers).json["items"]
    assert (item["call_sid"], item["voicemail"], item["caller"]) == (sid, True, "+84912345678")
    assert item["recording_url"].endswith(rec)
    assert item["ticket"]["callback_needed"] is True

    done = http.post(f"/api/calls/{sid}/called-back", headers=headers)
    assert done.status_code == 200
    assert done.json["callback_needed"] is False
    assert http.get("/api/calls/callbacks", headers=headers).json["items"] == []
    assert len(rows.events(rows.ticket_of(sid).id, "called_back")) == 1
    # Pressing the button twice records it once.
    assert http.post(f"/api/calls/{sid}/called-back", headers=headers).status_code == 200
    assert len(rows.events(rows.ticket_of(sid).id, "called_back")) == 1


def test_the_call_back_list_is_for_phone_staff_only(office_hours, session):
    make_user(session, "staff", username="tnmt")
    app = office_hours.app
    response = app.test_client().get("/api/calls/callbacks", headers=bearer(app, "tnmt"))
    assert response.status_code == 403


def test_an_unknown_call_cannot_be_marked_called_back(office_hours, session):
    on_duty(session, username="lan")
    app = office_hours.app
    response = app.test_client().post(f"/api/calls/{call_sid()}/called-back", headers=bearer(app, "lan"))
    assert response.status_code == 404


@pytest.mark.parametrize(("moment", "open_"), [
    (datetime(2026, 11, 30, 0, 29, tzinfo=UTC), False),  # Monday 07:29 in Bình Dương
    (datetime(2026, 11, 30, 0, 30, tzinfo=UTC), True),  # Monday 07:30
    (datetime(2026, 11, 30, 4, 29, tzinfo=UTC), True),  # 11:29
    (datetime(2026, 11, 30, 4, 30, tzinfo=UTC), False),  # 11:30
    (datetime(2026, 11, 30, 5, 0, tzinfo=UTC), False),  # 12:00, the lunch break
    (datetime(2026, 11, 30, 9, 59, tzinfo=UTC), True),  # 16:59
    (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), False),  # 17:00
    (datetime(2026, 9, 2, 3, 0, tzinfo=UTC), False),  # National Day, a Wednesday
    (datetime(2027, 2, 8, 3, 0, tzinfo=UTC), False),  # Tết holiday, a Monday
], ids=str)
def test_the_line_is_staffed_in_local_office_hours_minus_holidays(office_hours, session, moment, open_):
    on_duty(session)
    with time_machine.travel(moment, tick=False):
        root = twiml(office_hours.voice(call_sid()))
    assert (root.find("Gather") is not None) == open_
    assert (root.find("Record") is not None) == (not open_)
