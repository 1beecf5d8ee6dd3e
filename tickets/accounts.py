"""People who use the consoles and the API: accounts, roles and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, bindparam, false, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tickets.db import Base, UTCDateTime, utcnow
from tickets.directory import ContactPoint, Hospital
from tickets.errors import ValidationFailed
from tickets.phones import is_mobile, normalise_phone


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
    # SLA escalation (tickets/escalation.py): a lead of a contact point (staff) or hospital is
    # told first when a clock nears or passes its due time; ``phone`` (E.164, a mobile) is
    # where escalation SMS go, for leads and supervisors.
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    phone: Mapped[str | None] = mapped_column(String(20))

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
    lead: bool | None = None,
    phone: str | None = None,
) -> User:
    """Create the account, or update it when the username exists (idempotent).

    ``lead`` and ``phone`` (for SLA escalation) are left as they are when None; ``phone=""``
    removes the number. Only staff and hospital users can be leads.
    """
    if role not in Role.__members__.values():
        raise ValidationFailed("Unknown role", {"role": f"must be one of {', '.join(Role)}"})
    lead, phone = _alert_settings(role, lead, phone)
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
    _set_alerts(user, lead, phone)
    session.flush()
    return user


def _set_alerts(user: User, lead: bool | None, phone: str | None) -> None:
    if lead is not None:
        user.is_lead = lead
    if phone is not None:
        user.phone = phone or None


def _alert_settings(role: str, lead: bool | None, phone: str | None) -> tuple[bool | None, str | None]:
    """``lead`` and ``phone`` checked for ``role``: only staff and hospital users lead (an
    account moved to another role leads nothing any more), and alerts need a mobile."""
    if lead and role not in (Role.STAFF, Role.HOSPITAL):
        raise ValidationFailed("Only staff and hospital users can be leads",
                               {"lead": "a lead belongs to a contact point or a hospital"})
    if role not in (Role.STAFF, Role.HOSPITAL):
        lead = False
    if not phone:
        return lead, phone  # None: unchanged; "": removed
    number = normalise_phone(phone, field="phone")
    if not is_mobile(number):
        raise ValidationFailed("SMS alerts need a mobile number", {"phone": f"not a mobile number: {phone!r}"})
    return lead, number


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


# Asked on every incoming call, so built once: building a statement costs more than running it.
_ON_DUTY = select(func.count()).select_from(User).where(User.role == bindparam("role"), User.on_duty, User.active)


def on_duty_count(session: Session, role: str) -> int:
    """How many active users of ``role`` are taking calls now."""
    return session.scalar(_ON_DUTY, {"role": role}) or 0


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (stored as a salted scrypt hash, like ``save_user``)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "Password too short", {"password": f"at least {MIN_PASSWORD_LENGTH} characters"}
        )
    user.password_hash = generate_password_hash(password)
