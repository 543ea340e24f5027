"""One shipment in dollars, layer by layer, with the rate, base and source of every figure.

The totals come from the same code that prices files (a batch of one line), so a calculation
and the same line in ``calc-bulk`` never disagree; the layer table beside them comes from the
engine's full answer (reasons, citations, the first day of each duty's run).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from tariffstack.calc import fees as feemod
from tariffstack.calc.formula import LAYERS, Formula, cents, describe, term_dollars
from tariffstack.calc.lowvalue import de_minimis_rules, de_minimis_source, postal_rows
from tariffstack.calc.money import DUTY_COLUMNS, price_table
from tariffstack.calc.pricing import Pricer
from tariffstack.engine.us import Inputs, parse_date
from tariffstack.errors import BadInput
from tariffstack.models import RateResult


@dataclass(frozen=True)
class Shipment:
    """What a calculation needs: the line, its value and quantity, how it travels, and the
    shipment facts the law's scope depends on (the engine's :class:`Inputs`)."""

    hts10: str
    origin: str
    entry_date: date | str
    value: float
    quantity: float | None = None
    unit: str | None = None
    quantity_2: float | None = None
    unit_2: str | None = None
    mode: str = ""
    entry_type: str | None = None
    items: int = 1
    postal_method: str | None = None
    mpf_exempt: bool = False
    inputs: Inputs = field(default_factory=Inputs)

    def row(self) -> dict[str, Any]:
        """The shipment as one line of a file (the bulk column names)."""
        inp = self.inputs
        day = self.entry_date.isoformat() if isinstance(self.entry_date, date) else str(self.entry_date)
        return {
            "hts10": self.hts10, "origin": self.origin, "entry_date": day, "value": _num(self.value),
            "quantity": _num(self.quantity), "unit": self.unit or "", "quantity_2": _num(self.quantity_2),
            "unit_2": self.unit_2 or "", "mode": self.mode or "", "entry_type": self.entry_type or "",
            "items": str(self.items), "postal_method": self.postal_method or "",
            "mpf_exempt": "true" if self.mpf_exempt else "",
            "loading_date": inp.loading_date.isoformat() if inp.loading_date else "",
            "usmca_claimed": "true" if inp.usmca_claimed else "",
            "metal_content_share": _num(inp.metal_content_share), "us_content_share": _num(inp.us_content_share),
            "melt_pour_country": inp.melt_pour_country or "", "program": inp.program or "",
            "donation": "true" if inp.donation else "", "informational": "true" if inp.informational else "",
        }


def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


@dataclass
class Quote:
    """A calculation: the priced line (the bulk output's columns), the layer table, the fees."""

    row: dict[str, Any]
    rate: RateResult
    layers: list[dict[str, Any]]
    fees: list[dict[str, Any]]
    de_minimis: dict[str, Any]
    postal: dict[str, Any] | None
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        r = self.row
        return {
            "hts10": r["hts10"], "description": self.rate.description, "origin": r["origin"],
            "origin_name": self.rate.origin_name, "entry_date": r["entry_date"].isoformat(),
            "revision": r["revision"], "value": r["value"], "quantity": r["quantity"], "unit": r["unit"],
            "quantity_2": r["quantity_2"], "unit_2": r["unit_2"], "mode": r["mode"],
            "layers": self.layers,
            "duty_by_layer": {x: r[f"duty_{x}_usd"] for x in LAYERS},
            "postal_duty_usd": r["postal_duty_usd"], "duty_usd": r["duty_usd"],
            "fees": self.fees, "fees_usd": r["fees_usd"], "total_usd": r["total_usd"],
            "duty_pct_of_value": r["duty_pct_of_value"], "landed_pct_of_value": r["landed_pct_of_value"],
            "entry_type": r["entry_type"], "de_minimis": self.de_minimis, "postal": self.postal,
            "notes": self.notes, "sources": (r["sources"] or "").split("; ") if r["sources"] else [],
            "rate_notes": list(self.rate.notes),
        }


def quote(pricer: Pricer, s: Shipment) -> Quote:
    """Price one shipment; a bad input raises the same specific message a file line gets."""
    out = price_table(pricer, pa.table({k: pa.array([v], pa.string()) for k, v in s.row().items()}),
                      np.array([1], dtype=np.int64))
    row = out.to_pylist()[0]
    if row["error"]:
        raise BadInput(row["error"])
    day = parse_date(s.entry_date)
    res = pricer.engine.rate(s.hts10, row["origin"], day, s.inputs, assume_unchanged=pricer.assume_unchanged)
    eval_day = min(day, pricer.last)
    span = date.fromisoformat(str(pricer.spans(np.array([np.datetime64(eval_day, "D")]))[0]))
    formula = pricer.evaluate(s.hts10, row["origin"], eval_day if s.inputs.loading_date else span, s.inputs)
    charged = not (row["de_minimis"] or row["postal"])
    layers = _layers(formula, s, res, charged)
    notes = [n for n in (row["notes"] or "").split("; ") if n]
    # the engine's caveat about a specific rate not being a percent does not hold for money
    res = replace(res, notes=tuple(n for n in res.notes if not n.startswith("MFN rate text")))
    return Quote(row=row, rate=res, layers=layers, fees=_fees(row, day), de_minimis=_dm(row, s, day),
                 postal=_postal(pricer, s, row), notes=notes)


def _layers(f: Formula, s: Shipment, res: RateResult, charged: bool) -> list[dict[str, Any]]:
    mfn_usd = 0.0
    out = []
    since = {x.heading: x.in_force_since for x in res.layers if x.heading}
    for t in f.terms:
        usd = term_dollars(t, s.value, s.quantity, s.quantity_2, s.unit, s.unit_2, mfn_usd)
        if t.layer == "mfn":
            mfn_usd = usd
        d = describe(t, s.value)
        if t.floor_pct is not None:
            d["floor"] = (f"{t.floor_pct:g}% of the value (${cents(t.floor_pct / 100 * s.value):,.2f}) minus the "
                          f"column 1 duty (${cents(mfn_usd):,.2f}), never below zero: the ad valorem equivalent "
                          "of column 1 counts, specific parts included")
        d["usd"] = cents(usd) if charged else 0.0
        d["charged"] = charged
        when = since.get(t.heading) if t.heading else None
        d["in_force_since"] = when.isoformat() if when else None
        out.append(d)
    return out


def _fees(row: dict[str, Any], day: date) -> list[dict[str, Any]]:
    out = []
    keys = set((row["sources"] or "").split("; "))
    for r in feemod.fee_table():
        if r.key not in keys:
            continue
        amount = row["hmf_usd"] if r.fee == "hmf" else None
        out.append({"fee": r.fee, "entry_type": r.entry_type, "basis": r.describe(), "usd": amount,
                    "source": r.source, "note": r.note})
    mpf = [x for x in out if str(x["fee"]).startswith("mpf")]
    if mpf:
        mpf[0]["usd"] = row["mpf_usd"]
        for x in mpf[1:]:
            x["usd"] = None  # the surcharge is part of the MPF figure above
    return out


def _dm(row: dict[str, Any], s: Shipment, day: date) -> dict[str, Any]:
    from tariffstack.calc.lowvalue import de_minimis

    arr = de_minimis(np.array([row["origin"]], dtype=object), np.array([np.datetime64(day, "D")]),
                     np.array([float(s.value)]))
    k = int(arr.rule[0])
    citation, summary = de_minimis_source(k)
    return {"eligible": bool(row["de_minimis"]), "threshold_usd": float(arr.threshold[0]),
            "rule": de_minimis_rules()[k].id if k >= 0 else None, "reason": summary, "source": citation,
            "rule_allows": bool(de_minimis_rules()[k].eligible) if k >= 0 else True}


def _postal(pricer: Pricer, s: Shipment, row: dict[str, Any]) -> dict[str, Any] | None:
    """Both postal options (ad valorem and per item) when the postal regime applies."""
    if not row["postal"]:
        return None
    other = "ad_valorem" if s.postal_method == "specific" else "specific"
    alt = price_table(pricer, pa.table({k: pa.array([v], pa.string())
                                        for k, v in replace(s, postal_method=other).row().items()}),
                      np.array([1], dtype=np.int64)).to_pylist()[0]
    rows = {r.key: r for r in postal_rows()}

    def option(r: dict[str, Any]) -> dict[str, Any]:
        key = next((k for k in (r["sources"] or "").split("; ") if k.startswith("postal:")), None)
        pr = rows.get(key or "")
        return {"method": pr.method if pr else None, "usd": r["postal_duty_usd"], "source": pr.source if pr else None,
                "note": pr.note if pr else None}

    chosen = option(row)
    alternative = option(alt)
    return {"chosen": chosen, "alternative": alternative if alternative["method"] != chosen["method"] else None}


def layer_sum(row: dict[str, Any]) -> float:
    return round(sum(row[c] or 0.0 for c in DUTY_COLUMNS), 2)
