"""What-if scenarios on the real schedule: hypothetical events through the law's engine and panel."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_inproc import Outcome, invoke, warm_engine
from click.testing import CliRunner

from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput
from tariffstack.panel import Panel
from tariffstack.stats import scenario as sc
from tariffstack.stats import weights as wmod
from tariffstack.stats.scenario_file import parse, schema
from tariffstack.surfaces.cli import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples" / "scenarios"


@pytest.fixture(scope="module")
def law(panel_home: tuple[Path, object]) -> Panel:
    return Panel.open(panel_home[0])


@pytest.fixture(scope="module")
def weights(shared_dir: Path) -> wmod.Weights:
    return wmod.load(shared_dir / "weights")


def _build(name: str, engine: Engine, law: Panel, home: Path) -> tuple[sc.Compiled, Panel]:
    path = EXAMPLES / f"{name}.yaml"
    compiled = sc.compile_scenario(parse(path.read_bytes(), path.name), engine, law)
    return compiled, sc.scenario_panel(engine, law, home, compiled)


@pytest.fixture(scope="module")
def geneva(engine: Engine, law: Panel, panel_home: tuple[Path, object]) -> tuple[sc.Compiled, Panel]:
    return _build("geneva-a-month-earlier", engine, law, panel_home[0])


@pytest.fixture(scope="module")
def annex(engine: Engine, law: Panel, panel_home: tuple[Path, object]) -> tuple[sc.Compiled, Panel]:
    return _build("annex-ii-ends", engine, law, panel_home[0])


def _partner(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(r for r in rows if r["key"] == key)


# ---- the Geneva deal a month earlier -------------------------------------------------------
def test_geneva_a_month_earlier_cuts_china_on_may_2(geneva: tuple[sc.Compiled, Panel], law: Panel,
                                                     weights: wmod.Weights) -> None:
    compiled, scen = geneva
    may2 = sc.compare(law, scen, compiled, weights, date(2025, 5, 2))
    cn = _partner(may2.difference("partner"), "china")
    assert cn["law_additional"] > 140                 # 20% fentanyl + 125% reciprocal (+ 301)
    # the scenario does on May 2 what the law does from May 14: compare with the law's own figure
    law_may14 = sc.compare(law, scen, compiled, weights, date(2025, 5, 14))
    cn14 = _partner(law_may14.difference("partner"), "china")
    assert cn14["diff_additional"] == pytest.approx(0, abs=1e-9)   # from May 14 both are the law
    assert cn["scenario_additional"] == pytest.approx(cn14["law_additional"], abs=1.5)
    # all of the change is the reciprocal layer (125% -> the 10% baseline on the lines that pay it)
    assert cn["diff_ieepa_reciprocal"] == pytest.approx(cn["diff_additional"]) and cn["diff_additional"] < -90
    for other in ("canada", "mexico", "japan", "eu", "uk", "ftrow"):
        assert _partner(may2.difference("partner"), other)["diff_additional"] == pytest.approx(0, abs=1e-9)
    # before the scenario's first day nothing differs
    apr11 = sc.compare(law, scen, compiled, weights, date(2025, 4, 11))
    assert apr11.difference()[0]["diff_total"] == pytest.approx(0, abs=1e-9)
    assert apr11.changes[0].pairs == 0


def test_geneva_changes_china_hong_kong_macau_only(geneva: tuple[sc.Compiled, Panel], law: Panel,
                                                   weights: wmod.Weights) -> None:
    compiled, scen = geneva
    ch = sc.changes(law, scen, weights, date(2025, 5, 2))
    origins = {r[0] for r in ch.rel.project("origin").distinct().fetchall()} if ch.rel is not None else set()
    assert origins == {"CN", "HK", "MO"}
    assert ch.pairs == ch.rate_pairs and ch.lines > 15000
    assert all("9903.01.63" in r["removed"] and "9903.01.25" in r["added"] for r in ch.top)


def test_geneva_series_matches_the_law_outside_the_scenario(geneva: tuple[sc.Compiled, Panel], law: Panel,
                                                            weights: wmod.Weights) -> None:
    compiled, scen = geneva
    cmp = sc.compare(law, scen, compiled, weights, date(2025, 3, 1), date(2025, 6, 30))
    for r in cmp.difference("overall"):
        inside = date(2025, 4, 14) <= r["date"] <= date(2025, 5, 13)
        if inside:
            assert r["diff_additional"] < -10, r
        else:
            assert r["diff_additional"] == pytest.approx(0, abs=1e-9), r
    assert [c.day for c in cmp.changes] == [date(2025, 4, 14)]
    # from May 14 the law itself does what the scenario does: its panel is the law's from then on
    assert compiled.until == date(2025, 5, 14) and scen.meta["until"] == "2025-05-14"
    for code, origin in (("9503.00.0073", "CN"), ("8517.13.0000", "HK")):
        assert scen.point(code, origin, "2025-06-02") == law.point(code, origin, "2025-06-02")


def test_scenario_panel_agrees_with_the_engine_on_the_amended_model(geneva: tuple[sc.Compiled, Panel],
                                                                    engine: Engine) -> None:
    """The scenario's panel is the builder's work on the amended model: point queries equal the
    engine's answers on that model (no second implementation to drift)."""
    from dataclasses import replace

    compiled, scen = geneva
    amended = Engine(replace(engine.model, measures=compiled.measures))
    for code in ("9503.00.0073", "8517.13.0000", "6110.20.2079", "7208.51.0030"):
        for origin in ("CN", "HK", "VN", "DE"):
            res = amended.rate(code, origin, date(2025, 5, 2))
            assert scen.point(code, origin, "2025-05-02")["total_pct"] == pytest.approx(res.total_pct), (code, origin)


