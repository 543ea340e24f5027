"""Benchmark (not a test) of what-if scenarios against a full build of the rate panel.

In a fresh temporary home: a full ``build`` of the panel (the law), then each scenario of
docs/examples/scenarios/ from scratch (check the file, apply it to a copy of the model, build its
panel from its first day, compare one date: effective rates and changed pairs), then the same
again with the scenario panel cached. Target (issue 14): a scenario that changes one heading from
one date (no-november-fentanyl-cut.yaml) in well under the time of a full build.

Run: .venv/bin/python benchmarks/bench_scenario.py [--only NAME]   (prints one JSON object)
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from tariffstack import panel as panel_core
from tariffstack.config import default_data_dir
from tariffstack.engine.us import Engine
from tariffstack.stats import scenario as sc
from tariffstack.stats.scenario_file import parse
from tariffstack.stats.weights import default_weights_dir, load

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "scenarios"
DATES = {"no-november-fentanyl-cut": date(2025, 12, 1), "geneva-a-month-earlier": date(2025, 5, 2),
         "annex-ii-ends": date(2025, 9, 15), "pharma-232": date(2025, 10, 15)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="one scenario name")
    args = ap.parse_args()
    data = default_data_dir()
    weights = load(default_weights_dir(data))
    with tempfile.TemporaryDirectory(prefix="bench-scenario-") as tmp:
        home = Path(tmp)
        engine = Engine.load(data, home)
        t0 = time.perf_counter()
        panel_core.build(engine, home, full=True)
        full = time.perf_counter() - t0
        law = panel_core.Panel.open(home)
        results = {}
        for name, day in DATES.items():
            if args.only and name != args.only:
                continue
            path = EXAMPLES / f"{name}.yaml"
            t0 = time.perf_counter()
            compiled = sc.compile_scenario(parse(path.read_bytes(), path.name), engine, law)
            t_compile = time.perf_counter() - t0
            scen = sc.scenario_panel(engine, law, home, compiled)
            t_panel = time.perf_counter() - t0 - t_compile
            t1 = time.perf_counter()
            cmp = sc.compare(law, scen, compiled, weights, day)
            t_compare = time.perf_counter() - t1
            t1 = time.perf_counter()
            sc.compare(law, sc.scenario_panel(engine, law, home, compiled), compiled, weights, day)
            cached = time.perf_counter() - t1
            results[name] = {
                "first_day": compiled.since.isoformat(), "date": day.isoformat(),
                "check_and_apply_s": round(t_compile, 2), "scenario_panel_s": round(t_panel, 1),
                "evaluations": scen.meta.get("evaluations"), "compare_s": round(t_compare, 1),
                "total_first_run_s": round(t_compile + t_panel + t_compare, 1), "cached_run_s": round(cached, 1),
                "share_of_full_build": round((t_compile + t_panel + t_compare) / full, 2),
                "pairs_changed": cmp.changes[0].pairs,
            }
    print(json.dumps({
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "full_panel_build_s": round(full, 1), "scenarios": results,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=1))


if __name__ == "__main__":
    main()
