"""API keys for outside clients (the Open311 GeoReport v2 endpoints): issued by an
administrator, shown once, stored only as a hash, revocable.

A key is ``hk_`` + 43 URL-safe characters from 32 random bytes. Only its first 8 characters
(to tell keys apart in lists) and its SHA-256 are stored. A password needs a slow, salted
hash because people choose guessable ones; a key of 256 random bits cannot be guessed or
found in a dictionary, so a fast unsalted hash loses nothing — and it lets a key be found
by an indexed equality lookup on its hash instead of trying every row.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tickets.accounts import Role, User
from tickets.audit import ConfigChanged, record_change
from tickets.db import Base, UTCDateTime
from tickets.errors import Forbidden, NotFound, ValidationFailed
from tickets.upsert import insert_for

SCOPES = ("open311", "read")  # open311: create requests; read: see their details (description, place)
PREFIX = "hk_"
PREFIX_LENGTH = 8
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,79}")
# Writing the last use on every request would turn each read into a write; a minute is
# precise enough to tell a key in use from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKey(Base):
    """A key an outside client sends as ``api_key``; the key itself is never stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))  # unique without regard to case: see below
    scopes: Mapped[str] = mapped_column(String(100))  # comma-separated, from SCOPES
    key_prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# "Zalo" and "zalo" are one name (find_key compares without case): the database refuses the
# second even when two administrators issue them at the same moment. The index also serves
# find_key's lookup.
NAME_INDEX = Index("uq_api_keys_lower_name", func.lower(ApiKey.name), unique=True)
NAME_TAKEN = "already used by another key"


def hash_key(plaintext: str) -> str:
    """The SHA-256 (hex) under which a key is stored and looked up."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def parse_scopes(scopes: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Scopes from "open311,read" or a list, in SCOPES order; anything unknown is refused."""
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes or [])
    wanted = {str(s).strip().lower() for s in items if str(s).strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown or not wanted:
        raise ValidationFailed("Unknown or missing scopes",
                               {"scopes": f"one or more of {', '.join(SCOPES)}"
                                          + (f"; unknown: {', '.join(unknown)}" if unknown else "")})
    return [s for s in SCOPES if s in wanted]


def find_key(session: Session, name: str) -> ApiKey | None:
    """The key named ``name`` (names are compared without regard to case)."""
    return session.scalar(select(ApiKey).where(func.lower(ApiKey.name) == name.strip().lower()))


def issue_key(session: Session, name: str, scopes: str | list[str], now: datetime,
              by: User | None = None) -> tuple[ApiKey, str]:
    """A new key named ``name``; the plaintext is returned this once and never again.

    A name already used (even by a revoked key) is refused: a client's key is replaced by
    revoking it and issuing one under a new name, so nothing is overwritten by mistake.
    """
    name = (name or "").strip()
    problems: dict[str, str] = {}
    if not NAME.fullmatch(name):
        problems["name"] = "2–80 letters, digits, '.', '_' or '-', starting with a letter or digit"
    elif find_key(session, name) is not None:
        problems["name"] = NAME_TAKEN
    try:
        scope_list = parse_scopes(scopes)
    except ValidationFailed as exc:
        problems.update(exc.fields)
    if problems:
        raise _invalid(problems)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    # The check above names the problem early; this insert is the guarantee. A name taken by
    # a concurrent transaction since makes it insert nothing (it waits for that transaction
    # to end), and this transaction stays usable for the caller to roll back or go on.
    key_id = session.scalar(
        insert_for(session, ApiKey)
        .values(name=name, scopes=",".join(scope_list), key_prefix=plaintext[:PREFIX_LENGTH],
                key_hash=hash_key(plaintext), created_at=now, created_by_id=by.id if by is not None else None)
        .on_conflict_do_nothing(index_elements=NAME_INDEX.expressions)
        .returning(ApiKey.id))
    if key_id is None:
        raise _invalid({"name": NAME_TAKEN})
    return session.get(ApiKey, key_id), plaintext


def _invalid(problems: dict[str, str]) -> ValidationFailed:
    return ValidationFailed("The API key is not valid: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                            problems)


def verify_key(session: Session, plaintext: str | None, scope: str | None, now: datetime) -> ApiKey | None:
    """The active key ``plaintext`` is, if it holds ``scope`` (any scope when None); else None.

    The key is found by its hash, never compared character by character, so the time taken
    reveals nothing about how much of a guess was right. ``last_used_at`` moves at most once
    a minute (the caller commits).
    """
    if not plaintext or not plaintext.startswith(PREFIX) or len(plaintext) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))
    if key is None or key.revoked_at is not None or (scope is not None and not key.has_scope(scope)):
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.flush()
    return key


def revoke_key(session: Session, name: str, now: datetime) -> ApiKey:
    """Stop the key named ``name`` from working (a key already revoked keeps its date)."""
    key = find_key(session, name)
    if key is None:
        raise NotFound("No API key has this name", {"name": name[:80]})
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, active and revoked, by name."""
    return list(session.scalars(select(ApiKey).order_by(func.lower(ApiKey.name))))


def key_record(key: ApiKey) -> dict[str, Any]:
    """A key as lists and the audit log show it: never the key nor its hash."""
    return {"name": key.name, "key_prefix": key.key_prefix, "scopes": key.scope_list,
            "created_by": key.created_by.username if key.created_by else None,
            "revoked": key.revoked_at is not None}


# ---- administration: the same verbs, checked and audited -------------------------------------

def _require_admin(actor: Any) -> None:
    # An administrator, or the system itself (the `flask apikeys` command run on the server).
    if getattr(actor, "role", None) not in (Role.ADMIN, "system"):
        raise Forbidden("Only administrators may do this")


def create_key(session: Session, actor: Any, now: datetime, *, name: str,
               scopes: str | list[str]) -> tuple[ApiKey, str, list[ConfigChanged]]:
    """Issue a key on behalf of ``actor`` and record it in the audit log (without the secret)."""
    _require_admin(actor)
    key, plaintext = issue_key(session, name, scopes, now, by=actor if isinstance(actor, User) else None)
    return key, plaintext, [record_change(session, actor, "api_key", key.name, "create", None, key_record(key), now)]


def withdraw_key(session: Session, actor: Any, now: datetime, name: str) -> tuple[ApiKey, list[ConfigChanged]]:
    """Revoke a key on behalf of ``actor`` and record it (nothing is recorded when it was already revoked)."""
    _require_admin(actor)
    key = find_key(session, name)
    before = key_record(key) if key is not None else None
    key = revoke_key(session, name, now)
    after = key_record(key)
    if before == after:
        return key, []
    return key, [record_change(session, actor, "api_key", key.name, "deactivate", before, after, now)]
