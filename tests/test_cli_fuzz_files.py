"""Generated malformed files for ``calc-bulk`` (CSV, Parquet, Excel) and ``scenario`` (YAML, JSON).

Whatever the bytes, the command answers with an exit code and a reason naming the line (and the
column or field), never a traceback (``invoke`` runs the real entry point in-process, so an
escaping exception fails the test). A bulk file keeps its good lines, priced to the dollar the
one-shipment calculator gives, and reports every bad line with its number; a command that fails
leaves no output, partial or temporary, and an earlier file of that name untouched.
Examples are bounded and derandomized (a fixed seed): the file runs in well under a minute once
the session's panel is built; ``--hypothesis-seed`` replays a failure.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_inproc import Outcome, invoke, warm_engine
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tariffstack.calc import Pricer, Shipment, quote
from tariffstack.engine.us import Engine

# no shrinking: each example is already small, and a shrink re-runs the command hundreds of times
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                database=None, phases=(Phase.explicit, Phase.generate))
Run = Callable[..., Outcome]


@pytest.fixture(scope="module")
def home(panel_home: tuple[Path, object]) -> Path:
    """The session home with its built panel (calc-bulk prices through it; scenario needs it)."""
    return panel_home[0]


@pytest.fixture(scope="module")
def run(engine: Engine, hts_dir: Path, home: Path) -> Iterator[Run]:
    env: dict[str, str | None] = {"TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(home)}

    def _run(*args: str) -> Outcome:
        return invoke(*args, env=env)

    with warm_engine(engine, hts_dir, home):
        yield _run


# =============================================================================== calc-bulk
HEADER = ("hts10", "origin", "entry_date", "value", "quantity", "unit", "mode")
GOOD = [
    ("6403.99.9065", "VN", "2025-09-01", "80000", "5000", "prs", "ocean"),
    ("0406.90.1200", "FR", "2025-10-01", "12000", "1500", "kg", "air"),
    ("8517.13.0000", "CN", "2025-05-02", "5000", "", "", "air"),
    ("6403.99.9065", "Côte d'Ivoire", "2025-09-01", "1000", "10", "prs", "air"),
]
COL = {c: k for k, c in enumerate(HEADER)}
# one field of a good line (GOOD[0] or GOOD[1]: both have a quantity and unit) made bad
BAD_FIELDS = [
    ("hts10", "12345", "malformed HTS code '12345'"),
    ("hts10", "", "hts10 is empty"),
    ("hts10", "640399906", "one digit short"),
    ("hts10", "9999.99.9999", "9999"),
    ("origin", "Narnia", "'Narnia'"),
    ("origin", "[/b] [bold]x", "[/b] [bold]x"),       # rich markup in a value is text
    ("origin", "", "origin is empty"),
    ("entry_date", "2025-02-30", "bad entry_date '2025-02-30'"),
    ("entry_date", "05/02/2025", "bad entry_date '05/02/2025'"),
    ("entry_date", "2024-06-01", "outside the data"),
    ("entry_date", "2031-01-01", "after the newest law"),
    ("entry_date", "", "entry_date is empty"),
    ("value", "-4", "value -4 is negative"),
    ("value", "abc", "value 'abc' is not a number"),
    ("value", "12,5", "value '12,5' is not a number"),
    ("value", "nan", "value 'nan' is not a number"),
    ("value", "1e999", "value is not a finite number"),
    ("value", "2e10", "implausible"),
    ("value", "", "value is empty"),
    ("quantity", "-3", "quantity -3 must be a positive number"),
    ("quantity", "0", "quantity 0 must be a positive number"),
    ("quantity", "1e13", "quantity 1e13 is implausible"),
    ("quantity", "lots", "quantity 'lots' is not a number"),
    ("unit", "furlong", "unit: "),
    ("unit", "", "unit is empty although quantity is given"),
    ("mode", "boat", "unknown mode 'boat'"),
]


def _mutate(base: tuple[Any, ...], column: str, value: Any) -> tuple[Any, ...]:
    row = list(base)
    row[COL[column]] = value
    return tuple(row)


def _csv_line(fields: tuple[str, ...], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(fields)
    return buf.getvalue().encode("utf-8")


NO_EOL = st.binary(min_size=1, max_size=60).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
RAW_BAD = st.one_of(
    NO_EOL.map(lambda b: (b[: len(b) // 2] + b"\x00" + b[len(b) // 2:], "binary data (NUL bytes)")),
    NO_EOL.map(lambda b: (b"\xff" + b.replace(b"\x00", b""), "not utf-8 text (byte 0xff at column 1)")),
    st.just((_csv_line(GOOD[3]).decode().encode("cp1252"), "not utf-8 text (byte 0xf4 at column 15)")),
    st.integers(10_001, 30_000).map(lambda n: (b"8517.13.0000,CN,2025-05-02," + b"9" * n, "the limit is 10,000")),
    st.sampled_from([
        (b"8517.13.0000,CN,2025-05-02", "3 fields, the header has 7"),
        (b"8517.13.0000,CN,2025-05-02,100,,,air,extra", "8 fields, the header has 7"),
        (b'8517.13.0000,"CN,2025-05-02,100,,,air', "quote is not closed"),
        (b"8517.13.0000,CN\r2025-05-02,100,,,air", "carriage return"),   # a lone CR: old Mac line end
        (b",,,,,,", "hts10 is empty"),
    ]),
)
Item = tuple[bytes, Any]   # (the line's bytes, a GOOD tuple | the fragment of its reason | None: blank)
CSV_ITEM: st.SearchStrategy[Item] = st.one_of(
    st.sampled_from(GOOD).map(lambda g: (_csv_line(g), g)),
    st.tuples(st.integers(0, 1), st.sampled_from(BAD_FIELDS)).map(
        lambda x: (_csv_line(_mutate(GOOD[x[0]], x[1][0], x[1][1])), x[1][2])),
    RAW_BAD,
    st.sampled_from([b"", b"   ", b"\t"]).map(lambda b: (b, None)),
)


@pytest.fixture(scope="module")
def totals(engine: Engine) -> dict[tuple[Any, ...], float]:
    """The one-shipment calculator's total for each good line (engine only, no panel)."""
    pricer = Pricer(engine)
    got = {}
    for g in GOOD:
        h, o, d, v, q, u, m = g
        got[g] = quote(pricer, Shipment(h, o, d, float(v), float(q) if q else None, u or None, mode=m)).row["total_usd"]
    assert all(t > 0 for t in got.values()), got
    return got


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _priced(path: Path) -> list[dict[str, Any]]:
    """(line, error, total_usd) of every row of a priced file, whatever its format."""
    if path.suffix == ".parquet":
        rows = pq.read_table(path, columns=["line", "error", "total_usd"]).to_pylist()
    elif path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        cells = list(wb["priced"].iter_rows(values_only=True))
        wb.close()
        width = len(cells[0])   # a read-only sheet drops a row's trailing empty cells
        rows = [dict(zip(cells[0], (*r, *(None,) * (width - len(r))), strict=True)) for r in cells[1:]]
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    return [{"line": int(r["line"]), "error": r["error"] or None, "total_usd": _num(r["total_usd"])} for r in rows]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".part"))


