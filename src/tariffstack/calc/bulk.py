"""Pricing a whole file: read in chunks, price each chunk, write the result atomically.

Without ``entry_id`` every line is its own entry and one pass does it. With ``entry_id`` the
MPF minimum and maximum and the de minimis threshold apply per entry, so a first pass prices
the lines into a temporary Parquet file, DuckDB sums each entry (out of core if need be) and a
second pass applies the entry-level rules, in the file's line order.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tariffstack.calc import fees as feemod
from tariffstack.calc.bulkio import Chunk, Writer, file_format, read_chunks
from tariffstack.calc.lines import canonical
from tariffstack.calc.lowvalue import de_minimis_rules, postal_rows
from tariffstack.calc.money import (
    DUTY_COLUMNS,
    OUTPUT_SCHEMA,
    STAGE1_SCHEMA,
    entry_sums,
    stage_entries,
    stage_lines,
)
from tariffstack.calc.pricing import Pricer
from tariffstack.errors import BadInput
from tariffstack.files import atomic_path

Progress = Callable[[int, int, int], None]   # (done, total, lines so far)
SUM_COLUMNS = (*DUTY_COLUMNS, "postal_duty_usd", "duty_usd", "mpf_usd", "hmf_usd", "fees_usd", "total_usd", "value")
MAX_ERRORS_SHOWN = 20


@dataclass
class BulkReport:
    """What a bulk job did: counts, the first bad lines, totals, and where the result went."""

    lines: int = 0
    priced: int = 0
    bad: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    seconds: float = 0.0
    output: Path | None = None
    sources_file: Path | None = None
    engine: str = "local"
    situations: int = 0
    panel: bool = False

    def add(self, t: pa.Table) -> None:
        """Count a priced batch: totals, bad lines, the source keys its lines cite."""
        self.lines += t.num_rows
        err = t.column("error")
        nbad = t.num_rows - pc.count(err, mode="only_null").as_py()
        self.bad += nbad
        self.priced += t.num_rows - nbad
        if nbad and len(self.errors) < MAX_ERRORS_SHOWN:
            bad = t.filter(pc.is_valid(err)).slice(0, MAX_ERRORS_SHOWN - len(self.errors))
            self.errors.extend(zip(bad.column("line").to_pylist(), bad.column("error").to_pylist(), strict=True))
        for c in SUM_COLUMNS:
            s = pc.sum(t.column(c)).as_py()
            self.totals[c] = round(self.totals.get(c, 0.0) + (s or 0.0), 2)
        for text in pc.unique(t.column("sources")).to_pylist():
            if text:
                self.sources.update(text.split("; "))

    def to_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "priced": self.priced, "bad": self.bad,
                "errors": [{"line": n, "error": e} for n, e in self.errors], "totals": self.totals,
                "seconds": round(self.seconds, 3), "output": str(self.output) if self.output else None,
                "sources_file": str(self.sources_file) if self.sources_file else None, "engine": self.engine}


def source_rows(pricer: Pricer, keys: Iterable[str]) -> list[list[str]]:
    """(key, what, source) for every source key cited in an output: product lines and Chapter
    99 headings (with the citation the registry gives), fee rows, de minimis rules, postal rows."""
    heads: dict[str, tuple[str, str]] = {}
    for f in pricer.formulas:
        for t in f.terms:
            if t.heading and t.heading not in heads and t.layer != "mfn":
                heads[t.heading] = (t.summary or t.layer, t.source or "")
    fee_rows = {r.key: r for r in feemod.fee_table()}
    dm = {f"de_minimis:{r.id}": r for r in de_minimis_rules()}
    postal = {r.key: r for r in postal_rows()}
    out = []
    for k in sorted(keys):
        if k in heads:
            out.append([k, heads[k][0], heads[k][1]])
        elif k in fee_rows:
            r = fee_rows[k]
            out.append([k, f"{r.fee.upper()} {r.entry_type} {r.mode}: {r.describe()}", r.source])
        elif k in dm:
            out.append([k, dm[k].summary, dm[k].citation])
        elif k in postal:
            out.append([k, f"postal {postal[k].method}", postal[k].source])
        elif k[:1].isdigit() and not k.startswith("99"):
            out.append([k, "rate of the product line (column 1 General, column 2 or the Special program claimed)",
                        f"HTS, product line {k}, in the revision the 'revision' column names"])
        else:
            out.append([k, "", "19 U.S.C. 1321(a)(2)(C)" if k.startswith("de_minimis") else ""])
    return out


def _has_entries(first: Chunk) -> bool:
    names = [canonical(c) for c in first.table.column_names]
    if "entry_id" not in names:
        return False
    col = first.table.column(first.table.column_names[names.index("entry_id")])
    return bool(col.null_count < len(col))


def price_file(pricer: Pricer, src: Path, out: Path, *, fmt_in: str | None = None, fmt_out: str | None = None,
               encoding: str = "utf-8", sheet: str | None = None, progress: Progress | None = None,
               rows: int = 131_072, workers: int | None = None) -> BulkReport:
    """Price every line of ``src`` into ``out`` (CSV, Parquet or Excel, by extension)."""
    t0 = time.perf_counter()
    workers = default_workers(src) if workers is None else workers
    kind_out = file_format(out, fmt_out)
    if out.resolve() == src.resolve():
        raise BadInput(f"the output {out} is the input file: give another name")
    report = BulkReport(panel=pricer.panel is not None)
    chunks = read_chunks(src, fmt=fmt_in, encoding=encoding, sheet=sheet, rows=rows)
    first = next(chunks, None)
    stream: Iterator[Chunk] = iter(()) if first is None else _chain(first, chunks)
    with atomic_path(out) as tmp:
        writer = Writer(tmp, kind_out, OUTPUT_SCHEMA)
        if first is not None and _has_entries(first):
            _two_pass(pricer, stream, writer, report, progress, out, workers)
        else:
            for chunk, priced in _priced(pricer, stream, workers, _one_pass):
                writer.write(priced)
                report.add(priced)
                if progress is not None:
                    progress(chunk.done, chunk.total, report.lines)
        if kind_out == "xlsx":
            writer.extra_sheets = excel_extras(pricer, report)
        writer.close()
    report.output = out
    if kind_out != "xlsx":
        report.sources_file = write_sources(pricer, report, out)
    report.situations = len(pricer.formulas)
    report.seconds = time.perf_counter() - t0
    return report


def _one_pass(pricer: Pricer, chunk: Chunk) -> pa.Table:
    t = stage_lines(pricer, chunk.table, chunk.lines, chunk.errors)
    v, b = entry_sums(t)
    return stage_entries(t, v, b)


def _stage1(pricer: Pricer, chunk: Chunk) -> pa.Table:
    return stage_lines(pricer, chunk.table, chunk.lines, chunk.errors)


_WORKER: Pricer | None = None   # the pricer a forked worker inherits


def _work(job: Callable[[Pricer, Chunk], pa.Table], chunk: Chunk) -> pa.Table:
    assert _WORKER is not None
    return job(_WORKER, chunk)


def _priced(pricer: Pricer, chunks: Iterator[Chunk], workers: int,
            job: Callable[[Pricer, Chunk], pa.Table]) -> Iterator[tuple[Chunk, pa.Table]]:
    """Each chunk priced, in order: in this process, or by ``workers`` forked processes that
    share the loaded law (copy on write) while this one reads and writes. At most two chunks
    per worker are in flight, so memory stays flat whatever the file's size."""
    if workers <= 1:
        for chunk in chunks:
            yield chunk, job(pricer, chunk)
        return
    global _WORKER
    _WORKER = pricer
    window: deque[tuple[Chunk, Future[pa.Table]]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for chunk in chunks:
            window.append((chunk, pool.submit(_work, job, chunk)))
            if len(window) >= 2 * workers:
                done, fut = window.popleft()
                yield done, fut.result()
        while window:
            done, fut = window.popleft()
            yield done, fut.result()
    _WORKER = None


def default_workers(src: Path) -> int:
    """Two processes on two cores for a file of more than a few chunks; one for small files."""
    try:
        big = src.stat().st_size > 32 << 20
    except OSError:
        big = False
    return max(1, min(os.cpu_count() or 1, 4)) if big else 1


def _chain(first: Chunk, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield first
    yield from rest


def _two_pass(pricer: Pricer, chunks: Iterator[Chunk], writer: Writer, report: BulkReport,
              progress: Progress | None, out: Path, workers: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=".calc-", dir=out.resolve().parent))
    try:
        stage1 = work / "lines.parquet"
        pw = pq.ParquetWriter(str(stage1), STAGE1_SCHEMA, compression="lz4")
        seen = 0
        for chunk, t in _priced(pricer, chunks, workers, _stage1):
            pw.write_table(t)
            seen += t.num_rows
            if progress is not None:
                progress(chunk.done, chunk.total, seen)
        pw.close()
        db = duckdb.connect()
        db.execute(f"SET temp_directory = '{work / 'spill'}'")
        db.execute("SET preserve_insertion_order = false")
        rel = db.query(f"""
            WITH s AS (SELECT * FROM read_parquet('{stage1}')),
            e AS (SELECT _entry, sum(CASE WHEN _good THEN value ELSE 0 END) AS ev, sum(_mpf_base) AS eb
                  FROM s WHERE _entry IS NOT NULL GROUP BY _entry)
            SELECT s.*, coalesce(e.ev, CASE WHEN s._good THEN s.value ELSE 0 END) AS _ev,
                   coalesce(e.eb, s._mpf_base) AS _eb
            FROM s LEFT JOIN e ON s._entry = e._entry ORDER BY s.line""")
        reader = rel.to_arrow_reader(131_072)
        for batch in reader:
            t = pa.Table.from_batches([batch])
            ev = np.asarray(t.column("_ev").to_numpy(zero_copy_only=False), dtype=np.float64)
            eb = np.asarray(t.column("_eb").to_numpy(zero_copy_only=False), dtype=np.float64)
            priced = stage_entries(t.drop_columns(["_ev", "_eb"]), ev, eb)
            writer.write(priced)
            report.add(priced)
        db.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def excel_extras(pricer: Pricer, report: BulkReport) -> dict[str, list[list[Any]]]:
    """The extra sheets of an Excel output: totals, the first bad lines, and the sources."""
    totals: list[list[Any]] = [["what", "value"], ["lines", report.lines], ["priced", report.priced],
                               ["bad lines", report.bad]]
    totals += [[k, v] for k, v in report.totals.items()]
    errors: list[list[Any]] = [["line", "error"], *[[n, e] for n, e in report.errors]]
    if report.bad > len(report.errors):
        errors.append(["", f"... and {report.bad - len(report.errors)} more: filter the 'error' column of the priced sheet"])
    return {"totals": totals, "errors": errors, "sources": [["key", "what", "source"], *source_rows(pricer, report.sources)]}


def write_sources(pricer: Pricer, report: BulkReport, out: Path) -> Path:
    """``<output>.sources.csv``: every source key the output cites, with its citation."""
    path = out.with_name(out.name + ".sources.csv")
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "what", "source"])
        w.writerows(source_rows(pricer, report.sources))
    return path
