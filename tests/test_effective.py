"""Effective (import-weighted) tariff rates on the real schedule and the real default weights."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_inproc import Outcome, invoke
from click.testing import CliRunner

from tariffstack.errors import DataError
from tariffstack.panel import ADD_LAYERS, Panel
from tariffstack.stats import weights as wmod
from tariffstack.stats.effective import (
    KEYS,
    MEASURES,
    Effective,
    _cells,
    boundaries,
    compute,
    spans,
)
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


def test_series_matches_single_dates(panel: Panel, weights: wmod.Weights) -> None:
    # speed is measured in benchmarks/bench_effective.py, not here (a loaded machine is no failure)
    eff = compute(panel, weights, panel.first_date, panel.last_date)
    rows = eff.rows()
    assert rows[0]["date"] == panel.first_date and rows[-1]["until"] == panel.last_date
    assert all(a["until"].toordinal() + 1 == b["date"].toordinal() for a, b in zip(rows, rows[1:], strict=False))
    may = next(r for r in rows if r["date"] <= date(2025, 5, 2) <= r["until"])
    assert may["additional"] == pytest.approx(_on(panel, weights, "2025-05-02").rows()[0]["additional"])


def _same_cells(a: Any, b: Any) -> None:
    """Every cell of ``a`` is in ``b`` with the same weight and rates (to 1e-9): compared as
    sorted columns (a dict of 64,000 rows compared cell by cell took 14 s)."""
    assert a.schema == b.schema and a.num_rows == b.num_rows > 0
    order = [(k, "ascending") for k in KEYS]
    a, b = a.sort_by(order), b.sort_by(order)
    for k in KEYS:
        assert a.column(k).equals(b.column(k)), k
    for m in ("w", *MEASURES):
        x, y = (t.column(m).to_numpy(zero_copy_only=False).astype(float) for t in (a, b))
        assert np.array_equal(np.isnan(x), np.isnan(y)), m
        near = np.isclose(x, y, rtol=1e-9, atol=1e-9) | np.isnan(x)
        assert near.all(), (m, a.slice(int(np.argmin(near)), 1).to_pylist())


def test_factored_sums_equal_the_row_level_sums(panel: Panel, engine: Engine, weights: wmod.Weights,
                                                panel_home: tuple[Path, object]) -> None:
    """The sector-weight cells are summed as (products) x (groups); the row-level query, kept for
    the import and metal options, is the reference: every cell of a year's series must agree,
    with and without the USMCA option's MFN rates."""
    lo, hi = date(2025, 1, 1), date(2025, 12, 31)
    days = spans(lo, hi, boundaries(panel, lo, hi))
    assert len(days) > 20
    _same_cells(*(_cells(panel, weights, days, None, None, None, factored=f)[0] for f in (True, False)))
    usmca = expected.usmca_inputs(engine, panel, panel_home[0], {"canada": 1.0})
    sept = [d for d in days if d[0] >= date(2025, 9, 1)][:3]
    _same_cells(*(_cells(usmca.panel, weights, sept, None, None, usmca.mfn, factored=f)[0] for f in (True, False)))


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


def _main(home: Path, *args: str) -> Outcome:
    """Through the entry point that turns errors into one line and an exit code, in-process (tests/cli_inproc.py)."""
    return invoke("effective-rate", *args, env={"TARIFFSTACK_HOME": str(home), "COLUMNS": "80"})


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


# ---- the user's own import data (HTS-10 x country) ------------------------------------------
from tariffstack.engine.us import Engine, Inputs  # noqa: E402
from tariffstack.errors import BadInput  # noqa: E402
from tariffstack.stats import expected  # noqa: E402
from tariffstack.stats import imports as imod  # noqa: E402

ROWS = [("9503000073", "CN", 1_000_000.0), ("8517130000", "CN", 3_000_000.0), ("8517130000", "VN", 2_000_000.0),
        ("7208510030", "DE", 500_000.0), ("0101210010", "CA", 100_000.0), ("2204215060", "CA", 250_000.0)]
CENSUS = {"CN": "5700", "VN": "5520", "DE": "4280", "CA": "1220"}
DATAWEB_NAMES = {"CN": "China", "VN": "Vietnam", "DE": "Germany", "CA": "Canada"}


