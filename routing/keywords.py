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
# A text where this share of words carries marks was typed with accents: there a bare
# "cho" is the word cho, not chợ typed without accents, so keywords must match exactly.
ACCENTED_TEXT_SHARE = 0.25


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
        # By first folded word: (folded words, written words, category, keyword), longest first.
        self._by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...], str, str]]] = {}
        self.categories: list[str] = []
        for category in categories:
            self.categories.append(category.code)
            for keyword in category.keywords:
                written = tuple(_WORD.findall(normalise(keyword)))
                if written:
                    folded = tuple(fold_char_by_char(w) for w in written)
                    self._by_first.setdefault(folded[0], []).append((folded, written, category.code, keyword))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._index = {code: i for i, code in enumerate(self.categories)}

    def find(self, text: str) -> list[KeywordHit]:
        """Non-overlapping hits, scanning left to right and taking the longest keyword at each word.

        Written without accents, one span can be keywords of two categories ("bao hanh" is
        bảo hành or bạo hành): each gets a hit with the weight shared.
        """
        normalised = normalise(text)
        folded = fold_char_by_char(normalised)
        spans = [(m.start(), m.end()) for m in _WORD.finditer(folded)]
        marked = sum(normalised[s:e] != folded[s:e] for s, e in spans)
        exact_only = bool(spans) and marked >= ACCENTED_TEXT_SHARE * len(spans)
        hits: list[KeywordHit] = []
        i = 0
        while i < len(spans):
            found, size = self._hits_at(normalised, folded, spans, i, exact_only)
            hits.extend(found)
            i += size
        return hits

    def _hits_at(self, normalised: str, folded: str, spans: list[tuple[int, int]], i: int,
                 exact_only: bool) -> tuple[list[KeywordHit], int]:
        entries = self._by_first.get(folded[spans[i][0]:spans[i][1]])
        if not entries:
            return [], 1
        size, fitting = 0, []
        for keyword_folded, written, category, keyword in entries:
            n = len(keyword_folded)
            if fitting and n < size:
                break  # longer keywords matched: shorter ones at this word do not count
            if i + n > len(spans) or any(folded[s:e] != k for (s, e), k in zip(spans[i:i + n], keyword_folded,
                                                                                strict=False)):
                continue
            words = [normalised[s:e] for s, e in spans[i:i + n]]
            exact = words == list(written)
            if exact or (not exact_only and all(_accents_fit(w, k) for w, k in zip(words, written, strict=True))):
                size = n
                fitting.append((category, keyword, exact))
        if not fitting:
            return [], 1
        chosen = [f for f in fitting if f[2]] or fitting
        start, end = spans[i][0], spans[i + size - 1][1]
        hits = []
        for category, keyword, is_exact in chosen:
            weight = float(size) if is_exact or size > 1 else UNACCENTED_SHORT_WEIGHT
            hits.append(KeywordHit(keyword, category, start, end, weight / len(chosen)))
        return hits, size

    def vector(self, text: str) -> np.ndarray:
        """Per category, the log of one plus the weight of its hits (a model feature)."""
        return self.vector_from_hits(self.find(text))

    def vector_from_hits(self, hits: Iterable[KeywordHit]) -> np.ndarray:
        """``vector`` from hits already found."""
        out = np.zeros(len(self.categories))
        for hit in hits:
            out[self._index[hit.category]] += hit.weight
        return np.log1p(out)
