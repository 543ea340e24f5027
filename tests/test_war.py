"""Both sides (stats/war.py and the CLI): one product each way, the averages on the nine WTO dates."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cli_inproc import Outcome, invoke, warm_engine
from click.testing import CliRunner

from tariffstack.engine.cn import ChinaEngine, describe_from_us
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput, DateOutOfRange, UnknownProduct
from tariffstack.panel import Panel
from tariffstack.stats import war
from tariffstack.stats import weights as wmod
from tariffstack.stats.effective import compute
from tariffstack.surfaces.cli import cli

D = dt.date


@pytest.fixture(scope="module")
def cn(shared_dir: Path, engine: Engine) -> ChinaEngine:
    return ChinaEngine.load(shared_dir / "china", describe_from_us(engine.model.lines[-1]))


@pytest.fixture(scope="module")
def weights(shared_dir: Path) -> wmod.Weights:
    return wmod.load(shared_dir / "weights")


@pytest.fixture(scope="module")
def panel(panel_home: tuple[Path, object]) -> Panel:
    return Panel.open(panel_home[0])


@pytest.fixture(scope="module")
def averages(cn: ChinaEngine, panel: Panel, weights: wmod.Weights) -> dict[str, dict[str, Any]]:
    return {r["date"]: r for r in war.wto_date_averages(cn, panel, weights)}


def _raw_china_average(shared_dir: Path) -> dict[str, float]:
    """The import-weighted mean straight from the CSV, written independently of the engine."""
    by_date: dict[str, list[tuple[str, str, str]]] = {}
    with (shared_dir / "china" / "C156_C840.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            by_date.setdefault(r["year_dt"], []).append((r["hs_code"], r["best_avlbl"], r["imports"]))
    out, last_weights = {}, None
    for day in sorted(by_date):
        weights = {h: float(imp) for h, _, imp in by_date[day]}
        if sum(weights.values()) == 0:   # 2026-05-01: the column is empty, the previous one stands
            assert last_weights is not None
            weights = last_weights
        last_weights = weights
        pairs = [(weights[h], float(v)) for h, v, _ in by_date[day] if v not in ("", "NA")]
        out[day] = sum(w * v for w, v in pairs) / sum(w for w, _ in pairs)
    return out


# ---- the averages ------------------------------------------------------------------------------
def test_china_average_on_the_nine_wto_dates(cn: ChinaEngine, shared_dir: Path,
                                             averages: dict[str, dict[str, Any]]) -> None:
    raw = _raw_china_average(shared_dir)
    assert sorted(raw) == sorted(averages) and len(raw) == 9
    for day, r in averages.items():
        assert abs(r["cn_total_pct"] - raw[day]) < 1e-6 and abs(r["cn_wto_pct"] - raw[day]) < 1e-6, day
        assert r["cn_excluded_hs6"] == 12     # the photographic film lines the export gives as NA
    a = {d: r["cn_total_pct"] for d, r in averages.items()}
    assert a["2025-01-01"] < a["2025-02-10"] < a["2025-03-10"] == a["2025-03-20"]
    # across-the-board notices move every line, so they move the average by exactly their rate
    assert abs(a["2025-04-10"] - a["2025-03-20"] - 84) < 1e-9
    assert abs(a["2025-04-12"] - a["2025-04-10"] - 41) < 1e-9
    assert abs(a["2025-05-14"] - a["2025-04-12"] + 115) < 1e-9
    assert a["2025-11-10"] < a["2025-05-14"] and a["2026-05-01"] == pytest.approx(a["2025-11-10"])
    assert averages["2026-05-01"]["cn_weights_from"] == "2025-11-10"
    assert averages["2025-01-01"]["cn_additional_pct"] == 0.0


def test_us_average_on_the_nine_wto_dates(panel: Panel, weights: wmod.Weights,
                                          averages: dict[str, dict[str, Any]]) -> None:
    for day, r in averages.items():
        eff = compute(panel, weights, D.fromisoformat(day))
        china = next(x for x in eff.rows("partner") if x["key"] == "china")
        assert r["us_total_pct"] == pytest.approx(china["total"]) and r["us_additional_pct"] == pytest.approx(
            china["additional"]), day
    u = {d: r["us_total_pct"] for d, r in averages.items()}
    assert u["2025-01-01"] < u["2025-02-10"] < u["2025-03-10"] < u["2025-04-10"]
    assert u["2025-04-12"] > 140 and u["2025-05-14"] < u["2025-04-12"] - 80
    assert u["2026-05-01"] < u["2025-11-10"] < u["2025-05-14"]


def test_average_series_holds_the_wto_figures(cn: ChinaEngine, panel: Panel, weights: wmod.Weights,
                                              averages: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    s = war.average_series(cn, panel, weights, D(2025, 1, 1), D(2025, 12, 31))
    for rows in (s.us, s.cn):
        assert rows[0][0] == D(2025, 1, 1) and rows[-1][1] == D(2025, 12, 31)
        for a, b in zip(rows, rows[1:], strict=False):
            assert a[1] + dt.timedelta(days=1) == b[0] and a[2] != b[2]
    for day in cn.wto_dates[:-1]:
        v = next(x for a, b, x in s.cn if a <= day <= b)
        assert v == pytest.approx(averages[day.isoformat()]["cn_total_pct"])
    assert [a for a, _, _ in s.cn] == [D(2025, 1, 1), D(2025, 2, 10), D(2025, 3, 10), D(2025, 4, 10),
                                       D(2025, 4, 12), D(2025, 5, 14), D(2025, 11, 10)]
    svg = io.BytesIO()
    war.plot_averages(s, svg, "svg")
    text = svg.getvalue().decode()
    assert "Geneva" in text and "Apr 2-12" in text and "Nov 10" in text
    with pytest.raises(BadInput, match="after"):
        war.average_series(cn, panel, weights, D(2025, 6, 1), D(2025, 5, 1))


# ---- one product, both ways --------------------------------------------------------------------
def test_both_sides_of_smartphones(engine: Engine, cn: ChinaEngine) -> None:
    wp = war.product(engine, cn, "8517.13.0000", "2025-01-01", "2026-05-01")
    assert (wp.hts10, wp.hs6) == ("8517.13.00.00", "851713")
    for a, b in zip(wp.rows, wp.rows[1:], strict=False):
        assert a.valid_until + dt.timedelta(days=1) == b.valid_from
    on = {r.valid_from: r for r in wp.rows}

    def at(day: dt.date) -> war.WarRow:
        return next(r for r in wp.rows if r.valid_from <= day <= r.valid_until)

    for day in (D(2025, 4, 15), D(2025, 6, 1), D(2026, 3, 1)):  # each side equals its own engine
        assert at(day).us_total == engine.rate("8517.13.0000", "CN", day).total_pct
        assert at(day).cn_total == cn.rate("851713", day).total_pct
    assert at(D(2025, 4, 15)).cn_total == 150.0 and at(D(2025, 1, 15)).cn_total == 25.0
    assert any(c.startswith("China: ") for c in on[D(2025, 4, 12)].changes)
    assert any(c.startswith("U.S.: ") for c in on[D(2025, 2, 4)].changes)
    png = io.BytesIO()
    war.plot_product(wp, png, "png")
    assert png.getvalue()[:4] == b"\x89PNG"
    assert json.loads(json.dumps(wp.to_json()))["cn"]["calendar"] == "Beijing time"


@pytest.mark.parametrize("code, start, end, error, text", [
    ("9801.00.1012", None, None, UnknownProduct, "U.S. side only"),
    ("1201.90", None, None, BadInput, "holds 3 U.S. lines"),
    ("8517.13.0000", "2024-12-01", None, DateOutOfRange, "outside China's data"),
    ("8517.13.0000", None, "2026-05-31", DateOutOfRange, "newest revision"),
    ("8517.13.0000", "2025-06-01", "2025-05-01", BadInput, "after"),
])
def test_product_bad_input(engine: Engine, cn: ChinaEngine, code: str, start: str | None, end: str | None,
                           error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        war.product(engine, cn, code, start, end)


def test_hs6_with_one_us_line_stands_for_it(engine: Engine, cn: ChinaEngine) -> None:
    assert war.us_line_for(engine, "8517.13", D(2025, 5, 1)) == "8517.13.00.00"


# ---- the command line --------------------------------------------------------------------------
def _invoke(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), *args], env={"COLUMNS": "80"}, catch_exceptions=False)


def test_cli_rate_and_timeline_for_china(panel_home: tuple[Path, object], tmp_path: Path) -> None:
    home = panel_home[0]
    res = _invoke(home, "rate", "1201.90", "--importer", "CN", "--origin", "US", "--date", "2025-04-15")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80 and "Total: 139%" in res.stdout and "No.6" in res.stdout
    data = json.loads(_invoke(home, "rate", "12019020", "--importer", "cn", "--date", "2025-04-15", "--json").stdout)
    assert (data["total_pct"], data["upper_pct"], data["level"]) == (135.0, 145.0, "HS8")
    shipped = json.loads(_invoke(home, "rate", "8802.40", "--importer", "CN", "--date", "2025-04-15",
                                 "--loading-date", "2025-04-01", "--json").stdout)
    assert shipped["total_pct"] == 3.0
    png = tmp_path / "cn-aircraft.png"
    res = _invoke(home, "timeline", "8802.40", "--importer", "CN", "--origin", "US", "--from", "2025-01-01",
                  "--plot", str(png))
    assert res.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG" and "128" in res.stdout


def test_cli_war(panel_home: tuple[Path, object], tmp_path: Path) -> None:
    home = panel_home[0]
    data = json.loads(_invoke(home, "war", "8517.13.0000", "--from", "2025-01-01", "--json").stdout)
    assert data["hts10"] == "8517.13.00.00" and data["rows"][0]["cn_total_pct"] == 25.0
    res = _invoke(home, "war", "8517.13.0000", "--from", "2025-01-01")
    assert res.exit_code == 0 and max(len(x) for x in res.stdout.splitlines()) <= 80
    avg = json.loads(_invoke(home, "war", "--average", "--json").stdout)
    assert [r["date"] for r in avg["wto_dates"]][0] == "2025-01-01" and len(avg["wto_dates"]) == 9
    assert "imports" in avg["cn_weights"] and "series" not in avg
    png = tmp_path / "war.png"
    res = _invoke(home, "war", "--average", "--plot", str(png))
    assert res.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    assert "2025-04-12" in res.stdout and "WTO file" in res.stdout


def _run(home: Path, *args: str) -> Outcome:
    """The command through its entry point, in-process (tests/cli_inproc.py): exit code and one-line errors."""
    return invoke(*args, env={"TARIFFSTACK_HOME": str(home), "COLUMNS": "80"})


@pytest.mark.parametrize("args, text", [
    (("rate", "8517.13.0000", "--origin", "US", "--date", "2025-05-02"), "origin US on the U.S. side"),
    (("timeline", "8517.13.0000", "--origin", "US"), "--importer CN --origin US"),
    (("rate", "1201.90", "--importer", "CN", "--origin", "CN"), "U.S.-origin goods only"),
    (("rate", "1201.90", "--importer", "CN", "--date", "2024-12-31"), "outside China's data"),
    (("rate", "1201.90", "--importer", "CN", "--usmca"), "--usmca belongs to the U.S. side"),
    (("rate", "1201.90", "--importer", "JP"), "one of US"),
    (("war", "9801.00.1012"), "U.S. side only"),
    (("war",), "or --average"),
    (("war", "8517.13.0000", "--average"), "not both"),
])
def test_cli_bad_input_exit_2(session_home: Path, hts_dir: Path, engine: Engine, args: tuple[str, ...],
                              text: str) -> None:
    with warm_engine(engine, hts_dir, session_home):
        p = _run(session_home, *args)
    assert p.returncode == 2, p.stderr
    assert text in p.stderr and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) <= 3


# ---- the API over a built store -------------------------------------------------------------
def test_api_averages_over_a_built_store(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object],
                                         averages: dict[str, dict[str, Any]]) -> None:
    import warnings

    from jsonschema import Draft202012Validator

    from tariffstack.surfaces.api import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient

    app = create_app(engine, data_dir=hts_dir, home=panel_home[0])
    with TestClient(app) as c:
        spec = c.get("/api/openapi.json").json()
        got = c.get("/api/war/average", params={"series": "true"})
        assert got.status_code == 200, got.text[:300]
        body = got.json()
        schema = {**spec["paths"]["/api/war/average"]["get"]["responses"]["200"]["content"]["application/json"]
                  ["schema"], "components": spec["components"]}
        assert not list(Draft202012Validator(schema).iter_errors(body))
        assert [r["date"] for r in body["wto_dates"]] == list(averages)
        assert body["wto_dates"][5]["cn_total_pct"] == pytest.approx(averages["2025-04-12"]["cn_total_pct"])
        full = body["series"]["cn"]["rows"]
        part = c.get("/api/war/average", params={"series": "true", "from": "2025-04-11", "to": "2025-06-30"}).json()
        cut = part["series"]["cn"]["rows"]
        assert cut[0] == {"from": "2025-04-11", "until": "2025-04-11", "pct": full[3]["pct"]}
        assert cut[-1]["until"] == "2025-06-30"
        assert c.get("/api/war/average", params={"from": "2024-01-01", "series": "true"}).status_code == 422
        again = c.get("/api/war/average", headers={"If-None-Match": c.get("/api/war/average").headers["etag"]})
        assert again.status_code == 304
        svg = c.get("/api/war/average.svg")
        assert svg.status_code == 200 and b"Geneva" in svg.content


def test_one_us_computation_gives_the_same_averages(cn: ChinaEngine, panel: Panel, weights: wmod.Weights,
                                                     averages: dict[str, dict[str, Any]]) -> None:
    """both_averages reads the nine dates off one series; the figures are those of nine computations."""
    rows, series = war.both_averages(cn, panel, weights)
    for r in rows:
        a = averages[r["date"]]
        for k in ("us_total_pct", "us_additional_pct", "us_mfn_pct", "cn_total_pct"):
            assert r[k] == pytest.approx(a[k], abs=1e-9), (r["date"], k)
    assert series.start == D(2025, 1, 1) and series.end == min(panel.last_date, cn.last_date)
    part = series.clip(D(2025, 4, 11), D(2025, 5, 20))
    assert part.us[0][0] == D(2025, 4, 11) and part.cn[-1][1] == D(2025, 5, 20)
    with pytest.raises(DateOutOfRange, match="both averages"):
        series.clip(D(2024, 12, 1), None)
