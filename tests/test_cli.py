"""The command line as a user runs it: JSON contract, batch mode, exit codes, no tracebacks.

Commands run in-process through ``main()`` (tests/cli_inproc.py): the same entry point, exit codes
and streams as the ``tariffstack`` command, without an interpreter start per call.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_inproc import Outcome, invoke, warm_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffstack.engine.us import Engine

EXE = [sys.executable, "-m", "tariffstack.surfaces.cli"]


@pytest.fixture(scope="module")
def run(hts_dir: Path, session_home: Path, engine: Engine) -> Iterator[Callable[..., Outcome]]:
    home = session_home  # the engine fixture has compiled the model there already
    env: dict[str, str | None] = {"TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(home)}

    def _run(*args: str) -> Outcome:
        return invoke(*args, env=env)

    with warm_engine(engine, hts_dir, home):
        yield _run


def test_rate_json_contract(run) -> None:  # type: ignore[no-untyped-def]
    p = run("rate", "8517.13.0000", "--origin", "CN", "--date", "2025-05-02", "--json")
    assert p.returncode == 0, p.stderr
    obj = json.loads(p.stdout)
    assert obj["hts10"] == "8517.13.00.00" and obj["origin"] == "CN" and obj["entry_date"] == "2025-05-02"
    assert obj["total_pct"] == 20 and obj["total_additional_pct"] == 20
    keys = {"layer", "rate_pct", "specific", "heading", "revision", "effective_from", "effective_to", "reason"}
    for layer in obj["layers"]:
        assert keys <= set(layer)
    assert {x["layer"] for x in obj["layers"]} >= {"mfn", "ieepa_fentanyl", "ieepa_reciprocal"}


def test_rate_table_for_people(run) -> None:  # type: ignore[no-untyped-def]
    p = run("rate", "7208.51.0030", "--origin", "united kingdom", "--date", "2025-06-10")
    assert p.returncode == 0, p.stderr
    assert "9903.81.94" in p.stdout and "Total: 25%" in p.stdout


def test_rate_table_fits_80_columns_and_explains(run) -> None:  # type: ignore[no-untyped-def]
    args = ("rate", "6109.10.0012", "--origin", "CN", "--date", "2025-05-02")
    p = run(*args)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert all(len(x) <= 80 for x in lines), max(lines, key=len)
    # one line per layer: MFN, 301, fentanyl, reciprocal, with the first day of each duty's run
    fent = next(x for x in lines if x.startswith("ieepa_fentanyl"))
    assert "20%" in fent and "9903.01.24" in fent and "2025-03-04" in fent
    full = run(*args, "--explain")
    assert full.returncode == 0, full.stderr
    assert "in force since 2025-03-04" in full.stdout and "Source: " in full.stdout and "EO 14195" in full.stdout


def test_registry_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = run("registry", "check", "--json")
    assert p.returncode == 0, p.stderr
    obj = json.loads(p.stdout)
    assert obj["headings"] >= 743 and set(obj["by_status"]) == {"modelled", "not_evaluated", "historical"}
    out = tmp_path / "ledger.csv"
    p = run("registry", "ledger", "-o", str(out))
    assert p.returncode == 0, p.stderr
    head = out.read_text(encoding="utf-8").splitlines()
    assert head[0].startswith("heading,valid_from,valid_to,status") and len(head) > 500


def test_batch_keeps_good_lines_and_reports_bad(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "q.csv"
    f.write_text(
        "hts10,origin,entry_date,loading_date\n"
        "8517.13.0000,CN,2025-05-02,\n"
        "9999.99.9999,CN,2025-05-02,\n"
        "9503.00.0073,Chna,2025-05-02,\n"
        "9503.00.0073,CN,2025-04-12,2025-04-01\n"
        "9503.00.0073,CN,not-a-date,\n"
        "9503.00.0073,CN,2025-05-02,,extra\n",
        encoding="utf-8",
    )
    p = run("rate", "--batch", str(f), "--json")
    assert p.returncode == 2, p.stderr  # some lines failed: the exit code says so
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(rows) == 6
    assert rows[0]["total_pct"] == 20
    assert "unknown HTS code" in rows[1]["error"]
    assert "China (CN)" in rows[2]["error"]
    assert rows[3]["inputs"]["loading_date"] == "2025-04-01"
    assert "YYYY-MM-DD" in rows[4]["error"]
    assert "more fields" in rows[5]["error"]
    assert "Traceback" not in p.stderr


def test_batch_without_json_is_csv(run) -> None:  # type: ignore[no-untyped-def]
    """The sample file the README shows: a CSV answer per line, bad lines reported in place."""
    sample = Path(__file__).parent.parent / "docs" / "examples" / "queries.csv"
    p = run("rate", "--batch", str(sample))
    assert p.returncode == 2, p.stderr  # the sample shows three bad lines
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    given = list(csv.DictReader(sample.open(encoding="utf-8")))
    assert len(rows) == len(given) and [r["line"] for r in rows] == [str(i + 2) for i in range(len(given))]
    phone = next(r for r in rows if r["hts10"] == "8517.13.00.00" and r["entry_date"] == "2025-05-02")
    assert phone["total_pct"] == "20" and "ieepa_fentanyl 20% 9903.01.24" in phone["layers"]
    bad = [r for r in rows if r["error"]]
    assert bad and all(not r["total_pct"] for r in bad) and "error" in p.stderr


def test_batch_in_another_encoding_or_with_junk(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "latin1.csv"
    f.write_bytes("hts10,origin,entry_date\r\n8517.13.0000,CN,2025-05-02\r\n"
                  "8517.13.0000,Côte d'Ivoire,2025-05-02\r\n".encode("cp1252") + b"\x00\xff\xfejunk\r\n"
                  + b'"8517.13.0000,CN,2025-05-02\r\n' + b"x" * 20_000 + b"\n")
    p = run("rate", "--batch", str(f))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [r["line"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert rows[0]["total_pct"] == "20"
    assert "not utf-8 text" in rows[1]["error"] and "--encoding" in rows[1]["error"]
    assert "binary" in rows[2]["error"] and "quote" in rows[3]["error"] and "limit" in rows[4]["error"]
    p = run("rate", "--batch", str(f), "--encoding", "cp1252")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert rows[1]["origin"] == "CI" and not rows[1]["error"]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    p = run("rate", "--batch", str(empty))
    assert p.returncode == 2 and "empty" in p.stderr and "Traceback" not in p.stderr


def test_countries_groups_and_unknown_codes(run) -> None:  # type: ignore[no-untyped-def]
    p = run("countries", "--json")
    assert p.returncode == 0 and len(json.loads(p.stdout)) > 200
    p = run("countries", "korea, south")
    assert p.returncode == 0 and "KR" in p.stdout
    eu = run("rate", "8517.13.0000", "--origin", "EU", "--date", "2025-05-02")
    assert eu.returncode == 2 and "group of 27" in eu.stderr and "Germany (DE)" in eu.stderr
    assert "Réunion" not in eu.stderr
    xx = run("rate", "8517.13.0000", "--origin", "XX", "--date", "2025-05-02")
    assert xx.returncode == 2 and "tariffstack countries" in xx.stderr
    assert len(xx.stderr.strip().splitlines()) == 1  # one line, however narrow the terminal


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("rate", "85171300", "--origin", "Atlantis", "--date", "2025-05-02"), 2, "unknown country"),
        (("rate", "8517.13.0000", "--origin", "CN", "--date", "1999-01-01"), 2, "outside the data"),
        (("rate", "xyz", "--origin", "CN"), 2, "malformed HTS code"),
        (("rate", "--batch", "/nonexistent/q.csv"), 2, "cannot read batch file"),
    ],
)
def test_errors_exit_2_without_traceback(run, args, code, fragment) -> None:  # type: ignore[no-untyped-def]
    p = run(*args)
    assert p.returncode == code
    assert fragment in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_data_folder_is_a_data_error(tmp_path: Path) -> None:
    """A real process, the one left in this file: ``python -m tariffstack.surfaces.cli`` in a fresh
    interpreter (no module the tests imported) still turns a user's error into one line and exit 3."""
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(tmp_path / "nope"), "TARIFFSTACK_HOME": str(tmp_path)}
    p = subprocess.run([*EXE, "rate", "8517.13.0000", "--origin", "CN"], capture_output=True, text=True, env=env)
    assert p.returncode == 3 and "REVISIONS.csv" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_search_and_revisions(run) -> None:  # type: ignore[no-untyped-def]
    p = run("search", "smartphones", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)[0]["hts"] == "8517.13.00.00"
    p = run("revisions", "--json")
    revs = json.loads(p.stdout)
    assert len(revs) == 44 and revs[0]["revision"] == "2025 basic" and revs[-1]["revision"] == "2026 rev 10"
    rev10 = next(r for r in revs if r["revision"] == "2025 rev 10")
    assert rev10["published"] == "2025-04-15" and rev10["changes_effective"][0] == "2025-04-05"
    assert revs[-1]["published"] is None and revs[-1]["changes"] is None  # no change record
    starts = [r["lines_from"] for r in revs]
    assert starts == sorted(starts)


