"""People who use the consoles and the API: accounts, roles and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tickets.db import Base, UTCDateTime, utcnow
from tickets.directory import ContactPoint, Hospital
from tickets.errors import ValidationFailed


class Role(StrEnum):
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    STAFF = "staff"
    HOSPITAL = "hospital"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


TOKEN_LIFETIME = timedelta(days=30)
MIN_PASSWORD_LENGTH = 8


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Operators and dispatchers take calls only while on duty; when nobody is, 1022 calls
    # go to voicemail with a call-back flag instead of waiting in an empty queue.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)

    contact_point: Mapped[ContactPoint | None] = relationship(lazy="joined")
    hospital: Mapped[Hospital | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        """How the user appears in a ticket's history."""
        return self.display_name or self.username

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # The session protocol Flask-Login expects, written out so the domain needs no Flask.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def save_user(
    session: Session,
    username: str,
    *,
    role: str,
    password: str,
    contact_point: str | None = None,
    hospital: str | None = None,
    display_name: str | None = None,
) -> User:
    """Create the account, or update it when the username exists (idempotent)."""
    if role not in Role.__members__.values():
        raise ValidationFailed("Unknown role", {"role": f"must be one of {', '.join(Role)}"})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "Password too short", {"password": f"at least {MIN_PASSWORD_LENGTH} characters"}
        )
    cp = h = None
    if role == Role.STAFF:
        cp = session.scalar(select(ContactPoint).where(ContactPoint.code == contact_point))
        if cp is None:
            raise ValidationFailed(
                "Staff need a contact point", {"contact_point": "unknown or missing"}
            )
    if role == Role.HOSPITAL:
        h = session.scalar(select(Hospital).where(Hospital.code == hospital))
        if h is None:
            raise ValidationFailed("Hospital users need a hospital", {"hospital": "unknown or missing"})
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username)
        session.add(user)
    user.role = role
    user.password_hash = generate_password_hash(password)
    user.contact_point = cp
    user.hospital = h
    user.active = True
    if display_name is not None:
        user.display_name = display_name
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def issue_token(session: Session, user: User, now: datetime) -> str:
    """A new bearer token for the user; the plain value is returned only this once."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_hash_token(token), created_at=now,
                         expires_at=now + TOKEN_LIFETIME))
    session.flush()
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user a bearer token belongs to, or None when unknown or expired."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def set_on_duty(session: Session, user: User, on_duty: bool) -> None:
    """Start or end a shift on the phones."""
    user.on_duty = on_duty
    session.flush()


def on_duty_count(session: Session, role: str) -> int:
    """How many active users of ``role`` are taking calls now."""
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(User).where(
        User.role == role, User.on_duty, User.active)) or 0
