"""The rate panel on the real schedule: build, incremental update, interruption, queries, exports.

One full build (about 25 s) is shared by the module; the incremental test rebuilds from a data
folder that lacks the newest revision, as a user's store looks before ``tariffstack fetch``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from datafolders import with_revisions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffstack import panel
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput, DataError, DateOutOfRange, UnknownCountry, UnknownProduct
from tariffstack.law import countries
from tariffstack.law.store import build_model
from tariffstack.panel import Panel


@pytest.fixture(scope="module")
def built(panel_home: tuple[Path, panel.BuildReport]) -> tuple[Path, panel.BuildReport]:
    return panel_home


@pytest.fixture(scope="module")
def pan(built: tuple[Path, panel.BuildReport]) -> Panel:
    return Panel.open(built[0])


def test_full_build_covers_every_line_and_country(built: tuple[Path, panel.BuildReport], engine: Engine,
                                                   pan: Panel) -> None:
    home, report = built
    # under pytest-xdist the workers share the session's store: one builds it, the others find it
    assert report.mode in ("full", "up-to-date")
    if report.mode == "full":
        assert report.intervals == len(engine.model.boundaries())
    assert (home / "panel").is_symlink()
    day = date(2025, 8, 20)
    n_lines = len(engine.products(day))
    n = pan.snapshot(day).aggregate("count(*), count(DISTINCT hts10), count(DISTINCT origin)").fetchall()[0]
    assert n == (n_lines * len(countries.all_countries()), n_lines, len(countries.all_countries()))
    # compact: far fewer stored rows than product x origin x interval
    # compact: exact product scopes (e.g. the chapter 98 carve-outs) cost signatures, not pairs
    assert report.rows["regimes"] + report.rows["products"] < n_lines * 12


def _compare(pan: Panel, engine: Engine, code: str, iso: str, day: date) -> None:
    try:
        expected = engine.rate(code, iso, day)
    except UnknownProduct:
        with pytest.raises(UnknownProduct):
            pan.point(code, iso, day)
        return
    got = pan.point(code, iso, day)
    assert got["total_pct"] == pytest.approx(expected.total_pct), (code, iso, day, got)
    assert got["additional_pct"] == pytest.approx(expected.total_additional_pct)
    for layer in panel.ADD_LAYERS:
        want = sum(x.rate_pct or 0.0 for x in expected.layers if x.layer == layer and not x.exempt)
        assert (got[layer] or 0.0) == pytest.approx(want), (code, iso, day, layer)
    assert sorted(got["headings"]) == sorted(x.heading for x in expected.layers
                                             if x.layer != "mfn" and not x.exempt and x.heading)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=10**9), st.integers(0, 10**6), st.integers(0, 10**6))
def test_panel_agrees_with_point_engine(pan: Panel, engine: Engine, seed: int, c: int, d: int) -> None:
    first, last = engine.model.first_date, engine.model.last_date
    day = first + timedelta(days=d % ((last - first).days + 1))
    codes = engine.products(day)
    code = codes[seed % len(codes)]
    iso = countries.all_countries()[c % len(countries.all_countries())].iso2
    _compare(pan, engine, code, iso, day)


@pytest.mark.parametrize(("code", "iso", "day"), [
    ("8517.13.0000", "CN", "2025-05-02"),       # fentanyl only: Annex II electronics
    ("9503.00.0073", "CN", "2025-04-12"),       # 125% reciprocal + 20% fentanyl
    ("7208.51.0030", "GB", "2025-06-10"),       # U.K. steel at 25% while others pay 50%
    ("7208.51.0030", "CA", "2025-04-01"),       # EO 14289: fentanyl instead of steel 232
    ("8703.23.0190", "DE", "2025-09-01"),       # EU autos under the 15% all-in floor
    ("0402.91.3000", "NO", "2025-01-23"),       # specific MFN rate
    ("6109.10.0004", "RU", "2025-09-01"),       # column 2
])
def test_panel_agrees_on_known_cases(pan: Panel, engine: Engine, code: str, iso: str, day: str) -> None:
    _compare(pan, engine, code, iso, date.fromisoformat(day))


def test_snapshot_china_toys_at_145(pan: Panel) -> None:
    row = pan.snapshot("2025-04-12", prefix="9503000073", origins=["china"]).fetchall()
    assert len(row) == 1
    got = pan.point("9503.00.0073", "CN", "2025-04-12")
    assert got["ieepa_reciprocal"] == 125 and got["ieepa_fentanyl"] == 20
    assert got["valid_from"] <= "2025-04-12" <= got["valid_until"]


def test_bad_queries_are_refused(pan: Panel) -> None:
    with pytest.raises(DateOutOfRange, match="covers 2025-01-01"):
        pan.point("8517.13.0000", "CN", "2024-12-31")
    with pytest.raises(UnknownCountry):
        pan.point("8517.13.0000", "Chinaa land", "2025-05-02")
    with pytest.raises(UnknownProduct):
        pan.point("8517.13.9999", "CN", "2025-05-02")
    with pytest.raises(BadInput):
        pan.snapshot("2025-05-02", prefix="72'; DROP TABLE x")
    with pytest.raises(BadInput, match="unknown layer"):
        pan.diff("2025-04-01", "2025-05-01", layer="tax")


def test_diff_china_april_to_geneva(pan: Panel) -> None:
    d = pan.diff("2025-04-01", "2025-05-15", origins=["CN"])
    layers = {name: (n, new) for name, n, _old, new in d.by_layer()}
    assert "ieepa_reciprocal" in layers and layers["ieepa_reciprocal"][1] == pytest.approx(10.0)
    causes = {(k, h): n for k, h, n in d.causes()}
    assert causes[("added", "9903.01.25")] == layers["ieepa_reciprocal"][0]
    assert all(r["origin"] == "CN" for r in d.rows(50))
    # the 125% peak sits between those dates: a diff to April 12 shows it
    peak = pan.diff("2025-04-01", "2025-04-12", origins=["CN"], prefix="9503", layer="ieepa_reciprocal")
    assert {r["new_ieepa_reciprocal"] for r in peak.rows(500)} == {125.0}
    js = peak.to_json(5)
    assert js["changed"] == peak.count() and len(js["rows"]) <= 5


def test_diff_counts_add_up_across_a_revision_that_adds_lines(pan: Panel) -> None:
    """The kinds of change sum to the pairs changed; a new line is not a change of every layer."""
    d = pan.diff("2025-06-01", "2026-02-01", origins=["DE"])
    kinds = d.by_kind()
    assert sum(kinds.values()) == d.count()
    assert kinds["new lines"] > 0 and kinds["lines removed"] > 0  # the 2026 basic edition renumbers
    layers = {name: n for name, n, _old, _new in d.by_layer()}
    assert layers["total_pct"] == kinds["total changed"]
    assert all(n <= kinds["total changed"] + kinds["same total, other headings or texts"] for n in layers.values())


def test_diff_totals_match_snapshots(pan: Panel) -> None:
    d = pan.diff("2025-08-06", "2025-08-07", origins=["IN"], prefix="61")
    for r in d.rows(20):
        a = pan.point(r["hts10"], "IN", "2025-08-06")
        b = pan.point(r["hts10"], "IN", "2025-08-07")
        assert (a["total_pct"], b["total_pct"]) == (r["old_total_pct"], r["new_total_pct"])


def test_export_one_date_parquet_and_csv(pan: Panel, tmp_path: Path) -> None:
    out = tmp_path / "p.parquet"
    n = pan.export(out, fmt="parquet", on=date(2025, 5, 2), prefix="85")
    table = pq.read_table(out)
    assert table.num_rows == n > 0
    assert table.column_names[:4] == ["hts10", "origin", "mfn_text", "mfn"]
    rows = table.filter(pc.equal(table["origin"], "CN")).to_pylist()
    phone = next(r for r in rows if r["hts10"] == "8517.13.00.00")
    assert phone["ieepa_fentanyl"] == 20 and phone["total_pct"] == 20
    csv_out = tmp_path / "p.csv"
    pan.export(csv_out, fmt="csv", on=date(2025, 5, 2), prefix="8517", origins=["VN"])
    with csv_out.open() as fh:
        got = list(csv.DictReader(fh))
    assert {r["origin"] for r in got} == {"VN"} and all(r["hts10"].startswith("8517") for r in got)
    assert not list(tmp_path.glob(".*.part"))


def test_export_series_merges_equal_intervals(pan: Panel, tmp_path: Path) -> None:
    out = tmp_path / "steel.csv"
    pan.export(out, fmt="csv", series=True, prefix="7208510030", origins=["GB", "DE"])
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    for iso in ("GB", "DE"):
        mine = [r for r in rows if r["origin"] == iso]
        assert mine[0]["valid_from"] == "2025-01-01" and mine[-1]["valid_until"] == pan.last_date.isoformat()
        for a, b in zip(mine, mine[1:], strict=False):
            assert date.fromisoformat(a["valid_until"]) + timedelta(days=1) == date.fromisoformat(b["valid_from"])
            assert (a["total_pct"], a["headings"]) != (b["total_pct"], b["headings"])
    assert any(r["origin"] == "GB" and r["s232"] == "25.0" and r["valid_from"] <= "2025-06-10" <= r["valid_until"]
               for r in rows)


def test_export_to_unwritable_place_fails_cleanly(pan: Panel, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        pan.export(tmp_path / "missing" / "x.parquet", fmt="parquet", on=date(2025, 5, 2))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(BadInput, match="cannot write"):
            pan.export(locked / "x.parquet", fmt="parquet", on=date(2025, 5, 2))
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_export_failure_midway_leaves_no_file(pan: Panel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk shows up as an error from the writer: the target must not appear."""
    real = pan.db

    class DiskFills:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def execute(self, sql: str, *a: object) -> object:
            if sql.startswith("COPY"):
                real.execute(sql, *a)  # the part file is written...
                raise duckdb.IOException("No space left on device")  # ...then the disk fills
            return real.execute(sql, *a)

    monkeypatch.setattr(pan, "db", DiskFills())
    with pytest.raises(BadInput, match="No space left"):
        pan.export(tmp_path / "x.parquet", fmt="parquet", on=date(2025, 5, 2), prefix="01")
    assert list(tmp_path.iterdir()) == []


