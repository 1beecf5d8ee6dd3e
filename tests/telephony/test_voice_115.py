"""A call to 115 skips the menu and goes straight to a dispatcher; if none answers in time
and a fallback number is configured, the caller is put through to it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.telephony.conftest import (
    HOTLINE_115,
    TwilioClient,
    call_sid,
    on_duty,
    spoken,
    twiml,
    verbs,
    voice_params,
)

FALLBACK = "+842743822115"


@pytest.fixture
def with_fallback(make_app) -> TwilioClient:
    return TwilioClient(make_app(HOTLINE_115_FALLBACK_NUMBER=FALLBACK, DISPATCHER_ANSWER_SECONDS=30))


def test_a_115_call_goes_straight_to_the_dispatch_queue(twilio, rows):
    sid = call_sid()
    root = twiml(twilio.voice(sid, to=HOTLINE_115))

    assert root.find("Gather") is None  # no menu in an emergency
    assert verbs(root) == ["Say", "Enqueue"]
    assert "115" in spoken(root)
    enqueue = root.find("Enqueue")
    assert enqueue.text == "dispatch-115"
    assert enqueue.get("waitUrl") == "http://127.0.0.1:5000/twilio/voice/wait?line=115"
    assert enqueue.get("action") == "http://127.0.0.1:5000/twilio/voice/queue-result?line=115"
    ticket = rows.ticket_of(sid)
    assert (ticket.line, ticket.priority, ticket.channel) == ("115", "emergency", "phone")
    assert rows.call(sid).line == "115"


def test_a_115_call_is_answered_even_with_nobody_on_duty_and_outside_office_hours(make_app, rows):
    client = TwilioClient(make_app(HOTLINE_1022_HOURS="mon-fri 07:30-11:30"))
    with time_machine.travel(datetime(2026, 11, 29, 15, 0, tzinfo=UTC), tick=False):  # Sunday 22:00
        root = twiml(client.voice(call_sid(), to=HOTLINE_115))
    assert root.find("Enqueue").text == "dispatch-115"
    assert root.find("Record") is None


def test_a_115_caller_gets_no_tracking_sms(twilio, rows):
    twiml(twilio.voice(call_sid(), to=HOTLINE_115))
    assert rows.outbox() == []


def test_the_115_wait_music_reassures_without_a_queue_position(twilio):
    root = twiml(twilio.post("/twilio/voice/wait", voice_params(call_sid(), to=HOTLINE_115, QueuePosition="4",
                                                                  QueueTime="3"), "line=115"))
    assert "cấp cứu" in spoken(root)
    assert root.find("Leave") is None


def test_without_a_fallback_number_the_caller_keeps_waiting(twilio):
    root = twiml(twilio.post("/twilio/voice/wait", voice_params(call_sid(), to=HOTLINE_115, QueuePosition="1",
                                                                  QueueTime="300"), "line=115"))
    assert root.find("Leave") is None


def test_a_dispatcher_who_does_not_answer_in_time_hands_the_call_to_the_fallback(with_fallback, rows):
    sid = call_sid()
    twiml(with_fallback.voice(sid, to=HOTLINE_115))

    def wait(seconds: int):
        params = voice_params(sid, status="in-progress", to=HOTLINE_115, QueuePosition="1",
                              QueueTime=str(seconds))
        return twiml(with_fallback.post("/twilio/voice/wait", params, "line=115"))

    assert wait(29).find("Leave") is None
    assert verbs(wait(31)) == ["Leave"]

    root = twiml(with_fallback.post("/twilio/voice/queue-result", voice_params(
        sid, status="in-progress", to=HOTLINE_115, QueueResult="leave", QueueTime="31")))
    [dial] = root.findall("Dial")
    assert dial.text == FALLBACK or dial.find("Number").text == FALLBACK
    assert rows.call(sid).queue_result == "leave"


def test_the_1022_queue_never_leaves_for_the_115_fallback(with_fallback):
    root = twiml(with_fallback.post("/twilio/voice/wait", voice_params(call_sid(), QueuePosition="2",
                                                                         QueueTime="600"), "line=1022"))
    assert root.find("Leave") is None


def test_a_1022_call_that_leaves_its_queue_is_not_dialled_to_the_115_fallback(with_fallback, session):
    on_duty(session)
    sid = call_sid()
    twiml(with_fallback.voice(sid))
    root = twiml(with_fallback.post("/twilio/voice/queue-result", voice_params(sid, QueueResult="leave")))
    assert root.find("Dial") is None
