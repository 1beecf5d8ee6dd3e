"""Benchmark: how fast consoles hear about things, on the production server with Redis.

    .venv/bin/python benchmarks/socket_events.py [--calls 100] [--rate 5] [--consoles 500] [--rounds 20]

1. **Webhook → ``call.incoming``** at an operator's console: signed ``POST /twilio/voice``
   calls (a new caller each) at a steady rate; for each, the time from sending the webhook to
   the operator's Socket.IO client receiving ``call.incoming`` for that CallSid. Reported
   beside the webhook's own HTTP answer time in the same requests (the baseline: what is
   left is the publish path — Redis message queue, server, socket). Target p99 < 100 ms.
2. **One event to N consoles through the Redis message queue**: N authenticated operator
   consoles (websocket transport) connected to the hotline server; an outside process
   publishes one event to the ``operators`` room through Redis, exactly as an RQ worker
   does; delivery time = arrival at each console − the moment of the emit. Reported beside a
   bare Flask-SocketIO server (benchmarks/socket_floor_app.py: same async mode and gunicorn
   config, no auth, no rooms, no Redis) emitting to the same number of clients in the same
   run. Target p99 < 150 ms for 500 consoles.

Both servers run under ``gunicorn -c gunicorn.conf.py`` with enough threads for one per
websocket (threading mode holds a thread per open websocket). Everything is time-bounded
and cleaned up (servers, database, Redis keys).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import socketio
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._console_fleet import ConsoleFleet  # noqa: E402
from benchmarks._servers import fresh_database, gunicorn, redis_database  # noqa: E402
from tickets.db import make_engine  # noqa: E402

TOKEN = secrets.token_hex(16)
ACCOUNT_SID = "AC" + "50c7" * 8
HOTLINE_1022 = "+842741022"
REDIS_URL = os.environ.get("BENCH_SOCKET_REDIS_URL", "redis://127.0.0.1:6379/12")
DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "directory"
PASSWORD = secrets.token_urlsafe(16)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def prepare(database_url: str) -> None:
    """Migrate, load the directory, one operator on duty (so calls are queued to operators)."""
    from tickets.accounts import save_user
    from tickets.directory_import import load_directory
    from tickets.schema import migrate

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            load_directory(session, DIRECTORY)
            save_user(session, "bench-operator", role="operator", password=PASSWORD).on_duty = True
            session.commit()
    finally:
        engine.dispose()


async def bearer(base: str) -> str:
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/auth/token", json={"username": "bench-operator", "password": PASSWORD}) as response:
        response.raise_for_status()
        return (await response.json())["token"]


async def operator_console(base: str, token: str, on_call) -> socketio.AsyncClient:
    """One operator's console (the real Socket.IO client, as the browser's behaves)."""
    client = socketio.AsyncClient(reconnection=False)
    client.on("call.incoming", on_call)
    await client.connect(base, transports=["websocket"], auth={"token": token}, wait_timeout=30)
    return client


# ---- 1. webhook -> call.incoming -----------------------------------------------------------

async def call_incoming(base: str, calls: int, rate: float) -> tuple[list[float], list[float], int]:
    token = await bearer(base)
    heard: dict[str, float] = {}
    arrived = asyncio.Event()

    async def on_call(payload):
        heard[payload["call_sid"]] = time.time()
        arrived.set()

    console = await operator_console(base, token, on_call)
    signer = RequestValidator(TOKEN)
    url = base + "/twilio/voice"
    sent: dict[str, float] = {}
    answered: list[float] = []
    errors = 0

    async def place(http: aiohttp.ClientSession, at: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, at - time.time()))
        caller = "+8439" + "".join(secrets.choice("0123456789") for _ in range(7))
        sid = "CA" + secrets.token_hex(16)
        params = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": "ringing",
                  "Direction": "inbound", "From": caller, "To": HOTLINE_1022, "Caller": caller,
                  "Called": HOTLINE_1022}
        headers = {"X-Twilio-Signature": signer.compute_signature(url, params)}
        sent[sid] = time.time()
        async with http.post(url, data=params, headers=headers) as response:
            await response.read()
            if response.status != 200:
                errors += 1
                return
            answered.append(time.time() - sent[sid])

    try:
        async with aiohttp.ClientSession() as http:
            # Warm up (first-use caches, the classifier, pools), then forget those calls.
            await asyncio.gather(*(place(http, time.time() + i / rate) for i in range(10)))
            await asyncio.sleep(1.0)
            sent.clear()
            answered.clear()
            heard.clear()
            errors = 0
            start = time.time() + 0.5
            await asyncio.wait_for(asyncio.gather(*(place(http, start + i / rate) for i in range(calls))),
                                   timeout=calls / rate + 30)
            deadline = time.time() + 5
            while len(heard) < len(sent) and time.time() < deadline:
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), timeout=deadline - time.time())
                except TimeoutError:
                    break
    finally:
        await console.disconnect()
    delivered = [heard[sid] - at for sid, at in sent.items() if sid in heard]
    return delivered, answered, errors + (len(sent) - len(delivered))


# ---- 2. one event to N consoles --------------------------------------------------------------

def fan_out(base: str, consoles: int, rounds: int, token: str | None, emit) -> tuple[list[float], int]:
    """Connect ``consoles`` consoles (spread over processes, see _console_fleet), then ``rounds``
    times call ``emit(round)``; returns the delivery times (arrival − the emit's own timestamp)
    and how many deliveries were missed."""
    with ConsoleFleet(base, consoles, "bench", auth={"token": token} if token else None) as fleet:
        time.sleep(1.0)  # let every connection settle into its room
        for r in range(rounds):
            fleet.expect_round(r, emit)
            time.sleep(0.2)
        return fleet.results(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="calls for the call.incoming figure (default 100)")
    parser.add_argument("--rate", type=float, default=5.0, help="calls per second (default 5)")
    parser.add_argument("--consoles", type=int, default=500, help="connected consoles (default 500)")
    parser.add_argument("--rounds", type=int, default=20, help="events sent to all consoles (default 20)")
    args = parser.parse_args()
    started = time.monotonic()
    channel = f"bench-{secrets.token_hex(4)}"
    threads = str(args.consoles + 100)

    with fresh_database("bench_sockets") as database_url, redis_database(REDIS_URL):
        prepare(database_url)
        env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "SOCKETIO_CHANNEL": channel,
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "PUBLIC_BASE_URL": "{base}",
               "HOTLINE_1022_HOURS": "always", "HOTLINE_DEMO": "", "SECRET_KEY": secrets.token_hex(16),
               "GUNICORN_THREADS": threads}
        with gunicorn("wsgi:app", env) as base:
            print(f"webhook → call.incoming at {base} …", file=sys.stderr, flush=True)
            delivered, answered, call_errors = asyncio.run(call_incoming(base, args.calls, args.rate))

            print(f"{args.consoles} consoles on the hotline, events through Redis …", file=sys.stderr, flush=True)
            from flask_socketio import SocketIO

            # What an RQ worker is: a process outside the server, emitting through Redis.
            worker = SocketIO(message_queue=REDIS_URL, channel=channel)

            def through_redis(r: int) -> None:
                worker.emit("bench", {"round": r, "sent": time.time()}, to="operators")

            token = asyncio.run(bearer(base))
            hotline, hotline_missed = fan_out(base, args.consoles, args.rounds, token, through_redis)

        with gunicorn("benchmarks.socket_floor_app:create()", {"GUNICORN_THREADS": threads}) as floor_base:
            print(f"{args.consoles} clients on the bare Flask-SocketIO floor …", file=sys.stderr, flush=True)

            def bare(r: int) -> None:
                request = urllib.request.Request(  # noqa: S310 - our own local server
                    f"{floor_base}/emit", data=json.dumps({"round": r}).encode(),
                    headers={"Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=10).close()  # noqa: S310

            floor, floor_missed = fan_out(floor_base, args.consoles, args.rounds, None, bare)

    print("| measurement | n | p50 ms | p99 ms | missed |")
    print("|---|---:|---:|---:|---:|")
    print(f"| webhook answered (baseline) | {len(answered)} | {pct(answered, 50):.1f} | {pct(answered, 99):.1f} "
          f"| {call_errors} |")
    print(f"| webhook → call.incoming at the operator | {len(delivered)} | {pct(delivered, 50):.1f} "
          f"| {pct(delivered, 99):.1f} | {call_errors} |")
    print(f"| bare Flask-SocketIO emit → {args.consoles} clients (floor) | {len(floor)} | {pct(floor, 50):.1f} "
          f"| {pct(floor, 99):.1f} | {floor_missed} |")
    print(f"| Redis queue → hotline → {args.consoles} consoles | {len(hotline)} | {pct(hotline, 50):.1f} "
          f"| {pct(hotline, 99):.1f} | {hotline_missed} |")
    print()
    p99_call, p99_fan, p99_floor = pct(delivered, 99), pct(hotline, 99), pct(floor, 99)
    print(f"- webhook → call.incoming p99: **{p99_call:.1f} ms** (target < 100 ms: "
          f"{'met' if p99_call < 100 and not call_errors else 'NOT met'}); "
          f"{p99_call / pct(answered, 99):.2f}× the webhook's own p99")
    print(f"- one event to {args.consoles} consoles through Redis, p99: **{p99_fan:.1f} ms** (target < 150 ms: "
          f"{'met' if p99_fan < 150 and not hotline_missed else 'NOT met'}); {p99_fan / p99_floor:.2f}× the bare "
          f"emit floor ({p99_floor:.1f} ms)")
    print(f"- gunicorn -c gunicorn.conf.py (1 worker, gthread, {threads} threads); {os.cpu_count()} CPUs shared "
          f"with the clients; run took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
