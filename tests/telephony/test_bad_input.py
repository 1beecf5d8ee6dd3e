"""Whatever arrives, correctly signed, Twilio gets an answer it can use — valid TwiML, or 204
for callbacks — never a 500 (the caller would hear "an application error has occurred"),
and a repeated request never opens a second ticket."""

from __future__ import annotations

import pytest

from tests.telephony.conftest import (
    HOTLINE_115,
    TwilioClient,
    call_sid,
    console,
    on_duty,
    received,
    recording_params,
    recording_sid,
    sms_params,
    spoken,
    status_params,
    twiml,
    verbs,
    voice_params,
)

DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/hotline"


def without(params: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in names}


def twice(twilio, path: str, params: dict[str, str], query: str | None = None):
    first, second = twilio.post(path, params, query), twilio.post(path, params, query)
    assert first.status_code == second.status_code
    return second


def test_a_call_without_a_call_sid_hears_goodbye_and_nothing_is_written(twilio, session, rows):
    on_duty(session)
    root = twiml(twice(twilio, "/twilio/voice", without(voice_params("x"), "CallSid")))
    assert verbs(root) == ["Say", "Hangup"]
    assert rows.snapshot() == dict.fromkeys(rows.snapshot(), 0)


@pytest.mark.parametrize("to", ["+842743999999", "", "client:operator", "+84274115000"])
def test_a_call_to_a_number_we_do_not_serve_hears_goodbye(twilio, session, rows, to):
    on_duty(session)
    params = voice_params(call_sid(), to=to) if to else without(voice_params(call_sid()), "To", "Called")
    root = twiml(twice(twilio, "/twilio/voice", params))
    assert verbs(root) == ["Say", "Hangup"]
    assert "không đúng" in spoken(root)
    assert (rows.tickets(), rows.calls()) == (0, 0)


def test_the_hotline_number_without_its_plus_is_still_recognised(twilio, session, rows):
    on_duty(session)
    twiml(twilio.voice(call_sid(), to="842741022"))
    assert rows.only_ticket().line == "1022"


@pytest.mark.parametrize("caller", ["anonymous", "client:alice", "unknown", "restricted", "+266696687",
                                    "sip:alice@example.com", None, "", "x" * 500])
def test_a_withheld_or_unusable_caller_id_still_gets_a_ticket_without_a_phone(twilio, tw_app, session, rows,
                                                                            caller):
    on_duty(session, username="lan")
    operator = console(tw_app, "lan")
    sid = call_sid()
    params = voice_params(sid) | ({"From": caller, "Caller": caller} if caller is not None else {})
    if caller is None:
        params = without(params, "From", "Caller")

    root = twiml(twice(twilio, "/twilio/voice", params))

    assert root.find("Gather") is not None  # the call goes on as usual
    assert (rows.tickets(), rows.calls()) == (1, 1)
    ticket = rows.ticket_of(sid)
    assert ticket.caller_phone is None
    assert rows.outbox() == []  # nobody to text a tracking code to
    [incoming] = received(operator, "call.incoming")
    assert incoming["history"] == [] and incoming["from"]
    assert len(rows.call(sid).from_number) <= 64
    twiml(twilio.post("/twilio/voice/gather", params | {"Digits": "3"}))
    assert rows.ticket_of(sid).category_code == "rac_thai"


@pytest.mark.parametrize(("path", "query", "extra"), [
    ("/twilio/voice/gather", None, {"Digits": "2"}),
    ("/twilio/voice/gather", None, {"SpeechResult": "mùi hôi", "Confidence": "0.4"}),
    ("/twilio/voice/gather", "skipped=1", {}),
    ("/twilio/voice/wait", "line=1022", {"QueuePosition": "2", "QueueTime": "10"}),
    ("/twilio/voice/wait", "line=115", {"QueuePosition": "1", "QueueTime": "45"}),
    ("/twilio/voice/wait", None, {}),
    ("/twilio/voice/queue-result", None, {"QueueResult": "bridged", "QueueTime": "3"}),
    ("/twilio/voice/queue-result", None, {"QueueResult": "leave"}),
    ("/twilio/voice/queue-result", None, {}),
    ("/twilio/voice/bridged", None, {"QueueTime": "3"}),
    ("/twilio/voice/recorded", None, {"RecordingUrl": "https://x", "Digits": "hangup"}),
], ids=lambda v: str(v))
def test_a_call_webhook_for_a_call_we_never_saw_answers_twiml_and_writes_nothing(twilio, rows, path, query,
                                                                              extra):
    before = rows.snapshot()
    twiml(twice(twilio, path, voice_params(call_sid(), status="in-progress", **extra), query))
    assert rows.snapshot() == before


@pytest.mark.parametrize(("path", "params"), [
    ("/twilio/voice/status", status_params(call_sid(), "completed", 3, duration=12)),
    ("/twilio/voice/status", without(status_params(call_sid(), "completed", 3), "CallSid")),
    ("/twilio/voice/recording", recording_params(call_sid(), recording_sid())),
    ("/twilio/voice/recording", without(recording_params(call_sid(), recording_sid()), "RecordingSid")),
])
def test_a_callback_for_a_call_we_never_saw_answers_204_and_writes_nothing(twilio, rows, path, params):
    before = rows.snapshot()
    assert twice(twilio, path, params).status_code == 204
    assert rows.snapshot() == before


