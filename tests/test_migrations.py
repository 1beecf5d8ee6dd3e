"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import uuid
import warnings
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Column, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateIndex

import tickets.registry  # noqa: F401 - registers every table on Base.metadata
from tickets.db import Base
from tickets.schema import MIGRATIONS, alembic_config, current_revision, head_revision, migrate

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database; its URL contains a "%", which Alembic's configparser must not eat."""
    if request.param == "sqlite":
        folder = tmp_path / "100%"
        folder.mkdir()
        yield f"sqlite:///{folder / 'fresh.db'}"
        return
    server = make_url(SERVER_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"test_mig_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        # Someone running the suite on SQLite only may have no PostgreSQL at hand.
        if make_url(os.environ.get("TEST_DATABASE_URL", SERVER_URL)).get_backend_name() == "sqlite":
            pytest.skip("no PostgreSQL server")
        raise
    # Trust authentication ignores the password; it is there to carry a "%" ("%25").
    yield server.set(database=name, password="p%ss").render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _differences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        if conn.dialect.name != "sqlite":
            differences = compare_metadata(context, Base.metadata)
        else:
            # SQLAlchemy cannot reflect an expression index (lower(name)) from SQLite, so
            # Alembic skips those with a warning: they are compared by _expression_indexes.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", ".*expression-based index")
                differences = compare_metadata(context, Base.metadata)
            differences += _expression_indexes(conn)
    engine.dispose()
    return differences


def _expression_indexes(conn) -> list[tuple[str, str, str | None]]:
    """SQLite: each expression index of the models whose CREATE INDEX the database does not hold as is."""
    stored = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
    expected = {index.name: str(CreateIndex(index).compile(dialect=conn.dialect)).strip()
                for table in Base.metadata.tables.values() for index in table.indexes
                if any(not isinstance(e, Column) for e in index.expressions)}
    assert expected, "no expression index left: this comparison can go"
    return [("expression_index", name, stored.get(name)) for name, sql in expected.items() if stored.get(name) != sql]


def _literals(sql: str) -> list[str]:
    return sorted(re.findall(r"'([^']*)'", sql))


def _check_constraints(url: str) -> dict[str, list[str]]:
    """Named CHECK constraints in the database: name -> the quoted values they allow."""
    engine = create_engine(url)
    inspector = inspect(engine)
    found = {ck["name"]: _literals(ck["sqltext"])
             for table in inspector.get_table_names()
             for ck in inspector.get_check_constraints(table)}
    engine.dispose()
    return found


def test_migrate_reaches_head(fresh_url: str) -> None:
    assert current_revision(fresh_url) is None
    migrate(fresh_url)
    assert current_revision(fresh_url) == head_revision()
    assert head_revision() == sorted(p.stem for p in MIGRATIONS.glob("versions/0*.py"))[-1]


def test_migrated_schema_matches_the_models(fresh_url: str) -> None:
    migrate(fresh_url)
    # Tables, columns and types, nullability, primary/foreign keys, unique constraints, indexes.
    assert _differences(fresh_url) == []
    # Alembic does not compare CHECK constraints: compare names and allowed values here.
    expected = {
        ck.name: _literals(str(ck.sqltext))
        for table in Base.metadata.tables.values()
        for ck in table.constraints
        if isinstance(ck, CheckConstraint)
    }
    assert len(expected) == 6
    assert _check_constraints(fresh_url) == expected


def test_migrating_twice_is_a_no_op(fresh_url: str) -> None:
    migrate(fresh_url)
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO districts (code, name, kind) VALUES ('1', 'Huyện A', 'Huyện')"))
    migrate(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM districts")).scalars().all() == ["Huyện A"]
    engine.dispose()
    assert current_revision(fresh_url) == head_revision()
    assert _differences(fresh_url) == []


def test_downgrade_to_base_removes_every_table(fresh_url: str) -> None:
    migrate(fresh_url)
    command.downgrade(alembic_config(fresh_url), "base")
    engine = create_engine(fresh_url)
    assert inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()
    assert current_revision(fresh_url) is None
