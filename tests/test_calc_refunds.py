"""IEEPA refund estimates: the IEEPA layers from the law on each entry date, paid amounts,
and the status on each side of the dates the rules set (CAPE's 80 days, the 180-day protest
window, the Feb 24, 2026 end)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_inproc import invoke, warm_engine

from tariffstack.calc import Pricer
from tariffstack.calc.formula import cents
from tariffstack.calc.refunds import CAPE_AFTER_LIQ, IEEPA_END, PROTEST_DAYS, RULES, refund_file
from tariffstack.engine.us import Engine

HEAD = "entry_number,hts10,origin,entry_date,value,paid_ieepa_usd,liquidation_date,protest_filed,entry_type,mode"


@pytest.fixture(scope="module")
def pricer(engine: Engine) -> Pricer:
    return Pricer(engine)


def _run(pricer: Pricer, tmp_path: Path, lines: list[str], as_of: date, out: str = "r.csv") -> list[dict[str, str]]:
    src = tmp_path / "entries.csv"
    src.write_text(HEAD + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    refund_file(pricer, src, tmp_path / out, as_of=as_of)
    if not out.endswith(".csv"):
        return []
    with (tmp_path / out).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ieepa(engine: Engine, hts: str, origin: str, day: date, value: float) -> float:
    res = engine.rate(hts, origin, day)
    return sum(cents(value * (x.rate_pct or 0) / 100) for x in res.layers
               if x.layer in ("ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other") and not x.exempt)


def test_ieepa_layers_from_the_law_on_each_date(pricer: Pricer, engine: Engine, tmp_path: Path) -> None:
    cases = [("8517.13.0000", "CN", date(2025, 5, 2)), ("6403.99.9065", "VN", date(2025, 9, 1)),
             ("6109.10.0012", "IN", date(2025, 9, 1)), ("6109.10.0012", "BR", date(2025, 10, 1)),
             ("6109.10.0012", "CN", IEEPA_END - timedelta(days=1)), ("6109.10.0012", "CN", IEEPA_END)]
    rows = _run(pricer, tmp_path, [f"E{k},{h},{o},{d},10000,,,,,ocean" for k, (h, o, d) in enumerate(cases)],
                date(2026, 5, 1))
    for (h, o, d), row in zip(cases, rows, strict=True):
        want = _ieepa(engine, h, o, d, 10000)
        assert float(row["ieepa_usd"]) == pytest.approx(want, abs=0.011), (h, o, d)
        assert float(row["refund_estimate_usd"]) == float(row["ieepa_usd"])
    assert float(rows[-2]["ieepa_usd"]) > 0 and rows[-1]["status"] == "no IEEPA duty"  # the last day, the first day after
    assert float(rows[2]["ieepa_other_usd"]) > 0  # India's additional IEEPA duty is its own layer


def test_paid_amounts_are_compared(pricer: Pricer, engine: Engine, tmp_path: Path) -> None:
    computed = _ieepa(engine, "6403.99.9065", "VN", date(2025, 9, 1), 80000)
    rows = _run(pricer, tmp_path, [f"E1,6403.99.9065,VN,2025-09-01,80000,{computed + 500},,,,ocean",
                                   "E2,6403.99.9065,VN,2025-09-01,80000,-3,,,,ocean"], date(2026, 5, 1))
    assert float(rows[0]["difference_usd"]) == 500 and float(rows[0]["refund_estimate_usd"]) == computed + 500
    assert "paid amounts" in rows[1]["error"]


def test_status_on_each_side_of_the_deadlines(pricer: Pricer, tmp_path: Path) -> None:
    liq = date(2025, 12, 1)
    as_of = {
        "within CAPE": liq + timedelta(days=CAPE_AFTER_LIQ),
        "protest open": liq + timedelta(days=CAPE_AFTER_LIQ + 1),
        "protest last day": liq + timedelta(days=PROTEST_DAYS),
        "final": liq + timedelta(days=PROTEST_DAYS + 1),
        "unliquidated": liq - timedelta(days=1),
    }
    line = f"E1,6403.99.9065,VN,2025-09-01,80000,,{liq},,,ocean"
    got = {k: _run(pricer, tmp_path, [line], d)[0] for k, d in as_of.items()}
    assert got["within CAPE"]["status"] == "liquidated, within CAPE's 80 days"
    assert got["within CAPE"]["deadline"] == (liq + timedelta(days=CAPE_AFTER_LIQ)).isoformat()
    for k in ("protest open", "protest last day"):
        assert got[k]["status"] == "liquidated, protest window open"
        assert got[k]["deadline"] == (liq + timedelta(days=PROTEST_DAYS)).isoformat()
    assert got["final"]["status"].startswith("final") and got["final"]["settled"] == "no"
    assert got["unliquidated"]["status"] == "unliquidated" and "post-summary correction" in got["unliquidated"]["route"]
    protested = _run(pricer, tmp_path, [f"E1,6403.99.9065,VN,2025-09-01,80000,,{liq},true,,ocean"], as_of["final"])[0]
    assert protested["status"] == "liquidated, protest filed"
    # no liquidation date: an informal entry is liquidated at entry, a formal one estimated
    informal = _run(pricer, tmp_path, ["E1,6109.10.0012,VN,2025-09-01,2000,,,,informal,air"], date(2026, 5, 1))[0]
    assert informal["liquidation_date"] == "2025-09-01" and informal["status"].startswith("final")
    formal = _run(pricer, tmp_path, ["E1,6403.99.9065,VN,2025-09-01,80000,,,,,ocean"], date(2026, 5, 1))[0]
    assert formal["liquidation_estimated"] == "true" and formal["status"] == "unliquidated"
    # every rule cited in a status is in the rules table, with a source
    for row in got.values():
        for rid in row["rules"].split("; "):
            assert rid in RULES and RULES[rid][1]


def test_cli_totals_and_excel(engine: Engine, tmp_path: Path, hts_dir: Path, session_home: Path) -> None:
    import openpyxl

    src = tmp_path / "entries.csv"
    src.write_text(HEAD + "\n" + "\n".join([
        "E1,8517.13.0000,CN,2025-05-02,10000,,,,,ocean", "E2,6403.99.9065,VN,2025-09-01,80000,,2025-12-01,,,ocean",
        "E3,6403.99.9065,VN,2025-10-01,80000,,,,,ocean", "E4,bad,VN,2025-10-01,1,,,,,ocean"]) + "\n", encoding="utf-8")
    env: dict[str, str | None] = {"TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(session_home)}
    out = tmp_path / "refunds.xlsx"
    with warm_engine(engine, hts_dir, session_home):  # in-process through the entry point (tests/cli_inproc.py)
        p = invoke("refunds", str(src), "-o", str(out), "--as-of", "2026-05-01", env=env)
    assert p.returncode == 2 and "line 5:" in p.stderr and "Traceback" not in p.stderr
    assert "refund estimate" in p.stdout and "2025-09" in p.stdout
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"priced", "by month", "by origin", "by chapter", "by status", "rules"} <= set(wb.sheetnames)
    months = {r[0]: r for r in wb["by month"].iter_rows(min_row=2, values_only=True)}
    assert set(months) == {"2025-05", "2025-09", "2025-10"} and months["2025-09"][1] == 1
    rules = list(wb["rules"].iter_rows(min_row=2, values_only=True))
    assert any(r[3] == "no" for r in rules)  # the unsettled points are said
