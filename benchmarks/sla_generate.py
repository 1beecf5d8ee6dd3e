"""A dedicated PostgreSQL database of ~1,000,000 tickets with realistic SLA clocks, events
and calls over two years, for benchmarks/sla_bench.py.

Run: .venv/bin/python benchmarks/sla_generate.py [--tickets N] [--url URL] [--drop] [--rollup-only]
(default URL postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench; the database is
dropped and created anew; --drop only drops it; --rollup-only only runs the rollup job).
The rows are made inside PostgreSQL with INSERT … SELECT generate_series from one seeded
staging table, so a million tickets take a few minutes, not hours. Shape, by design:

* tickets spread evenly over the 730 days before now, ids in time order; 85 % line 1022
  (to one of the contact points), 15 % line 115 (to one of the hospitals);
* almost all are done (resolved / closed / 2 % cancelled); open: a quarter of the last ten
  days' tickets and a few old stragglers — a few thousand;
* per ticket a resolution clock and (once assigned) a first-response (1022) or
  acknowledgement (115) clock, ~72 % / ~67 % met; 3 % of resolved tickets were reopened and
  have a second resolution run; running clocks past their warning or due time are already
  marked, except exactly 50 left due for the sweep benchmark;
* history events (created, assign, accept, resolve, reopen, close, cancel), a call for 60 %
  of 1022 and 95 % of 115 tickets, survey answers on 40 % of resolved 1022 tickets;
* the escalation rules of data/sla/escalation.csv, a lead with a mobile number for every
  contact point and hospital and two supervisors with one, and the running clocks' escalation
  steps taken as a running sweep would have (the 50 left due have had their lead step);
* then the daily rollup, made by the job production runs (tickets.sla_rollup.refresh), so
  the benchmark reads what production would.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from tickets.directory_import import load_directory  # noqa: E402
from tickets.escalation import load_rules  # noqa: E402
from tickets.schema import migrate  # noqa: E402
from tickets.sla_policies import load_policies  # noqa: E402
from tickets.sla_rollup import refresh  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench"
SWEEP_DUE = 50  # running clocks left due for the sweep benchmark
ZONE = "Asia/Ho_Chi_Minh"  # HOTLINE_TIMEZONE's default

STAGING = """
CREATE UNLOGGED TABLE bench_g AS
WITH s AS (
  SELECT i,
         now() - make_interval(secs => 730 * 86400 * (1 - (i - 1)::float8 / :n) + random() * 600) AS created,
         CASE WHEN random() < 0.15 THEN '115' ELSE '1022' END AS line,
         random() AS r_status, random() AS r_sat, random() AS r_reopen, random() AS r_fr,
         random() AS r_res, random() AS r_dest, random() AS r_call, random() AS r_q, random() AS r_prio
  FROM generate_series(1, :n) AS i
), d AS (
  SELECT s.*, now() - created AS age,
         (now() - created < interval '10 days' AND r_status < 0.25) OR r_status < 0.0005 AS open
  FROM s
)
SELECT d.*,
  CASE WHEN open THEN (ARRAY['new', 'assigned', 'in_progress'])[1 + floor(r_status * 4000)::int % 3]
       WHEN r_status > 0.98 THEN 'cancelled'
       WHEN age > interval '7 days' AND r_status < 0.9 THEN 'closed'
       ELSE 'resolved' END AS status,
  CASE WHEN line = '115' THEN 'emergency'
       WHEN r_prio < 0.05 THEN 'high' WHEN r_prio < 0.07 THEN 'emergency' WHEN r_prio < 0.10 THEN 'low'
       ELSE 'normal' END AS priority,
  CASE WHEN line = '1022' THEN (SELECT array_agg(id ORDER BY id) FROM contact_points)[
       1 + floor(r_dest * (SELECT count(*) FROM contact_points))::int] END AS cp,
  CASE WHEN line = '115' THEN (SELECT array_agg(id ORDER BY id) FROM hospitals)[
       1 + floor(r_dest * (SELECT count(*) FROM hospitals))::int] END AS hosp,
  CASE WHEN line = '115' THEN 60 ELSE 14400 END AS fr_target,
  CASE WHEN line = '115' THEN 7200 ELSE 144000 END AS res_target,
  CASE WHEN line = '115' THEN r_fr * 90 ELSE r_fr * 20000 END AS fr_elapsed,
  CASE WHEN line = '115' THEN r_res * 9000 ELSE r_res * 180000 END AS res_elapsed,
  r_call < CASE WHEN line = '115' THEN 0.95 ELSE 0.6 END AS has_call