# ---- removing an exemption list -------------------------------------------------------------
def test_removing_an_exemption_list_changes_exactly_its_products(annex: tuple[sc.Compiled, Panel], law: Panel,
                                                                 weights: wmod.Weights) -> None:
    compiled, scen = annex
    day = date(2025, 9, 15)
    ch = sc.changes(law, scen, weights, day)
    assert ch.rel is not None
    changed = set(ch.rel.project("hts10, origin").fetchall())
    # independently, from the law's own store: the pairs whose stack shows 9903.01.32 exempting
    d = f"DATE '{day}'"
    exempted = set(law.db.query(f"""
        SELECT p.hts10, g.iso2 FROM products p
        JOIN regimes r ON r.sig_id = p.sig_id AND (r.mfn_key = 0 OR r.mfn_key = p.mfn_key)
        JOIN groups g ON g.group_id = r.group_id JOIN stacks s ON s.stack_id = r.stack_id
        WHERE p.valid_from <= {d} AND {d} <= p.valid_until AND r.valid_from <= {d} AND {d} <= r.valid_until
          AND list_contains(s.exempt_headings, '9903.01.32')""").fetchall())
    assert len(exempted) > 100_000
    assert changed == exempted
    # and the lines are those of note 2(v)(iii), the list the heading's record names
    listed = engine_lines = {h for h, _ in changed}
    assert all(h.replace(".", "")[:2] != "98" for h in engine_lines)
    assert len(listed) == ch.lines


def test_changes_agree_with_a_full_snapshot_comparison(annex: tuple[sc.Compiled, Panel], law: Panel,
                                                       weights: wmod.Weights) -> None:
    """The shortcut in ``changes`` (compare only differing regime rows) against brute force."""
    _, scen = annex
    day = date(2025, 9, 15)
    origins = ["DE", "VN", "CN", "CA"]
    ch = sc.changes(law, scen, weights, day)
    assert ch.rel is not None
    fast = {(h, o) for h, o in ch.rel.project("hts10, origin").fetchall() if o in origins}
    cols = "hts10, origin, additional_pct, headings"
    a = {tuple(map(str, r)) for r in law.snapshot(day, origins=origins).project(cols).fetchall()}
    b = {tuple(map(str, r)) for r in scen.snapshot(day, origins=origins).project(cols).fetchall()}
    brute = {(r[0], r[1]) for r in a ^ b}
    assert brute <= fast           # every pair whose rate or imposing headings moved is found
    assert len(fast) > 1000


