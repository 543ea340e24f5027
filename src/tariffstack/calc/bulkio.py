"""Reading shipment files in chunks (CSV, Parquet, Excel) and writing priced ones atomically.

A chunk is an Arrow table plus, for each row, its line number in the file and the reason it
could not be read, if any: a line that is not text in the file's encoding, binary junk, an
over-long line or an unclosed quote costs that line only. Memory stays flat: CSV is read in
blocks of a few megabytes, Parquet by row groups, Excel row by row (openpyxl's read-only mode).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tariffstack.calc.lines import OPTIONAL, REQUIRED, canonical
from tariffstack.errors import BadInput, TariffstackError

BLOCK = 8 << 20
MAX_LINE = 10_000
EXCEL_ROWS = 1_048_576       # rows per worksheet, header included
MAX_EXCEL_BYTES = 200 << 20  # an .xlsx this large takes openpyxl minutes: CSV or Parquet is the tool
FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
           ".xlsx": "xlsx", ".xlsm": "xlsx"}


@dataclass
class Chunk:
    table: pa.Table                                  # columns as in the file (text for CSV)
    lines: npt.NDArray[np.int64]                     # line (CSV, Excel) or row (Parquet) numbers
    errors: npt.NDArray[np.object_] | None = None    # reason a row could not be read, or None
    done: int = 0                                    # progress: bytes or rows consumed so far
    total: int = 0


def file_format(path: Path, given: str | None = None) -> str:
    """csv, tsv, parquet or xlsx, from the option or the extension; a specific error otherwise."""
    if given:
        fmt = given.lower().lstrip(".")
        if fmt not in ("csv", "tsv", "parquet", "xlsx"):
            raise BadInput(f"unknown format {given!r}: csv, tsv, parquet or xlsx")
        return fmt
    ext = path.suffix.lower()
    if ext == ".xls":
        raise BadInput(f"{path}: the old binary Excel format (.xls) is not read; save it as .xlsx or CSV")
    found = FORMATS.get(ext)
    if found is None:
        raise BadInput(f"{path}: unknown file type {ext or '(none)'}: use .csv, .tsv, .parquet or .xlsx")
    return found


def _sniff(path: Path, fmt: str) -> None:
    """A file whose bytes say another format than its name: say so instead of reading junk."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK") and fmt in ("csv", "tsv"):
        raise BadInput(f"{path} is an Excel workbook (or another zip file), not CSV: name it .xlsx")
    if head == b"PAR1" and fmt != "parquet":
        raise BadInput(f"{path} is a Parquet file: name it .parquet")
    if fmt == "parquet" and head != b"PAR1":
        raise BadInput(f"{path} is not a Parquet file (no PAR1 magic): is it CSV?")
    if fmt == "xlsx" and not head.startswith(b"PK"):
        raise BadInput(f"{path} is not an .xlsx workbook: is it CSV saved with another name?")


def check_columns(names: list[str], where: str) -> list[str]:
    canon = [canonical(n) for n in names]
    missing = [c for c in REQUIRED if c not in canon]
    if missing:
        raise BadInput(f"{where} lacks column(s) {', '.join(missing)} (has: {', '.join(names) or 'none'}); "
                       f"the columns are {', '.join(REQUIRED)}, then optional ones (docs/CALC.md)")
    known = set(REQUIRED) | set(OPTIONAL)
    for c in dict.fromkeys(canon):
        given = [n for n, k in zip(names, canon, strict=True) if k == c]
        if c in known and len(given) > 1:  # which one holds the value? pricing either could be wrong
            raise BadInput(f"{where} has column {c} {len(given)} times ({', '.join(map(repr, given))}): keep one")
    return canon


