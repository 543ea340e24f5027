"""The bulk pricing job on Apache Spark: the same stage functions, run on each partition.

The driver loads the law (the compiled model and the rate panel, ~35 MB) once and broadcasts
it; each Python worker unpickles it once and prices the Arrow batches Spark hands it with
:func:`~tariffstack.calc.money.stage_lines` and :func:`~tariffstack.calc.money.stage_entries`,
the functions the single-machine path calls, so both give the same rows. With ``entry_id`` the
entry sums are a Spark aggregation joined back before stage 2. Line numbers are fixed before
Spark sees the data: a Parquet input's rows are numbered by their position in the file
(``_metadata.row_index``), and a CSV or Excel input is first staged by the driver into Parquet
with its line numbers and unreadable-line reasons, so the bad-line rules are the local ones.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tariffstack.calc.bulk import BulkReport, _has_entries, excel_extras, write_sources
from tariffstack.calc.bulkio import Writer, file_format, read_chunks
from tariffstack.calc.money import (
    OUTPUT_SCHEMA,
    STAGE1_SCHEMA,
    entry_sums,
    stage_entries,
    stage_lines,
)
from tariffstack.calc.pricing import PanelTables, Pricer
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput, DataError
from tariffstack.files import atomic_path

LINE, READ_ERROR = "_line", "_read_error"
_PRICERS: dict[str, Pricer] = {}   # per Python worker: job token -> the unpickled pricer


def spark_type(t: pa.DataType) -> str:
    return {pa.int64(): "bigint", pa.string(): "string", pa.float64(): "double", pa.date32(): "date",
            pa.bool_(): "boolean"}[t]


def ddl(schema: pa.Schema) -> str:
    return ", ".join(f"`{f.name}` {spark_type(f.type)}" for f in schema)


_BUNDLES: dict[tuple[int, int, bool], bytes] = {}
_BROADCASTS: dict[tuple[str, int], tuple[Any, str]] = {}


def bundle(engine: Engine, panel: PanelTables | None, assume_unchanged: bool) -> bytes:
    """The compiled law as bytes: what travels to the executors (broadcast), made once per
    engine and panel in this process."""
    key = (id(engine.model), id(panel), assume_unchanged)
    found = _BUNDLES.get(key)
    if found is None:
        tables = None if panel is None else {k: _ipc(v) for k, v in panel.tables.items()}
        found = _BUNDLES[key] = pickle.dumps((engine.model, tables, None if panel is None else panel.meta,
                                              assume_unchanged), protocol=pickle.HIGHEST_PROTOCOL)
    return found


def _ipc(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return bytes(sink.getvalue().to_pybytes())


def pricer_from(blob: bytes) -> Pricer:
    model, tables, meta, assume_unchanged = pickle.loads(blob)
    panel = None if tables is None else PanelTables(
        {k: pa.ipc.open_stream(v).read_all() for k, v in tables.items()}, meta)
    return Pricer(Engine(model), panel, assume_unchanged=assume_unchanged)


def _worker_pricer(bc: Any, token: str) -> Pricer:
    found = _PRICERS.get(token)
    if found is None:
        found = _PRICERS[token] = pricer_from(bc.value)
    return found


def _split(t: pa.Table) -> tuple[pa.Table, np.ndarray, np.ndarray | None]:
    lines = np.asarray(t.column(LINE).to_numpy(zero_copy_only=False), dtype=np.int64)
    errors = None
    if READ_ERROR in t.column_names:
        errors = np.asarray(t.column(READ_ERROR).to_numpy(zero_copy_only=False), dtype=object)
        t = t.drop_columns([READ_ERROR])
    return t.drop_columns([LINE]), lines, errors


def stage1_job(bc: Any, token: str) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pricer = _worker_pricer(bc, token)
        for b in batches:
            raw, lines, errors = _split(pa.Table.from_batches([b]))
            yield from stage_lines(pricer, raw, lines, errors).to_batches()
    return run


def one_pass_job(bc: Any, token: str) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pricer = _worker_pricer(bc, token)
        for b in batches:
            raw, lines, errors = _split(pa.Table.from_batches([b]))
            t = stage_lines(pricer, raw, lines, errors)
            v, s = entry_sums(t)
            yield from stage_entries(t, v, s).to_batches()
    return run


def stage2(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for b in batches:
        t = pa.Table.from_batches([b])
        ev = np.asarray(t.column("_ev").to_numpy(zero_copy_only=False), dtype=np.float64)
        eb = np.asarray(t.column("_eb").to_numpy(zero_copy_only=False), dtype=np.float64)
        yield from stage_entries(t.drop_columns(["_ev", "_eb"]).cast(STAGE1_SCHEMA), ev, eb).to_batches()


def session(master: str | None = None, app: str = "tariffstack calc-bulk") -> Any:
    """A Spark session (local mode unless a master is given) whose Python workers run this
    interpreter, so they import the same tariffstack."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise DataError("Spark needs Java (17 or newer): install it (Debian: apt-get install openjdk-17-jre-headless) "
                        "or set JAVA_HOME")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is a dependency
        raise DataError("pyspark is not installed: pip install -e '.[dev]'") from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.appName(app).master(master or os.environ.get("SPARK_MASTER", "local[*]"))
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "131072")
               .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "2g"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stage_input(src: Path, work: Path, *, encoding: str, sheet: str | None) -> Path:
    """CSV or Excel -> Parquet with ``_line`` and ``_read_error`` (the local reader's rules)."""
    out = work / "input.parquet"
    writer: pq.ParquetWriter | None = None
    for chunk in read_chunks(src, encoding=encoding, sheet=sheet):
        t = chunk.table.append_column(LINE, pa.array(chunk.lines, pa.int64()))
        errs = chunk.errors if chunk.errors is not None else np.full(len(chunk.lines), None, dtype=object)
        t = t.append_column(READ_ERROR, pa.array(errs, pa.string()))
        if writer is None:
            writer = pq.ParquetWriter(str(out), t.schema, compression="lz4")
        writer.write_table(t.cast(writer.schema))
    if writer is None:
        raise BadInput(f"{src} has no lines")
    writer.close()
    return out


