"""Training and evaluating the category classifier: ``python -m routing.train``.

The only module of routing that needs scikit-learn: it fits the pipeline, then exports it
to the plain arrays that ``routing.classifier`` classifies with.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from routing import classifier as classifiers
from routing.corpus import CORPUS_PATH, KEYWORDS_PATH, fingerprint, read_corpus, read_keywords, split
from routing.directory import DEFAULT_PATH, Directory
from routing.keywords import KeywordMatcher

KEYWORD_SCALE = 0.3
Row = tuple[str, str]


@dataclass(frozen=True)
class _Keywords:
    code: str
    keywords: tuple[str, ...]


def keyword_lists(categories: Iterable[Any] | None = None,
                  extra_path: Path | str = KEYWORDS_PATH) -> list[_Keywords]:
    """Each category's keywords (default: ``categories.csv``) plus ``data/routing/keywords.csv``."""
    if categories is None:
        categories = Directory.from_csv(DEFAULT_PATH).categories.values()
    extra = read_keywords(extra_path)
    lists = [_Keywords(c.code, tuple(c.keywords) + extra.pop(c.code, ())) for c in categories]
    return lists + [_Keywords(code, words) for code, words in sorted(extra.items())]


class KeywordFeatures(TransformerMixin, BaseEstimator):
    """Per-category keyword weights as extra features, scaled to sit beside the n-grams."""

    def __init__(self, keywords: tuple[tuple[str, tuple[str, ...]], ...] = (),
                 scale: float = KEYWORD_SCALE) -> None:
        self.keywords = keywords
        self.scale = scale

    def fit(self, texts: Iterable[str], y: Any = None) -> KeywordFeatures:
        """Build the matcher (the keywords are parameters, nothing is learned)."""
        self.matcher_ = KeywordMatcher(_Keywords(c, k) for c, k in self.keywords)
        return self

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """One row of keyword weights per text."""
        rows = [self.matcher_.vector((t or "")[:classifiers.MAX_CHARS]) for t in texts]
        if not rows:
            return sparse.csr_matrix((0, len(self.keywords)))
        return sparse.csr_matrix(np.vstack(rows) * self.scale)


def build_pipeline(lists: Sequence[_Keywords], folds: int = 3) -> Pipeline:
    """Character 2–5-grams and word 1–2-grams of the folded text, keywords, and a linear SVM
    whose scores are calibrated into probabilities on ``folds`` folds."""
    features = FeatureUnion([
        # N-grams in half the descriptions ("cho hỏi", "nhà tôi") say nothing of the category.
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=classifiers.model_text,
                                  sublinear_tf=True, max_df=0.5)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), preprocessor=classifiers.model_text,
                                  token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regex, not a secret)
                                  sublinear_tf=True, max_df=0.5)),
        ("keywords", KeywordFeatures(tuple((k.code, k.keywords) for k in lists))),
    ])
    model = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), cv=folds, method="sigmoid")
    return Pipeline([("features", features), ("model", model)])


def export(pipeline: Pipeline, meta: dict[str, Any]) -> classifiers.Classifier:
    """The fitted pipeline as arrays for ``routing.classifier``."""
    chars, words, keywords = (t for _, t in pipeline.named_steps["features"].transformer_list)
    calibrated = pipeline.named_steps["model"]
    classes = [str(c) for c in calibrated.classes_]
    n_features = len(chars.vocabulary_) + len(words.vocabulary_) + len(keywords.keywords)
    folds = calibrated.calibrated_classifiers_
    weights = np.zeros((len(folds), n_features, len(classes)), dtype=np.float32)
    intercepts = np.zeros((len(folds), len(classes)))
    # A class no fold's estimator saw gets a very low score: its calibrated probability ≈ 0.
    calibration = np.tile(np.array([[0.0], [50.0]]), (len(folds), 1, len(classes)))
    for f, fold in enumerate(folds):
        estimator, labels = fold.estimator, [classes.index(str(c)) for c in fold.estimator.classes_]
        if len(labels) == 2:
            # Binary: one score s for the second class, p1 = σ(-(a·s + b)) and p0 = 1 - p1,
            # which is the same expression with -a and -b.
            a, b = fold.calibrators[0].a_, fold.calibrators[0].b_
            for c, sign in zip(labels, (-1.0, 1.0), strict=True):
                weights[f, :, c] = estimator.coef_[0]
                intercepts[f, c] = estimator.intercept_[0]
                calibration[f, :, c] = (sign * a, sign * b)
            continue
        for j, c in enumerate(labels):
            weights[f, :, c] = estimator.coef_[j]
            intercepts[f, c] = estimator.intercept_[j]
            calibration[f, :, c] = (fold.calibrators[j].a_, fold.calibrators[j].b_)

    def vocabulary(v: TfidfVectorizer) -> classifiers.Vocabulary:
        return classifiers.Vocabulary(v.analyzer, tuple(v.ngram_range), dict(v.vocabulary_), v.idf_)

    return classifiers.Classifier(tuple(classes), vocabulary(chars), vocabulary(words), keywords.keywords,
                                  keywords.scale, weights, intercepts, calibration, meta)