def read_chunks(path: Path, *, fmt: str | None = None, encoding: str = "utf-8", sheet: str | None = None,
                rows: int = 131_072) -> Iterator[Chunk]:
    """The file's rows in chunks, whatever its format."""
    if not path.is_file():
        raise BadInput(f"cannot read {path}: no such file")
    kind = file_format(path, fmt)
    _sniff(path, kind)
    if kind in ("csv", "tsv"):
        try:
            "".encode(encoding)
        except (LookupError, ValueError) as exc:  # unknown, or a name Python cannot hold (NUL)
            raise BadInput(f"--encoding {encoding!r} is not a text encoding Python knows") from exc
        with path.open("rb") as fh:
            bom = fh.read(4)
        wide = encoding.replace("-", "").replace("_", "").lower().startswith(("utf16", "utf32"))
        if wide or bom[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise BadInput(f"{path} is UTF-16/UTF-32 text, which is read line by line only as UTF-8 or a one-byte "
                           "encoding: save it as UTF-8 (Excel: 'CSV UTF-8') and try again")
        yield from _csv_chunks(path, encoding, "\t" if kind == "tsv" else ",", rows)
    elif kind == "parquet":
        yield from _parquet_chunks(path, rows)
    else:
        yield from _excel_chunks(path, sheet, min(rows, 50_000))


# ---- CSV -------------------------------------------------------------------------------------
def _line_problem(raw: bytes, encoding: str) -> str | None:
    if len(raw) > MAX_LINE:
        return f"{len(raw):,} bytes long; the limit is {MAX_LINE:,} per line"
    if b"\x00" in raw:
        return "binary data (NUL bytes), not CSV text"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return (f"not {encoding} text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); save the file as "
                "UTF-8 (Excel: CSV UTF-8) or give its --encoding (e.g. cp1252)")
    if raw.count(b'"') % 2:
        return "malformed CSV (a quote is not closed; one entry per line)"
    if b"\r" in raw:   # the CSV parser would end the line there: every later line would shift
        return "a carriage return (CR) inside the line: one entry per line, ended by LF or CRLF"
    return None


def _csv_header(fh: io.BufferedReader, path: Path, encoding: str, delimiter: str) -> tuple[list[str], int]:
    raw = fh.readline(MAX_LINE + 1)
    if not raw.strip():
        raise BadInput(f"{path} is empty: it needs a header line such as hts10,origin,entry_date,value")
    if len(raw) > MAX_LINE:
        raise BadInput(f"{path}: the header line is over {MAX_LINE:,} bytes: is this a CSV file?")
    try:
        text = raw.decode(encoding).removeprefix("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}, header line: not {encoding} text; give the file's --encoding (e.g. cp1252)") from exc
    if "\r" in text:  # csv.reader would raise on it: the lines end with CR only (old Mac)
        raise BadInput(f"{path}, header line: a carriage return (CR) inside the line: the lines end with CR only? "
                       "save the file with LF or CRLF line ends")
    names = [h.strip() for h in next(csv.reader([text], delimiter=delimiter), [])]
    check_columns(names, f"{path} (header line)")
    return names, len(raw)


def _csv_chunks(path: Path, encoding: str, delimiter: str, rows: int) -> Iterator[Chunk]:
    total = path.stat().st_size
    with path.open("rb") as fh:
        names, done = _csv_header(fh, path, encoding, delimiter)
        line_no = 1
        rest = b""
        eof = False
        skipping = False     # inside an over-long line: drop bytes up to its end
        while not eof:
            block = fh.read(BLOCK)
            eof = not block
            data = rest + block
            done += len(block)
            if skipping:
                cut = data.find(b"\n")
                if cut < 0:
                    rest = b""
                    continue
                data, skipping = data[cut + 1:], False
                line_no += 1
            if not eof:
                cut = data.rfind(b"\n")
                if cut < 0:
                    if len(data) > MAX_LINE:  # one line longer than a block: report it, skip it
                        yield _bad_only(names, np.array([line_no + 1]), f"longer than {MAX_LINE:,} bytes; the limit is {MAX_LINE:,} per line", done, total)
                        skipping, rest = True, b""
                    else:
                        rest = data
                    continue
                data, rest = data[: cut + 1], data[cut + 1:]
            else:
                rest = b""
            if not data:
                continue
            raws = data.split(b"\n")
            if raws and raws[-1] == b"":
                raws.pop()
            for k in range(0, len(raws), rows):
                part = raws[k: k + rows]
                numbers = np.arange(line_no + 1, line_no + 1 + len(part), dtype=np.int64)
                line_no += len(part)
                yield _csv_block(names, part, numbers, encoding, delimiter, done, total)


def _bad_only(names: list[str], numbers: npt.NDArray[np.int64], why: str, done: int, total: int) -> Chunk:
    t = pa.table({n: pa.array([""] * len(numbers), pa.string()) for n in _unique(names)})
    return Chunk(t, numbers, np.array([why] * len(numbers), dtype=object), done, total)


def _unique(names: list[str]) -> list[str]:
    out, seen = [], set()
    for k, n in enumerate(names):
        name = n if n and n not in seen else f"{n or 'column'}_{k + 1}"
        seen.add(name)
        out.append(name)
    return out


def _csv_block(names: list[str], raws: list[bytes], numbers: npt.NDArray[np.int64], encoding: str,
               delimiter: str, done: int, total: int) -> Chunk:
    data = b"\n".join(raws)
    if b"\r" in data:  # CRLF line ends (Windows, Excel)
        raws = [r[:-1] if r.endswith(b"\r") else r for r in raws]
        data = b"\n".join(raws)
    clean = True
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        clean = False
    bad: dict[int, str] = {}
    # lengths, NUL bytes and quotes per line, counted over the block's bytes at once
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(buf)]])

    def per_line(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        c = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
        return np.asarray(c[ends] - c[starts], dtype=np.int64)

    flagged = (ends - starts > MAX_LINE) | (per_line(buf == 0) > 0) | (per_line(buf == 34) % 2 == 1)
    if b"\r" in data:   # CRLF ends are gone by now: a CR left is inside a line
        flagged |= per_line(buf == 13) > 0
    check = np.flatnonzero(flagged) if clean else range(len(raws))
    for k in check:
        why = _line_problem(raws[int(k)], encoding)
        if why is not None:
            bad[int(k)] = why
    # a line of nothing but spaces or tabs holds no entry: skipped like an empty one (only the
    # lines that are empty or start with a space need a look)
    first = buf[np.minimum(starts, max(len(buf) - 1, 0))] if len(buf) else np.zeros(len(starts), np.uint8)
    maybe = (ends == starts) | (first == 32) | (first == 9) | (first == 11) | (first == 12) | (first == 13)
    blank = {int(k) for k in np.flatnonzero(maybe) if int(k) not in bad and not raws[int(k)].strip()}
    if bad or blank:
        keep = [k for k in range(len(raws)) if k not in bad and k not in blank]
        text = b"\n".join(raws[k] for k in keep)
    else:
        keep, text = list(range(len(raws))), data
    if encoding.replace("-", "").replace("_", "").lower() not in ("utf8", "ascii"):
        text = text.decode(encoding).encode("utf-8")
    cols = _unique(names)
    table, invalid = _parse(text, cols, delimiter)
    kept_numbers = numbers[keep]
    for k, why in invalid.items():
        bad[keep[k]] = why
    if invalid:
        kept_numbers = np.delete(kept_numbers, sorted(invalid))
    if not bad:
        return Chunk(table, kept_numbers, None, done, total)
    bad_idx = sorted(bad)
    extra = pa.table({n: pa.array([""] * len(bad_idx), pa.string()) for n in cols})
    full = pa.concat_tables([table, extra])
    lines = np.concatenate([kept_numbers, numbers[bad_idx]])
    errors = np.array([None] * table.num_rows + [bad[k] for k in bad_idx], dtype=object)
    order = np.argsort(lines, kind="stable")
    return Chunk(full.take(pa.array(order)), lines[order], errors[order], done, total)


def _parse(text: bytes, cols: list[str], delimiter: str) -> tuple[pa.Table, dict[int, str]]:
    """All columns as text; rows with the wrong number of fields are reported by position."""
    types = {c: pa.string() for c in cols}
    conv = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False)
    if not text:
        return pa.table({c: pa.array([], pa.string()) for c in cols}), {}
    try:
        t = pacsv.read_csv(io.BytesIO(text), read_options=pacsv.ReadOptions(column_names=cols, use_threads=True,
                                                                             block_size=1 << 22),
                           parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
                           convert_options=conv)
        return t, {}
    except pa.ArrowInvalid:
        pass
    invalid: dict[int, str] = {}

    def handler(row: Any) -> str:
        invalid[int(row.number) - 1] = (f"{row.actual_columns} fields, the header has {row.expected_columns}"
                                        " (a missing or extra separator?)")
        return "skip"

    t = pacsv.read_csv(io.BytesIO(text), read_options=pacsv.ReadOptions(column_names=cols, use_threads=False,
                                                                         block_size=1 << 22),
                       parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False,
                                                        invalid_row_handler=handler),
                       convert_options=conv)
    return t, invalid