def price_dataframe(spark: Any, df: Any, blob: bytes, has_entries: bool) -> Any:
    """The priced DataFrame (columns of the local output) for an input DataFrame that has the
    calculator's columns and ``_line``; use it in your own jobs on a cluster."""
    sc = spark.sparkContext
    key = (sc.applicationId, id(blob))
    if key not in _BROADCASTS:  # one broadcast per session and law: workers unpickle it once
        _BROADCASTS[key] = (sc.broadcast(blob), uuid.uuid4().hex)
    bc, token = _BROADCASTS[key]
    if not has_entries:
        return df.mapInArrow(one_pass_job(bc, token), ddl(OUTPUT_SCHEMA))
    from pyspark.sql import functions as F

    s1 = df.mapInArrow(stage1_job(bc, token), ddl(STAGE1_SCHEMA)).cache()
    sums = (s1.where(F.col("_entry").isNotNull())
            .groupBy("_entry").agg(F.sum(F.when(F.col("_good"), F.col("value")).otherwise(F.lit(0.0))).alias("_ev"),
                                   F.sum("_mpf_base").alias("_eb")))
    joined = (s1.join(sums, "_entry", "left")
              .withColumn("_ev", F.coalesce(F.col("_ev"), F.when(F.col("_good"), F.col("value")).otherwise(F.lit(0.0))))
              .withColumn("_eb", F.coalesce(F.col("_eb"), F.col("_mpf_base"))))
    cols = [*STAGE1_SCHEMA.names, "_ev", "_eb"]
    return joined.select(*cols).mapInArrow(stage2, ddl(OUTPUT_SCHEMA))