@pytest.fixture(scope="module")
def run_panel(run, panel_home):  # type: ignore[no-untyped-def]
    """The CLI over the session home, where the panel has been built."""
    return run


def test_build_reports_an_up_to_date_store(run_panel) -> None:  # type: ignore[no-untyped-def]
    p = run_panel("build")
    assert p.returncode == 0, p.stderr
    assert "panel up-to-date" in p.stderr and "Traceback" not in p.stderr


def test_timeline_table_json_and_plot(run_panel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = tmp_path / "phones.png"
    p = run_panel("timeline", "8517.13.0000", "--origin", "CN", "--origin", "VN", "--from", "2025-01-01",
                  "--plot", str(png), "--json")
    assert p.returncode == 0, p.stderr
    tl = json.loads(p.stdout)
    cn = tl["origins"]["CN"]
    assert [s["total_pct"] for s in cn][:3] == [0.0, 10.0, 20.0]  # Feb 4 fentanyl 10%, Mar 4 20%
    assert cn[1]["valid_from"] == "2025-02-04" and any("9903.01.20" in c for c in cn[1]["changes"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert png.stat().st_mode & 0o044 == 0o044  # readable by others under the usual umask, not 0600
    bad = run_panel("timeline", "8517.13.0000", "--origin", "CN", "--plot", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and "png or .svg" in bad.stderr and not (tmp_path / "x.gif").exists()


def test_diff_summary_and_output(run_panel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "d.csv"
    p = run_panel("diff", "--from", "2025-04-01", "--to", "2025-05-15", "--origin", "CN", "--chapter", "95",
                  "-n", "3", "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert "9903.01.25" in p.stdout and "pairs changed" in p.stdout
    lines = out.read_text().splitlines()
    assert lines[0].startswith("hts10,origin,") and all(",CN," in x for x in lines[1:])
    bad = run_panel("diff", "--from", "2025-04-01", "--to", "2031-01-01")
    assert bad.returncode == 2 and "outside the panel" in bad.stderr


def test_export_date_and_series(run_panel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "panel.parquet"
    p = run_panel("export", "--date", "2025-05-02", "--chapter", "95", "--format", "parquet", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:4] == b"PAR1"
    csv_out = tmp_path / "steel.csv"
    p = run_panel("export", "--series", "--heading", "7208.51", "--origin", "GB", "--format", "csv", "-o", str(csv_out))
    assert p.returncode == 0, p.stderr
    assert csv_out.read_text().count("\n") > 1
    bad = run_panel("export", "--date", "2025-05-02", "-o", str(tmp_path / "no" / "x.parquet"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    both = run_panel("export", "--date", "2025-05-02", "--series", "-o", str(tmp_path / "y.csv"))
    assert both.returncode == 2 and "either --date" in both.stderr


VALID_ROWS = ["8517.13.0000,CN,2025-05-02", "7208.51.0030,GB,2025-06-10", "9503.00.0073,\"China\",2025-04-12"]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(VALID_ROWS).map(str.encode),
                          st.binary(max_size=120).filter(lambda b: b"\n" not in b)), max_size=25),
       st.sampled_from([b"\n", b"\r\n"]), st.booleans())
def test_batch_reader_keeps_good_lines_whatever_the_junk(lines: list[bytes], eol: bytes, bom: bool) -> None:
    """Any bytes on any line: the reader never raises, each valid line comes back whole with its
    number, and every other line is either a row (left to the engine to judge) or its reason."""
    import tempfile

    from tariffstack.surfaces.cli.rate import _batch_rows

    head = (b"\xef\xbb\xbf" if bom else b"") + b"hts10,origin,entry_date" + eol
    with tempfile.TemporaryDirectory() as folder:
        f = Path(folder) / "q.csv"
        f.write_bytes(head + eol.join(lines) + (eol if lines else b""))
        got = dict(_batch_rows(f))
    for n, raw in enumerate(lines, start=2):
        text = raw.decode() if raw in {r.encode() for r in VALID_ROWS} else None
        if text is not None:
            row = got[n]
            assert isinstance(row, dict) and row["entry_date"] and row["hts10"] == text.split(",")[0]
        elif n in got and isinstance(got[n], str):
            assert got[n].startswith(f"line {n}: ")
    assert set(got) <= set(range(2, len(lines) + 2))
