"""Where the caller is: from a ward code, a point, or words, with how sure we are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from routing.errors import RoutingInputError
from routing.geo import check_point, haversine_m
from routing.places import DISTRICT, WARD, PlaceIndex, PlaceMatch
from routing.reasons import Reason

if TYPE_CHECKING:
    from routing.directory import Directory

BOUNDARY_M = 500.0
# A point this close outside the province is taken as the nearest district (the polygons
# are generalised by tens of metres; GPS fixes drift).
OUTSIDE_TOLERANCE_M = 2_000.0
# Without polygons, the nearest ward point decides; further than this it is not ours.
WARD_POINT_RANGE_M = 15_000.0


@dataclass(frozen=True)
class PlaceCandidate:
    """One place the caller may be in."""

    district_code: str | None
    ward_code: str | None = None
    confidence: float = 0.0
    distance_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"district_code": self.district_code, "ward_code": self.ward_code,
                "confidence": round(self.confidence, 3),
                "distance_m": None if self.distance_m is None else round(self.distance_m)}


@dataclass(frozen=True)
class Location:
    """The caller's ward and district as far as known; ``how`` says from what."""

    ward_code: str | None
    district_code: str | None
    how: str | None  # "ward_code", "point", "address", "description" or None
    confidence: float
    reason: Reason
    candidates: tuple[PlaceCandidate, ...] = ()
    near_boundary: bool = False
    lat: float | None = None
    lon: float | None = None
    places: tuple[str, ...] = field(default=())  # the words that named the place

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"ward_code": self.ward_code, "district_code": self.district_code, "how": self.how,
                "confidence": round(self.confidence, 3), "reason": self.reason.to_dict(),
                "candidates": [c.to_dict() for c in self.candidates],
                "near_boundary": self.near_boundary, "lat": self.lat, "lon": self.lon,
                "places": list(self.places)}


UNKNOWN = Location(None, None, None, 0.0, Reason(
    "location", "Không rõ người gọi ở đâu", "The caller's location is unknown"))


def locate(directory: Directory, ward_code: str | None = None, lat: object = None, lon: object = None,
           address: str | None = None, description: str | None = None,
           boundary_m: float = BOUNDARY_M) -> Location:
    """The best location from what was given: ward code, then point, then address, then description.

    Every field given is checked, even one a better field makes unnecessary.
    """
    if lat is not None or lon is not None:
        if lat is None or lon is None:
            raise RoutingInputError("lon" if lon is None else "lat", "give both lat and lon")
        check_point(lat, lon)
    if ward_code not in (None, ""):
        return from_ward_code(directory, str(ward_code))
    if lat is not None and lon is not None:
        return from_point(directory, lat, lon, boundary_m)
    if address and address.strip():
        found = from_text(directory, address, how="address")
        if found.how is not None:
            return found
    if description and description.strip():
        found = from_text(directory, description, how="description", strict=True)
        if found.how is not None:
            return found
    return UNKNOWN


def from_ward_code(directory: Directory, ward_code: str) -> Location:
    """The ward's own district; an unknown code is an input error."""
    ward = directory.wards.get(ward_code.strip())
    if ward is None:
        raise RoutingInputError("ward_code", f"unknown ward code {ward_code!r}")
    return Location(ward.code, ward.district_code, "ward_code", 1.0, Reason(
        "location", f"Mã phường/xã {ward.code} ({ward.name}) thuộc huyện {ward.district_code}",
        f"Ward code {ward.code} ({ward.name}) is in district {ward.district_code}",
        {"ward_code": ward.code, "district_code": ward.district_code}),
        candidates=(PlaceCandidate(ward.district_code, ward.code, 1.0),), lat=ward.lat, lon=ward.lon)


