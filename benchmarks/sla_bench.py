"""SLA at scale: one sweep (with its escalation steps), GET /api/sla/summary (30 days, 1 year)
read from the daily rollup, the same figures computed live, /api/sla/breaches, and the
rollup job, on the database made by benchmarks/sla_generate.py (~1,000,000 tickets over
two years, rolled up).

Run: .venv/bin/python benchmarks/sla_generate.py   # once, a few minutes
     .venv/bin/python benchmarks/sla_bench.py [--url URL] [--repeat N]

Prints a Markdown table: each measurement's median and p90 over --repeat runs (after one
warm-up), a baseline measured in the same run, and the ratio. Baselines: for the sweep, the
bare UPDATE … RETURNING that marks the same clocks; for the reports, a count(*) over the
same rows; for the summary read from the rollup, also the live computation of the same
figures (``reports.summary(..., rollups=False)``, same indexes), whose result it must equal
— the script checks that and says so.

The sweep runs in a transaction that is rolled back, at the moment the generator left
exactly 50 clocks due (as time passes more real clocks fall due; the moment is pinned so
every run, today or next week, does the same work: 50 breaches, each clock's supervisor
step, 100 SMS); the API calls go through the Flask test client (routing, auth, JSON) as a
supervisor. The rollup job is measured recomputing one day that
changed (what it does every five minutes); the generator prints the full build.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from tickets import reports  # noqa: E402
from tickets.accounts import User, save_user  # noqa: E402
from tickets.db import utcnow  # noqa: E402
from tickets.escalation import SlaEscalated, escalate  # noqa: E402
from tickets.messages import MessageQueued  # noqa: E402
from tickets.reports import Period  # noqa: E402
from tickets.sla import sweep  # noqa: E402
from tickets.sla_rollup import SlaRollupDay, refresh  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench"
ZONE = "Asia/Ho_Chi_Minh"
PASSWORD = secrets.token_urlsafe(16)  # a throwaway account in the bench database
TARGETS = {"sweep": 0.100, "summary": 0.500}


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
            self.supervisor_id = save_user(session, "bench-supervisor", role="supervisor", password=PASSWORD).id
            session.commit()
        self.client = self.app.test_client()
        token = self.client.post("/api/auth/token", json={"username": "bench-supervisor",
                                                          "password": PASSWORD}).get_json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rows: list[tuple] = []
        self.notes: list[str] = []
        self.moment = self.sweep_moment()

    def count(self, sql: str, **params) -> tuple[Callable[[], object], str]:
        def run() -> int:
            with self.engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()

        return run, f"count(*) of the same rows ({run():,})"

    def sweep_moment(self):
        """When the generator left its 50 clocks due (the first 50 running ones, due a minute
        before it finished)."""
        with self.engine.connect() as conn:
            return conn.scalar(text("SELECT max(due_at) FROM (SELECT due_at FROM sla_clocks WHERE stopped_at IS NULL"
                                    " ORDER BY id LIMIT 50) AS left_due"))

    def batched_update(self) -> tuple[Callable[[], object], str]:
        """The floor: one UPDATE … RETURNING marking the same clocks, rolled back."""
        def run() -> int:
            with self.engine.connect() as conn, conn.begin() as tx:
                n = len(conn.execute(text(
                    "UPDATE sla_clocks SET breached_at = :at WHERE stopped_at IS NULL AND breached_at IS NULL"
                    " AND due_at <= :at RETURNING id, ticket_id, clock"), {"at": self.moment}).all())
                tx.rollback()
                return n

        return run, f"the bare UPDATE … RETURNING ({run()} rows)"

    def sweep_once(self) -> tuple[int, int, int]:
        """What the sweep job does in its transaction (then rolled back): marks, escalation
        steps, history, SMS outbox rows."""
        with Session(self.engine) as session:
            alerts = sweep(session, self.moment)
            steps = escalate(session, self.moment, ZONE)
            session.rollback()
        return (len(alerts), sum(isinstance(e, SlaEscalated) for e in steps),
                sum(isinstance(e, MessageQueued) for e in steps))

    def marks_only(self) -> int:
        """The sweep's marks alone (what the 47 ms figure before escalation measured)."""
        with Session(self.engine) as session:
            alerts = sweep(session, self.moment)
            session.rollback()
        return len(alerts)

    def get(self, path: str, **query) -> Callable[[], object]:
        def run() -> None:
            response = self.client.get(path, query_string=query, headers=self.headers)
            assert response.status_code == 200, response.get_json()

        return run

    def summary(self, period: Period, rollups: bool) -> Callable[[], reports.Summary]:
        def run() -> reports.Summary:
            with Session(self.engine) as session:
                actor = session.get(User, self.supervisor_id)
                result = reports.summary(session, actor, period, utcnow(), rollups=rollups)
                session.rollback()
                return result

        return run

    def rollup_one_day(self) -> Callable[[], int]:
        """The job after one past day changed: it recomputes that day."""
        def run() -> int:
            with Session(self.engine) as session:
                day = Period.last_days(utcnow() - timedelta(days=10), 1, ZONE).start
                session.execute(update(SlaRollupDay).where(SlaRollupDay.day == day)
                                .values(changes=SlaRollupDay.changes + 1))
                session.commit()
                return refresh(session, utcnow(), ZONE)

        return run

    def measure(self, label: str, fn: Callable[[], object], baseline: tuple[Callable[[], object], str],
                target: float | None) -> None:
        median, p90 = timed(fn, self.repeat)
        base_fn, base_label = baseline
        base, _ = timed(base_fn, self.repeat)
        verdict = "" if target is None else ("yes" if median < target else "**no**")
        self.rows.append((label, f"{median * 1000:.1f}", f"{p90 * 1000:.1f}",
                          f"{base_label}: {base * 1000:.1f}", f"{median / base:.2f}×",
                          f"< {target * 1000:.0f} ms: {verdict}" if target else ""))
        print(f"  {label}: {median * 1000:.1f} ms (baseline {base * 1000:.1f} ms)", flush=True)

    def run_all(self) -> None:
        now = utcnow()
        due, steps, sms = self.sweep_once()
        self.measure(f"sweep: {due} clocks due, {steps} escalation steps, {sms} SMS queued", self.sweep_once,
                     self.batched_update(), TARGETS["sweep"])
        self.measure(f"sweep, its {due} marks alone (no escalation)", self.marks_only, self.batched_update(), None)
        for days, label in ((30, "30 days (default)"), (365, "1 year")):
            period = Period.last_days(now, days, ZONE)
            lo, hi = period.bounds()
            query = {"from": str(period.start), "to": str(period.end)}
            same_rows = self.count("SELECT count(*) FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id "
                                   "WHERE t.created_at >= :lo AND t.created_at < :hi", lo=lo, hi=hi)
            self.measure(f"GET /api/sla/summary, {label} (rollup + today live)",
                         self.get("/api/sla/summary", **query), same_rows, TARGETS["summary"])
            live = self.summary(period, rollups=False)
            rolled = self.summary(period, rollups=True)
            self.measure(f"summary {label}: rollup vs the same figures computed live", rolled,
                         (live, "live computation, same indexes"), None)
            a, b = rolled(), live()
            same = (a.contact_points, a.hospitals, a.total, a.calls) == (b.contact_points, b.hospitals, b.total,
                                                                         b.calls)
            self.notes.append(f"{label}: rollup-based figures {'equal' if same else '**differ from**'} the live ones "
                              f"({a.total.tickets:,} tickets, {len(a.contact_points)} contact points, "
                              f"{len(a.hospitals)} hospitals)")
            self.measure(f"GET /api/sla/summary?format=xlsx, {label}",
                         self.get("/api/sla/summary", **query, format="xlsx"), same_rows, None)
            self.measure(f"GET /api/sla/breaches, {label}", self.get("/api/sla/breaches", **query),
                         self.count("SELECT count(*) FROM sla_clocks WHERE coalesce(due_at, breached_at) >= :lo"
                                    " AND coalesce(due_at, breached_at) < :hi AND (met IS FALSE OR breached_at"
                                    " IS NOT NULL OR stopped_at IS NULL)", lo=lo, hi=hi), None)
        with Session(self.engine) as session:
            refresh(session, utcnow(), ZONE)  # catch up first (a day may have closed since the build)
        changed = Period.last_days(now - timedelta(days=10), 1, ZONE)
        lo, hi = changed.bounds()
        self.measure("rollup job, one changed day recomputed", self.rollup_one_day(),
                     self.count("SELECT count(*) FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id "
                                "WHERE t.created_at >= :lo AND t.created_at < :hi", lo=lo, hi=hi), None)

    def table(self) -> str:
        with self.engine.connect() as conn:
            facts = conn.execute(text(
                "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM sla_clocks), "
                "(SELECT count(*) FROM ticket_events), (SELECT count(*) FROM calls), "
                "(SELECT count(*) FROM sla_rollup_days WHERE computed_changes = changes), version()")).one()
        head = ("| measurement | median ms | p90 ms | baseline (same run) ms | ratio | target |\n"
                "|---|---:|---:|---|---:|---|")
        lines = [f"| {' | '.join(r)} |" for r in self.rows]
        return (f"{facts[0]:,} tickets, {facts[1]:,} clocks, {facts[2]:,} events, {facts[3]:,} calls, "
                f"{facts[4]:,} days rolled up; {facts[5].split(',')[0]}; {self.repeat} runs each after a warm-up.\n\n"
                + "\n".join([head, *lines]) + "\n\n" + "\n".join(f"- {n}" for n in self.notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bench = Bench(args.url, args.repeat)
    with bench.engine.connect() as conn:
        if conn.scalar(select(text("count(*)")).select_from(text("sla_rollup_days"))) == 0:
            sys.exit("no rollup: run benchmarks/sla_generate.py first")
    bench.run_all()
    print()
    print(bench.table())


if __name__ == "__main__":
    main()