def _imdb_line(hts10: str, cty: str, value: int, month: str = "01") -> str:
    """One IMP_DETL.TXT record laid out as census.gov documents it (688 characters)."""
    line = [" "] * 688
    for start, end, text, right in ((1, 10, hts10, False), (11, 14, cty, False), (15, 16, "00", False),
                                    (17, 18, "07", False), (19, 20, "07", False), (21, 22, "61", False),
                                    (23, 26, "2024", False), (27, 28, month, False), (74, 88, str(value), True),
                                    (179, 193, str(value), True)):
        width = end - start + 1
        line[start - 1:end] = list(text.rjust(width) if right else text.ljust(width))
    return "".join(line)


def _expected(panel: Panel, day: str) -> tuple[float, float]:
    """Independently: the value-weighted mean of the panel's point answers."""
    tot = add = 0.0
    for code, origin, v in ROWS:
        p = panel.point(code, origin, day)
        add += v * p["additional_pct"]
        tot += v * p["total_pct"]
    s = sum(v for _, _, v in ROWS)
    return add / s, tot / s


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _plain(tmp_path: Path) -> Path:
    return _write(tmp_path, "plain.csv", "hts10,origin,value_usd\n" + "".join(
        f"{h},{o},{v:.0f}\n" for h, o, v in ROWS))


def _imdb(tmp_path: Path) -> Path:
    lines = []
    for h, o, v in ROWS:  # split each value over two months, as the detail file splits districts
        lines += [_imdb_line(h, CENSUS[o], int(v * 0.4), "01"), _imdb_line(h, CENSUS[o], int(v * 0.6), "02")]
    lines.append(_imdb_line("9503000073", "0003", 999_999_999))   # Census grouping code: European Union
    return _write(tmp_path, "IMP_DETL.TXT", "\r\n".join(lines) + "\r\n")


def _dataweb(tmp_path: Path) -> Path:
    head = '"Imports for Consumption|Annual Data"\n"Data Row Count","6"\n' \
           '"Data Type","Country","HTS Number","Description","2023","2024"\n'
    body = "".join(f'"Customs Value","{DATAWEB_NAMES[o]}","{int(h)}","x","7","{v:,.0f}"\n' for h, o, v in ROWS)
    return _write(tmp_path, "dataweb.csv", head + body + '"Customs Value","Total","9503000073","x","1","9,999,999"\n')


@pytest.mark.parametrize("make", [_plain, _imdb, _dataweb], ids=["csv", "imdb", "dataweb"])
def test_user_import_weights(panel: Panel, weights: wmod.Weights, tmp_path: Path, make: Any) -> None:
    data = imod.load(make(tmp_path), weights)
    assert data.table.num_rows == len(ROWS)
    assert data.total_musd() == pytest.approx(sum(v for *_, v in ROWS) / 1e6)
    eff = compute(panel, weights, date(2025, 5, 2), imports=data)
    r = eff.rows()[0]
    add, tot = _expected(panel, "2025-05-02")
    assert r["additional"] == pytest.approx(add, rel=1e-9) and r["total"] == pytest.approx(tot, rel=1e-9)
    by_country = {x["key"]: x for x in eff.rows("country")}
    assert set(by_country) == {"CN", "VN", "DE", "CA"}
    cn = [(panel.point(h, o, "2025-05-02")["additional_pct"], v) for h, o, v in ROWS if o == "CN"]
    assert by_country["CN"]["additional"] == pytest.approx(sum(a * v for a, v in cn) / sum(v for _, v in cn))
    assert by_country["CN"]["additional"] > by_country["DE"]["additional"]
    assert "your import weights" in eff.label and data.layout.split()[0] in eff.label


def test_imdb_and_dataweb_aggregates_are_left_out(weights: wmod.Weights, tmp_path: Path) -> None:
    assert imod.load(_imdb(tmp_path), weights).aggregates_skipped == 1
    dw = imod.load(_dataweb(tmp_path), weights)
    assert dw.aggregates_skipped == 1 and "2024" in dw.measure
    older = imod.load(_dataweb(tmp_path), weights, year=2023)
    assert older.total_musd() == pytest.approx(7 * len(ROWS) / 1e6)


@pytest.mark.parametrize(("name", "text", "line", "words"), [
    ("a.csv", "hts10,origin,value_usd\n9503000073,CN,100\n8517130000,Atlantis,5\n", 3, "unknown country"),
    ("b.csv", "hts10,origin,value_usd\n9503000073,CN,100\n8517130000,VN,-5\n", 3, "negative"),
    ("c.csv", "hts10,origin,value_usd\n95030000,CN,100\n", 2, "not a 10-digit"),
    ("d.csv", "hts10,origin,value_usd\n9503000073,US,100\n", 2, "United States"),
    ("IMP_DETL.TXT", _imdb_line("9503000073", "5700", 5) + "\n" + _imdb_line("9503000073", "9999", 5) + "\n", 2,
     "unknown Census country code '9999'"),
    ("e.csv", '"Data Type","Country","HTS Number","Description","2024"\n'
              '"Calculated Duties","China","9503000073","x","5"\n', 2, "not an import value"),
    ("f.csv", "code,where,amount\n1,2,3\n", 1, "not a layout"),
])
def test_bad_import_weights_name_the_line(weights: wmod.Weights, tmp_path: Path, name: str, text: str, line: int,
                                          words: str) -> None:
    with pytest.raises(BadInput) as exc:
        imod.load(_write(tmp_path, name, text), weights)
    msg = str(exc.value)
    assert f"{name} line {line}:" in msg and words in msg, msg


