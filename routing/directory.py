"""A read-only snapshot of the directory that routing works on: plain data, no database."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from routing.geo import Boundary, load_boundaries
from routing.rules import Rule, load_rules, rules_from_categories

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "directory"


@dataclass(frozen=True)
class ContactPoint:
    """A 1022 destination."""

    code: str
    name_vi: str
    name_en: str = ""
    kind: str = "department"
    district_code: str | None = None
    category_codes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Category:
    """A subject area of 1022 requests."""

    code: str
    name_vi: str
    name_en: str = ""
    keywords: tuple[str, ...] = ()
    default_contact_point_code: str | None = None
    district_level: bool = False


@dataclass(frozen=True)
class Ward:
    """A commune-level unit with an approximate point."""

    code: str
    name: str
    kind: str
    district_code: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class District:
    """A district-level unit."""

    code: str
    name: str
    kind: str
    centroid_lat: float | None = None
    centroid_lon: float | None = None


@dataclass(frozen=True)
class Hospital:
    """A 115 destination."""

    code: str
    name: str
    lat: float
    lon: float
    kind: str = ""
    district_code: str | None = None
    ward_code: str | None = None
    emergency: bool = True
    specialties: tuple[str, ...] = ()
    available: bool = True
    active: bool = True


def _items(cell: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (cell or "").split("|") if item.strip())


def _flag(cell: str | None) -> bool:
    return (cell or "").strip().lower() in {"true", "1", "yes"}


def _number(cell: str | None) -> float | None:
    cell = (cell or "").strip()
    return float(cell) if cell else None


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _copy(cls: type, row: Any, **defaults: Any) -> Any:
    # Reads the dataclass's fields by name from any object (a model row, a namespace).
    values = {}
    for name in cls.__dataclass_fields__:
        value = getattr(row, name, defaults.get(name))
        if isinstance(value, list | set):
            value = tuple(value)
        values[name] = value
    return cls(**values)


@dataclass(frozen=True)
class Directory:
    """Contact points, categories, wards, districts, hospitals, rules and boundaries by code."""

    contact_points: Mapping[str, ContactPoint]
    categories: Mapping[str, Category]
    wards: Mapping[str, Ward]
    districts: Mapping[str, District]
    hospitals: Mapping[str, Hospital]
    rules: tuple[Rule, ...] = ()
    boundaries: Mapping[str, Boundary] = field(default_factory=dict)

    @classmethod
    def from_csv(cls, path: Path | str = DEFAULT_PATH) -> Directory:
        """Read the directory folder (the CSV files, ``routing_rules.csv``, ``districts.geojson``)."""
        path = Path(path)
        contact_points = [
            ContactPoint(code=r["code"], name_vi=r["name_vi"], name_en=r.get("name_en", ""),
                         kind=r["kind"], district_code=r.get("district_code") or None,
                         category_codes=_items(r.get("categories")), aliases=_items(r.get("aliases_vi")))
            for r in _read(path / "contact_points.csv")
        ]
        categories = [
            Category(code=r["code"], name_vi=r["name_vi"], name_en=r.get("name_en", ""),
                     keywords=_items(r.get("keywords_vi")),
                     default_contact_point_code=r.get("default_contact_point") or None,
                     district_level=_flag(r.get("district_level")))
            for r in _read(path / "categories.csv")
        ]
        wards = [
            Ward(code=r["ward_code"], name=r["ward_name"], kind=r["ward_kind"],
                 district_code=r["district_code"], lat=_number(r.get("lat")), lon=_number(r.get("lon")))
            for r in _read(path / "wards.csv")
        ]
        districts = [
            District(code=r["district_code"], name=r["district_name"], kind=r["district_kind"],
                     centroid_lat=_number(r.get("centroid_lat")),
                     centroid_lon=_number(r.get("centroid_lon")))
            for r in _read(path / "districts.csv")
        ]
        hospitals = [
            Hospital(code=r["code"], name=r["name"], kind=r.get("kind", ""),
                     district_code=r.get("district_code") or None, ward_code=r.get("ward_code") or None,
                     lat=float(r["lat"]), lon=float(r["lon"]), emergency=_flag(r.get("emergency")),
                     specialties=_items(r.get("specialties")))
            for r in _read(path / "hospitals.csv")
        ]
        rules_path = path / "routing_rules.csv"
        geojson = path / "districts.geojson"
        return cls.build(contact_points, categories, wards, districts, hospitals,
                         rules=load_rules(rules_path) if rules_path.exists() else None,
                         boundaries=load_boundaries(geojson) if geojson.exists() else None)

    @classmethod
    def from_rows(cls, contact_points: Iterable[Any], categories: Iterable[Any], wards: Iterable[Any],
                  districts: Iterable[Any], hospitals: Iterable[Any], *,
                  rules: Sequence[Rule] | None = None,
                  boundaries: Mapping[str, Boundary] | None = None) -> Directory:
        """Build from any objects with the attribute names of ``tickets.directory`` models.

        Without ``rules`` the rules implied by the categories are used (defaults and
        district-level), which have no fallback: pass ``load_rules(path)`` for the full set.
        """
        return cls.build(
            [_copy(ContactPoint, r, active=True) for r in contact_points],
            [_copy(Category, r) for r in categories],
            [_copy(Ward, r) for r in wards],
            [_copy(District, r) for r in districts],
            [_copy(Hospital, r, available=True, active=True, emergency=True) for r in hospitals],
            rules=rules, boundaries=boundaries,
        )

    @classmethod
    def build(cls, contact_points: Iterable[ContactPoint], categories: Iterable[Category],
              wards: Iterable[Ward], districts: Iterable[District], hospitals: Iterable[Hospital], *,
              rules: Sequence[Rule] | None = None,
              boundaries: Mapping[str, Boundary] | None = None) -> Directory:
        """Index lists of the dataclasses above by code."""
        categories = {c.code: c for c in categories}
        return cls(
            contact_points={c.code: c for c in contact_points},
            categories=categories,
            wards={w.code: w for w in wards},
            districts={d.code: d for d in districts},
            hospitals={h.code: h for h in hospitals},
            rules=tuple(rules) if rules is not None else rules_from_categories(categories.values()),
            boundaries=dict(boundaries or {}),
        )

    def district_contact_point(self, district_code: str | None) -> str | None:
        """The active contact point of kind ``district`` for that district (its UBND)."""
        return self._district_contact_points.get(district_code or "")

    def is_active(self, contact_point_code: str) -> bool:
        """Whether the code names an active contact point."""
        cp = self.contact_points.get(contact_point_code)
        return cp is not None and cp.active

    @cached_property
    def _district_contact_points(self) -> dict[str, str]:
        return {
            cp.district_code: cp.code
            for cp in sorted(self.contact_points.values(), key=lambda c: c.code)
            if cp.kind == "district" and cp.district_code and cp.active
        }

    def problems(self) -> list[str]:
        """Inconsistencies between rules and the rest of the directory (empty when sound)."""
        from routing.rules import check_rules

        return check_rules(self.rules, self)
