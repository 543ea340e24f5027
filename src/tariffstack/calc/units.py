"""Units of quantity: the schedule's (``2.2¢/kg``, ``$1.35/doz.``) and the ones importers declare.

A specific duty is an amount per unit of the schedule; the importer declares a quantity in
whatever unit its invoice uses. Physical units (mass, volume, area, length) convert with pint;
counts, pairs, proof liters, clean kilograms, jewels and packs are kept as separate dimensions
so that, for example, pairs never silently become kilograms or pieces. A pair is not two
pieces for duty purposes: the schedule taxes the pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import pint

from tariffstack.errors import BadInput

# dimensions the schedule uses that are not physical; names carry a prefix so that pint's own
# definitions (dozen, gross, pair in some versions) never shadow them
_DEFINITIONS = """
hts_piece = [hts_count]
hts_dozen = 12 * hts_piece
hts_gross = 144 * hts_piece
hts_hundred = 100 * hts_piece
hts_thousand = 1000 * hts_piece
hts_pair = [hts_pairs]
hts_dozen_pairs = 12 * hts_pair
hts_proof_liter = [hts_proof_volume]
hts_proof_gallon = 3.785411784 * hts_proof_liter
hts_clean_kilogram = [hts_clean_mass]
hts_clean_pound = 0.45359237 * hts_clean_kilogram
hts_jewel = [hts_jewels]
hts_pack = [hts_packs]
hts_line_gross = [hts_line_gross_dim]
hts_carat = 0.2 * gram
"""

# what people write -> a pint expression (lower-cased, spaces and final dots trimmed)
_ALIASES: dict[str, str] = {
    **dict.fromkeys(("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"), "kilogram"),
    **dict.fromkeys(("g", "gr", "gram", "grams"), "gram"),
    **dict.fromkeys(("mg", "milligram", "milligrams"), "milligram"),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), "pound"),
    **dict.fromkeys(("oz", "ounce", "ounces"), "ounce"),
    **dict.fromkeys(("t", "mt", "tonne", "tonnes", "metric ton", "metric tons"), "metric_ton"),
    **dict.fromkeys(("short ton", "short tons", "short_ton"), "short_ton"),
    **dict.fromkeys(("long ton", "long tons", "long_ton"), "long_ton"),
    **dict.fromkeys(("l", "liter", "liters", "litre", "litres", "ltr"), "liter"),
    **dict.fromkeys(("ml", "milliliter", "milliliters", "millilitre"), "milliliter"),
    **dict.fromkeys(("hl", "hectoliter", "hectoliters"), "hectoliter"),
    **dict.fromkeys(("gal", "gallon", "gallons"), "gallon"),
    **dict.fromkeys(("bbl", "barrel", "barrels"), "oil_barrel"),  # ch. 27: 42 U.S. gallons
    **dict.fromkeys(("m3", "m³", "cbm", "cubic meter", "cubic meters"), "meter ** 3"),
    **dict.fromkeys(("thousand m3", "1000 m3"), "1000 * meter ** 3"),
    **dict.fromkeys(("ft3", "cubic foot", "cubic feet"), "foot ** 3"),
    **dict.fromkeys(("m2", "m²", "sqm", "square meter", "square meters"), "meter ** 2"),
    **dict.fromkeys(("cm2", "cm²"), "centimeter ** 2"),
    **dict.fromkeys(("ft2", "sqft", "square foot", "square feet"), "foot ** 2"),
    **dict.fromkeys(("m", "lin. m", "lin m", "meter", "meters", "metre", "metres"), "meter"),
    **dict.fromkeys(("cm",), "centimeter"),
    **dict.fromkeys(("ft", "foot", "feet"), "foot"),
    **dict.fromkeys(("yd", "yard", "yards"), "yard"),
    **dict.fromkeys(("no", "no.", "nos", "pcs", "pc", "piece", "pieces", "each", "ea", "u", "unit",
                     "units", "article", "articles", "head", "number", "item", "items",
                     "other piece or part"), "hts_piece"),
    **dict.fromkeys(("doz", "doz.", "dozen", "dozens", "dz", "dz pcs"), "hts_dozen"),
    **dict.fromkeys(("gross",), "hts_gross"),
    **dict.fromkeys(("hundred", "hundreds"), "hts_hundred"),
    **dict.fromkeys(("thousand", "thousands", "1000", "1,000", "1,000 pins", "1000 pins"), "hts_thousand"),
    **dict.fromkeys(("pr", "pr.", "prs", "prs.", "pair", "pairs"), "hts_pair"),
    **dict.fromkeys(("dpr", "dpr.", "doz. prs.", "doz prs", "dozen pairs"), "hts_dozen_pairs"),
    **dict.fromkeys(("pf. liter", "pf. liters", "pf.liters", "pf liter", "pfl", "proof liter",
                     "proof liters", "proof litre"), "hts_proof_liter"),
    **dict.fromkeys(("pf. gal", "proof gallon", "proof gallons", "pfgal"), "hts_proof_gallon"),
    **dict.fromkeys(("clean kg", "cl kg", "clean kilogram"), "hts_clean_kilogram"),
    **dict.fromkeys(("clean lb", "clean pound"), "hts_clean_pound"),
    **dict.fromkeys(("jewel", "jewels", "jwls", "jwls."), "hts_jewel"),
    **dict.fromkeys(("pack", "packs"), "hts_pack"),
    **dict.fromkeys(("line/gross",), "hts_line_gross"),
    **dict.fromkeys(("carat", "carats", "ct"), "hts_carat"),
}

# a schedule unit that names what the quantity is measured on ("kg of total sugars")
_BASIS_RE = re.compile(r"^(?P<unit>.+?)\s+of\s+(?P<basis>.+)$", re.IGNORECASE)

UNIT_HELP = ("kg, g, lb, oz, t, l, ml, gal, bbl, m, m2, m3, ft, no (pieces), doz, gross, "
             "thousand, prs (pairs), dpr, pf. liter, clean kg, jewel, pack")


@cache
def registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    ureg: pint.UnitRegistry = pint.UnitRegistry()  # type: ignore[type-arg]
    for line in _DEFINITIONS.strip().splitlines():
        ureg.define(line)
    return ureg


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit as understood: its text, the pint expression, and what it is measured on."""

    text: str
    expr: str
    basis: str | None = None        # "total sugars", "recording surface": the quantity's basis
    dimension: str = ""             # for messages ("mass", "pairs")


