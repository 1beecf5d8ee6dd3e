"""Statuses and the transitions between them: the one table every path obeys."""

from __future__ import annotations

from enum import StrEnum

from tickets.errors import InvalidTransition

LINES = ("1022", "115")
CHANNELS = ("phone", "sms", "web", "app", "walk_in", "email", "zalo")
PRIORITIES = ("emergency", "high", "normal", "low")
SLA_STATES = ("ok", "warning", "breached", "met")


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS})
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED})

# action -> (statuses it may start from, status it leads to; None keeps the status)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    "assign": (frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS}), Status.ASSIGNED),
    "accept": (frozenset({Status.ASSIGNED}), Status.IN_PROGRESS),
    "transfer": (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), Status.ASSIGNED),
    "resolve": (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), Status.RESOLVED),
    "reopen": (frozenset({Status.RESOLVED, Status.CLOSED}), Status.ASSIGNED),
    "close": (frozenset({Status.RESOLVED}), Status.CLOSED),
    "cancel": (frozenset({Status.NEW, Status.ASSIGNED}), Status.CANCELLED),
    "comment": (frozenset(Status) - {Status.CANCELLED}, None),
    # Waiting on the caller pauses the SLA clocks without leaving the status.
    "ask_caller": (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), None),
    "resume": (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), None),
}


def allowed_actions(status: str) -> list[str]:
    """The actions the lifecycle permits from this status (whoever asks)."""
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def next_status(status: str, action: str) -> str:
    """The status after ``action``, or InvalidTransition saying what is allowed instead."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        allowed = allowed_actions(status)
        raise InvalidTransition(
            f"Cannot {action} a ticket that is {status}; allowed now: "
            f"{', '.join(allowed) if allowed else 'nothing (final status)'}",
            {"status": status},
        )
    return str(target or status)
