"""Declarative base, column types and session factory shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

# Named constraints make Alembic migrations deterministic on every backend
# (SQLite batch mode needs names to drop or alter a constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite stores no offset, so values come back naive; this type normalises both
    directions so domain code never compares naive with aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 15, "check_same_thread": False})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # SQLite's lower() only knows ASCII: "ĐÈN" would never match "đèn".
            dbapi_connection.create_function(
                "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose objects stay readable after commit (for serialising)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def claim_for_sending(session, model, row_id: int, now):
    """Take a queued outbox row (SMS, desk call) for sending, atomically; None if it is not
    waiting (sent, or taken). The conditional UPDATE is what makes a duplicated job harmless:
    of two workers only one sees its row count as 1."""
    from sqlalchemy import update

    claimed = session.execute(
        update(model)
        .where(model.id == row_id, model.status == "queued")
        .values(status="sending", claimed_at=now, attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        return None
    row = session.get(model, row_id)
    session.refresh(row)
    return row