FROM d
"""

# Wall-clock stand-ins for the working-time targets keep the generator simple; the report
# reads elapsed_seconds and met, which are set consistently with the targets.
TICKETS = """
INSERT INTO tickets (id, code, line, channel, status, priority, description, caller_phone,
  contact_point_id, hospital_id, callback_needed, waiting_on_caller, resolution, satisfaction,
  survey_sent_at, created_at, updated_at, assigned_at, accepted_at, resolved_at, closed_at,
  first_response_due, resolution_due, sla_state, version)
SELECT i, 'B' || lpad(i::text, 9, '0'), line, CASE WHEN has_call THEN 'phone' ELSE 'web' END, status,
  priority, 'Phản ánh về đèn đường, rác thải và ngập nước tại khu phố ' || (i % 500),
  '+849' || lpad((i % 100000000)::text, 8, '0'), cp, hosp, false, false,
  CASE WHEN status IN ('resolved', 'closed') THEN 'Đã xử lý' END,
  CASE WHEN status IN ('resolved', 'closed') AND line = '1022' AND r_sat < 0.4
       THEN CASE WHEN r_sat < 0.32 THEN 1 ELSE 2 END END,
  CASE WHEN status IN ('resolved', 'closed') AND line = '1022' THEN created + interval '2 days' END,
  created, created + interval '3 days',
  CASE WHEN status <> 'new' THEN created + interval '5 minutes' END,
  CASE WHEN status IN ('in_progress', 'resolved', 'closed')
       THEN created + interval '5 minutes' + make_interval(secs => fr_elapsed) END,
  CASE WHEN status IN ('resolved', 'closed') THEN created + make_interval(secs => res_elapsed) END,
  CASE WHEN status = 'closed' THEN created + make_interval(secs => res_elapsed) + interval '7 days' END,
  CASE WHEN status = 'assigned' THEN created + interval '5 minutes' + make_interval(secs => fr_target) END,
  CASE WHEN open THEN created + make_interval(secs => res_target) END,
  CASE WHEN open THEN 'ok' WHEN status = 'cancelled' THEN 'ok'
       WHEN res_elapsed <= res_target THEN 'met' ELSE 'breached' END,
  2
FROM bench_g
"""

CLOCKS = """
INSERT INTO sla_clocks (ticket_id, clock, business_hours, target_seconds, started_at, warn_at, due_at,
  stopped_at, elapsed_seconds, met)
-- first response / acknowledgement: from assignment (5 min after creation)
SELECT i, CASE WHEN line = '115' THEN 'acknowledgement' ELSE 'first_response' END, line = '1022', fr_target,
  created + interval '5 minutes',
  created + interval '5 minutes' + make_interval(secs => fr_target * 0.75),
  created + interval '5 minutes' + make_interval(secs => fr_target),
  CASE WHEN status <> 'assigned' THEN created + interval '5 minutes' + make_interval(secs => fr_elapsed) END,
  CASE WHEN status <> 'assigned' THEN fr_elapsed END,
  CASE WHEN status = 'cancelled' THEN NULL WHEN status <> 'assigned' THEN fr_elapsed <= fr_target END
FROM bench_g WHERE status <> 'new'
UNION ALL
-- resolution: from creation (the first run of a reopened ticket was met and stopped)
SELECT i, 'resolution', line = '1022', res_target, created,
  created + make_interval(secs => res_target * 0.75), created + make_interval(secs => res_target),
  CASE WHEN NOT open THEN created + make_interval(secs => CASE WHEN r_reopen < 0.03 THEN res_elapsed * 0.3
                                                                ELSE res_elapsed END) END,
  CASE WHEN NOT open THEN CASE WHEN r_reopen < 0.03 THEN res_elapsed * 0.3 ELSE res_elapsed END END,
  CASE WHEN open OR status = 'cancelled' THEN NULL
       WHEN r_reopen < 0.03 THEN res_elapsed * 0.3 <= res_target ELSE res_elapsed <= res_target END