# ---- Parquet and Excel -----------------------------------------------------------------------
def _parquet_chunks(path: Path, rows: int) -> Iterator[Chunk]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(f"cannot read {path} as Parquet: {exc}") from exc
    check_columns(pf.schema_arrow.names, str(path))
    for f in pf.schema_arrow:  # lists, structs, maps cannot be read as one value per line
        if canonical(f.name) in (*REQUIRED, *OPTIONAL) and pa.types.is_nested(f.type):
            raise BadInput(f"{path}: column {f.name!r} holds {f.type} values, not text or numbers")
    total = pf.metadata.num_rows
    start = 1
    for batch in pf.iter_batches(batch_size=rows):
        t, errors = _binary_as_text(pa.Table.from_batches([batch]))
        lines = np.arange(start, start + t.num_rows, dtype=np.int64)
        start += t.num_rows
        yield Chunk(t, lines, errors, start - 1, total)


def _binary_as_text(t: pa.Table) -> tuple[pa.Table, npt.NDArray[np.object_] | None]:
    """Text stored as raw bytes (no UTF-8 annotation): read as UTF-8, each value that is not
    valid UTF-8 an error of its row (the column's value left empty)."""
    errors: npt.NDArray[np.object_] | None = None
    for k, f in enumerate(t.schema):
        if not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)) or canonical(f.name) not in (*REQUIRED, *OPTIONAL):
            continue
        texts: list[str | None] = []
        for row, v in enumerate(t.column(k).to_pylist()):
            try:
                texts.append(None if v is None else v.decode("utf-8"))
            except UnicodeDecodeError as exc:
                texts.append(None)
                if errors is None:
                    errors = np.full(t.num_rows, None, dtype=object)
                if errors[row] is None:
                    errors[row] = (f"{f.name}: not UTF-8 text (byte 0x{v[exc.start]:02x} at position {exc.start + 1}); "
                                   "store text columns as UTF-8 strings")
        t = t.set_column(k, f.name, pa.array(texts, pa.string()))
    return t, errors


