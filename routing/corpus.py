"""The labelled descriptions the classifier learns from, and its fixed held-out split."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "routing"
CORPUS_PATH = DATA / "corpus.csv"
# Everyday words for each category, beyond the official keywords of categories.csv.
KEYWORDS_PATH = DATA / "keywords.csv"
HELDOUT_FRACTION = 0.2
# Changing the salt changes which rows are held out: keep it, so figures stay comparable.
_SALT = b"routing-heldout-v1:"

Row = tuple[str, str]


def read_corpus(path: Path | str = CORPUS_PATH) -> list[Row]:
    """(text, category) rows of a ``text,category`` CSV file."""
    with open(path, encoding="utf-8", newline="") as f:
        return [(r["text"].strip(), r["category"].strip()) for r in csv.DictReader(f)
                if r.get("text", "").strip() and r.get("category", "").strip()]


def read_keywords(path: Path | str = KEYWORDS_PATH) -> dict[str, tuple[str, ...]]:
    """Extra keywords by category from a ``category,keywords`` CSV (``|``-separated)."""
    path = Path(path)
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        return {r["category"].strip(): tuple(k.strip() for k in r["keywords"].split("|") if k.strip())
                for r in csv.DictReader(f) if r.get("category")}


def _rank(text: str) -> str:
    return hashlib.sha256(_SALT + text.encode("utf-8")).hexdigest()


def split(rows: Iterable[Row], fraction: float = HELDOUT_FRACTION) -> tuple[list[Row], list[Row]]:
    """(train, held-out): per category, the rows with the lowest salted hash are held out.

    Depends on each row's text only, not on file order, so adding rows never moves an
    existing row between the two sides.
    """
    by_category: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_category[row[1]].append(row)
    train, heldout = [], []
    for category in sorted(by_category):
        ranked = sorted(by_category[category], key=lambda r: _rank(r[0]))
        n = max(1, round(len(ranked) * fraction)) if len(ranked) > 2 else 0
        heldout.extend(ranked[:n])
        train.extend(ranked[n:])
    return train, heldout


def fingerprint(*paths: Path | str) -> str:
    """SHA-256 of the corpus (and keyword) files, to tell whether a cached model was trained on them."""
    digest = hashlib.sha256()
    for path in paths or (CORPUS_PATH, KEYWORDS_PATH):
        path = Path(path)
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()
