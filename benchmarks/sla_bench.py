"""SLA at scale: one sweep, and GET /api/sla/summary and /breaches, on the database made
by benchmarks/sla_generate.py (~1,000,000 tickets over two years).

Run: .venv/bin/python benchmarks/sla_generate.py   # once, a few minutes
     .venv/bin/python benchmarks/sla_bench.py [--url URL] [--repeat N]

Prints a Markdown table: each measurement's median and p90 over --repeat runs (after one
warm-up), a baseline measured in the same run over the same rows (a bare count(*)), and the
ratio. Everything is measured twice: on the schema the migrations make, then with the
indexes in PROPOSED_INDEXES created ad hoc by this script (and dropped again at the end, so
the database stays as the migrations left it). Those indexes are not in a migration:
migrations are the lead's; the table says what they buy.

The sweep runs in a transaction that is rolled back, so every run finds the same 50 clocks
due; the API calls go through the Flask test client (routing, auth, JSON) as a supervisor.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from tickets.accounts import save_user  # noqa: E402
from tickets.db import utcnow  # noqa: E402
from tickets.reports import Period  # noqa: E402
from tickets.sla import sweep  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench"
PASSWORD = secrets.token_urlsafe(16)  # a throwaway account in the bench database
TARGETS = {"sweep": 0.100, "summary": 0.500}

# (name, DDL). What the report queries read, each answered from an index alone.
PROPOSED_INDEXES = [
    ("ix_tickets_created_at_report",
     "CREATE INDEX ix_tickets_created_at_report ON tickets (created_at) "
     "INCLUDE (id, line, status, contact_point_id, hospital_id, satisfaction, created_by_id)"),
    ("ix_sla_clocks_ticket_scored",
     "CREATE INDEX ix_sla_clocks_ticket_scored ON sla_clocks (ticket_id) "
     "INCLUDE (clock, met, elapsed_seconds) WHERE met IS NOT NULL"),
    ("ix_ticket_events_outcome",
     "CREATE INDEX ix_ticket_events_outcome ON ticket_events (at) INCLUDE (ticket_id, action) "
     "WHERE action IN ('resolve', 'reopen')"),
    ("ix_sla_clocks_breach_moment",
     "CREATE INDEX ix_sla_clocks_breach_moment ON sla_clocks (coalesce(due_at, breached_at)) "
     "WHERE met IS FALSE OR breached_at IS NOT NULL OR stopped_at IS NULL"),
    ("ix_calls_started_at_report",
     "CREATE INDEX ix_calls_started_at_report ON calls (started_at) "
     "INCLUDE (ticket_id, line, queue_time, answered_at, ended_at, voicemail)"),
]


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - began)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(round(0.9 * (len(runs) - 1))))]


class Bench:
    def __init__(self, url: str, repeat: int):
        from app import create_app

        self.url, self.repeat = url, repeat
        self.engine = create_engine(url)
        self.app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                               "WTF_CSRF_ENABLED": False})
        with Session(self.engine) as session:
            save_user(session, "bench-supervisor", role="supervisor", password=PASSWORD)
            session.commit()
        self.client = self.app.test_client()
        token = self.client.post("/api/auth/token", json={"username": "bench-supervisor",
                                                          "password": PASSWORD}).get_json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rows: list[tuple] = []

    def count(self, sql: str, **params) -> tuple[Callable[[], object], int]:
        def run() -> int:
            with self.engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()

        return run, run()

    def batched_update(self) -> tuple[Callable[[], object], int]:
        """The floor: one UPDATE … RETURNING marking the same clocks, rolled back."""
        def run() -> int:
            with self.engine.connect() as conn, conn.begin() as tx:
                n = len(conn.execute(text(
                    "UPDATE sla_clocks SET breached_at = now() WHERE stopped_at IS NULL AND breached_at IS NULL"
                    " AND due_at <= now() RETURNING id, ticket_id, clock")).all())
                tx.rollback()
                return n

        return run, run()

    def sweep_once(self) -> int:
        with Session(self.engine) as session:
            alerts = sweep(session, utcnow())
            session.rollback()
        return len(alerts)

    def get(self, path: str, **query) -> Callable[[], object]:
        def run() -> None:
            response = self.client.get(path, query_string=query, headers=self.headers)
            assert response.status_code == 200, response.get_json()

        return run

    def measure(self, label: str, fn: Callable[[], object], baseline: tuple[Callable[[], object], int],
                target: float | None, indexes: str) -> None:
        median, p90 = timed(fn, self.repeat)
        base_fn, base_rows = baseline
        base, _ = timed(base_fn, self.repeat)
        verdict = "" if target is None else ("yes" if median < target else "**no**")
        self.rows.append((label, indexes, f"{median * 1000:.1f}", f"{p90 * 1000:.1f}",
                          f"{base * 1000:.1f} ({base_rows:,} rows)", f"{median / base:.1f}×",
                          f"< {target * 1000:.0f} ms: {verdict}" if target else ""))
        print(f"  {label} [{indexes}]: {median * 1000:.1f} ms", flush=True)

    def run_all(self, indexes: str) -> None:
        now = utcnow()
        due = self.sweep_once()
        self.measure(f"sweep ({due} clocks due); baseline: one UPDATE … RETURNING of them", self.sweep_once,
                     self.batched_update(), TARGETS["sweep"], indexes)
        for days, label in ((30, "30 days (default)"), (365, "1 year")):
            period = Period.last_days(now, days)
            lo, hi = period.bounds()
            query = {"from": str(period.start), "to": str(period.end)}
            same_rows = self.count("SELECT count(*) FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id "
                                   "WHERE t.created_at >= :lo AND t.created_at < :hi", lo=lo, hi=hi)
            self.measure(f"GET /api/sla/summary, {label}", self.get("/api/sla/summary", **query),
                         same_rows, TARGETS["summary"], indexes)
            self.measure(f"GET /api/sla/summary?format=xlsx, {label}",
                         self.get("/api/sla/summary", **query, format="xlsx"), same_rows, None, indexes)
            self.measure(f"GET /api/sla/breaches, {label}", self.get("/api/sla/breaches", **query),
                         self.count("SELECT count(*) FROM sla_clocks WHERE coalesce(due_at, breached_at) >= :lo"
                                    " AND coalesce(due_at, breached_at) < :hi AND (met IS FALSE OR breached_at"
                                    " IS NOT NULL OR stopped_at IS NULL)", lo=lo, hi=hi), None, indexes)

    def set_indexes(self, create: bool) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name, ddl in PROPOSED_INDEXES:
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
                if create:
                    began = time.perf_counter()
                    conn.execute(text(ddl))
                    print(f"  created {name} in {time.perf_counter() - began:.1f} s", flush=True)
            if create:
                conn.execute(text("VACUUM (ANALYZE) tickets, sla_clocks, ticket_events, calls"))

    def table(self) -> str:
        with self.engine.connect() as conn:
            facts = conn.execute(text(
                "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM sla_clocks), "
                "(SELECT count(*) FROM ticket_events), (SELECT count(*) FROM calls), version()")).one()
        head = ("| measurement | indexes | median ms | p90 ms | baseline ms (same rows) | ratio | target |\n"
                "|---|---|---:|---:|---|---:|---|")
        lines = [f"| {' | '.join(r)} |" for r in self.rows]
        return (f"{facts[0]:,} tickets, {facts[1]:,} clocks, {facts[2]:,} events, {facts[3]:,} calls; "
                f"{facts[4].split(',')[0]}; {self.repeat} runs each after a warm-up.\n\n"
                + "\n".join([head, *lines]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep-indexes", action="store_true",
                        help="leave PROPOSED_INDEXES in place at the end (to EXPLAIN by hand)")
    args = parser.parse_args()
    bench = Bench(args.url, args.repeat)
    print("schema of the migrations:", flush=True)
    bench.set_indexes(False)
    bench.run_all("migrations")
    print("with PROPOSED_INDEXES, created ad hoc:", flush=True)
    bench.set_indexes(True)
    bench.run_all("+ proposed")
    if not args.keep_indexes:
        bench.set_indexes(False)
    print()
    print(bench.table())


if __name__ == "__main__":
    main()