FROM bench_g
UNION ALL
SELECT i, 'resolution', line = '1022', res_target, created + make_interval(secs => res_elapsed * 0.4),
  created + make_interval(secs => res_elapsed * 0.4 + res_target * 0.75),
  created + make_interval(secs => res_elapsed * 0.4 + res_target),
  created + make_interval(secs => res_elapsed), res_elapsed * 0.6, res_elapsed * 0.6 <= res_target
FROM bench_g WHERE r_reopen < 0.03 AND status IN ('resolved', 'closed')
"""

EVENTS = """
INSERT INTO ticket_events (ticket_id, action, actor_label, at, data)
SELECT i, a.action, 'bench', created + a.after, '{}'::jsonb
FROM bench_g, LATERAL (VALUES
  ('created', interval '0', true),
  ('assign', interval '5 minutes', status <> 'new'),
  ('accept', interval '5 minutes' + make_interval(secs => fr_elapsed), status IN ('in_progress', 'resolved', 'closed')),
  ('resolve', make_interval(secs => res_elapsed * 0.3), r_reopen < 0.03 AND status IN ('resolved', 'closed')),
  ('reopen', make_interval(secs => res_elapsed * 0.4), r_reopen < 0.03 AND status IN ('resolved', 'closed')),
  ('resolve', make_interval(secs => res_elapsed), status IN ('resolved', 'closed')),
  ('close', make_interval(secs => res_elapsed) + interval '7 days', status = 'closed'),
  ('cancel', interval '1 hour', status = 'cancelled')
) AS a(action, after, happened)
WHERE a.happened
"""

CALLS = """
INSERT INTO calls (sid, ticket_id, line, from_number, to_number, status, started_at, answered_at, ended_at,
  duration, queue_time, voicemail, callback_needed)
SELECT 'CA' || lpad(i::text, 32, '0'), i, line, '+849' || lpad((i % 100000000)::text, 8, '0'),
  CASE WHEN line = '115' THEN '+84274115' ELSE '+842741022' END,
  CASE WHEN r_q < 0.93 THEN 'completed' ELSE 'no-answer' END,
  created - make_interval(secs => floor(r_q * r_q * 60)),
  CASE WHEN r_q < 0.93 THEN created END,
  created + interval '3 minutes', 180, floor(r_q * r_q * 60)::int, r_q > 0.98, r_q >= 0.93
FROM bench_g WHERE has_call
"""

MARK_PAST = [
    # What a running sweeper would already have marked, so the sweep sees only SWEEP_DUE clocks.
    "UPDATE sla_clocks SET warned_at = warn_at WHERE stopped_at IS NULL AND warn_at <= now()",
    "UPDATE sla_clocks SET breached_at = due_at WHERE stopped_at IS NULL AND due_at <= now()",
    """UPDATE sla_clocks SET breached_at = NULL, due_at = now() - interval '1 minute',
          warned_at = now() - interval '10 minutes', warn_at = now() - interval '10 minutes'
        WHERE id IN (SELECT id FROM sla_clocks WHERE stopped_at IS NULL ORDER BY id LIMIT :due)""",
    # The escalation steps of data/sla/escalation.csv already taken: the lead at the warning,
    # the supervisors at the breach.
    """UPDATE sla_clocks SET escalation_step = CASE WHEN breached_at IS NOT NULL THEN 2 ELSE 1 END,
          escalated_at = coalesce(breached_at, warned_at)
        WHERE stopped_at IS NULL AND warned_at IS NOT NULL""",
]

# A lead with a mobile for every contact point and hospital, and two supervisors (they
# cannot sign in: the hash is no scrypt hash).
PEOPLE = """
INSERT INTO users (username, display_name, password_hash, role, contact_point_id, hospital_id, active, created_at,
  on_duty, is_lead, phone)