# ---- a new Section 232 action, and one heading from one date ------------------------------
def test_new_section_232_action(engine: Engine, law: Panel, weights: wmod.Weights,
                                panel_home: tuple[Path, object]) -> None:
    compiled, scen = _build("pharma-232", engine, law, panel_home[0])
    assert compiled.until is None                  # a new heading with no end: computed to the end of the data
    day = date(2025, 10, 15)
    ch = sc.changes(law, scen, weights, day)
    assert ch.rel is not None
    rows = ch.rel.project("hts10, origin, added").fetchall()
    assert rows and all(h.startswith(("3003", "3004")) and "9903.99.01" in added for h, _, added in rows)
    origins = {o for _, o, _ in rows}
    assert not origins & {"DE", "FR", "JP", "GB"} and {"CN", "IN", "CH"} <= origins
    point = scen.point("3004.90.9201", "IN", day)
    assert point["s232"] == pytest.approx(100) and "9903.99.01" in point["headings"]
    assert law.point("3004.90.9201", "IN", day)["s232"] in (0, None)
    before = sc.changes(law, scen, weights, date(2025, 9, 30))
    assert before.pairs == 0


def test_one_heading_from_one_date(engine: Engine, law: Panel, weights: wmod.Weights,
                                   panel_home: tuple[Path, object]) -> None:
    compiled, scen = _build("no-november-fentanyl-cut", engine, law, panel_home[0])
    assert compiled.since == date(2025, 11, 10)
    assert compiled.until == date(2026, 2, 24)     # the heading ends with the IEEPA duties (legal_events.csv)
    day = date(2025, 12, 1)
    assert scen.point("9503.00.0073", "CN", day)["ieepa_fentanyl"] == pytest.approx(20)
    assert law.point("9503.00.0073", "CN", day)["ieepa_fentanyl"] == pytest.approx(10)
    cmp = sc.compare(law, scen, compiled, weights, day)
    parts = cmp.difference("partner")
    assert 5 < _partner(parts, "china")["diff_ieepa_fentanyl"] <= 10 + 1e-9   # +10 points where it applies
    assert all(abs(r["diff_additional"]) < 1e-9 for r in parts if r["key"] not in ("china", "row"))
    after = sc.compare(law, scen, compiled, weights, date(2026, 3, 2))   # IEEPA duties ended Feb 24, 2026
    assert after.changes[0].pairs == 0


def test_second_run_reuses_the_scenario_panel(geneva: tuple[sc.Compiled, Panel], engine: Engine, law: Panel,
                                              panel_home: tuple[Path, object]) -> None:
    compiled, scen = geneva
    again = sc.scenario_panel(engine, law, panel_home[0], compiled)
    assert again.path == scen.path and again.meta["built"] == scen.meta["built"]


# ---- bad input: a specific message naming the line, nothing written ---------------------------
HEAD = "name: bad\nevents:\n"
BAD = [
    ("  - action: rate\n    headings: 9903.77.77\n    rate_pct: 10\n    effective: 2025-05-01\n", 4,
     "never existed"),
    ("  - action: terminate\n    headings: 9903.04.05\n    effective: 2025-05-01\n", 4, "historical"),
    ("  - action: rate\n    headings: 9903.01.24\n    rate_pct: 10\n    effective: 2024-12-01\n", 6,
     "outside the data"),
    ("  - action: rate\n    headings: 9903.01.24\n    rate_pct: 10\n    effective: 2025-05-01\n"
     "    end: 2026-09-01\n", 7, "outside the data"),
    ("  - action: rate\n    headings: 9903.01.24\n    rate_pct: 30\n    effective: 2025-05-01\n"
     "  - action: rate\n    headings: 9903.01.24\n    rate_pct: 40\n    effective: 2025-06-01\n", 7, "overlaps"),
    ("  - action: terminate\n    headings: 9903.01.24\n    effective: 2025-05-01\n"
     "  - action: rate\n    headings: 9903.01.24\n    rate_pct: 40\n    effective: 2025-07-01\n"
     "    end: 2025-07-31\n", 6, "overlaps the event at line 3"),
    ("  - action: s232_action\n    heading: 9903.01.25\n    products: code:8517\n    rate_pct: 25\n"
     "    effective: 2025-05-01\n", 4, "registry"),
    ("  - action: country_rate\n    heading: 9903.99.50\n    countries: Atlantis\n    rate_pct: 25\n"
     "    effective: 2025-05-01\n", 5, "Atlantis"),
    ("  - action: add_products\n    headings: 9903.01.32\n    products: 9999.99.99\n    effective: 2025-05-01\n",
     5, "matches no product line"),
    ("  - action: suspend\n    headings: 9903.01.63\n    effective: 2025-06-01\n", 4, "changes nothing"),
    ("  - action: rate\n    headings: 9903.01.32\n    rate_pct: 5\n    effective: 2025-06-01\n", 4,
     "impose no duty"),
    ("  - action: country_rate\n    heading: 9903.01.25\n    countries: CN\n    rate_pct: 20\n"
     "    effective: 2025-04-14\n", 6, "only for a heading no revision prints"),
    ("  - action: rate\n    headings: 9903.01.24\n    rate_pct: 10\n    effective: 2025-05-01\n    foo: 1\n", 7,
     "unknown field 'foo'"),
    ("  - action: rate\n    headings: 9903.01.24\n   rate_pct: 10\n", 5, "not valid YAML"),
]


