"""What a description is about: a learned model over folded character and word n-grams
plus category keywords, with probabilities and reasons."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from routing.keywords import KeywordHit, KeywordMatcher
from routing.reasons import Reason
from routing.text import fold, vietnamese_share

# Callers paste whole letters; the first part says what it is about and keeps time bounded.
MAX_CHARS = 2_000
# Bump when features or model change: cached models of another version are retrained.
MODEL_VERSION = 2
# Below this share of plausible Vietnamese syllables the text is taken as another language.
MIN_VIETNAMESE = 0.5
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "instance" / "routing-model.joblib"


def model_text(text: str) -> str:
    """What the n-gram features see: the first ``MAX_CHARS`` characters, folded."""
    return fold((text or "")[:MAX_CHARS])


@dataclass(frozen=True)
class _KeywordCategory:
    code: str
    keywords: tuple[str, ...]


class KeywordFeatures(TransformerMixin, BaseEstimator):
    """Per-category keyword weights as extra features, scaled to sit beside the n-grams."""

    def __init__(self, keywords: tuple[tuple[str, tuple[str, ...]], ...] = (), scale: float = 0.3) -> None:
        self.keywords = keywords
        self.scale = scale

    def fit(self, texts: Iterable[str], y: Any = None) -> KeywordFeatures:
        """Build the matcher (the keywords are parameters, nothing is learned)."""
        self.matcher_ = KeywordMatcher(_KeywordCategory(c, k) for c, k in self.keywords)
        return self

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """One row of keyword weights per text."""
        rows = [self.matcher_.vector((t or "")[:MAX_CHARS]) for t in texts]
        if not rows:
            return sparse.csr_matrix((0, len(self.keywords)))
        return sparse.csr_matrix(np.vstack(rows) * self.scale)


def build_pipeline(categories: Iterable[Any], folds: int = 3) -> Pipeline:
    """Character 2–5-grams and word 1–2-grams of the folded text, keywords, and a linear SVM
    whose scores are calibrated into probabilities over ``folds`` folds."""
    keywords = tuple((c.code, tuple(c.keywords)) for c in categories)
    features = FeatureUnion([
        # Words in most descriptions ("cho hỏi", "nhà tôi") say nothing about the category.
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=model_text,
                                  sublinear_tf=True, max_df=0.5, dtype=np.float32)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), preprocessor=model_text,
                                  token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, max_df=0.5,
                                  dtype=np.float32)),
        ("keywords", KeywordFeatures(keywords)),
    ])
    model = CalibratedClassifierCV(LinearSVC(C=1.0), cv=folds, method="sigmoid")
    return Pipeline([("features", features), ("model", model)])


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


@dataclass
class Classifier:
    """A trained pipeline and what it was trained on."""

    pipeline: Pipeline
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        """The categories the model can propose."""
        return [str(c) for c in self.pipeline.classes_]

    def classify(self, text: str | None) -> Proposal:
        """The proposal for one description."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str | None]) -> list[Proposal]:
        """Proposals for many descriptions at once (faster per text)."""
        clean = [(t or "").strip() if isinstance(t, str) or t is None else str(t).strip() for t in texts]
        todo = [i for i, t in enumerate(clean) if any(c.isalnum() for c in t)]
        out: list[Proposal] = [EMPTY] * len(clean)
        if not todo:
            return out
        batch = [clean[i][:MAX_CHARS] for i in todo]
        # Inputs are our own sparse features, finite by construction: skip sklearn's checks.
        with sklearn.config_context(assume_finite=True):
            probabilities = self.pipeline.predict_proba(batch)
        matcher = self.pipeline.named_steps["features"].transformer_list[2][1].matcher_
        classes = self.pipeline.classes_
        for row, i in enumerate(todo):
            out[i] = _proposal(clean[i], probabilities[row], classes, matcher)
        return out


def _proposal(text: str, probabilities: np.ndarray, classes: np.ndarray, matcher: KeywordMatcher) -> Proposal:
    order = np.argsort(-probabilities, kind="stable")[:5]
    ranked = tuple((str(classes[j]), float(probabilities[j])) for j in order)
    share = vietnamese_share(text[:MAX_CHARS])
    confidence = ranked[0][1]
    if share < MIN_VIETNAMESE:
        # A model of Vietnamese has nothing to say about other languages, however sure it looks.
        confidence *= share
    return Proposal(ranked[0][0], confidence, ranked, tuple(matcher.find(text[:MAX_CHARS])), share,
                    len(text) > MAX_CHARS)


def fit(rows: Sequence[tuple[str, str]], categories: Iterable[Any], meta: dict[str, Any] | None = None
        ) -> Classifier:
    """Train on (text, category) rows; a category with a single row cannot be learned and is left out."""
    counts = Counter(c for _, c in rows)
    kept = [(t, c) for t, c in rows if counts[c] >= 2]
    if len({c for _, c in kept}) < 2:
        raise ValueError("training needs at least two categories with two descriptions each")
    folds = min(3, min(counts[c] for _, c in kept))
    pipeline = build_pipeline(categories, folds)
    pipeline.fit([t for t, _ in kept], [c for _, c in kept])
    info = {"model_version": MODEL_VERSION, "sklearn": sklearn.__version__, "rows": len(kept),
            "left_out": sorted(c for c, n in counts.items() if n < 2)}
    info.update(meta or {})
    return Classifier(pipeline, info)


def save(classifier: Classifier, path: Path | str) -> Path:
    """Write the model atomically (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        joblib.dump({"meta": classifier.meta, "pipeline": classifier.pipeline}, tmp, compress=3)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load(path: Path | str) -> Classifier | None:
    """The model at ``path``, or ``None`` when missing, unreadable or of another version.

    Only load files this process or ``python -m routing.train`` wrote: a joblib file is a
    pickle and runs code when read.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = joblib.load(path)
    except Exception:  # noqa: BLE001 — any unreadable cache is retrained, not fatal
        return None
    meta = data.get("meta", {}) if isinstance(data, dict) else {}
    if meta.get("model_version") != MODEL_VERSION or meta.get("sklearn") != sklearn.__version__:
        return None
    return Classifier(data["pipeline"], meta)