def fit(rows: Sequence[Row], lists: Sequence[_Keywords], meta: dict[str, Any] | None = None
        ) -> classifiers.Classifier:
    """Train on (text, category) rows; a category with a single row cannot be learned and is left out."""
    counts = Counter(c for _, c in rows)
    kept = [(t, c) for t, c in rows if counts[c] >= 2]
    if len({c for _, c in kept}) < 2:
        raise ValueError("training needs at least two categories with two descriptions each")
    pipeline = build_pipeline(lists, folds=min(3, min(counts[c] for _, c in kept)))
    pipeline.fit([t for t, _ in kept], [c for _, c in kept])
    info = {"rows": len(kept), "left_out": sorted(c for c, n in counts.items() if n < 2)}
    info.update(meta or {})
    return export(pipeline, info)


def train(rows: Sequence[Row] | None = None, extra_rows: Iterable[tuple[Any, Any]] = (),
          categories: Iterable[Any] | None = None, corpus_path: Path | str = CORPUS_PATH
          ) -> classifiers.Classifier:
    """A classifier trained on ``rows`` (default: the whole corpus) plus ``extra_rows``.

    ``extra_rows`` are (description, category) pairs that operators confirmed on closed
    tickets; pairs with an empty text or category are skipped. ``categories`` (objects with
    ``code`` and ``keywords``, e.g. directory rows) default to ``categories.csv``.
    """
    base = list(rows) if rows is not None else read_corpus(corpus_path)
    extra = [(str(t).strip(), str(c).strip()) for t, c in extra_rows
             if t and c and str(t).strip() and str(c).strip()]
    meta = {"corpus_sha256": fingerprint(corpus_path, KEYWORDS_PATH) if rows is None else None,
            "extra_rows": len(extra)}
    return fit(base + extra, keyword_lists(categories), meta)


def load_or_train(path: Path | str | None = None, corpus_path: Path | str = CORPUS_PATH,
                  categories: Iterable[Any] | None = None) -> classifiers.Classifier:
    """The model cached at ``path`` if trained on this corpus (or retrained with extra rows
    from it), else a model trained now and cached there."""
    path = Path(path) if path is not None else classifiers.DEFAULT_MODEL_PATH
    cached = classifiers.load(path)
    if cached is not None and cached.meta.get("corpus_sha256") == fingerprint(corpus_path, KEYWORDS_PATH):
        return cached
    model = train(categories=categories, corpus_path=corpus_path)
    with contextlib.suppress(OSError):  # a read-only disk costs a retrain next time, not a failed call
        classifiers.save(model, path)
    return model


@dataclass(frozen=True)
class Evaluation:
    """Accuracy on held-out rows and the most frequent confusions."""

    accuracy: float
    total: int
    correct: int
    confusions: list[tuple[str, str, int]]  # (true, predicted, count), most frequent first
    mistakes: list[tuple[str, str, str]]  # (text, true, predicted)


def evaluate(model: classifiers.Classifier, rows: Sequence[Row]) -> Evaluation:
    """Score the model on labelled rows."""
    proposals = model.classify_many([t for t, _ in rows])
    mistakes = [(t, c, p.category or "") for (t, c), p in zip(rows, proposals, strict=True) if p.category != c]
    confusions = Counter((c, p) for _, c, p in mistakes).most_common()
    correct = len(rows) - len(mistakes)
    return Evaluation(correct / len(rows) if rows else 0.0, len(rows), correct,
                      [(c, p, n) for (c, p), n in confusions], mistakes)


def main(argv: list[str] | None = None) -> int:
    """Evaluate on the held-out split, then train on the whole corpus and save the model."""
    parser = argparse.ArgumentParser(prog="python -m routing.train", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=classifiers.DEFAULT_MODEL_PATH, help="model file to write")
    parser.add_argument("--mistakes", action="store_true", help="print every held-out mistake")
    args = parser.parse_args(argv)
    rows = read_corpus(CORPUS_PATH)
    train_rows, heldout = split(rows)
    started = time.perf_counter()
    model = train(train_rows)
    split_seconds = time.perf_counter() - started
    result = evaluate(model, heldout)
    print(f"corpus: {len(rows)} rows, {len({c for _, c in rows})} categories; "
          f"train {len(train_rows)}, held out {len(heldout)}")
    print(f"held-out accuracy: {result.accuracy:.1%} ({result.correct}/{result.total}); "
          f"training on the split took {split_seconds:.2f} s")
    print("most frequent confusions (true → predicted: count):")
    for true, predicted, count in result.confusions[:10]:
        print(f"  {true} → {predicted}: {count}")
    if args.mistakes:
        for text, true, predicted in result.mistakes:
            print(f"  [{true} → {predicted}] {text}")
    started = time.perf_counter()
    final = train()
    seconds = time.perf_counter() - started
    classifiers.save(final, args.out)
    print(f"trained on all {len(rows)} rows in {seconds:.2f} s; saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
