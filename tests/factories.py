"""Small factories for test data: each takes a session and overrides."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tickets.accounts import User, save_user
from tickets.permissions import SystemActor
from tickets.services import NewTicket, open_ticket

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Bình Dương, a Wednesday
PASSWORD = "correct-horse-1"
SYSTEM = SystemActor("test")
_seq = itertools.count(1)


def make_user(session: Session, role: str = "operator", **overrides: Any) -> User:
    """An account with the default test password; staff/hospital get a real directory entry."""
    defaults: dict[str, Any] = {"password": PASSWORD}
    if role == "staff":
        defaults["contact_point"] = "SO_TNMT"
    if role == "hospital":
        defaults["hospital"] = "BVDK_TINH"
    username = overrides.pop("username", f"{role}{next(_seq)}")
    user = save_user(session, username, role=role, **{**defaults, **overrides})
    session.commit()
    return user


def make_ticket(session: Session, actor=SYSTEM, now: datetime = NOW, **overrides: Any):
    """A committed ticket opened by ``actor``; 1022 by phone unless overridden."""
    fields: dict[str, Any] = {"line": "1022", "channel": "phone",
                              "description": "Đèn đường không sáng ở hẻm 12",
                              "caller_phone": "0912 345 678", **overrides}
    ticket, _ = open_ticket(session, actor, NewTicket(**fields), now)
    session.commit()
    return ticket


def bearer(client, user: User) -> dict[str, str]:
    """Authorization headers for ``user`` (signed in with the test password)."""
    response = client.post("/api/auth/token", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def db_counts(engine) -> tuple[int, int, int]:
    """(tickets, events, sum of versions): any write changes at least one of them."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_events),"
            " (SELECT coalesce(sum(version), 0) FROM tickets)")).one())


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block, as a list."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
