"""Canned responses: ready-made answers per category that departments insert and edit.

They are data: the province's starting set is in ``data/directory/canned_responses.csv``,
which ``flask --app wsgi init`` adds to the table (rows it lacks, by category and title, so
re-running never duplicates); administrators then add, edit and retire them through
``save_canned_response``.
A body may hold placeholders the console fills in when the answer is inserted:
``{code}`` (the tracking code, ABCD-EFGH) and ``{contact_point}`` (the answering unit).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.db import Base
from tickets.directory import Category
from tickets.errors import NotFound, ValidationFailed

PLACEHOLDERS = ("code", "contact_point")
TITLE_LIMIT = 200
BODY_LIMIT = 4000  # an answer is a resolution: the API's text limit
COLUMNS = ("category", "position", "title", "body")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class CannedResponse(Base):
    """One ready-made answer for a category; retired ones stay (``active`` false)."""

    __tablename__ = "canned_responses"
    # One title per category: the key the CSV loader updates by.
    __table_args__ = (UniqueConstraint("category_code", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_LIMIT))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


def _clean(text: str) -> str:
    # Text pasted from different editors mixes composed and decomposed Vietnamese letters.
    return unicodedata.normalize("NFC", (text or "").strip())


def check_fields(*, category: str, title: str, body: str, position: int,
                 categories: set[str]) -> dict[str, str]:
    """What is wrong with these values, by field (empty when they are fine)."""
    problems: dict[str, str] = {}
    if category not in categories:
        problems["category"] = f"unknown category {category!r}"
    if not title:
        problems["title"] = "must not be empty"
    elif len(title) > TITLE_LIMIT:
        problems["title"] = f"longer than {TITLE_LIMIT} characters"
    if not body:
        problems["body"] = "must not be empty"
    elif len(body) > BODY_LIMIT:
        problems["body"] = f"longer than {BODY_LIMIT} characters"
    else:
        unknown = sorted({name for name in _PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
        if unknown:
            problems["body"] = (f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                                f"known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}")
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        problems["position"] = "must be a whole number, 0 or more"
    return problems


def _category_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Category.code)))


def list_canned_responses(session: Session, category: str | None = None,
                          include_inactive: bool = False) -> list[CannedResponse]:
    """The canned responses (of one category, if given) in display order."""
    stmt = select(CannedResponse)
    if category is not None:
        stmt = stmt.where(CannedResponse.category_code == category)
    if not include_inactive:
        stmt = stmt.where(CannedResponse.active)
    return list(session.scalars(stmt.order_by(CannedResponse.category_code, CannedResponse.position,
                                              CannedResponse.id)))


def save_canned_response(session: Session, *, id: int | None = None, category: str, title: str,
                         body: str, active: bool, position: int) -> CannedResponse:
    """Create (``id`` None) or update a canned response; ValidationFailed names each bad field."""
    title, body, category = _clean(title), _clean(body), _clean(category)
    problems = check_fields(category=category, title=title, body=body, position=position,
                            categories=_category_codes(session))
    row = None
    if id is not None:
        row = session.get(CannedResponse, id)
        if row is None:
            raise NotFound("Canned response not found")
    if "category" not in problems and "title" not in problems:
        twin = session.scalar(select(CannedResponse).where(CannedResponse.category_code == category,
                                                           CannedResponse.title == title))
        if twin is not None and twin is not row:
            problems["title"] = "this category already has a canned response with this title"
    if problems:
        raise ValidationFailed("The canned response is not valid", problems)
    if row is None:
        row = CannedResponse()
        session.add(row)
    row.category_code, row.title, row.body = category, title, body
    row.active, row.position = bool(active), position
    session.flush()
    return row


def deactivate_canned_response(session: Session, id: int) -> CannedResponse:
    """Retire a canned response: it is no longer offered, and stays in the table."""
    row = session.get(CannedResponse, id)
    if row is None:
        raise NotFound("Canned response not found")
    row.active = False
    session.flush()
    return row


def read_canned_responses(path: Path, categories: set[str]) -> list[dict]:
    """The file's rows, checked; ValueError names the line and column of the first problem."""
    rows: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    # utf-8-sig: a spreadsheet may have saved the file with a byte-order mark.
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{Path(path).name}: missing column(s) {', '.join(map(repr, missing))}")
        for cells in reader:
            where = f"{Path(path).name} line {reader.line_num}"
            if None in cells:  # cells beyond the header: an unquoted comma
                raise ValueError(f"{where}: more cells than the header has")
            values = {c: _clean(cells[c] or "") for c in COLUMNS}
            active_cell = _clean(cells.get("active") or "true").lower()
            if active_cell not in ("true", "false"):
                raise ValueError(f"{where}, column 'active': {active_cell!r} is neither 'true' nor 'false'")
            try:
                position = int(values["position"] or 0)
            except ValueError:
                raise ValueError(f"{where}, column 'position': {values['position']!r} is not a number") from None
            problems = check_fields(category=values["category"], title=values["title"], body=values["body"],
                                    position=position, categories=categories)
            if problems:
                column, why = next(iter(problems.items()))
                raise ValueError(f"{where}, column {column!r}: {why}")
            key = (values["category"], values["title"])
            if key in seen:
                raise ValueError(f"{where}, column 'title': {values['title']!r} already on line {seen[key]} "
                                 f"for category {values['category']!r}")
            seen[key] = reader.line_num
            rows.append({"category": values["category"], "title": values["title"], "body": values["body"],
                         "position": position, "active": active_cell == "true"})
    return rows


def load_canned_responses(session: Session, path: Path) -> int:
    """Add the file's canned responses that the table lacks (by category and title); returns
    how many the file has.

    The file seeds the table; after that, administrators edit the rows in the database, so
    re-running never overwrites or reactivates what they changed, and never duplicates. The
    whole file is checked before anything is written; flushes, no commit.
    """
    rows = read_canned_responses(path, _category_codes(session))
    existing = {(code, title) for code, title in session.execute(select(CannedResponse.category_code,
                                                                           CannedResponse.title))}
    session.add_all(CannedResponse(category_code=v["category"], title=v["title"], body=v["body"],
                                   position=v["position"], active=v["active"])
                    for v in rows if (v["category"], v["title"]) not in existing)
    session.flush()
    return len(rows)
