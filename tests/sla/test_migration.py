"""Migration 0006 on a database already in use: running clocks the sweep had marked before
the upgrade are not escalated again (no burst of old alerts on deploy)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from tests.test_migrations import fresh_url  # noqa: F401 - the fixture: an empty SQLite / PostgreSQL database
from tickets.schema import alembic_config

# (warned, breached, stopped) -> the step the upgrade records
CLOCKS = [((False, False, False), 0), ((True, False, False), 1), ((True, True, False), 99),
          ((True, True, True), 0)]


def test_running_clocks_already_marked_count_as_escalated(fresh_url):  # noqa: F811
    config = alembic_config(fresh_url)
    command.upgrade(config, "0005_admin")
    engine = create_engine(fresh_url)
    at = "2026-11-25 03:00:00+00"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tickets (id, code, line, channel, status, priority, description, callback_needed,"
            " waiting_on_caller, category_confirmed, created_at, updated_at, sla_state, version)"
            " VALUES (1, 'ABCDEFGH', '1022', 'web', 'assigned', 'normal', '', false, false, false, :at, :at, 'ok', 1)"),
            {"at": at})
        for (warned, breached, stopped), _ in CLOCKS:
            conn.execute(text(
                "INSERT INTO sla_clocks (ticket_id, clock, business_hours, target_seconds, started_at, warn_at,"
                " due_at, warned_at, breached_at, stopped_at) VALUES (1, 'first_response', true, 14400, :at, :at,"
                " :at, :warned, :breached, :stopped)"),
                {"at": at, "warned": at if warned else None, "breached": at if breached else None,
                 "stopped": at if stopped else None})
    command.upgrade(config, "head")
    with engine.connect() as conn:
        steps = conn.execute(text("SELECT escalation_step FROM sla_clocks ORDER BY id")).scalars().all()
    engine.dispose()
    assert steps == [step for _, step in CLOCKS]
