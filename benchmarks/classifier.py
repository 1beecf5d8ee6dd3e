"""Category classifier: held-out accuracy, training time, load time, descriptions per second.

Run: .venv/bin/python benchmarks/classifier.py [--n 5000]
Prints a Markdown table. One core: BLAS threads are pinned to one before numpy loads.
"""

from __future__ import annotations

import argparse
import os
import subprocess  # noqa: S404 (our own interpreter, our own fixed code)
import sys
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing import classifier as classifiers  # noqa: E402
from routing.corpus import read_corpus, split  # noqa: E402
from routing.engine import route_1022  # noqa: E402
from routing.train import evaluate, train  # noqa: E402

_COLD_LOAD = """
import time
t = time.perf_counter()
from routing.classifier import load
model = load({path!r})
assert model is not None
print(time.perf_counter() - t)
"""


def cold_load_seconds(path: Path) -> float:
    """Import and load in a fresh interpreter, as a worker starting up would."""
    result = subprocess.run([sys.executable, "-c", _COLD_LOAD.format(path=str(path))], cwd=ROOT,  # noqa: S603
                            capture_output=True, text=True, check=True, timeout=120)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000, help="descriptions to classify")
    args = parser.parse_args()
    rows = read_corpus()
    train_rows, heldout = split(rows)

    started = time.perf_counter()
    model = train(train_rows)
    split_training_s = time.perf_counter() - started
    result = evaluate(model, heldout)

    started = time.perf_counter()
    full = train()
    full_training_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        path = classifiers.save(full, Path(tmp) / "model.npz")
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        classifiers.load(path)
        warm_load_s = time.perf_counter() - started
        cold_load_s = min(cold_load_seconds(path) for _ in range(3))

    texts = [t for t, _ in heldout]
    texts = (texts * (args.n // len(texts) + 1))[:args.n]
    started = time.perf_counter()
    full.classify_many(texts)
    batch_rate = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        full.classify(text)
    single_rate = len(texts) / (time.perf_counter() - started)
    sample = texts[:2_000]
    started = time.perf_counter()
    for text in sample:
        route_1022(text, classifier=full)
    route_rate = len(sample) / (time.perf_counter() - started)

    print(f"corpus {len(rows):,} descriptions, 36 categories; held out {len(heldout)} "
          f"(20 % per category, fixed)\n")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| held-out accuracy | {result.accuracy:.1%} ({result.correct}/{result.total}) | ≥ 90 % |")
    print(f"| training on the split ({len(train_rows):,} rows) | {split_training_s:.2f} s | |")
    print(f"| training on the whole corpus ({len(rows):,} rows) | {full_training_s:.2f} s | |")
    print(f"| model file (.npz) | {size_mb:.1f} MB | |")
    print(f"| model load, warm process | {warm_load_s * 1000:.0f} ms | < 1 s |")
    print(f"| import + model load, fresh interpreter (best of 3) | {cold_load_s * 1000:.0f} ms | < 1 s |")
    print(f"| descriptions/s, one call each (one core) | {single_rate:,.0f} | ≥ 1,000 |")
    print(f"| descriptions/s, classify_many (one core) | {batch_rate:,.0f} | ≥ 1,000 |")
    print(f"| route_1022 decisions/s (classify + locate + rules) | {route_rate:,.0f} | |")
    print("\nMost frequent held-out confusions (true → predicted):\n")
    print("| true | predicted | count |")
    print("|---|---|---|")
    for true, predicted, count in result.confusions[:8]:
        print(f"| {true} | {predicted} | {count} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
