"""The user's own import data at HTS-10 x country, used as weights instead of the sector weights.

Three layouts are read (detected from the file's first lines; docs/EFFECTIVE.md documents each):

* **Census IMDB detail** (``IMP_DETL.TXT`` of the monthly ``IMDByymm.ZIP``, fixed width, layout
  at census.gov/foreign-trade/reference/products/layouts/imdb.html): ``commodity`` columns 1-10,
  ``cty_code`` 11-14, ``con_val_mo`` (imports for consumption, customs value, U.S. dollars)
  74-88. Several months may be concatenated; rows are summed per commodity and country. The
  same fields as a CSV with a header (``commodity`` or ``I_COMMODITY``, ``cty_code`` or
  ``CTY_CODE``, and one of ``con_val_yr``, ``con_val_mo``, ``gen_val_yr``, ``gen_val_mo``, as the
  Census trade API names them) are read too.
* **USITC DataWeb CSV export**: title lines, then a header with ``Data Type``, ``Country``,
  ``HTS Number`` (10 digits; Excel's dropped leading zero is restored) and one column per year
  (``2024``); the newest year column is used unless ``year`` is given. ``Data Type`` must be a
  customs value (``Customs Value``, ``General Customs Value``), not duties or quantities.
  Countries are DataWeb's names (``Korea, South``), read like ``--origin``.
* **Plain CSV**: ``hts10,origin,value_usd`` (``origin``: ISO, name or Census code).

A bad row (an unknown country code or name, a code that is not 10 digits, a negative or
non-numeric value) raises ``BadInput`` naming the file and line; nothing is computed. Census
grouping codes (``0003`` European Union, ``1XXX`` North America, ...) and DataWeb total rows
are aggregates of the country rows, so they are left out and counted, never added twice.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from tariffstack.errors import BadInput, TariffstackError
from tariffstack.law import countries
from tariffstack.stats.weights import Weights

MAX_BYTES = 2 * 1024**3
IMDB_MIN_LENGTH = 88
US_CENSUS = "1000"
_TEN = re.compile(r"\d{10}")
_CENSUS = re.compile(r"\d{4}")
_CENSUS_GROUP = re.compile(r"0\d{3}|\dXXX|\d{2}XX")
_YEAR = re.compile(r"(?:19|20)\d\d")
DATAWEB_TOTALS = frozenset({"total", "world", "world total", "all countries", "total all countries"})
CENSUS_VALUES = ("con_val_yr", "con_val_mo", "gen_val_yr", "gen_val_mo")


@dataclass(frozen=True)
class Imports:
    """Validated import values: ``table`` has hts10 (10 digits), iso2, partner, value (millions USD)."""

    path: Path
    layout: str                 # "Census IMDB detail", "USITC DataWeb export", "CSV"
    measure: str                # which value column was read
    table: pa.Table
    rows: int                   # data rows read
    aggregates_skipped: int     # grouping/total rows left out

    @property
    def label(self) -> str:
        return f"import weights from {self.path.name} ({self.layout}, {self.measure})"

    def total_musd(self) -> float:
        return float(sum(self.table.column("value").to_pylist()))


def _fail(path: Path, line: int, msg: str) -> BadInput:
    return BadInput(f"{path.name} line {line}: {msg}", field="weights")


def _value(path: Path, line: int, text: str, what: str) -> float:
    raw = text.strip().replace(",", "")
    if raw in ("", "-"):
        return 0.0
    try:
        v = float(raw)
    except ValueError:
        raise _fail(path, line, f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise _fail(path, line, f"{what} {text.strip()!r} is negative or not finite (values are >= 0)")
    return v


def _hts10(path: Path, line: int, text: str) -> str:
    d = text.strip().replace(".", "")
    if len(d) == 9 and d.isdigit():
        d = "0" + d  # a spreadsheet read the code as a number and dropped the leading zero
    if not _TEN.fullmatch(d):
        raise _fail(path, line, f"HTS code {text.strip()!r} is not a 10-digit HTS statistical line")
    return d


def _by_census() -> dict[str, str]:
    return {c.census_code: c.iso2 for c in countries.all_countries() if c.census_code}


def _census_country(path: Path, line: int, code: str, table: dict[str, str]) -> str | None:
    """ISO2 of a Census Schedule C code; None for a grouping code (an aggregate row)."""
    code = code.strip().upper()
    if _CENSUS_GROUP.fullmatch(code):
        return None
    if not _CENSUS.fullmatch(code):
        raise _fail(path, line, f"country code {code!r} is not a 4-digit Census Schedule C code")
    if code == US_CENSUS:
        raise _fail(path, line, "country code 1000 is the United States, not a country of origin of imports")
    iso = table.get(code)
    if iso is None:
        raise _fail(path, line, f"unknown Census country code {code!r} (not in the package's country list)")
    return iso


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        size = path.stat().st_size
        fh = path.open("rb")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}", field="weights") from exc
    if size > MAX_BYTES:
        fh.close()
        raise BadInput(f"{path.name}: {size:,} bytes; the limit is {MAX_BYTES:,}", field="weights")
    with fh:
        for n, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")  # DataWeb/Excel exports are often cp1252
            yield n, text.rstrip("\r\n")


def load(path: Path, weights: Weights, *, year: int | None = None) -> Imports:
    """Read one import data file (layout detected), validated row by row."""
    head = [t for _, t in zip(range(20), (t for _, t in _lines(path)), strict=False)]
    first = next((t for t in head if t.strip()), None)
    if first is None:
        raise BadInput(f"{path.name} line 1: empty file", field="weights")
    if "," not in first and len(first) >= IMDB_MIN_LENGTH and first[:14].isdigit():
        sums, rows, skipped = _imdb(path)
        layout, measure = "Census IMDB detail", "con_val_mo (imports for consumption, customs value)"
    else:
        header_at, header = _find_header(path, head)
        low = [h.strip().lower() for h in header]
        if "hts number" in low and "country" in low:
            sums, rows, skipped, measure = _dataweb(path, header_at, low, year)
            layout = "USITC DataWeb export"
        elif ({"commodity", "i_commodity"} & set(low)) and ("cty_code" in low):
            sums, rows, skipped, measure = _census_csv(path, header_at, low)
            layout = "Census detail CSV"
        elif {"hts10", "value_usd"} <= set(low) and ({"origin", "country"} & set(low)):
            sums, rows, skipped = _plain(path, header_at, low)
            layout, measure = "CSV", "value_usd"
        else:
            raise BadInput(f"{path.name} line {header_at}: not a layout the tool reads (Census IMDB detail, "
                           "USITC DataWeb export, or a CSV with hts10,origin,value_usd)", field="weights")
    if not sums:
        raise BadInput(f"{path.name}: no import values in the file", field="weights")
    group = dict(zip(weights.countries["iso2"].to_pylist(), weights.countries["partner"].to_pylist(), strict=True))
    keys = sorted(sums)
    table = pa.table({
        "hts10": pa.array([k[0] for k in keys], pa.string()),
        "iso2": pa.array([k[1] for k in keys], pa.string()),
        "partner": pa.array([group.get(k[1], "row") for k in keys], pa.string()),
        "value": pa.array([sums[k] / 1e6 for k in keys], pa.float64()),
    })
    return Imports(path, layout, measure, table, rows, skipped)


def _find_header(path: Path, head: list[str]) -> tuple[int, list[str]]:
    """The first of the leading lines that looks like a header (DataWeb puts title lines first)."""
    for n, text in enumerate(head, start=1):
        cells = [c.strip().lower() for c in next(csv.reader([text]), [])]
        if "hts number" in cells or "hts10" in cells or "cty_code" in cells:
            return n, next(csv.reader([text]))
    cells = next(csv.reader([head[0]]), [])
    return 1, cells


def _csv_rows(path: Path, header_at: int) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of the data rows after the header line (blank lines skipped)."""
    for n, text in _lines(path):
        if n <= header_at or not text.strip():
            continue
        try:
            fields = next(csv.reader(io.StringIO(text)))
        except (csv.Error, StopIteration):
            raise _fail(path, n, "unreadable CSV line") from None
        yield n, fields


