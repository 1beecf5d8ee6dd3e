"""Who may read and do what: the single place the role table of CONTRACT.md lives.

Every service and query goes through here, so the API, the consoles and the sockets
cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true

from tickets.accounts import Role, User
from tickets.errors import Forbidden, NotFound
from tickets.models import Ticket


@dataclass(frozen=True)
class SystemActor:
    """Work done by the system itself (a webhook, a job), recorded under its label."""

    label: str
    id: None = None
    role: str = "system"


Actor = User | SystemActor

_OPERATOR = {"create", "update", "assign", "comment", "cancel"}
_DISPATCHER = {"create", "update", "assign", "comment", "cancel", "close"}
ACTIONS_BY_ROLE: dict[str, frozenset[str]] = {
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.DISPATCHER: frozenset(_DISPATCHER),
    Role.STAFF: frozenset({"accept", "comment", "transfer", "resolve", "ask_caller", "resume"}),
    Role.HOSPITAL: frozenset({"accept", "comment", "resolve"}),
    Role.SUPERVISOR: frozenset(_OPERATOR | _DISPATCHER | {"reopen", "close", "ask_caller", "resume"}),
    Role.ADMIN: frozenset(
        {"create", "update", "assign", "accept", "comment", "transfer", "resolve", "reopen", "close",
         "cancel", "ask_caller", "resume"}
    ),
}
LINES_BY_CREATOR_ROLE: dict[str, frozenset[str]] = {
    Role.OPERATOR: frozenset({"1022", "115"}),  # a 115 call can land on the 1022 line
    Role.DISPATCHER: frozenset({"115"}),
    Role.SUPERVISOR: frozenset({"1022", "115"}),
    Role.ADMIN: frozenset({"1022", "115"}),
}


def readable_tickets(user: Actor) -> ColumnElement[bool]:
    """A SQL condition selecting exactly the tickets ``user`` may read."""
    role = user.role
    if role in (Role.SUPERVISOR, Role.ADMIN, "system"):
        return true()
    own = Ticket.created_by_id == user.id
    if role == Role.OPERATOR:
        return or_(Ticket.line == "1022", own)
    if role == Role.DISPATCHER:
        return or_(Ticket.line == "115", own)
    if role == Role.STAFF and user.contact_point_id is not None:
        return Ticket.contact_point_id == user.contact_point_id
    if role == Role.HOSPITAL and user.hospital_id is not None:
        return Ticket.hospital_id == user.hospital_id
    return false()


def can_read(user: Actor, ticket: Ticket) -> bool:
    """Whether ``user`` may see ``ticket`` at all (the Python twin of readable_tickets)."""
    role = user.role
    if role in (Role.SUPERVISOR, Role.ADMIN, "system"):
        return True
    # Operators and dispatchers also read what they opened on the other line; other roles
    # never keep that right (an operator moved to a department sees only its tickets).
    own = ticket.created_by_id is not None and ticket.created_by_id == user.id
    if role == Role.OPERATOR:
        return ticket.line == "1022" or own
    if role == Role.DISPATCHER:
        return ticket.line == "115" or own
    if role == Role.STAFF:
        return user.contact_point_id is not None and ticket.contact_point_id == user.contact_point_id
    if role == Role.HOSPITAL:
        return user.hospital_id is not None and ticket.hospital_id == user.hospital_id
    return False


def may(user: Actor, action: str) -> bool:
    """Whether the role allows ``action`` on tickets it can read."""
    return user.role == "system" or action in ACTIONS_BY_ROLE.get(user.role, frozenset())


def authorize(user: Actor, ticket: Ticket, action: str = "read") -> None:
    """Refuse unless ``user`` may do ``action`` ("read" or a lifecycle action) to ``ticket``.

    A ticket the user may not read is reported as missing, so its existence leaks nothing.
    """
    if not can_read(user, ticket):
        raise NotFound("Ticket not found")
    if action != "read" and not may(user, action):
        raise Forbidden(f"Your role ({user.role}) may not {action} tickets")


def authorize_create(user: Actor, line: str) -> None:
    """Refuse unless ``user`` may open a ticket on ``line``."""
    if user.role == "system":
        return
    if line not in LINES_BY_CREATOR_ROLE.get(user.role, frozenset()):
        raise Forbidden(f"Your role ({user.role}) may not open tickets on line {line}")
