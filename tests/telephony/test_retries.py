"""Twilio retries a webhook that was slow or failed (and may deliver the same one twice at
once): the same CallSid always means the same call and the same ticket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.servers import post_form, serving
from tests.telephony.conftest import (
    HOTLINE_115,
    call_sid,
    console,
    on_duty,
    received,
    recording_params,
    recording_sid,
    sign,
    sms_params,
    status_params,
    twiml,
    voice_params,
)


def test_the_same_incoming_call_twice_is_one_call_one_ticket_and_the_same_answer(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    params = voice_params(sid)
    first = twilio.post("/twilio/voice", params)
    retry = twilio.post("/twilio/voice", params)

    assert first.get_data() == retry.get_data()
    twiml(retry)
    assert (rows.tickets(), rows.calls()) == (1, 1)
    ticket = rows.ticket_of(sid)
    assert [len(rows.events(ticket.id, a)) for a in ("created", "call_received")] == [1, 1]
    assert len(rows.outbox(kind="tracking")) == 1  # and one tracking SMS


def test_a_retried_call_is_announced_to_the_consoles_once(twilio, tw_app, session):
    on_duty(session, username="lan")
    operator = console(tw_app, "lan")
    params = voice_params(call_sid())
    twiml(twilio.post("/twilio/voice", params))
    twiml(twilio.post("/twilio/voice", params))
    assert len(received(operator, "call.incoming")) == 1


def test_a_retry_with_a_later_call_status_is_still_the_same_call(twilio, session, rows):
    on_duty(session)
    sid = call_sid()
    twiml(twilio.voice(sid, status="ringing"))
    twiml(twilio.voice(sid, status="in-progress"))
    assert (rows.tickets(), rows.calls()) == (1, 1)


def test_a_115_retry_is_one_ticket(twilio, rows):
    sid = call_sid()
    for _ in range(3):
        twiml(twilio.voice(sid, to=HOTLINE_115))
    assert (rows.tickets(), rows.calls()) == (1, 1)


@pytest.fixture
def served(tw_app) -> Iterator[str]:
    """The app behind a real threaded HTTP server; PUBLIC_BASE_URL is the URL it serves."""
    with serving(tw_app) as base:
        tw_app.config["PUBLIC_BASE_URL"] = base
        yield base


def _post(url: str, params: dict[str, str], signature: str) -> tuple[int, bytes]:
    return post_form(url, params, {"X-Twilio-Signature": signature})


@pytest.mark.postgresql_only
def test_fifty_concurrent_retries_of_one_call_make_one_ticket(served, session, rows):
    on_duty(session)
    sid = call_sid()
    params = voice_params(sid)
    url = served + "/twilio/voice"
    signature = sign(url, params)
    start = threading.Barrier(50, timeout=30)

    def fire(_: int) -> tuple[int, bytes]:
        start.wait()
        return _post(url, params, signature)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(fire, range(50)))

    assert [status for status, _ in results] == [200] * 50
    assert len({body for _, body in results}) == 1  # every retry heard the same menu
    assert b"<Gather" in results[0][1]
    assert (rows.tickets(), rows.calls()) == (1, 1)
    ticket = rows.ticket_of(sid)
    assert [len(rows.events(ticket.id, a)) for a in ("created", "call_received")] == [1, 1]
    assert len(rows.outbox(kind="tracking")) == 1


@pytest.mark.postgresql_only
def test_concurrent_calls_with_different_sids_each_get_their_ticket(served, session, rows):
    on_duty(session)
    url = served + "/twilio/voice"
    sids = [call_sid() for _ in range(20)]

    def fire(sid: str) -> int:
        params = voice_params(sid)
        return _post(url, params, sign(url, params))[0]

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(fire, sids)) == [200] * 20
    assert (rows.tickets(), rows.calls()) == (20, 20)


def _fire_together(url: str, params: dict[str, str], times: int) -> list[int]:
    signature = sign(url, params)
    start = threading.Barrier(times, timeout=30)

    def fire(_: int) -> int:
        start.wait()
        return _post(url, params, signature)[0]

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(fire, range(times)))


@pytest.mark.postgresql_only
def test_twenty_concurrent_retries_of_one_sms_make_one_ticket(served, rows):
    assert _fire_together(served + "/twilio/sms", sms_params("Cống bị tắc, nước tràn"), 20) == [200] * 20
    assert rows.tickets() == 1
    assert len(rows.outbox(kind="tracking")) == 1


# Concurrent duplicates of a callback: the ticket's optimistic version refuses all but the
# first writer (the others roll back, log, and still answer 204, which Twilio takes as done).

@pytest.mark.postgresql_only
@pytest.mark.swallowed_errors_expected
def test_concurrent_duplicate_completed_callbacks_record_one_call_back(served, session, rows):
    on_duty(session)
    sid = call_sid()
    url = served + "/twilio/voice"
    _post(url, voice_params(sid), sign(url, voice_params(sid)))
    params = status_params(sid, "completed", 3, duration=9)
    assert _fire_together(served + "/twilio/voice/status", params, 10) == [204] * 10
    assert len(rows.events(rows.ticket_of(sid).id, "callback_needed")) == 1


@pytest.mark.postgresql_only
@pytest.mark.swallowed_errors_expected
def test_concurrent_duplicate_recording_callbacks_attach_one_voicemail(served, session, rows):
    sid = call_sid()
    url = served + "/twilio/voice"
    _post(url, voice_params(sid), sign(url, voice_params(sid)))
    params = recording_params(sid, recording_sid())
    assert _fire_together(served + "/twilio/voice/recording", params, 10) == [204] * 10
    assert len(rows.events(rows.ticket_of(sid).id, "voicemail")) == 1