def _dimension(expr: str) -> str:
    dim = str(registry().parse_expression(expr).dimensionality)
    names = {"[mass]": "mass", "[length] ** 3": "volume", "[length] ** 2": "area", "[length]": "length",
             "[hts_count]": "number of pieces", "[hts_pairs]": "pairs", "[hts_proof_volume]": "proof volume",
             "[hts_clean_mass]": "clean mass", "[hts_jewels]": "jewels", "[hts_packs]": "packs",
             "[hts_line_gross_dim]": "line/gross"}
    return names.get(dim, dim)


@lru_cache(maxsize=4096)
def parse_unit(text: str, *, schedule: bool = False) -> Unit:
    """A declared unit (``kg``, ``prs``, ``pf. liter``) or a schedule unit, or a specific error.

    Schedule units may name their basis (``kg of total sugars``, ``m2 of recording surface``);
    the basis is kept so that the caller can say the quantity must be measured on it.
    """
    raw = (text or "").strip()
    key = _key(raw).rstrip(":;,")
    if not key:
        raise BadInput(f"no unit given: use one of {UNIT_HELP}")
    basis = None
    expr = _ALIASES.get(key) or _ALIASES.get(key.rstrip("."))
    if expr is None and schedule:
        m = _BASIS_RE.match(key)
        if m is not None:
            inner = m["unit"].strip()
            expr = _ALIASES.get(inner) or _ALIASES.get(inner.rstrip("."))
            basis = m["basis"].strip()
    if expr is None:
        raise BadInput(f"unknown unit {raw!r}: use one of {UNIT_HELP}")
    return Unit(text=raw, expr=expr, basis=basis, dimension=_dimension(expr))


@lru_cache(maxsize=16384)
def factor(declared: str, schedule_unit: str) -> float:
    """How many schedule units one declared unit is (1 lb -> 0.45359237 kg), or an error that
    names both units and their dimensions."""
    d = parse_unit(declared)
    s = parse_unit(schedule_unit, schedule=True)
    ureg = registry()
    try:
        return float(ureg.Quantity(1.0, d.expr).to(s.expr).magnitude)
    except pint.DimensionalityError as exc:
        raise BadInput(
            f"cannot convert {d.text} ({d.dimension}) to {schedule_unit} ({s.dimension}), the unit of "
            f"the specific duty: give the quantity in {schedule_unit} (or a unit of {s.dimension})"
        ) from exc
