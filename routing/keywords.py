"""Category keywords found in text, the longest first, with or without diacritics."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from routing.text import fold_char_by_char, normalise

_WORD = re.compile(r"\w+")
# Without accents a one-syllable keyword is often another word ("cho" is chợ or cho,
# "thue" thuế or thuê): it still counts, but for less.
UNACCENTED_SHORT_WEIGHT = 0.3


@dataclass(frozen=True)
class KeywordHit:
    """A keyword of a category found in the text, where, and how much it counts."""

    keyword: str
    category: str
    start: int
    end: int
    weight: float

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"keyword": self.keyword, "category": self.category, "start": self.start,
                "end": self.end, "weight": round(self.weight, 2)}


def _accents_fit(written: str, keyword: str) -> bool:
    # Each letter is either the keyword's own or written without its mark: "chay" may be
    # "cháy", but "chạy" is not.
    return len(written) == len(keyword) and all(
        w == k or w == f for w, k, f in zip(written, keyword, fold_char_by_char(keyword), strict=True)
    )


class KeywordMatcher:
    """Finds the keywords of every category in a text, preferring the longest match."""

    def __init__(self, categories: Iterable) -> None:
        self._entries: dict[tuple[str, ...], list[tuple[tuple[str, ...], str, str]]] = {}
        self.categories: list[str] = []
        for category in categories:
            self.categories.append(category.code)
            for keyword in category.keywords:
                written = tuple(_WORD.findall(normalise(keyword)))
                if not written:
                    continue
                folded = tuple(fold_char_by_char(w) for w in written)
                self._entries.setdefault(folded, []).append((written, category.code, keyword))
        self._longest = max((len(k) for k in self._entries), default=1)
        self._index = {code: i for i, code in enumerate(self.categories)}

    def find(self, text: str) -> list[KeywordHit]:
        """Non-overlapping hits, scanning left to right and taking the longest keyword at each word.

        Written without accents, one span can be keywords of two categories ("bao hanh" is
        bảo hành or bạo hành): each gets a hit with the weight shared.
        """
        normalised = normalise(text)
        folded = fold_char_by_char(normalised)
        spans = [(m.start(), m.end()) for m in _WORD.finditer(folded)]
        hits: list[KeywordHit] = []
        i = 0
        while i < len(spans):
            found, size = self._hits_at(normalised, folded, spans, i)
            hits.extend(found)
            i += size
        return hits

    def _hits_at(self, normalised: str, folded: str, spans: list[tuple[int, int]],
                 i: int) -> tuple[list[KeywordHit], int]:
        for size in range(min(self._longest, len(spans) - i), 0, -1):
            key = tuple(folded[s:e] for s, e in spans[i:i + size])
            words = [normalised[s:e] for s, e in spans[i:i + size]]
            fitting = [(category, keyword, words == list(written))
                       for written, category, keyword in self._entries.get(key, ())
                       if all(_accents_fit(w, k) for w, k in zip(words, written, strict=True))]
            if not fitting:
                continue
            exact = [f for f in fitting if f[2]] or fitting
            start, end = spans[i][0], spans[i + size - 1][1]
            hits = []
            for category, keyword, is_exact in exact:
                weight = float(size) if is_exact or size > 1 else UNACCENTED_SHORT_WEIGHT
                hits.append(KeywordHit(keyword, category, start, end, weight / len(exact)))
            return hits, size
        return [], 1

    def vector(self, text: str) -> np.ndarray:
        """Per category, the log of one plus the weight of its hits (a model feature)."""
        out = np.zeros(len(self.categories))
        for hit in self.find(text):
            out[self._index[hit.category]] += hit.weight
        return np.log1p(out)
