"""Benchmark (not a test) of bulk pricing: lines per minute end to end, peak memory, Spark time.

Generates a shipment file in a temporary folder (default 5,000,000 lines; --lines for fewer): a
catalogue of 20,000 products from the schedule, 40 origins, entry dates over the whole covered
period, values and quantities, a few percent of lines with shipment inputs (metal content,
USMCA claims) and a few bad lines. Then prices it with ``tariffstack calc-bulk`` in a child
process (wall time and peak RSS of that process) and, with --spark, as the Spark job in local
mode on the same file. Target (issue 11): at least 1,000,000 lines per minute on 2 cores.

Run: .venv/bin/python benchmarks/bench_calc.py [--lines 5000000] [--format csv|parquet] [--spark]
(after `tariffstack build`, so that the rate panel is current). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tariffstack.calc.units import parse_unit
from tariffstack.config import default_data_dir, default_home
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput
from tariffstack.law.rates import parse_rate
from tariffstack.sources.schedule import Line, products

ORIGINS = ["CN", "MX", "CA", "DE", "JP", "VN", "KR", "TW", "IN", "IT", "GB", "FR", "IE", "TH", "CH", "MY", "SG",
           "BR", "ID", "NL", "ES", "AU", "IL", "PH", "BE", "TR", "PL", "AT", "SE", "DK", "CL", "CO", "PE", "ZA",
           "SA", "AE", "NZ", "KH", "BD", "PK"]


def _unit(line: Line) -> str:
    """The unit an importer would declare: the specific duty's, else the first reporting unit."""
    spec = parse_rate(line.general).specific
    for text in [*(p.unit for p in spec), *line.units, "kg"]:
        try:
            parse_unit(text, schedule=True)
        except BadInput:
            continue
        return text
    return "kg"


def generate(engine: Engine, n: int, path: Path, fmt: str, seed: int = 11) -> None:
    """A file of ``n`` lines written in slices of one million (memory stays small)."""
    rng = np.random.default_rng(seed)
    m = engine.model
    first_codes = {ln.hts10 for ln in products(m.lines[0])}
    lines = {ln.hts10: ln for ln in products(m.lines[-1]) if ln.hts10 in first_codes}
    codes = np.array(sorted(lines), dtype=object)
    catalogue = codes[rng.choice(len(codes), min(20_000, len(codes)), replace=False)]
    units = np.array([_unit(lines[c]) for c in catalogue], dtype=object)
    days = (m.last_date - m.first_date).days + 1
    first = np.datetime64(m.first_date, "D")
    writer = None
    done = 0
    while done < n:
        k = min(1_000_000, n - done)
        value = np.round(rng.lognormal(8, 1.6, k), 2)
        qty = np.round(value / rng.uniform(2, 40, k), 1)
        inputs = rng.random(k)
        pick = rng.integers(0, len(catalogue), k)
        cols = {
            "hts10": catalogue[pick],
            "origin": np.array(ORIGINS, dtype=object)[np.minimum(rng.geometric(0.12, k) - 1, len(ORIGINS) - 1)],
            "entry_date": np.datetime_as_string(first + rng.integers(0, days, k), unit="D").astype(object),
            "value": value.astype(str).astype(object),
            "quantity": qty.astype(str).astype(object),
            "unit": units[pick],
            "mode": np.array(["ocean", "air", "truck", "postal"], dtype=object)[rng.choice(4, k, p=[.5, .3, .15, .05])],
            "metal_content_share": np.where(inputs < 0.02, "0.4", "").astype(object),
            "usmca_claimed": np.where((inputs > 0.98), "true", "").astype(object),
        }
        bad = rng.random(k) < 0.001
        cols["value"] = np.where(bad, "-1", cols["value"]).astype(object)
        table = pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()})
        if writer is None:
            writer = (pacsv.CSVWriter(str(path), table.schema) if fmt == "csv"
                      else pq.ParquetWriter(str(path), table.schema, compression="zstd"))
        writer.write_table(table)
        done += k
    assert writer is not None
    writer.close()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds and peak RSS (bytes) of a child process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) * 1024, p.stdout


def differences(a: Path, b: Path, limit: int = 5) -> dict[str, object]:
    """Where two priced files differ: rows only in one, and per column the lines that differ."""
    import duckdb

    db = duckdb.connect()
    cols = [f.name for f in pq.read_schema(a) if f.name != "line"]
    counts = db.execute(f"""SELECT count(*) FILTER (WHERE x.line IS NULL), count(*) FILTER (WHERE y.line IS NULL),
        {", ".join(f'count(*) FILTER (WHERE x.line = y.line AND x."{c}" IS DISTINCT FROM y."{c}")' for c in cols)}
        FROM read_parquet('{a}') x FULL JOIN read_parquet('{b}') y USING (line)""").fetchone()
    assert counts is not None
    out: dict[str, object] = {"only_in_second": counts[0], "only_in_first": counts[1]}
    for c, n in zip(cols, counts[2:], strict=True):
        if n:
            out[c] = {"lines": n, "first": db.execute(f"""SELECT line, x."{c}", y."{c}" FROM read_parquet('{a}') x
                JOIN read_parquet('{b}') y USING (line) WHERE x."{c}" IS DISTINCT FROM y."{c}" ORDER BY line
                LIMIT {limit}""").fetchall()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--spark", action="store_true", help="also time the Spark job (local mode) on the same file")
    ap.add_argument("--keep", type=Path, help="copy the input and the priced files into this folder")
    args = ap.parse_args()
    engine = Engine.load(default_data_dir(), default_home())
    env = {**os.environ, "TARIFFSTACK_HOME": str(default_home()), "TARIFFSTACK_DATA_DIR": str(default_data_dir())}
    exe = [sys.executable, "-m", "tariffstack.surfaces.cli"]
    with tempfile.TemporaryDirectory(prefix="bench-calc-") as tmp:
        src = Path(tmp) / f"entries.{args.format}"
        t0 = time.perf_counter()
        generate(engine, args.lines, src, args.format)
        gen_s = time.perf_counter() - t0
        wall, peak, stdout = timed([*exe, "calc-bulk", str(src), "-o", str(Path(tmp) / "priced.parquet"), "--json"], env)
        report = json.loads(stdout)
        result = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "lines": args.lines, "input": f"{args.format}, {src.stat().st_size / 2**20:.0f} MiB", "generate_s": round(gen_s, 1),
            "local": {"wall_s": round(wall, 1), "lines_per_min": round(args.lines / wall * 60),
                      "peak_rss_mib": round(peak / 2**20), "priced": report["priced"], "bad": report["bad"],
                      "inner_s": report["seconds"]},
        }
        if args.spark:
            swall, speak, sout = timed([*exe, "calc-bulk", str(src), "-o", str(Path(tmp) / "spark.parquet"),
                                        "--engine", "spark", "--json"], env)
            srep = json.loads(sout)
            a = pq.read_table(Path(tmp) / "priced.parquet")
            b = pq.read_table(Path(tmp) / "spark.parquet")
            result["spark_local"] = {"wall_s": round(swall, 1), "lines_per_min": round(args.lines / swall * 60),
                                     "driver_peak_rss_mib": round(speak / 2**20), "priced": srep["priced"],
                                     "identical_to_local": a.equals(b)}
            if not a.equals(b):
                result["spark_local"]["differences"] = differences(Path(tmp) / "priced.parquet", Path(tmp) / "spark.parquet")
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in Path(tmp).glob("*.parquet"):
                shutil.copy2(f, args.keep / f.name)
    print(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