def price_file_spark(data_dir: Path, home: Path, src: Path, out: Path, *, master: str | None = None,
                     encoding: str = "utf-8", sheet: str | None = None, assume_unchanged: bool = False,
                     progress: Callable[[str], None] | None = None, spark: Any = None,
                     pricer: Pricer | None = None) -> BulkReport:
    """``calc-bulk --engine spark``: stage the input, run the job, stream its result into ``out``."""
    t0 = time.perf_counter()
    kind_in, kind_out = file_format(src), file_format(out)
    if not src.is_file():
        raise BadInput(f"cannot read {src}: no such file")
    if pricer is None:
        engine = Engine.load(data_dir, home)
        panel = None
        try:
            panel = PanelTables.load(home)
            if not panel.matches(engine):
                panel = None
        except DataError:
            panel = None
        pricer = Pricer(engine, panel, assume_unchanged=assume_unchanged)  # also for the sources table
    engine, panel = pricer.engine, pricer.panel
    blob = bundle(engine, panel, pricer.assume_unchanged)
    report = BulkReport(engine="spark", panel=panel is not None)
    work = Path(tempfile.mkdtemp(prefix=".calc-spark-", dir=out.resolve().parent))
    own = spark is None
    try:
        if kind_in == "parquet":
            first = next(read_chunks(src, rows=1024), None)   # checks the columns, and entry_id
            entries = first is not None and _has_entries(first)
        else:
            if progress:
                progress("staging the input")
            staged = stage_input(src, work, encoding=encoding, sheet=sheet)
            entries = _has_entries(next(read_chunks(staged, rows=1024)))
        spark = spark or session(master)
        from pyspark.sql import functions as F

        if kind_in == "parquet":
            df = spark.read.parquet(str(src.resolve()))
            df = df.withColumn(LINE, F.col("_metadata.row_index") + F.lit(1))
        else:
            df = spark.read.parquet(str(staged))
        if progress:
            progress("pricing on Spark")
        priced = price_dataframe(spark, df, blob, entries)
        result = work / "priced"
        # each partition of one input file is a run of consecutive lines: sorting within it
        # keeps the file's order without a global sort, which would price every line twice
        # (once to sample the range boundaries)
        priced.sortWithinPartitions("line").write.parquet(str(result))
        if progress:
            progress("writing the output")
        with atomic_path(out) as tmp:
            writer = Writer(tmp, kind_out, OUTPUT_SCHEMA)
            for part in _in_line_order(result, work):
                for batch in pq.ParquetFile(part).iter_batches(131_072):
                    t = pa.Table.from_batches([batch]).cast(OUTPUT_SCHEMA)
                    writer.write(t)
                    report.add(t)
            _formulas_for_sources(pricer, report)
            if kind_out == "xlsx":
                writer.extra_sheets = excel_extras(pricer, report)
            writer.close()
    finally:
        if own and spark is not None:
            spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    report.output = out
    if kind_out != "xlsx":
        report.sources_file = write_sources(pricer, report, out)
    report.seconds = time.perf_counter() - t0
    return report


def _line_range(part: Path) -> tuple[int, int] | None:
    """(first, last) line of a part file from its Parquet statistics (None: no rows)."""
    md = pq.ParquetFile(part).metadata
    col = md.schema.names.index("line")
    groups = [md.row_group(i) for i in range(md.num_row_groups) if md.row_group(i).num_rows]
    if not groups:
        return None
    stats = [g.column(col).statistics for g in groups]
    return min(int(s.min) for s in stats), max(int(s.max) for s in stats)


def _in_line_order(result: Path, work: Path) -> list[Path]:
    """The job's part files in line order; when parts overlap (a partitioning that is not a
    run of consecutive lines), one file sorted by DuckDB out of core instead."""
    parts = [(r, p) for p in result.glob("part-*.parquet") if (r := _line_range(p)) is not None]
    parts.sort()
    if all(a[0][1] < b[0][0] for a, b in zip(parts, parts[1:], strict=False)):
        return [p for _, p in parts]
    import duckdb

    merged = work / "sorted.parquet"
    db = duckdb.connect()
    db.execute(f"SET temp_directory = '{work / 'spill'}'")
    db.execute(f"COPY (SELECT * FROM read_parquet('{result}/part-*.parquet') ORDER BY line) TO '{merged}' "
               "(FORMAT parquet)")
    db.close()
    return [merged]


def _formulas_for_sources(pricer: Pricer, report: BulkReport) -> None:
    """Make the driver's pricer know the headings the output cites (for their citations)."""
    if pricer.panel is None:
        return
    wanted = {k for k in report.sources if k.startswith("99")}
    if not wanted:
        return
    for sid, text in pricer._stacks.items():  # noqa: SLF001 - the stored stacks the job used
        if any(h in text for h in wanted):
            pricer._panel_formula("", False, sid)  # noqa: SLF001
