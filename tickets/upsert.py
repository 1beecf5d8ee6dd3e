"""INSERT … ON CONFLICT on the two databases the hotline runs on.

A conflict handled inside the statement leaves the transaction usable, where a caught
IntegrityError would not (PostgreSQL aborts the transaction, and a SAVEPOINT around the
insert is not safe with pysqlite, whose RELEASE of an outermost savepoint commits).
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(session: Session, model):
    """An INSERT into ``model`` with ``on_conflict_do_nothing``/``_do_update`` for the session's database."""
    dialect = session.get_bind().dialect.name
    try:
        return _INSERTS[dialect](model)
    except KeyError:
        raise NotImplementedError(f"INSERT … ON CONFLICT is written for PostgreSQL and SQLite, not {dialect}") from None
