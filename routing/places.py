"""Ward and district names found in free text, however the caller spelled them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from routing.text import acronym, fold, words

WARD, DISTRICT = "ward", "district"

# Written Vietnamese abbreviates the kind of a unit before its name ("p. Phú Hòa", "tx Bến
# Cát"). Folded, longest first. "quận" is a district-level kind this province lacks: a name
# after it is somewhere else (Q.4, Q. Tân Bình), so it must not match.
# Each prefix gives the level and the folded kind it abbreviates.
_PREFIXES: tuple[tuple[tuple[str, ...], str | None, str], ...] = (
    (("thi", "tran"), WARD, "thi tran"), (("thanh", "pho"), DISTRICT, "thanh pho"),
    (("thi", "xa"), DISTRICT, "thi xa"), (("phuong",), WARD, "phuong"), (("p",), WARD, "phuong"),
    (("ph",), WARD, "phuong"), (("xa",), WARD, "xa"), (("x",), WARD, "xa"),
    (("tt",), WARD, "thi tran"), (("tp",), DISTRICT, "thanh pho"), (("tx",), DISTRICT, "thi xa"),
    (("huyen",), DISTRICT, "huyen"), (("h",), DISTRICT, "huyen"), (("quan",), None, "quan"),
    (("q",), None, "quan"),
)
_KIND_WORDS = {"phuong", "xa", "thi tran", "thanh pho", "thi xa", "huyen", "quan", "tinh"}
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Place:
    """A ward or district a name can stand for."""

    level: str  # WARD or DISTRICT
    code: str
    district_code: str
    name: str
    kind: str = ""  # folded: "phuong", "xa", "thi tran", "thanh pho", "huyen"...


@dataclass(frozen=True)
class PlaceMatch:
    """A name found in the text: what it can be, and how sure the wording makes it."""

    text: str
    places: tuple[Place, ...]
    prefixed: bool
    via: str  # "name", "alias" or "acronym"


def _stem(name: str) -> tuple[str, ...]:
    # "Phường Định Hoà" → ("dinh", "hoa"); "TP. Thủ Dầu Một" → ("thu", "dau", "mot").
    tokens = words(name)
    for size in (2, 1):
        if len(tokens) > size and " ".join(tokens[:size]) in _KIND_WORDS | {"tp", "tx", "p", "h"}:
            return tuple(tokens[size:])
    return tuple(tokens)


class PlaceIndex:
    """Finds ward and district names, aliases and district initials in text."""

    def __init__(self, wards: Iterable, districts: Iterable, contact_points: Iterable = ()) -> None:
        self._names: dict[tuple[str, ...], list[tuple[Place, str]]] = {}
        self._acronyms: dict[str, Place] = {}
        districts = list(districts)
        for d in districts:
            place = Place(DISTRICT, d.code, d.code, d.name, fold(d.kind))
            self._add(_stem(d.name), place, "name")
            self._acronyms.setdefault(acronym(" ".join(_stem(d.name))), place)
        by_code = {d.code: d for d in districts}
        for cp in contact_points:
            if cp.kind == "district" and cp.district_code in by_code:
                district = by_code[cp.district_code]
                place = Place(DISTRICT, district.code, district.code, district.name, fold(district.kind))
                for alias in cp.aliases:
                    stem = _stem(alias)
                    if len(stem) == 1 and len(stem[0]) <= 4 and stem[0] not in self._names:
                        self._acronyms.setdefault(stem[0], place)
                    else:
                        self._add(stem, place, "alias")
        for w in wards:
            self._add(_stem(w.name), Place(WARD, w.code, w.district_code, w.name, fold(w.kind)), "name")
        self._longest = max((len(k) for k in self._names), default=1)

    def _add(self, key: tuple[str, ...], place: Place, via: str) -> None:
        entries = self._names.setdefault(key, [])
        if all(p != place for p, _ in entries):
            entries.append((place, via))

    def find(self, text: str, *, strict: bool = False) -> list[PlaceMatch]:
        """Names in the text, longest first at each position; ``strict`` for prose, not addresses.

        In strict mode a bare ward name ("an bình" is also ordinary speech) needs its kind
        before it; district names and three-letter initials count as they are.
        """
        raw = _TOKEN.findall(unicodedata.normalize("NFC", text or ""))
        tokens = [fold(t) for t in raw]
        found, i = [], 0
        while i < len(tokens):
            match, size = self._match_at(tokens, raw, i, strict)
            if match is not None:
                found.append(match)
            i += size
        return found

    def _prefix(self, tokens: list[str], i: int) -> tuple[bool, str | None, str | None]:
        for prefix, level, kind in _PREFIXES:
            n = len(prefix)
            if i >= n and tuple(tokens[i - n:i]) == prefix:
                return True, level, kind
        return False, None, None

    def _match_at(self, tokens: list[str], raw: list[str], i: int,
                  strict: bool) -> tuple[PlaceMatch | None, int]:
        prefixed, level, kind = self._prefix(tokens, i)
        if prefixed and level is None:
            return None, 1  # a quận: not in this province
        for size in range(min(self._longest, len(tokens) - i), 0, -1):
            entries = self._names.get(tuple(tokens[i:i + size]))
            if not entries:
                continue
            places = tuple(p for p, _ in entries if level is None or p.level == level)
            if strict and not prefixed:
                places = tuple(p for p in places if p.level == DISTRICT)
            # "xã Tân Hiệp" is the commune, not the ward of the same name elsewhere; units
            # change kind over the years, so a kind that fits none still matches by name.
            places = tuple(p for p in places if p.kind == kind) or places
            if not places:
                return None, size
            via = "alias" if all(v == "alias" for p, v in entries if p in places) else "name"
            return PlaceMatch(" ".join(raw[i:i + size]), places, prefixed, via), size
        return self._acronym_at(tokens, raw, i, prefixed, level), 1

    def _acronym_at(self, tokens: list[str], raw: list[str], i: int, prefixed: bool,
                    level: str | None) -> PlaceMatch | None:
        place = self._acronyms.get(tokens[i])
        if place is None or level == WARD:
            return None
        # Two letters ("DA", "TA", "BC") are everyday words or other abbreviations in lower
        # case; only capitals or a district kind before them make them a district.
        if len(tokens[i]) < 3 and not (prefixed or raw[i].isupper()):
            return None
        return PlaceMatch(raw[i], (place,), prefixed, "acronym")