def _nearest_ward(directory: Directory, lat: float, lon: float,
                  district_code: str | None) -> tuple[str | None, float | None]:
    best: tuple[float, str] | None = None
    for ward in directory.wards.values():
        if ward.lat is None or ward.lon is None:
            continue
        if district_code is not None and ward.district_code != district_code:
            continue
        d = haversine_m(lat, lon, ward.lat, ward.lon)
        if best is None or (d, ward.code) < best:
            best = (d, ward.code)
    return (best[1], best[0]) if best else (None, None)


def from_point(directory: Directory, lat: object, lon: object, boundary_m: float = BOUNDARY_M) -> Location:
    """District by polygon (nearest ward point without polygons), ward by nearest ward point."""
    lat_f, lon_f = check_point(lat, lon)
    if not directory.boundaries:
        return _from_ward_points(directory, lat_f, lon_f)
    inside = sorted(code for code, b in directory.boundaries.items() if b.contains(lat_f, lon_f))
    edges = {code: b.edge_distance_m(lat_f, lon_f) for code, b in directory.boundaries.items()}
    if inside:
        district = inside[0]
        confidence = 0.95
        how_vi, how_en = "nằm trong ranh giới", "lies inside"
    else:
        district = min(edges, key=lambda c: (edges[c], c))
        if edges[district] > OUTSIDE_TOLERANCE_M:
            return Location(None, None, "point", 0.0, Reason(
                "location", f"Vị trí ({lat_f:.5f}, {lon_f:.5f}) nằm ngoài tỉnh",
                f"The point ({lat_f:.5f}, {lon_f:.5f}) is outside the province",
                {"nearest_district": district, "distance_m": round(edges[district])}),
                lat=lat_f, lon=lon_f)
        confidence = 0.6
        how_vi, how_en = f"cách ranh giới {edges[district]:.0f} m, gần nhất là", \
            f"is {edges[district]:.0f} m outside the boundary, nearest to"
    neighbours = sorted((edges[c], c) for c in edges if c != district and edges[c] <= boundary_m)
    ward, ward_m = _nearest_ward(directory, lat_f, lon_f, district)
    candidates = [PlaceCandidate(district, ward, confidence, 0.0 if inside else edges[district])]
    for distance, code in neighbours:
        candidates.append(PlaceCandidate(code, _nearest_ward(directory, lat_f, lon_f, code)[0],
                                         0.5, distance))
    data: dict[str, Any] = {"district_code": district, "ward_code": ward,
                            "ward_point_distance_m": None if ward_m is None else round(ward_m)}
    vi = f"Vị trí {how_vi} huyện {district}; phường/xã gần nhất {ward}"
    en = f"The point {how_en} district {district}; nearest ward {ward}"
    if neighbours:
        confidence = min(confidence, 0.6)
        others = ", ".join(f"{code} ({distance:.0f} m)" for distance, code in neighbours)
        vi += f"; gần ranh giới với {others}: cần xác nhận huyện"
        en += f"; near the boundary with {others}: confirm the district"
        data["near_boundary"] = [{"district_code": c, "distance_m": round(d)} for d, c in neighbours]
    return Location(ward, district, "point", confidence, Reason("location", vi, en, data),
                    candidates=tuple(candidates), near_boundary=bool(neighbours), lat=lat_f, lon=lon_f)


def _from_ward_points(directory: Directory, lat: float, lon: float) -> Location:
    ward, distance = _nearest_ward(directory, lat, lon, None)
    if ward is None or distance is None or distance > WARD_POINT_RANGE_M:
        return Location(None, None, "point", 0.0, Reason(
            "location", "Vị trí không gần phường/xã nào của tỉnh",
            "The point is not near any ward of the province"), lat=lat, lon=lon)
    district = directory.wards[ward].district_code
    return Location(ward, district, "point", 0.7, Reason(
        "location", f"Phường/xã gần nhất: {ward} (cách {distance:.0f} m), huyện {district}",
        f"Nearest ward point: {ward} ({distance:.0f} m away), district {district}",
        {"ward_code": ward, "district_code": district, "distance_m": round(distance)}),
        candidates=(PlaceCandidate(district, ward, 0.7, distance),), lat=lat, lon=lon)


