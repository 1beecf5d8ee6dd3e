"""Benchmark: a signed ``POST /twilio/voice`` end to end, on the production server.

    .venv/bin/python benchmarks/webhook_voice.py [--seconds 10] [--rate 100] [--clients 16,64]
                                                 [--configs 1x100,2x16] [--calls 200]

What runs: a fresh PostgreSQL database prepared as ``flask init`` prepares it (migrated;
directory, routing rules, SLA policies), one operator on duty, so every call takes the full
path: ticket + its history + call row + SLA clock + tracking SMS in the outbox + an RQ job +
two Socket.IO events through Redis, then the IVR menu; and a Redis database; behind
``gunicorn -c gunicorn.conf.py wsgi:app`` with HOTLINE_1022_HOURS=always. Every request is a
new call (a new CallSid from a new mobile number), signed exactly as Twilio signs it.
synchronous_commit is left at the server's default: every answer follows a durable commit.

Two floors are served by the same gunicorn config in the same run (benchmarks/floor_app.py):
a bare Flask endpoint, and one that commits one row to PostgreSQL per request.

First, in this process through Flask's test client: SQL statements, commits and pool
checkouts per call (SQLAlchemy events), and the request thread's CPU per call.

Then, for each gunicorn config (``--configs``, WORKERSxTHREADS, read by gunicorn.conf.py from
GUNICORN_WORKERS / GUNICORN_THREADS; the floors get the same), per server, one at a time:
- open loop: requests scheduled at a fixed rate (default 100/s) for N seconds; latency is
  counted from each request's *scheduled* time, so a stalled server cannot hide queueing;
- closed loop: C clients each sending the next request as soon as the last one answered;
  the best throughput over the client counts is the server's maximum;
- the server's CPU time (master and workers, from /proc) per answered request.

Prints Markdown and the two targets: webhook/durable-floor throughput >= 0.5 and webhook p99
< 50 ms at 100 calls/s. Everything is time-bounded and cleaned up (servers, databases,
Redis keys) whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._servers import cpu_seconds, fresh_database, gunicorn, redis_database  # noqa: E402
from tickets.db import make_engine  # noqa: E402

TOKEN = secrets.token_hex(16)  # a throw-away auth token for this run
ACCOUNT_SID = "AC" + "be7c" * 8
HOTLINE_1022 = "+842741022"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "directory"
REQUEST_TIMEOUT = 15  # Twilio's own limit for a webhook answer


# ---- the load ----------------------------------------------------------------------------

def new_call() -> dict[str, str]:
    """An incoming call as Twilio posts it: a new CallSid, a new Viettel mobile caller."""
    caller = "+8439" + "".join(secrets.choice("0123456789") for _ in range(7))
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": "CA" + secrets.token_hex(16),
            "CallStatus": "ringing", "Direction": "inbound", "From": caller, "To": HOTLINE_1022,
            "Caller": caller, "Called": HOTLINE_1022, "FromCountry": "VN", "ToCountry": "VN",
            "CallerCountry": "VN", "CalledCountry": "VN", "FromCity": "THU DAU MOT", "ToState": "Binh Duong"}


@dataclass
class Target:
    name: str
    url: str
    expect: bytes  # in every good answer: proves the intended path ran
    signer: RequestValidator = field(default_factory=lambda: RequestValidator(TOKEN))

    def request(self) -> tuple[dict[str, str], dict[str, str]]:
        params = new_call()
        return params, {"X-Twilio-Signature": self.signer.compute_signature(self.url, params)}


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def _send(http: aiohttp.ClientSession, target: Target) -> bool:
    data, headers = target.request()
    try:
        async with http.post(target.url, data=data, headers=headers) as response:
            body = await response.read()
            return response.status == 200 and target.expect in body
    except (TimeoutError, aiohttp.ClientError):
        return False


def _session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


async def open_loop(target: Target, rate: float, seconds: float) -> Result:
    """Requests at fixed times; latency measured from the scheduled time."""
    result = Result()
    async with _session(limit=0) as http:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def at(moment: float) -> None:
            await asyncio.sleep(max(0.0, moment - loop.time()))
            ok = await _send(http, target)
            if ok:
                result.latencies.append(loop.time() - moment)
            else:
                result.errors += 1

        count = int(rate * seconds)
        await asyncio.wait_for(asyncio.gather(*(at(start + i / rate) for i in range(count))),
                               timeout=seconds + REQUEST_TIMEOUT + 5)
        result.elapsed = max(loop.time() - start, seconds)
    return result


async def closed_loop(target: Target, clients: int, seconds: float) -> Result:
    """``clients`` senders, each sending again as soon as answered."""
    result = Result()
    async with _session(limit=clients) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + seconds

        async def client() -> None:
            while loop.time() < end:
                sent = loop.time()
                if await _send(http, target):
                    result.latencies.append(loop.time() - sent)
                else:
                    result.errors += 1

        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))),
                               timeout=seconds + REQUEST_TIMEOUT + 5)
        result.elapsed = loop.time() - start
    return result


@dataclass
class Report:
    name: str
    open: Result
    closed: dict[int, Result]
    light: dict[float, Result] = field(default_factory=dict)  # open loop at lower rates
    cpu_ms: float = float("nan")  # the server's CPU (all its processes) per answered request

    @property
    def best(self) -> tuple[int, Result]:
        return max(self.closed.items(), key=lambda item: item[1].rate)

    @property
    def answered(self) -> int:
        phases = [self.open, *self.closed.values(), *self.light.values()]
        return sum(len(r.latencies) for r in phases)


async def measure(target: Target, rate: float, seconds: float, clients: list[int],
                  light: list[float], pid: int) -> Report:
    await closed_loop(target, 8, 2.0)  # warm up: connections, pools, caches
    cpu = cpu_seconds(pid)
    opened = await open_loop(target, rate, seconds)
    closed = {c: await closed_loop(target, c, min(seconds, 8.0)) for c in clients}
    lighter = {r: await open_loop(target, r, seconds) for r in light}
    report = Report(target.name, opened, closed, lighter)
    report.cpu_ms = 1000 * (cpu_seconds(pid) - cpu) / max(report.answered, 1)
    return report


# ---- the servers -------------------------------------------------------------------------

def prepare(database_url: str) -> None:
    """What ``flask init`` does (migrate; directory, routing rules and SLA policies), then one
    operator on duty and the floor's table."""
    from app.cli import SLA_POLICIES
    from benchmarks.floor_app import TABLE
    from tickets.accounts import save_user
    from tickets.directory_import import load_directory
    from tickets.routing_store import load_routing_rules
    from tickets.schema import migrate
    from tickets.sla_policies import load_policies

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            load_directory(session, DIRECTORY)
            load_routing_rules(session, DIRECTORY / "routing_rules.csv")
            load_policies(session, SLA_POLICIES)
            user = save_user(session, "bench-operator", role="operator", password=secrets.token_urlsafe(16))
            user.on_duty = True
            session.commit()
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, sid varchar(64), "
                              "at timestamptz NOT NULL)"))
    finally:
        engine.dispose()


