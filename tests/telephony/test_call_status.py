"""Status callbacks record how a call ended. They arrive out of order and more than once;
a call that ended before anyone answered goes onto the call-back list, once."""

from __future__ import annotations

import pytest

from tests.telephony.conftest import (
    call_sid,
    console,
    on_duty,
    received,
    status_params,
    twiml,
    voice_params,
)


@pytest.fixture
def ringing(twilio, session) -> str:
    """A 1022 call that has arrived (an operator is on duty)."""
    on_duty(session, username="lan")
    sid = call_sid()
    twiml(twilio.voice(sid))
    return sid


def status(twilio, sid: str, value: str, sequence: int, duration: int | None = None):
    response = twilio.post("/twilio/voice/status", status_params(sid, value, sequence, duration=duration))
    assert response.status_code == 204
    assert response.get_data() == b""
    return response


def bridge(twilio, sid: str) -> None:
    twiml(twilio.post("/twilio/voice/bridged", voice_params(sid, status="in-progress", QueueTime="9")))


def queue_result(twilio, sid: str, result: str, waited: int) -> None:
    params = voice_params(sid, status="in-progress", QueueResult=result, QueueTime=str(waited))
    twiml(twilio.post("/twilio/voice/queue-result", params))


def test_a_completed_call_records_its_duration(twilio, ringing, rows):
    bridge(twilio, ringing)
    status(twilio, ringing, "completed", 3, duration=95)
    call = rows.call(ringing)
    assert (call.status, call.duration) == ("completed", 95)
    assert call.ended_at is not None


def test_callbacks_arriving_out_of_order_leave_the_final_status(twilio, ringing, rows):
    bridge(twilio, ringing)
    status(twilio, ringing, "completed", 3, duration=61)
    status(twilio, ringing, "ringing", 1)
    status(twilio, ringing, "in-progress", 2)
    call = rows.call(ringing)
    assert (call.status, call.duration) == ("completed", 61)


def test_an_earlier_status_still_moves_a_call_forward(twilio, ringing, rows):
    status(twilio, ringing, "in-progress", 2)
    assert rows.call(ringing).status == "in-progress"
    status(twilio, ringing, "ringing", 1)
    assert rows.call(ringing).status == "in-progress"


def test_a_call_that_ended_unanswered_needs_a_call_back_once(twilio, ringing, rows):
    status(twilio, ringing, "completed", 3, duration=20)
    status(twilio, ringing, "completed", 3, duration=20)  # delivered twice
    status(twilio, ringing, "no-answer", 3)  # and a contradicting late one

    ticket = rows.ticket_of(ringing)
    assert ticket.callback_needed
    [event] = rows.events(ticket.id, "callback_needed")
    assert event.data["call_sid"] == ringing and event.data["status"] == "completed"
    call = rows.call(ringing)
    assert (call.status, call.callback_needed) == ("completed", True)


@pytest.mark.parametrize("final", ["busy", "failed", "no-answer", "canceled"])
def test_every_unanswered_ending_needs_a_call_back(twilio, ringing, rows, final):
    status(twilio, ringing, final, 1)
    assert rows.ticket_of(ringing).callback_needed
    assert rows.call(ringing).status == final


def test_a_call_bridged_to_an_operator_then_completed_needs_no_call_back(twilio, ringing, rows):
    bridge(twilio, ringing)
    queue_result(twilio, ringing, "bridged", 9)
    status(twilio, ringing, "completed", 3, duration=120)
    ticket = rows.ticket_of(ringing)
    assert not ticket.callback_needed
    assert rows.events(ticket.id, "callback_needed") == []


def test_a_caller_who_hangs_up_in_the_queue_needs_a_call_back(twilio, ringing, rows):
    queue_result(twilio, ringing, "hangup", 48)
    status(twilio, ringing, "completed", 3, duration=70)
    assert rows.ticket_of(ringing).callback_needed
    assert rows.call(ringing).queue_time == 48


def test_a_status_for_an_unknown_call_answers_204_and_writes_nothing(twilio, rows):
    before = rows.snapshot()
    response = twilio.post("/twilio/voice/status", status_params(call_sid(), "completed", 3, duration=5))
    assert response.status_code == 204
    assert rows.snapshot() == before


def test_an_unknown_status_value_changes_nothing(twilio, ringing, rows):
    status(twilio, ringing, "teleported", 4)
    status(twilio, ringing, "", 4)
    call = rows.call(ringing)
    assert (call.status, call.callback_needed) == ("ringing", False)


def test_operators_are_told_when_a_call_ends(twilio, tw_app, ringing):
    operator = console(tw_app, "lan")
    status(twilio, ringing, "completed", 3, duration=44)
    status(twilio, ringing, "completed", 3, duration=44)  # a duplicate is not announced again

    [ended] = received(operator, "call.ended")
    assert (ended["call_sid"], ended["status"], ended["duration"]) == (ringing, "completed", 44)
    assert ended["ticket"]["callback_needed"] is True
    assert ended["ticket"]["call"]["sid"] == ringing
