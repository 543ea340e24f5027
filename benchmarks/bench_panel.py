"""Benchmarks (not tests) of the rate panel against the targets of the panel issue.

- full build of every revision from the raw JSON archives (``tariffstack build`` in a fresh
  home): wall time and peak RSS; target <= 60 s and <= 2 GiB;
- incremental build after one new revision: target <= 5 s;
- point query on a warm store, in-process: target p99 <= 1 ms;
- full one-date export (every HTS-10 x every country) to Parquet: target <= 3 s.

Run: .venv/bin/python benchmarks/bench_panel.py [--data-dir ../shared/hts] [--runs 3]
Prints one JSON object with the median of the runs and the machine it ran on.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tariffstack.config import default_data_dir
from tariffstack.engine.us import Engine
from tariffstack.law import countries
from tariffstack.panel import Panel

CLI = [sys.executable, "-m", "tariffstack.surfaces.cli"]


def run_build(data_dir: Path, home: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``tariffstack build`` in a child process."""
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(data_dir), "TARIFFSTACK_HOME": str(home)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([*CLI, "build"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def truncated(data_dir: Path, dest: Path) -> Path:
    """The data folder without its newest revision (what a user has before ``fetch``)."""
    folder = dest / "hts"
    folder.mkdir(parents=True)
    for name in ("json", "change_records", "notes"):
        if (data_dir / name).exists():
            (folder / name).symlink_to((data_dir / name).resolve())
    with (data_dir / "REVISIONS.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (folder / "REVISIONS.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows[:-1])
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=default_data_dir())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=20000)
    args = ap.parse_args()
    full, rss, incr, export_s, export_rows = [], [], [], [], 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            wall, peak = run_build(args.data_dir, Path(tmp) / "home")
            full.append(wall)
            rss.append(peak)
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            run_build(truncated(args.data_dir, Path(tmp)), home)
            incr.append(run_build(args.data_dir, home)[0])
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        run_build(args.data_dir, home)
        engine = Engine.load(args.data_dir, home)
        panel = Panel.open(home)
        day = date(2025, 8, 20)
        for k in range(args.runs):
            t0 = time.perf_counter()
            export_rows = panel.export(Path(tmp) / f"snap{k}.parquet", fmt="parquet", on=day)
            export_s.append(time.perf_counter() - t0)
        rng = random.Random(11)
        isos = [c.iso2 for c in countries.all_countries()]
        first, last = panel.first_date, panel.last_date
        codes = engine.products(last)
        panel.point(codes[0], "CN", last)  # loads the in-memory index
        lat = []
        for _ in range(args.queries):
            d = first + timedelta(days=rng.randrange((last - first).days + 1))
            code, iso = rng.choice(codes), rng.choice(isos)
            t0 = time.perf_counter()
            try:
                panel.point(code, iso, d)
            except Exception:  # noqa: BLE001 - lines renumbered over time are expected misses
                pass
            lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    print(json.dumps({
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": args.runs,
        "full_build_s_median": round(statistics.median(full), 2),
        "full_build_peak_rss_mib_max": round(max(rss), 1),
        "incremental_build_s_median": round(statistics.median(incr), 2),
        "export_one_date_s_median": round(statistics.median(export_s), 2),
        "export_one_date_rows": export_rows,
        "point_query_ms_median": round(statistics.median(lat), 4),
        "point_query_ms_p99": round(lat[int(len(lat) * 0.99) - 1], 4),
    }, indent=1))


if __name__ == "__main__":
    main()
