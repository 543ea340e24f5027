"""IEEPA refund estimates: what each past entry line paid under IEEPA, and what a broker can do.

The Supreme Court held on Feb 20, 2026 (Learning Resources v. Trump) that IEEPA does not
authorise tariffs; CBP stopped collecting them for goods entered from Feb 24, 2026, the CIT
ordered entries liquidated or reliquidated without them, and CBP opened a refund process
(CAPE) on Apr 20, 2026. For each line this module computes the IEEPA layers (fentanyl,
reciprocal, other: Brazil, India...) from the law on its entry date with the same pricing as
``calc-bulk``, compares them with what the importer says it paid, and gives the status as of a
date: unliquidated, liquidated within CAPE's 80 days, protest window open, or final. Every
rule is in :data:`RULES` with its source (docs/research/calc-facts.md); where the procedure is
unsettled the status says so.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.calc.bulkio import Writer, file_format, read_chunks
from tariffstack.calc.lines import Errors, _bools, _dates, _numbers, _text, canonical
from tariffstack.calc.money import NULL, entry_sums, stage_entries, stage_lines
from tariffstack.calc.pricing import Pricer
from tariffstack.files import atomic_path

IEEPA_END = date(2026, 2, 24)        # EO 14389; CBP CSMS #67834313
CAPE_OPENS = date(2026, 4, 20)       # CSMS #68315804, #68340863
LIQUIDATION_DAYS = 314               # usual; 19 U.S.C. 1504(a) allows 1 year, extendable to 4
PSC_DAYS, PSC_BEFORE_LIQ = 300, 15
CAPE_AFTER_LIQ, PROTEST_DAYS = 80, 180

# id -> (rule, source, settled: yes | partly | no)
RULES: dict[str, tuple[str, str, str]] = {
    "ruling": ("IEEPA does not authorise tariffs; remedies and refunds were not decided by the Court",
               "Learning Resources, Inc. v. Trump, Nos. 24-1287, 25-250 (U.S. Feb 20, 2026)", "yes"),
    "end": ("No IEEPA duty on goods entered on or after 12:00 a.m. ET Feb 24, 2026",
            "EO 14389 (91 FR 9437); CBP CSMS #67834313", "yes"),
    "cit": ("CBP must liquidate unliquidated entries without the IEEPA duties and reliquidate liquidated entries "
            "whose liquidation is not final; extended to the Brazil and India duties",
            "CIT, Atmus Filtration v. United States, No. 26-01259 (orders of Mar 4-5 and Mar 20-21, 2026)", "partly"),
    "cape": ("Refunds are not automatic: the importer of record or its broker files a CAPE Declaration (CSV of "
             "entry numbers) in the ACE Portal, with ACH refund enrolment; CBP recalculates and refunds with interest",
             "CBP CSMS #68315804, #68340863 (CAPE Phase 1 from Apr 20, 2026)", "yes"),
    "cape-excluded": ("Outside CAPE Phase 1: reconciliation-flagged and type 09 entries, entries on a drawback claim, "
                      "with an open protest, not filed in ACE, AD/CVD entries awaiting Commerce instructions, "
                      "liquidated more than 80 days before filing, or final",
                      "CBP CSMS #68315804; CIT order of Apr 28, 2026 (secondary: capeportalguide.com)", "partly"),
    "psc": ("Before liquidation a post-summary correction is possible within 300 days of entry and no later than "
            "15 days before the scheduled liquidation (blocked once CAPE accepts the entry)",
            "NCBFAA quoting CBP (secondary)", "partly"),
    "liquidation": ("Entries liquidate about 314 days after entry (1 year by law, extendable to 4; deemed liquidated "
                    "otherwise); informal entries are generally liquidated at entry",
                    "19 U.S.C. 1504(a); Logistics Plus summary (secondary)", "partly"),
    "protest": ("Within 180 days of liquidation a protest (CBP Form 19) preserves the claim; from day 81 it is the "
                "route, as CAPE Phase 1 takes liquidated entries only within 80 days (19 U.S.C. 1501 reliquidation)",
                "19 U.S.C. 1514(c)(3); 19 U.S.C. 1501; CSMS #68315804", "partly"),
    "final": ("Liquidated more than 180 days ago without a protest: no administrative route; DOJ holds a refund needs an "
              "importer-specific court order (CIT suit under 28 U.S.C. 1581(i); practitioners cite the 2-year limit "
              "of 28 U.S.C. 2636(i)); the CIT order on final entries is under appeal",
              "DOJ notice of appeal, V.O.S. Selections v. United States, Ct. No. 25-00066 (May 29, 2026; secondary: "
              "tuttlelaw.com)", "no"),
    "postal": ("No refund route is known for IEEPA duties that carriers remitted on postal items, nor for the "
               "$80-$200 per-item postal duties", "docs/research/calc-facts.md (nothing found)", "no"),
}

REFUND_COLUMNS = [
    ("entry_number", pa.string()), ("liquidation_date", pa.date32()), ("liquidation_estimated", pa.bool_()),
    ("ieepa_fentanyl_usd", pa.float64()), ("ieepa_reciprocal_usd", pa.float64()), ("ieepa_other_usd", pa.float64()),
    ("ieepa_usd", pa.float64()), ("paid_ieepa_usd", pa.float64()), ("difference_usd", pa.float64()),
    ("refund_estimate_usd", pa.float64()), ("status", pa.string()), ("route", pa.string()),
    ("deadline", pa.date32()), ("settled", pa.string()), ("rules", pa.string()),
]
KEEP = ["line", "hts10", "origin", "entry_date", "value", "revision", "postal", "de_minimis", "headings", "error"]
SCHEMA = pa.schema([*((c, t) for c, t in (
    ("line", pa.int64()), ("hts10", pa.string()), ("origin", pa.string()), ("entry_date", pa.date32()),
    ("value", pa.float64()), ("revision", pa.string()), ("postal", pa.bool_()), ("de_minimis", pa.bool_()),
    ("headings", pa.string()))), *REFUND_COLUMNS, ("error", pa.string())])


@dataclass
class RefundReport:
    lines: int = 0
    bad: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    by: dict[str, dict[str, list[float]]] = field(default_factory=lambda: {"month": {}, "origin": {}, "chapter": {},
                                                                          "status": {}})
    as_of: date | None = None
    output: Path | None = None
    totals_file: Path | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "bad": self.bad, "as_of": self.as_of.isoformat() if self.as_of else None,
                "errors": [{"line": n, "error": e} for n, e in self.errors], "totals": self.totals,
                "by": {g: [{"key": k, "lines": int(v[0]), "ieepa_usd": round(v[1], 2), "paid_ieepa_usd": round(v[2], 2),
                            "refund_estimate_usd": round(v[3], 2)} for k, v in sorted(d.items())]
                       for g, d in self.by.items()},
                "rules": [{"id": k, "rule": r, "source": s, "settled": st} for k, (r, s, st) in RULES.items()],
                "output": str(self.output) if self.output else None}

    def summary_lines(self) -> list[str]:
        t = self.totals
        out = [f"{self.lines - self.bad:,} lines estimated as of {self.as_of}, {self.bad:,} bad -> {self.output}",
               f"IEEPA computed ${t.get('ieepa_usd', 0):,.2f}; paid (as given) ${t.get('paid_ieepa_usd', 0):,.2f}; "
               f"refund estimate ${t.get('refund_estimate_usd', 0):,.2f}"]
        for status, v in sorted(self.by["status"].items(), key=lambda kv: -kv[1][3]):
            out.append(f"  {status}: {int(v[0]):,} lines, ${v[3]:,.2f}")
        for month, v in sorted(self.by["month"].items()):
            out.append(f"  {month}: ${v[3]:,.2f} ({int(v[0]):,} lines)")
        out.append("rules and sources: docs/CALC.md (Refunds); unsettled points are marked 'settled: no'")
        return out

    def add(self, t: pa.Table) -> None:
        self.lines += t.num_rows
        err = t.column("error")
        bad = t.filter(pc.is_valid(err))
        self.bad += bad.num_rows
        for n, e in zip(bad.column("line").to_pylist(), bad.column("error").to_pylist(), strict=True):
            if len(self.errors) < 20:
                self.errors.append((n, e))
        good = t.filter(pc.is_null(err))
        for c in ("ieepa_usd", "paid_ieepa_usd", "refund_estimate_usd", "value"):
            self.totals[c] = round(self.totals.get(c, 0.0) + (pc.sum(good.column(c)).as_py() or 0.0), 2)
        keys = {
            "month": [d.strftime("%Y-%m") for d in good.column("entry_date").to_pylist()],
            "origin": good.column("origin").to_pylist(),
            "chapter": [h[:2] for h in good.column("hts10").to_pylist()],
            "status": good.column("status").to_pylist(),
        }
        vals = [good.column(c).to_pylist() for c in ("ieepa_usd", "paid_ieepa_usd", "refund_estimate_usd")]
        for g, ks in keys.items():
            d = self.by[g]
            for k, a, b, c in zip(ks, *vals, strict=True):
                acc = d.setdefault(k, [0.0, 0.0, 0.0, 0.0])
                acc[0] += 1
                acc[1] += a or 0.0
                acc[2] += b or 0.0
                acc[3] += c or 0.0


def _extra(raw: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    names = [canonical(c) for c in raw.column_names]
    if name in names:
        return raw.column(names.index(name))
    return pa.repeat(pa.scalar("", pa.string()), raw.num_rows)


def estimate(pricer: Pricer, raw: pa.Table, lines: npt.NDArray[np.int64], read_errors: Any, as_of: date) -> pa.Table:
    """The refund estimate and status of each line of a batch."""
    stage = stage_lines(pricer, raw, lines, read_errors)
    v, b = entry_sums(stage)
    priced = stage_entries(stage, v, b)
    n = priced.num_rows
    good = np.asarray(pc.is_null(priced.column("error")).to_numpy(zero_copy_only=False), dtype=bool)
    err = np.asarray(priced.column("error").to_numpy(zero_copy_only=False), dtype=object)

    def num(c: str) -> npt.NDArray[np.float64]:
        return np.nan_to_num(np.asarray(priced.column(c).to_numpy(zero_copy_only=False), dtype=np.float64))

    fent, recip, other = num("duty_ieepa_fentanyl_usd"), num("duty_ieepa_reciprocal_usd"), num("duty_ieepa_other_usd")
    postal = np.asarray(priced.column("postal").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    # a postal item's duty replaced the stack: its IEEPA part is the postal duty of an IEEPA row
    postal_usd = num("postal_duty_usd")
    ieepa = np.round(fent + recip + other, 2)
    ieepa = np.where(postal, postal_usd, ieepa)
    paid_parts = [_numbers(_extra(raw, f"paid_{x}_usd")) for x in ("ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other")]
    paid_total, given_total, bad_total = _numbers(_extra(raw, "paid_ieepa_usd"))
    parts_given = np.any([g for _, g, _ in paid_parts], axis=0)
    paid = np.where(given_total, paid_total, np.where(parts_given, np.sum([np.nan_to_num(v) for v, _, _ in paid_parts],
                                                                           axis=0), np.nan))
    problems = bad_total | np.any([b for _, _, b in paid_parts], axis=0) | (np.nan_to_num(paid) < 0)
    err = np.where(good & problems & np.equal(err, NULL), "paid amounts must be plain non-negative numbers", err)
    diff = np.where(np.isnan(paid), np.nan, np.round(np.nan_to_num(paid) - ieepa, 2))
    refund = np.where(np.isnan(paid), ieepa, np.nan_to_num(paid))
    day = np.asarray(priced.column("entry_date").to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    liq, liq_given = _dates(_extra(raw, "liquidation_date"))
    etype = np.asarray(pc.utf8_lower(pa.array(_text(_extra(raw, "entry_type")), pa.string())).to_numpy(
        zero_copy_only=False), dtype=object)
    informal = np.array([str(x).startswith("informal") for x in etype], dtype=bool)
    flags = {f: _bools(_extra(raw, f), f, _Sink()) for f in ("protest_filed", "reconciliation", "drawback", "adcvd",
                                                           "not_ace")}
    estimated = ~liq_given
    liq = np.where(liq_given, liq, np.where(informal, day, day + np.timedelta64(LIQUIDATION_DAYS, "D")))
    entry_no = _text(_extra(raw, "entry_number"))
    status, route, deadline, settled, rules = _status(day, liq, estimated, informal, flags, postal, ieepa, as_of, n)
    cols: dict[str, Any] = {c: priced.column(c) for c in KEEP if c != "error"}
    cols.update({
        "entry_number": pa.array(np.where(entry_no == "", NULL, entry_no), pa.string()),
        "liquidation_date": pa.array(liq.astype("datetime64[D]"), pa.date32()),
        "liquidation_estimated": pa.array(estimated),
        "ieepa_fentanyl_usd": pa.array(np.where(good, fent, np.nan), pa.float64(), from_pandas=True),
        "ieepa_reciprocal_usd": pa.array(np.where(good, recip, np.nan), pa.float64(), from_pandas=True),
        "ieepa_other_usd": pa.array(np.where(good, other, np.nan), pa.float64(), from_pandas=True),
        "ieepa_usd": pa.array(np.where(good, ieepa, np.nan), pa.float64(), from_pandas=True),
        "paid_ieepa_usd": pa.array(paid, pa.float64(), from_pandas=True),
        "difference_usd": pa.array(diff, pa.float64(), from_pandas=True),
        "refund_estimate_usd": pa.array(np.where(good, refund, np.nan), pa.float64(), from_pandas=True),
        "status": pa.array(np.where(good, status, NULL), pa.string()),
        "route": pa.array(np.where(good, route, NULL), pa.string()),
        "deadline": deadline,
        "settled": pa.array(np.where(good, settled, NULL), pa.string()),
        "rules": pa.array(np.where(good, rules, NULL), pa.string()),
        "error": pa.array(err, pa.string()),
    })
    return pa.table({f.name: cols[f.name] for f in SCHEMA}, schema=SCHEMA)


class _Sink(Errors):
    """Bad flag values are read as false here (the flags only sharpen the status)."""

    def __init__(self) -> None:
        super().__init__(0)

    def add(self, mask: Any, message: Any) -> None:
        return None


def _status(day: Any, liq: Any, estimated: Any, informal: Any, flags: dict[str, Any], postal: Any, ieepa: Any,
            as_of: date, n: int) -> tuple[Any, Any, Any, Any, Any]:
    """Status, route, next deadline, whether the route is settled, and the rules applied."""
    status = np.full(n, "", dtype=object)
    route = np.full(n, "", dtype=object)
    settled = np.full(n, "yes", dtype=object)
    rules = np.full(n, "ruling", dtype=object)
    deadline: list[date | None] = [None] * n
    d = np.datetime64(as_of, "D")
    for i in range(n):
        entry = day[i]
        if np.isnat(entry):
            continue
        e = date.fromisoformat(str(entry))
        lq = date.fromisoformat(str(liq[i]))
        if e >= IEEPA_END:
            status[i], route[i], rules[i] = "no IEEPA duty", "entered on or after Feb 24, 2026", "ruling; end"
            continue
        if ieepa[i] <= 0:
            status[i], route[i], rules[i] = "no IEEPA duty", "nothing to recover on this line", "ruling"
            continue
        if postal[i]:
            status[i], route[i], settled[i], rules[i] = ("postal item", "no refund route known for postal IEEPA duties",
                                                         "no", "ruling; postal")
            continue
        excluded = [name for name, f in (("reconciliation", "reconciliation"), ("drawback claim", "drawback"),
                                         ("AD/CVD", "adcvd"), ("not filed in ACE", "not_ace")) if flags[f][i]]
        cape_open = as_of >= CAPE_OPENS
        if d < liq[i]:
            psc = min(e + timedelta(days=PSC_DAYS), lq - timedelta(days=PSC_BEFORE_LIQ))
            status[i] = "unliquidated"
            route[i] = ("CAPE Phase 1 declaration in ACE" if cape_open else "CAPE opens Apr 20, 2026") + \
                f"; or a post-summary correction by {psc.isoformat()}"
            deadline[i], settled[i], rules[i] = psc, "partly", "ruling; cit; cape; psc; liquidation"
        else:
            days = (as_of - lq).days
            if flags["protest_filed"][i]:
                status[i], route[i], settled[i], rules[i] = ("liquidated, protest filed", "the protest decides (outside "
                                                             "CAPE Phase 1)", "partly", "ruling; protest; cape-excluded")
            elif days <= CAPE_AFTER_LIQ:
                status[i] = "liquidated, within CAPE's 80 days"
                route[i] = f"liquidated {days} days ago: " + \
                    ("CAPE Phase 1 declaration in ACE" if cape_open else "CAPE opens Apr 20, 2026") + \
                    f" by {(lq + timedelta(days=CAPE_AFTER_LIQ)).isoformat()}; protest by " \
                    f"{(lq + timedelta(days=PROTEST_DAYS)).isoformat()} otherwise"
                deadline[i], settled[i] = lq + timedelta(days=CAPE_AFTER_LIQ), "partly"
                rules[i] = "ruling; cit; cape; protest; liquidation"
            elif days <= PROTEST_DAYS:
                status[i] = "liquidated, protest window open"
                route[i] = f"file a protest (CBP Form 19) by {(lq + timedelta(days=PROTEST_DAYS)).isoformat()}; " \
                    "outside CAPE Phase 1; later CAPE phases not confirmed"
                deadline[i], settled[i], rules[i] = lq + timedelta(days=PROTEST_DAYS), "partly", \
                    "ruling; cit; protest; cape-excluded; liquidation"
            else:
                status[i] = "final (liquidated over 180 days ago, no protest)"
                route[i] = "no administrative route: a CIT suit under 28 U.S.C. 1581(i); unsettled, under appeal"
                settled[i], rules[i] = "no", "ruling; final; liquidation"
        if excluded and status[i].startswith(("unliquidated", "liquidated")):
            route[i] = f"outside CAPE Phase 1 ({', '.join(excluded)}): " + route[i]
            rules[i] += "; cape-excluded"
            settled[i] = "no" if settled[i] == "no" else "partly"
    return status, route, pa.array(deadline, pa.date32()), settled, rules


def refund_file(pricer: Pricer, src: Path, out: Path, *, as_of: date, encoding: str = "utf-8",
                sheet: str | None = None,
                progress: Callable[[int, int, int], None] | None = None) -> RefundReport:
    """Estimate every line of ``src`` into ``out``; totals by month, origin, chapter and status
    go beside it (Excel: sheets; CSV/Parquet: ``<out>.totals.csv``), with the rules used."""
    t0 = time.perf_counter()
    kind = file_format(out)
    report = RefundReport(as_of=as_of)
    with atomic_path(out) as tmp:
        writer = Writer(tmp, kind, SCHEMA)
        for chunk in read_chunks(src, encoding=encoding, sheet=sheet):
            t = estimate(pricer, chunk.table, chunk.lines, chunk.errors, as_of)
            writer.write(t)
            report.add(t)
            if progress is not None:
                progress(chunk.done, chunk.total, report.lines)
        if kind == "xlsx":
            writer.extra_sheets = {**{f"by {g}": _group_rows(report, g) for g in ("month", "origin", "chapter", "status")},
                                   "rules": [["id", "rule", "source", "settled"],
                                             *[[k, r, s, st] for k, (r, s, st) in RULES.items()]]}
        writer.close()
    report.output = out
    if kind != "xlsx":
        report.totals_file = out.with_name(out.name + ".totals.csv")
        with atomic_path(report.totals_file) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            for g in ("month", "origin", "chapter", "status"):
                rows = _group_rows(report, g)
                w.writerows([[g, *r] for r in rows[1:]] if g != "month" else [["group", *rows[0]], *[[g, *r] for r in rows[1:]]])
            w.writerows([["rule", k, r, s, st] for k, (r, s, st) in RULES.items()])
    report.seconds = time.perf_counter() - t0
    return report


def _group_rows(report: RefundReport, g: str) -> list[list[Any]]:
    rows: list[list[Any]] = [[g, "lines", "ieepa_usd", "paid_ieepa_usd", "refund_estimate_usd"]]
    for k, v in sorted(report.by[g].items()):
        rows.append([k, int(v[0]), round(v[1], 2), round(v[2], 2), round(v[3], 2)])
    return rows
