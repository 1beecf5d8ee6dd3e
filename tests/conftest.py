"""Shared fixtures: a real database per test worker (PostgreSQL by default, SQLite when
TEST_DATABASE_URL says so), migrated with Alembic and loaded with the real directory once;
each test then starts from empty ticket and account tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import tickets.registry  # noqa: F401 - every table, for the clean-up below
from tickets.db import Base, make_engine, make_session_factory
from tickets.directory_import import load_directory
from tickets.routing_store import load_routing_rules
from tickets.schema import migrate
from tickets.sla_policies import load_policies

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "data" / "directory"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Tables every test may fill; the directory tables are loaded once and left alone.
TRANSACTIONAL_TABLES = ("calendar_days", "open311_submissions",
                        "sla_rollup_calls", "sla_rollup_clocks", "sla_rollup_tickets", "sla_rollup_days",
                        "sla_escalation_rules",
                        "hospital_alerts", "audit_log", "canned_responses", "sla_clocks", "inbound_messages",
                        "outbound_messages", "calls", "ticket_events", "tickets", "api_tokens", "api_keys", "users")


def _admin_execute(url, *statements: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A migrated database holding the real directory, private to this test process.

    PostgreSQL gets a database per process (xdist worker or lone run), named with the pid
    so that two runs side by side never drop each other's data.
    """
    configured = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_URL))
    if configured.get_backend_name() == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.getbasetemp() / f'hotline-{worker_id}.db'}", None
    else:
        name = f"{configured.database}_{worker_id}_{os.getpid()}"
        _admin_execute(configured, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        url = configured.set(database=name).render_as_string(hide_password=False)
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_directory(session, DIRECTORY)
        load_routing_rules(session, DIRECTORY / "routing_rules.csv")
        load_policies(session, ROOT / "data" / "sla" / "policies.csv")
        session.commit()
    engine.dispose()
    yield url
    if drop:
        _admin_execute(configured, drop)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_transactional_tables(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            for table in TRANSACTIONAL_TABLES:
                conn.execute(Base.metadata.tables[table].delete())
        return
    # TRUNCATE locks the tables one by one; a straggler still reading two of them (a socket
    # connecting as a browser test's server closes) can deadlock with it. PostgreSQL then
    # aborts one side: if it is us, the straggler has gone by the next try.
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(TRANSACTIONAL_TABLES)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as error:
            if attempt == 2 or getattr(error.orig, "sqlstate", None) != "40P01":  # deadlock_detected
                raise


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the worker's database; ticket and account tables are emptied after."""
    factory = make_session_factory(engine)
    with factory() as s:
        yield s
    _empty_transactional_tables(engine)


@pytest.fixture
def app(database_url: str, engine: Engine):
    from app import create_app

    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
    })
    yield application
    application.extensions["database"].engine.dispose()
    _empty_transactional_tables(engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
