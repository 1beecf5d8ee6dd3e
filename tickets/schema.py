"""Create and upgrade the database schema with the Alembic migrations in ``migrations/``.

There is no alembic.ini: the configuration is built here, so the application, the CLI and
the tests all migrate the same way, from a database URL alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _escape(value: str) -> str:
    # Alembic stores options in a configparser, which treats "%" as interpolation.
    return value.replace("%", "%%")


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration for the project's migrations (and this database, if given)."""
    config = Config()
    config.set_main_option("script_location", _escape(str(MIGRATIONS)))
    config.set_main_option("path_separator", "os")
    # New revisions are named "<rev>_<slug>.py"; new_revision() makes <rev> a sequence number.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", _escape(database_url))
    return config


def migrate(database_url: str) -> None:
    """Upgrade the database to the newest migration (creating every table on an empty one)."""
    command.upgrade(alembic_config(database_url), "head")


def current_revision(database_url: str) -> str | None:
    """The migration the database is at, or None when it was never migrated."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration in ``migrations/versions``."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS / 'versions'}")
    return head


def new_revision(database_url: str, message: str) -> Path:
    """Autogenerate the next migration (``0002_<slug>.py``…) from a database at head."""
    config = alembic_config(database_url)
    numbers = [int(m.group()) for m in (re.match(r"\d+", r.revision)
               for r in ScriptDirectory.from_config(config).walk_revisions()) if m]
    script = command.revision(config, message=message, autogenerate=True,
                              rev_id=f"{max(numbers, default=0) + 1:04d}")
    return Path(script.path)
