"""What a description is about: a linear model over folded character and word n-grams plus
category keywords, with calibrated probabilities and reasons.

Training needs scikit-learn (``routing.train``); classifying needs only numpy, and the model
file is plain arrays (``.npz``, no pickle), so loading is fast and runs no code.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from routing.keywords import KeywordHit, KeywordMatcher
from routing.reasons import Reason
from routing.text import fold, fold_char_by_char, normalise, vietnamese_share

# Callers paste whole letters; the first part says what it is about and keeps time bounded.
MAX_CHARS = 2_000
# Bump when features or file layout change: cached models of another version are retrained.
MODEL_VERSION = 3
# Below this share of plausible Vietnamese syllables the text is taken as another language.
MIN_VIETNAMESE = 0.5
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "instance" / "routing-model.npz"

_WHITESPACES = re.compile(r"\s\s+")
_TOKEN = re.compile(r"(?u)\b\w+\b")


def model_text(text: str) -> str:
    """What the n-gram features see: the first ``MAX_CHARS`` characters, folded."""
    return fold((text or "")[:MAX_CHARS])


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's ``char_wb`` analyzer)."""
    grams: list[str] = []
    for word in _WHITESPACES.sub(" ", text).split():
        word = f" {word} "
        size = len(word)
        for n in range(low, high + 1):
            if size <= n:  # a word no longer than n counts once, and no longer n-grams follow
                grams.append(word)
                break
            grams.extend([word[i:i + n] for i in range(size - n + 1)])
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """Word n-grams (scikit-learn's ``word`` analyzer with the ``\\b\\w+\\b`` token pattern)."""
    tokens = _TOKEN.findall(text)
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return grams


@dataclass(frozen=True)
class Vocabulary:
    """A fitted TF-IDF vectorizer: terms, their idf, and which analyzer made them."""

    analyzer: str  # "char_wb" or "word"
    ngram_range: tuple[int, int]
    index: dict[str, int]
    idf: np.ndarray

    def vector(self, folded: str) -> tuple[np.ndarray, np.ndarray]:
        """(indices, values): sublinear tf × idf, L2-normalised, as scikit-learn computes it."""
        grams = (char_ngrams if self.analyzer == "char_wb" else word_ngrams)(folded, *self.ngram_range)
        index = self.index
        known = [(index[g], c) for g, c in Counter(grams).items() if g in index]
        if not known:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        idx = np.fromiter((i for i, _ in known), dtype=np.intp, count=len(known))
        tf = np.fromiter((c for _, c in known), dtype=float, count=len(known))
        values = (1.0 + np.log(tf)) * self.idf[idx]
        return idx, values / math.sqrt(float(values @ values))


@dataclass(frozen=True)
class Proposal:
    """The proposed category, how likely, the runners-up and the keywords that were found."""

    category: str | None
    confidence: float
    ranked: tuple[tuple[str, float], ...] = ()
    keywords: tuple[KeywordHit, ...] = ()
    vietnamese: float = 1.0
    truncated: bool = False

    def reasons(self) -> list[Reason]:
        """Why this category: the model's probability, the keywords, the caveats."""
        if self.category is None:
            return [Reason("classifier", "Không có nội dung để phân loại", "No description to classify")]
        top = ", ".join(f"{c} {p:.0%}" for c, p in self.ranked[:3])
        reasons = [Reason("classifier", f"Mô hình đề xuất lĩnh vực {self.category} ({self.confidence:.0%}); "
                          f"xếp hạng: {top}",
                          f"The model proposes {self.category} ({self.confidence:.0%}); ranking: {top}",
                          {"category": self.category, "confidence": round(self.confidence, 3),
                           "ranked": [[c, round(p, 3)] for c, p in self.ranked]})]
        own = [h for h in self.keywords if h.category == self.category]
        if own:
            words = ", ".join(f"«{h.keyword}»" for h in own)
            reasons.append(Reason("keyword", f"Từ khóa của lĩnh vực {self.category}: {words}",
                                  f"Keywords of {self.category}: {words}",
                                  {"category": self.category, "keywords": [h.to_dict() for h in own]}))
        if self.vietnamese < MIN_VIETNAMESE:
            reasons.append(Reason("language", "Nội dung có vẻ không phải tiếng Việt: độ tin cậy thấp",
                                  "The text does not look Vietnamese: low confidence",
                                  {"vietnamese_share": round(self.vietnamese, 2)}))
        if self.truncated:
            reasons.append(Reason("input", f"Nội dung dài, chỉ phân loại {MAX_CHARS} ký tự đầu",
                                  f"Long text: only the first {MAX_CHARS} characters were classified",
                                  {"max_chars": MAX_CHARS}))
        return reasons


EMPTY = Proposal(None, 0.0, vietnamese=0.0)


@dataclass(frozen=True)
class _KeywordList:
    code: str
    keywords: tuple[str, ...]


