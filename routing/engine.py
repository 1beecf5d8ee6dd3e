"""The 1022 decision: which contact point gets a request, how sure, why, and what else."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routing import classifier as classifiers
from routing.corpus import fingerprint
from routing.directory import DEFAULT_PATH, Directory
from routing.errors import RoutingInputError
from routing.location import Location, locate
from routing.reasons import Reason
from routing.rules import CALLER_DISTRICT, RuleMatch, matches

CONFIRMATION_THRESHOLD = 0.6
# Below this the proposed category is a guess: the request goes to the fallback desk, which
# reads it, rather than to a department that would bounce it.
MIN_CATEGORY_CONFIDENCE = 0.25
MAX_ALTERNATIVES = 5
UNKNOWN_DISTRICT_WEIGHT = 0.7
MAX_DESCRIPTION = 100_000  # longer is not a description; the web layer answers 413 before this


@dataclass(frozen=True)
class Alternative:
    """Another contact point that may be right, with how likely and why."""

    contact_point: str
    confidence: float
    reason: Reason
    category: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"contact_point": self.contact_point, "confidence": round(self.confidence, 3),
                "category": self.category, "reason": self.reason.to_dict()}


@dataclass(frozen=True)
class Decision:
    """Where a 1022 request goes; ``needs_confirmation`` asks an operator to check it."""

    contact_point: str | None
    contact_point_name: str | None
    category: str | None
    category_source: str | None  # "given", "classifier" or None
    confidence: float
    needs_confirmation: bool
    reasons: tuple[Reason, ...]
    alternatives: tuple[Alternative, ...]
    location: Location
    proposed_categories: tuple[tuple[str, float], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"contact_point": self.contact_point, "contact_point_name": self.contact_point_name,
                "category": self.category, "category_source": self.category_source,
                "confidence": round(self.confidence, 3), "needs_confirmation": self.needs_confirmation,
                "reasons": [r.to_dict() for r in self.reasons],
                "alternatives": [a.to_dict() for a in self.alternatives],
                "location": self.location.to_dict(),
                "proposed_categories": [[c, round(p, 3)] for c, p in self.proposed_categories]}


_lock = threading.Lock()
_defaults: dict[str, Any] = {}


def default_directory() -> Directory:
    """The directory of ``data/directory``, read once per process."""
    with _lock:
        if "directory" not in _defaults:
            _defaults["directory"] = Directory.from_csv(DEFAULT_PATH)
        return _defaults["directory"]


def forget_defaults() -> None:
    """Drop the cached directory and models (after a retrain or a directory change)."""
    with _lock:
        _defaults.clear()


def default_classifier(path: Path | str | None = None) -> classifiers.Classifier:
    """The cached model at ``path`` (default under ``instance/``), trained first if missing or stale."""
    path = Path(path) if path is not None else classifiers.DEFAULT_MODEL_PATH
    with _lock:
        model = _defaults.get(("classifier", path))
        if model is None:
            model = classifiers.load(path, corpus_sha256=fingerprint())
            if model is None:
                # Imported here: scikit-learn is needed to train, not to classify.
                from routing.train import load_or_train

                model = load_or_train(path)
            _defaults[("classifier", path)] = model
        return model


def _text(field_name: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RoutingInputError(field_name, "must be text")
    if len(value) > MAX_DESCRIPTION:
        raise RoutingInputError(field_name, f"longer than {MAX_DESCRIPTION} characters")
    return value.strip()


def _given_category(directory: Directory, category: object) -> str | None:
    if category in (None, ""):
        return None
    if not isinstance(category, str) or category.strip() not in directory.categories:
        raise RoutingInputError("category", f"unknown category {category!r}")
    return category.strip()


def _location_weight(match: RuleMatch, location: Location) -> float:
    # Only a rule that depends on where the caller is can be wrong because of it.
    rule = match.rule
    if rule.contact_point == CALLER_DISTRICT or rule.district_code or rule.ward_code:
        return location.confidence
    return 1.0


def route_1022(description: str | None, category: str | None = None, ward_code: str | None = None,
               lat: object = None, lon: object = None, address: str | None = None, *,
               directory: Directory | None = None, classifier: classifiers.Classifier | None = None,
               threshold: float = CONFIRMATION_THRESHOLD) -> Decision:
    """Route a 1022 request; raises ``RoutingInputError`` for invalid fields, never for odd text."""
    directory = directory if directory is not None else default_directory()
    text = _text("description", description)
    address_text = _text("address", address)
    given = _given_category(directory, category)
    location = locate(directory, ward_code, lat, lon, address_text, text)
    reasons: list[Reason] = [location.reason] if location.how else []
    ranked: tuple[tuple[str, float], ...]
    if given is not None:
        chosen, source, category_confidence, ranked = given, "given", 1.0, ((given, 1.0),)
        reasons.insert(0, Reason("category", f"Lĩnh vực do điều phối viên chọn: {given}",
                                 f"Category chosen by the operator: {given}", {"category": given}))
    else:
        model = classifier if classifier is not None else default_classifier()
        proposal = model.classify(text)
        reasons.extend(proposal.reasons())
        ranked = tuple((c, p) for c, p in proposal.ranked if c in directory.categories)
        chosen, source, category_confidence = proposal.category, "classifier", proposal.confidence
        if chosen is None or category_confidence < MIN_CATEGORY_CONFIDENCE or chosen not in directory.categories:
            reasons.append(Reason("fallback", "Chưa xác định được lĩnh vực: chuyển bộ phận tiếp nhận chung",
                                  "The category is unclear: sent to the general desk",
                                  {"category": chosen, "confidence": round(category_confidence, 3)}))
            chosen, source = None, None
    found = list(matches(directory.rules, chosen, location.district_code, location.ward_code, directory))
    if not found:
        reasons.append(Reason("rule", "Không có quy tắc nào áp dụng", "No routing rule applies"))
        return Decision(None, None, chosen, source, 0.0, True, tuple(reasons), (), location, ranked)
    primary = found[0]
    reasons.append(primary.reason())
    confidence = (category_confidence if chosen else min(category_confidence, 0.2)) \
        * _location_weight(primary, location)
    if chosen and directory.categories[chosen].district_level and location.district_code is None:
        # The district's committee should have it, but we do not know which district.
        confidence *= UNKNOWN_DISTRICT_WEIGHT
        reasons.append(Reason("location", "Lĩnh vực cấp huyện nhưng chưa rõ huyện: chuyển cơ quan cấp tỉnh",
                              "A district-level category but the district is unknown: sent to the "
                              "provincial owner", {"category": chosen}))
    alternatives = _alternatives(directory, primary, found[1:], chosen, category_confidence, ranked, location)
    needs_confirmation = confidence < threshold or (
        location.near_boundary and _location_weight(primary, location) < 1.0)
    cp = directory.contact_points[primary.contact_point]
    return Decision(cp.code, cp.name_vi, chosen, source, confidence, needs_confirmation, tuple(reasons),
                    alternatives, location, ranked)


def _alternatives(directory: Directory, primary: RuleMatch, others: list[RuleMatch], chosen: str | None,
                  category_confidence: float, ranked: tuple[tuple[str, float], ...],
                  location: Location) -> tuple[Alternative, ...]:
    found: dict[str, Alternative] = {}
    offers = (_other_places(directory, chosen, category_confidence, location)
              + _less_specific(primary, others, chosen, category_confidence, location)
              + _other_categories(directory, chosen, ranked, location))
    for alternative in offers:
        current = found.get(alternative.contact_point)
        if alternative.contact_point != primary.contact_point and (
                current is None or alternative.confidence > current.confidence):
            found[alternative.contact_point] = alternative
    ordered = sorted(found.values(), key=lambda a: (-a.confidence, a.contact_point))
    return tuple(ordered[:MAX_ALTERNATIVES])


def _other_places(directory: Directory, chosen: str | None, category_confidence: float,
                  location: Location) -> list[Alternative]:
    # The same category, had the caller been in another candidate district or ward.
    offers = []
    for candidate in location.candidates:
        if candidate.district_code in (None, location.district_code) and candidate.ward_code == location.ward_code:
            continue
        match = next(matches(directory.rules, chosen, candidate.district_code, candidate.ward_code, directory),
                     None)
        if match is not None:
            offers.append(Alternative(match.contact_point, category_confidence * candidate.confidence, Reason(
                "location", f"Nếu người gọi ở huyện {candidate.district_code}: {match.contact_point}",
                f"If the caller is in district {candidate.district_code}: {match.contact_point}",
                {"district_code": candidate.district_code, "ward_code": candidate.ward_code}), chosen))
    return offers


def _less_specific(primary: RuleMatch, others: list[RuleMatch], chosen: str | None, category_confidence: float,
                   location: Location) -> list[Alternative]:
    # The same category by a less specific rule (the provincial owner of a district matter),
    # worth as much as the doubt about the place the primary rule relied on.
    doubt = 1 - location.confidence * 0.9 if _location_weight(primary, location) < 1.0 else 0.1
    return [Alternative(m.contact_point, category_confidence * doubt * 0.5, m.reason(), chosen)
            for m in others if not m.rule.is_fallback]


def _other_categories(directory: Directory, chosen: str | None, ranked: tuple[tuple[str, float], ...],
                      location: Location) -> list[Alternative]:
    # The runner-up categories of the classifier.
    offers = []
    for code, probability in ranked:
        if code == chosen or probability < 0.05:
            continue
        match = next(matches(directory.rules, code, location.district_code, location.ward_code, directory), None)
        if match is not None:
            offers.append(Alternative(match.contact_point, probability, Reason(
                "classifier", f"Nếu lĩnh vực là {code} ({probability:.0%}): {match.contact_point}",
                f"If the category is {code} ({probability:.0%}): {match.contact_point}",
                {"category": code, "probability": round(probability, 3)}), code))
    return offers
