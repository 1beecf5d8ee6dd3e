"""Every Twilio webhook is signed (X-Twilio-Signature over PUBLIC_BASE_URL + path + query).
An unsigned or mis-signed request is refused with 403 and writes nothing; without a token
the webhooks are closed (503), except in demo mode, where the built-in simulator signs."""

from __future__ import annotations

import pytest

from app.telephony import DEMO_TOKEN_FILE, auth_token
from integrations.simulator import SimulatedCall, run_call
from tests.telephony.conftest import (
    CALLER,
    HOTLINE_1022,
    TwilioClient,
    call_sid,
    on_duty,
    recording_params,
    recording_sid,
    sign,
    sms_params,
    sms_status_params,
    status_params,
    voice_params,
)

SID = "CA" + "0123456789abcdef" * 2

# Every webhook with a request Twilio could send it.
WEBHOOKS = [
    ("/twilio/voice", None, voice_params(SID)),
    ("/twilio/voice/gather", None, voice_params(SID, status="in-progress", Digits="2")),
    ("/twilio/voice/wait", "line=1022", voice_params(SID, QueuePosition="1", QueueTime="5")),
    ("/twilio/voice/queue-result", None, voice_params(SID, QueueResult="hangup", QueueTime="5")),
    ("/twilio/voice/bridged", None, voice_params(SID, QueueTime="5")),
    ("/twilio/voice/operator", None, voice_params(SID, from_="client:lan")),
    ("/twilio/voice/recorded", None, voice_params(SID, RecordingUrl="https://x", Digits="#")),
    ("/twilio/voice/status", None, status_params(SID, "completed", 3, duration=30)),
    ("/twilio/voice/recording", None, recording_params(SID, recording_sid())),
    ("/twilio/sms", None, sms_params("Đèn đường hỏng")),
    ("/twilio/sms/status", None, sms_status_params("SM" + "0" * 32, "delivered")),
]
IDS = [path + (f"?{query}" if query else "") for path, query, _ in WEBHOOKS]


@pytest.mark.parametrize(("path", "query", "params"), WEBHOOKS, ids=IDS)
def test_a_request_without_a_signature_is_refused_and_writes_nothing(twilio, session, rows, path, query,
                                                                   params):
    on_duty(session)
    before = rows.snapshot()
    for headers in ({"X-Twilio-Signature": ""}, {}):
        response = twilio.http.post(path + (f"?{query}" if query else ""), data=params, headers=headers)
        assert response.status_code == 403
    assert rows.snapshot() == before


@pytest.mark.parametrize(("path", "query", "params"), WEBHOOKS, ids=IDS)
def test_the_same_request_correctly_signed_is_accepted(twilio, session, path, query, params):
    on_duty(session)
    assert twilio.post(path, params, query).status_code in (200, 204)


def test_a_signature_made_with_another_token_is_refused(twilio, rows):
    params = voice_params(call_sid())
    forged = sign(twilio.url("/twilio/voice"), params, "other-token")
    response = twilio.post("/twilio/voice", params, signature=forged)
    assert response.status_code == 403
    assert (rows.tickets(), rows.calls()) == (0, 0)


def test_a_tampered_parameter_breaks_the_signature(twilio, rows):
    params = voice_params(call_sid())
    signature = sign(twilio.url("/twilio/voice"), params)
    response = twilio.post("/twilio/voice", {**params, "From": "+84987654321"}, signature=signature)
    assert response.status_code == 403
    assert (rows.tickets(), rows.calls()) == (0, 0)


@pytest.mark.parametrize("signed_url", [
    "http://localhost/twilio/voice",  # the internal host, not the public URL
    "https://127.0.0.1:5000/twilio/voice",  # another scheme
    "http://127.0.0.1:5000/twilio/voice/",  # a trailing slash
    "http://127.0.0.1:5000/twilio/voice/gather",  # another webhook
    "http://127.0.0.1:5000/twilio/voice?line=1022",  # a query the request does not have
])
def test_a_signature_computed_over_another_url_is_refused(twilio, rows, signed_url):
    params = voice_params(call_sid())
    assert twilio.post("/twilio/voice", params, signature=sign(signed_url, params)).status_code == 403
    assert (rows.tickets(), rows.calls()) == (0, 0)


def test_the_query_string_is_part_of_what_is_signed(twilio):
    params = voice_params(call_sid(), QueuePosition="2", QueueTime="4")
    without_query = sign(twilio.url("/twilio/voice/wait"), params)
    assert twilio.post("/twilio/voice/wait", params, "line=1022", signature=without_query).status_code == 403
    assert twilio.post("/twilio/voice/wait", params, "line=1022").status_code == 200


def test_behind_https_twilio_may_sign_with_or_without_the_default_port(make_app, session, rows):
    on_duty(session)
    app = make_app(PUBLIC_BASE_URL="https://hotline.binhduong.gov.vn")
    client = TwilioClient(app)
    for signed in ("https://hotline.binhduong.gov.vn/twilio/voice",
                   "https://hotline.binhduong.gov.vn:443/twilio/voice"):
        params = voice_params(call_sid())
        assert client.post("/twilio/voice", params, signature=sign(signed, params)).status_code == 200
    assert rows.calls() == 2


def test_without_a_token_outside_demo_mode_webhooks_are_closed(make_app, rows):
    app = make_app(TWILIO_AUTH_TOKEN=None, HOTLINE_DEMO=False)
    assert auth_token(app) is None
    client = TwilioClient(app)
    for path, query, params in WEBHOOKS:
        response = client.post(path, params, query)
        assert response.status_code == 503
    assert rows.snapshot() == dict.fromkeys(rows.snapshot(), 0)


def test_demo_mode_makes_a_local_token_and_the_simulator_signs_with_it(make_app, session, rows, tmp_path):
    on_duty(session)
    app = make_app(TWILIO_AUTH_TOKEN=None, HOTLINE_DEMO=True)
    app.instance_path = str(tmp_path)

    token = auth_token(app)
    assert token and (tmp_path / DEMO_TOKEN_FILE).read_text().strip() == token
    assert auth_token(app) == token  # made once, then shared with `flask simulate-call`

    sim = SimulatedCall(base_url=app.config["PUBLIC_BASE_URL"], auth_token=token,
                        line_number=HOTLINE_1022, from_number=CALLER)
    http = app.test_client()

    def post(path: str, params: dict[str, str]) -> tuple[int, str]:
        response = http.post(path, data=params, headers={"X-Twilio-Signature": sim.sign(path, params)})
        return response.status_code, response.get_data(as_text=True)

    assert run_call(sim, post, digits="2") == [
        ("/twilio/voice", 200), ("/twilio/voice/gather", 200), ("/twilio/voice/status", 204)]
    ticket = rows.ticket_of(sim.sid)
    assert (ticket.category_code, ticket.caller_phone) == ("moi_truong", CALLER)

    # A request signed with anything else is still refused.
    params = sim.params()
    forged = SimulatedCall(base_url=sim.base_url, auth_token="guessed", line_number=HOTLINE_1022,
                           from_number=CALLER).sign("/twilio/voice", params)
    assert http.post("/twilio/voice", data=params, headers={"X-Twilio-Signature": forged}).status_code == 403
