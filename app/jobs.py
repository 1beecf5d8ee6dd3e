"""Background work: RQ on Redis when REDIS_URL is set, a thread in the process when not.

The database is the source of truth for every piece of work (an outbox row, a dispatch
deadline, an SLA due time). Enqueueing a job only makes it happen *sooner*: when Redis is
down the enqueue is logged and dropped, and the periodic sweeps, which read the database,
pick the work up. So jobs must be idempotent, and they are: each takes ids, re-reads the
database and does nothing when the work is already done.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

# Queues by workload, most urgent first: a worker always drains 115 dispatch before SMS.
QUEUES = ("dispatch", "sms", "sla", "default")
RETRY_INTERVALS = (10, 30, 120, 600, 1800)  # seconds; then the job fails and stays visible


@dataclass(frozen=True)
class Periodic:
    """A sweep run every ``every`` seconds by exactly one worker."""

    func: str
    every: int
    queue: str = "default"


# The sweeps, declared as data. Each re-reads the database, so a missed tick, a worker
# restart or a Redis outage delays work by at most one period and loses nothing.
PERIODIC: list[Periodic] = [
    Periodic("app.tasks.dispatch.sweep_dispatch", every=5, queue="dispatch"),
    Periodic("app.tasks.messages.sweep_outbox", every=30, queue="sms"),
    Periodic("app.tasks.sla.sweep_sla", every=15, queue="sla"),
    Periodic("app.tasks.sla.rollup_sla", every=300, queue="sla"),
    Periodic("app.tasks.hospital_alerts.sweep_alerts", every=5, queue="dispatch"),
    Periodic("app.tasks.retention.anonymise_old_tickets", every=24 * 3600),
]


def job(fn: Callable) -> Callable:
    """Run a job function inside an application context, whoever calls it."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return fn(*args, **kwargs)
        from app import create_app

        app = _worker_app or create_app()
        with app.app_context():
            return fn(*args, **kwargs)

    return wrapper


_worker_app: Flask | None = None


def _resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclass(order=True)
class _Pending:
    run_at: float
    seq: int
    func: str = field(compare=False)
    args: tuple = field(compare=False)
    attempt: int = field(compare=False, default=0)
    key: str | None = field(compare=False, default=None)


class Jobs:
    """Enqueue work by dotted path; run it on RQ or in this process."""

    def __init__(self, app: Flask):
        self.app = app
        self.redis_url: str | None = app.config["REDIS_URL"]
        self._heap: list[_Pending] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._next_sweep: dict[str, float] = {}
        self._redis = None
        app.extensions["jobs"] = self

    # ---- enqueueing ----------------------------------------------------------------------

    def enqueue(self, func: str, *args: Any, queue: str = "default", key: str | None = None,
                at: datetime | None = None) -> None:
        """Ask for ``func(*args)`` to run now (or at ``at``); never raises.

        ``key`` makes the request idempotent: a job with the same key still waiting is not
        queued twice.
        """
        if self.redis_url:
            self._enqueue_rq(func, args, queue, key, at)
        else:
            self._enqueue_local(func, args, key, at)

    def _enqueue_rq(self, func: str, args: tuple, queue: str, key: str | None,
                    at: datetime | None) -> None:
        from redis.exceptions import RedisError
        from rq import Queue, Retry
        from rq.exceptions import DuplicateJobError

        try:
            q = Queue(queue, connection=self.redis())
            options: dict[str, Any] = {"retry": Retry(max=len(RETRY_INTERVALS),
                                                      interval=list(RETRY_INTERVALS))}
            if key:
                options.update(job_id=key, unique=True)
            if at is None:
                q.enqueue(func, *args, **options)
            else:
                q.enqueue_at(at, func, *args, **options)
        except DuplicateJobError:
            pass  # already waiting: the same work must not run twice at once
        except RedisError as exc:
            # The work is in the database; a sweep will find it. Say so and carry on.
            log.warning("Redis unavailable, %s(%s) left to the sweep: %s", func, args, exc)

    def _enqueue_local(self, func: str, args: tuple, key: str | None, at: datetime | None) -> None:
        run_at = at.timestamp() if at else time.time()
        with self._lock:
            if key:
                if key in self._keys:
                    return
                self._keys.add(key)
            heapq.heappush(self._heap, _Pending(run_at, next(self._seq), func, args, key=key))

    def redis(self):
        """One client (and connection pool) per runner: a new one per enqueue costs a connect."""
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=5)
        return self._redis

    # ---- running in-process --------------------------------------------------------------

    def run_due(self, now: float | None = None) -> int:
        """Run the in-process jobs that are due (and the sweeps, when their time has come)."""
        now = time.time() if now is None else now
        for sweep in PERIODIC:
            if self._next_sweep.get(sweep.func, 0) <= now:
                self._next_sweep[sweep.func] = now + sweep.every
                self._enqueue_local(sweep.func, (), f"sweep:{sweep.func}", None)
        ran = 0
        while True:
            with self._lock:
                if not self._heap or self._heap[0].run_at > now:
                    return ran
                item = heapq.heappop(self._heap)
                self._keys.discard(item.key)
            self._run_local(item)
            ran += 1

    def _run_local(self, item: _Pending) -> None:
        try:
            with self.app.app_context():
                _resolve(item.func)(*item.args)
        except Exception:
            log.exception("job %s%s failed (attempt %d)", item.func, item.args, item.attempt + 1)
            if item.attempt < len(RETRY_INTERVALS):
                with self._lock:
                    heapq.heappush(self._heap, _Pending(
                        time.time() + RETRY_INTERVALS[item.attempt], next(self._seq),
                        item.func, item.args, item.attempt + 1))

    def start_background(self, tick: float = 1.0) -> threading.Thread:
        """Run in-process jobs on a daemon thread (the embedded, Redis-less mode)."""

        def loop() -> None:
            while True:
                try:
                    self.run_due()
                except Exception:  # the loop must outlive any one bad job
                    log.exception("in-process job loop")
                time.sleep(tick)

        thread = threading.Thread(target=loop, name="jobs", daemon=True)
        thread.start()
        return thread

    # ---- the RQ worker -------------------------------------------------------------------

    def work(self, burst: bool = False) -> None:
        """Serve the RQ queues with the scheduler, and run the periodic sweeps once per period."""
        from rq import Worker

        global _worker_app
        _worker_app = self.app
        stop = threading.Event()
        if not burst:
            threading.Thread(target=self._sweep_loop, args=(stop,), name="sweeps", daemon=True).start()
        try:
            Worker(list(QUEUES), connection=self.redis()).work(with_scheduler=True, burst=burst)
        finally:
            stop.set()

    def enqueue_due_sweeps(self) -> list[str]:
        """Enqueue each sweep whose period has begun, once across all workers (a Redis lock)."""
        enqueued = []
        conn = self.redis()
        for sweep in PERIODIC:
            if conn.set(f"hotline:sweep:{sweep.func}", "1", nx=True, ex=sweep.every):
                self._enqueue_rq(sweep.func, (), sweep.queue, None, None)
                enqueued.append(sweep.func)
        return enqueued

    def _sweep_loop(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            try:
                self.enqueue_due_sweeps()
            except Exception:
                log.exception("periodic sweeps")


def jobs() -> Jobs:
    """The current app's job runner."""
    return current_app.extensions["jobs"]
