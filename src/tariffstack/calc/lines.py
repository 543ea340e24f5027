"""The columns of a shipment file, checked and normalised as arrays, with a reason per bad line.

Every column is read whatever type its file gave it (text from CSV, numbers and dates from
Parquet or Excel). A value that cannot be used marks its line bad with a message that names the
column, the value and the fix; the other lines go on. Distinct values (origins, units) are
looked up once, not once per line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.calc.fees import ENTRY_TYPES
from tariffstack.calc.units import UNIT_HELP, parse_unit
from tariffstack.errors import TariffstackError
from tariffstack.law import countries

REQUIRED = ("hts10", "origin", "entry_date", "value")
OPTIONAL = ("quantity", "unit", "quantity_2", "unit_2", "mode", "entry_id", "entry_type", "items",
            "postal_method", "mpf_exempt", "loading_date", "usmca_claimed", "metal_content_share",
            "us_content_share", "melt_pour_country", "program", "donation", "informational")
ALIASES = {"hts": "hts10", "hts_code": "hts10", "htsus": "hts10", "date": "entry_date", "value_usd": "value",
           "customs_value": "value", "qty": "quantity", "quantity_1": "quantity", "unit_1": "unit",
           "country": "origin", "country_of_origin": "origin", "transport_mode": "mode", "usmca": "usmca_claimed"}
MODES = {"ocean": "ocean", "sea": "ocean", "vessel": "ocean", "air": "air", "truck": "truck", "road": "truck",
         "rail": "rail", "postal": "postal", "mail": "postal", "post": "postal", "courier": "courier",
         "express": "courier", "other": "other", "": ""}
MAX_VALUE = 1e10           # USD per line: above it, a typo (decimal separator) is likelier than a line
MAX_QUANTITY = 1e12
INPUT_FIELDS = ("loading_date", "usmca_claimed", "metal_content_share", "us_content_share",
                "melt_pour_country", "program", "donation", "informational")
_NUMBER_RE = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_TRUE = ("1", "true", "yes", "y", "t")
_NULL: Any = None  # None for numpy's typed signatures
_FALSE = ("", "0", "false", "no", "n", "f")


def canonical(name: str) -> str:
    """A column name as the calculator knows it (case, spaces and a few aliases forgiven)."""
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def isin(values: npt.NDArray[np.object_], choices: Any) -> npt.NDArray[np.bool_]:
    """``np.isin`` for texts, by hashing (Arrow) rather than sorting Python objects."""
    got = pc.is_in(pa.array(values, pa.string()), value_set=pa.array(list(choices), pa.string()))
    return np.asarray(pc.fill_null(got, False).to_numpy(zero_copy_only=False), dtype=bool)


class Errors:
    """The first problem found on each line (later checks do not overwrite it)."""

    def __init__(self, n: int) -> None:
        self.msg: npt.NDArray[np.object_] = np.full(n, None, dtype=object)
        self.bad: npt.NDArray[np.bool_] = np.zeros(n, dtype=bool)

    def add(self, mask: npt.NDArray[np.bool_], message: str | Callable[[int], str]) -> None:
        idx = np.flatnonzero(mask & ~self.bad)
        if not len(idx):
            return
        self.bad[idx] = True
        for i in idx:
            self.msg[i] = message(int(i)) if callable(message) else message


def _text(col: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.object_]:
    """Any column as trimmed text ('' for null); dates as YYYY-MM-DD."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.date32())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        if pa.types.is_floating(arr.type):
            # 800.0 -> "800", so that codes and numbers Excel stored as floats read as typed
            as_int = pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.float64())
            whole = pc.fill_null(pc.equal(as_int, arr), False)
            arr = pc.if_else(whole, pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string()), pc.cast(arr, pa.string()))
        else:
            arr = pc.cast(arr, pa.string())
    arr = pc.fill_null(pc.utf8_trim_whitespace(arr), "")
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _numbers(col: pa.ChunkedArray | pa.Array) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(values, given, malformed): NaN where empty; malformed marks text that is not a number."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        vals = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        vals = np.asarray(vals, dtype=np.float64)
        given = ~np.isnan(vals)
        return vals, given, np.zeros(len(vals), dtype=bool)
    if pa.types.is_boolean(arr.type) or pa.types.is_null(arr.type):
        arr = pc.cast(arr, pa.string())
    text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(arr, pa.string())), "")
    given = np.asarray(pc.not_equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
    if not given.any():
        return np.full(len(text), np.nan), given, np.zeros(len(text), dtype=bool)
    blank = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:  # the common case: every value is a plain number (one fast cast)
        vals = np.asarray(pc.cast(blank, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        plain = pc.match_substring_regex(blank, r"^[-+0-9.eE]+$")  # cast also takes "nan", "inf"
        if pc.all(pc.fill_null(plain, True)).as_py():
            return vals, given, np.zeros(len(text), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    ok = pc.match_substring_regex(text, _NUMBER_RE)
    vals = np.asarray(pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
                      .to_numpy(zero_copy_only=False), dtype=np.float64)
    return vals, given, given & np.isnan(vals)


def _dates(col: pa.ChunkedArray | pa.Array) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.bool_]]:
    """(days, given); NaT where empty or not a date."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        days = pc.cast(arr, pa.date32())
        given = pc.is_valid(arr)
    else:
        text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(arr, pa.string())), "")
        given = pc.not_equal(text, "")
        if not pc.any(given).as_py():
            return np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]"), np.zeros(len(text), dtype=bool)
        try:  # the common case: every date is YYYY-MM-DD (Arrow's cast is strict: no Feb 30)
            blank = pc.if_else(given, text, pa.scalar(None, pa.string()))
            if pc.all(pc.fill_null(pc.equal(pc.utf8_length(blank), 10), True)).as_py():
                days = pc.cast(blank, pa.date32())
                out = np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
                return out, np.asarray(given.to_numpy(zero_copy_only=False), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        # a datetime text such as "2025-09-01 00:00:00" (Excel through CSV) keeps its date part
        head = pc.utf8_slice_codeunits(text, 0, 10)
        full = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}([ T]00:00(:00)?(\.0+)?)?$")
        parsed = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls Feb 30 over to Mar 2: a date must print back as it was written
        same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), head)
        keep = pc.and_(full, pc.fill_null(same, False))
        days = pc.cast(pc.if_else(keep, parsed, pa.scalar(None, parsed.type)), pa.date32())
    out = np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    return out, np.asarray(pc.fill_null(given, False).to_numpy(zero_copy_only=False), dtype=bool)


def _distinct(text: npt.NDArray[np.object_]) -> tuple[list[str], npt.NDArray[np.int64]]:
    """(distinct values, index of each line's value), by hashing (pyarrow), not sorting."""
    enc = pc.dictionary_encode(pa.array(text, pa.string()))
    return enc.dictionary.to_pylist(), np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _map_distinct(text: npt.NDArray[np.object_], fn: Callable[[str], Any]) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """(results, errors) of ``fn`` applied once per distinct value (errors: the exception text)."""
    uniq, inverse = _distinct(text)
    res: list[Any] = []
    errs: list[str | None] = []
    for u in uniq:
        try:
            res.append(fn(u))
            errs.append(None)
        except TariffstackError as exc:
            res.append(None)
            errs.append(str(exc))
    return np.array(res, dtype=object)[inverse], np.array(errs, dtype=object)[inverse]


def _lower(text: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    return np.asarray(pc.utf8_lower(pa.array(text, pa.string())).to_numpy(zero_copy_only=False), dtype=object)


def _upper(text: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    return np.asarray(pc.utf8_upper(pa.array(text, pa.string())).to_numpy(zero_copy_only=False), dtype=object)


def _bools(col: pa.ChunkedArray | pa.Array, name: str, errors: Errors) -> npt.NDArray[np.bool_]:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_boolean(arr.type):
        return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)
    raw = _text(arr)
    if not (raw != "").any():
        return np.zeros(len(raw), dtype=bool)
    text = _lower(raw)
    yes = isin(text, _TRUE)
    bad = ~yes & ~isin(text, _FALSE)
    errors.add(bad, lambda i: f"{name} must be true or false, not {text[i]!r}")
    return yes


@dataclass
class Lines:
    """Normalised columns of a batch of lines (numpy arrays of equal length)."""

    line: npt.NDArray[np.int64]
    raw_hts: npt.NDArray[np.object_]
    raw_origin: npt.NDArray[np.object_]
    raw_date: npt.NDArray[np.object_]
    hts10: npt.NDArray[np.object_]          # 10 digits
    origin: npt.NDArray[np.object_]         # ISO alpha-2
    day: npt.NDArray[np.datetime64]
    value: npt.NDArray[np.float64]
    q1: npt.NDArray[np.float64]             # NaN: not given
    unit1: npt.NDArray[np.object_]          # '' : not given
    q2: npt.NDArray[np.float64]
    unit2: npt.NDArray[np.object_]
    mode: npt.NDArray[np.object_]
    entry_id: npt.NDArray[np.object_]       # '' : the line is its own entry
    entry_type: npt.NDArray[np.object_]
    items: npt.NDArray[np.float64]
    specific_postal: npt.NDArray[np.bool_]
    mpf_exempt: npt.NDArray[np.bool_]
    ikey: npt.NDArray[np.object_]           # '' : default shipment inputs
    inputs: dict[str, npt.NDArray[Any]]
    errors: Errors

    def __len__(self) -> int:
        return len(self.line)


def _column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    return table.column(name) if name in table.column_names else None


def _empty_text(n: int) -> pa.Array:
    return pa.repeat(pa.scalar("", pa.string()), n)


def normalise(table: pa.Table, lines: npt.NDArray[np.int64], first: date, last: date,
              assume_unchanged: bool = False, read_errors: npt.NDArray[np.object_] | None = None) -> Lines:
    """Check and normalise a batch whose columns carry the calculator's names (see ``canonical``);
    ``read_errors`` are the reasons some rows could not be read at all (they come first)."""
    n = table.num_rows
    errors = Errors(n)
    if read_errors is not None:
        errors.add(np.not_equal(read_errors, _NULL), lambda i: str(read_errors[i]))

    def col(name: str) -> pa.ChunkedArray | pa.Array:
        found = _column(table, name)
        return found if found is not None else _empty_text(n)

    raw_hts, raw_origin, raw_date = _text(col("hts10")), _text(col("origin")), _text(col("entry_date"))
    # HTS code: 10 digits (dots and spaces allowed); an 8-digit line without suffix is .00
    stripped = pc.replace_substring_regex(pa.array(raw_hts, pa.string()), r"[.\s]", "")
    ok = np.asarray(pc.match_substring_regex(stripped, r"^\d{8}(\d{2})?$").to_numpy(zero_copy_only=False), dtype=bool)
    eight = np.asarray(pc.equal(pc.utf8_length(stripped), 8).to_numpy(zero_copy_only=False), dtype=bool)
    errors.add(raw_hts == "", "hts10 is empty: give the 10-digit HTS code, e.g. 8517.13.0000")
    lost_zero = np.zeros(n, dtype=bool)
    if not ok.all():
        lost_zero = np.asarray(pc.match_substring_regex(stripped, r"^(\d{7}|\d{9})$").to_numpy(zero_copy_only=False), dtype=bool)
    errors.add(~ok & lost_zero, lambda i: (f"malformed HTS code {raw_hts[i]!r}: one digit short; a spreadsheet may have "
                                           "dropped its leading zero (format the column as text)"))
    errors.add(~ok, lambda i: f"malformed HTS code {raw_hts[i]!r}: expected 10 digits such as 8517.13.0000")
    digits = np.asarray(stripped.to_numpy(zero_copy_only=False), dtype=object)
    hts10 = np.where(eight, digits + "00", digits).astype(object)
    # origin: resolved once per distinct text
    iso, why = _map_distinct(raw_origin, lambda t: countries.resolve(t).iso2)
    errors.add(raw_origin == "", "origin is empty: give the country of origin (ISO code such as CN, or a name)")
    errors.add(np.not_equal(why, _NULL), lambda i: str(why[i]))
    # entry date, within the data (or past it, flagged, with assume_unchanged)
    day, given = _dates(col("entry_date"))
    errors.add(~given, "entry_date is empty: give the date of entry as YYYY-MM-DD")
    errors.add(given & np.isnat(day), lambda i: f"bad entry_date {raw_date[i]!r}: expected YYYY-MM-DD, e.g. 2025-05-02")
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    errors.add(~np.isnat(day) & (day < lo),
               lambda i: f"entry_date {raw_date[i]} is outside the data: revisions cover {first} to {last}")
    if not assume_unchanged:
        errors.add(~np.isnat(day) & (day > hi),
                   lambda i: (f"entry_date {raw_date[i]} is after the newest law on file (rates known to {last}): "
                              "run 'tariffstack fetch', or pass --assume-unchanged to price with the newest law (flagged)"))
    # value: a plain, finite, non-negative, plausible number of dollars
    value, vgiven, vbad = _numbers(col("value"))
    errors.add(~vgiven, "value is empty: give the customs value in USD")
    errors.add(vbad, lambda i: (f"value {_text(col('value'))[i]!r} is not a number: write it plainly, e.g. 80000.50 "
                                "(no currency sign or thousands separator)"))
    errors.add(vgiven & ~vbad & (value < 0), lambda i: f"value {value[i]:g} is negative: give the customs value in USD")
    errors.add(vgiven & ~vbad & ~np.isfinite(value), "value is not a finite number")
    errors.add(vgiven & (value > MAX_VALUE),
               lambda i: f"value {value[i]:,.0f} is implausible for one line (over $10 billion): check the decimal separator")
    q1, u1 = _quantity(col, "quantity", "unit", errors)
    q2, u2 = _quantity(col, "quantity_2", "unit_2", errors)
    mode_text = _lower(_text(col("mode")))
    known = isin(mode_text, list(MODES))
    errors.add(~known, lambda i: f"unknown mode {mode_text[i]!r}: one of ocean, air, truck, rail, postal, courier, other")
    mode, _ = _map_distinct(mode_text, lambda m: MODES.get(m, ""))
    entry_id = _text(col("entry_id"))
    et = _lower(_text(col("entry_type")))
    errors.add(~isin(et, ["", *ENTRY_TYPES]), lambda i: f"unknown entry_type {et[i]!r}: one of {', '.join(ENTRY_TYPES)}")
    items, igiven, ibad = _numbers(col("items"))
    errors.add(ibad | (igiven & ((items < 1) | (items != np.floor(items)) | (items > 1e9))),
               lambda i: f"items must be a whole number of postal items (1 or more), not {_text(col('items'))[i]!r}")
    items = np.where(igiven & ~np.isnan(items), items, 1.0)
    pm = _lower(_text(col("postal_method")))
    errors.add(~isin(pm, ["", "ad_valorem", "specific"]),
               lambda i: f"postal_method must be ad_valorem or specific, not {pm[i]!r}")
    inputs, ikey = _inputs(col, n, errors)
    return Lines(
        line=lines, raw_hts=raw_hts, raw_origin=raw_origin, raw_date=raw_date, hts10=hts10,
        origin=np.where(np.equal(iso, _NULL), "", iso).astype(object), day=day, value=value, q1=q1, unit1=u1,
        q2=q2, unit2=u2, mode=mode, entry_id=entry_id, entry_type=et, items=items,
        specific_postal=pm == "specific", mpf_exempt=_bools(col("mpf_exempt"), "mpf_exempt", errors),
        ikey=ikey, inputs=inputs, errors=errors,
    )


def _quantity(col: Callable[[str], pa.ChunkedArray | pa.Array], qname: str, uname: str,
              errors: Errors) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.object_]]:
    q, given, bad = _numbers(col(qname))
    raw_q = _text(col(qname))
    errors.add(bad, lambda i: f"{qname} {raw_q[i]!r} is not a number")
    errors.add(given & ~bad & ((q <= 0) | ~np.isfinite(q)),
               lambda i: f"{qname} {raw_q[i]} must be a positive number")
    errors.add(given & (q > MAX_QUANTITY), lambda i: f"{qname} {raw_q[i]} is implausible (over 10^12)")
    unit = _text(col(uname))
    has_unit = unit != ""
    _, why = _map_distinct(np.where(has_unit, unit, "kg").astype(object), parse_unit)
    errors.add(has_unit & np.not_equal(why, _NULL), lambda i: f"{uname}: {why[i]}")
    errors.add(given & ~has_unit, f"{uname} is empty although {qname} is given: use one of {UNIT_HELP}")
    return np.where(given & ~bad, q, np.nan), unit


def _share_message(name: str, raw: npt.NDArray[np.object_]) -> Callable[[int], str]:
    return lambda i: f"{name} must be a share between 0 and 1 (or 0% to 100%), not {raw[i]!r}"


def _inputs(col: Callable[[str], pa.ChunkedArray | pa.Array], n: int,
            errors: Errors) -> tuple[dict[str, npt.NDArray[Any]], npt.NDArray[np.object_]]:
    """The engine's shipment inputs per line and a key that is '' for the defaults."""
    out: dict[str, npt.NDArray[Any]] = {}
    loading, lgiven = _dates(col("loading_date"))
    raw_l = _text(col("loading_date"))
    errors.add(lgiven & np.isnat(loading), lambda i: f"bad loading_date {raw_l[i]!r}: expected YYYY-MM-DD")
    out["loading_date"] = loading
    for name in ("usmca_claimed", "donation", "informational"):
        out[name] = _bools(col(name), name, errors)
    for name in ("metal_content_share", "us_content_share"):
        raw = _text(col(name))
        raw_pa = pa.array(raw, pa.string())
        pct = np.asarray(pc.ends_with(raw_pa, "%").to_numpy(zero_copy_only=False), dtype=bool)
        v, given, bad = _numbers(pc.utf8_rtrim(raw_pa, "%"))
        v = np.where(pct, v / 100.0, v)
        errors.add(bad | (given & ((v < 0) | (v > 1))),
                   _share_message(name, raw))
        out[name] = v
    melt = _upper(_text(col("melt_pour_country")))
    out["melt_pour_country"] = melt
    out["program"] = _upper(_text(col("program")))
    any_input = (~np.isnat(loading) | out["usmca_claimed"] | out["donation"] | out["informational"]
                 | ~np.isnan(out["metal_content_share"]) | ~np.isnan(out["us_content_share"]) | (melt != "")
                 | (out["program"] != ""))
    if not any_input.any():
        return out, np.full(n, "", dtype=object)
    parts = [pc.fill_null(pc.cast(pa.array(loading, pa.date32()), pa.string()), "")]
    for name in ("usmca_claimed", "donation", "informational"):
        parts.append(pc.if_else(pa.array(out[name]), "1", ""))
    for name in ("metal_content_share", "us_content_share"):
        parts.append(pc.fill_null(pc.cast(pa.array(out[name], pa.float64(), from_pandas=True), pa.string()), ""))
    parts.extend([pa.array(melt, pa.string()), pa.array(out["program"], pa.string())])
    joined = np.asarray(pc.binary_join_element_wise(*parts, "|").to_numpy(zero_copy_only=False), dtype=object)
    return out, np.where(any_input, joined, "").astype(object)
