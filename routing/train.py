"""Training and evaluating the category classifier: ``python -m routing.train``."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing import classifier as classifiers
from routing.corpus import CORPUS_PATH, KEYWORDS_PATH, fingerprint, read_corpus, read_keywords, split
from routing.directory import DEFAULT_PATH, Directory


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


def train(rows: Sequence[tuple[str, str]] | None = None, extra_rows: Iterable[tuple[str, str]] = (),
          categories: Iterable[Any] | None = None, corpus_path: Path | str = CORPUS_PATH
          ) -> classifiers.Classifier:
    """A classifier trained on ``rows`` (default: the whole corpus) plus ``extra_rows``.

    ``extra_rows`` are (description, category) pairs confirmed by operators on closed
    tickets; rows with an empty text or category are skipped.
    """
    base = list(rows) if rows is not None else read_corpus(corpus_path)
    extra = [(str(t).strip(), str(c).strip()) for t, c in extra_rows if t and c and str(t).strip()]
    meta = {"corpus_sha256": fingerprint(corpus_path, KEYWORDS_PATH) if rows is None else None,
            "extra_rows": len(extra)}
    return classifiers.fit(base + extra, keyword_lists(categories), meta)


def load_or_train(path: Path | str | None = None, corpus_path: Path | str = CORPUS_PATH,
                  categories: Iterable[Any] | None = None) -> classifiers.Classifier:
    """The cached model at ``path`` if it was trained on this corpus, else train it and cache it."""
    path = Path(path) if path is not None else classifiers.DEFAULT_MODEL_PATH
    cached = classifiers.load(path)
    if cached is not None and cached.meta.get("corpus_sha256") == fingerprint(corpus_path, KEYWORDS_PATH):
        return cached
    model = train(categories=categories, corpus_path=corpus_path)
    try:
        classifiers.save(model, path)
    except OSError:
        pass  # a read-only disk costs a retrain next time, not a failed call
    return model


@dataclass(frozen=True)
class Evaluation:
    """Accuracy on held-out rows and the most frequent confusions."""

    accuracy: float
    total: int
    correct: int
    confusions: list[tuple[str, str, int]]  # (true, predicted, count), most frequent first
    mistakes: list[tuple[str, str, str]]  # (text, true, predicted)


def evaluate(model: classifiers.Classifier, rows: Sequence[tuple[str, str]]) -> Evaluation:
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
    parser.add_argument("--corpus", type=Path, default=CORPUS_PATH, help="text,category CSV")
    parser.add_argument("--mistakes", action="store_true", help="print every held-out mistake")
    args = parser.parse_args(argv)
    rows = read_corpus(args.corpus)
    train_rows, heldout = split(rows)
    started = time.perf_counter()
    model = train(train_rows)
    split_seconds = time.perf_counter() - started
    result = evaluate(model, heldout)
    print(f"corpus: {len(rows)} rows, {len({c for _, c in rows})} categories; "
          f"train {len(train_rows)}, held out {len(heldout)}")
    print(f"held-out accuracy: {result.accuracy:.1%} ({result.correct}/{result.total}); "
          f"training on the split took {split_seconds:.2f} s")
    for true, predicted, count in result.confusions[:10]:
        print(f"  {true} → {predicted}: {count}")
    if args.mistakes:
        for text, true, predicted in result.mistakes:
            print(f"  [{true} → {predicted}] {text}")
    started = time.perf_counter()
    final = train(corpus_path=args.corpus)
    seconds = time.perf_counter() - started
    classifiers.save(final, args.out)
    print(f"trained on all {len(rows)} rows in {seconds:.2f} s; saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
