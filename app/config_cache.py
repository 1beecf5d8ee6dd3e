"""Caches of what administrators edit, kept current in every process by the configuration
version (``tickets.audit``: one row, bumped in the same transaction as every change made in
/admin).

A cached value is rebuilt when the version differs from the one it was built at — so an
admin's change reaches every web process and RQ worker at their next use — and in any case
every REFRESH seconds, for changes made outside the administration (``init``, SQL). The
version is one primary-key read, done once per transaction whatever the number of caches a
request uses (the routing snapshot and the calendars both serve one incoming call).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from tickets.audit import config_version

REFRESH = 30.0  # seconds a value built at an unchanged version is trusted
T = TypeVar("T")


def current_version(session: Session) -> int:
    """The configuration version as this session's transaction sees it, read once per
    transaction (a new transaction, after a commit, reads it again)."""
    transaction = session.get_transaction()
    seen = session.info.get("config_version")  # (the transaction it was read in, the version)
    if transaction is not None and seen is not None and seen[0] is transaction:
        return seen[1]
    version = config_version(session)  # begins the transaction when none was open
    session.info["config_version"] = (session.get_transaction(), version)
    return version


class VersionedCache(Generic[T]):
    """One value per database, built by ``build(session)``, current with the configuration
    version and never older than REFRESH seconds."""

    def __init__(self, build: Callable[[Session], T]):
        self._build = build
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, float, T]] = {}  # database URL → (version, built at, value)

    def get(self, session: Session) -> T:
        key = str(session.get_bind().url)
        version = current_version(session)  # read before the rows: the rows are at least this new
        with self._lock:
            found = self._entries.get(key)
        if found is not None and found[0] == version and time.monotonic() - found[1] < REFRESH:
            return found[2]
        value = self._build(session)
        with self._lock:
            self._entries[key] = (version, time.monotonic(), value)
        return value

    def clear(self) -> None:
        """Forget every value in this process (other processes follow the version)."""
        with self._lock:
            self._entries.clear()
