"""The cross-check against the Yale tracker's exports: reading, dating, normalising, clustering, verdicts.

The engine and the panel come from the session (one model compile, one panel build per run).
``fixtures/crosscheck/yale_rev_18.csv`` holds 43 real rows of the peer's rev 18 export (six
products x seven origins, plus one code the schedule never had); other peer files are written by
the tests, from that fixture or from the panel itself, so the checks hold while the engine's
rates change.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cli_inproc import invoke, warm_engine

from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput, DataError
from tariffstack.law import countries
from tariffstack.panel import Panel
from tariffstack.stats import crosscheck as xc
from tariffstack.stats.crosscheck import peer as xc_peer

FIXTURE = Path(__file__).parent / "fixtures" / "crosscheck" / "yale_rev_18.csv"
BY_CENSUS = {c.census_code: c.iso2 for c in countries.all_countries() if c.census_code}


@pytest.fixture(scope="module")
def pan(panel_home: tuple[Path, object]) -> Panel:
    return Panel.open(panel_home[0])


def _gz(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"yale_{name}.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    return path


def _fixture_rows() -> list[dict[str, str]]:
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write_rows(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# ---- names, calendar, dates ------------------------------------------------------------------
def test_revision_names() -> None:
    assert xc.peer_name("rev_17") == xc.peer_name("2025 rev 17") == xc.peer_name("yale_rev_17") == "rev_17"
    assert xc.peer_name("2026_rev_4") == xc.peer_name("2026 rev 4") == "2026_rev_4"
    assert xc.our_name("rev_17") == "2025 rev 17" and xc.our_name("2026_rev_4") == "2026 rev 4"
    assert xc.our_name("2026_basic") == "2026 basic"
    with pytest.raises(BadInput):
        xc.peer_name("revision seventeen")


def test_peer_window_runs_to_the_day_before_the_next_revision() -> None:
    assert xc.peer_window("rev_17", date(2025, 7, 1)) == (date(2025, 7, 1), date(2025, 8, 6))
    assert xc.peer_window("2026_rev_4", date(2026, 2, 24)) == (date(2026, 2, 24), date(2026, 4, 5))
    assert xc.peer_window("2026_rev_7", date(2026, 4, 29)) == (date(2026, 4, 29), None)


def test_date_choice_follows_both_datings(engine: Engine) -> None:
    # rev 17 (peer: from Jul 1) prints Canada 35% and copper from Aug 1, and rev 18's Brazil duty
    # starts Aug 6: only Aug 1-5 show rev 17's law by our dating
    c17 = xc.choose_date(engine, "rev_17", date(2025, 7, 1))
    assert date(2025, 8, 1) <= c17.day <= date(2025, 8, 5), c17
    assert not any(p.startswith(("9903.01.10", "9903.78.01")) for p in c17.pending)
    assert c17.ours == "2025 rev 17" and c17.window_to == date(2025, 8, 6)
    # a window no later revision restates: its last day. The peer dates rev 12 from Apr 14, but its
    # China change took effect May 14 (2025 rev 12 change record): pending on every day of the window
    c12 = xc.choose_date(engine, "rev_12", date(2025, 4, 14))
    assert c12.day == date(2025, 4, 21) and not c12.later
    assert "9903.01.25 (from 2025-05-14)" in c12.pending
    assert c12.product_revision == engine.model.revisions[engine.model.revision_on(c12.day)].name
    given = xc.choose_date(engine, "rev_12", date(2025, 4, 14), date(2025, 5, 1))
    assert given.day == date(2025, 5, 1) and "outside the peer's period" in given.reason


# ---- reading the peer's files ------------------------------------------------------------------
def test_bad_peer_files_give_one_line_errors(tmp_path: Path) -> None:
    db = duckdb.connect()
    rows = _fixture_rows()
    short = [{k: v for k, v in r.items() if k != "statutory_rate_232"} for r in rows]
    with pytest.raises(DataError, match="lacks column.*statutory_rate_232"):
        xc_peer._read_peer(db, _gz(tmp_path / "a", "rev_18", _write_rows(short)), "peer")
    corrupt = tmp_path / "b" / "yale_rev_18.csv.gz"
    corrupt.parent.mkdir()
    corrupt.write_bytes(gzip.compress(FIXTURE.read_bytes())[:300])
    with pytest.raises(DataError, match="cannot read peer file") as exc:
        xc_peer._read_peer(db, corrupt, "peer")
    assert "\n" not in str(exc.value)
    mixed = [dict(r, revision="rev_17") if k == 0 else r for k, r in enumerate(rows)]
    with pytest.raises(DataError, match="mixes 2 revisions"):
        xc_peer._read_peer(db, _gz(tmp_path / "c", "rev_18", _write_rows(mixed)), "peer")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no peer files"):
        xc.peer_files(tmp_path / "empty")
    with pytest.raises(DataError, match="no peer folder"):
        xc.peer_files(tmp_path / "missing")


def test_numeric_columns_are_doubles_even_when_the_first_rows_hold_integers(tmp_path: Path) -> None:
    rows = _fixture_rows()
    # integers first, a fraction in the last row: a sniffer would type the column BIGINT
    ints = [dict(r, statutory_rate_301="0") for r in rows[:-1]] + [dict(rows[-1], statutory_rate_301="0.075")]
    db = duckdb.connect()
    rev, first = xc_peer._read_peer(db, _gz(tmp_path, "rev_18", _write_rows(ints)), "peer")
    assert (rev, first) == ("rev_18", date(2025, 8, 7))
    types = dict(db.query("SELECT column_name, column_type FROM (DESCRIBE peer)").fetchall())
    assert types["statutory_rate_301"] == "DOUBLE" and types["hts10"] == "VARCHAR"
    assert db.query("SELECT max(statutory_rate_301) FROM peer").fetchall()[0][0] == pytest.approx(0.075)
    assert db.query("SELECT count(*) FROM peer WHERE hts10 LIKE '0%'").fetchall()[0][0] > 0  # zeros kept


# ---- the comparison ----------------------------------------------------------------------------
def _layers_by_pair(cells: object) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows = cells.to_pylist()  # type: ignore[attr-defined]
    return {(r["d"], r["origin"], r["layer"]): r for r in rows}


def test_normalisation_on_the_fixture(engine: Engine, pan: Panel, tmp_path: Path) -> None:
    path = _gz(tmp_path, "rev_18", FIXTURE.read_text("utf-8"))
    res, cells, _ = xc.compare_file(engine, pan, path)
    assert res.choice.day == date(2025, 8, 11)
    assert res.only_theirs == 1 and res.pairs == 42          # 0901.11.99.99 is in no revision
    got = _layers_by_pair(cells)
    for row in _fixture_rows():
        d, iso = row["hts10"], BY_CENSUS[row["country"]]
        if d == "0901119999":
            continue
        ours = pan.point(d, iso, res.choice.day)
        # BR and IN: our reciprocal and country duties against the peer's reciprocal column
        recip = (ours["ieepa_reciprocal"] or 0) + ((ours["ieepa_other"] or 0) if iso in ("BR", "IN") else 0)
        cell = got[(d, iso, "ieepa_reciprocal")]
        assert cell["ours"] == pytest.approx(recip)
        assert cell["theirs"] == pytest.approx(100 * float(row["statutory_rate_ieepa_recip"]))
        assert cell["agree"] == (abs(recip - cell["theirs"]) <= xc.TOLERANCE_PP + 1e-9)
        other = got[(d, iso, "ieepa_other")]
        assert other["compared"] == (iso not in ("BR", "IN")) and other["theirs"] == 0
        # statutory columns, not the blended ones
        s232 = got[(d, iso, "s232")]
        assert s232["theirs"] == pytest.approx(100 * float(row["statutory_rate_232"]))
        assert s232["ours"] == pytest.approx(ours["s232"] or 0)
        # MFN only where the printed rate is ad valorem
        mfn = got[(d, iso, "mfn")]
        assert mfn["compared"] == (ours["mfn_text"] == "Free" or ours["mfn_text"].endswith("%"))
    assert not got[("0702002002", "DE", "mfn")]["compared"]      # 2.8¢/kg: the peer's base is not comparable
    assert got[("8517130000", "DE", "mfn")]["compared"]
    shares = {x.layer: x for x in res.layers}
    assert shares["mfn"].compared < res.pairs == shares["s232"].compared
    json.dumps(res.to_json())


def test_tolerance_is_five_hundredths_of_a_point(engine: Engine, pan: Panel, tmp_path: Path) -> None:
    """A peer file made from our own panel, off by 0.04 pp in one cell and 0.06 pp in another."""
    day = date(2025, 8, 11)
    rows = []
    template = _fixture_rows()[0]
    for k, (d, iso) in enumerate([("8517130000", "CN"), ("7208510030", "DE"), ("0901110025", "BR")]):
        p = pan.point(d, iso, day)
        row = dict(template, hts10=d, country=next(c for c, i in BY_CENSUS.items() if i == iso))
        recip = (p["ieepa_reciprocal"] or 0) + ((p["ieepa_other"] or 0) if iso in ("BR", "IN") else 0)
        values = {"statutory_base_rate": p["mfn"] or 0, "statutory_rate_301": p["s301"] or 0,
                  "statutory_rate_232": p["s232"] or 0, "statutory_rate_ieepa_fent": p["ieepa_fentanyl"] or 0,
                  "statutory_rate_ieepa_recip": recip, "statutory_rate_s122": p["s122"] or 0,
                  "statutory_rate_section_201": p["s201"] or 0, "statutory_rate_other": p["other"] or 0}
        values["statutory_rate_301"] += (0.04, 0.06, 0.0)[k]
        row.update({c: repr(v / 100) for c, v in values.items()})
        rows.append(row)
    res, cells, clusters = xc.compare_file(engine, pan, _gz(tmp_path, "rev_18", _write_rows(rows)))
    got = _layers_by_pair(cells)
    assert got[("8517130000", "CN", "s301")]["agree"]
    assert not got[("7208510030", "DE", "s301")]["agree"]
    assert res.all_agree == 2 and res.pairs == 3
    assert [(c.layer, c.origins, c.products) for c in clusters] == [("s301", ("DE",), 1)]


# ---- clusters and verdicts -------------------------------------------------------------------------
def _dis(rows: list[tuple[str, str, str, str, float, float, str]]) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute("""CREATE TABLE dis (revision VARCHAR, d VARCHAR, origin VARCHAR, layer VARCHAR,
                  ours DOUBLE, theirs DOUBLE, key VARCHAR, our_revisions VARCHAR[])""")
    db.executemany("INSERT INTO dis VALUES (?, ?, ?, ?, ?, ?, ?, ['2025 rev 18'])", rows)
    return db


def _verdicts(tmp_path: Path, body: str) -> list[xc.Verdict]:
    f = tmp_path / "verdicts.csv"
    f.write_text(",".join(xc.VERDICT_COLUMNS) + "\n" + body, encoding="utf-8")
    return xc.load_verdicts(f)


def test_clusters_group_origins_per_product_and_sort_by_size(tmp_path: Path) -> None:
    rows = []
    for n in range(30):  # 30 products x CN and HK: one cluster of 60 cells
        d = f"85171300{n:02d}"
        rows += [("rev_18", d, iso, "ieepa_reciprocal", 10.0, 0.0, "9903.01.25") for iso in ("CN", "HK")]
    rows.append(("rev_18", "8517130099", "CN", "ieepa_reciprocal", 10.0, 20.0, "9903.01.25"))  # other rates
    rows += [("rev_32", "7208510030", iso, "s232", 50.0, 25.0, "9903.81.87") for iso in ("DE", "JP")]
    cs = xc.clusters(_dis(rows), [])
    assert [(c.layer, c.origins, c.pairs, c.products) for c in cs] == [
        ("ieepa_reciprocal", ("CN", "HK"), 60, 30), ("s232", ("DE", "JP"), 2, 1),
        ("ieepa_reciprocal", ("CN",), 1, 1)]
    big = cs[0]
    assert big.status == "UNEXPLAINED" and cs[1].status == "-"
    assert len(big.sample_hts) == 5 and big.sample_hts[0] == "8517130000" and big.sample_hts[-1] == "8517130029"
    assert big.hts_headings == ("8517",) and big.our_revisions == ("2025 rev 18",)


def test_verdict_join_takes_the_most_specific_row(tmp_path: Path) -> None:
    rows = [("rev_18", "7208510030", "DE", "ieepa_reciprocal", 0.0, 15.0, "exempt:9903.01.33"),
            ("rev_18", "8429511015", "DE", "ieepa_reciprocal", 0.0, 15.0, "exempt:9903.01.33"),
            ("rev_17", "7208510030", "DE", "ieepa_reciprocal", 0.0, 10.0, "exempt:9903.01.33"),
            ("rev_18", "0101210010", "CA", "ieepa_fentanyl", 35.0, 40.0, "9903.01.10")]
    vs = _verdicts(tmp_path, (
        "ieepa_reciprocal,exempt:9903.01.3*,*,,,,,method,note 2(v)(vi),derivatives: metal content\n"
        "ieepa_reciprocal,exempt:9903.01.33,,,,,72;73,theirs_wrong,note 2(v)(vi),steel articles\n"
        "ieepa_reciprocal,exempt:9903.01.33,DE,,10,rev_17,72,ours_wrong,x,only rev 17 at 10\n"
        "ieepa_fentanyl,9903.01.10,CA;MX,35,40,,,theirs_wrong,heading 9903.01.16,transshipment rate\n"))
    cs = {(c.key, c.sample_hts[0], c.revisions): c for c in xc.clusters(_dis(rows), vs)}
    assert cs[("exempt:9903.01.33", "7208510030", ("rev_18",))].verdict.verdict == "theirs_wrong"  # type: ignore[union-attr]
    assert cs[("exempt:9903.01.33", "8429511015", ("rev_18",))].verdict.verdict == "method"  # type: ignore[union-attr]
    assert cs[("exempt:9903.01.33", "7208510030", ("rev_17",))].verdict.verdict == "ours_wrong"  # type: ignore[union-attr]
    fent = cs[("9903.01.10", "0101210010", ("rev_18",))]
    assert fent.status == "theirs_wrong" and fent.to_json()["verdict"]["rule"] == "crosscheck_verdicts.csv:5"


def test_a_layer_that_follows_a_232_difference_takes_its_verdict(tmp_path: Path) -> None:
    """No rule of its own: the reciprocal exemption that follows a Section 232 difference on the
    same pair takes that difference's verdict; the pairs explained count per revision."""
    rows = [("rev_32", "8418300000", iso, layer, ours, theirs, key) for iso in ("DE", "JP") for layer, ours, theirs, key in (
        ("s232", 50.0, 0.0, "9903.81.91"),
        ("ieepa_reciprocal", 0.0, 15.0, "exempt:9903.01.33 +s232:9903.81.91"))]
    rows.append(("rev_32", "0101210010", "DE", "ieepa_reciprocal", 0.0, 15.0, "exempt:9903.01.33 +s232:9903.81.91"))
    rows.append(("rev_32", "0102210010", "DE", "mfn", 1.0, 0.0, "general 1%"))
    vs = _verdicts(tmp_path, "s232,9903.81.91,,50,0,,8418,theirs_wrong,note 16(n),listed since Jun 23\n"
                             "mfn,general*,,,,,,method,x,specific rates\n")
    db = _dis(rows)
    cs = {(c.layer, c.sample_hts[0]): c for c in xc.clusters(db, vs)}
    assert cs[("ieepa_reciprocal", "8418300000")].status == "theirs_wrong"
    assert cs[("ieepa_reciprocal", "0101210010")].verdict is None  # no 232 difference on that pair
    assert xc.explained_pairs(db) == {"rev_32": (1, 3)}  # mfn only: method; the 8418 pairs: theirs_wrong