def check_bulk(got: Outcome, dest: Path, expect: list[tuple[int, Any]], totals: dict[tuple[Any, ...], float],
               as_json: bool = False) -> None:
    """The contract of a bulk run: every line in place, good ones priced right, bad ones named."""
    assert "Traceback" not in got.err, got.err[-3000:]
    rows = _priced(dest)
    assert [r["line"] for r in rows] == [n for n, _ in expect], (rows, expect)
    for row, (n, want) in zip(rows, expect, strict=True):
        if isinstance(want, tuple):
            assert row["error"] is None and row["total_usd"] == totals[want], (n, want, row)
        else:
            assert row["error"] and want in row["error"], (n, want, row["error"])
            assert row["total_usd"] is None, row
    bad = [(n, w) for n, w in expect if isinstance(w, str)]
    said = [ln for ln in got.err.splitlines() if ln.strip() and not ln.startswith("pricing: ")]
    if bad:
        assert got.code == 2, (got.code, got.err[-2000:])
        shown = said[:-1]
        assert [int(ln.split(":", 1)[0].removeprefix("line ")) for ln in shown] == [n for n, _ in bad][:20], said
        for ln, (_, w) in zip(shown, bad, strict=False):
            assert w in ln, (w, ln)
        assert said[-1].startswith(f"{len(bad):,} line(s) had errors"), said[-1]
    else:
        assert got.code == 0 and said == [], got.err[-2000:]
    if as_json:
        report = json.loads(got.out)
        assert (report["lines"], report["bad"]) == (len(expect), len(bad)), report
        assert report["priced"] == len(expect) - len(bad)
    assert _leftovers(dest.parent) == []


@settings(FUZZ, max_examples=60)
@given(items=st.lists(CSV_ITEM, max_size=14), eol=st.sampled_from([b"\n", b"\r\n"]), bom=st.booleans(),
       last_eol=st.booleans(), out=st.sampled_from(["csv", "csv", "parquet", "xlsx"]), as_json=st.booleans())
def test_csv_good_lines_priced_and_each_bad_line_named(
    run: Run, totals: dict[tuple[Any, ...], float], tmp_path_factory: pytest.TempPathFactory,
    items: list[Item], eol: bytes, bom: bool, last_eol: bool, out: str, as_json: bool,
) -> None:
    folder = tmp_path_factory.mktemp("csv")
    body = (b"\xef\xbb\xbf" if bom else b"") + _csv_line(HEADER) + eol
    body += eol.join(raw for raw, _ in items) + (eol if items and last_eol else b"")
    (folder / "in.csv").write_bytes(body)
    dest = folder / f"priced.{out}"
    got = run("calc-bulk", str(folder / "in.csv"), "-o", str(dest), *(["--json"] if as_json else []))
    expect = [(n, want) for n, (_, want) in enumerate(items, start=2) if want is not None]
    check_bulk(got, dest, expect, totals, as_json)