def _truncated(hts_dir: Path, dest: Path, drop: int) -> Path:
    """A data folder like ``hts_dir`` without its newest ``drop`` revisions."""
    return with_revisions(hts_dir, dest, slice(None, -drop))


def test_incremental_update_after_a_new_revision(engine: Engine, hts_dir: Path, pan: Panel,
                                                 tmp_path: Path) -> None:
    """A store of the newest revisions but one, then that one arrives. Only the newest five
    revisions are on file (a partial history, test_partial_history.py), so that the full build
    this starts from is seconds, not the half minute of the whole history."""
    older = build_model(with_revisions(hts_dir, tmp_path / "old", slice(-5, -1)), base=engine.model)
    assert [r.name for r in older.revisions] == [r.name for r in engine.model.revisions[-5:-1]]
    home = tmp_path / "home"
    first = panel.build(Engine(older), home)
    assert first.mode == "full"
    parsed: list[str] = []
    newer = build_model(with_revisions(hts_dir, tmp_path / "new", slice(-5, None)), base=older,
                        progress=parsed.append)
    assert parsed == [engine.model.revisions[-1].name]  # only the new revision is read
    second = panel.build(Engine(newer), home)
    assert second.mode == "incremental"
    assert second.evaluations < first.evaluations / 4   # only the intervals from the change on
    again = panel.build(Engine(newer), home)
    assert again.mode == "up-to-date"
    inc = Panel.open(home)
    assert inc.last_date == engine.model.last_date
    # the incremental store gives the same answers as the full build: on the day the new
    # revision's lines take over, the boundary before it, and the last day
    for day in sorted({engine.model.starts[-1] - timedelta(days=1), engine.model.starts[-1], inc.last_date}):
        for prefix in ("72", "85"):
            cols = "hts10, origin, total_pct, headings, valid_until"
            # compared as Arrow tables: 250,000 rows as Python tuples took a second a query
            a = pan.snapshot(day, prefix=prefix).project(cols).order("hts10, origin").to_arrow_table()
            b = inc.snapshot(day, prefix=prefix).project(cols).order("hts10, origin").to_arrow_table()
            assert a.num_rows > 10_000 and a.equals(b), (day, prefix, a.num_rows, b.num_rows)


