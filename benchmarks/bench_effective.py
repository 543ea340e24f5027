"""Benchmark (not a test) of the effective-rate computation over the built panel.

- one date, overall and by partner;
- the whole covered period, one row per interval of constant rates.
Target (issue 14): every day of the covered period in seconds on 2 cores.

Run: .venv/bin/python benchmarks/bench_effective.py   (after `tariffstack build`)
Prints one JSON object.
"""

from __future__ import annotations

import json
import platform
import statistics
import time

from tariffstack.config import default_data_dir, default_home
from tariffstack.panel import Panel
from tariffstack.stats.effective import compute
from tariffstack.stats.weights import default_weights_dir, load


def main() -> None:
    panel = Panel.open(default_home())
    t0 = time.perf_counter()
    weights = load(default_weights_dir(default_data_dir()))
    load_s = time.perf_counter() - t0
    one = []
    for _ in range(3):
        t0 = time.perf_counter()
        compute(panel, weights, panel.last_date)
        one.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    series = compute(panel, weights, panel.first_date, panel.last_date)
    full = time.perf_counter() - t0
    print(json.dumps({
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "weights_load_s": round(load_s, 2), "one_date_s_median": round(statistics.median(one), 3),
        "full_period_s": round(full, 2), "days": (panel.last_date - panel.first_date).days + 1,
        "intervals": len(series.days),
    }, indent=1))


if __name__ == "__main__":
    main()
