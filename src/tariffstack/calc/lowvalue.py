"""Low-value shipments: de minimis (19 U.S.C. 1321) and the postal duties that replaced it.

De minimis follows ``data/de_minimis.csv`` (read by the engine, ``law.events``): the most
specific rule (named countries over any country) with the latest start wins, every rule in
force from its first to its last day inclusive. When the exemption ended, the orders gave
postal items a duty of their own, chosen by the carrier: a percent of each package's value or
an amount per item (``data/calc/postal.csv``). Both are evaluated here as arrays over many lines
at once; one calculation is the same code on arrays of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tariffstack.calc.dated import check_period, csv_rows
from tariffstack.calc.lines import isin
from tariffstack.errors import DataError
from tariffstack.law import countries
from tariffstack.law.events import DeMinimisRule, load_de_minimis

POSTAL_METHODS = ("ad_valorem", "specific_per_item", "ad_valorem_ieepa", "specific_ieepa_lt16",
                  "specific_ieepa_16_25", "specific_ieepa_gt25", "ad_valorem_s122", "unconfirmed")
AD_VALOREM = ("ad_valorem", "ad_valorem_ieepa", "ad_valorem_s122")
BANDS = ("specific_ieepa_lt16", "specific_ieepa_16_25", "specific_ieepa_gt25")
DEFAULT_THRESHOLD = 800.0
DEFAULT_SOURCE = "19 U.S.C. 1321(a)(2)(C)"

Days = npt.NDArray[np.datetime64]
Strs = npt.NDArray[np.object_]


def _d64(day: date | None, default: str) -> np.datetime64:
    return np.datetime64(day.isoformat() if day else default, "D")


@dataclass(frozen=True, slots=True)
class DeMinimisArrays:
    """Per line: the rule that holds (-1: none on file), its eligibility and threshold."""

    rule: npt.NDArray[np.int64]
    eligible: npt.NDArray[np.bool_]
    threshold: npt.NDArray[np.float64]


def de_minimis_rules() -> tuple[DeMinimisRule, ...]:
    """The rules in the order of precedence the engine uses (later ones win)."""
    return tuple(sorted(load_de_minimis(), key=lambda r: (r.countries is not None, r.effective)))


def de_minimis(origin: Strs, day: Days, value: npt.NDArray[np.float64]) -> DeMinimisArrays:
    """Whether each shipment may enter free: the rule for its origin and date, and its value."""
    n = len(origin)
    rule = np.full(n, -1, dtype=np.int64)
    for k, r in enumerate(de_minimis_rules()):
        mask = (day >= _d64(r.effective, "1900-01-01")) & (day <= _d64(r.last, "9999-12-31"))
        if r.countries is not None:
            mask &= isin(origin, sorted(r.countries))
        rule[mask] = k
    rules = de_minimis_rules()
    elig = np.array([r.eligible for r in rules] + [True], dtype=bool)[rule]
    thr = np.array([r.threshold_usd for r in rules] + [DEFAULT_THRESHOLD], dtype=np.float64)[rule]
    return DeMinimisArrays(rule, elig & (value <= thr), thr)


def de_minimis_source(k: int) -> tuple[str, str]:
    """(citation, summary) of rule ``k`` (or of the statute when no rule is on file)."""
    if k < 0:
        return DEFAULT_SOURCE, "$800 administrative exemption of 19 U.S.C. 1321"
    r = de_minimis_rules()[k]
    return r.citation, r.summary


@dataclass(frozen=True, slots=True)
class PostalRow:
    """One postal duty option for some origins over a period (inclusive)."""

    origins: frozenset[str] | None
    first: date
    last: date | None
    method: str
    amount_usd: float | None
    rate_pct: float | None
    source: str
    note: str
    line: int

    @property
    def key(self) -> str:
        return f"postal:{self.method}:{self.first.isoformat()}" + ("" if self.origins is None else ":" + ";".join(sorted(self.origins)))


def read_postal(path: Path | None = None) -> tuple[PostalRow, ...]:
    """postal.csv, validated: known methods, the amount or rate each method needs, dates in
    order, a source on every row, no two rows for the same origin, method and day."""
    out: list[PostalRow] = []
    for n, where, row in csv_rows("postal.csv", path, "postal duties cannot be applied"):
        method = (row.get("method") or "").strip()
        if method not in POSTAL_METHODS:
            raise DataError(f"{where}: unknown method {method!r} (one of {', '.join(POSTAL_METHODS)})")
        spec = (row.get("origin") or "").strip()
        origins: frozenset[str] | None = None
        if spec != "*":
            if not spec:
                raise DataError(f"{where}: origin is empty (give ISO codes such as CN;HK, or *)")
            try:
                origins = frozenset(countries.resolve(c.strip()).iso2 for c in spec.split(";") if c.strip())
            except Exception as exc:  # noqa: BLE001 - any unknown code is a data error here
                raise DataError(f"{where}: origin {spec!r}: {exc}") from exc
        try:
            first = date.fromisoformat((row.get("first") or "").strip())
            last_text = (row.get("last") or "").strip()
            last = date.fromisoformat(last_text) if last_text else None
        except ValueError as exc:
            raise DataError(f"{where}: bad first/last date ({exc})") from exc
        check_period(first, last, where)
        amount = _num(row.get("amount_usd"), where, "amount_usd")
        rate = _num(row.get("rate_pct"), where, "rate_pct")
        if method.startswith("specific") and amount is None:
            raise DataError(f"{where}: method {method} needs amount_usd")
        if method in ("ad_valorem", "ad_valorem_s122") and rate is None:
            raise DataError(f"{where}: method {method} needs rate_pct")
        source = (row.get("source") or "").strip()
        if not source:
            raise DataError(f"{where}: no source")
        out.append(PostalRow(origins, first, last, method, amount, rate, source, (row.get("note") or "").strip(), n))
    for a in out:
        for b in out:
            if a.line < b.line and a.method == b.method and (a.origins == b.origins) and _overlap(a, b):
                raise DataError(f"postal.csv lines {a.line} and {b.line} give {a.method} for the same origins and days")
    return tuple(out)


def _num(text: str | None, where: str, name: str) -> float | None:
    t = (text or "").strip()
    if not t:
        return None
    try:
        v = float(t)
    except ValueError as exc:
        raise DataError(f"{where}: {name} {t!r} is not a number") from exc
    if v < 0:
        raise DataError(f"{where}: {name} is negative")
    return v


def _overlap(a: PostalRow, b: PostalRow) -> bool:
    a_last = a.last or date.max
    b_last = b.last or date.max
    return a.first <= b_last and b.first <= a_last


@cache
def postal_rows() -> tuple[PostalRow, ...]:
    return read_postal()


@dataclass(frozen=True, slots=True)
class PostalArrays:
    """Per line: the postal options in force (row indexes, -1 for none)."""

    ad_valorem: npt.NDArray[np.int64]       # the ad valorem option's row
    specific: npt.NDArray[np.int64]         # a flat per-item row (CN/HK 2025)
    bands: npt.NDArray[np.int64]            # shape (n, 3): the per-item rows by IEEPA rate band
    unconfirmed: npt.NDArray[np.bool_]      # dates whose postal basis is not confirmed


def postal(origin: Strs, day: Days) -> PostalArrays:
    """The postal duty rows for each line: a row naming the origin wins over a ``*`` row for the
    same method and days (postal.csv's rule)."""
    rows = postal_rows()
    n = len(origin)
    av = np.full(n, -1, dtype=np.int64)
    flat = np.full(n, -1, dtype=np.int64)
    bands = np.full((n, 3), -1, dtype=np.int64)
    unconfirmed = np.zeros(n, dtype=bool)
    order = sorted(range(len(rows)), key=lambda k: (rows[k].origins is not None, rows[k].first))
    for k in order:
        r = rows[k]
        mask = (day >= _d64(r.first, "1900-01-01")) & (day <= _d64(r.last, "9999-12-31"))
        if r.origins is not None:
            mask &= isin(origin, sorted(r.origins))
        if r.method in AD_VALOREM:
            av[mask] = k
        elif r.method == "specific_per_item":
            flat[mask] = k
        elif r.method in BANDS:
            bands[mask, BANDS.index(r.method)] = k
        else:
            unconfirmed |= mask
    return PostalArrays(av, flat, bands, unconfirmed)


def band_for(ieepa_pct: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """EO 14324 sec. 3(c): below 16%, 16 to 25% inclusive, above 25% -> band 0, 1, 2."""
    return np.where(ieepa_pct < 16.0, 0, np.where(ieepa_pct <= 25.0, 1, 2)).astype(np.int64)