def _imdb(path: Path) -> tuple[dict[tuple[str, str], float], int, int]:
    table = _by_census()
    sums: dict[tuple[str, str], float] = defaultdict(float)
    rows = skipped = 0
    for n, text in _lines(path):
        if not text.strip():
            continue
        if len(text) < IMDB_MIN_LENGTH:
            raise _fail(path, n, f"{len(text)} characters; an IMDB detail record has at least {IMDB_MIN_LENGTH}")
        d = _hts10(path, n, text[0:10])
        iso = _census_country(path, n, text[10:14], table)
        v = _value(path, n, text[73:88], "con_val_mo")
        rows += 1
        if iso is None:
            skipped += 1
            continue
        sums[(d, iso)] += v
    return dict(sums), rows, skipped


def _census_csv(path: Path, header_at: int, low: list[str]) -> tuple[dict[tuple[str, str], float], int, int, str]:
    table = _by_census()
    hcol = low.index("commodity") if "commodity" in low else low.index("i_commodity")
    ccol = low.index("cty_code")
    name = next((c for c in CENSUS_VALUES if c in low), None)
    if name is None:
        raise _fail(path, header_at, f"no value column: give one of {', '.join(CENSUS_VALUES)}")
    vcol = low.index(name)
    sums: dict[tuple[str, str], float] = defaultdict(float)
    rows = skipped = 0
    for n, fields in _csv_rows(path, header_at):
        if len(fields) <= max(hcol, ccol, vcol):
            raise _fail(path, n, f"{len(fields)} fields, the header has {len(low)}")
        rows += 1
        iso = _census_country(path, n, fields[ccol], table)
        v = _value(path, n, fields[vcol], name)
        d = _hts10(path, n, fields[hcol])
        if iso is None:
            skipped += 1
            continue
        sums[(d, iso)] += v
    return dict(sums), rows, skipped, name


