"""The audit log of administration, and the configuration version that tells caches to refresh.

Every change made in the administration goes through ``record_change``: in the same
transaction as the change it appends one audit row (who, when, what, before → after, with
secrets removed) and bumps the single ``config_version`` row. Processes that cache what
admins edit (the routing snapshot, the classifier's keywords) compare the version they
built from with the row — one primary-key read — and rebuild when it moved, so a change
is used by the next request or job in every web process and worker, without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.db import Base, JSONType, UTCDateTime

ACTIONS = ("create", "update", "deactivate", "delete")
ENTITIES = ("user", "contact_point", "hospital", "category", "routing_rule", "sla_policy", "canned_response",
            "api_key", "calendar_day")
# Never written to the log, at any depth: a leaked audit table must reveal no credential.
SECRET_KEYS = {"password", "password_hash", "token", "token_hash", "secret", "api_key", "auth_token"}
SECRET_SUFFIXES = ("_hash", "_token", "_secret", "_password")
REDACTED = "[hidden]"


class AuditEntry(Base):
    """One administrative change: who made it, when, to what, and the record before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_key", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class ConfigVersion(Base):
    """A single row counting administrative changes; caches are keyed on its value."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class ConfigChanged:
    """An administrator changed the directory, rules, policies, accounts or responses."""

    entity: str
    key: str
    action: str
    version: int
    audit_id: int


def scrub(value: Any) -> Any:
    """``value`` with every secret-looking key replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if _secret(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _secret(key: str) -> bool:
    key = key.lower()
    return key in SECRET_KEYS or key.endswith(SECRET_SUFFIXES)


def config_version(session: Session) -> int:
    """The current configuration version (0 before the first administrative change)."""
    return session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1)) or 0


def bump_config_version(session: Session, now: datetime) -> int:
    """Move the version on, in the caller's transaction; returns the new value.

    An UPDATE … SET version = version + 1 takes the row lock, so two admins saving at once
    get two versions, never one.
    """
    moved = session.execute(update(ConfigVersion).where(ConfigVersion.id == 1)
                            .values(version=ConfigVersion.version + 1, changed_at=now)).rowcount
    if not moved:  # a database created without the migration's first row
        session.execute(insert(ConfigVersion).values(id=1, version=1, changed_at=now))
    return config_version(session)


def record_change(session: Session, actor: Any, entity: str, key: str, action: str,
                  before: dict[str, Any] | None, after: dict[str, Any] | None, now: datetime) -> ConfigChanged:
    """Append the audit row for one change and bump the configuration version (no commit)."""
    if entity not in ENTITIES:
        raise ValueError(f"unknown audited entity {entity!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown audited action {action!r}")
    entry = AuditEntry(at=now, actor_id=getattr(actor, "id", None), actor_label=_label(actor),
                       entity=entity, entity_key=str(key)[:100], action=action,
                       before=scrub(before) if before is not None else None,
                       after=scrub(after) if after is not None else None)
    session.add(entry)
    session.flush()
    return ConfigChanged(entity, str(key), action, bump_config_version(session, now), entry.id)


def _label(actor: Any) -> str:
    label = getattr(actor, "label", None) or getattr(actor, "username", None) or "system"
    return str(label)[:200]


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    total: int
    page: int
    per_page: int


def list_changes(session: Session, *, entity: str | None = None, key: str | None = None,
                 actor_id: int | None = None, since: datetime | None = None, until: datetime | None = None,
                 page: int = 1, per_page: int = 50) -> AuditPage:
    """Audit rows matching the filters, newest first, one page of them."""
    conditions = []
    if entity:
        conditions.append(AuditEntry.entity == entity)
    if key:
        conditions.append(AuditEntry.entity_key == key)
    if actor_id is not None:
        conditions.append(AuditEntry.actor_id == actor_id)
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    if until is not None:
        conditions.append(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = session.scalars(select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return AuditPage(list(rows), total, page, per_page)


def edited_entities(session: Session) -> set[str]:
    """The kinds of records an administrator has changed (they have audit rows)."""
    return set(session.scalars(select(AuditEntry.entity).distinct()))