def _no_walk(monkeypatch: pytest.MonkeyPatch, home: Path, before_return: object = None) -> None:
    """Make ``panel.build`` skip the interval walk and return the tables already stored in
    ``home``: the tests of what happens at the write need real tables, not 25 s of computing."""
    from tariffstack.panel import store as panel_store

    stored, _ = panel_store.load_seed(home / "panel")

    def run(self: object, progress: object = None, **_k: object) -> dict[str, object]:
        if callable(before_return):
            before_return()
        return dict(stored)

    monkeypatch.setattr(panel_store.Builder, "run", run)


def test_interrupted_build_keeps_the_previous_store(built: tuple[Path, panel.BuildReport], engine: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = built
    before = (home / "panel").resolve()
    meta = json.loads((home / "panel" / "meta.json").read_text())
    calls = {"n": 0}

    def crash_on_third(*_a: object, **_k: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    _no_walk(monkeypatch, home)
    monkeypatch.setattr(pq, "write_table", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        panel.build(engine, home, full=True)
    assert (home / "panel").resolve() == before
    assert json.loads((home / "panel" / "meta.json").read_text()) == meta
    assert sorted(p.name for p in home.glob("panel-*")) == [before.name]
    Panel.open(home).point("8517.13.0000", "CN", "2025-05-02")


def test_a_full_disk_during_build_is_one_clear_error(built: tuple[Path, panel.BuildReport], engine: Engine,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    home = _copy_home(built[0], tmp_path / "home")
    before = sorted(p.name for p in home.glob("panel-*"))
    written = {"n": 0}

    def fill_up(*_a: object, **_k: object) -> None:
        written["n"] += 1
        raise OSError(errno.ENOSPC, "No space left on device")

    _no_walk(monkeypatch, home)
    monkeypatch.setattr(pq, "write_table", fill_up)
    with pytest.raises(DataError, match="No space left on device.*previous store"):
        panel.build(engine, home, full=True)
    assert written["n"] == 1 and sorted(p.name for p in home.glob("panel-*")) == before
    monkeypatch.undo()
    Panel.open(home).point("8517.13.0000", "CN", "2025-05-02")


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="tariffstack build"):
        Panel.open(tmp_path)


def _copy_home(src: Path, dest: Path) -> Path:
    """A home of its own (model cache and panel), so faults here touch no other test's store."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def test_two_builds_at_once_wait_for_each_other(built: tuple[Path, panel.BuildReport], engine: Engine,
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _copy_home(built[0], tmp_path / "home")
    lock = home / ".build.lock"
    lock.unlink(missing_ok=True)
    waited: list[str] = []
    second_waits = threading.Event()
    # the first build's walk lasts until the second build is waiting for the lock
    _no_walk(monkeypatch, home, before_return=lambda: second_waits.wait(60))
    first: list[panel.BuildReport] = []
    worker = threading.Thread(target=lambda: first.append(panel.build(engine, home, full=True)))
    worker.start()
    while not (lock.exists() and lock.read_text() == f"pid {os.getpid()}"):  # the first holds the lock
        assert worker.is_alive(), "the first build ended before it took the lock"
        time.sleep(0.01)
    second = panel.build(engine, home, on_wait=lambda holder: (waited.append(holder), second_waits.set()))
    worker.join()
    assert first and first[0].mode == "full"
    assert waited == [f"pid {os.getpid()}"]  # it was told who held the home, and waited
    assert second.mode == "up-to-date"  # then found the first one's store
    assert len(list(home.glob("panel-*"))) <= 2  # the new store and the one before it
    Panel.open(home).point("8517.13.0000", "CN", "2025-05-02")


def test_a_killed_build_leaves_the_store_answering(built: tuple[Path, panel.BuildReport], hts_dir: Path,
                                                   tmp_path: Path) -> None:
    """kill -9 in the middle of `tariffstack build --full`: the old store answers exactly as before."""
    home = _copy_home(built[0], tmp_path / "home")
    before = Panel.open(home).point("7208.51.0030", "GB", "2025-06-10")
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "tariffstack.surfaces.cli", "build", "--full"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # kill it while it computes intervals, well before the swap
        if "computing intervals" in line and "/" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.1)
    assert Panel.open(home).point("7208.51.0030", "GB", "2025-06-10") == before
    assert not any(p.name.startswith(".panel-link") for p in home.iterdir())
    again = subprocess.run([sys.executable, "-m", "tariffstack.surfaces.cli", "build"], env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0 and "up-to-date" in again.stderr  # the lock died with the killed build