def _country(path: Path, line: int, text: str) -> str:
    try:
        return countries.resolve(text).iso2
    except TariffstackError as exc:
        raise _fail(path, line, f"country: {exc}") from None


def _dataweb(path: Path, header_at: int, low: list[str], year: int | None,
             ) -> tuple[dict[tuple[str, str], float], int, int, str]:
    years = {int(h): k for k, h in enumerate(low) if _YEAR.fullmatch(h)}
    if not years:
        raise _fail(path, header_at, "no year column (a DataWeb export has one column per year, e.g. 2024)")
    pick = year if year is not None else max(years)
    if pick not in years:
        raise _fail(path, header_at, f"no column for year {pick} (columns: {', '.join(map(str, sorted(years)))})")
    vcol, hcol, ccol = years[pick], low.index("hts number"), low.index("country")
    tcol = low.index("data type") if "data type" in low else None
    sums: dict[tuple[str, str], float] = defaultdict(float)
    rows = skipped = 0
    kinds: set[str] = set()
    for n, fields in _csv_rows(path, header_at):
        if len(fields) <= max(vcol, hcol, ccol):
            raise _fail(path, n, f"{len(fields)} fields, the header has {len(low)}")
        rows += 1
        if tcol is not None:
            kind = fields[tcol].strip()
            if "value" not in kind.lower() or "dutiable" in kind.lower():
                raise _fail(path, n, f"Data Type {kind!r} is not an import value "
                                     "(export 'Customs Value' or 'General Customs Value')")
            kinds.add(kind)
        if fields[ccol].strip().lower() in DATAWEB_TOTALS:
            skipped += 1
            continue
        iso = _country(path, n, fields[ccol])
        v = _value(path, n, fields[vcol], str(pick))
        sums[(_hts10(path, n, fields[hcol]), iso)] += v
    if len(kinds) > 1:
        raise _fail(path, header_at, f"the export mixes Data Types ({', '.join(sorted(kinds))}): export one")
    return dict(sums), rows, skipped, f"{next(iter(kinds), 'customs value')}, {pick}"


def _plain(path: Path, header_at: int, low: list[str]) -> tuple[dict[tuple[str, str], float], int, int]:
    hcol, vcol = low.index("hts10"), low.index("value_usd")
    ccol = low.index("origin") if "origin" in low else low.index("country")
    sums: dict[tuple[str, str], float] = defaultdict(float)
    rows = 0
    for n, fields in _csv_rows(path, header_at):
        if len(fields) <= max(hcol, vcol, ccol):
            raise _fail(path, n, f"{len(fields)} fields, the header has {len(low)}")
        rows += 1
        iso = _country(path, n, fields[ccol])
        if iso == "US":
            raise _fail(path, n, "the United States is not a country of origin of imports")
        sums[(_hts10(path, n, fields[hcol]), iso)] += _value(path, n, fields[vcol], "value_usd")
    return dict(sums), rows, 0