def excel_sheet(wb: Any, path: Path, sheet: str | None) -> Any:
    """The worksheet to read: the one named, or the only one whose first row has the columns."""
    if sheet is not None:
        if sheet not in wb.sheetnames:
            raise BadInput(f"{path} has no sheet {sheet!r}; its sheets: {', '.join(wb.sheetnames)}")
        return wb[sheet]
    candidates = []
    for name in wb.sheetnames:
        first = next(wb[name].iter_rows(min_row=1, max_row=1, values_only=True), None)
        names = [str(c).strip() for c in first or () if c is not None]
        if all(c in [canonical(n) for n in names] for c in REQUIRED):
            candidates.append(name)
    if len(candidates) == 1:
        return wb[candidates[0]]
    if not candidates:
        raise BadInput(f"{path}: no sheet has the columns {', '.join(REQUIRED)} in its first row "
                       f"(sheets: {', '.join(wb.sheetnames)}); give --sheet NAME")
    raise BadInput(f"{path}: several sheets have the columns ({', '.join(candidates)}): give --sheet NAME")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if hasattr(v, "isoformat"):
        text = str(v.isoformat())
        return text[:10] if text.endswith("T00:00:00") or len(text) == 10 else text
    return str(v)


def _excel_chunks(path: Path, sheet: str | None, rows: int) -> Iterator[Chunk]:
    import openpyxl

    if path.stat().st_size > MAX_EXCEL_BYTES:
        raise BadInput(f"{path} is over {MAX_EXCEL_BYTES >> 20} MB: save it as CSV or Parquet for a file this large")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged workbook
        raise BadInput(f"cannot read {path} as an Excel workbook: {exc}") from exc
    try:
        ws = excel_sheet(wb, path, sheet)
        it = ws.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(it, ())]
        check_columns(header, f"{path}, sheet {ws.title!r}")
        cols = _unique(header)
        total = ws.max_row or 0
        buf: list[list[str]] = []
        nums: list[int] = []
        row_no = 1
        for values in it:
            row_no += 1
            cells = [_cell(v) for v in values[: len(cols)]]
            if not any(cells):
                continue
            buf.append(cells + [""] * (len(cols) - len(cells)))
            nums.append(row_no)
            if len(buf) >= rows:
                yield _rows_chunk(cols, buf, nums, row_no, total)
                buf, nums = [], []
        if buf:
            yield _rows_chunk(cols, buf, nums, row_no, total)
    except TariffstackError:
        raise
    except Exception as exc:  # noqa: BLE001 - a sheet damaged past its first rows fails while read
        raise BadInput(f"cannot read {path}: the workbook is damaged ({type(exc).__name__}: {exc})") from exc
    finally:
        wb.close()