def test_cli_user_weights_good_and_bad(panel_home: tuple[Path, object], tmp_path: Path) -> None:
    home = panel_home[0]
    good = _plain(tmp_path)
    res = _invoke(home, "--date", "2025-05-02", "--weights", str(good), "--by", "country")
    assert res.exit_code == 0, res.output
    assert "plain.csv" in res.stdout and max(len(x) for x in res.stdout.splitlines()) <= 80
    bad = _write(tmp_path, "bad.csv", "hts10,origin,value_usd\n9503000073,CN,100\n8517130000,CN,-1\n")
    out = tmp_path / "etr.png"
    res2 = _main(home, "--from", "2025-04-01", "--to", "2025-05-01", "--weights", str(bad), "--plot", str(out))
    assert res2.returncode == 2 and "bad.csv line 3:" in res2.stderr
    assert len(res2.stderr.strip().splitlines()) == 1 and not out.exists()


# ---- expected-value options -------------------------------------------------------------------
def _one(tmp_path: Path, code: str, origin: str, weights: wmod.Weights) -> imod.Imports:
    return imod.load(_write(tmp_path, f"one-{origin}.csv", f"hts10,origin,value_usd\n{code},{origin},1000\n"), weights)


def test_metal_shares_match_the_engine(panel: Panel, engine: Engine, weights: wmod.Weights, weights_dir: Path,
                                       tmp_path: Path) -> None:
    import csv

    metal = expected.metal_inputs(panel, engine, weights_dir)
    day = date(2025, 9, 3)
    with (weights_dir / expected.METAL_FILE).open(encoding="utf-8") as fh:
        shares = {r["hs10"]: r for r in csv.DictReader(fh)}
    for code, metal_col in (("8708998180", "steel_share"), ("8544499000", "aluminum_share")):
        s = min(1.0, float(shares[code][metal_col]))
        one = _one(tmp_path, code, "DE", weights)
        got = compute(panel, weights, day, imports=one, metal=metal).rows()[0]
        want = engine.rate(code, "DE", day, Inputs(metal_content_share=s))
        assert got["additional"] == pytest.approx(want.total_additional_pct, abs=1e-3), code  # engine rounds to 4 places
        statutory = compute(panel, weights, day, imports=one).rows()[0]
        assert statutory["additional"] == pytest.approx(engine.rate(code, "DE", day).total_additional_pct)
        assert got["additional"] < statutory["additional"]
    eff = compute(panel, weights, day, metal=metal)
    assert "metal content shares" in eff.label and "EXPECTED VALUE" in eff.label
    assert eff.rows()[0]["s232"] < compute(panel, weights, day).rows()[0]["s232"]


def test_usmca_claim_shares_match_the_engine(panel: Panel, engine: Engine, weights: wmod.Weights,
                                             panel_home: tuple[Path, object], tmp_path: Path) -> None:
    day = date(2025, 9, 3)
    for code in ("2204215060", "8708998180"):
        one = _one(tmp_path, code, "CA", weights)
        claimed = engine.rate(code, "CA", day, Inputs(usmca_claimed=True)).total_pct
        law = engine.rate(code, "CA", day).total_pct
        for share in (1.0, 0.4):
            usmca = expected.usmca_inputs(engine, panel, panel_home[0], {"canada": share})
            got = compute(panel, weights, day, imports=one, usmca=usmca).rows()[0]["total"]
            assert got == pytest.approx((1 - share) * law + share * claimed, abs=1e-3), (code, share)
    assert engine.rate("2204215060", "CA", day).total_additional_pct >= 35   # fentanyl duty on no claim
    assert expected.parse_shares(["CA=0.38", "MX=50%"]) == {"canada": 0.38, "mexico": 0.5}
    for bad in ("CN=0.5", "CA=1.5", "CA=abc"):
        with pytest.raises(BadInput):
            expected.parse_shares([bad])
