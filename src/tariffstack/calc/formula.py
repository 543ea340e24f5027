"""From a duty stack (percentages and texts) to a formula in dollars: value, quantity -> duty.

A :class:`Formula` is what one distinct situation (product, origin, period, shipment inputs)
costs per dollar of value and per unit of quantity, layer by layer. It is built once per
situation, from the engine's answer or from the panel's stored stack (the same layers), and
then applied to any number of lines: as Python for one calculation and as arrays for a file.

Three things the rate engine leaves as text or percent become money here:

* specific duties (``2.2¢/kg``, ``$1.35/doz.``): amount x quantity, converted from the
  declared unit to the schedule's (:mod:`tariffstack.calc.units`);
* all-in floors ("15% minus the column 1 rate, never below zero", the EU/Japan deals): the
  engine can only subtract the ad valorem part of column 1; with value and quantity known,
  the floor takes the column 1 duty in dollars, i.e. the ad valorem equivalent the heading
  text names ("ad valorem (or ad valorem equivalent) rate of duty under column 1");
* duties on part of the value (Section 232 on the metal content, reciprocal duties on the
  non-metal or non-U.S. content): the engine scales the percent by the share; the formula
  shows the printed percent on its base (value x share) so each dollar figure reads as
  rate x base.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tariffstack.calc.units import factor, parse_unit
from tariffstack.errors import BadInput
from tariffstack.law.rates import Rate, SpecificPart, parse_rate
from tariffstack.law.store import Model
from tariffstack.models import LAYER_ORDER, Layer

LAYERS: tuple[str, ...] = LAYER_ORDER
LAYER_INDEX = {name: k for k, name in enumerate(LAYERS)}


def cents(x: float) -> float:
    """Round half up to the cent (customs amounts are dollars and cents; never banker's rounding)."""
    return math.floor(x * 100.0 + 0.5) / 100.0


@dataclass(frozen=True, slots=True)
class Term:
    """One layer entry of a stack, as money: percent on a base, amounts per unit, or a floor."""

    layer: str
    heading: str | None
    rate_text: str                  # as people read it: "25%", "$1.227/kg", "15% all-in floor"
    pct: float                      # ad valorem percent on the full value (share already applied)
    nominal_pct: float | None       # the percent as imposed, on its base
    base_share: float               # the part of the value the nominal percent is on
    specific: tuple[SpecificPart, ...]
    floor_pct: float | None         # all-in floor N: max(0, N% x value - column 1 duty) x floor_scale
    floor_scale: float
    exempt: bool
    source: str | None
    summary: str | None
    reason: str
    applies_to: str | None


@dataclass(frozen=True, slots=True)
class Formula:
    """Every term of one situation's stack; ``error`` when it cannot be priced at all."""

    revision: str
    terms: tuple[Term, ...]
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def headings(self) -> list[str]:
        return [t.heading for t in self.terms if t.heading and not t.exempt]

    def needs_quantity(self) -> bool:
        return any(t.specific for t in self.terms if not t.exempt)


@dataclass(frozen=True, slots=True)
class Coefficients:
    """A formula for one pair of declared units: per layer, dollars per dollar of value and per
    declared unit of the first and second quantity, and the floor term."""

    av: tuple[float, ...]           # per layer: fraction of value
    q1: tuple[float, ...]           # per layer: dollars per declared unit of quantity
    q2: tuple[float, ...]           # per layer: dollars per declared unit of quantity_2
    floor_layer: int                # -1: none
    floor_frac: float               # N / 100
    floor_scale: float
    needs_q1: str | None            # the message when quantity is missing but needed
    needs_q2: str | None
    error: str | None
    notes: tuple[str, ...]


def _rate_text(pct: float | None, specific: Sequence[SpecificPart], exempt: bool) -> str:
    if exempt:
        return "exempt"
    parts = [p.text for p in specific]
    if pct is not None and (pct or not parts):
        parts.insert(0, f"{pct:g}%")
    return " + ".join(parts)


def _mfn_error(rate: Rate, line: str) -> str | None:
    """Why a column 1 / column 2 / Special rate text cannot become dollars, if it cannot."""
    if rate.is_empty:
        return f"no rate printed for {line}"
    if not rate.parsed:
        return f"the rate of {line} ({rate.text!r}) is not understood; price this line by hand"
    if rate.free:
        return None
    if rate.is_reference:
        return f"the rate of {line} refers to another rate ({rate.text!r}); price this line by hand"
    if rate.ad_valorem_is_partial:
        return (f"the rate of {line} ({rate.text!r}) taxes parts of the article separately; "
                "price this line by hand")
    if rate.note:
        return f"the rate of {line} ({rate.text!r}) depends on a condition ({rate.note!r}) not computed; price by hand"
    return None


def mfn_term(layer: Layer, rate: Rate) -> tuple[Term, str | None]:
    """The column 1 (or column 2, or Special) term and, if it cannot be priced, why."""
    pct = 0.0 if rate.free else (rate.ad_valorem_pct or 0.0)
    spec = () if rate.free else rate.specific
    error = _mfn_error(rate, "the product line")  # the same words whichever path found the line
    nominal = pct if (rate.free or rate.ad_valorem_pct is not None) else None
    return Term(
        layer="mfn", heading=layer.heading, rate_text=rate.text or "none printed", pct=pct, nominal_pct=nominal,
        base_share=1.0, specific=tuple(spec), floor_pct=None, floor_scale=1.0, exempt=False,
        source=layer.source, summary=layer.summary, reason=layer.reason, applies_to=None,
    ), error


def additional_term(x: Layer, model: Model, mfn_pct: float) -> tuple[Term, str | None]:
    """A Chapter 99 layer as a term: its percent, base, floor and specific parts."""
    if x.exempt:
        return Term(layer=x.layer, heading=x.heading, rate_text="exempt", pct=0.0, nominal_pct=0.0,
                    base_share=1.0, specific=(), floor_pct=None, floor_scale=1.0, exempt=True,
                    source=x.source, summary=x.summary, reason=x.reason, applies_to=x.applies_to), None
    measure = model.measure_on(x.heading, x.effective_from) if x.heading and x.effective_from else None
    duty = measure.duty if measure is not None else None
    spec = parse_rate(x.specific).specific if x.specific else ()
    error = None
    if x.rate_pct is None and not spec:
        error = f"the duty of {x.heading} ({duty.text if duty else 'no text'}) is not computable; price by hand"
    pct = x.rate_pct or 0.0
    floor_pct: float | None = None
    floor_scale = 1.0
    nominal: float | None = pct
    share = 1.0
    text = _rate_text(pct, spec, False)
    if duty is not None and duty.kind == "floor" and duty.pct is not None:
        floor_pct = duty.pct
        engine_floor = max(0.0, duty.pct - mfn_pct)
        floor_scale = pct / engine_floor if engine_floor > 0 else 1.0
        text = f"{duty.pct:g}% all-in floor"
    elif duty is not None and duty.pct and x.rate_pct is not None and abs(x.rate_pct - duty.pct) > 1e-9:
        nominal, share = duty.pct, x.rate_pct / duty.pct  # a share of the value (content basis)
        text = f"{duty.pct:g}%"
    return Term(
        layer=x.layer, heading=x.heading, rate_text=text, pct=pct, nominal_pct=nominal, base_share=share,
        specific=tuple(spec), floor_pct=floor_pct, floor_scale=floor_scale, exempt=False, source=x.source,
        summary=x.summary, reason=x.reason, applies_to=x.applies_to,
    ), error


def build_formula(model: Model, revision: str, mfn_layer: Layer, mfn_rate: Rate, layers: Iterable[Layer],
                  notes: Iterable[str] = ()) -> Formula:
    """The formula of one situation from its MFN layer, parsed MFN rate and additional layers."""
    mfn, error = mfn_term(mfn_layer, mfn_rate)
    terms = [mfn]
    for x in layers:
        if x.layer == "mfn":
            continue
        t, e = additional_term(x, model, mfn.pct)
        terms.append(t)
        error = error or e
    if sum(1 for t in terms if t.floor_pct is not None) > 1:
        error = error or "more than one all-in floor applies; price this line by hand"
    terms.sort(key=lambda t: (LAYER_INDEX[t.layer], t.exempt, t.heading or ""))
    return Formula(revision=revision, terms=tuple(terms), error=error, notes=tuple(notes))


def layers_from_json(text: str) -> list[Layer]:
    """The layers of a stored stack (the panel's ``layers_json``) as :class:`Layer` values."""
    out = []
    for d in json.loads(text):
        out.append(Layer(
            layer=d["layer"], rate_pct=d["rate_pct"], specific=d["specific"], heading=d["heading"],
            revision=d["revision"], effective_from=_day(d["effective_from"]), effective_to=_day(d["effective_to"]),
            reason=d["reason"], source=d.get("source"), applies_to=d.get("applies_to"), exempt=d.get("exempt", False),
            summary=d.get("summary"),
        ))
    return out


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _unit_factor(declared: str | None, part: SpecificPart) -> float | None:
    if not declared:
        return None
    try:
        return factor(declared, part.unit)
    except BadInput:
        return None


def coefficients(f: Formula, unit1: str | None, unit2: str | None) -> Coefficients:
    """The formula for declared units: each specific part goes on the first quantity whose unit
    converts to the part's unit, else the second; a part neither converts to is an error that
    names the unit needed."""
    n = len(LAYERS)
    av, q1, q2 = [0.0] * n, [0.0] * n, [0.0] * n
    floor_layer, floor_frac, floor_scale = -1, 0.0, 1.0
    needs1: str | None = None
    needs2: str | None = None
    error = f.error
    notes: list[str] = list(f.notes)
    for t in f.terms:
        if t.exempt:
            continue
        k = LAYER_INDEX[t.layer]
        if t.floor_pct is not None:
            floor_layer, floor_frac, floor_scale = k, t.floor_pct / 100.0, t.floor_scale
        else:
            av[k] += t.pct / 100.0
        for p in t.specific:
            if p.amount_usd == 0:
                continue
            f1, f2 = _unit_factor(unit1, p), _unit_factor(unit2, p)
            where = f"{p.text} (column 1 rate of the line)" if t.layer == "mfn" else f"{p.text} ({t.layer} {t.heading})"
            basis = parse_unit(p.unit, schedule=True).basis if _known(p.unit) else None
            on = p.qualifier or (f"of {basis}" if basis else None)
            if on:
                notes.append(f"{p.text}: the quantity is taken as {p.unit} {on}")
            if f1 is not None:
                q1[k] += p.amount_usd * _tidy(f1)
                needs1 = needs1 or f"quantity missing: the duty {where} needs a quantity in {p.unit}"
            elif f2 is not None:
                q2[k] += p.amount_usd * _tidy(f2)
                needs2 = needs2 or f"quantity_2 missing: the duty {where} needs a quantity in {p.unit}"
            elif not _known(p.unit):
                error = error or f"the duty {where} is per {p.unit!r}, a unit this calculator cannot convert"
            elif not unit1 and not unit2:
                error = error or (f"quantity and unit missing: the duty {where} needs a quantity in {p.unit} "
                                  "(columns quantity and unit)")
            else:
                declared = " or ".join(u for u in (unit1, unit2) if u)
                error = error or _convert_message(declared, p.unit, where)
    return Coefficients(tuple(av), tuple(q1), tuple(q2), floor_layer, floor_frac, floor_scale,
                        needs1, needs2, error, tuple(dict.fromkeys(notes)))


def _known(unit: str) -> bool:
    try:
        parse_unit(unit, schedule=True)
    except BadInput:
        return False
    return True


def _convert_message(declared: str, unit: str, where: str) -> str:
    first = declared.split(" or ")[0]
    try:
        factor(first, unit)
    except BadInput as exc:
        return f"{exc} [{where}]"
    return f"cannot convert {declared} to {unit} for the duty {where}"  # pragma: no cover - defensive


def _tidy(x: float) -> float:
    """Conversion factors to 12 significant digits (1 lb = 0.45359237 kg, not ...0000001)."""
    return float(f"{x:.12g}")


def term_dollars(t: Term, value: float, q1: float | None, q2: float | None, unit1: str | None,
                 unit2: str | None, mfn_usd: float) -> float:
    """One term in dollars (unrounded), with the same conversions :func:`coefficients` uses."""
    if t.exempt:
        return 0.0
    if t.floor_pct is not None:
        out = max(0.0, t.floor_pct / 100.0 * value - mfn_usd) * t.floor_scale
    else:
        out = value * t.pct / 100.0
    for p in t.specific:
        f1, f2 = _unit_factor(unit1, p), _unit_factor(unit2, p)
        if f1 is not None and q1 is not None:
            out += p.amount_usd * _tidy(f1) * q1
        elif f2 is not None and q2 is not None:
            out += p.amount_usd * _tidy(f2) * q2
    return out


def describe(t: Term, value: float) -> dict[str, Any]:
    """Rate, base and citation of a term, for one calculation's table and JSON."""
    base = value * t.base_share
    return {
        "layer": t.layer, "heading": t.heading, "rate": t.rate_text, "rate_pct": t.nominal_pct,
        "specific": [p.text for p in t.specific] or None, "base_usd": cents(base),
        "base": t.applies_to or ("customs value" if t.base_share == 1.0 else f"{t.base_share:.0%} of value"),
        "exempt": t.exempt, "source": t.source, "summary": t.summary, "reason": t.reason,
        "floor_pct": t.floor_pct,
    }
