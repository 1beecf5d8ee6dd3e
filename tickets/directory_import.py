"""Load the directory (districts, wards, contact points, categories, hospitals) from CSV files.

The files describe one province (see data/directory/README.md). Every file is read and
checked before anything is written, so inconsistent files leave the database untouched.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.directory import Category, ContactPoint, District, Hospital, Ward

# Cell parsers. Each gets the stripped, NFC-normalised cell and raises ValueError on bad data.


def _required(cell: str) -> str:
    if not cell:
        raise ValueError("must not be empty")
    return cell


def _optional(cell: str) -> str | None:
    return cell or None


def _number(cell: str) -> float:
    try:
        return float(_required(cell))
    except ValueError:
        raise ValueError(f"must be a number, not {cell!r}") from None


def _optional_number(cell: str) -> float | None:
    return _number(cell) if cell else None


def _flag(cell: str) -> bool:
    if cell.lower() not in ("true", "false"):
        raise ValueError(f"{cell!r} is neither 'true' nor 'false'")
    return cell.lower() == "true"


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split("|") if item.strip()]


@dataclass(frozen=True)
class _Kind:
    """How one CSV file maps onto one model; every model is keyed by its ``code``."""

    file: str
    model: type
    columns: dict[str, tuple[str, Callable[[str], Any]]]  # attribute -> (CSV column, parser)
    references: dict[str, str] = field(default_factory=dict)  # attribute -> table it names

    @property
    def table(self) -> str:
        return self.model.__tablename__


# In foreign-key order: each kind is written after the kinds it refers to.
KINDS = (
    _Kind("districts.csv", District, {
        "code": ("district_code", _required),
        "name": ("district_name", _required),
        "kind": ("district_kind", _required),
        "centroid_lat": ("centroid_lat", _optional_number),
        "centroid_lon": ("centroid_lon", _optional_number),
    }),
    _Kind("wards.csv", Ward, {
        "code": ("ward_code", _required),
        "name": ("ward_name", _required),
        "kind": ("ward_kind", _required),
        "district_code": ("district_code", _required),
        "lat": ("lat", _optional_number),
        "lon": ("lon", _optional_number),
    }, references={"district_code": "districts"}),
    _Kind("contact_points.csv", ContactPoint, {
        "code": ("code", _required),
        "name_vi": ("name_vi", _required),
        "name_en": ("name_en", _required),
        "kind": ("kind", _required),
        "district_code": ("district_code", _optional),
        "category_codes": ("categories", _items),
        "aliases": ("aliases_vi", _items),
    }, references={"district_code": "districts", "category_codes": "categories"}),
    _Kind("categories.csv", Category, {
        "code": ("code", _required),
        "name_vi": ("name_vi", _required),
        "name_en": ("name_en", _required),
        "keywords": ("keywords_vi", _items),
        "default_contact_point_code": ("default_contact_point", _optional),
        "district_level": ("district_level", _flag),
    }, references={"default_contact_point_code": "contact_points"}),
    _Kind("hospitals.csv", Hospital, {
        "code": ("code", _required),
        "name": ("name", _required),
        "kind": ("kind", _required),
        "district_code": ("district_code", _optional),
        "ward_code": ("ward_code", _optional),
        "address": ("address", str),
        "lat": ("lat", _number),
        "lon": ("lon", _number),
        "emergency": ("emergency", _flag),
        "specialties": ("specialties", _items),
    }, references={"district_code": "districts", "ward_code": "wards"}),
)
_BY_TABLE = {kind.table: kind for kind in KINDS}


@dataclass
class _Record:
    where: str  # "row 3 (line 4)": data rows count from 1, file lines count the header
    values: dict[str, Any]


def _problem(kind: _Kind, where: str, column: str, message: str) -> ValueError:
    return ValueError(f"{kind.file} {where}, column {column!r}: {message}")


def _parse_cell(kind: _Kind, attribute: str, cell: str) -> Any:
    """One cell's value by the file's rules; ValueError says what is wrong with it."""
    # Text from different editors mixes composed and decomposed Vietnamese
    # letters; NFC makes equal names compare (and match) equal.
    value = kind.columns[attribute][1](unicodedata.normalize("NFC", cell.strip()))
    length = getattr(kind.model.__table__.c[attribute].type, "length", None)
    if isinstance(value, str) and length and len(value) > length:
        raise ValueError(f"longer than {length} characters")
    return value


def _read(directory: Path, kind: _Kind) -> dict[str, _Record]:
    """The file's rows, parsed and keyed by code."""
    records: dict[str, _Record] = {}
    # utf-8-sig: a spreadsheet may have saved the file with a byte-order mark.
    with (directory / kind.file).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [col for col, _ in kind.columns.values() if col not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{kind.file}: missing column(s) {', '.join(map(repr, missing))}")
        for row, cells in enumerate(reader, start=1):
            where = f"row {row} (line {reader.line_num})"
            if None in cells:  # DictReader's key for cells beyond the header: an unquoted comma
                raise ValueError(f"{kind.file} {where}: more cells than the header has")
            values = {}
            for attribute, (column, _parse) in kind.columns.items():
                try:
                    values[attribute] = _parse_cell(kind, attribute, cells[column] or "")
                except ValueError as exc:
                    raise _problem(kind, where, column, str(exc)) from None
            code = values["code"]
            if code in records:
                raise _problem(kind, where, kind.columns["code"][0],
                               f"{code!r} already in {records[code].where}")
            records[code] = _Record(where, values)
    return records


def _check_references(kind: _Kind, parsed: dict[str, dict[str, _Record]]) -> None:
    for record in parsed[kind.table].values():
        for attribute, target in kind.references.items():
            value = record.values[attribute]
            for code in value if isinstance(value, list) else [value]:
                if code is not None and code not in parsed[target]:
                    raise _problem(kind, record.where, kind.columns[attribute][0],
                                   f"{code!r} is not a code in {_BY_TABLE[target].file}")


def _check_hospital_wards(parsed: dict[str, dict[str, _Record]]) -> None:
    # A hospital's ward and district are both used for dispatch: they must agree.
    kind = _BY_TABLE["hospitals"]
    for record in parsed["hospitals"].values():
        ward = parsed["wards"].get(record.values["ward_code"])
        if ward and ward.values["district_code"] != record.values["district_code"]:
            raise _problem(kind, record.where, "ward_code",
                           f"ward {ward.values['code']!r} is in district "
                           f"{ward.values['district_code']!r}, not {record.values['district_code']!r}")


def _as_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(str(item) for item in value)
    return str(value)


def check_record(session: Session, table: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One row of ``table`` held to the rules its CSV file is held to: (parsed values, problems by attribute).

    The values are typed (text, lists, booleans, numbers); each is written as its CSV cell
    and read back through the file's parser, so a form in /admin and a file loaded by
    ``init`` pass or fail alike. References must name rows of the database.
    """
    kind = _BY_TABLE[table]
    parsed: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for attribute in kind.columns:
        value = values.get(attribute)
        if isinstance(value, list | tuple) and any("|" in str(item) for item in value):
            problems[attribute] = "an item must not contain '|'"
            continue
        try:
            parsed[attribute] = _parse_cell(kind, attribute, _as_cell(value))
        except ValueError as exc:
            problems[attribute] = str(exc)
    for attribute, target in kind.references.items():
        value = parsed.get(attribute)
        model = _BY_TABLE[target].model
        for code in value if isinstance(value, list) else [value]:
            if code is not None and session.scalar(select(model.code).where(model.code == code)) is None:
                problems[attribute] = f"{code!r} is not a code in {_BY_TABLE[target].file}"
                break
    if table == "hospitals" and parsed.get("ward_code") and "ward_code" not in problems:
        ward = session.get(Ward, parsed["ward_code"])
        if ward is not None and ward.district_code != parsed.get("district_code"):
            problems["ward_code"] = (f"ward {ward.code!r} is in district {ward.district_code!r}, "
                                     f"not {parsed.get('district_code')!r}")
    return parsed, problems


def load_directory(session: Session, directory: Path) -> dict[str, int]:
    """Upsert the directory CSV files by code; returns rows loaded per table (flushes, no commit)."""
    directory = Path(directory)
    parsed = {kind.table: _read(directory, kind) for kind in KINDS}
    for kind in KINDS:
        _check_references(kind, parsed)
    _check_hospital_wards(parsed)

    counts = {}
    for kind in KINDS:
        existing = {row.code: row for row in session.scalars(select(kind.model))}
        for code, record in parsed[kind.table].items():
            row = existing.get(code)
            if row is None:
                row = kind.model()
                session.add(row)
            # Unchanged values are not written: the ORM compares before issuing UPDATEs.
            for attribute, value in record.values.items():
                setattr(row, attribute, value)
        session.flush()  # before the next kind, whose foreign keys point at these rows
        counts[kind.table] = len(parsed[kind.table])
    return counts
