"""Benchmarks (not tests): model build time and peak memory, cold/warm load, point-query latency.

Run: .venv/bin/python benchmarks/bench_engine.py [--data-dir ../shared/hts]
Prints one JSON object of figures; the README and issue notes quote them.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tariffstack.config import default_data_dir
from tariffstack.engine.us import Engine
from tariffstack.law.store import build_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=default_data_dir())
    ap.add_argument("--queries", type=int, default=2000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    build_model(args.data_dir)
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as home:
        t0 = time.perf_counter()
        Engine.load(args.data_dir, Path(home))
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        eng = Engine.load(args.data_dir, Path(home))
        warm_s = time.perf_counter() - t0
    rng = random.Random(7)
    origins = ["CN", "VN", "DE", "GB", "CA", "MX", "JP", "IN", "BR", "KR"]
    lat = []
    first, last = eng.model.first_date, eng.model.last_date
    codes = eng.products(last)
    for _ in range(args.queries):
        day = first + timedelta(days=rng.randrange((last - first).days + 1))
        code = rng.choice(codes)
        t0 = time.perf_counter()
        try:
            eng.rate(code, rng.choice(origins), day)
        except Exception:  # noqa: BLE001 - codes renumbered over time are expected misses
            pass
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    print(json.dumps({
        "build_s": round(build_s, 2),
        "cold_load_with_cache_write_s": round(cold_s, 2),
        "warm_load_s": round(warm_s, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "query_ms_median": round(statistics.median(lat), 3),
        "query_ms_p99": round(lat[int(len(lat) * 0.99) - 1], 3),
        "queries": len(lat),
        "date": date.today().isoformat(),
    }))


if __name__ == "__main__":
    main()
