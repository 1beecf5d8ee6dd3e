"""Loading SLA policies from their CSV file (data, not code)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tickets.lifecycle import LINES, PRIORITIES
from tickets.sla import ANY, CLOCKS, SlaClock, SlaPolicy

_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_target(text: str) -> int:
    """Seconds from "90s", "30m", "4h"."""
    m = re.fullmatch(r"\s*(\d+)\s*([smh])\s*", text)
    if not m:
        raise ValueError(f"target {text!r}: expected a number and s, m or h (like 4h)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def read_policies(path: Path) -> list[SlaPolicy]:
    """Policies from the CSV, checked; raises ValueError naming the row and column."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            def bad(column: str, why: str, n: int = n) -> ValueError:
                return ValueError(f"{path.name} line {n}, column {column!r}: {why}")
            if row["line"] not in LINES:
                raise bad("line", f"must be one of {LINES}")
            if row["clock"] not in CLOCKS:
                raise bad("clock", f"must be one of {CLOCKS}")
            if row["priority"] not in (ANY, *PRIORITIES):
                raise bad("priority", f"must be * or one of {PRIORITIES}")
            if row["hours"] not in ("business", "always"):
                raise bad("hours", "must be business or always")
            try:
                target = parse_target(row["target"])
                share = float(row["warning_share"] or 0.75)
            except ValueError as exc:
                raise bad("target/warning_share", str(exc)) from exc
            if not 0 < share < 1:
                raise bad("warning_share", "must be between 0 and 1")
            rows.append(SlaPolicy(position=n, line=row["line"], category=row["category"] or ANY,
                                  priority=row["priority"] or ANY, contact_point=row["contact_point"] or ANY,
                                  clock=row["clock"], target_seconds=target,
                                  business_hours=row["hours"] == "business", warning_share=share,
                                  name=row.get("name", "")))
    return rows


def _key(p: SlaPolicy) -> tuple[str, ...]:
    return (p.line, p.category, p.priority, p.contact_point, p.clock)


def load_policies(session: Session, path: Path) -> int:
    """Make the table equal the file: update by (line, category, priority, contact point,
    clock), add new rows, remove the rest. Running clocks keep the due time they have."""
    policies = read_policies(path)
    wanted = {_key(p): p for p in policies}
    if len(wanted) != len(policies):
        raise ValueError(f"{path.name}: two rows promise the same thing")
    for existing in session.scalars(select(SlaPolicy)):
        new = wanted.pop(_key(existing), None)
        if new is None:
            session.execute(update(SlaClock).where(SlaClock.policy_id == existing.id).values(policy_id=None))
            session.delete(existing)
            continue
        for column in ("position", "target_seconds", "business_hours", "warning_share", "name"):
            setattr(existing, column, getattr(new, column))
    session.add_all(wanted.values())
    session.flush()
    return session.scalar(select(func.count()).select_from(SlaPolicy))