def test_bad_verdict_rows_name_their_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"verdicts.csv:3: verdict must be one of"):
        _verdicts(tmp_path, "s232,9903.81.87,*,,,,,method,c,e\ns232,9903.81.87,*,,,,,wrong,c,e\n")
    with pytest.raises(DataError, match=r"verdicts.csv:2: unknown layer"):
        _verdicts(tmp_path, "s999,9903.81.87,*,,,,,method,c,e\n")
    with pytest.raises(DataError, match=r"verdicts.csv:2: ours_pct must be a number"):
        _verdicts(tmp_path, "s232,9903.81.87,*,lots,,,,method,c,e\n")
    f = tmp_path / "short.csv"
    f.write_text("layer,key,verdict\n", encoding="utf-8")
    with pytest.raises(DataError, match="lacks column"):
        xc.load_verdicts(f)


def test_packaged_verdicts_load_and_cite() -> None:
    vs = xc.load_verdicts()
    assert vs, "the packaged verdicts file is empty"
    assert all(v.citation and v.explanation for v in vs)
    assert len({(v.layer, v.key, v.origin, v.ours_pct, v.theirs_pct, v.revision, v.hts) for v in vs}) == len(vs)


# ---- a whole run on real data --------------------------------------------------------------------
def test_real_revision_report(engine: Engine, pan: Panel, shared_dir: Path, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    rep = xc.run(engine, pan, shared_dir / "peer" / "yale", revisions=["2025 rev 18"])
    seconds = time.perf_counter() - t0
    assert seconds < 30, seconds
    (r,) = rep.revisions
    assert r.pairs > 200_000 and r.only_theirs == 0 and set(r.only_ours_chapters) <= {"91", "98"}
    assert r.all_share is not None and 0.3 < r.all_share < 1
    assert all(c.status != "-" for c in rep.clusters if c.pairs >= xc.MIN_EXPLAINED)
    assert rep.clusters == sorted(rep.clusters, key=lambda c: -c.pairs)
    md = rep.to_markdown()
    assert "| rev_18 | 2025-08-07 to 2025-08-11 | 2025-08-11 |" in md and "## Disagreement clusters" in md
    obj = json.loads(xc.write_json(rep))
    assert obj["revisions"][0]["date"] == "2025-08-11" and obj["clusters"][0]["pairs"] == rep.clusters[0].pairs
    with pytest.raises(BadInput, match="no peer file for rev_5"):
        xc.run(engine, pan, shared_dir / "peer" / "yale", revisions=["rev_5"])


def test_cli_errors_are_one_line(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object],
                                 tmp_path: Path) -> None:
    env: dict[str, str | None] = {"TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(panel_home[0])}
    bad = _gz(tmp_path / "peer", "rev_18", "hts10,country\n0101210010,1220\n")
    with warm_engine(engine, hts_dir, panel_home[0]):  # in-process through the entry point (tests/cli_inproc.py)
        p = invoke("crosscheck", "--peer-dir", str(bad.parent), env=env)
    assert p.returncode == 3, p.stderr
    assert "lacks column(s)" in p.stderr and "Traceback" not in p.stderr
    assert p.stderr.count("error:") == 1 and p.stdout == ""