@pytest.mark.parametrize("extra", [
    {"QueuePosition": "abc", "QueueTime": "-1"}, {"QueuePosition": "", "QueueTime": ""},
    {"QueuePosition": "99999999999999999999", "QueueTime": "1e9"},
])
def test_garbled_numbers_in_the_wait_request_still_play_the_wait_message(twilio, extra):
    for query in ("line=1022", "line=115"):
        root = twiml(twilio.post("/twilio/voice/wait", voice_params(call_sid(), **extra), query))
        assert spoken(root)


def test_garbled_numbers_in_callbacks_are_ignored(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    twiml(twilio.post("/twilio/voice/bridged", voice_params(sid, QueueTime="soon")))
    twilio.post("/twilio/voice/status", status_params(sid, "completed", 3) | {"CallDuration": "12.5"})
    call = rows.call(sid)
    assert (call.status, call.duration, call.queue_time) == ("completed", None, None)


@pytest.mark.parametrize("extra", [
    {"Digits": "0"}, {"Digits": "99"}, {"Digits": "abc"}, {"SpeechResult": ""}, {"SpeechResult": "…?!"},
    {"Digits": "", "SpeechResult": ""},
], ids=lambda v: str(v))
def test_a_menu_answer_outside_the_menu_still_queues_the_caller(twilio, session, rows, extra):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid))
    root = twiml(twice(twilio, "/twilio/voice/gather", voice_params(sid, status="in-progress", **extra)))
    assert root.find("Enqueue").text == "operators-1022"
    assert rows.tickets() == 1


# ---- SMS ---------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    without(sms_params("Đèn hỏng"), "MessageSid", "SmsSid", "SmsMessageSid"),
    sms_params("Đèn hỏng", to="+842743999999"),
    without(sms_params("Đèn hỏng"), "To"),
], ids=["no-sid", "unknown-to", "no-to"])
def test_an_sms_we_cannot_place_answers_empty_twiml_and_writes_nothing(twilio, rows, params):
    root = twiml(twice(twilio, "/twilio/sms", params))
    assert verbs(root) == []
    assert rows.snapshot() == dict.fromkeys(rows.snapshot(), 0)


@pytest.mark.parametrize("sender", ["VIETTEL", "anonymous", "", "+266696687"])
def test_an_sms_from_a_sender_that_is_not_a_phone_still_opens_one_ticket(twilio, rows, sender):
    params = sms_params("Thông báo: có cháy nhỏ ở chợ") | {"From": sender}
    twiml(twice(twilio, "/twilio/sms", params))
    ticket = rows.only_ticket()
    assert ticket.caller_phone is None
    assert rows.outbox() == []


def test_an_mms_without_text_is_accepted(twilio, rows):
    params = sms_params("") | {"NumMedia": "1", "MediaContentType0": "image/jpeg",
                               "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME"}
    twiml(twice(twilio, "/twilio/sms", params))
    assert rows.tickets() <= 1


def test_a_1600_character_sms_with_emoji_is_one_ticket(twilio, rows):
    body = "🚨 Ngập nặng, nước tràn vào nhà dân, cần hỗ trợ gấp 🙏 " * 40
    params = sms_params(body[:1600], segments=25)
    twiml(twice(twilio, "/twilio/sms", params))
    assert rows.tickets() == 1
    assert len(rows.only_ticket().description) <= 4000


# ---- when the database itself is down ---------------------------------------------------

@pytest.fixture
def no_database(make_app) -> TwilioClient:
    """The app with its database unreachable (a real refused connection)."""
    return TwilioClient(make_app(DATABASE_URL=DEAD_DATABASE, HOTLINE_115_FALLBACK_NUMBER="+842743822115"))


@pytest.mark.swallowed_errors_expected
def test_with_the_database_down_a_1022_caller_hears_an_apology_not_an_application_error(no_database):
    root = twiml(no_database.voice(call_sid()))
    assert verbs(root) == ["Say", "Hangup"]
    assert "sự cố" in spoken(root)


@pytest.mark.swallowed_errors_expected
def test_with_the_database_down_a_115_caller_is_still_queued_for_a_dispatcher(no_database):
    root = twiml(no_database.voice(call_sid(), to=HOTLINE_115))
    assert root.find("Enqueue") is not None and root.find("Enqueue").text == "dispatch-115"


@pytest.mark.swallowed_errors_expected
@pytest.mark.parametrize(("path", "extra"), [
    ("/twilio/voice/queue-result", {"QueueResult": "leave", "QueueTime": "31"}),
    ("/twilio/voice/bridged", {"QueueTime": "5"}),
])
def test_with_the_database_down_call_control_webhooks_still_answer_twiml(no_database, path, extra):
    twiml(no_database.post(path, voice_params(call_sid(), to=HOTLINE_115, status="in-progress", **extra)))


@pytest.mark.swallowed_errors_expected
def test_with_the_database_down_callbacks_answer_204(no_database):
    sid = call_sid()
    assert no_database.post("/twilio/voice/status", status_params(sid, "completed", 3)).status_code == 204
    assert no_database.post("/twilio/sms/status", {"MessageSid": "SM" + "0" * 32,
                                                   "MessageStatus": "delivered"}).status_code == 204


def test_webhooks_that_need_no_database_work_without_one(no_database):
    root = twiml(no_database.post("/twilio/voice/operator", voice_params(call_sid(), from_="client:lan")))
    assert root.find("Dial") is not None
    assert spoken(twiml(no_database.post("/twilio/voice/wait", voice_params(call_sid(), QueuePosition="2"),
                                         "line=1022")))
