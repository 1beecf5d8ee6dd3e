"""Points, distances and district polygons on the sphere, in plain Python and numpy."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from routing.errors import RoutingInputError

EARTH_RADIUS_M = 6_371_008.8
# Vietnam with its islands, generously: a point outside is a mistake (swapped lat/lon, 0/0).
VIETNAM_BBOX = (8.0, 23.5, 102.0, 110.0)  # min lat, max lat, min lon, max lon


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_point(lat: object, lon: object, bbox: tuple[float, float, float, float] = VIETNAM_BBOX
                ) -> tuple[float, float]:
    """Return (lat, lon) as floats or raise ``RoutingInputError`` naming the bad field."""
    values = []
    for name, value in (("lat", lat), ("lon", lon)):
        if isinstance(value, bool):
            raise RoutingInputError(name, "must be a number")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise RoutingInputError(name, "must be a number") from None
        if not math.isfinite(number):
            raise RoutingInputError(name, "must be a finite number")
        values.append(number)
    lat_f, lon_f = values
    min_lat, max_lat, min_lon, max_lon = bbox
    if not min_lat <= lat_f <= max_lat:
        raise RoutingInputError("lat", f"{lat_f} is outside Vietnam ({min_lat}–{max_lat})")
    if not min_lon <= lon_f <= max_lon:
        raise RoutingInputError("lon", f"{lon_f} is outside Vietnam ({min_lon}–{max_lon})")
    return lat_f, lon_f


def _in_ring(lat: float, lon: float, ring: Sequence[Sequence[float]]) -> bool:
    # Ray casting along the parallel; ring is [(lon, lat), ...] as in GeoJSON.
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@dataclass(frozen=True)
class Boundary:
    """One district's (multi)polygon, with its edges kept as arrays for distance queries."""

    district_code: str
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # polygon → rings → points
    bbox: tuple[float, float, float, float] = field(init=False)  # min lat, max lat, min lon, max lon
    _edges: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        points = [p for polygon in self.polygons for ring in polygon for p in ring]
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        object.__setattr__(self, "bbox", (min(lats), max(lats), min(lons), max(lons)))
        edges = [
            (ring[i - 1][1], ring[i - 1][0], ring[i][1], ring[i][0])
            for polygon in self.polygons for ring in polygon for i in range(1, len(ring))
        ]
        object.__setattr__(self, "_edges", np.asarray(edges, dtype=float))

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point is inside (outer ring minus holes) any of the polygons."""
        min_lat, max_lat, min_lon, max_lon = self.bbox
        if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
            return False
        for outer, *holes in self.polygons:
            if _in_ring(lat, lon, outer) and not any(_in_ring(lat, lon, h) for h in holes):
                return True
        return False

    def edge_distance_m(self, lat: float, lon: float) -> float:
        """Distance from the point to the nearest edge, in metres (flat-earth, fine for km)."""
        e = self._edges
        kx = math.cos(math.radians(lat)) * EARTH_RADIUS_M * math.pi / 180
        ky = EARTH_RADIUS_M * math.pi / 180
        ax, ay = (e[:, 1] - lon) * kx, (e[:, 0] - lat) * ky
        bx, by = (e[:, 3] - lon) * kx, (e[:, 2] - lat) * ky
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        px, py = ax + t * dx, ay + t * dy
        return float(np.sqrt((px * px + py * py).min()))


def _polygons(geometry: dict) -> tuple:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        coordinates = [coordinates]
    elif geometry["type"] != "MultiPolygon":
        raise ValueError(f"unsupported geometry {geometry['type']}")
    return tuple(
        tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in polygon)
        for polygon in coordinates
    )


def boundaries_from_geojson(data: dict, code_property: str = "district_code") -> dict[str, Boundary]:
    """District boundaries from a GeoJSON FeatureCollection, by district code."""
    return {
        str(f["properties"][code_property]): Boundary(str(f["properties"][code_property]),
                                                      _polygons(f["geometry"]))
        for f in data.get("features", [])
    }


def load_boundaries(path: Path | str) -> dict[str, Boundary]:
    """Read ``districts.geojson``."""
    with open(path, encoding="utf-8") as f:
        return boundaries_from_geojson(json.load(f))


def nearest(lat: float, lon: float, points: Iterable[tuple[str, float, float]]) -> list[tuple[float, str]]:
    """(distance_m, key) for every (key, lat, lon), nearest first, ties by key."""
    return sorted((haversine_m(lat, lon, p_lat, p_lon), key) for key, p_lat, p_lon in points)
