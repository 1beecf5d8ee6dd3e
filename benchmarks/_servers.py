"""Throw-away infrastructure for benchmarks: a fresh PostgreSQL database, a Redis database,
and gunicorn servers started with the production config — each removed when done."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin(*statements: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped (even if in use) afterwards."""
    name = f"{prefix}_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_database(url: str) -> Iterator[str]:
    """A Redis database emptied before and after use."""
    import redis

    conn = redis.Redis.from_url(url)
    conn.flushdb()
    try:
        yield url
    finally:
        conn.flushdb()
        conn.close()


class Server(str):
    """A running server's base URL (a plain ``str``), with the process group id that
    ``cpu_seconds`` reads."""

    pid: int


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by every live process of process group ``pgid``:
    the gunicorn master and its workers. Linux only; 0.0 where /proc cannot be read."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, …, utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _wait_ready(base: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{base} not ready after {timeout}s")


@contextlib.contextmanager
def gunicorn(app: str, env: dict[str, str], *, ready_timeout: float = 60) -> Iterator[Server]:
    """``gunicorn -c gunicorn.conf.py APP`` on a free port; yields its base URL (with ``.pid``,
    the process group of the master and its workers).

    ``{base}`` in an environment value is replaced by the server's own URL (for
    PUBLIC_BASE_URL). The server runs in its own session and is stopped through its own
    process group id, so only the processes started here are ever signalled.
    """
    port = free_port()
    base = Server(f"http://127.0.0.1:{port}")
    full_env = {**os.environ, **{k: v.replace("{base}", base) for k, v in env.items()},
                "HOST": "127.0.0.1", "PORT": str(port)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn with fixed arguments
            [str(GUNICORN), "-c", "gunicorn.conf.py", app], cwd=ROOT, env=full_env,
            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        try:
            _wait_ready(base, process, ready_timeout)
            base.pid = process.pid  # its own session: the process group id is the master's pid
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
            log.seek(0)
            lines = log.read().decode(errors="replace").splitlines()
            problems = [i for i, line in enumerate(lines) if "Traceback" in line or " ERROR " in line]
            if problems:
                print(f"[{app}] {len(problems)} error lines in the server log, the first:",
                      *lines[problems[0]:problems[0] + 25], sep="\n  ", file=sys.stderr)
