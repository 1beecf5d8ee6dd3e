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
        w in (k, f) for w, k, f in zip(written, keyword, fold_char_by_char(keyword), strict=True)
    )


class KeywordMatcher:
    """Finds the keywords of every category in a text, preferring the longest match."""

    def __init__(self, categories: Iterable) -> None:
        # By folded words joined with spaces: (written words, category, keyword); and for
        # each first word, the keyword lengths that start with it, longest first.
        self._entries: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        lengths: dict[str, set[int]] = {}
        self.categories: list[str] = []
        for category in categories:
            self.categories.append(category.code)
            for keyword in category.keywords:
                written = tuple(_WORD.findall(normalise(keyword)))
                if written:
                    folded = tuple(fold_char_by_char(w) for w in written)
                    self._entries.setdefault(" ".join(folded), []).append((written, category.code, keyword))
                    lengths.setdefault(folded[0], set()).add(len(folded))
        self._lengths = {first: sorted(sizes, reverse=True) for first, sizes in lengths.items()}
        self._index = {code: i for i, code in enumerate(self.categories)}

    def find(self, text: str) -> list[KeywordHit]:
        """Non-overlapping hits, scanning left to right and taking the longest keyword at each word.

        Written without accents, one span can be keywords of two categories ("bao hanh" is
        bảo hành or bạo hành): each gets a hit with the weight shared.
        """
        normalised = normalise(text)
        return self.find_normalised(normalised, fold_char_by_char(normalised))

    def find_normalised(self, normalised: str, folded: str) -> list[KeywordHit]:
        """``find`` on text already normalised and folded (the same length)."""
        spans = [(m.start(), m.end()) for m in _WORD.finditer(folded)]
        folded_words = [folded[s:e] for s, e in spans]
        marked = sum(normalised[s:e] != w for (s, e), w in zip(spans, folded_words, strict=True))
        exact_only = bool(spans) and marked >= ACCENTED_TEXT_SHARE * len(spans)
        hits: list[KeywordHit] = []
        i = 0
        while i < len(spans):
            found, size = self._hits_at(normalised, folded_words, spans, i, exact_only)
            hits.extend(found)
            i += size
        return hits

    def _hits_at(self, normalised: str, folded_words: list[str], spans: list[tuple[int, int]], i: int,
                 exact_only: bool) -> tuple[list[KeywordHit], int]:
        for n in self._lengths.get(folded_words[i], ()):
            if i + n > len(spans):
                continue
            entries = self._entries.get(" ".join(folded_words[i:i + n]))
            if not entries:
                continue
            words = [normalised[s:e] for s, e in spans[i:i + n]]
            fitting = [(category, keyword, words == list(written)) for written, category, keyword in entries
                       if words == list(written) or (not exact_only and all(
                           _accents_fit(w, k) for w, k in zip(words, written, strict=True)))]
            if not fitting:
                continue
            chosen = [f for f in fitting if f[2]] or fitting
            start, end = spans[i][0], spans[i + n - 1][1]
            return [KeywordHit(keyword, category, start, end,
                               (float(n) if is_exact or n > 1 else UNACCENTED_SHORT_WEIGHT) / len(chosen))
                    for category, keyword, is_exact in chosen], n
        return [], 1

    def vector(self, text: str) -> np.ndarray:
        """Per category, the log of one plus the weight of its hits (a model feature)."""
        return self.vector_from_hits(self.find(text))

    def vector_from_hits(self, hits: Iterable[KeywordHit]) -> np.ndarray:
        """``vector`` from hits already found."""
        out = np.zeros(len(self.categories))
        for hit in hits:
            out[self._index[hit.category]] += hit.weight
        return np.log1p(out)
