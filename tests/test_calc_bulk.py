"""Pricing files: bad lines reported and skipped, formats, encodings, Excel sheets, entries,
atomic output, and the panel and engine paths giving the same dollars."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_inproc import Outcome, invoke, warm_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffstack.calc import PanelTables, Pricer, Shipment, quote
from tariffstack.calc import bulk as bulkmod
from tariffstack.calc.bulk import price_file
from tariffstack.calc.money import price_table
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput

HEADER = "hts10,origin,entry_date,value,quantity,unit,mode"
GOOD = [
    "6403.99.9065,VN,2025-09-01,80000,5000,prs,ocean",
    "0406.90.1200,FR,2025-10-01,12000,1500,kg,air",
    "8517.13.0000,CN,2025-05-02,5000,,,air",
]


@pytest.fixture(scope="module")
def pricer(engine: Engine) -> Pricer:
    return Pricer(engine)


@pytest.fixture(scope="module")
def run(hts_dir: Path, session_home: Path, engine: Engine) -> Iterator[Callable[..., Outcome]]:
    """The command in-process through its entry point (tests/cli_inproc.py), over the session's engine."""
    env: dict[str, str | None] = {"TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(session_home)}

    def _run(*args: str) -> Outcome:
        return invoke(*args, env=env)

    with warm_engine(engine, hts_dir, session_home):
        yield _run


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bad_lines_are_reported_and_good_lines_priced(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = {
        5: (b"85171300,CN,2025-05-02,100,,,air", None),                       # 8 digits: fine (.00)
        6: (b"12345,CN,2025-05-02,100,,,air", "malformed HTS code"),
        7: (b"8517.13.0000,Narnia,2025-05-02,100,,,air", "unknown country"),
        8: (b"8517.13.0000,CN,2025-05-02,-4,,,air", "negative"),
        9: (b"0406.90.1200,FR,2025-10-01,12000,,,air", "needs a quantity in kg"),
        10: (b"0406.90.1200,FR,2025-10-01,12000,3,furlong,air", "unknown unit"),
        11: (b"8517.13.0000,CN,2031-01-01,100,,,air", "after the newest law"),
        12: (b"8517.13.0000,C\xf4te,2025-05-02,100,,,air", "not utf-8 text"),
        13: (b"\x00\x01\x02binary", "binary data"),
        14: (b'8517.13.0000,"CN,2025-05-02,100,,,air', "quote is not closed"),
        15: (b"8517.13.0000,CN,2025-05-02,100,,,air,extra,fields", "fields, the header has"),
        16: (b"8517.13.0000,CN,2025-05-02,$1,000,,air", "no currency sign or thousands separator"),
        17: (b"8517.13.0000,CN,2025-02-30,100,,,air", "bad entry_date"),
        18: (b"8517.13.0000,CN,2025-05-02,100,,,boat", "unknown mode"),
    }
    body = (HEADER + "\n" + "\n".join(GOOD) + "\n").encode() + b"\n".join(v for v, _ in bad.values()) + b"\n"
    src = tmp_path / "entries.csv"
    src.write_bytes(body)
    dest = tmp_path / "priced.csv"
    p = run("calc-bulk", str(src), "-o", str(dest))
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    rows = {int(r["line"]): r for r in _rows(dest)}
    assert sorted(rows) == [2, 3, 4, *sorted(bad)]      # every line, in order, blank line 5? none
    for n in (2, 3, 4, 5):
        assert not rows[n]["error"] and float(rows[n]["total_usd"]) > 0, rows[n]
    for n, (_, fragment) in bad.items():
        if fragment is None:
            continue
        assert fragment in rows[n]["error"], (n, rows[n]["error"])
        assert f"line {n}: " in p.stderr and not rows[n]["total_usd"]
    assert "13 line(s) had errors" in p.stderr
    assert (tmp_path / "priced.csv.sources.csv").is_file()


def test_output_is_atomic(pricer: Pricer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "\n" + "\n".join(GOOD * 50) + "\n", encoding="utf-8")
    dest = tmp_path / "out.parquet"
    dest.write_bytes(b"previous result")
    calls = {"n": 0}
    real = bulkmod.stage_entries

    def failing(*a: Any, **k: Any) -> pa.Table:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(*a, **k)

    monkeypatch.setattr(bulkmod, "stage_entries", failing)
    with pytest.raises(BadInput, match="No space left"):
        price_file(pricer, src, dest, rows=40)
    assert dest.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(BadInput, match="does not exist"):
        price_file(pricer, src, tmp_path / "missing" / "out.csv")


def test_formats_agree_and_excel_has_its_sheets(pricer: Pricer, tmp_path: Path) -> None:
    import openpyxl

    src = tmp_path / "in.csv"
    src.write_text(HEADER + "\n" + "\n".join(GOOD) + "\nbad,CN,2025-05-02,1,,,air\n", encoding="utf-8")
    outs = {}
    for ext in ("csv", "parquet", "xlsx"):
        dest = tmp_path / f"out.{ext}"
        report = price_file(pricer, src, dest)
        assert report.lines == 4 and report.bad == 1 and report.priced == 3
        outs[ext] = dest
    table = pq.read_table(outs["parquet"])
    assert table.num_rows == 4 and table.column("line").to_pylist() == [2, 3, 4, 5]
    csv_rows = _rows(outs["csv"])
    assert [float(r["total_usd"]) for r in csv_rows[:3]] == table.column("total_usd").to_pylist()[:3]
    wb = openpyxl.load_workbook(outs["xlsx"], read_only=True)
    assert wb.sheetnames == ["priced", "totals", "errors", "sources"]
    priced = list(wb["priced"].iter_rows(values_only=True))
    assert priced[0][0] == "line" and len(priced) == 5
    errors = list(wb["errors"].iter_rows(values_only=True))
    assert errors[1][0] == 5 and "malformed HTS code" in errors[1][1]
    sources = {r[0]: r[2] for r in wb["sources"].iter_rows(values_only=True)}
    assert any(k.startswith("mpf:") and "CBP" in v for k, v in sources.items() if k and v)
    # Parquet in, the same answers
    pq.write_table(pa.table({c: [r.split(",")[k] for r in GOOD] for k, c in enumerate(HEADER.split(","))}),
                   tmp_path / "in.parquet")
    back = price_file(pricer, tmp_path / "in.parquet", tmp_path / "again.parquet")
    again = pq.read_table(tmp_path / "again.parquet")
    assert back.bad == 0 and again.column("total_usd").to_pylist() == table.column("total_usd").to_pylist()[:3]
    assert again.column("line").to_pylist() == [1, 2, 3]  # Parquet rows are numbered from 1


def test_excel_input_with_several_sheets(run, pricer: Pricer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "readme"
    notes.append(["Entries for October; prices in USD"])
    ws = wb.create_sheet("entries")
    ws.append(HEADER.split(","))
    ws.append(["6403.99.9065", "VN", date(2025, 9, 1), 80000, 5000, "prs", "ocean"])
    ws.append(["0406.90.1200", "FR", "2025-10-01", 12000.0, 1500, "kg", "air"])
    ws.append([406901200, "FR", "2025-10-01", 12000.0, 1500, "kg", "air"])  # a code Excel made a number
    src = tmp_path / "book.xlsx"
    wb.save(src)
    report = price_file(pricer, src, tmp_path / "out.csv")
    rows = _rows(tmp_path / "out.csv")
    assert report.priced == 2 and [r["line"] for r in rows] == ["2", "3", "4"]
    assert "leading zero" in rows[2]["error"]
    wb.create_sheet("more entries").append(HEADER.split(","))
    wb.save(src)
    p = run("calc-bulk", str(src), "-o", str(tmp_path / "x.csv"))
    assert p.returncode == 2 and "several sheets" in p.stderr and "--sheet" in p.stderr and "Traceback" not in p.stderr
    ok = run("calc-bulk", str(src), "-o", str(tmp_path / "x.csv"), "--sheet", "entries")
    assert ok.returncode == 2 and "line 4:" in ok.stderr  # the bad code only


def test_other_encodings(pricer: Pricer, tmp_path: Path) -> None:
    text = HEADER + "\n" + GOOD[0] + "\n6403.99.9065,Côte d'Ivoire,2025-09-01,1000,10,prs,air\n"
    src = tmp_path / "latin.csv"
    src.write_bytes(text.encode("cp1252"))
    default = price_file(pricer, src, tmp_path / "a.csv")
    assert default.priced == 1 and default.bad == 1 and "--encoding" in default.errors[0][1]
    right = price_file(pricer, src, tmp_path / "b.csv", encoding="cp1252")
    assert right.bad == 0 and _rows(tmp_path / "b.csv")[1]["origin"] == "CI"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8").replace(b"\n", b"\r\n"))
    assert price_file(pricer, bom, tmp_path / "c.csv").bad == 0
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes(text.encode("utf-16"))
    for enc in ("utf-8", "utf-16"):
        with pytest.raises(BadInput, match="UTF-16.*save it as UTF-8"):
            price_file(pricer, utf16, tmp_path / "d.csv", encoding=enc)


def test_entries_share_mpf_and_de_minimis(pricer: Pricer, tmp_path: Path) -> None:
    head = "entry_id,hts10,origin,entry_date,value,mode"
    lines = ["E1,6403.99.9065,VN,2025-09-01,20000,ocean", "E2,6109.10.0012,DE,2025-06-01,500,air",
             "E1,6403.99.9065,VN,2025-09-01,30000,ocean", "E2,6109.10.0012,DE,2025-06-01,500,air",
             ",6109.10.0012,DE,2025-06-01,500,air"]
    src = tmp_path / "entries.csv"
    src.write_text(head + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    price_file(pricer, src, tmp_path / "out.csv")
    rows = _rows(tmp_path / "out.csv")
    from tariffstack.calc import fees as feemod

    row = feemod.find("mpf", "formal", "any", date(2025, 9, 1))
    assert row is not None and row.rate_pct is not None
    entry_mpf = min(max(50000 * row.rate_pct / 100, row.min_usd or 0), row.max_usd or 1e9)
    assert float(rows[0]["mpf_usd"]) == round(entry_mpf * 0.4, 2)
    assert float(rows[2]["mpf_usd"]) == round(entry_mpf * 0.6, 2)
    # E2: two lines of $500 make a $1,000 shipment: no de minimis; the lone $500 line is free
    assert rows[1]["de_minimis"] == "false" and rows[3]["de_minimis"] == "false"
    assert rows[4]["de_minimis"] == "true" and float(rows[4]["duty_usd"]) == 0
    assert [r["line"] for r in rows] == ["2", "3", "4", "5", "6"]


def test_one_calculation_equals_its_line_in_a_file(pricer: Pricer, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "\n" + "\n".join(GOOD) + "\n", encoding="utf-8")
    price_file(pricer, src, tmp_path / "out.csv")
    for line, row in zip(GOOD, _rows(tmp_path / "out.csv"), strict=True):
        h, o, d, v, q, u, m = line.split(",")
        one = quote(pricer, Shipment(h, o, d, float(v), float(q) if q else None, u or None, mode=m))
        for k in ("duty_usd", "mpf_usd", "hmf_usd", "total_usd"):
            assert float(row[k]) == one.row[k], k
        assert sum(x["usd"] for x in one.layers) == pytest.approx(one.row["duty_usd"], abs=0.011 * len(one.layers))


# ---- the panel and the engine give the same dollars ---------------------------------------
@pytest.fixture(scope="module")
def both(engine: Engine, panel_home: tuple[Path, object]) -> tuple[Pricer, Pricer, list[str]]:
    tables = PanelTables.load(panel_home[0])
    assert tables.matches(engine)
    codes = sorted(ln.hts10 for ln in engine.model.lines[-1].values() if len(ln.digits) == 10)
    return Pricer(engine, tables), Pricer(engine), codes[:: max(1, len(codes) // 4000)]


LINE = st.tuples(st.integers(0, 10**6), st.sampled_from(["CN", "DE", "VN", "MX", "CA", "JP", "BR", "IN", "GB", "KP",
                                                         "FR", "CH", "AU"]),
                 st.integers(0, 520), st.floats(0, 2e6), st.sampled_from(["", "kg", "lb", "no", "prs", "l"]),
                 st.sampled_from(["ocean", "air", "postal", ""]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=60))
def test_panel_and_engine_paths_agree(both: tuple[Pricer, Pricer, list[str]], lines: list[Any]) -> None:
    with_panel, engine_only, codes = both
    first = with_panel.first
    raw = pa.table({
        "hts10": [codes[i % len(codes)] for i, *_ in lines], "origin": [o for _, o, *_ in lines],
        "entry_date": [(first + timedelta(days=d)).isoformat() for _, _, d, *_ in lines],
        "value": [repr(round(v, 2)) for *_, v, _, _ in lines],
        "quantity": ["" if not u else "100" for *_, u, _ in lines], "unit": [u for *_, u, _ in lines],
        "mode": [m for *_, m in lines],
    })
    a = price_table(with_panel, raw)
    b = price_table(engine_only, raw)
    assert a.to_pylist() == b.to_pylist()
    assert np.all(np.isnan(a.column("duty_usd").to_numpy(zero_copy_only=False)) == np.array(
        [e is not None for e in a.column("error").to_pylist()]))


def test_report_header_errors(pricer: Pricer, tmp_path: Path) -> None:
    src = tmp_path / "no_value.csv"
    src.write_text("hts10,origin,entry_date\n8517.13.0000,CN,2025-05-02\n", encoding="utf-8")
    with pytest.raises(BadInput, match="lacks column.*value"):
        price_file(pricer, src, tmp_path / "o.csv")
    src.write_text("", encoding="utf-8")
    with pytest.raises(BadInput, match="is empty"):
        price_file(pricer, src, tmp_path / "o.csv")
    zipped = tmp_path / "book.csv"
    zipped.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(BadInput, match="Excel workbook"):
        price_file(pricer, zipped, tmp_path / "o.csv")
    with pytest.raises(BadInput, match="unknown file type"):
        price_file(pricer, src, tmp_path / "o.json")


def test_spark_parts_are_read_in_line_order(tmp_path: Path) -> None:
    """The Spark job sorts within partitions only: runs of consecutive lines are concatenated by
    their first line, overlapping parts are merged by a sort (calc.spark._in_line_order)."""
    from tariffstack.calc.spark import _in_line_order

    def parts(folder: Path, runs: list[list[int]]) -> Path:
        folder.mkdir()
        for k, lines in enumerate(runs):
            pq.write_table(pa.table({"line": pa.array(lines, pa.int64()), "x": [str(n) for n in lines]}),
                           folder / f"part-{k:05d}-x.parquet")
        pq.write_table(pa.table({"line": pa.array([], pa.int64()), "x": pa.array([], pa.string())}),
                       folder / "part-00099-x.parquet")  # an empty partition
        return folder

    def lines_of(files: list[Path]) -> list[int]:
        return [n for f in files for n in pq.read_table(f).column("line").to_pylist()]

    runs = parts(tmp_path / "runs", [[7, 8, 9], [1, 2, 3], [4, 5, 6]])
    got = _in_line_order(runs, tmp_path)
    assert lines_of(got) == list(range(1, 10)) and all(f.parent == runs for f in got)
    mixed = parts(tmp_path / "mixed", [[1, 5, 9], [2, 3, 8], [4, 6, 7]])
    got = _in_line_order(mixed, tmp_path)
    assert lines_of(got) == list(range(1, 10)) and got == [tmp_path / "sorted.parquet"]
    assert pq.read_table(got[0]).column("x").to_pylist() == [str(n) for n in range(1, 10)]


def test_a_line_not_in_force_names_its_own_date_whatever_came_first(engine: Engine) -> None:
    """Lines of one code on different days of a revision that lacks it: each error names the
    line's own entry date, in any order (a cached message once named the first line's date, so
    the local and Spark outputs differed by which line a worker met first)."""
    model = engine.model
    gaps = [(d, k) for k in range(1, len(model.lines) - 1) for d in model.lines[k - 1]
            if len(d) == 10 and d not in model.lines[k] and d in model.lines[k + 1]
            and (model.starts[k + 1] - model.starts[k]).days > 3]
    assert gaps
    d, k = gaps[0]
    days = [model.starts[k] + timedelta(days=n) for n in (0, 3, 1)]
    for order in (days, days[::-1]):
        raw = pa.table({"hts10": [d] * 3, "origin": ["MX", "JP", "DE"], "entry_date": [x.isoformat() for x in order],
                        "value": ["100"] * 3, "quantity": [""] * 3, "unit": [""] * 3, "mode": ["ocean"] * 3})
        errors = price_table(Pricer(engine), raw).column("error").to_pylist()
        for day, err in zip(order, errors, strict=True):
            assert err is not None and f"not in the schedule in force on {day.isoformat()} (" in err, err
            assert f"({model.revisions[k].name}); it is in " in err


def test_a_bad_value_that_looks_like_markup_is_printed_as_text(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An origin '[/b]' once crashed the bad-line report (rich read it as a closing tag)."""
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "\n" + GOOD[0] + "\n6403.99.9065,[/b] [bold]x,2025-09-01,10,1,prs,air\n", encoding="utf-8")
    got = run("calc-bulk", str(src), "-o", str(tmp_path / "out.csv"))
    assert got.code == 2 and "Traceback" not in got.err, got.err
    assert "line 3: " in got.err and "'[/b] [bold]x'" in got.err, got.err
    rows = _rows(tmp_path / "out.csv")
    assert rows[0]["error"] == "" and "[/b] [bold]x" in rows[1]["error"]