@pytest.mark.parametrize(("body", "line", "words"), BAD, ids=[b[2] for b in BAD])
def test_bad_scenarios_name_the_line(engine: Engine, law: Panel, body: str, line: int, words: str) -> None:
    with pytest.raises(BadInput) as exc:
        sc.compile_scenario(parse(HEAD + body, "bad.yaml"), engine, law)
    msg = str(exc.value)
    assert f"bad.yaml line {line}:" in msg and words in msg, msg


def _cli(home: Path, *args: str) -> Outcome:
    """Through the entry point that turns errors into one line and an exit code, in-process (tests/cli_inproc.py)."""
    return invoke("scenario", *args, env={"TARIFFSTACK_HOME": str(home), "COLUMNS": "80"})


def test_cli_bad_file_is_one_line_and_writes_nothing(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object],
                                                     tmp_path: Path) -> None:
    home = panel_home[0]
    before = sorted(p.name for p in (home / "scenarios").glob("*")) if (home / "scenarios").exists() else []
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + BAD[4][0], encoding="utf-8")
    with warm_engine(engine, hts_dir, home):
        res = _cli(home, str(bad), "--date", "2025-06-02", "--changes", str(tmp_path / "out.csv"))
    assert res.returncode == 2 and "bad.yaml line 7:" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    after = sorted(p.name for p in (home / "scenarios").glob("*")) if (home / "scenarios").exists() else []
    assert after == before and not (tmp_path / "out.csv").exists()


def _invoke(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), "scenario", *args], env={"COLUMNS": "80"},
                              catch_exceptions=False)


def test_cli_compares_and_writes_changes(geneva: tuple[sc.Compiled, Panel], panel_home: tuple[Path, object],
                                         tmp_path: Path) -> None:
    home = panel_home[0]
    path = str(EXAMPLES / "geneva-a-month-earlier.yaml")
    out = tmp_path / "changes.csv"
    res = _invoke(home, path, "--date", "2025-05-02", "--changes", str(out))
    assert res.exit_code == 0, res.output
    assert max(len(x) for x in res.stdout.splitlines()) <= 80
    cn = next(x for x in res.stdout.splitlines() if x.split()[:1] == ["CN"])
    law_add, scen_add = float(cn.split()[2]), float(cn.split()[3])
    assert law_add > 140 and scen_add < 60
    assert "hypothetical" in res.stdout and "9903.01.63" in res.stdout
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("hts10,origin") and len(lines) - 1 == int(json.loads(_invoke(
        home, path, "--date", "2025-05-02", "--json").stdout)["changes"][0]["pairs"])


def test_cli_series_json_and_plot(geneva: tuple[sc.Compiled, Panel], panel_home: tuple[Path, object],
                                  tmp_path: Path) -> None:
    home = panel_home[0]
    path = str(EXAMPLES / "geneva-a-month-earlier.yaml")
    png = tmp_path / "deal.png"
    res = _invoke(home, path, "--from", "2025-04-01", "--to", "2025-06-01", "--plot", str(png))
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert max(len(x) for x in res.stdout.splitlines()) <= 80
    data = json.loads(_invoke(home, path, "--from", "2025-04-01", "--to", "2025-06-01", "--json").stdout)
    assert data["scenario"]["name"] == "geneva-a-month-earlier" and "not the law" in data["label"]
    diffs = {r["date"]: r["diff_additional"] for r in data["overall"]}
    assert diffs["2025-04-14"] < -10 and abs(diffs["2025-04-01"]) < 1e-9


