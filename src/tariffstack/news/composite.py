"""Composite totals: "a total of 55%", "up to 245%" are sums of layers only some products pay.

On a day, every product line of the origin is counted (from the rate panel when it is built, else
from an evenly spread sample of lines through the engine): which lines reach the claimed figure,
with which layers, and what share of lines (and, with the import weights, of imports by value)
they make. A figure that a sizeable share reaches, or that the claim presents as the top of a
range ("up to", "some products"), is partly supported; one only a sliver of lines reaches while
the claim speaks of the origin's goods in general is contradicted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tariffstack.errors import TariffstackError
from tariffstack.news.context import Law
from tariffstack.news.results import CheckedClaim, Claim, Evidence, fmt
from tariffstack.news.uslaw import (
    PROBE_PREFIXES,
    TOL,
    claimed_words,
    digits_of,
    layer_evidence,
    rate_matches,
    safe_rate,
    stack_words,
)

SAMPLE_LINES = 400        # lines priced through the engine when there is no panel
MIN_SHARE = 0.10          # a general claim must hold for at least this share of lines
_SOME_RE = re.compile(r"\b(?:some|certain|several|a\s+few|particular|selected|narrow|up\s+to|"
                      r"as\s+(?:much|high)\s+as)\b", re.I)
_ADD_LAYERS = ("s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122", "s201",
               "other")


@dataclass(frozen=True)
class _Lines:
    totals: dict[str, float]          # hts10 -> total additional duty (percent)
    source: str                       # where they come from (panel or sample)


def _from_panel(law: Law, origin: str, on: dt.date) -> _Lines | None:
    if law.panel is None:
        return None
    try:
        rel = law.panel.snapshot(on, origins=[origin])
        cols = list(rel.columns)
        i_code, i_add = cols.index("hts10"), cols.index("additional_pct")
        totals = {r[i_code]: round(float(r[i_add] or 0.0), 4) for r in rel.fetchall()}
    except (TariffstackError, ValueError, AttributeError):
        return None
    return _Lines(totals, f"all {len(totals):,} HTS-10 lines of the rate panel") if totals else None


def _from_engine(law: Law, origin: str, on: dt.date) -> _Lines | None:
    prods = [p for p in law.engine.products(on) if not digits_of(p).startswith(("98", "99"))]
    if not prods:
        return None
    step = max(1, len(prods) // SAMPLE_LINES)
    totals: dict[str, float] = {}
    errors: list[str] = []
    for p in prods[::step]:
        r = safe_rate(law.engine, p, origin, on, errors)
        if r is not None:
            totals[r.hts10] = r.total_additional_pct
    return _Lines(totals, f"{len(totals)} HTS-10 lines sampled evenly from {len(prods):,}") \
        if totals else None


def _import_share(law: Law, origin: str, lines: _Lines, reach: set[str]) -> float | None:
    """Share of the origin's imports (by value) the reaching lines carry, on sector weights."""
    w = law.weights
    if w is None:
        return None
    key = ("weights", id(w))
    if key not in law.cache:
        cross = {r["hts10"]: r["gtap"] for r in w.crosswalk.to_pylist()}
        hs6: dict[str, str] = {}
        for code, g in cross.items():
            hs6.setdefault(code[:6], g)
        sectors = {(r["gtap"], r["partner"]): r["value"] for r in w.sectors.to_pylist()}
        partner = {r["iso2"]: r["partner"] for r in w.countries.to_pylist()}
        law.cache[key] = (cross, hs6, sectors, partner)
    cross, hs6, sectors, partner = law.cache[key]
    group = partner.get(origin)
    if group is None:
        return None
    sector_of = {c: cross.get(digits_of(c)) or hs6.get(digits_of(c)[:6]) for c in lines.totals}
    count: dict[str, int] = {}
    for g in sector_of.values():
        if g:
            count[g] = count.get(g, 0) + 1
    total = part = 0.0
    for code, g in sector_of.items():
        if not g:
            continue
        v = sectors.get((g, group), 0.0) / count[g]
        total += v
        if code in reach:
            part += v
    return part / total if total > 0 else None


def _example(reach: list[str]) -> str:
    return sorted(reach, key=lambda c: (not digits_of(c).startswith(PROBE_PREFIXES), c))[0]


def _shown(reach: list[str], limit: int = 20) -> tuple[str, ...]:
    """The lines to list: the example first, then a spread over the schedule."""
    ex = _example(reach)
    rest = sorted(c for c in reach if c != ex)
    step = max(1, len(rest) // (limit - 1))
    return (ex, *rest[::step][:limit - 1])


def check_composite(claim: Claim, law: Law, origin: str, scope: str) -> CheckedClaim | None:
    """Partly supported / contradicted for a total only some lines reach; None if the data for
    counting is missing."""
    lines = _from_panel(law, origin, claim.on) or _from_engine(law, origin, claim.on)
    if lines is None:
        return None
    values = lines.totals
    top = max(values.values())
    rel = claim.end - claim.sentence.start
    at_least = bool(re.match(r"\W*(?:or\s+(?:more|higher|above)|and\s+(?:up|above|higher)|plus)\b",
                             claim.sentence.text[rel:rel + 20], re.I))
    if at_least and claim.rate_pct is not None:      # "as much as 100% or more"
        reach = [c for c, v in values.items() if v >= claim.rate_pct - TOL]
    elif claim.upto and claim.rate_pct is not None and abs(top - claim.rate_pct) <= TOL:
        reach = [c for c, v in values.items() if abs(v - top) <= TOL]
    else:
        reach = [c for c, v in values.items() if rate_matches(claim, v)]
    counts: dict[float, int] = {}
    for v in values.values():
        counts[v] = counts.get(v, 0) + 1
    modal = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
    ev = [Evidence("count", f"{lines.source} for {origin} on {claim.on}: most common total "
                            f"{fmt(modal)} ({counts[modal]:,} lines), highest {fmt(top)}",
                   rate_pct=modal)]
    if not reach:
        return CheckedClaim(claim, "contradicted",
                            f"no product {scope} pays a total of {claimed_words(claim)} "
                            f"({lines.source}): most pay {fmt(modal)}, the highest is {fmt(top)}",
                            "US", tuple(ev))
    example = safe_rate(law.engine, _example(reach), origin, claim.on, [])
    layers = f"{example.hts10} {example.description[:40]}: {stack_words(example, None)}" \
        if example is not None else _example(reach)
    if example is not None:
        ev.extend(layer_evidence(example))
    share = len(reach) / len(values)
    imports = _import_share(law, origin, lines, set(reach))
    imp_words = (f", about {imports:.0%} of imports by value (estimate on GTAP sector x partner "
                 f"weights spread evenly over the lines of a sector)") if imports is not None else ""
    reached = (f"{claimed_words(claim)} is reached by {len(reach):,} of {len(values):,} lines "
               f"({share:.1%}){imp_words} {scope}, e.g. {layers}; the most common total is "
               f"{fmt(modal)} ({counts[modal]:,} lines)")
    some = bool(_SOME_RE.search(claim.sentence.text[max(0, claim.start - claim.sentence.start - 60):
                                                    claim.end - claim.sentence.start]))
    big = share >= MIN_SHARE or (imports is not None and imports >= MIN_SHARE)
    if some or big:
        return CheckedClaim(claim, "partly_supported",
                            f"partly supported: a sum of layers only some products pay: {reached}",
                            "US", tuple(ev), _shown(reach))
    return CheckedClaim(claim, "contradicted",
                        f"only a sliver of goods pays that total: {reached}", "US", tuple(ev),
                        _shown(reach))

