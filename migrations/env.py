"""Alembic environment: the models' metadata, and how project types appear in migrations.

There is no alembic.ini: ``tickets.schema`` builds the configuration (script location,
database URL, file template) and runs the commands.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import JSON, create_engine, pool
from sqlalchemy.engine import make_url

import tickets.registry  # noqa: F401 - registers every table
from tickets.db import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):
    """Render project column types as plain SQLAlchemy, so migrations never import tickets."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSON) and "postgresql" in getattr(obj, "_variant_mapping", {}):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def _options(dialect_name: str) -> dict:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
    }


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True, **_options(make_url(url).get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A plain engine, not tickets.db.make_engine: SQLite foreign-key enforcement would make
    # batch mode's copy-and-drop of referenced tables fail. NullPool leaves no connection open.
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **_options(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
