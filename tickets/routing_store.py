"""Routing rules as directory data: loaded from ``routing_rules.csv``, editable in the database."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tickets.db import Base

COLUMNS = ("priority", "category", "district_code", "ward_code", "contact_point", "note")


class RoutingRule(Base):
    """One rule: requests of a category (in a district or ward) go to a contact point.

    ``contact_point`` may be ``@district``: the People's Committee of the caller's district.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # file order, the last tie-break
    priority: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40), default="")
    district_code: Mapped[str] = mapped_column(String(10), default="")
    ward_code: Mapped[str] = mapped_column(String(10), default="")
    contact_point: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(500), default="")


def load_routing_rules(session: Session, path: Path) -> int:
    """Replace the rules with the file's (rules have no identity beyond their content)."""
    from routing.rules import parse_rules

    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    parse_rules(rows)  # refuse a broken file before touching the table
    session.execute(delete(RoutingRule))
    session.add_all(RoutingRule(position=n, **{c: (row.get(c) or "").strip() if c != "priority"
                                               else int(row["priority"]) for c in COLUMNS})
                    for n, row in enumerate(rows, start=2))
    session.flush()
    return len(rows)


def rule_rows(session: Session) -> list[dict[str, Any]]:
    """The rules as the dict rows ``routing.rules.parse_rules`` reads, in file order."""
    return [{c: getattr(r, c) for c in COLUMNS}
            for r in session.scalars(select(RoutingRule).order_by(RoutingRule.position))]
