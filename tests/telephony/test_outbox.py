"""The SMS outbox: written with the change that causes it, sent once through Twilio's REST
API by a job, retried when Twilio fails, and never lost when Redis is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import redis
import time_machine
from rq import Queue, SimpleWorker

from app.tasks.messages import send_message, sweep_outbox
from integrations.twilio_rest import SendFailed
from tests.telephony.conftest import (
    ACCOUNT_SID,
    CALLER,
    SMS_FROM,
    FakeTwilioHttp,
    TwilioClient,
    bearer,
    call_sid,
    install_fake_sms,
    on_duty,
    sms_params,
    twiml,
)
from tickets.codes import display_code
from tickets.db import utcnow
from tickets.messages import MAX_ATTEMPTS

REDIS_DOWN = "redis://127.0.0.1:1/0"


def new_sms_ticket(twilio: TwilioClient, body: str = "Đèn đường hỏng trước số 12") -> None:
    twiml(twilio.post("/twilio/sms", sms_params(body)))


# ---- sending, in process -----------------------------------------------------------------

def test_a_queued_sms_is_sent_with_one_rest_request(twilio, tw_app, fake_sms, rows):
    new_sms_ticket(twilio)
    assert fake_sms.requests == []  # nothing leaves before the job runs

    tw_app.extensions["jobs"].run_due()

    [request] = fake_sms.requests
    assert request.method == "POST"
    assert urlparse(request.uri).path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    ticket = rows.only_ticket()
    assert request.data["To"] == CALLER and request.data["From"] == SMS_FROM
    assert display_code(ticket.code) in request.data["Body"]
    assert request.data["StatusCallback"] == "http://127.0.0.1:5000/twilio/sms/status"
    [message] = rows.outbox()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, None)
    assert message.provider_sid.startswith("SM") and message.sent_at is not None


def test_sending_the_same_row_twice_makes_one_request(twilio, tw_app, fake_sms, rows):
    new_sms_ticket(twilio)
    [message] = rows.outbox()
    with tw_app.app_context():
        sid = send_message(message.id)
        assert send_message(message.id) == "not-queued"
    tw_app.extensions["jobs"].run_due()  # and the job the webhook queued finds nothing to do
    assert len(fake_sms.requests) == 1
    assert rows.outbox()[0].provider_sid == sid


@pytest.mark.parametrize("failure", [500, 429, ConnectionRefusedError(111, "Connection refused")],
                         ids=["http-500", "http-429", "unreachable"])
def test_a_failed_send_goes_back_to_the_queue_and_the_job_raises(twilio, tw_app, rows, failure):
    fake = install_fake_sms(tw_app, FakeTwilioHttp(fail_with=failure))
    new_sms_ticket(twilio)
    [message] = rows.outbox()
    with tw_app.app_context(), pytest.raises(SendFailed):
        send_message(message.id)
    assert len(fake.requests) == 1
    message = rows.outbox()[0]
    assert (message.status, message.attempts, message.provider_sid) == ("queued", 1, None)
    assert message.last_error

    fake.fail_with = None  # Twilio is back: the retry sends it
    with tw_app.app_context():
        send_message(message.id)
    assert rows.outbox()[0].status == "sent"
    assert len(fake.requests) == 2


def test_after_the_last_attempt_the_message_is_marked_failed(twilio, tw_app, rows):
    fake = install_fake_sms(tw_app, FakeTwilioHttp(fail_with=503))
    new_sms_ticket(twilio)
    [message] = rows.outbox()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with tw_app.app_context(), pytest.raises(SendFailed):
            send_message(message.id)
        assert rows.outbox()[0].status == ("failed" if attempt == MAX_ATTEMPTS else "queued")
    with tw_app.app_context():
        assert send_message(message.id) == "not-queued"
    assert len(fake.requests) == MAX_ATTEMPTS
    assert rows.outbox()[0].attempts == MAX_ATTEMPTS


# ---- with RQ on a real Redis -------------------------------------------------------------

@pytest.fixture
def redis_url(worker_id: str) -> Iterator[str]:
    """A Redis database of its own for this test process, empty before and after."""
    index = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
    url = f"redis://127.0.0.1:6379/{9 + index % 6}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture
def rq_app(make_app, redis_url):
    return make_app(REDIS_URL=redis_url)


def burst(app, conn: redis.Redis, queue: str = "sms") -> None:
    with app.app_context():
        SimpleWorker([Queue(queue, connection=conn)], connection=conn).work(burst=True, with_scheduler=False)


def test_a_new_ticket_enqueues_its_sms_on_the_sms_queue_and_a_worker_sends_it_once(
        rq_app, redis_url, session, rows):
    fake = install_fake_sms(rq_app)
    on_duty(session, username="lan")
    created = rq_app.test_client().post("/api/tickets", headers=bearer(rq_app, "lan"), json={
        "line": "1022", "channel": "phone", "caller_phone": "0912 345 678", "description": "Cây đổ"})
    assert created.status_code == 201
    [message] = rows.outbox()

    with redis.Redis.from_url(redis_url) as conn:
        queue = Queue("sms", connection=conn)
        assert queue.job_ids == [f"sms-{message.id}"]
        assert queue.fetch_job(f"sms-{message.id}").func_name == "app.tasks.messages.send_message"

        # Asked again (a sweep, a retried request) while it waits: still one job.
        rq_app.extensions["jobs"].enqueue("app.tasks.messages.send_message", message.id, queue="sms",
                                          key=f"sms-{message.id}")
        assert queue.job_ids == [f"sms-{message.id}"]

        burst(rq_app, conn)
        burst(rq_app, conn)

    assert len(fake.messages) == 1
    assert rows.outbox()[0].status == "sent"


def test_a_webhook_sms_goes_through_rq_too(rq_app, redis_url, rows):
    fake = install_fake_sms(rq_app)
    new_sms_ticket(TwilioClient(rq_app))
    with redis.Redis.from_url(redis_url) as conn:
        burst(rq_app, conn)
    assert len(fake.messages) == 1


def test_with_redis_down_the_call_is_answered_and_the_sweep_sends_the_sms_later(make_app, session, rows):
    on_duty(session)
    down = make_app(REDIS_URL=REDIS_DOWN)
    sid = call_sid()
    root = twiml(TwilioClient(down).voice(sid))
    assert root.find("Gather") is not None

    ticket = rows.ticket_of(sid)
    [message] = rows.outbox()
    assert (message.ticket_id, message.kind, message.status) == (ticket.id, "tracking", "queued")

    # A process without Redis (the embedded mode) sweeps the outbox and sends it.
    later = make_app()
    fake = install_fake_sms(later)
    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        later.extensions["jobs"].run_due()
    assert len(fake.messages) == 1
    assert fake.messages[0]["To"] == CALLER
    assert rows.outbox()[0].status == "sent"


def test_with_redis_down_an_sms_still_opens_its_ticket(make_app, rows):
    new_sms_ticket(TwilioClient(make_app(REDIS_URL=REDIS_DOWN)))
    assert rows.tickets() == 1
    assert [m.status for m in rows.outbox()] == ["queued"]


def test_the_sweep_leaves_fresh_rows_to_their_own_job(twilio, tw_app, rows):
    new_sms_ticket(twilio)
    with tw_app.app_context():
        assert sweep_outbox() == 0