def _rows_chunk(cols: list[str], buf: list[list[str]], nums: list[int], done: int, total: int) -> Chunk:
    t = pa.table({c: pa.array([r[k] for r in buf], pa.string()) for k, c in enumerate(cols)})
    return Chunk(t, np.array(nums, dtype=np.int64), None, done, total)


# ---- writing ---------------------------------------------------------------------------------
@dataclass
class Writer:
    """Writes batches of one schema to CSV, Parquet or Excel at a temporary path."""

    path: Path
    fmt: str
    schema: pa.Schema
    _csv: Any = None
    _pq: Any = None
    _wb: Any = None
    _ws: Any = None
    _rows: int = 0
    _sheets: int = 0
    extra_sheets: dict[str, list[list[Any]]] = field(default_factory=dict)

    def write(self, table: pa.Table) -> None:
        table = table.cast(self.schema)
        if self.fmt in ("csv", "tsv"):
            if self._csv is None:
                opts = pacsv.WriteOptions(delimiter="\t" if self.fmt == "tsv" else ",")
                self._csv = pacsv.CSVWriter(str(self.path), self.schema, write_options=opts)
            self._csv.write_table(table)
        elif self.fmt == "parquet":
            if self._pq is None:
                self._pq = pq.ParquetWriter(str(self.path), self.schema, compression="zstd")
            self._pq.write_table(table)
        else:
            self._excel(table)

    def _excel(self, table: pa.Table) -> None:
        import openpyxl

        names = self.schema.names
        if self._wb is None:   # the priced sheet, with its header, even if no line follows
            self._wb = openpyxl.Workbook(write_only=True)
            self._sheets, self._ws = 1, self._wb.create_sheet("priced")
            self._ws.append(names)
            self._rows = 1
        for row in table.to_pylist():
            if self._ws is None or self._rows >= EXCEL_ROWS:
                self._sheets += 1
                self._ws = self._wb.create_sheet("priced" if self._sheets == 1 else f"priced {self._sheets}")
                self._ws.append(names)
                self._rows = 1
            self._ws.append([row[n] for n in names])
            self._rows += 1

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        elif self._pq is not None:
            self._pq.close()
        elif self.fmt in ("csv", "tsv"):
            pacsv.CSVWriter(str(self.path), self.schema).close()
        elif self.fmt == "parquet":
            pq.ParquetWriter(str(self.path), self.schema).close()
        if self.fmt == "xlsx":
            import openpyxl

            if self._wb is None:
                self._wb = openpyxl.Workbook(write_only=True)
                self._wb.create_sheet("priced").append(self.schema.names)
            for title, rows in self.extra_sheets.items():
                ws = self._wb.create_sheet(title)
                for r in rows:
                    ws.append(r)
            self._wb.save(str(self.path))
