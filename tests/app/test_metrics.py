"""``GET /metrics``: the operations centre's Prometheus scrape. The figures are those of
``tests/tickets/operations_dataset.py`` read back from the text format; the token guards
it when set; a database or Redis that does not answer is reported, not a 500; a scrape costs
a fixed number of SQL statements; nothing personal is ever in it; the HTTP counters count,
per process or, in multiprocess mode, across a webhook pool's workers."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT
from tests.factories import SYSTEM, counting_statements
from tests.tickets import operations_dataset as dataset
from tests.tickets.operations_dataset import NOW
from tickets.services import NewTicket, open_ticket

# Redis database 3 is this module's (0, 5, 7 and 9-15 are other tests' and benchmarks').
REDIS_URL = "redis://127.0.0.1:6379/3"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
TOKEN = "s3cret-metrics-token-for-tests"


@pytest.fixture
def make_app(database_url):
    """Builds apps with extra settings (on the test database) and disposes of them after."""
    from app import create_app

    built = []

    def build(**settings: Any):
        application = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                                  **settings})
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["database"].engine.dispose()


def scrape(client, **headers: str) -> dict[str, dict[tuple, float]]:
    """GET /metrics at the data set's "now", as {sample name: {sorted label pairs: value}}."""
    with time_machine.travel(NOW, tick=False):
        response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def parse(body: str) -> dict[str, dict[tuple, float]]:
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def non_zero(samples: dict, name: str) -> dict[tuple, float]:
    return {labels: v for labels, v in samples[name].items() if v}


# ---- the format -----------------------------------------------------------------------------------

