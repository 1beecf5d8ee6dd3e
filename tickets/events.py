"""Domain events: what services report happened, for the app to publish after commit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TicketChanged:
    """A ticket changed; ``action`` is the history action that recorded it."""

    ticket_id: int
    action: str
    event_id: int | None = None  # the history row that recorded it


@dataclass(frozen=True)
class TicketOpened(TicketChanged):
    """A new ticket exists."""


@dataclass(frozen=True)
class LateAcknowledgement:
    """A hospital acknowledged a dispatch that had already gone to another hospital."""

    ticket_id: int
    hospital: str
    current_hospital: str | None
