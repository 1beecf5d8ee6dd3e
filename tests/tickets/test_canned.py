"""Canned responses: the service the admin editor uses, the CSV loader `init` runs, and the
province's file itself (every category covered, every answer reaches the caller whole)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tickets import sms_texts
from tickets.canned import (
    CannedResponse,
    deactivate_canned_response,
    list_canned_responses,
    load_canned_responses,
    save_canned_response,
)
from tickets.directory import Category, ContactPoint
from tickets.errors import NotFound, ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
CANNED_FILE = ROOT / "data" / "directory" / "canned_responses.csv"
HEADER = "category,position,title,body,active\n"


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(CannedResponse))


def save(session, **overrides):
    fields = {"category": "dien", "title": "Đã khắc phục sự cố", "active": True, "position": 10,
              "body": "Điện lực đã khắc phục sự cố; việc cấp điện đã trở lại bình thường."}
    return save_canned_response(session, **{**fields, **overrides})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "canned_responses.csv"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the service -------------------------------------------------------------------------

def test_saved_responses_are_listed_by_category_then_position(session):
    later = save(session, title="Lịch cắt điện", position=20)
    first = save(session, title="Sự cố", position=5)
    water = save(session, category="nuoc", title="Rò rỉ nước", body="Đã sửa đường ống.", position=1)

    assert [r.id for r in list_canned_responses(session, "dien")] == [first.id, later.id]
    assert [r.id for r in list_canned_responses(session)] == [first.id, later.id, water.id]


def test_saving_with_an_id_updates_that_response(session):
    row = save(session)
    save(session, id=row.id, category="nuoc", title="Đã khắc phục", body="Nước đã được cấp lại.", active=True,
         position=3)

    session.expire_all()
    again = session.get(CannedResponse, row.id)
    assert (again.category_code, again.title, again.body, again.position) == (
        "nuoc", "Đã khắc phục", "Nước đã được cấp lại.", 3)
    assert count(session) == 1


def test_text_is_trimmed_and_vietnamese_letters_normalised(session):
    decomposed = "Đã kiểm tra".replace("ể", "e\u0302\u0309")
    row = save(session, title=f"  {decomposed}  ", body=" Thân ái. ")
    assert (row.title, row.body) == ("Đã kiểm tra", "Thân ái.")


def test_a_retired_response_is_listed_only_when_asked_for(session):
    row = save(session)
    deactivate_canned_response(session, row.id)

    assert list_canned_responses(session, "dien") == []
    assert [r.id for r in list_canned_responses(session, "dien", include_inactive=True)] == [row.id]


def test_saving_inactive_keeps_it_out_of_the_console(session):
    save(session, active=False)
    assert list_canned_responses(session) == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"category": "no_such_category"}, "category"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"body": ""}, "body"),
    ({"body": "x" * 4001}, "body"),
    ({"body": "Kính gửi {name}, phản ánh đã được xử lý."}, "body"),
    ({"position": -1}, "position"),
])
def test_a_bad_field_is_refused_by_name_and_nothing_is_written(session, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        save(session, **overrides)
    assert field in refused.value.fields
    assert count(session) == 0


def test_the_known_placeholders_are_accepted(session):
    row = save(session, body="Phản ánh {code} đã được {contact_point} xử lý xong.")
    assert "{code}" in row.body


def test_two_responses_of_a_category_may_not_share_a_title(session):
    save(session)
    with pytest.raises(ValidationFailed) as refused:
        save(session, body="Một nội dung khác.")
    assert "title" in refused.value.fields
    save(session, category="nuoc")  # the same title in another category is fine
    assert count(session) == 2


def test_updating_or_retiring_a_missing_response_is_not_found(session):
    with pytest.raises(NotFound):
        save(session, id=12345)
    with pytest.raises(NotFound):
        deactivate_canned_response(session, 12345)


# ---- the loader --------------------------------------------------------------------------

def file_rows() -> list[dict]:
    with CANNED_FILE.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_file_loads_once_however_often_it_is_loaded(session):
    assert load_canned_responses(session, CANNED_FILE) == len(file_rows())
    assert load_canned_responses(session, CANNED_FILE) == len(file_rows())
    assert count(session) == len(file_rows())


def test_loading_again_keeps_what_an_administrator_changed(session):
    load_canned_responses(session, CANNED_FILE)
    row = list_canned_responses(session, "dien")[0]
    save(session, id=row.id, category="dien", title=row.title, body="Nội dung do quản trị viên sửa.", active=False,
         position=row.position)

    load_canned_responses(session, CANNED_FILE)

    session.expire_all()
    again = session.get(CannedResponse, row.id)
    assert (again.body, again.active) == ("Nội dung do quản trị viên sửa.", False)
    assert count(session) == len(file_rows())


def test_a_new_row_in_the_file_is_added_on_the_next_load(session, tmp_path):
    path = write(tmp_path, HEADER + "dien,1,Sự cố,Đã khắc phục.,true\n")
    load_canned_responses(session, path)
    write(tmp_path, HEADER + "dien,1,Sự cố,Đã khắc phục.,true\nnuoc,1,Rò rỉ,Đã sửa ống.,false\n")

    load_canned_responses(session, path)

    assert [(r.category_code, r.title, r.active) for r in list_canned_responses(session, include_inactive=True)] == [
        ("dien", "Sự cố", True), ("nuoc", "Rò rỉ", False)]


@pytest.mark.parametrize(("text", "problem"), [
    (HEADER + "dien,1,Sự cố,Đã khắc phục.,true\nkhong_co,1,Tiêu đề,Nội dung.,true\n", "line 3, column 'category'"),
    (HEADER + "dien,1,,Nội dung.,true\n", "line 2, column 'title'"),
    (HEADER + "dien,1,Sự cố,,true\n", "line 2, column 'body'"),
    (HEADER + "dien,một,Sự cố,Nội dung.,true\n", "line 2, column 'position'"),
    (HEADER + "dien,1,Sự cố,Nội dung.,có\n", "line 2, column 'active'"),
    (HEADER + "dien,1,Sự cố,Gửi {ten_nguoi_dan}.,true\n", "line 2, column 'body'"),
    (HEADER + "dien,1,Sự cố,Một.,true\ndien,2,Sự cố,Hai.,true\n", "line 3, column 'title'"),
    (HEADER + "dien,1,Sự cố,Một, hai.,true\n", "line 2: more cells"),
    ("category,title,body\ndien,Sự cố,Một.\n", "missing column(s) 'position'"),
])
def test_a_bad_file_is_refused_naming_line_and_column_and_nothing_is_written(session, tmp_path, text, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        load_canned_responses(session, write(tmp_path, text))
    assert count(session) == 0


def test_a_file_saved_by_a_spreadsheet_with_a_byte_order_mark_loads(session, tmp_path):
    path = tmp_path / "canned_responses.csv"
    path.write_text(HEADER + "dien,1,Sự cố,Đã khắc phục.,true\n", encoding="utf-8-sig")
    assert load_canned_responses(session, path) == 1
    assert list_canned_responses(session)[0].category_code == "dien"


# ---- the province's file -----------------------------------------------------------------

def test_every_category_has_at_least_one_canned_response(session):
    categories = set(session.scalars(select(Category.code)))
    assert categories - {r["category"] for r in file_rows()} == set()


def test_every_canned_answer_reaches_the_caller_whole_in_one_sms_answer(session):
    """The answer SMS is cut after five segments; a canned answer, filled in with the longest
    contact point name and a realistic status link, must never be cut."""
    longest = max(session.scalars(select(ContactPoint.name_vi)), key=len)
    url = "https://1022.binhduong.gov.vn/track/ABCDEFGH"
    for row in file_rows():
        body = row["body"].replace("{code}", "ABCD-EFGH").replace("{contact_point}", longest)
        sms = sms_texts.answer("ABCDEFGH", body, url)
        assert "…" not in sms, row["title"]
        assert sms_texts.segments(sms)[1] <= sms_texts.MAX_ANSWER_SEGMENTS, row["title"]
