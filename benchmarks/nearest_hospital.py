"""Nearest suitable hospital among 100,000 synthetic facilities: the k-d tree against a scan.

Run: .venv/bin/python benchmarks/nearest_hospital.py [--facilities N] [--queries N] [--seed N]
Prints a Markdown table. Timings are wall-clock per query on this machine, one thread.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from routing.geo import EARTH_RADIUS_M  # noqa: E402
from routing.hospitals import HospitalIndex, is_suitable, rank  # noqa: E402

# Vietnam's bounding box, a little wider: some facilities fall outside, as real data would.
LAT, LON = (7.5, 24.0), (101.5, 110.5)
SPECIALTIES = ("general", "trauma", "obstetrics", "pediatrics", "neonatal", "burns")


@dataclass(frozen=True)
class Facility:
    code: str
    name: str
    lat: float
    lon: float
    emergency: bool
    available: bool
    active: bool
    specialties: tuple[str, ...]


def facilities(n: int, rng: random.Random) -> list[Facility]:
    out = []
    for i in range(n):
        specialties = tuple(s for s in SPECIALTIES if rng.random() < 0.25) or ("general",)
        out.append(Facility(f"F{i:06d}", f"Facility {i}", rng.uniform(*LAT), rng.uniform(*LON),
                            rng.random() < 0.6, rng.random() < 0.85, rng.random() < 0.97, specialties))
    return out


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1022)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    data = facilities(args.facilities, rng)
    queries = [(rng.uniform(8.0, 23.5), rng.uniform(102.0, 110.0)) for _ in range(args.queries)]

    started = time.perf_counter()
    index = HospitalIndex(data)
    build_s = time.perf_counter() - started

    def suitable(facility: Facility) -> bool:
        return is_suitable(facility)

    indexed, nearest = [], []
    for lat, lon in queries:
        t = time.perf_counter()
        found = index.nearest(lat, lon, 1, suitable)
        indexed.append(time.perf_counter() - t)
        nearest.append(found[0][0].code)

    ranked = []
    for lat, lon in queries[:2_000]:
        t = time.perf_counter()
        rank(lat, lon, index, specialty="obstetrics", limit=3)
        ranked.append(time.perf_counter() - t)

    # The scan is numpy-vectorised over all facilities, with suitability precomputed as a mask:
    # the fairest brute force, not a Python loop.
    ordered = index.hospitals
    lats = np.radians([f.lat for f in ordered])
    lons = np.radians([f.lon for f in ordered])
    mask = np.array([is_suitable(f) for f in ordered])
    cos_lats = np.cos(lats)
    scanned, agree = [], 0
    for (lat, lon), expected in zip(queries, nearest, strict=True):
        t = time.perf_counter()
        p, q = np.radians(lat), np.radians(lon)
        h = np.sin((lats - p) / 2) ** 2 + np.cos(p) * cos_lats * np.sin((lons - q) / 2) ** 2
        d = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
        best = int(np.argmin(np.where(mask, d, np.inf)))
        scanned.append(time.perf_counter() - t)
        agree += ordered[best].code == expected

    ms = 1_000
    print(f"{args.facilities:,} facilities ({sum(mask):,} suitable), {args.queries:,} queries, seed {args.seed}\n")
    print("| measure | p50 | p99 | mean |")
    print("|---|---|---|---|")
    for label, values in (("k-d tree: nearest suitable (ms)", indexed), ("numpy scan: nearest suitable (ms)", scanned),
                          ("rank(): 3 nearest with obstetrics, with ETA (ms)", ranked)):
        print(f"| {label} | {percentile(values, 50) * ms:.3f} | {percentile(values, 99) * ms:.3f} | "
              f"{np.mean(values) * ms:.3f} |")
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| index build (s) | {build_s:.2f} |")
    print(f"| scan / tree, median latency | {percentile(scanned, 50) / percentile(indexed, 50):.0f}× |")
    print(f"| scan / tree, total time | {sum(scanned) / sum(indexed):.0f}× |")
    print(f"| same answer as the scan | {agree:,} / {len(queries):,} |")
    print(f"| p99 < 1 ms | {'yes' if percentile(indexed, 99) < 0.001 else 'NO'} |")
    return 0 if agree == len(queries) else 1


if __name__ == "__main__":
    raise SystemExit(main())
