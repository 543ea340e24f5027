"""The command line as a user runs it: JSON contract, batch mode, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = [sys.executable, "-m", "tariffstack.cli"]


@pytest.fixture(scope="module")
def run(hts_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("clihome")
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(home)}

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*EXE, *args], capture_output=True, text=True, env=env, timeout=300)

    return _run


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
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(rows) == 6
    assert rows[0]["total_pct"] == 20
    assert "unknown HTS code" in rows[1]["error"]
    assert "China (CN)" in rows[2]["error"]
    assert rows[3]["inputs"]["loading_date"] == "2025-04-01"
    assert "YYYY-MM-DD" in rows[4]["error"]
    assert "more fields" in rows[5]["error"]
    assert "Traceback" not in p.stderr


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
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(tmp_path / "nope"), "TARIFFSTACK_HOME": str(tmp_path)}
    p = subprocess.run([*EXE, "rate", "8517.13.0000", "--origin", "CN"], capture_output=True, text=True, env=env)
    assert p.returncode == 3 and "REVISIONS.csv" in p.stderr and "Traceback" not in p.stderr


def test_search_and_revisions(run) -> None:  # type: ignore[no-untyped-def]
    p = run("search", "smartphones", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)[0]["hts"] == "8517.13.00.00"
    p = run("revisions", "--json")
    revs = json.loads(p.stdout)
    assert len(revs) == 44 and revs[0]["revision"] == "2025 basic" and revs[-1]["revision"] == "2026 rev 10"