def test_csv_line_longer_than_a_read_block_costs_that_line_only(
    run: Run, totals: dict[tuple[Any, ...], float], tmp_path: Path
) -> None:
    from tariffstack.calc.bulkio import BLOCK

    lines = [_csv_line(GOOD[0]), b"8517.13.0000,CN,2025-05-02," + b"7" * (BLOCK + 5), _csv_line(GOOD[2])]
    (tmp_path / "in.csv").write_bytes(_csv_line(HEADER) + b"\n" + b"\n".join(lines) + b"\n")
    got = run("calc-bulk", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"))
    check_bulk(got, tmp_path / "out.csv", [(2, GOOD[0]), (3, "the limit is 10,000"), (4, GOOD[2])], totals)


def test_csv_in_cp1252_with_its_encoding_is_priced(run: Run, totals: dict[tuple[Any, ...], float],
                                                   tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(b"\r\n".join(_csv_line(x).decode().encode("cp1252") for x in [HEADER, *GOOD]))
    got = run("calc-bulk", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "--encoding", "cp1252")
    check_bulk(got, tmp_path / "out.csv", [(n, g) for n, g in enumerate(GOOD, start=2)], totals)


def test_csv_header_only_gives_an_empty_priced_file(run: Run, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(_csv_line(HEADER) + b"\r\n\r\n")
    got = run("calc-bulk", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "--json")
    assert got.code == 0 and json.loads(got.out)["lines"] == 0, got.err
    assert _priced(tmp_path / "out.csv") == []


# ---- files refused whole: one line, exit 2, nothing written -------------------------------------
HEAD = _csv_line(HEADER) + b"\n"
ROW = _csv_line(GOOD[0]) + b"\n"
WHOLE = [  # (id, input name, bytes, extra options, the reason given)
    ("empty", "in.csv", b"", (), "is empty"),
    ("bom only", "in.csv", b"\xef\xbb\xbf", (), "lacks column(s)"),
    ("blank lines only", "in.csv", b"\n\n  \n", (), "is empty"),
    ("no value column", "in.csv", b"hts10,origin,entry_date\n" + ROW, (), "lacks column(s) value"),
    ("no columns at all", "in.csv", b",,,\n" + ROW, (), "lacks column(s) hts10, origin, entry_date, value"),
    ("value twice", "in.csv", HEAD.replace(b",mode", b",value") + ROW, (), "value"),
    ("hts twice by alias", "in.csv", b"hts,hts10,origin,entry_date,value\n" + ROW, (), "hts10"),
    ("utf-16", "in.csv", (HEAD + ROW).decode().encode("utf-16"), (), "UTF-16"),
    ("utf-16 given", "in.csv", HEAD + ROW, ("--encoding", "utf-16"), "UTF-16"),
    ("unknown encoding", "in.csv", HEAD + ROW, ("--encoding", "latin-9x"), "not a text encoding"),
    ("cr only line ends", "in.csv", (HEAD + ROW + ROW).replace(b"\n", b"\r"), (), "CR only"),
    ("binary header", "in.csv", b"\x00\x01\x02\xff\xfe\n" + ROW, (), "in.csv"),
    ("latin-1 header", "in.csv", b"hts10,orig\xefne,entry_date,value\n" + ROW, (), "header line: not utf-8 text"),
    ("nul in header", "in.csv", b"hts10,origin,entry_date,val\x00ue\n" + ROW, (), "in.csv"),
    ("unclosed quote in header", "in.csv", b'"hts10,origin,entry_date,value\n' + ROW, (), "in.csv"),
    ("huge header", "in.csv", b"hts10," + b"x" * 20_000 + b"\n", (), "over 10,000 bytes"),
    ("zip named csv", "in.csv", b"PK\x03\x04" + b"\x00" * 40, (), "Excel workbook"),
    ("parquet named csv", "in.csv", b"PAR1" + b"\x00" * 40, (), "is a Parquet file"),
    ("old excel", "in.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 40, (), ".xls"),
    ("no extension", "in", HEAD + ROW, (), "unknown file type"),
    ("csv named parquet", "in.parquet", HEAD + ROW, (), "no PAR1 magic"),
    ("truncated parquet", "in.parquet", b"PAR1" + b"\x13" * 200 + b"PAR1", (), "cannot read"),
    ("csv named xlsx", "in.xlsx", HEAD + ROW, (), "not an .xlsx workbook"),
    ("zip that is no workbook", "in.xlsx", b"PK\x05\x06" + b"\x00" * 18, (), "cannot read"),
]


# each case writes to one output format, the three in turn: the refusal comes before any writing
@pytest.mark.parametrize(("name", "data", "options", "reason", "out"),
                         [(*w[1:], ("csv", "parquet", "xlsx")[k % 3]) for k, w in enumerate(WHOLE)],
                         ids=[w[0] for w in WHOLE])
def test_unusable_file_is_one_line_and_leaves_the_output_alone(
    run: Run, tmp_path: Path, name: str, data: bytes, options: tuple[str, ...], reason: str, out: str
) -> None:
    src = tmp_path / name
    src.write_bytes(data)
    dest = tmp_path / f"out.{out}"
    dest.write_bytes(b"previous result")
    got = run("calc-bulk", str(src), "-o", str(dest), *options)
    got.one_line_error(2, reason)
    assert dest.read_bytes() == b"previous result"
    assert not (tmp_path / f"out.{out}.sources.csv").exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize(("why", "args", "reason"), [
    ("missing file", ("calc-bulk", "{d}/nope.csv", "-o", "{d}/o.csv"), "no such file"),
    ("a folder", ("calc-bulk", "{d}", "-o", "{d}/o.csv"), "{d}"),
    ("output is the input", ("calc-bulk", "{d}/in.csv", "-o", "{d}/in.csv"), "is the input file"),
    ("output folder missing", ("calc-bulk", "{d}/in.csv", "-o", "{d}/no/o.csv"), "does not exist"),
    ("output type unknown", ("calc-bulk", "{d}/in.csv", "-o", "{d}/o.json"), "unknown file type"),
])
def test_bad_paths_are_one_line(run: Run, tmp_path: Path, why: str, args: tuple[str, ...], reason: str) -> None:
    (tmp_path / "in.csv").write_bytes(HEAD + ROW)
    got = run(*(a.format(d=tmp_path) for a in args))
    got.one_line_error(2, reason.format(d=tmp_path))
    assert (tmp_path / "in.csv").read_bytes() == HEAD + ROW
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


# ---- Parquet -------------------------------------------------------------------------------------
VALUE_BAD = [(-4.5, "value -4.5 is negative"), (float("inf"), "value is not a finite number"),
             (float("nan"), "value is empty"), (None, "value is empty"), (2e10, "implausible")]
DATE_BAD = [(date(2024, 6, 1), "outside the data"), (date(2031, 1, 1), "after the newest law"),
            (None, "entry_date is empty")]


def _column(values: list[Any], kind: str) -> pa.Array:
    if kind == "float64":
        return pa.array([None if v in ("", None) else float(v) for v in values], pa.float64())
    if kind == "int64":
        return pa.array([None if v in ("", None) else int(float(v)) for v in values], pa.int64())
    if kind in ("date32", "timestamp"):
        days = [v if isinstance(v, date) or v is None else date.fromisoformat(v) for v in values]
        if kind == "date32":
            return pa.array(days, pa.date32())
        return pa.array([None if d is None else datetime(d.year, d.month, d.day) for d in days], pa.timestamp("ms"))
    if kind == "dictionary":
        return pa.array([None if v is None else str(v) for v in values], pa.string()).dictionary_encode()
    if kind == "large_string":
        return pa.array([None if v is None else str(v) for v in values], pa.large_string())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


@settings(FUZZ, max_examples=30)
@given(data=st.data(), value_kind=st.sampled_from(["string", "float64", "dictionary"]),
       date_kind=st.sampled_from(["string", "date32", "timestamp", "large_string"]),
       group=st.integers(1, 5), out=st.sampled_from(["csv", "parquet"]))
def test_parquet_typed_columns_good_rows_priced_bad_rows_named(
    run: Run, totals: dict[tuple[Any, ...], float], tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject, value_kind: str, date_kind: str, group: int, out: str,
) -> None:
    typed = {"value": value_kind == "float64", "entry_date": date_kind in ("date32", "timestamp")}
    field_bad = [(c, v, w) for c, v, w in BAD_FIELDS if not typed.get(c)]
    field_bad += [("value", v, w) for v, w in VALUE_BAD] if typed["value"] else []
    field_bad += [("entry_date", v, w) for v, w in DATE_BAD] if typed["entry_date"] else []
    row = st.one_of(st.sampled_from(GOOD).map(lambda g: (g, g)),
                    st.tuples(st.integers(0, 1), st.sampled_from(field_bad)).map(
                        lambda x: (_mutate(GOOD[x[0]], x[1][0], x[1][1]), x[1][2])))
    rows = data.draw(st.lists(row, min_size=1, max_size=12))
    kinds = {"value": value_kind, "entry_date": date_kind}
    table = pa.table({c: _column([r[COL[c]] for r, _ in rows], kinds.get(c, "string")) for c in HEADER})
    folder = tmp_path_factory.mktemp("pq")
    pq.write_table(table, folder / "in.parquet", row_group_size=group)
    dest = folder / f"out.{out}"
    got = run("calc-bulk", str(folder / "in.parquet"), "-o", str(dest))
    check_bulk(got, dest, [(n, want) for n, (_, want) in enumerate(rows, start=1)], totals)


def _parquet(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.Table.from_arrays(list(columns.values()), names=list(columns)), path)
    return path


def _good_columns(n: int = 2) -> dict[str, pa.Array]:
    return {c: pa.array([g[COL[c]] for g in GOOD[:n]], pa.string()) for c in HEADER}


def test_parquet_hts_stored_as_numbers_names_the_lost_zero(run: Run, totals: dict[tuple[Any, ...], float],
                                                         tmp_path: Path) -> None:
    cols = _good_columns()
    cols["hts10"] = pa.array([6403999065, 406901200], pa.int64())   # 0406.90.1200 lost its leading zero
    _parquet(tmp_path / "in.parquet", cols)
    got = run("calc-bulk", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.csv"))
    check_bulk(got, tmp_path / "out.csv", [(1, GOOD[0]), (2, "one digit short")], totals)


def test_parquet_binary_column_with_junk_names_the_row(run: Run, totals: dict[tuple[Any, ...], float],
                                                      tmp_path: Path) -> None:
    """Text stored as raw bytes (no UTF-8 annotation): good bytes read as text, junk names its row."""
    cols = _good_columns(3)
    cols["origin"] = pa.array([b"VN", b"F\xffR", b"CN"], pa.binary())
    _parquet(tmp_path / "in.parquet", cols)
    got = run("calc-bulk", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.csv"))
    check_bulk(got, tmp_path / "out.csv", [(1, GOOD[0]), (2, "origin"), (3, GOOD[2])], totals)


@pytest.mark.parametrize(("why", "change", "reason"), [
    ("value as lists", {"value": pa.array([[1.0], [2.0]], pa.list_(pa.float64()))}, "value"),
    ("origin as structs", {"origin": pa.array([{"a": 1}, {"a": 2}])}, "origin"),
    ("value twice", {"value": pa.array(["1", "2"]), "value ": pa.array(["3", "4"])}, "value"),
    ("no entry_date", {"entry_date": None}, "lacks column(s) entry_date"),
])
def test_parquet_unusable_columns_are_one_line(run: Run, tmp_path: Path, why: str, change: dict[str, Any],
                                               reason: str) -> None:
    cols = _good_columns()
    for name, arr in change.items():
        if arr is None:
            del cols[name]
        else:
            cols[name] = arr
    _parquet(tmp_path / "in.parquet", cols)
    got = run("calc-bulk", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.csv"))
    got.one_line_error(2, "in.parquet", reason)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_parquet_damaged_inside_is_named_as_the_input(run: Run, tmp_path: Path) -> None:
    """A data page damaged after the footer was read: the input is to blame, not the output."""
    cols = {c: pa.array([g[COL[c]] for g in GOOD * 500], pa.string()) for c in HEADER}
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_arrays(list(cols.values()), names=list(cols)), path, row_group_size=500,
                   compression="snappy")
    raw = bytearray(path.read_bytes())
    lo, hi = len(raw) // 10, len(raw) // 2      # row groups' pages; the footer at the end stays whole
    raw[lo:hi] = b"\xff" * (hi - lo)
    _blames_the_input(run, path, raw)


def _blames_the_input(run: Run, path: Path, damaged: bytearray) -> None:
    """``path`` rewritten as ``damaged``: calc-bulk names it in one line and writes nothing."""
    path.write_bytes(bytes(damaged))
    got = run("calc-bulk", str(path), "-o", str(path.parent / "out.csv"))
    line = got.one_line_error(2, path.name)
    assert "cannot write" not in line, line
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_excel_damaged_inside_is_named_as_the_input(run: Run, tmp_path: Path) -> None:
    """A workbook whose sheet is damaged (its zip member no longer inflates): one line, no output."""
    import zipfile

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "entries"
    ws.append(list(HEADER))
    for g in GOOD * 800:
        ws.append(_typed(g, "text"))
    path = tmp_path / "in.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    lo, hi = start + info.compress_size // 3, start + info.compress_size // 2
    raw[lo:hi] = b"\x00" * (hi - lo)
    _blames_the_input(run, path, raw)


# ---- Excel ---------------------------------------------------------------------------------------
def _typed(g: tuple[str, ...], when: str) -> list[Any]:
    """A good line as a spreadsheet holds it: numbers as numbers, the date as text or a date."""
    h, o, d, v, q, u, m = g
    day: Any = d if when == "text" else (date.fromisoformat(d) if when == "date"
                                         else datetime.fromisoformat(d))
    return [h, o, day, float(v) if "." in v else int(v), float(q) if q else None, u or None, m]


EXCEL_BAD = [("value", True, "value 'True' is not a number"), ("value", -4.5, "value -4.5 is negative"),
             ("value", 2e10, "implausible"), ("entry_date", datetime(2025, 5, 2, 13, 45), "bad entry_date"),
             ("entry_date", date(2024, 6, 1), "outside the data"), ("quantity", -1, "must be a positive number"),
             ("value", "x" * 5000, "is not a number")]
EXCEL_ITEM = st.one_of(
    st.tuples(st.sampled_from(GOOD), st.sampled_from(["text", "date", "datetime"])).map(lambda x: (_typed(*x), x[0])),
    st.tuples(st.integers(0, 1), st.sampled_from(BAD_FIELDS + EXCEL_BAD)).map(
        lambda x: (list(_mutate(tuple(_typed(GOOD[x[0]], "text")), x[1][0], x[1][1])), x[1][2])),
    st.just(([None] * 7, None)),     # an empty row: skipped, as a spreadsheet shows it
)


@settings(FUZZ, max_examples=25)
@given(items=st.lists(EXCEL_ITEM, max_size=10), before=st.integers(0, 2), rival=st.booleans(),
       name_it=st.booleans(), out=st.sampled_from(["csv", "xlsx"]))
def test_excel_good_rows_priced_bad_rows_named_across_sheets(
    run: Run, totals: dict[tuple[Any, ...], float], tmp_path_factory: pytest.TempPathFactory,
    items: list[tuple[list[Any], Any]], before: int, rival: bool, name_it: bool, out: str,
) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "readme"
    wb.active.append(["Entries for October; values in USD"])
    for k in range(before):
        wb.create_sheet(f"notes {k}").append(["hts10", "origin", "remarks"])  # not all the columns
    ws = wb.create_sheet("entries")
    ws.append(list(HEADER))
    for cells, _ in items:
        ws.append(cells)
    if rival:
        wb.create_sheet("last year").append(list(HEADER))
    folder = tmp_path_factory.mktemp("xlsx")
    wb.save(folder / "in.xlsx")
    dest = folder / f"out.{out}"
    got = run("calc-bulk", str(folder / "in.xlsx"), "-o", str(dest), *(["--sheet", "entries"] if name_it else []))
    if rival and not name_it:
        got.one_line_error(2, "several sheets have the columns (entries, last year)", "--sheet")
        assert not dest.exists() and _leftovers(folder) == []
        return
    expect = [(n, want) for n, (_, want) in enumerate(items, start=2) if want is not None]
    check_bulk(got, dest, expect, totals)


@pytest.mark.parametrize(("why", "sheets", "options", "reason"), [
    ("no sheet has the columns", {"a": [["x", "y"]], "b": [[]]}, (), "no sheet has the columns"),
    ("sheet not there", {"entries": [list(HEADER)]}, ("--sheet", "Entries "), "has no sheet 'Entries '"),
    ("named sheet lacks a column", {"entries": [list(HEADER[:3])]}, ("--sheet", "entries"), "lacks column(s) value"),
    ("header on row 2", {"entries": [["October"], list(HEADER)]}, (), "no sheet has the columns"),
    ("value twice", {"entries": [[*HEADER, "Value"], list(GOOD[0]) + ["1"]]}, (), "value"),
])
def test_excel_unusable_workbook_is_one_line(run: Run, tmp_path: Path, why: str, sheets: dict[str, list[list[Any]]],
                                             options: tuple[str, ...], reason: str) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(tmp_path / "in.xlsx")
    got = run("calc-bulk", str(tmp_path / "in.xlsx"), "-o", str(tmp_path / "out.xlsx"), *options)
    got.one_line_error(2, reason)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx"]


# =============================================================================== scenario
BASE = [
    "name: fuzz-base",                          # 1
    "title: The fentanyl duty stays at 20%",    # 2
    "events:",                                  # 3
    "  - id: fentanyl-stays-20",                # 4
    "    action: rate",                         # 5
    "    headings: 9903.01.24",                 # 6
    "    rate_pct: 20",                         # 7
    "    effective: 2025-11-10",                # 8
]
# (line replaced, or 0 for "insert after" the line given second, the new text, the line named, the words)
YAML_BAD: list[tuple[int, int, str, int, str]] = [
    (7, 0, "    rate_pct: [1, 2]", 7, "rate_pct: "),
    (7, 0, "    rate_pct: abc", 7, "rate_pct: "),
    (7, 0, "    rate_pct: -5", 7, "rate_pct: "),
    (7, 0, "    rate_pct: 1e9", 7, "rate_pct: "),
    (7, 0, "    rate_pct: nan", 7, "rate_pct: "),
    (7, 0, "    rate_pct: .inf", 7, "rate_pct: "),
    (7, 0, "    rate_pct: " + "[" * 20 + "]" * 20, 7, "nested more than 12"),
    (7, 0, "    rate_pct: &r 20", 7, ""),    # an anchor without alias is harmless YAML; see below
    (8, 0, "    effective: 2025-13-45", 8, "effective: "),
    (8, 0, "    effective: tomorrow", 8, "effective: "),
    (8, 0, "    effective: 2025-02-30", 8, "effective: "),
    (8, 0, "    effective: [2025-11-10]", 8, "effective: "),
    (8, 0, "    effective: 2019-01-01", 8, "outside the data"),
    (0, 8, "    end: 2025-01-01", 4, "end 2025-01-01 is before effective"),  # the event's line
    (0, 8, "    end: 2031-01-01", 9, "outside the data"),
    (0, 8, "    end: 2025-11-31", 9, "end: "),
    (6, 0, "    headings: 9903.77.77", 6, "never existed"),
    (6, 0, "    headings: 8517.13.00", 6, "not a Chapter 99 heading"),
    (6, 0, "    headings: {a: b}", 6, "headings"),
    (6, 0, "    headings: [[9903.01.24]]", 6, "headings: "),
    (6, 0, "    headings:", 6, "headings: "),
    (5, 0, "    action: raise", 4, "unknown action 'raise'"),
    (5, 0, "    action: [rate]", 4, "action"),
    (0, 8, "    foo: 1", 9, "unknown field 'foo'"),
    (0, 2, "owner: me", 3, "unknown field 'owner'"),
    (0, 8, "    Effective: 2025-11-11", 9, "unknown field 'Effective'"),
    (1, 0, "name: Bad Name", 1, "name: "),
    (1, 0, "name: [x]", 1, "name: "),
    (0, 7, "    rate_pct: 30", 8, "'rate_pct' appears twice"),
    (4, 0, "  - id: bad id!", 4, "id: "),
    (0, 8, "    summary: " + "x" * 3000, 9, "summary: "),
    (0, 2, "description: " + "y" * 5000, 3, "description: "),
]
JUNK_LINES = ["  : : :", "\t- tab", '  "unclosed', "  [a, b", "   bad: indent: x", "- {", "}{", "%YAML 9.9"]


def _scenario(tmp: Path, data: bytes, name: str = "s.yaml") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _stores(home: Path) -> list[str]:
    folder = home / "scenarios"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def check_refused(run: Run, home: Path, path: Path, *fragments: str) -> str:
    """``scenario FILE --date D --changes OUT``: one line naming the file, nothing written."""
    before = _stores(home)
    out = path.parent / "pairs.csv"
    got = run("scenario", str(path), "--date", "2025-11-20", "--changes", str(out))
    line = got.one_line_error(2, path.name, *fragments)
    assert not out.exists() and _leftovers(path.parent) == [] and _stores(home) == before
    return line


def test_the_base_scenario_checks(run: Run, tmp_path: Path) -> None:
    """The file every generated one breaks is itself good (so each failure is the mutation's)."""
    for form in ("plain", "crlf", "bom", "brackets"):
        text = "\n".join(BASE) + "\n"
        data = (b"\xef\xbb\xbf" if form == "bom" else b"") + (text.replace("\n", "\r\n") if form == "crlf"
                                                               else text).encode()
        path = _scenario(tmp_path, data, "deal [bold].yaml" if form == "brackets" else "s.yaml")
        got = run("scenario", str(path), "--check")
        assert got.code == 0 and "Traceback" not in got.err, got.err
        assert f"{path.name}: 1 events checked" in got.err, got.err


@settings(FUZZ, max_examples=60)
@given(case=st.sampled_from(YAML_BAD), crlf=st.booleans(), bom=st.booleans(), comment=st.integers(0, 3))
def test_yaml_scenario_error_names_the_line_and_field(
    run: Run, home: Path, tmp_path_factory: pytest.TempPathFactory, case: tuple[int, int, str, int, str],
    crlf: bool, bom: bool, comment: int,
) -> None:
    replace, after, text, line, words = case
    lines = list(BASE)
    if replace:
        lines[replace - 1] = text
    else:
        lines.insert(after, text)
    lines = ["# a comment"] * comment + lines   # moves every line down
    body = "\n".join(lines) + "\n"
    data = (b"\xef\xbb\xbf" if bom else b"") + (body.replace("\n", "\r\n") if crlf else body).encode()
    path = _scenario(tmp_path_factory.mktemp("scen"), data)
    if not words:   # an anchor alone: a valid file
        got = run("scenario", str(path), "--check")
        assert got.code == 0, got.err
        return
    check_refused(run, home, path, f"s.yaml line {line + comment}: ", words)


@settings(FUZZ, max_examples=40)
@given(where=st.integers(0, len(BASE)), junk=st.sampled_from(JUNK_LINES), crlf=st.booleans())
def test_malformed_yaml_names_the_line(run: Run, home: Path, tmp_path_factory: pytest.TempPathFactory,
                                       where: int, junk: str, crlf: bool) -> None:
    lines = [*BASE[:where], junk, *BASE[where:]]
    body = "\n".join(lines) + "\n"
    path = _scenario(tmp_path_factory.mktemp("scen"), (body.replace("\n", "\r\n") if crlf else body).encode())
    msg = check_refused(run, home, path)
    found = re.search(r"s\.yaml line (\d+): ", msg)
    assert found, msg
    # the junk's line or the next; or the line before, when the junk continues its value
    # (an indented line after "name: x" is more of that plain scalar)
    assert max(1, where) <= int(found.group(1)) <= where + 2, (where + 1, msg)


@settings(FUZZ, max_examples=40)
@given(where=st.integers(0, len(BASE) - 1), junk=st.sampled_from([
    (b"\x00", "NUL"), (b"\xff\xfe", "not UTF-8 text"), (b"C\xf4te", "not UTF-8 text"), (b"\x1b[2J", "character"),
    (b"\xc0\x80", "not UTF-8 text")]), at=st.integers(0, 12))
def test_binary_bytes_in_a_scenario_name_their_line(run: Run, home: Path, tmp_path_factory: pytest.TempPathFactory,
                                                    where: int, junk: tuple[bytes, str], at: int) -> None:
    lines = [ln.encode() for ln in BASE]
    k = min(at, len(lines[where]))
    lines[where] = lines[where][:k] + junk[0] + lines[where][k:]
    path = _scenario(tmp_path_factory.mktemp("scen"), b"\n".join(lines) + b"\n")
    check_refused(run, home, path, f"s.yaml line {where + 1}: ", junk[1])


@settings(FUZZ, max_examples=30)
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_scenario_are_one_line(run: Run, home: Path, tmp_path_factory: pytest.TempPathFactory,
                                                 data: bytes) -> None:
    msg = check_refused(run, home, _scenario(tmp_path_factory.mktemp("scen"), data))
    assert re.search(r"s\.yaml line \d+: ", msg), msg


JSON_BASE: dict[str, Any] = {"name": "fuzz-json", "events": [
    {"action": "rate", "headings": "9903.01.24", "rate_pct": 20, "effective": "2025-11-10"}]}
JSON_VALUES = [True, None, [], {}, [[1]], 1e999, -1, "x" * 3000, {"a": {"b": {"c": 1}}}, "2025-11-10T10:00:00", 0.5]


@settings(FUZZ, max_examples=40)
@given(key=st.sampled_from(["name", "events", "action", "headings", "rate_pct", "effective", "end", "extra"]),
       value=st.sampled_from(JSON_VALUES), indent=st.sampled_from([None, 1, 4]))
def test_json_scenario_with_a_wrong_type_names_the_field(
    run: Run, home: Path, tmp_path_factory: pytest.TempPathFactory, key: str, value: Any, indent: int | None,
) -> None:
    doc = json.loads(json.dumps(JSON_BASE))
    target = doc if key in ("name", "events") else doc["events"][0]
    target[key] = value
    text = json.dumps(doc, indent=indent)
    path = _scenario(tmp_path_factory.mktemp("scen"), text.encode(), "s.json")
    got = run("scenario", str(path), "--check")
    assert "Traceback" not in got.err, got.err
    if got.code == 0:   # the only right values: 0.5 percent, and no end
        assert (key, value) in [("rate_pct", 0.5), ("end", None), ("name", True)]  # "true" is a good name, (key, value, got.err)
        return
    msg = got.one_line_error(2, "s.json line ")
    want = text[: text.find(f'"{key}"')].count("\n") + 1 if indent else 1
    if indent and key == "action":
        want -= 1                # a bad action is the event's fault: the line where the event begins
    elif indent and key == "events" and isinstance(value, list) and value:
        want += 1                # the first item, on the next line
    found = re.search(r"s\.json line (\d+): ", msg)
    assert found and int(found.group(1)) == want, (want, msg)


@pytest.mark.parametrize(("why", "text", "words"), [
    ("over the size limit", "name: x\n# " + "z" * 300_000 + "\nevents: []\n", "the limit is 262,144"),
    ("201 events", "name: x\nevents:\n" + "  - {action: terminate, headings: 9903.01.24, effective: 2025-05-01}\n"
     * 201, "s.yaml line 3: events: "),
    ("deep block nesting", "name: x\nevents:\n" + "".join("  " * k + f"k{k}:\n" for k in range(1, 20)) + "  " * 20
     + "v\n", "nested more than 12"),
    ("deep flow nesting", "name: x\nevents: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than 12"),
    ("a list, not a mapping", "- name: x\n", "s.yaml line 1: a scenario is a mapping"),
    ("a scalar", "just words\n", "s.yaml line 1: a scenario is a mapping"),
    ("empty", "", "s.yaml line 1: empty scenario"),
    ("comments only", "# nothing\n\n", "s.yaml line 1: empty scenario"),
    ("no events", "name: x\n", "events: "),
    ("empty events", "name: x\nevents: []\n", "s.yaml line 2: events: "),
    ("two documents", "\n".join(BASE) + "\n---\nname: y\n", "s.yaml line "),
    ("utf-16", "\n".join(BASE), "s.yaml line 1: not UTF-8 text"),
    ("alias", "\n".join(BASE) + "\ntitle2: &a x\nmore: *a\n", "aliases"),
    ("a key that is a list", "[a]: b\n" + "\n".join(BASE), "s.yaml line 1: "),
])
def test_unusable_scenario_file_is_one_line(run: Run, home: Path, tmp_path: Path, why: str, text: str,
                                            words: str) -> None:
    data = text.encode("utf-16") if why == "utf-16" else text.encode()
    check_refused(run, home, _scenario(tmp_path, data), words)


def test_scenario_file_that_is_not_a_file(run: Run, home: Path, tmp_path: Path) -> None:
    run("scenario", str(tmp_path / "none.yaml"), "--check").one_line_error(2, "none.yaml")
    run("scenario", str(tmp_path), "--check").one_line_error(2, str(tmp_path))