def test_metrics_are_prometheus_text_that_no_browser_keeps(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    names = {f.name for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {"hotline_database_up", "hotline_tickets_open", "hotline_tickets_created", "hotline_calls_waiting",
            "hotline_outbox_oldest_unsent_age_seconds", "hotline_dispatch_acknowledgement_seconds"} <= names
    assert "hotline_redis_up" not in names  # no REDIS_URL, no Redis to report on


# ---- the figures ----------------------------------------------------------------------------------

@pytest.fixture
def figures(session, client) -> dict:
    dataset.build(session)
    return scrape(client)


def test_tickets_open_and_created(figures):
    assert value(figures, "hotline_database_up") == 1
    assert non_zero(figures, "hotline_tickets_open") == {
        (("line", "1022"), ("status", "new")): 2, (("line", "1022"), ("status", "assigned")): 2,
        (("line", "115"), ("status", "new")): 1, (("line", "115"), ("status", "assigned")): 1,
        (("line", "115"), ("status", "in_progress")): 1}
    assert value(figures, "hotline_tickets_open", line="1022", status="in_progress") == 0
    assert non_zero(figures, "hotline_tickets_created_total") == {
        (("channel", "phone"), ("line", "1022")): 2, (("channel", "web"), ("line", "1022")): 1,
        (("channel", "email"), ("line", "1022")): 1, (("channel", "sms"), ("line", "1022")): 1,
        (("channel", "phone"), ("line", "115")): 4}
    assert value(figures, "hotline_tickets_open_by_contact_point", contact_point="SO_TNMT") == 1
    assert value(figures, "hotline_tickets_open_by_contact_point", contact_point="SO_GTVT") == 0
    assert value(figures, "hotline_tickets_open_by_hospital", hospital="BV_QD4") == 1
    assert value(figures, "hotline_tickets_open_unrouted", line="1022") == 2
    assert value(figures, "hotline_satisfaction_answers", line="115", score="1") == 1


def test_sla_clocks_and_breaches(figures):
    assert non_zero(figures, "hotline_sla_clocks_running") == {
        (("clock", "resolution"), ("state", "ok")): 5, (("clock", "resolution"), ("state", "warning")): 1,
        (("clock", "resolution"), ("state", "paused")): 1, (("clock", "first_response"), ("state", "ok")): 1,
        (("clock", "first_response"), ("state", "paused")): 1,
        (("clock", "acknowledgement"), ("state", "breached")): 1}
    assert value(figures, "hotline_sla_breaches_total", clock="acknowledgement") == 2
    assert value(figures, "hotline_sla_breaches_total", clock="resolution") == 0


def test_115_acknowledgement_time_as_a_summary_and_over_the_last_24_hours(figures):
    assert value(figures, "hotline_dispatch_acknowledgement_seconds_count") == 2
    assert value(figures, "hotline_dispatch_acknowledgement_seconds_sum") == 145
    assert value(figures, "hotline_dispatch_acknowledged_last_24h") == 1
    assert value(figures, "hotline_dispatch_acknowledgement_seconds_last_24h") == 45
    assert value(figures, "hotline_dispatch_awaiting_acknowledgement") == 1


def test_calls_and_the_people_taking_them(figures):
    assert value(figures, "hotline_calls_total", line="115", outcome="answered") == 1
    assert value(figures, "hotline_calls_total", line="115", outcome="unanswered") == 1
    assert value(figures, "hotline_calls_total", line="1022", outcome="unanswered") == 1
    assert value(figures, "hotline_calls_voicemail_total", line="1022") == 1
    assert value(figures, "hotline_calls_active", line="1022") == 1
    assert value(figures, "hotline_calls_active", line="115") == 1
    assert value(figures, "hotline_calls_waiting", line="1022") == 1
    assert value(figures, "hotline_calls_waiting", line="115") == 0
    assert value(figures, "hotline_calls_longest_wait_seconds", line="1022") == 40
    assert value(figures, "hotline_callbacks_pending", line="1022") == 1
    assert value(figures, "hotline_callbacks_pending", line="115") == 1
    assert value(figures, "hotline_users_on_duty", role="operator") == 2
    assert value(figures, "hotline_users_on_duty", role="dispatcher") == 1


def test_outbox_and_hospital_desk_alerts(figures):
    assert non_zero(figures, "hotline_outbox_messages") == {
        (("status", "queued"),): 2, (("status", "sending"),): 1, (("status", "delivered"),): 1,
        (("status", "failed"),): 1}
    assert value(figures, "hotline_outbox_oldest_unsent_age_seconds") == 20 * 60
    assert value(figures, "hotline_hospital_alerts_pending", channel="call") == 1
    assert value(figures, "hotline_hospital_alerts_pending", channel="sms") == 0


def test_no_phone_number_tracking_code_or_call_sid_is_ever_in_the_output(session, client):
    data = dataset.build(session)
    with time_machine.travel(NOW, tick=False):
        body = client.get("/metrics").get_data(as_text=True)

    assert data.phones and data.codes and data.call_sids
    for secret in [*data.phones, *(p.removeprefix("+84") for p in data.phones), *data.codes, *data.call_sids]:
        assert secret not in body
    labels = {k for f in text_string_to_metric_families(body) for s in f.samples for k in s.labels}
    assert labels <= {"line", "status", "channel", "contact_point", "hospital", "score", "clock", "state",
                      "outcome", "role", "endpoint", "method", "le", "implementation", "major", "minor",
                      "patchlevel", "version", "generation"}


# ---- the cost of a scrape ----------------------------------------------------------------------------

def test_a_scrape_sends_a_bounded_number_of_sql_statements_whatever_the_number_of_tickets(app, client, session):
    dataset.build(session)
    engine = app.extensions["database"].engine
    with counting_statements(engine) as few:
        scrape(client)
    for n in range(40):
        open_ticket(session, SYSTEM, NewTicket(line="115", channel="phone", caller_phone=f"+8491300{n:04d}"),
                    NOW - timedelta(minutes=n))
    session.commit()
    with counting_statements(engine) as many:
        after = scrape(client)

    assert len(few) == len(many) <= 12
    assert value(after, "hotline_tickets_created_total", line="115", channel="phone") == 44


# ---- who may scrape --------------------------------------------------------------------------------

def test_with_metrics_token_set_the_bearer_token_is_required(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
                    {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": TOKEN}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["Cache-Control"] == "no-store"
        assert "hotline_" not in refused.get_data(as_text=True)
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200
    assert "hotline_database_up 1.0" in allowed.get_data(as_text=True)


def test_without_metrics_token_metrics_are_open(client):
    assert client.get("/metrics").status_code == 200


def test_an_open_metrics_endpoint_is_warned_about_at_startup_in_production_only(make_app, caplog):
    def warned(**settings) -> bool:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="app.metrics"):
            make_app(**settings)
        return any("METRICS_TOKEN is not set" in r.getMessage() for r in caplog.records)

    assert warned(TESTING=False, HOTLINE_DEMO=False, METRICS_TOKEN=None)
    assert not warned(TESTING=False, HOTLINE_DEMO=False, METRICS_TOKEN=TOKEN)
    assert not warned(TESTING=False, HOTLINE_DEMO=True, METRICS_TOKEN=None)
    assert TOKEN not in caplog.text


# ---- when a dependency does not answer ---------------------------------------------------------------

def test_a_database_that_does_not_answer_is_reported_not_a_500(make_app, database_url):
    if database_url.startswith("sqlite"):
        bad_url = "sqlite:////nonexistent-dir/nothing/hotline.db"
    else:
        bad_url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=1"
    client = make_app(DATABASE_URL=bad_url).test_client()
    client.get("/healthz")

    figures = scrape(client)

    assert value(figures, "hotline_database_up") == 0
    assert "hotline_tickets_open" not in figures
    assert value(figures, "hotline_http_requests_total", endpoint="ops.healthz", method="GET", status="200") == 1


def test_redis_down_still_answers_with_hotline_redis_up_0(make_app):
    client = make_app(REDIS_URL=UNREACHABLE_REDIS).test_client()

    figures = scrape(client)

    assert value(figures, "hotline_redis_up") == 0
    assert value(figures, "hotline_database_up") == 1
    assert "hotline_rq_queue_length" not in figures


@pytest.fixture
def redis_db():
    import redis

    conn = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
    try:
        conn.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")

    def clear() -> None:
        for key in conn.scan_iter("rq:*"):
            conn.delete(key)

    clear()
    yield conn
    clear()
    conn.close()


def test_rq_queue_lengths_scheduled_and_failed_jobs(make_app, redis_db):
    from rq import Queue
    from rq.registry import FailedJobRegistry

    sms = Queue("sms", connection=redis_db)
    sms.enqueue("os.getcwd")
    sms.enqueue("os.getcwd")
    Queue("dispatch", connection=redis_db).enqueue("os.getcwd")
    sms.enqueue_in(timedelta(minutes=5), "os.getcwd")  # a retry waiting for its time
    failed = sms.create_job("os.getcwd")
    failed.save()
    FailedJobRegistry(queue=sms).add(failed, ttl=3600)

    figures = scrape(make_app(REDIS_URL=REDIS_URL).test_client())

    assert value(figures, "hotline_redis_up") == 1
    assert samples_by_queue(figures, "hotline_rq_queue_length") == {"dispatch": 1, "sms": 2, "sla": 0, "default": 0}
    assert samples_by_queue(figures, "hotline_rq_scheduled_jobs") == {"dispatch": 0, "sms": 1, "sla": 0,
                                                                       "default": 0}
    assert samples_by_queue(figures, "hotline_rq_failed_jobs") == {"dispatch": 0, "sms": 1, "sla": 0, "default": 0}


def samples_by_queue(figures: dict, name: str) -> dict[str, float]:
    return {dict(labels)["queue"]: v for labels, v in figures[name].items()}


# ---- HTTP traffic --------------------------------------------------------------------------------------

def test_http_requests_are_counted_by_endpoint_method_and_status(client):
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page/+84912345678")
    client.post("/api/tickets", json={})  # not signed in

    first = scrape(client)
    second = scrape(client)

    assert value(first, "hotline_http_requests_total", endpoint="ops.healthz", method="GET", status="200") == 2
    assert value(first, "hotline_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert value(first, "hotline_http_request_duration_seconds_count", endpoint="ops.healthz") == 2
    assert sum(first["hotline_http_requests_total"].values()) == 4
    # A scrape is counted once answered: the next one shows it.
    assert value(second, "hotline_http_requests_total", endpoint="ops.metrics", method="GET", status="200") == 1
    assert value(second, "hotline_http_requests_total", endpoint="ops.healthz", method="GET", status="200") == 2
    assert not any("+8491" in dict(labels)["endpoint"] for labels in first["hotline_http_requests_total"])


def test_each_app_counts_its_own_requests(make_app):
    one, other = make_app().test_client(), make_app().test_client()
    one.get("/healthz")

    assert value(scrape(one), "hotline_http_requests_total", endpoint="ops.healthz", method="GET",
                 status="200") == 1
    assert "hotline_http_requests_total" not in scrape(other)  # its only request so far is this scrape


_WORKER = """
import sys
from app import create_app

client = create_app({"TESTING": True}).test_client()
if sys.argv[1] == "serve":
    for _ in range(int(sys.argv[2])):
        assert client.get("/healthz").status_code == 200
else:
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


def test_in_multiprocess_mode_a_scrape_sums_every_workers_requests_and_reads_the_database_once(
        database_url, tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)

    def worker(*args: str) -> str:
        # Our own interpreter running our own fixed script: no untrusted input.
        done = subprocess.run([sys.executable, "-c", _WORKER, *args], cwd=ROOT, env=env,  # noqa: S603
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    worker("serve", "3")
    worker("serve", "4")
    body = worker("scrape")

    figures = parse(body)
    assert value(figures, "hotline_http_requests_total", endpoint="ops.healthz", method="GET", status="200") == 7
    assert value(figures, "hotline_http_request_duration_seconds_count", endpoint="ops.healthz") == 7
    assert body.count("\nhotline_database_up ") == 1
    assert value(figures, "hotline_database_up") == 1