@dataclass
class Classifier:
    """A trained model as arrays: one linear scorer and sigmoid calibration per fold, averaged."""

    classes: tuple[str, ...]
    chars: Vocabulary
    words: Vocabulary
    keyword_lists: tuple[tuple[str, tuple[str, ...]], ...]
    keyword_scale: float
    weights: np.ndarray  # (folds, features, classes)
    intercepts: np.ndarray  # (folds, classes)
    calibration: np.ndarray  # (folds, 2, classes): a and b of expit(-(a·score + b))
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.matcher = KeywordMatcher(_KeywordList(c, k) for c, k in self.keyword_lists)
        self._offsets = (len(self.chars.index), len(self.chars.index) + len(self.words.index))
        # Keyword columns follow the matcher's category order; map them to feature columns.
        self._keyword_columns = np.arange(len(self.keyword_lists)) + self._offsets[1]

    @property
    def categories(self) -> list[str]:
        """The categories the model can propose."""
        return list(self.classes)

    def classify(self, text: str | None) -> Proposal:
        """The proposal for one description."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str | None]) -> list[Proposal]:
        """Proposals for many descriptions."""
        out = []
        for text in texts:
            clean = (text if isinstance(text, str) else "" if text is None else str(text)).strip()
            if not any(c.isalnum() for c in clean):
                out.append(EMPTY)
                continue
            head = clean[:MAX_CHARS]
            normalised = normalise(head)
            folded = fold_char_by_char(normalised)
            hits = self.matcher.find_normalised(normalised, folded)
            out.append(self._proposal(folded, self._probabilities(folded, hits), hits, len(clean) > MAX_CHARS))
        return out

    def probabilities(self, text: str) -> np.ndarray:
        """Calibrated probability of each class (in ``classes`` order) for one text."""
        return self._probabilities(model_text(text), self.matcher.find(text[:MAX_CHARS]))

    def _probabilities(self, folded: str, hits: list[KeywordHit]) -> np.ndarray:
        c_idx, c_val = self.chars.vector(folded)
        w_idx, w_val = self.words.vector(folded)
        k_val = self.matcher.vector_from_hits(hits) * self.keyword_scale
        k_nz = np.flatnonzero(k_val)
        idx = np.concatenate([c_idx, w_idx + self._offsets[0], self._keyword_columns[k_nz]])
        val = np.concatenate([c_val, w_val, k_val[k_nz]])
        scores = np.einsum("n,fnc->fc", val, self.weights[:, idx, :]) + self.intercepts
        a, b = self.calibration[:, 0, :], self.calibration[:, 1, :]
        proba = 1.0 / (1.0 + np.exp(a * scores + b))
        totals = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, totals, out=np.full_like(proba, 1.0 / len(self.classes)),
                          where=totals != 0)
        return np.minimum(proba, 1.0).mean(axis=0)

    def _proposal(self, folded: str, probabilities: np.ndarray, hits: list[KeywordHit],
                  truncated: bool) -> Proposal:
        order = np.argsort(-probabilities, kind="stable")[:5]
        ranked = tuple((self.classes[j], float(probabilities[j])) for j in order)
        share = vietnamese_share(folded)
        confidence = ranked[0][1]
        if share < MIN_VIETNAMESE:
            # A model of Vietnamese has nothing to say about other languages, however sure it looks.
            confidence *= share
        return Proposal(ranked[0][0], confidence, ranked, tuple(hits), share, truncated)


def save(classifier: Classifier, path: Path | str) -> Path:
    """Write the model as a ``.npz`` of plain arrays, atomically (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"model_version": MODEL_VERSION, "classes": list(classifier.classes),
              "keyword_lists": [[c, list(k)] for c, k in classifier.keyword_lists],
              "keyword_scale": classifier.keyword_scale, "meta": classifier.meta,
              "chars": [classifier.chars.analyzer, list(classifier.chars.ngram_range)],
              "words": [classifier.words.analyzer, list(classifier.words.ngram_range)]}
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, header=np.array(json.dumps(header, ensure_ascii=False)),
                     char_terms=np.array(_terms(classifier.chars)), char_idf=classifier.chars.idf,
                     word_terms=np.array(_terms(classifier.words)), word_idf=classifier.words.idf,
                     weights=classifier.weights, intercepts=classifier.intercepts,
                     calibration=classifier.calibration)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _terms(vocabulary: Vocabulary) -> list[str]:
    terms = [""] * len(vocabulary.index)
    for term, i in vocabulary.index.items():
        terms[i] = term
    return terms


def load(path: Path | str, corpus_sha256: str | None = None) -> Classifier | None:
    """The model at ``path``, or ``None`` when missing, unreadable, of another version, or
    (given ``corpus_sha256``) trained on another corpus."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("model_version") != MODEL_VERSION:
                return None
            if corpus_sha256 is not None and header.get("meta", {}).get("corpus_sha256") != corpus_sha256:
                return None
            chars = Vocabulary(header["chars"][0], tuple(header["chars"][1]),
                               {t: i for i, t in enumerate(data["char_terms"].tolist())}, data["char_idf"])
            words = Vocabulary(header["words"][0], tuple(header["words"][1]),
                               {t: i for i, t in enumerate(data["word_terms"].tolist())}, data["word_idf"])
            return Classifier(tuple(header["classes"]), chars, words,
                              tuple((c, tuple(k)) for c, k in header["keyword_lists"]),
                              float(header["keyword_scale"]), data["weights"], data["intercepts"],
                              data["calibration"], header.get("meta", {}))
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None  # a damaged cache is retrained, not fatal