def from_text(directory: Directory, text: str, how: str = "address", strict: bool = False) -> Location:
    """Ward and district named in an address or a description."""
    matches = _index(directory).find(text, strict=strict)
    if not matches:
        return UNKNOWN
    named = tuple(m.text for m in matches)
    districts = {p.code for m in matches for p in m.places if p.level == DISTRICT}
    wards = _ward_candidates(matches, districts)
    scale = 0.8 if strict else 1.0
    if len(wards) == 1:
        ward = directory.wards[next(iter(wards))]
        confidence = (0.95 if ward.district_code in districts or _prefixed(matches, ward.code) else 0.8)
        return _text_location(ward.code, ward.district_code, how, confidence * scale, named,
                              (PlaceCandidate(ward.district_code, ward.code, confidence * scale),))
    ward_districts = {directory.wards[w].district_code for w in wards}
    if len(districts) == 1 or (not districts and len(ward_districts) == 1):
        district = next(iter(districts or ward_districts))
        candidates = tuple(PlaceCandidate(district, w, 0.5 * scale) for w in sorted(wards)) or (
            PlaceCandidate(district, None, 0.85 * scale),)
        return _text_location(None, district, how, 0.85 * scale, named, candidates)
    options = sorted({(directory.wards[w].district_code, w) for w in wards} | {(d, None) for d in districts},
                     key=lambda x: (x[0], x[1] or ""))
    candidates = tuple(PlaceCandidate(d, w, 0.4 * scale) for d, w in options)
    return _text_location(None, None, how, 0.3 * scale, named, candidates)


def _prefixed(matches: list[PlaceMatch], ward_code: str) -> bool:
    return any(m.prefixed for m in matches for p in m.places if p.code == ward_code and p.level == WARD)


def _ward_candidates(matches: list[PlaceMatch], districts: set[str]) -> set[str]:
    # A bare name that is also a district's ("Dĩ An") means the district; wards named with
    # their kind, or that fit the district named, are kept.
    wards = set()
    for m in matches:
        has_district = any(p.level == DISTRICT for p in m.places)
        for p in m.places:
            if p.level == WARD and (m.prefixed or not has_district):
                wards.add(p.code)
    fitting = {w for w in wards if _district_of(matches, w) in districts}
    return fitting or ({w for w in wards} if not districts or not fitting else fitting)


def _district_of(matches: list[PlaceMatch], ward_code: str) -> str | None:
    return next((p.district_code for m in matches for p in m.places if p.code == ward_code), None)


def _text_location(ward: str | None, district: str | None, how: str, confidence: float,
                   named: tuple[str, ...], candidates: tuple[PlaceCandidate, ...]) -> Location:
    words = ", ".join(f"«{n}»" for n in named)
    source_vi = "địa chỉ" if how == "address" else "nội dung"
    if district is None:
        reason = Reason("location", f"Trong {source_vi} có {words} nhưng chưa rõ là nơi nào",
                        f"The {how} names {words} but it is ambiguous",
                        {"words": list(named), "candidates": [c.to_dict() for c in candidates]})
    else:
        reason = Reason("location", f"Trong {source_vi} có {words}: huyện {district}"
                        + (f", phường/xã {ward}" if ward else ""),
                        f"The {how} names {words}: district {district}" + (f", ward {ward}" if ward else ""),
                        {"words": list(named), "district_code": district, "ward_code": ward})
    return Location(ward, district, how, confidence, reason, candidates=candidates, places=named)


def _index(directory: Directory) -> PlaceIndex:
    # Built once per directory snapshot; a Directory is immutable, so caching on it is safe.
    cached = directory.__dict__.get("_place_index")
    if cached is None:
        cached = PlaceIndex(directory.wards.values(), directory.districts.values(),
                            directory.contact_points.values())
        directory.__dict__["_place_index"] = cached
    return cached