def count_rows(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {table: conn.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed names
                    for table in ("tickets", "ticket_events", "calls", "outbound_messages", "sla_clocks",
                                  "bench_floor")}
    finally:
        engine.dispose()


def app_env(database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "PUBLIC_BASE_URL": "{base}", "HOTLINE_1022_HOURS": "always",
            "HOTLINE_DEMO": "", "SECRET_KEY": secrets.token_hex(16), "FLOOR_DATABASE_URL": database_url}


@dataclass
class Config:
    """How gunicorn runs (gunicorn.conf.py reads these): the same for the floors and the webhook."""

    workers: int
    threads: int

    @classmethod
    def parse(cls, spec: str) -> Config:
        workers, _, threads = spec.partition("x")
        return cls(int(workers), int(threads))

    def __str__(self) -> str:
        return f"{self.workers} worker{'s' if self.workers > 1 else ''} × {self.threads} threads"


def run(args: argparse.Namespace, config: Config) -> list[Report]:
    reports = []
    with fresh_database("bench_webhook") as database_url, redis_database(REDIS_URL):
        prepare(database_url)
        env = {**app_env(database_url), "GUNICORN_WORKERS": str(config.workers),
               "GUNICORN_THREADS": str(config.threads)}
        servers = [
            ("bare Flask floor", "benchmarks.floor_app:create('bare')", "/floor", b"<Response>"),
            ("durable floor (1 committed INSERT)", "benchmarks.floor_app:create('durable')", "/floor",
             b"<Response>"),
            ("lean ceiling (the same work, one statement)", "benchmarks.floor_app:create('lean')", "/twilio/voice",
             b"<Gather"),
            ("POST /twilio/voice", "wsgi:app", "/twilio/voice", b"<Gather"),
        ]
        for name, app, path, expect in servers:
            with gunicorn(app, env) as base:
                print(f"[{config}] measuring {name} at {base} …", file=sys.stderr, flush=True)
                light = args.light_rates if app == "wsgi:app" else []
                reports.append(asyncio.run(measure(Target(name, base + path, expect), args.rate,
                                                   args.seconds, args.clients, light, base.pid)))
        rows = count_rows(database_url)
        print(f"[{config}] database after the run: {rows} (webhook answers counted: {reports[-1].answered} "
              "+ warm-up)", file=sys.stderr)
    return reports


# ---- statements per call, in process -----------------------------------------------------

@dataclass
class PerCall:
    statements: float
    commits: float
    checkouts: float
    cpu_ms: float
    listing: list[str]


def per_call(calls: int) -> PerCall:
    """The webhook through Flask's test client in this process (no HTTP server): SQL statements,
    commits and pool checkouts per call, counted by SQLAlchemy events, and the CPU per call."""
    from sqlalchemy import event

    from app import create_app
    from app.database import db

    with fresh_database("bench_webhook_calls") as database_url, redis_database(REDIS_URL):
        prepare(database_url)
        env = {k: v for k, v in app_env(database_url).items() if k != "FLOOR_DATABASE_URL"}
        app = create_app({**env, "PUBLIC_BASE_URL": "http://localhost"})
        logging.getLogger().setLevel(logging.WARNING)
        counts = {"statements": 0, "commits": 0, "checkouts": 0}
        listing: list[str] = []

        def statement(_conn, _cursor, sql, *_args) -> None:
            counts["statements"] += 1
            listing.append(" ".join(sql.split())[:90])

        event.listen(db.engine, "before_cursor_execute", statement)
        event.listen(db.engine, "commit", lambda _conn: counts.__setitem__("commits", counts["commits"] + 1))
        event.listen(db.engine.pool, "checkout",
                     lambda *_: counts.__setitem__("checkouts", counts["checkouts"] + 1))
        client = app.test_client()
        target = Target("in process", "http://localhost/twilio/voice", b"<Gather")

        def one() -> None:
            data, headers = target.request()
            response = client.post("/twilio/voice", data=data, headers=headers)
            if response.status_code != 200 or target.expect not in response.data:
                raise RuntimeError(f"unexpected answer {response.status_code}: {response.data[:200]!r}")

        for _ in range(20):
            one()
        for key in counts:
            counts[key] = 0
        one()
        first = list(listing[-counts["statements"]:])
        for key in counts:
            counts[key] = 0
        started = time.thread_time()
        for _ in range(calls):
            one()
        cpu = time.thread_time() - started
        db.engine.dispose()
    return PerCall(counts["statements"] / calls, counts["commits"] / calls, counts["checkouts"] / calls,
                   1000 * cpu / calls, first)


# ---- output ------------------------------------------------------------------------------

def table(reports: list[Report], rate: float) -> str:
    lines = [
        f"| server | open loop {rate:g}/s: req/s | p50 ms | p99 ms | errors "
        "| closed loop max req/s (clients) | p50 ms | p99 ms | errors | server CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        clients, best = r.best
        lines.append(f"| {r.name} | {r.open.rate:.1f} | {r.open.pct(50):.1f} | {r.open.pct(99):.1f} "
                     f"| {r.open.errors} | {best.rate:.0f} ({clients}) | {best.pct(50):.1f} "
                     f"| {best.pct(99):.1f} | {sum(x.errors for x in r.closed.values())} | {r.cpu_ms:.2f} |")
    for r in reports:
        for light_rate, result in r.light.items():
            lines.append(f"| {r.name} at {light_rate:g}/s | {result.rate:.1f} | {result.pct(50):.1f} "
                         f"| {result.pct(99):.1f} | {result.errors} | | | | | |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="open-loop duration (default 10)")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop offered calls/s (default 100)")
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[16, 64],
                        help="closed-loop client counts (default 16,64)")
    parser.add_argument("--light-rates", type=lambda s: [float(x) for x in s.split(",") if x], default=[20.0],
                        help="extra open-loop rates for the webhook alone, to show it unloaded (default 20)")
    parser.add_argument("--configs", type=lambda s: [Config.parse(x) for x in s.split(",")],
                        default=[Config(1, 100), Config(2, 16)],
                        help="gunicorn WORKERSxTHREADS to serve all three with, in turn (default 1x100,2x16: "
                             "the single-process instance that also serves Socket.IO, and a webhook pool)")
    parser.add_argument("--calls", type=int, default=200,
                        help="calls through the test client to count statements per call (default 200; 0: skip)")
    args = parser.parse_args()

    started = time.monotonic()
    inproc = per_call(args.calls) if args.calls else None
    results = [(config, run(args, config)) for config in args.configs]
    if inproc is not None:
        print(f"Per call, in process (Flask test client, {args.calls} calls): **{inproc.statements:.1f} SQL "
              f"statements**, {inproc.commits:.1f} commit, {inproc.checkouts:.1f} pool checkout, "
              f"{inproc.cpu_ms:.1f} ms CPU of the request thread.")
        print()
        print("```")
        print("\n".join(inproc.listing))
        print("```")
        print()
    for config, reports in results:
        floor, lean, webhook = reports[1], reports[2], reports[3]
        ratio = webhook.best[1].rate / floor.best[1].rate
        p99 = webhook.open.pct(99)
        print(f"### gunicorn -c gunicorn.conf.py, {config} (floors and webhook alike)")
        print()
        print(table(reports, args.rate))
        print()
        print(f"- webhook / durable-floor max throughput: **{ratio:.2f}** (target ≥ 0.5: "
              f"{'met' if ratio >= 0.5 else 'NOT met'}); server CPU per request "
              f"{webhook.cpu_ms:.1f} ms vs {floor.cpu_ms:.1f} ms")
        print(f"- lean ceiling (the same work in one hand-written statement, no app structure) / durable floor: "
              f"**{lean.best[1].rate / floor.best[1].rate:.2f}**, server CPU per request {lean.cpu_ms:.1f} ms; "
              f"the webhook reaches {webhook.best[1].rate / lean.best[1].rate:.2f} of it")
        print(f"- webhook p99 at {args.rate:g} calls/s: **{p99:.1f} ms** (target < 50 ms: "
              f"{'met' if p99 < 50 else 'NOT met'})")
        print()
    print(f"{os.cpu_count()} CPUs shared with the load generator (and PostgreSQL, Redis); "
          f"load average before the end {os.getloadavg()[0]:.1f}; run took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