SELECT 'lead-' || lower(code), 'Lãnh đạo ' || code, '!', 'staff', id, NULL, true, now(), false, true,
  '+849010' || lpad(id::text, 5, '0') FROM contact_points
UNION ALL
SELECT 'lead-' || lower(code), 'Lãnh đạo ' || code, '!', 'hospital', NULL, id, true, now(), false, true,
  '+849020' || lpad(id::text, 5, '0') FROM hospitals
UNION ALL
SELECT 'supervisor-' || n, 'Giám sát ' || n, '!', 'supervisor', NULL, NULL, true, now(), false, false,
  '+84903000' || lpad(n::text, 3, '0') FROM generate_series(1, 2) AS n
"""


def _admin(url) -> object:
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _step(conn, label: str, sql: str, **params) -> None:
    began = time.perf_counter()
    result = conn.execute(text(sql), params)
    print(f"  {label}: {result.rowcount:,} rows in {time.perf_counter() - began:.1f} s", flush=True)


def generate(url: str, n: int) -> None:
    parsed = make_url(url)
    admin = _admin(parsed)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    began = time.perf_counter()
    migrate(url)
    engine = create_engine(url)
    with Session(engine) as session:
        load_directory(session, ROOT / "data" / "directory")
        load_policies(session, ROOT / "data" / "sla" / "policies.csv")
        load_rules(session, ROOT / "data" / "sla" / "escalation.csv")
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        # Bulk load: foreign keys are known good here; skip their per-row triggers.
        conn.execute(text("SET session_replication_role = replica"))
        _step(conn, "staging", STAGING.replace(":n", str(int(n))))  # DDL takes no parameters
        _step(conn, "tickets", TICKETS)
        _step(conn, "sla_clocks", CLOCKS)
        _step(conn, "ticket_events", EVENTS)
        _step(conn, "calls", CALLS)
        _step(conn, "users (leads, supervisors)", PEOPLE)
        for sql in MARK_PAST:
            _step(conn, "mark", sql, due=SWEEP_DUE)
        conn.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))"))
        conn.execute(text("DROP TABLE bench_g"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
        counts = conn.execute(text(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM tickets WHERE status IN "
            "('new', 'assigned', 'in_progress')), (SELECT count(*) FROM sla_clocks), "
            "(SELECT count(*) FROM ticket_events), (SELECT count(*) FROM calls), "
            "pg_size_pretty(pg_database_size(current_database()))")).one()
    engine.dispose()
    print(f"\n{parsed.database}: {counts[0]:,} tickets ({counts[1]:,} open), {counts[2]:,} clocks, "
          f"{counts[3]:,} events, {counts[4]:,} calls, {counts[5]} — in {time.perf_counter() - began:.0f} s")
    roll_up(url)


def roll_up(url: str) -> None:
    """Build the daily rollup as the production job does (tickets.sla_rollup.refresh)."""
    engine = create_engine(url)
    migrate(url)
    with Session(engine) as session:
        began = time.perf_counter()
        days = refresh(session, datetime.now(UTC), ZONE)
        print(f"  daily rollup (tickets.sla_rollup.refresh, as the job): {days} days in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) sla_rollup_days, sla_rollup_tickets, sla_rollup_clocks, sla_rollup_calls"))
        size = conn.scalar(text("SELECT pg_size_pretty(sum(pg_total_relation_size(c))) FROM unnest(ARRAY["
                                "'sla_rollup_days', 'sla_rollup_tickets', 'sla_rollup_clocks', 'sla_rollup_calls'"
                                "]::regclass[]) AS c"))
    engine.dispose()
    print(f"  rollup tables: {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--drop", action="store_true", help="only drop the database")
    parser.add_argument("--rollup-only", action="store_true",
                        help="only bring the daily rollup of an existing database up to date")
    args = parser.parse_args()
    if args.rollup_only:
        roll_up(args.url)
        return
    if args.drop:
        parsed = make_url(args.url)
        admin = _admin(parsed)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()
        print(f"dropped {parsed.database}")
        return
    generate(args.url, args.tickets)


if __name__ == "__main__":
    main()
