"""Loading the directory CSV files: counts, idempotence, updates and refusal of bad data.

The ``session`` fixture's database already holds data/directory; nothing here commits, so
every change is rolled back when the session closes.
"""

from __future__ import annotations

import csv
import shutil
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets.directory import Category, ContactPoint, District, Hospital, Ward
from tickets.directory_import import load_directory

DIRECTORY = Path(__file__).resolve().parents[2] / "data" / "directory"
EXPECTED = {"districts": 9, "wards": 91, "contact_points": 47, "categories": 36, "hospitals": 19}
MODELS = {"districts": District, "wards": Ward, "contact_points": ContactPoint,
          "categories": Category, "hospitals": Hospital}


def _table_counts(session: Session) -> dict[str, tuple[int, int]]:
    """Rows and distinct codes per table (equal when nothing is duplicated)."""
    return {
        table: (session.scalar(select(func.count()).select_from(model)),
                session.scalar(select(func.count(func.distinct(model.code)))))
        for table, model in MODELS.items()
    }


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """A private copy of data/directory that a test may edit."""
    return Path(shutil.copytree(DIRECTORY, tmp_path / "directory"))


def edit(path: Path, key: str, code: str, column: str, value: str) -> None:
    """Set one cell of a CSV file: ``column`` of the row whose ``key`` column is ``code``."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    matches = [row for row in rows if row[key] == code]
    assert len(matches) == 1, f"{code} not in {path.name}"
    matches[0][column] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)


def test_loads_the_whole_directory(session: Session) -> None:
    assert load_directory(session, DIRECTORY) == EXPECTED
    assert _table_counts(session) == {table: (n, n) for table, n in EXPECTED.items()}

    ward = session.get(Ward, "25741")
    assert (ward.name, ward.kind, ward.district_code) == ("Phường Hiệp Thành", "Phường", "718")
    assert ward.lat == pytest.approx(10.995089)
    assert session.get(District, "718").centroid_lon == pytest.approx(106.664639)

    land = session.get(Category, "dat_dai")
    assert land.district_level is True
    assert land.default_contact_point_code == "SO_TNMT"
    assert land.keywords[:3] == ["đất đai", "sổ đỏ", "sổ hồng"]

    office = session.scalar(select(ContactPoint).where(ContactPoint.code == "VP_UBND"))
    assert office.category_codes == ["khac"]
    assert office.aliases == ["Văn phòng UBND tỉnh", "UBND tỉnh"]
    assert office.district_code is None

    military = session.scalar(select(Hospital).where(Hospital.code == "BV_QD4"))
    assert military.ward_code is None  # an empty cell
    assert military.specialties == ["general", "trauma"]
    tdm = session.scalar(select(Hospital).where(Hospital.code == "TTYT_TDM"))
    assert tdm.emergency is False


def test_loading_twice_duplicates_nothing(session: Session) -> None:
    assert load_directory(session, DIRECTORY) == EXPECTED
    first = _table_counts(session)
    assert load_directory(session, DIRECTORY) == EXPECTED
    assert _table_counts(session) == first == {table: (n, n) for table, n in EXPECTED.items()}
    assert not session.dirty and not session.new


def test_a_changed_row_is_updated_in_place(session: Session, directory: Path) -> None:
    hospital_id = session.scalar(select(Hospital.id).where(Hospital.code == "BVDK_TINH"))
    # Decomposed (NFD) text, as some editors save it, is stored composed (NFC).
    new_name = "Thành phố Thủ Dầu Một mới"
    edit(directory / "districts.csv", "district_code", "718", "district_name",
         unicodedata.normalize("NFD", new_name))
    edit(directory / "hospitals.csv", "code", "BVDK_TINH", "specialties", "general | trauma|")

    assert load_directory(session, directory) == EXPECTED

    assert session.scalar(select(District.name).where(District.code == "718")) == new_name
    hospital = session.scalar(select(Hospital).where(Hospital.code == "BVDK_TINH"))
    assert hospital.id == hospital_id  # the same row, so tickets keep pointing at it
    assert hospital.specialties == ["general", "trauma"]
    assert _table_counts(session) == {table: (n, n) for table, n in EXPECTED.items()}


@pytest.mark.parametrize(("file", "key", "code", "column", "value", "message"), [
    ("categories.csv", "code", "dat_dai", "default_contact_point", "NO_SUCH_CP",
     "categories.csv row 1 (line 2), column 'default_contact_point': "
     "'NO_SUCH_CP' is not a code in contact_points.csv"),
    ("wards.csv", "ward_code", "25744", "district_code", "999",
     "wards.csv row 2 (line 3), column 'district_code': '999' is not a code in districts.csv"),
    ("contact_points.csv", "code", "VP_UBND", "categories", "khac|no_such_category",
     "contact_points.csv row 1 (line 2), column 'categories': "
     "'no_such_category' is not a code in categories.csv"),
    ("hospitals.csv", "code", "BVDK_TINH", "ward_code", "99999",
     "hospitals.csv row 1 (line 2), column 'ward_code': '99999' is not a code in wards.csv"),
    ("hospitals.csv", "code", "BVDK_TINH", "ward_code", "25924",
     "hospitals.csv row 1 (line 2), column 'ward_code': ward '25924' is in district '723'"),
    ("hospitals.csv", "code", "BVDK_TINH", "emergency", "yes",
     "hospitals.csv row 1 (line 2), column 'emergency': 'yes' is neither 'true' nor 'false'"),
    ("hospitals.csv", "code", "BVDK_TINH", "lat", "",
     "hospitals.csv row 1 (line 2), column 'lat': must be a number, not ''"),
    ("districts.csv", "district_code", "719", "district_code", "718",
     "districts.csv row 2 (line 3), column 'district_code': '718' already in row 1 (line 2)"),
    ("districts.csv", "district_code", "718", "district_code", "7180000000001",
     "districts.csv row 1 (line 2), column 'district_code': longer than 10 characters"),
])
def test_inconsistent_files_are_refused_before_anything_is_written(
    session: Session, directory: Path, file: str, key: str, code: str, column: str, value: str,
    message: str,
) -> None:
    # A valid change in an earlier file must not be written either.
    edit(directory / "districts.csv", "district_code", "720", "district_name", "Huyện Đổi Tên")
    edit(directory / file, key, code, column, value)

    with pytest.raises(ValueError) as raised:
        load_directory(session, directory)

    assert str(raised.value).startswith(message)
    assert not session.new and not session.dirty
    assert session.scalar(select(District.name).where(District.code == "720")) == "Huyện Dầu Tiếng"
    assert _table_counts(session) == {table: (n, n) for table, n in EXPECTED.items()}
