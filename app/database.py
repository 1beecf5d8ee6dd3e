"""The database for the web layer: one engine per app, one session per request."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tickets.db import make_engine, make_session_factory


class Database:
    """Holds the engine and session factory; ``session`` is the current request's session."""

    def __init__(self, app: Flask | None = None):
        self.engine: Engine | None = None
        self.factory: sessionmaker | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            # Relative SQLite paths are relative to the project, as CONTRACT.md's default
            # "sqlite:///instance/hotline.db" expects; make sure the folder exists.
            from pathlib import Path

            path = Path(url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)
        app.extensions["database"] = self
        app.teardown_appcontext(self._close)

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.factory()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
