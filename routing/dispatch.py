"""115 re-dispatch: the next hospital after refusals or silence, and when to escalate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from routing.hospitals import Candidate, HospitalIndex, TravelTimeEstimator, rank
from routing.reasons import Reason

MAX_FAILURES = 3


def _point(location: Any) -> tuple[object, object]:
    if isinstance(location, tuple | list) and len(location) == 2:
        return location[0], location[1]
    if isinstance(location, dict):
        return location.get("lat"), location.get("lon")
    return getattr(location, "lat", None), getattr(location, "lon", None)


def next_hospital(ticket_location: Any, hospitals: Sequence[Any] | HospitalIndex, tried: Iterable[str] = (),
                  specialty: str | None = None,
                  estimator: TravelTimeEstimator | None = None) -> Candidate | None:
    """The best hospital not yet tried; without the specialty if no hospital with it is left.

    ``ticket_location`` is (lat, lon), a dict or any object with ``lat`` and ``lon``.
    Returns ``None`` when no suitable hospital remains: escalate to a person.
    """
    lat, lon = _point(ticket_location)
    tried = list(tried)
    found = rank(lat, lon, hospitals, specialty, exclude=tried, estimator=estimator, limit=1)
    if found:
        return found[0]
    if not specialty:
        return None
    general = rank(lat, lon, hospitals, None, exclude=tried, estimator=estimator, limit=1)
    if not general:
        return None
    note = Reason("specialty", f"Không còn bệnh viện có chuyên khoa {specialty}: chọn bệnh viện cấp cứu gần nhất",
                  f"No hospital with {specialty} left: the nearest emergency hospital",
                  {"specialty": specialty, "tried": tried})
    return replace(general[0], reasons=general[0].reasons + (note,))


def should_escalate(failures: int | Sequence[Any], max_failures: int = MAX_FAILURES) -> bool:
    """Whether refusals or unanswered dispatches (a count or a list of them) call for a supervisor."""
    count = failures if isinstance(failures, int) else len(failures)
    return count >= max_failures
