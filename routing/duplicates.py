"""Possible duplicates of a new request among open tickets: same matter nearby, or same caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from routing.geo import haversine_m
from routing.reasons import Reason

OPEN_STATUSES = frozenset({"new", "assigned", "in_progress"})


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open ticket that may be about the same thing, and why."""

    ticket_id: Any
    reasons: tuple[Reason, ...]
    distance_m: float | None
    same_caller: bool
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"ticket_id": self.ticket_id, "same_caller": self.same_caller,
                "distance_m": None if self.distance_m is None else round(self.distance_m),
                "created_at": self.created_at.isoformat(), "reasons": [r.to_dict() for r in self.reasons]}


def _aware(moment: datetime) -> datetime:
    # Naive times are taken as UTC, so that naive and aware values compare.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _distance(a: Any, b: Any) -> float | None:
    points = (getattr(a, "lat", None), getattr(a, "lon", None), getattr(b, "lat", None), getattr(b, "lon", None))
    if any(p is None for p in points):
        return None
    return haversine_m(*(float(p) for p in points))


def find_candidates(new: Any, open_tickets: Iterable[Any], now: datetime, radius_m: float = 300.0,
                    days: float = 3.0) -> list[DuplicateCandidate]:
    """Open tickets of the same category within ``radius_m`` or in the same ward, created in the
    last ``days``; and any open ticket of the same caller. Same caller first, then newest."""
    since = _aware(now) - timedelta(days=days)
    phone = (getattr(new, "caller_phone", None) or "").strip()
    found = []
    for ticket in open_tickets:
        if getattr(ticket, "id", None) is not None and ticket.id == getattr(new, "id", None):
            continue
        if getattr(ticket, "status", None) not in OPEN_STATUSES:
            continue
        reasons = []
        same_caller = bool(phone) and (getattr(ticket, "caller_phone", None) or "").strip() == phone
        if same_caller:
            reasons.append(Reason("same_caller", "Cùng số điện thoại người gọi còn phiếu đang mở",
                                  "The same caller has this ticket open", {"caller_phone": phone}))
        distance = _distance(new, ticket)
        created = _aware(ticket.created_at)
        same_matter = (getattr(new, "category", None) is not None
                       and getattr(ticket, "category", None) == new.category and since <= created <= _aware(now))
        if same_matter and distance is not None and distance <= radius_m:
            reasons.append(Reason("nearby", f"Cùng lĩnh vực, cách {distance:.0f} m",
                                  f"Same category, {distance:.0f} m away", {"distance_m": round(distance)}))
        elif same_matter and getattr(new, "ward_code", None) and ticket.ward_code == new.ward_code:
            reasons.append(Reason("same_ward", "Cùng lĩnh vực, cùng phường/xã", "Same category, same ward",
                                  {"ward_code": new.ward_code}))
        if reasons:
            found.append(DuplicateCandidate(ticket.id, tuple(reasons), distance, same_caller, created))
    found.sort(key=lambda c: (not c.same_caller, -c.created_at.timestamp(), str(c.ticket_id)))
    return found
