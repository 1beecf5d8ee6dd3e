"""A call to 1022 while operators are on duty: one ticket per call, the consoles told who is
calling (with their history), an IVR menu in Vietnamese, then the queue to an operator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.telephony.conftest import (
    CALLER,
    HOTLINE_115,
    bearer,
    call_sid,
    console,
    on_duty,
    received,
    spoken,
    twiml,
    verbs,
    voice_params,
)
from tickets.calls import Call
from tickets.codes import new_code
from tickets.models import Ticket

VIETNAMESE = set("ăâđêôơưáàảãạếềểễệóòỏõọớờởỡợúùủũụứừửữựíìỉĩịýỳỷỹ")


def gather(twilio, sid: str, query: str | None = None, **params: str):
    return twilio.post("/twilio/voice/gather", voice_params(sid, status="in-progress", **params), query)


def test_an_incoming_call_answers_the_vietnamese_menu(twilio, session):
    on_duty(session)
    root = twiml(twilio.voice(call_sid()))

    assert verbs(root) == ["Gather", "Redirect"]
    menu = root.find("Gather")
    assert set(menu.get("input").split()) == {"dtmf", "speech"}
    assert menu.get("language") == "vi-VN"
    assert menu.get("action") == "http://127.0.0.1:5000/twilio/voice/gather"
    says = menu.findall("Say")
    assert says and all(s.get("language") == "vi-VN" and s.get("voice").startswith("Google.vi-VN-")
                        for s in says)
    text = spoken(root)
    assert "1022" in text and VIETNAMESE & set(text.lower())
    assert "nhấn phím 2" in text  # the menu is read from data/telephony/ivr_menu.csv
    # With no answer the caller still reaches an operator, not a loop.
    assert root.find("Redirect").text == "http://127.0.0.1:5000/twilio/voice/gather?skipped=1"


def test_an_incoming_call_opens_one_ticket_and_records_the_call(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid, from_="+84912345678"))

    ticket = rows.ticket_of(sid)
    assert (ticket.line, ticket.channel, ticket.priority) == ("1022", "phone", "normal")
    assert ticket.status in ("new", "assigned")
    assert ticket.caller_phone == CALLER
    assert [len(rows.events(ticket.id, a)) for a in ("created", "call_received")] == [1, 1]
    [received_event] = rows.events(ticket.id, "call_received")
    assert received_event.data["call_sid"] == sid
    call = rows.call(sid)
    assert (call.line, call.status, call.from_number) == ("1022", "ringing", CALLER)
    assert call.to_number == "+842741022"
    assert call.answered_at is None and not call.callback_needed


@pytest.mark.parametrize(("raw", "e164"), [
    ("+84912345678", "+84912345678"),
    ("84912345678", "+84912345678"),  # some carriers drop the +
    ("+841688123456", "+84388123456"),  # an old 11-digit Viettel number
])
def test_the_caller_number_is_stored_in_e164(twilio, session, rows, raw, e164):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid, from_=raw))
    assert rows.ticket_of(sid).caller_phone == e164
    assert rows.call(sid).from_number == raw  # the raw caller ID is kept on the call


def test_operators_hear_of_the_call_with_the_callers_history_under_either_numbering(
        twilio, tw_app, session):
    on_duty(session, username="lan")
    on_duty(session, "dispatcher", username="disp")
    # Earlier tickets of the same person: one under today's number, one from before 2018
    # stored under the old 11-digit form, and one of someone else.
    for phone, description in (("+84388123456", "Đèn đường hỏng"), ("+841688123456", "Rác chưa thu gom"),
                               ("+84912345678", "Người khác")):
        session.add(Ticket(code=new_code(), line="1022", channel="phone", status="new", priority="normal",
                           description=description, caller_phone=phone))
    session.commit()
    operator, dispatcher = console(tw_app, "lan"), console(tw_app, "disp")

    sid = call_sid()
    twiml(twilio.voice(sid, from_="+84388123456"))

    [incoming] = received(operator, "call.incoming")
    assert incoming["call_sid"] == sid and incoming["line"] == "1022"
    assert incoming["from"] == "+84388123456"
    assert incoming["ticket"]["caller_phone"] == "+84388123456"
    assert incoming["ticket"]["call"]["sid"] == sid
    assert sorted(t["description"] for t in incoming["history"]) == ["Rác chưa thu gom", "Đèn đường hỏng"]
    assert incoming["ticket"]["id"] not in [t["id"] for t in incoming["history"]]
    assert received(dispatcher, "call.incoming") == []  # a 1022 call is not the dispatchers' business


def test_a_115_call_is_announced_to_dispatchers_not_operators(twilio, tw_app, session):
    on_duty(session, username="lan")
    on_duty(session, "dispatcher", username="disp")
    operator, dispatcher = console(tw_app, "lan"), console(tw_app, "disp")

    sid = call_sid()
    twiml(twilio.voice(sid, to=HOTLINE_115))

    assert operator.get_received() == []
    [incoming] = received(dispatcher, "call.incoming")
    assert (incoming["call_sid"], incoming["line"]) == (sid, "115")


@pytest.mark.parametrize(("params", "category", "source"), [
    ({"Digits": "2"}, "moi_truong", "dtmf"),
    ({"Digits": "7"}, "nuoc", "dtmf"),
    ({"SpeechResult": "có mùi hôi thối", "Confidence": "0.91"}, "moi_truong", "speech"),
    ({"SpeechResult": "Có Mùi Hôi Thối.", "Confidence": "0.62"}, "moi_truong", "speech"),
    ({"SpeechResult": "đèn tín hiệu giao thông bị hỏng", "Confidence": "0.8"},
     "trat_tu_an_toan_giao_thong", "speech"),
])
def test_the_menu_choice_sets_the_category_and_queues_for_an_operator(twilio, session, rows, params, category,
                                                                      source):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    root = twiml(gather(twilio, sid, **params))

    assert verbs(root) == ["Say", "Enqueue"]
    enqueue = root.find("Enqueue")
    assert enqueue.text == "operators-1022"
    assert enqueue.get("waitUrl") == "http://127.0.0.1:5000/twilio/voice/wait?line=1022"
    assert enqueue.get("action") == "http://127.0.0.1:5000/twilio/voice/queue-result"
    ticket = rows.ticket_of(sid)
    assert ticket.category_code == category
    [event] = rows.events(ticket.id, "category_set")
    assert event.data == {"category": category, "source": source}


@pytest.mark.parametrize("params", [
    {"Digits": "0"}, {"Digits": "*"}, {"Digits": "#"}, {"SpeechResult": "", "Confidence": "0.0"},
    {"SpeechResult": "alo alo"}, {"SpeechResult": "   "}, {},
    pytest.param({"Digits": "99"}),
    pytest.param({"Digits": "21"}),
])
def test_an_unclear_answer_sets_no_category_and_still_reaches_an_operator(twilio, session, rows, params):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    root = twiml(gather(twilio, sid, **params))

    assert root.find("Enqueue").text == "operators-1022"
    assert "chưa rõ" in spoken(root)
    ticket = rows.ticket_of(sid)
    assert ticket.category_code is None
    assert rows.events(ticket.id, "category_set") == []


def test_no_answer_at_all_goes_straight_to_the_queue(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    root = twiml(gather(twilio, sid, query="skipped=1"))
    assert root.find("Enqueue").text == "operators-1022"
    assert rows.ticket_of(sid).category_code is None


def test_a_repeated_menu_answer_records_the_category_once(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    first, again = twiml(gather(twilio, sid, Digits="2")), twiml(gather(twilio, sid, Digits="2"))
    assert verbs(first) == verbs(again)
    assert len(rows.events(rows.ticket_of(sid).id, "category_set")) == 1


def test_a_waiting_caller_hears_their_position(twilio, session):
    params = voice_params(call_sid(), status="in-progress", QueuePosition="3", QueueSid="QU" + "a" * 32,
                          QueueTime="40", AvgQueueTime="35", CurrentQueueSize="4", MaxQueueSize="1000")
    root = twiml(twilio.post("/twilio/voice/wait", params, "line=1022"))
    assert "vị trí số 3" in spoken(root)
    assert root.find("Pause") is not None  # Twilio loops the wait document
    first = twiml(twilio.post("/twilio/voice/wait", {**params, "QueuePosition": "1"}, "line=1022"))
    assert "vị trí" not in spoken(first) and spoken(first)


def test_when_an_operator_picks_up_the_answer_time_and_queue_time_are_recorded(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    twiml(gather(twilio, sid, Digits="1"))

    root = twiml(twilio.post("/twilio/voice/bridged", voice_params(sid, status="in-progress", QueueTime="12",
                                                                   QueueSid="QU" + "b" * 32)))
    assert verbs(root) == []
    call = rows.call(sid)
    assert call.answered_at is not None and call.queue_time == 12

    root = twiml(twilio.post("/twilio/voice/queue-result", voice_params(
        sid, status="in-progress", QueueResult="bridged", QueueTime="12", QueueSid="QU" + "b" * 32)))
    assert verbs(root) == []
    call = rows.call(sid)
    assert (call.queue_result, call.queue_time) == ("bridged", 12)


def test_the_queue_result_alone_also_marks_the_call_answered(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    twiml(twilio.post("/twilio/voice/queue-result", voice_params(sid, QueueResult="bridged", QueueTime="7")))
    call = rows.call(sid)
    assert call.answered_at is not None and call.queue_time == 7


def test_an_operator_phone_takes_the_next_caller_from_the_right_queue(twilio):
    for query, queue in ((None, "operators-1022"), ("line=115", "dispatch-115")):
        root = twiml(twilio.post("/twilio/voice/operator", voice_params(call_sid(), from_="client:lan",
                                                                         to="+842743822022"), query))
        [dial] = root.findall("Dial")
        assert dial.find("Queue").text == queue
        assert dial.find("Queue").get("url") == "http://127.0.0.1:5000/twilio/voice/bridged"


def test_the_ticket_api_shows_the_call(twilio, tw_app, session, rows):
    on_duty(session, username="lan")
    sid = call_sid()
    twiml(twilio.voice(sid))
    ticket_id = rows.ticket_of(sid).id
    shown = tw_app.test_client().get(f"/api/tickets/{ticket_id}", headers=bearer(tw_app, "lan")).json
    assert shown["call"] == {"sid": sid, "status": "ringing", "duration": None, "queue_time": None}
    assert session.scalar(select(Call.ticket_id).where(Call.sid == sid)) == ticket_id
