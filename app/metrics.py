"""``GET /metrics`` for the province's operations centre: Prometheus text format.

Three sources, one registry per app (never prometheus_client's global one, so tests and
several apps in one process do not clash):

* the hotline's figures, read from the database at scrape time by a custom collector
  (``tickets.operations_metrics``: a fixed handful of aggregate statements in a short session
  of its own). A database that does not answer gives ``hotline_database_up 0``, not a 500;
* the RQ queues, when REDIS_URL is set: jobs waiting, scheduled (retries) and failed per
  queue, one pipelined round trip; Redis down gives ``hotline_redis_up 0``;
* this process's HTTP traffic, counted by before/after-request hooks and labelled by Flask
  endpoint name (bounded), never by raw path.

A webhook pool runs several gunicorn workers, each with its own counters: with
``PROMETHEUS_MULTIPROC_DIR`` set in their environment, prometheus_client keeps the HTTP
counters in files there and any worker's scrape sums them (multiprocess mode). The database
and Redis figures are not per process: they are added once, by the collector, whichever
worker answers. README, "Metrics".
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tickets.db import utcnow
from tickets.operations_metrics import CALL_OUTCOMES, OperationsFigures, operations_figures

log = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATEMENT_TIMEOUT_MS = 5000  # a scrape must never hold the database longer (Prometheus gives up at 10 s)
REDIS_TIMEOUT_SECONDS = 1.0


# ---- the database's figures as metric families ---------------------------------------------------

def _labelled(family: Metric, values: dict) -> Metric:
    for key, value in values.items():
        family.add_metric(list(key) if isinstance(key, tuple) else [key], value)
    return family


def _gauge(name: str, documentation: str, labels: tuple[str, ...], values: dict) -> Metric:
    return _labelled(GaugeMetricFamily(name, documentation, labels=labels), values)


def _counter(name: str, documentation: str, labels: tuple[str, ...], values: dict) -> Metric:
    return _labelled(CounterMetricFamily(name, documentation, labels=labels), values)


def _ticket_families(f: OperationsFigures) -> Iterator[Metric]:
    yield _gauge("hotline_tickets_open", "Open tickets (new, assigned, in progress) by line and status.",
                 ("line", "status"), f.tickets_open)
    yield _counter("hotline_tickets_created", "Tickets ever opened, by line and channel.",
                   ("line", "channel"), f.tickets_created)
    yield _gauge("hotline_tickets_open_by_contact_point", "Open tickets at each 1022 contact point (by code).",
                 ("contact_point",), f.open_by_contact_point)
    yield _gauge("hotline_tickets_open_by_hospital", "Open 115 tickets dispatched to each hospital (by code).",
                 ("hospital",), f.open_by_hospital)
    yield _gauge("hotline_tickets_open_unrouted", "Open tickets routed nowhere yet, by line.",
                 ("line",), f.open_unrouted)
    yield _gauge("hotline_satisfaction_answers", "Survey answers held by tickets, by score (1 satisfied, 2 not).",
                 ("line", "score"), f.satisfaction)
    yield _gauge("hotline_nuisance_calls_today", "Tickets opened today (local day) and cancelled as nuisance calls "
                 "(prank, silent, abuse), by line; the wallboard's figure.", ("line",), f.nuisance_today)
    yield _gauge("hotline_nuisance_calls_30d", "Tickets opened in the last 30 local days and cancelled as nuisance "
                 "calls, by line; the wallboard's figure.", ("line",), f.nuisance_30d)


def _sla_families(f: OperationsFigures) -> Iterator[Metric]:
    yield _gauge("hotline_sla_clocks_running", "Running SLA clocks by clock and state (ok, warning, breached, paused).",
                 ("clock", "state"), f.clocks_running)
    yield _counter("hotline_sla_breaches", "SLA clock runs ever breached (marked by the sweep or stopped late).",
                   ("clock",), f.breaches)
    ack = f.acknowledgements
    yield SummaryMetricFamily("hotline_dispatch_acknowledgement_seconds",
                              "115: seconds from a dispatch to the hospital's acknowledgement, every acknowledged "
                              "dispatch.", count_value=ack.count, sum_value=ack.seconds)
    yield GaugeMetricFamily("hotline_dispatch_acknowledged_last_24h",
                            "115: dispatches acknowledged in the last 24 hours.", value=ack.count_24h)
    yield GaugeMetricFamily("hotline_dispatch_acknowledgement_seconds_last_24h",
                            "115: total acknowledgement time of the dispatches acknowledged in the last 24 hours "
                            "(divide by hotline_dispatch_acknowledged_last_24h for the average).",
                            value=ack.seconds_24h)
    yield GaugeMetricFamily("hotline_dispatch_awaiting_acknowledgement",
                            "115: tickets dispatched to a hospital and not acknowledged yet.", value=ack.awaiting)


def _call_families(f: OperationsFigures) -> Iterator[Metric]:
    lines = f.calls
    yield _counter("hotline_calls", "Ended calls by line and outcome (answered by a person, or not).",
                   ("line", "outcome"),
                   {(line, outcome): getattr(c, outcome) for line, c in lines.items()
                    for outcome in CALL_OUTCOMES})
    yield _counter("hotline_calls_voicemail", "Calls that left a voicemail, by line.",
                   ("line",), {line: c.voicemail for line, c in lines.items()})
    yield _gauge("hotline_calls_active", "Calls in progress now (ringing, queued or talking), by line.",
                 ("line",), {line: c.active for line, c in lines.items()})
    yield _gauge("hotline_calls_waiting", "Calls waiting for an operator or dispatcher now, by line.",
                 ("line",), {line: c.waiting for line, c in lines.items()})
    yield _gauge("hotline_calls_longest_wait_seconds", "How long the longest-waiting call has waited (0: none).",
                 ("line",), {line: c.longest_wait_seconds for line, c in lines.items()})
    yield _gauge("hotline_callbacks_pending", "Calls on the call-back list (not answered, not called back yet).",
                 ("line",), {line: c.callbacks_pending for line, c in lines.items()})
    yield _gauge("hotline_users_on_duty", "Operators and dispatchers taking calls now.", ("role",), f.on_duty)


def _message_families(f: OperationsFigures) -> Iterator[Metric]:
    yield _gauge("hotline_outbox_messages", "SMS in the outbox by delivery status.", ("status",), f.outbox)
    yield GaugeMetricFamily("hotline_outbox_oldest_unsent_age_seconds",
                            "Age of the oldest SMS queued or being sent (0: none).",
                            value=f.oldest_unsent_age_seconds)
    yield _gauge("hotline_hospital_alerts_pending", "115 desk calls and SMS to hospitals queued or being placed.",
                 ("channel",), f.hospital_alerts_pending)


def figure_families(figures: OperationsFigures) -> Iterator[Metric]:
    """The database's figures as Prometheus metric families."""
    yield from _ticket_families(figures)
    yield from _sla_families(figures)
    yield from _call_families(figures)
    yield from _message_families(figures)


