"""115: which hospitals can take a patient at a point, nearest by estimated travel time."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.spatial import cKDTree

from routing.geo import EARTH_RADIUS_M, check_point, haversine_m
from routing.reasons import Reason

# How many straight-line-nearest suitable hospitals the travel-time estimate re-ranks: with
# a pluggable estimator the nearest by air need not be the fastest by road.
CANDIDATE_POOL = 8


class TravelTimeEstimator(Protocol):
    """Road distance and travel time between two points; a routing service can stand in."""

    def estimate(self, lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
        """(road distance in metres, travel time in seconds)."""
        ...


@dataclass(frozen=True)
class RoadFactorEstimator:
    """Straight-line distance × a road factor, driven at urban then open-road speed."""

    road_factor: float = 1.4
    urban_m: float = 5_000.0
    urban_kmh: float = 30.0
    open_kmh: float = 45.0

    def estimate(self, lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
        """(road metres, seconds): the first ``urban_m`` at urban speed, the rest faster."""
        road = haversine_m(lat1, lon1, lat2, lon2) * self.road_factor
        urban = min(road, self.urban_m)
        seconds = urban / (self.urban_kmh / 3.6) + (road - urban) / (self.open_kmh / 3.6)
        return road, seconds


DEFAULT_ESTIMATOR = RoadFactorEstimator()


def _normal(value: str) -> str:
    # "Obstetric" and "obstetrics" are the same specialty to a dispatcher.
    value = value.strip().lower()
    return value[:-1] if value.endswith("s") else value


def has_specialty(hospital: Any, specialty: str | None) -> bool:
    """Whether the hospital lists the specialty (any when none is asked)."""
    if not specialty:
        return True
    wanted = _normal(specialty)
    return any(_normal(s) == wanted for s in (getattr(hospital, "specialties", None) or ()))


def is_suitable(hospital: Any, specialty: str | None = None, exclude: Iterable[str] = ()) -> bool:
    """Emergency-capable, available (not full or diverting), active, with the specialty, not excluded."""
    return (bool(getattr(hospital, "emergency", True)) and bool(getattr(hospital, "available", True))
            and bool(getattr(hospital, "active", True)) and hospital.code not in set(exclude)
            and has_specialty(hospital, specialty))


@dataclass(frozen=True)
class Candidate:
    """A hospital that can take the patient, how far and how long, and why it is listed."""

    code: str
    name: str
    distance_m: float  # by road, as estimated
    eta_s: float
    straight_m: float
    reasons: tuple[Reason, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"code": self.code, "name": self.name, "distance_km": round(self.distance_m / 1000, 2),
                "eta_minutes": round(self.eta_s / 60, 1), "straight_km": round(self.straight_m / 1000, 2),
                "reasons": [r.to_dict() for r in self.reasons]}


def _unit_vectors(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lats), np.radians(lons)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


class HospitalIndex:
    """A k-d tree over hospitals on the unit sphere, for nearest-suitable queries."""

    def __init__(self, hospitals: Iterable[Any]) -> None:
        # Sorted by code so that equal distances come back in a fixed order.
        self.hospitals: list[Any] = sorted(hospitals, key=lambda h: h.code)
        lats = np.array([float(h.lat) for h in self.hospitals], dtype=float)
        lons = np.array([float(h.lon) for h in self.hospitals], dtype=float)
        self._tree = cKDTree(_unit_vectors(lats, lons)) if self.hospitals else None

    def __len__(self) -> int:
        return len(self.hospitals)

    def nearest(self, lat: float, lon: float, k: int = 1,
                predicate: Callable[[Any], bool] | None = None) -> list[tuple[Any, float]]:
        """Up to ``k`` (hospital, straight-line metres) passing ``predicate``, nearest first.

        Asks the tree for more neighbours, doubling, until ``k`` suitable ones are found or
        every hospital was looked at.
        """
        if self._tree is None or k <= 0:
            return []
        point = _unit_vectors(np.array([lat]), np.array([lon]))[0]
        n = len(self.hospitals)
        asked = min(n, max(4 * k, 16))
        while True:
            chords, indices = self._tree.query(point, k=asked)
            chords, indices = np.atleast_1d(chords), np.atleast_1d(indices)
            found = []
            for chord, i in zip(chords.tolist(), indices.tolist(), strict=True):
                hospital = self.hospitals[i]
                if predicate is None or predicate(hospital):
                    found.append((2 * EARTH_RADIUS_M * math.asin(min(1.0, chord / 2)), i, hospital))
            if len(found) >= k or asked >= n:
                found.sort(key=lambda x: (x[0], x[1]))  # the tree's order of exact ties is not fixed
                return [(h, d) for d, _, h in found[:k]]
            asked = min(n, asked * 2)


def rank(lat: object, lon: object, hospitals: Sequence[Any] | HospitalIndex, specialty: str | None = None,
         exclude: Iterable[str] = (), estimator: TravelTimeEstimator | None = None,
         limit: int | None = None) -> list[Candidate]:
    """Suitable hospitals by estimated travel time, then road distance, then code."""
    lat_f, lon_f = check_point(lat, lon)
    estimator = estimator or DEFAULT_ESTIMATOR
    excluded = set(exclude)

    def suitable(hospital: Any) -> bool:
        return is_suitable(hospital, specialty, excluded)

    if isinstance(hospitals, HospitalIndex):
        pool = [h for h, _ in hospitals.nearest(lat_f, lon_f, max(CANDIDATE_POOL, limit or 0), suitable)]
    else:
        pool = [h for h in hospitals if suitable(h)]
    candidates = []
    for hospital in pool:
        road, seconds = estimator.estimate(lat_f, lon_f, float(hospital.lat), float(hospital.lon))
        straight = haversine_m(lat_f, lon_f, float(hospital.lat), float(hospital.lon))
        candidates.append(Candidate(hospital.code, hospital.name, road, seconds, straight,
                                    _reasons(hospital, road, seconds, specialty)))
    candidates.sort(key=lambda c: (round(c.eta_s, 3), round(c.distance_m, 3), c.code))
    return candidates[:limit] if limit is not None else candidates


def _reasons(hospital: Any, road: float, seconds: float, specialty: str | None) -> tuple[Reason, ...]:
    reasons = [Reason("travel", f"Cách khoảng {road / 1000:.1f} km, dự kiến {seconds / 60:.0f} phút",
                      f"About {road / 1000:.1f} km away, about {seconds / 60:.0f} minutes",
                      {"distance_km": round(road / 1000, 2), "eta_minutes": round(seconds / 60, 1)})]
    if specialty:
        reasons.append(Reason("specialty", f"Có chuyên khoa {specialty}", f"Has {specialty}",
                              {"specialty": specialty}))
    return tuple(reasons)
