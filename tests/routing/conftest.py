"""Routing fixtures: the real directory files and a model trained on the corpus's training split.

No database: routing works on plain data.
"""

from __future__ import annotations

import pytest

from routing.classifier import Classifier
from routing.corpus import read_corpus, split
from routing.directory import Directory
from routing.train import train


@pytest.fixture(scope="session")
def directory() -> Directory:
    return Directory.from_csv()


@pytest.fixture(scope="session")
def corpus_split() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return split(read_corpus())


@pytest.fixture(scope="session")
def model(corpus_split) -> Classifier:
    """Trained without the held-out rows, so tests on them measure something."""
    return train(corpus_split[0])
