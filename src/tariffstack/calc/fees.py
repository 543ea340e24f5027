"""Customs user fees: the merchandise processing fee (MPF) and the harbor maintenance fee (HMF).

The figures are data (``data/calc/fees.csv``, one row per fee, entry type, mode and fiscal year,
each with the notice that publishes it); this module reads and validates them and applies them
to an entry. CBP adjusts the MPF every fiscal year (Oct 1 to Sep 30), so the entry date picks
the row. A formal entry pays the ad valorem MPF on the entry's value, raised to the minimum and
capped at the maximum per entry (19 CFR 24.23(b)(1)); an informal entry pays a flat fee
(24.23(b)(2)); the HMF is a percent of the value of cargo unloaded from a vessel, with no
minimum or maximum (19 CFR 24.24).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from tariffstack.calc.dated import check_period, csv_rows
from tariffstack.errors import BadInput, DataError

FEES = ("mpf", "mpf_manual_surcharge", "hmf")
ROW_ENTRY_TYPES = ("formal", "informal_automated", "informal_manual", "informal_cbp_prepared", "any")
MODES = ("ocean", "air", "truck", "rail", "postal", "courier", "other")
# what a line may say in its entry_type column -> the fee table's entry type (and manual surcharge)
ENTRY_TYPES: dict[str, tuple[str, bool]] = {
    "formal": ("formal", False),
    "formal_manual": ("formal", True),
    "informal": ("informal_automated", False),
    "informal_automated": ("informal_automated", False),
    "informal_manual": ("informal_manual", False),
    "informal_cbp_prepared": ("informal_cbp_prepared", False),
}
INFORMAL_LIMIT_USD = 2500.0  # 19 CFR 143.21(a): informal entry up to $2,500
INFORMAL_LIMIT_SOURCE = "19 CFR 143.21(a) (informal entry limit $2,500)"


@dataclass(frozen=True, slots=True)
class FeeRow:
    """One published figure: a fee for an entry type and mode over a period (inclusive)."""

    fee: str
    entry_type: str
    mode: str
    first: date
    last: date | None
    rate_pct: float | None
    min_usd: float | None
    max_usd: float | None
    flat_usd: float | None
    source: str
    note: str

    @property
    def key(self) -> str:
        """A short name for output columns and the sources table: ``mpf:formal:FY2026``."""
        fy = f"FY{self.first.year + 1}" if self.first.month >= 10 else f"FY{self.first.year}"
        return f"{self.fee}:{self.entry_type}:{fy}" if self.fee != "hmf" else f"hmf:{self.mode}:{self.first.isoformat()}"

    def covers(self, day: date) -> bool:
        return self.first <= day and (self.last is None or day <= self.last)

    def describe(self) -> str:
        if self.flat_usd is not None:
            return f"${self.flat_usd:,.2f} per entry"
        text = f"{self.rate_pct:g}% of value"
        if self.min_usd is not None or self.max_usd is not None:
            text += f" (min ${self.min_usd or 0:,.2f}, max ${self.max_usd or 0:,.2f} per entry)"
        return text


def _float(row: dict[str, str], name: str, where: str) -> float | None:
    text = (row.get(name) or "").strip()
    if not text:
        return None
    try:
        v = float(text)
    except ValueError as exc:
        raise DataError(f"{where}: {name} {text!r} is not a number") from exc
    if v < 0:
        raise DataError(f"{where}: {name} {text!r} is negative")
    return v


def _date(row: dict[str, str], name: str, where: str) -> date | None:
    text = (row.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DataError(f"{where}: {name} {text!r} is not a date (YYYY-MM-DD)") from exc


def read_fees(path: Path | None = None) -> tuple[FeeRow, ...]:
    """Every row of fees.csv, validated: known names, dates in order, one row per period, the
    amounts the fee needs, a source for each figure. Any problem is a DataError naming the row."""
    rows: list[FeeRow] = []
    for _, where, row in csv_rows("fees.csv", path, "the fee figures cannot be applied"):
        fee = (row.get("fee") or "").strip()
        et = (row.get("entry_type") or "").strip()
        mode = (row.get("mode") or "").strip()
        if fee not in FEES:
            raise DataError(f"{where}: unknown fee {fee!r} (one of {', '.join(FEES)})")
        if et not in ROW_ENTRY_TYPES:
            raise DataError(f"{where}: unknown entry_type {et!r} (one of {', '.join(ROW_ENTRY_TYPES)})")
        if mode != "any" and mode not in MODES:
            raise DataError(f"{where}: unknown mode {mode!r} (any or one of {', '.join(MODES)})")
        first = _date(row, "first", where)
        if first is None:
            raise DataError(f"{where}: the first day in force is missing")
        last = _date(row, "last", where)
        check_period(first, last, where)
        r = FeeRow(fee, et, mode, first, last, _float(row, "rate_pct", where), _float(row, "min_usd", where),
                   _float(row, "max_usd", where), _float(row, "flat_usd", where),
                   (row.get("source") or "").strip(), (row.get("note") or "").strip())
        if not r.source:
            raise DataError(f"{where}: no source for this figure")
        if (r.rate_pct is None) == (r.flat_usd is None):
            raise DataError(f"{where}: give exactly one of rate_pct and flat_usd")
        if r.min_usd is not None and r.max_usd is not None and r.min_usd > r.max_usd:
            raise DataError(f"{where}: min_usd is above max_usd")
        if r.rate_pct is not None and r.rate_pct > 5:
            raise DataError(f"{where}: rate_pct {r.rate_pct} is implausible for a user fee (percent, e.g. 0.3464)")
        rows.append(r)
    by_kind: dict[tuple[str, str, str], list[FeeRow]] = {}
    for r in rows:
        by_kind.setdefault((r.fee, r.entry_type, r.mode), []).append(r)
    for kind, group in by_kind.items():
        group.sort(key=lambda r: r.first)
        for a, b in zip(group, group[1:], strict=False):
            if a.last is None or a.last >= b.first:
                raise DataError(f"fees.csv: two rows for {':'.join(kind)} overlap ({a.first} and {b.first})")
    return tuple(rows)


@cache
def fee_table() -> tuple[FeeRow, ...]:
    return read_fees()


def fiscal_year(day: date) -> int:
    """The U.S. government fiscal year of a date (FY2026 runs Oct 1, 2025 to Sep 30, 2026)."""
    return day.year + 1 if day.month >= 10 else day.year


def find(fee: str, entry_type: str, mode: str, day: date) -> FeeRow | None:
    """The row in force for a fee, entry type and mode on a date (a row's ``any`` matches all)."""
    for r in fee_table():
        if r.fee == fee and r.entry_type in (entry_type, "any") and r.mode in (mode, "any") and r.covers(day):
            return r
    return None


def entry_type_for(declared: str | None, entry_value: float) -> tuple[str, bool, str | None]:
    """(fee table entry type, manual surcharge, how it was chosen) for an entry.

    Without a declared type, an entry of at most $2,500 is taken as informal (automated) and a
    larger one as formal; the note says so, since the importer or CBP may choose otherwise.
    """
    text = (declared or "").strip().lower()
    if text:
        found = ENTRY_TYPES.get(text)
        if found is None:
            raise BadInput(f"unknown entry_type {declared!r}: one of {', '.join(ENTRY_TYPES)}")
        return found[0], found[1], None
    if entry_value <= INFORMAL_LIMIT_USD:
        return "informal_automated", False, f"entry of ${entry_value:,.2f} taken as informal ({INFORMAL_LIMIT_SOURCE})"
    return "formal", False, None


@dataclass(frozen=True, slots=True)
class EntryFees:
    """The MPF of one entry and the rows it came from."""

    mpf_usd: float
    rows: tuple[FeeRow, ...]
    note: str | None


def mpf(entry_type: str, manual: bool, entry_value: float, day: date) -> EntryFees:
    """The MPF of one entry (formal: percent with min and max; informal: flat) on its date."""
    row = find("mpf", entry_type, "any", day)
    if row is None:
        raise BadInput(
            f"no MPF figures for {entry_type} entries in FY{fiscal_year(day)} ({day.isoformat()}) in "
            "data/calc/fees.csv: CBP publishes them each summer for the next fiscal year")
    rows = [row]
    if row.flat_usd is not None:
        amount = row.flat_usd
    else:
        amount = entry_value * (row.rate_pct or 0.0) / 100.0
        if row.min_usd is not None:
            amount = max(amount, row.min_usd)
        if row.max_usd is not None:
            amount = min(amount, row.max_usd)
    if manual:
        extra = find("mpf_manual_surcharge", entry_type, "any", day)
        if extra is None or extra.flat_usd is None:
            raise BadInput(f"no manual-entry MPF surcharge for FY{fiscal_year(day)} in data/calc/fees.csv")
        amount += extra.flat_usd
        rows.append(extra)
    return EntryFees(amount, tuple(rows), None)


def hmf_row(mode: str, day: date) -> FeeRow | None:
    """The HMF row for a mode and date (only vessel cargo pays it), or None."""
    if mode != "ocean":
        return None
    return find("hmf", "any", mode, day)