# ---- the collector ----------------------------------------------------------------------------------

class HotlineCollector:
    """Reads the hotline's figures (database, RQ) when Prometheus scrapes."""

    def __init__(self, app: Flask):
        self._app = app
        self._redis = None

    def describe(self) -> list[Metric]:
        return []  # nothing to read when registered: the figures are read at scrape time only

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        if self._app.config.get("REDIS_URL"):
            yield from self._queues()

    def _database(self) -> Iterator[Metric]:
        started = time.perf_counter()
        try:
            with self._app.extensions["database"].factory() as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
                figures = operations_figures(session, utcnow(), self._app.config["HOTLINE_TIMEZONE"])
                session.rollback()  # read only
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer (%s: %s)", type(exc).__name__,
                        getattr(exc, "orig", None) or "")
            yield GaugeMetricFamily("hotline_database_up", "1 if the database answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("hotline_database_up", "1 if the database answered this scrape.", value=1)
        yield GaugeMetricFamily("hotline_database_scrape_duration_seconds",
                                "How long reading the figures from the database took.",
                                value=round(time.perf_counter() - started, 6))
        yield from figure_families(figures)

    def _client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self._app.config["REDIS_URL"],
                                               socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                               socket_timeout=REDIS_TIMEOUT_SECONDS)
        return self._redis

    def _queues(self) -> Iterator[Metric]:
        from redis.exceptions import RedisError
        from rq import Queue
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry

        from app.jobs import QUEUES

        try:
            with self._client().pipeline(transaction=False) as pipe:
                for name in QUEUES:
                    pipe.llen(Queue.redis_queue_namespace_prefix + name)
                    pipe.zcard(ScheduledJobRegistry.key_template.format(name))
                    # A failed job's score is when it expires; the expired ones are not counted.
                    pipe.zcount(FailedJobRegistry.key_template.format(name), time.time(), "+inf")
                answers = pipe.execute()
        except RedisError as exc:
            log.warning("metrics: Redis did not answer (%s)", type(exc).__name__)
            yield GaugeMetricFamily("hotline_redis_up", "1 if Redis answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("hotline_redis_up", "1 if Redis answered this scrape.", value=1)
        by_queue = {name: answers[3 * i:3 * i + 3] for i, name in enumerate(QUEUES)}
        yield _gauge("hotline_rq_queue_length", "RQ jobs waiting in each queue.", ("queue",),
                     {name: n[0] for name, n in by_queue.items()})
        yield _gauge("hotline_rq_scheduled_jobs", "RQ jobs scheduled for later (retries, delayed work), by queue.",
                     ("queue",), {name: n[1] for name, n in by_queue.items()})
        yield _gauge("hotline_rq_failed_jobs", "RQ jobs that failed for good (all retries spent), by queue.",
                     ("queue",), {name: n[2] for name, n in by_queue.items()})


# ---- HTTP traffic ------------------------------------------------------------------------------------

class Metrics:
    """One app's registry and HTTP instruments."""

    def __init__(self, app: Flask):
        # No "<name>_created" series beside each counter and histogram: in the 0.0.4 text format
        # they are one more gauge per label set, and Prometheus does not need them.
        # (A switch of the library's, for the whole process; nothing else here uses the library.)
        disable_created_metrics()
        self.registry = CollectorRegistry()
        multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if multiprocess_dir:
            from prometheus_client.multiprocess import MultiProcessCollector

            # The instruments write to files (the library chose that at import, from the same
            # variable); the registry reads every worker's files. Registering the instruments
            # too would count this worker twice.
            MultiProcessCollector(self.registry, path=multiprocess_dir)
            instruments = None
        else:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
            instruments = self.registry
        self.requests = Counter("hotline_http_requests",
                                "HTTP requests answered, by Flask endpoint, method and status.",
                                ("endpoint", "method", "status"), registry=instruments)
        self.duration = Histogram("hotline_http_request_duration_seconds",
                                  "Time to answer HTTP requests, by Flask endpoint.", ("endpoint",),
                                  registry=instruments)
        self.registry.register(HotlineCollector(app))


def _started() -> None:
    g._metrics_started = time.perf_counter()


def _finished(response: Response) -> Response:
    metrics: Metrics = current_app.extensions["metrics"]
    endpoint = request.endpoint or "unmatched"  # 404s: one label, whatever the path
    method = request.method if request.method in HTTP_METHODS else "other"
    metrics.requests.labels(endpoint, method, str(response.status_code)).inc()
    started = g.pop("_metrics_started", None)
    if started is not None:
        metrics.duration.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Give the app its registry and count its requests."""
    app.extensions["metrics"] = Metrics(app)
    # First of all before-request functions: one that refuses a request (CSRF) ends the chain.
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request(_finished)
    if not app.config.get("METRICS_TOKEN") and not app.config.get("HOTLINE_DEMO") and not app.testing:
        log.warning("METRICS_TOKEN is not set: GET /metrics answers anyone who can reach this server. "
                    "Set it, or make sure only the internal network can reach /metrics.")


# ---- GET /metrics -------------------------------------------------------------------------------------

def _authorized(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def scrape() -> Response:
    """The answer to ``GET /metrics``: 401 without the right bearer token when METRICS_TOKEN is set."""
    token = current_app.config.get("METRICS_TOKEN")
    if token and not _authorized(request.headers.get("Authorization", ""), token):
        response = Response("Unauthorized: send Authorization: Bearer METRICS_TOKEN\n", 401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    else:
        # The 0.0.4 text format: what generate_latest writes (prometheus_client's
        # CONTENT_TYPE_LATEST now names the 1.0.0 format, which needs negotiating).
        response = Response(generate_latest(current_app.extensions["metrics"].registry), 200,
                            content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response.headers["Cache-Control"] = "no-store"
    return response
