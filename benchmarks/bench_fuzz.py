"""API fuzzing at volume (not a test): tests/test_fuzz_api.py with many more generated cases.

Every operation of the served OpenAPI document gets N valid and N schema-violating requests
(schemathesis strategies, derandomized) against a live server on loopback; the run fails on any
5xx, any answer that breaks its declared schema, or an error without the error shape.

Run: .venv/bin/python benchmarks/bench_fuzz.py [--examples 500]
Prints one JSON object: cases per operation and mode, operations, seconds, outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=500, help="generated cases per operation and mode")
    args = ap.parse_args()
    env = {**os.environ, "TARIFFSTACK_FUZZ_EXAMPLES": str(args.examples)}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz_api.py"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    print(json.dumps({"examples_per_operation_and_mode": args.examples, "seconds": round(time.perf_counter() - t0, 1),
                      "outcome": "ok" if p.returncode == 0 else "FAILED"}, indent=1))
    if p.returncode:
        print(p.stdout[-4000:], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
