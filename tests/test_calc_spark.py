"""The Spark job (local mode) gives the rows the single-machine path gives, line for line."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffstack.calc import PanelTables, Pricer
from tariffstack.calc.bulk import price_file
from tariffstack.engine.us import Engine

pytestmark = [pytest.mark.spark, pytest.mark.skipif(
    shutil.which("java") is None, reason="Spark needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)")]


@pytest.fixture(scope="module")
def spark() -> Any:
    from tariffstack.calc.spark import session

    s = session("local[2]", app="tariffstack tests")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def setup(engine: Engine, panel_home: tuple[Path, object]) -> tuple[Pricer, list[str]]:
    codes = sorted(ln.hts10 for ln in engine.model.lines[-1].values() if len(ln.digits) == 10)
    return Pricer(engine, PanelTables.load(panel_home[0])), codes[:: max(1, len(codes) // 3000)]


ROW = st.tuples(st.integers(0, 10**6), st.sampled_from(["CN", "DE", "VN", "MX", "CA", "BR", "IN", "narnia"]),
                st.integers(-5, 530), st.floats(-10, 3e5), st.sampled_from(["", "kg", "prs", "no"]),
                st.sampled_from(["ocean", "air", "postal"]), st.sampled_from(["", "", "0.4"]),
                st.sampled_from(["", "E1", "E2", "E3"]))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=80))
def test_spark_agrees_with_the_local_path(spark: Any, setup: tuple[Pricer, list[str]], hts_dir: Path,
                                          session_home: Path, tmp_path_factory: pytest.TempPathFactory,
                                          rows: list[Any]) -> None:
    from tariffstack.calc.spark import price_file_spark

    pricer, codes = setup
    tmp = tmp_path_factory.mktemp("spark")
    first = pricer.first
    src = tmp / "in.parquet"
    pq.write_table(pa.table({
        "hts10": [codes[i % len(codes)] for i, *_ in rows], "origin": [r[1] for r in rows],
        "entry_date": [(first + timedelta(days=r[2])).isoformat() for r in rows],
        "value": [round(r[3], 2) for r in rows], "quantity": [None if not r[4] else 50.0 for r in rows],
        "unit": [r[4] for r in rows], "mode": [r[5] for r in rows], "metal_content_share": [r[6] for r in rows],
        "entry_id": [r[7] or None for r in rows],
    }), src)
    price_file(pricer, src, tmp / "local.parquet")
    report = price_file_spark(hts_dir, session_home, src, tmp / "spark.parquet", spark=spark, pricer=pricer)
    local, remote = pq.read_table(tmp / "local.parquet"), pq.read_table(tmp / "spark.parquet")
    assert report.lines == len(rows) and remote.num_rows == len(rows)
    assert remote.to_pylist() == local.to_pylist()


def test_spark_reads_csv_with_the_local_bad_line_rules(spark: Any, setup: tuple[Pricer, list[str]], hts_dir: Path,
                                                       session_home: Path, tmp_path: Path) -> None:
    from tariffstack.calc.spark import price_file_spark

    pricer, _ = setup
    src = tmp_path / "in.csv"
    src.write_bytes(b"hts10,origin,entry_date,value,quantity,unit,mode\n"
                    b"6403.99.9065,VN,2025-09-01,80000,5000,prs,ocean\n"
                    b"0406.90.1200,FR,2025-10-01,12000,1500,kg,air\n"
                    b"8517.13.0000,C\xf4te,2025-05-02,100,,,air\n\n"
                    b"bad,CN,2025-05-02,1,,,air\n")
    price_file(pricer, src, tmp_path / "local.csv")
    report = price_file_spark(hts_dir, session_home, src, tmp_path / "spark.csv", spark=spark, pricer=pricer)
    assert (tmp_path / "spark.csv").read_text() == (tmp_path / "local.csv").read_text()
    assert report.bad == 2 and [n for n, _ in report.errors] == [4, 6]
