import csv
from dataclasses import replace
from types import SimpleNamespace

import pytest

from routing.directory import DEFAULT_PATH, Directory
from routing.rules import CALLER_DISTRICT, decide, load_rules, matches, parse_rules, rules_from_categories


def test_category_default(directory):
    match = decide(directory.rules, "dien", directory=directory)
    assert match.contact_point == "DIENLUC_BD"
    assert match.rule.category == "dien" and match.rule.district_code is None


def test_district_level_category_goes_to_the_callers_district_committee(directory):
    assert decide(directory.rules, "dat_dai", "724", directory=directory).contact_point == "UBND_DIAN"
    assert decide(directory.rules, "tu_phap_ho_tich", "720", directory=directory).contact_point == "UBND_DAUTIENG"
    reason = decide(directory.rules, "xay_dung", "718", directory=directory).reason()
    assert reason.data["rule"]["contact_point"] == CALLER_DISTRICT


def test_district_level_category_without_a_district_goes_to_the_provincial_owner(directory):
    assert decide(directory.rules, "dat_dai", None, directory=directory).contact_point == "SO_TNMT"
    assert decide(directory.rules, "do_thi", "999", directory=directory).contact_point == "SO_XAYDUNG"


def test_category_and_district_rule_takes_precedence_over_the_category_default(directory):
    assert decide(directory.rules, "rac_thai", "720", directory=directory).contact_point == "UBND_DAUTIENG"
    assert decide(directory.rules, "rac_thai", "718", directory=directory).contact_point == "BIWASE"


def test_ward_rule_takes_precedence(directory):
    assert decide(directory.rules, "cong_trinh_cong", "718", "25760", directory=directory).contact_point == "BECAMEX"
    assert decide(directory.rules, "cong_trinh_cong", "718", "25741", directory=directory).contact_point == "BQLDA_BD"


def test_fallback_when_no_category_rule_applies(directory):
    match = decide(directory.rules, None, directory=directory)
    assert match.contact_point == "VP_UBND" and match.rule.is_fallback
    assert decide(directory.rules, "no_such_category", directory=directory).contact_point == "VP_UBND"


def test_explicit_priority_beats_specificity():
    rules = parse_rules([
        {"priority": "5", "category": "*", "contact_point": "FIRST"},
        {"priority": "10", "category": "dien", "district_code": "718", "contact_point": "SPECIFIC"},
    ])
    assert decide(rules, "dien", "718").contact_point == "FIRST"


def test_within_a_priority_the_more_specific_rule_wins():
    rules = parse_rules([
        {"priority": "10", "category": "dien", "contact_point": "GENERAL"},
        {"priority": "10", "category": "dien", "district_code": "718", "contact_point": "SPECIFIC"},
    ])
    assert [m.contact_point for m in matches(rules, "dien", "718")] == ["SPECIFIC", "GENERAL"]


def test_an_inactive_contact_point_is_skipped(directory):
    inactive = replace(directory.contact_points["DIENLUC_BD"], active=False)
    changed = replace(directory, contact_points={**directory.contact_points, "DIENLUC_BD": inactive})
    assert decide(changed.rules, "dien", directory=changed).contact_point == "VP_UBND"


def test_bad_rule_rows_are_reported():
    with pytest.raises(ValueError, match="row 2: priority"):
        parse_rules([{"priority": "high", "contact_point": "X"}])
    with pytest.raises(ValueError, match="contact_point is empty"):
        parse_rules([{"priority": "1", "category": "dien", "contact_point": ""}])


def test_the_rules_file_is_consistent_with_the_directory(directory):
    assert directory.problems() == []
    with open(DEFAULT_PATH / "categories.csv", encoding="utf-8") as f:
        categories = {r["code"]: r for r in csv.DictReader(f)}
    rules = load_rules(DEFAULT_PATH / "routing_rules.csv")
    for code, row in categories.items():
        defaults = [r for r in rules if r.category == code and r.district_code is None and r.ward_code is None
                    and r.contact_point != CALLER_DISTRICT]
        assert [r.contact_point for r in defaults] == [row["default_contact_point"]], code
        district = [r for r in rules if r.category == code and r.contact_point == CALLER_DISTRICT]
        assert bool(district) == (row["district_level"] == "true"), code


def test_rules_implied_by_categories_when_the_app_has_no_rules_table():
    categories = [SimpleNamespace(code="dat_dai", default_contact_point_code="SO_TNMT", district_level=True),
                  SimpleNamespace(code="dien", default_contact_point_code="DIENLUC_BD", district_level=False)]
    rules = rules_from_categories(categories)
    assert [(r.category, r.contact_point) for r in rules] == [
        ("dat_dai", CALLER_DISTRICT), ("dat_dai", "SO_TNMT"), ("dien", "DIENLUC_BD")]


def test_directory_from_rows_takes_model_like_objects(directory):
    rows = Directory.from_rows(
        [SimpleNamespace(code=c.code, name_vi=c.name_vi, name_en=c.name_en, kind=c.kind,
                         district_code=c.district_code, category_codes=list(c.category_codes),
                         aliases=list(c.aliases), active=True) for c in directory.contact_points.values()],
        [SimpleNamespace(code=c.code, name_vi=c.name_vi, name_en=c.name_en, keywords=list(c.keywords),
                         default_contact_point_code=c.default_contact_point_code,
                         district_level=c.district_level) for c in directory.categories.values()],
        [SimpleNamespace(**vars(w)) for w in directory.wards.values()],
        [SimpleNamespace(**vars(d)) for d in directory.districts.values()],
        [SimpleNamespace(**{**vars(h), "specialties": list(h.specialties)}) for h in directory.hospitals.values()],
        rules=directory.rules, boundaries=directory.boundaries)
    assert rows.contact_points == directory.contact_points
    assert rows.hospitals == directory.hospitals
    assert decide(rows.rules, "dat_dai", "725", directory=rows).contact_point == "UBND_THUANAN"
