"""Effective (import-weighted) tariff rates on the real schedule and the real default weights."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tariffstack.errors import DataError
from tariffstack.panel.core import ADD_LAYERS, Panel
from tariffstack.stats import weights as wmod
from tariffstack.stats.effective import Effective, compute
from tariffstack.surfaces.cli import cli


@pytest.fixture(scope="module")
def weights_dir(shared_dir: Path) -> Path:
    return shared_dir / "weights"


@pytest.fixture(scope="module")
def weights(weights_dir: Path) -> wmod.Weights:
    return wmod.load(weights_dir)


@pytest.fixture(scope="module")
def panel(panel_home: tuple[Path, object]) -> Panel:
    return Panel.open(panel_home[0])


def _on(panel: Panel, weights: wmod.Weights, day: str) -> Effective:
    return compute(panel, weights, date.fromisoformat(day))


def _partner(eff: Effective, key: str) -> dict[str, Any]:
    return next(r for r in eff.rows("partner") if r["key"] == key)


def test_china_far_above_january_and_japan(panel: Panel, weights: wmod.Weights) -> None:
    jan, may = _on(panel, weights, "2025-01-15"), _on(panel, weights, "2025-05-02")
    cn_jan, cn_may = _partner(jan, "china")["additional"], _partner(may, "china")["additional"]
    assert cn_may > cn_jan + 50          # fentanyl 20% and reciprocal 125% on top of 301
    assert cn_may > 3 * _partner(may, "japan")["additional"]


def test_overall_rises_from_march_to_may(panel: Panel, weights: wmod.Weights) -> None:
    mar = _on(panel, weights, "2025-03-01").rows()[0]
    may = _on(panel, weights, "2025-05-01").rows()[0]
    assert may["additional"] > mar["additional"] + 10
    assert may["total"] > mar["total"]


def test_layers_and_partners_add_up(panel: Panel, weights: wmod.Weights) -> None:
    eff = _on(panel, weights, "2025-09-01")
    r = eff.rows()[0]
    assert r["additional"] == pytest.approx(sum(r[n] for n in ADD_LAYERS), rel=1e-9)
    assert r["total"] == pytest.approx(r["mfn"] + r["additional"], rel=1e-9)
    parts = eff.rows("partner")
    assert {p["key"] for p in parts} == set(wmod.PARTNERS)
    mean = sum(p["weight_musd"] * p["additional"] for p in parts) / sum(p["weight_musd"] for p in parts)
    assert mean == pytest.approx(r["additional"], rel=1e-9)
    chapters = eff.rows("chapter")
    assert sum(c["weight_musd"] for c in chapters) == pytest.approx(r["weight_musd"], rel=1e-9)
    steel = next(c for c in chapters if c["key"] == "72")
    assert steel["s232"] >= 40          # steel at 50% since June 2025 (whole value is metal)


def test_weights_sum_to_source_totals(panel: Panel, weights: wmod.Weights, weights_dir: Path) -> None:
    # independent reading of the source: every goods sector (one the crosswalk maps) of each group
    import csv

    with (weights_dir / wmod.CROSSWALK_FILE).open(encoding="utf-8-sig") as fh:
        goods = {r["gtap_code"].lower() for r in csv.DictReader(fh)} - {"na"}
    with (weights_dir / wmod.WEIGHTS_FILE).open(encoding="utf-8-sig") as fh:
        src = list(csv.DictReader(fh))
    for day in ("2025-01-15", "2026-05-28"):
        eff = _on(panel, weights, day)
        for p in eff.rows("partner"):
            want = sum(float(r[p["key"]]) for r in src if r["gtap_code"].lower() in goods)
            assert p["weight_musd"] == pytest.approx(want, rel=1e-9), (day, p["key"])
    total = sum(float(r["china"]) for r in src)
    assert weights.totals["china"] == pytest.approx(total)
    assert 500_000 < total < 550_000     # SOURCES.md: China about 525,000 (millions of USD)


def test_country_groups(weights: wmod.Weights) -> None:
    groups = dict(zip(weights.countries["iso2"].to_pylist(), weights.countries["partner"].to_pylist(), strict=True))
    assert groups["CN"] == "china" and groups["DE"] == "eu" and groups["KR"] == "ftrow"
    assert groups["VN"] == "row" and "US" not in groups
    assert sum(1 for g in groups.values() if g == "eu") == 27


def test_series_matches_single_dates_and_is_fast(panel: Panel, weights: wmod.Weights) -> None:
    t0 = time.perf_counter()
    eff = compute(panel, weights, panel.first_date, panel.last_date)
    elapsed = time.perf_counter() - t0
    rows = eff.rows()
    assert rows[0]["date"] == panel.first_date and rows[-1]["until"] == panel.last_date
    assert all(a["until"].toordinal() + 1 == b["date"].toordinal() for a, b in zip(rows, rows[1:], strict=False))
    may = next(r for r in rows if r["date"] <= date(2025, 5, 2) <= r["until"])
    assert may["additional"] == pytest.approx(_on(panel, weights, "2025-05-02").rows()[0]["additional"])
    assert elapsed < 60, elapsed


def _copy(weights_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "weights"
    shutil.copytree(weights_dir, folder)
    return folder


@pytest.mark.parametrize(("file", "old", "new", "line", "words"), [
    ("gtap_import_weights.csv", "wht,0.124,", "wht,-0.124,", 3, "must be a finite number"),
    ("gtap_import_weights.csv", "gro,0.892,", "gro,abc,", 4, "not a number"),
    ("hs10_gtap_crosswalk.csv", "0101210020,010121,CTL", "0101210020,010121,XYZ", 3, "unknown GTAP sector"),
    ("country_partner_mapping.csv", "1220,canada", "1220,mars", 3, "unknown partner group"),
    ("country_partner_mapping.csv", "2010,mexico", "9999,mexico", 4, "not in census_to_iso3"),
    ("census_to_iso3.csv", "2010,MEX", "2010,ZZZ", 4, "not a known country"),
    ("gtap_import_weights.csv", "gtap_code,china,row", "gtap_code,china,rest", 1, "missing column"),
])
def test_malformed_weights_name_file_and_line(weights_dir: Path, tmp_path: Path, file: str, old: str, new: str,
                                              line: int, words: str) -> None:
    folder = _copy(weights_dir, tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as exc:
        wmod.load(folder)
    msg = str(exc.value)
    assert f"{file} line {line}:" in msg and words in msg, msg


def _invoke(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), "effective-rate", *args], env={"COLUMNS": "80"},
                              catch_exceptions=False)


def test_cli_tables_fit_80_columns(panel_home: tuple[Path, object]) -> None:
    home = panel_home[0]
    for args in (["--date", "2025-05-02"], ["--date", "2025-05-02", "--by", "layer"],
                 ["--date", "2025-05-02", "--by", "chapter"], ["--from", "2025-03-01", "--to", "2025-06-01"],
                 ["--from", "2025-03-01", "--by", "layer"]):
        res = _invoke(home, *args)
        assert res.exit_code == 0, res.output
        assert max(len(x) for x in res.stdout.splitlines()) <= 80, args
        assert "estimate" in res.stdout
    res = _invoke(home, "--date", "2025-05-02")
    china = next(x for x in res.stdout.splitlines() if x.split()[:1] == ["china"])
    assert float(china.split()[-2]) > 100


def test_cli_json_and_plot(panel_home: tuple[Path, object], tmp_path: Path) -> None:
    home = panel_home[0]
    data = json.loads(_invoke(home, "--date", "2025-05-02", "--json").stdout)
    assert "estimate" in data["label"] and data["by"] == "partner"
    assert {r["key"] for r in data["rows"]} == set(wmod.PARTNERS)
    png = tmp_path / "etr.png"
    res = _invoke(home, "--from", "2025-01-01", "--to", "2025-06-30", "--by", "partner", "--plot", str(png))
    assert res.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"


def _main(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TARIFFSTACK_HOME": str(home), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-c", "from tariffstack.cli import main; main()", "effective-rate", *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_cli_errors_are_one_line(panel_home: tuple[Path, object], tmp_path: Path, weights_dir: Path) -> None:
    home = panel_home[0]
    res = _main(tmp_path / "empty", "--date", "2025-05-02")
    assert res.returncode == 3 and "no rate panel" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = _main(home, "--date", "2019-01-01")
    assert res.returncode == 2 and "outside the panel" in res.stderr and "Traceback" not in res.stderr
    folder = _copy(weights_dir, tmp_path)
    path = folder / wmod.WEIGHTS_FILE
    path.write_text(path.read_text(encoding="utf-8-sig").replace("wht,0.124,", "wht,-1,", 1), encoding="utf-8")
    res = _main(home, "--date", "2025-05-02", "--weights-dir", str(folder))
    assert res.returncode == 3 and "line 3" in res.stderr and len(res.stderr.strip().splitlines()) == 1
