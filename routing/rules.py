"""Routing rules as data: which contact point handles a category, where, in what order."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routing.reasons import Reason

if TYPE_CHECKING:
    from routing.directory import Directory

ANY = "*"
# In the contact_point column: the UBND (kind "district") of the caller's district.
CALLER_DISTRICT = "@district"


@dataclass(frozen=True)
class Rule:
    """One row of ``routing_rules.csv``; ``None`` in a condition means any."""

    priority: int
    category: str | None
    contact_point: str
    district_code: str | None = None
    ward_code: str | None = None
    note: str = ""
    row: int = 0

    @property
    def specificity(self) -> int:
        """How many conditions the rule names: more specific rules win within a priority."""
        return sum(x is not None for x in (self.category, self.district_code, self.ward_code))

    @property
    def is_fallback(self) -> bool:
        """A rule without conditions: the destination when nothing else applies."""
        return self.specificity == 0

    def applies(self, category: str | None, district_code: str | None, ward_code: str | None) -> bool:
        """Whether every condition of the rule holds."""
        return (
            (self.category is None or self.category == category)
            and (self.district_code is None or self.district_code == district_code)
            and (self.ward_code is None or self.ward_code == ward_code)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"row": self.row, "priority": self.priority, "category": self.category or ANY,
                "district_code": self.district_code or ANY, "ward_code": self.ward_code or ANY,
                "contact_point": self.contact_point, "note": self.note}


@dataclass(frozen=True)
class RuleMatch:
    """A rule that applied and the contact point it named."""

    rule: Rule
    contact_point: str

    def reason(self) -> Reason:
        """The rule as a reason for a decision."""
        rule = self.rule
        where = []
        if rule.category:
            where.append(f"category={rule.category}")
        if rule.district_code:
            where.append(f"district={rule.district_code}")
        if rule.ward_code:
            where.append(f"ward={rule.ward_code}")
        condition = ", ".join(where) or ANY
        if rule.is_fallback:
            vi = f"Không có quy tắc riêng: chuyển về đầu mối mặc định {self.contact_point}"
            en = f"No specific rule: fallback contact point {self.contact_point}"
        elif rule.contact_point == CALLER_DISTRICT:
            vi = f"Lĩnh vực do cấp huyện giải quyết: UBND nơi người gọi ({self.contact_point})"
            en = f"District-level category: the caller's district committee ({self.contact_point})"
        else:
            vi = f"Quy tắc dòng {rule.row} ({condition}) → {self.contact_point}"
            en = f"Rule on row {rule.row} ({condition}) → {self.contact_point}"
        return Reason("rule", vi, en, {"rule": rule.to_dict(), "contact_point": self.contact_point})


def _condition(cell: str | None) -> str | None:
    cell = (cell or "").strip()
    return None if cell in ("", ANY) else cell


def parse_rules(rows: Iterable[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """Rules from dict-like rows with the columns of ``routing_rules.csv``, in precedence order."""
    rules = []
    for number, row in enumerate(rows, start=2):  # row 1 of the file is its header
        try:
            priority = int(str(row.get("priority", "")).strip())
        except ValueError:
            raise ValueError(f"routing rules row {number}: priority must be an integer") from None
        contact_point = str(row.get("contact_point") or "").strip()
        if not contact_point:
            raise ValueError(f"routing rules row {number}: contact_point is empty")
        rules.append(Rule(priority=priority, category=_condition(row.get("category")),
                          contact_point=contact_point,
                          district_code=_condition(row.get("district_code")),
                          ward_code=_condition(row.get("ward_code")),
                          note=str(row.get("note") or "").strip(), row=number))
    return order(rules)


def load_rules(path: Path | str) -> tuple[Rule, ...]:
    """Read ``routing_rules.csv``."""
    with open(path, encoding="utf-8", newline="") as f:
        return parse_rules(csv.DictReader(f))


def order(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Precedence: lower priority number first, then the more specific rule, then file order."""
    return tuple(sorted(rules, key=lambda r: (r.priority, -r.specificity, r.row)))


def rules_from_categories(categories: Iterable[Any]) -> tuple[Rule, ...]:
    """The rules the categories imply: district level first, then each category's default."""
    rules = []
    for category in categories:
        if category.district_level:
            rules.append(Rule(50, category.code, CALLER_DISTRICT, note="district_level"))
        if category.default_contact_point_code:
            rules.append(Rule(100, category.code, category.default_contact_point_code, note="default"))
    return order(rules)


def matches(rules: Iterable[Rule], category: str | None, district_code: str | None = None,
            ward_code: str | None = None, directory: Directory | None = None) -> Iterator[RuleMatch]:
    """Every rule that applies, in precedence order, with the contact point it resolves to.

    A caller-district rule without a known district, or naming an inactive contact point,
    does not apply: the next rule does.
    """
    seen = set()
    for rule in rules:
        if not rule.applies(category, district_code, ward_code):
            continue
        target: str | None = rule.contact_point
        if target == CALLER_DISTRICT:
            target = directory.district_contact_point(district_code) if directory else None
        if target is None or (directory is not None and not directory.is_active(target)):
            continue
        if target not in seen:
            seen.add(target)
            yield RuleMatch(rule, target)


def decide(rules: Iterable[Rule], category: str | None, district_code: str | None = None,
           ward_code: str | None = None, directory: Directory | None = None) -> RuleMatch | None:
    """The first applicable rule's contact point, or ``None`` when no rule applies."""
    return next(matches(rules, category, district_code, ward_code, directory), None)


def check_rules(rules: Iterable[Rule], directory: Directory) -> list[str]:
    """Rules naming unknown categories, districts, wards or contact points."""
    problems = []
    for rule in rules:
        where = f"routing rules row {rule.row}"
        if rule.category and rule.category not in directory.categories:
            problems.append(f"{where}: unknown category {rule.category}")
        if rule.district_code and rule.district_code not in directory.districts:
            problems.append(f"{where}: unknown district {rule.district_code}")
        if rule.ward_code and rule.ward_code not in directory.wards:
            problems.append(f"{where}: unknown ward {rule.ward_code}")
        if rule.contact_point != CALLER_DISTRICT and rule.contact_point not in directory.contact_points:
            problems.append(f"{where}: unknown contact point {rule.contact_point}")
    if not any(rule.is_fallback for rule in rules):
        problems.append("routing rules: no fallback rule (a row with no conditions)")
    return problems
