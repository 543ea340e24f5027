"""Looking the U.S. law up for a claim: sampled lines, product codes, layer words, timing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from tariffstack.errors import TariffstackError
from tariffstack.models import RateResult
from tariffstack.news.lexicon import PRODUCT_LOOKUP
from tariffstack.news.results import Claim, EngineLike, Evidence, clip, fmt

COUNTRY_WIDE: frozenset[str] = frozenset({"ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122"})
LAYER_LABEL: dict[str, str] = {
    "mfn": "MFN", "s301": "Section 301", "s232": "Section 232", "ieepa_fentanyl": "fentanyl",
    "ieepa_reciprocal": "reciprocal", "ieepa_other": "IEEPA other", "s122": "Section 122",
    "s201": "Section 201", "other": "other",
}
SAMPLE_CHAPTERS = 30
# lines that show the usual exemptions (electronics, 232 metals, autos, pharma); used when present
PROBE_PREFIXES = ("8517130000", "84713001", "854231", "720851", "870323", "300490", "940360")
ALL_ORIGINS = ("DE", "JP", "GB", "IN", "VN", "BR", "KR", "AU", "CN", "CA", "MX")
PRODUCT_ORIGINS = ("DE", "JP", "BR", "CN", "MX")
TOL = 0.05


def digits_of(code: str) -> str:
    return re.sub(r"\D", "", code)


def sample_codes(engine: EngineLike, on: dt.date, size: int = SAMPLE_CHAPTERS) -> list[str]:
    """A deterministic spread of HTS-10 lines: the middle line of evenly spaced chapters plus
    probe lines that exercise the well-known exemptions."""
    cache: dict[tuple[dt.date, int], list[str]] | None = getattr(engine, "samples", None)
    if cache is not None and (on, size) in cache:
        return list(cache[(on, size)])
    prods = list(engine.products(on))
    by_ch: dict[str, list[str]] = {}
    for p in prods:
        d = digits_of(p)
        if len(d) < 8 or d[:2] in ("98", "99"):
            continue
        by_ch.setdefault(d[:2], []).append(p)
    chapters = sorted(by_ch)
    step = max(1, round(len(chapters) / size)) if chapters else 1
    picked = [by_ch[ch][len(by_ch[ch]) // 2] for ch in chapters[::step]]
    ordered = sorted((digits_of(p), p) for p in prods)
    for pre in PROBE_PREFIXES:
        hit = next((p for d, p in ordered if d.startswith(pre)), None)
        if hit and hit not in picked:
            picked.append(hit)
    if cache is not None:
        cache[(on, size)] = list(picked)
    return picked


def codes_for(engine: EngineLike, labels: Sequence[str], on: dt.date,
               per_group: int = 3) -> tuple[dict[str, list[str]], list[Evidence]]:
    """HTS-10 codes for product words, through the engine's search (restricted to the group's
    headings so "chips" never lands on potato chips); falls back to the first lines in force."""
    prods: list[str] | None = None
    out: dict[str, list[str]] = {}
    ev: list[Evidence] = []
    for label in labels:
        query, prefixes = PRODUCT_LOOKUP[label]
        try:
            hits = engine.search(query, limit=40)
        except TariffstackError:
            hits = []
        codes: list[str] = []
        for h in hits:
            d = digits_of(h.hts)
            if any(d.startswith(p) for p in prefixes) and len(d) == 10 and h.hts not in codes:
                codes.append(h.hts)
            if len(codes) >= per_group:
                break
        how = f"engine search {query!r}"
        if len(codes) < per_group:
            if prods is None:
                prods = list(engine.products(on))
            for p in prods:
                d = digits_of(p)
                if any(d.startswith(x) for x in prefixes) and p not in codes:
                    codes.append(p)
                if len(codes) >= per_group:
                    break
            how += " + first lines in force under " + ", ".join(prefixes)
        out[label] = codes
        ev.append(Evidence("search", f"{label}: {', '.join(codes) or 'no codes found'} ({how})",
                           codes=tuple(codes)))
    return out, ev


def additional_value(res: RateResult, fams: frozenset[str] | None) -> float:
    return round(sum(x.rate_pct or 0.0 for x in res.layers
                     if not x.exempt and x.layer != "mfn" and (fams is None or x.layer in fams)), 4)


def families(claim: Claim) -> frozenset[str]:
    """The duty layers a claim speaks of: those its words name, or every country-wide layer for a
    combined figure or when none is named."""
    if claim.composite:
        return COUNTRY_WIDE
    named = {"fentanyl": "ieepa_fentanyl", "reciprocal": "ieepa_reciprocal",
             "baseline": "ieepa_reciprocal", "section 232": "s232", "section 301": "s301",
             "section 122": "s122"}
    fams = frozenset(named[m] for m in claim.measure if m in named)
    return fams or COUNTRY_WIDE


def stack_words(res: RateResult, fams: frozenset[str] | None) -> str:
    layers = sorted((x for x in res.layers if not x.exempt and x.layer != "mfn"
                     and (x.rate_pct or 0.0) > 0 and (fams is None or x.layer in fams)),
                    key=lambda x: -(x.rate_pct or 0.0))
    parts = [f"{fmt(x.rate_pct or 0.0)} {LAYER_LABEL.get(x.layer, x.layer)} ({x.heading})"
             for x in layers]
    return " + ".join(parts) if parts else "no additional duty"


def layer_evidence(res: RateResult) -> list[Evidence]:
    out = []
    for x in res.layers:
        if x.layer == "mfn":
            continue
        eff = x.effective_from.isoformat() if x.effective_from else "?"
        kind = "exemption" if x.exempt else "layer"
        label = LAYER_LABEL.get(x.layer, x.layer)
        what = "exempt" if x.exempt else fmt(x.rate_pct or 0.0)
        out.append(Evidence(
            kind, f"{res.hts10} from {res.origin} on {res.entry_date}: {label} {what} under "
                  f"{x.heading} ({x.revision}, in force from {eff}): {x.reason}",
            heading=x.heading, rate_pct=x.rate_pct, effective_from=x.effective_from,
            source=x.source, codes=(res.hts10,), layer=x.layer))
    return out


def exempt_words(res: RateResult) -> str:
    ex = [x for x in res.layers if x.exempt]
    if not ex:
        return stack_words(res, None)
    return "; ".join(f"{LAYER_LABEL.get(x.layer, x.layer)} exempt under {x.heading}"
                     + (f", {x.source.split(';')[0].strip()}" if x.source else "") for x in ex)


def rate_matches(claim: Claim, v: float) -> bool:
    if claim.rate_range:
        return claim.rate_range[0] - TOL <= v <= claim.rate_range[1] + TOL
    return claim.rate_pct is not None and abs(v - claim.rate_pct) <= TOL


def claimed_words(claim: Claim) -> str:
    if claim.rate_range:
        return f"{fmt(claim.rate_range[0])} to {fmt(claim.rate_range[1])}"
    return fmt(claim.rate_pct or 0.0)


def safe_rate(engine: EngineLike, code: str, origin: str, on: dt.date,
               errors: list[str]) -> RateResult | None:
    try:
        return engine.rate(code, origin, on)
    except TariffstackError as exc:
        errors.append(f"{code} {origin} {on}: {exc}")
        return None


def _since(engine: EngineLike, code: str, origin: str, on: dt.date, fams: frozenset[str] | None,
           target: float, days: int = 400) -> tuple[dt.date, float | None] | None:
    """First day of the unbroken run (ending on ``on``) where the value equals ``target``, by
    bisection, and the value the day before. Why: effective dates printed on layers can be a
    revision's modification date, so when a level began is measured, not read."""
    errs: list[str] = []

    def val(d: dt.date) -> float | None:
        r = safe_rate(engine, code, origin, d, errs)
        return None if r is None else additional_value(r, fams)

    def ok(d: dt.date) -> bool:
        v = val(d)
        return v is not None and abs(v - target) <= TOL

    if not ok(on):
        return None
    lo, hi = on - dt.timedelta(days=days), on
    if ok(lo):
        return lo, None
    while (hi - lo).days > 1:
        mid = lo + dt.timedelta(days=(hi - lo).days // 2)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi, val(hi - dt.timedelta(days=1))


def check_timing(engine: EngineLike, claim: Claim, code: str, origin: str,
            fams: frozenset[str] | None, current: float) -> tuple[bool, str, list[Evidence]]:
    """Check 'when' and 'from' of a change claim against the schedule: (ok, words, evidence)."""
    if claim.change not in ("raise", "cut", "impose", "delta") and claim.rate_from_pct is None:
        return True, "", []
    if claim.when is None and claim.rate_from_pct is None and claim.change != "delta":
        return True, "", []
    found = _since(engine, code, origin, claim.on, fams, current)
    if found is None:
        return True, "", []
    start, before = found
    ev = [Evidence("timing", f"{code} from {origin}: {fmt(current)} since {start.isoformat()}"
                   + (f", {fmt(before)} the day before" if before is not None else ""),
                   effective_from=start, codes=(code,))]
    problems: list[str] = []
    if claim.when is not None and not claim.when.future and start < claim.when.start:
        problems.append(f"the schedule shows {fmt(current)} since {start.isoformat()}, before "
                        f"'{claim.when.text}' ({claim.when.start.isoformat()} to "
                        f"{claim.when.end.isoformat()})")
    if claim.rate_from_pct is not None and before is not None and abs(before - claim.rate_from_pct) > TOL:
        problems.append(f"the rate before the change was {fmt(before)}, not {fmt(claim.rate_from_pct)}")
    if claim.change == "delta" and before is not None and claim.rate_pct is not None \
            and abs((current - before) - claim.rate_pct) > TOL:
        problems.append(f"the change on {start.isoformat()} was {current - before:+g} points")
    if problems:
        return False, "; ".join(problems), ev
    words = f"in force since {start.isoformat()}"
    if before is not None:
        words += f" (was {fmt(before)})"
    return True, words, ev


def _short_desc(res: RateResult) -> str:
    """A readable product name: the line's text, or its nearest ancestor when it says 'Other'."""
    names = [res.description, *reversed(res.path)]
    for d in names:
        d = d.strip().rstrip(":")
        if d and not d.lower().startswith("other"):
            return clip(d, 40)
    return clip(res.description, 40)


def exception_words(others: dict[float, list[RateResult]], examples: int = 3) -> list[str]:
    """'N lines pay X% (why): examples' per (rate, exempting headings) group, largest first."""
    keyed: dict[tuple[float, str], list[RateResult]] = {}
    for v, rs in others.items():
        for r in rs:
            keyed.setdefault((v, exempt_words(r)), []).append(r)
    out = []
    for (v, why), rs in sorted(keyed.items(), key=lambda kv: (-len(kv[1]), kv[0][0])):
        rs = sorted(rs, key=lambda r: (_short_desc(r).lower().startswith("other"),
                                       not any(digits_of(r.hts10).startswith(p) for p in PROBE_PREFIXES),
                                       r.hts10))
        eg = ", ".join(f"{r.hts10} {_short_desc(r)}" for r in rs[:examples])
        more = f" (+{len(rs) - examples} more)" if len(rs) > examples else ""
        n = f"{len(rs)} lines pay" if len(rs) > 1 else "1 line pays"
        out.append(f"{n} {fmt(v)} ({why}), e.g. {eg}{more}")
    return out