def test_published_schema_is_current_and_examples_validate() -> None:
    published = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert published == schema()
    import jsonschema
    import yaml

    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert len(examples) >= 3
    for path in examples:
        parse(path.read_bytes(), path.name)
        # the typed form (numbers as numbers, dates as ISO text) is what the schema describes
        typed = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        jsonschema.validate(typed, published)
    res = CliRunner().invoke(cli, ["scenario", "--schema"])
    assert json.loads(res.stdout) == published


# ---- the API over the built panel -------------------------------------------------------------
def test_api_answers_match_the_document(geneva: tuple[sc.Compiled, Panel], engine: Engine, hts_dir: Path,
                                        panel_home: tuple[Path, object]) -> None:
    import warnings

    from jsonschema import Draft202012Validator

    from tariffstack.surfaces.api import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient

    client = TestClient(create_app(engine, data_dir=hts_dir, home=panel_home[0]), raise_server_exceptions=False)
    spec = client.get("/api/openapi.json").json()

    def check(method: str, path: str, resp: Any) -> dict[str, Any]:
        assert resp.status_code == 200, resp.text[:400]
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        got: dict[str, Any] = resp.json()
        errors = list(Draft202012Validator({**schema, "components": spec["components"]}).iter_errors(got))
        assert not errors, errors[:3]
        return got

    one = check("get", "/api/effective-rate", client.get("/api/effective-rate", params={"date": "2025-05-02"}))
    assert next(r for r in one["rows"] if r["key"] == "china")["additional"] > 140
    series = check("get", "/api/effective-rate", client.get("/api/effective-rate", params={
        "from": "2025-03-01", "to": "2025-06-30", "by": "overall"}))
    assert series["rows"][0]["date"] == "2025-03-01" and series["rows"][-1]["until"] == "2025-06-30"
    may14 = next(m for m in series["marks"] if m["date"] == "2025-05-14")
    assert may14["move_pct"] < -10 and "9903.01.63" in may14["ended"] + may14["changed"]
    body = (EXAMPLES / "geneva-a-month-earlier.yaml").read_bytes()
    got = check("post", "/api/scenario", client.post("/api/scenario", params={"date": "2025-05-02"}, content=body,
                                                     headers={"Content-Type": "application/yaml"}))
    assert got["overall"][0]["diff_additional"] < -15 and got["changes"][0]["pairs"] > 40_000
    bad = client.post("/api/scenario", content=HEAD.encode() + BAD[0][0].encode(),
                      headers={"Content-Type": "application/yaml"})
    assert bad.status_code == 422 and "scenario line 4:" in bad.json()["error"]["message"]


@pytest.mark.parametrize(("text", "words"), [
    ("name: x\nevents: &e\n  - action: terminate\n    headings: 9903.01.24\n    effective: 2025-05-01\n"
     "more: *e\n", "aliases"),
    ("name: x\nevents: " + "[" * 40 + "]" * 40 + "\n", "nested more than"),
    ("name: x\ntitle: t\nname: y\nevents: []\n", "line 3: 'name' appears twice"),
    ("\ufeffname: NO\nevents:\n  - action: terminate\n    headings: 9903.01.24\n    effective: 2025-05-01\n",
     "name: String should match pattern"),
])
def test_unsafe_or_malformed_yaml_is_refused_fast(text: str, words: str) -> None:
    with pytest.raises(BadInput) as exc:
        parse(text.encode(), "s.yaml")
    assert words in str(exc.value) and "s.yaml" in str(exc.value), str(exc.value)


def test_norway_stays_a_country_code() -> None:
    sf = parse("name: x\nevents:\n  - action: country_rate\n    heading: 9903.99.70\n    countries: [NO, 'ON']\n"
               "    rate_pct: 10\n    effective: 2025-05-01\n", "n.yaml")
    ev = sf.scenario.events[0]
    assert ev.countries == ["NO", "ON"]
