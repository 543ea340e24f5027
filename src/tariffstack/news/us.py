"""Verdicts on U.S. claims: country-wide rates, product rates, all imports, exemptions and
de minimis, each from the engine's answer on the claim's day."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from tariffstack.errors import TariffstackError
from tariffstack.models import DeMinimis, RateResult
from tariffstack.news.composite import check_composite
from tariffstack.news.context import Law
from tariffstack.news.lexicon import COUNTRY_NAMES
from tariffstack.news.results import CheckedClaim, Claim, EngineLike, Evidence, Verdict, fmt, nc
from tariffstack.news.uslaw import (
    ALL_ORIGINS,
    COUNTRY_WIDE,
    LAYER_LABEL,
    PRODUCT_ORIGINS,
    additional_value,
    check_timing,
    claimed_words,
    codes_for,
    digits_of,
    exception_words,
    exempt_words,
    families,
    layer_evidence,
    rate_matches,
    safe_rate,
    sample_codes,
    stack_words,
)

_EXTRA_RE = re.compile(r"\b(?:extra|additional|further|another|penalty|surcharge)\b", re.I)


def _phrase(claim: Claim) -> str:
    """The claim's words and the few after it ("an extra 25 per cent penalty for ...")."""
    sent = claim.sentence
    return sent.text[max(0, claim.start - sent.start - 25):claim.end - sent.start + 25]


def _groups(results: list[RateResult], fams: frozenset[str], all_in: bool
            ) -> dict[float, list[RateResult]]:
    groups: dict[float, list[RateResult]] = {}
    for r in results:
        v = additional_value(r, fams)
        if all_in:
            v = round(v + (r.layers[0].rate_pct or 0.0 if r.layers and r.layers[0].layer == "mfn"
                           else 0.0), 4)
        groups.setdefault(v, []).append(r)
    return groups


def check_us_country(claim: Claim, engine: EngineLike, law: Law | None = None) -> CheckedClaim:
    origin = claim.target.country or ""
    if origin == "EU":
        origin = "DE"
    fams = families(claim)
    errors: list[str] = []
    codes = sample_codes(engine, claim.on)
    results = [r for c in codes if (r := safe_rate(engine, c, origin, claim.on, errors)) is not None]
    if not results:
        return nc(claim, "US", f"the engine could not price any sampled line: {errors[:1]}")
    groups = _groups(results, fams, False)
    modal_v, modal = max(groups.items(), key=lambda kv: (len(kv[1]), kv[0]))
    all_in = ""
    if not rate_matches(claim, modal_v):
        inc = _groups(results, fams, True)
        inc_v, inc_modal = max(inc.items(), key=lambda kv: (len(kv[1]), kv[0]))
        if rate_matches(claim, inc_v) and (claim.all_in or len(inc_modal) > len(modal)):
            groups, modal_v, modal = inc, inc_v, inc_modal
            all_in = " (MFN included: the country rate is an all-in floor)"
    if not rate_matches(claim, modal_v) and _EXTRA_RE.search(_phrase(claim)):
        layer = next((x for x in modal[0].layers if x.layer in fams and not x.exempt
                      and rate_matches(claim, x.rate_pct or 0.0)), None)
        if layer is not None:
            evidence = layer_evidence(modal[0])
            return CheckedClaim(
                claim, "supported",
                f"supported: the extra layer is {fmt(layer.rate_pct or 0.0)} under {layer.heading} "
                f"({LAYER_LABEL.get(layer.layer, layer.layer)}) on products of "
                f"{COUNTRY_NAMES.get(origin, origin)} on {claim.on.isoformat()} ({len(modal)} of "
                f"{len(results)} sampled lines), on top of the rest: {stack_words(modal[0], fams)}",
                "US", tuple(evidence), tuple(r.hts10 for r in results))
    if not rate_matches(claim, modal_v) and claim.composite and law is not None:
        name = COUNTRY_NAMES.get(origin, origin)
        got = check_composite(claim, law, origin, f"of products of {name} on {claim.on.isoformat()}")
        if got is not None:
            return got
    rep = modal[0]
    name = COUNTRY_NAMES.get(origin) or rep.origin_name or origin
    scope = f"on products of {name} on {claim.on.isoformat()}{all_in}"
    if claim.target.country == "EU":
        scope += " (Germany taken for the EU)"
    others = {v: rs for v, rs in groups.items() if v != modal_v}
    exc_words = exception_words(others)
    rep_ev = layer_evidence(rep)
    evidence = [e for e in rep_ev if e.layer in fams]
    for rs in others.values():
        evidence.extend(e for e in layer_evidence(rs[0]) if e.kind == "exemption")
    evidence.extend(e for e in rep_ev if e not in evidence)
    evidence.append(Evidence("sample", f"{len(results)} HTS-10 lines sampled from "
                                       f"{len({digits_of(r.hts10)[:2] for r in results})} chapters",
                             codes=tuple(r.hts10 for r in results)))
    stack = stack_words(rep, fams)
    share = f"{len(modal)} of {len(results)} sampled lines"
    tail = ("; product-specific duties (MFN, Section 301, Section 232) come on top and vary by product"
            if fams == COUNTRY_WIDE else "")
    exc_txt = f"; exemptions: {'; '.join(exc_words)}" if exc_words else ""
    codes_used = tuple(r.hts10 for r in results)
    if rate_matches(claim, modal_v):
        ok, twords, tev = check_timing(engine, claim, rep.hts10, origin, fams, modal_v)
        evidence.extend(tev)
        if not ok:
            return CheckedClaim(claim, "partly_supported",
                                f"rate right, timing wrong: {stack} {scope} ({share}), but {twords}",
                                "US", tuple(evidence), codes_used)
        verdict: Verdict = "partly_supported" if (claim.universal and exc_words) else "supported"
        lead = "true for most products but not all" if verdict == "partly_supported" else verdict
        when = f"; {twords}" if twords else ""
        return CheckedClaim(claim, verdict, f"{lead}: {stack} {scope} ({share}){when}{exc_txt}{tail}",
                            "US", tuple(evidence), codes_used)
    minority = [(v, rs) for v, rs in others.items() if rate_matches(claim, v)]
    if minority:
        v, rs = minority[0]
        return CheckedClaim(
            claim, "partly_supported",
            f"{claimed_words(claim)} holds only for {len(rs)} of {len(results)} sampled lines (e.g. "
            f"{rs[0].hts10}: {stack_words(rs[0], fams)}); most {scope} pay {fmt(modal_v)}: {stack}",
            "US", tuple(evidence), codes_used)
    return CheckedClaim(
        claim, "contradicted",
        f"the schedule says {fmt(modal_v)} ({stack}) {scope} ({share}), not {claimed_words(claim)}"
        f"{exc_txt}{tail}",
        "US", tuple(evidence), codes_used)


Pair = tuple[str, RateResult, list[str]]


def _outside_list(claim: Claim, pairs: list[Pair], fams: frozenset[str] | None
                  ) -> tuple[list[Pair], list[str]]:
    """Drop the lines of a product group that no product measure reaches, from any origin but
    China (whose Section 301 lists are origin-specific), unless the claim says "all": a claim
    about "the parts levy" speaks of the parts on its list."""
    allowed = fams if fams is not None else frozenset(LAYER_LABEL) - COUNTRY_WIDE - {"mfn"}
    covered = {r.hts10 for _l, r, _h in pairs if r.origin not in ("CN", "HK")
               and any(x.layer in allowed for x in r.layers)}
    if claim.universal or not covered:
        return pairs, []
    outside = sorted({r.hts10 for _l, r, _h in pairs} - covered)
    return [p for p in pairs if p[1].hts10 in covered], outside


def check_us_products(claim: Claim, engine: EngineLike) -> CheckedClaim:
    by_label, evidence = codes_for(engine, claim.target.products, claim.on)
    named: tuple[str, ...] = (claim.target.country,) if claim.target.country else PRODUCT_ORIGINS
    origins = tuple("DE" if o == "EU" else o for o in named)
    fams: frozenset[str] | None = families(claim) if claim.measure else None
    if fams == COUNTRY_WIDE:
        fams = None
    errors: list[str] = []
    pairs: list[tuple[str, RateResult, list[str]]] = []
    for label, codes in by_label.items():
        for code in codes:
            for o in origins:
                r = safe_rate(engine, code, o, claim.on, errors)
                if r is None:
                    continue
                # a claim about a product names its measure (232, 301...); only a claim about
                # one origin's product may mean the whole stack
                allowed = fams if fams is not None else (
                    frozenset(LAYER_LABEL) - COUNTRY_WIDE - {"mfn"})
                cands: dict[str, float] = {}
                for x in r.layers:
                    if x.layer in allowed and not x.exempt:
                        key = LAYER_LABEL.get(x.layer, x.layer)
                        cands[key] = cands.get(key, 0.0) + (x.rate_pct or 0.0)
                if fams is None and claim.target.country:
                    cands["IEEPA country-wide"] = additional_value(r, COUNTRY_WIDE)
                    cands["total additional"] = r.total_additional_pct
                elif fams is None and any(x.exempt and x.layer in allowed for x in r.layers):
                    # the product's own duty gives way to another (a stacking rule): what is
                    # paid instead stands for it ("25% on all steel": Mexico's 25% IEEPA)
                    cands["paid instead"] = r.total_additional_pct
                hit = [k for k, v in cands.items() if rate_matches(claim, v)]
                pairs.append((label, r, hit))
    codes_used = tuple(dict.fromkeys(c for cs in by_label.values() for c in cs))
    if not pairs:
        why = errors[0] if errors else "no HTS codes found for " + ", ".join(claim.target.products)
        return nc(claim, "US", f"could not price the products: {why}", evidence, codes_used)
    pairs, outside = _outside_list(claim, pairs, fams)
    good = [p for p in pairs if p[2]]
    lines = []
    for label, r, hit in pairs[:6]:
        lines.append(f"{label} {r.hts10} from {r.origin}: {stack_words(r, fams)}"
                     + (f" [matches: {', '.join(hit)}]" if hit else ""))
    for _, r, _ in pairs[:3]:
        evidence.extend(layer_evidence(r))
    scope = (f"on {claim.on.isoformat()} for origins {', '.join(origins)}"
             if not claim.target.country else f"on {claim.on.isoformat()}")
    detail = "; ".join(lines) + (f"; ... {len(pairs) - 6} more" if len(pairs) > 6 else "")
    if outside:
        detail += (f"; not counted: {', '.join(outside)} (no product measure on any origin: outside "
                   "the measure's product list)")
    if len(good) == len(pairs):
        return CheckedClaim(claim, "supported", f"supported {scope}: {detail}", "US",
                            tuple(evidence), codes_used)
    if good:
        return CheckedClaim(claim, "partly_supported",
                            f"{claimed_words(claim)} holds for {len(good)} of {len(pairs)} product/origin "
                            f"pairs {scope}: {detail}", "US", tuple(evidence), codes_used)
    return CheckedClaim(claim, "contradicted", f"no checked product pays {claimed_words(claim)} {scope}: "
                                               f"{detail}", "US", tuple(evidence), codes_used)


def check_us_all(claim: Claim, engine: EngineLike) -> CheckedClaim:
    fams = families(claim)
    if claim.measure == () or fams == COUNTRY_WIDE:
        fams = frozenset({"ieepa_reciprocal"}) if any(
            w in claim.fragment.lower() for w in ("baseline", "global", "universal")) else fams
    codes = sample_codes(engine, claim.on, 12)[:12]
    errors: list[str] = []
    per_origin: dict[str, float] = {}
    reps: dict[str, RateResult] = {}
    for o in ALL_ORIGINS:
        vals: Counter[float] = Counter()
        for c in codes:
            r = safe_rate(engine, c, o, claim.on, errors)
            if r is not None:
                vals[additional_value(r, fams)] += 1
                reps.setdefault(o, r)
        if vals:
            per_origin[o] = max(vals.items(), key=lambda kv: (kv[1], kv[0]))[0]
    if not per_origin:
        return nc(claim, "US", f"the engine could not price any sampled line: {errors[:1]}")
    overall = Counter(per_origin.values())
    modal_v = max(overall.items(), key=lambda kv: (kv[1], kv[0]))[0]
    exceptions = [f"{o} {fmt(v)}" for o, v in per_origin.items() if v != modal_v]
    rep = next(reps[o] for o, v in per_origin.items() if v == modal_v)
    evidence = layer_evidence(rep) + [Evidence("sample", f"{len(codes)} lines x origins "
                                                          f"{', '.join(per_origin)}",
                                                codes=tuple(codes))]
    exc = f"; other rates: {', '.join(exceptions)}" if exceptions else ""
    head = (f"{stack_words(rep, fams)} for {overall[modal_v]} of "
            f"{len(per_origin)} sampled origins on {claim.on.isoformat()}{exc}")
    if rate_matches(claim, modal_v):
        verdict: Verdict = "partly_supported" if (claim.universal and exceptions) else "supported"
        return CheckedClaim(claim, verdict, f"{verdict.replace('_', ' ')}: {head}", "US",
                            tuple(evidence), tuple(codes))
    if any(rate_matches(claim, v) for v in per_origin.values()):
        return CheckedClaim(claim, "partly_supported", f"only some origins: {head}", "US",
                            tuple(evidence), tuple(codes))
    return CheckedClaim(claim, "contradicted", f"the schedule says {head}; not {claimed_words(claim)}",
                        "US", tuple(evidence), tuple(codes))


def check_us_exemption(claim: Claim, engine: EngineLike) -> CheckedClaim:
    if not claim.target.products:
        return nc(claim, "US", "no product named: cannot tell which exemption is meant")
    by_label, evidence = codes_for(engine, claim.target.products, claim.on)
    origins = (claim.target.country,) if claim.target.country and claim.target.country != "US" \
        else ("CN",) + tuple(o for o in PRODUCT_ORIGINS if o != "CN")[:2]
    fams = families(claim)
    errors: list[str] = []
    rows: list[tuple[str, RateResult, bool]] = []
    for label, codes in by_label.items():
        for code in codes:
            for o in origins:
                r = safe_rate(engine, code, o, claim.on, errors)
                if r is not None:
                    rows.append((label, r, any(x.exempt and x.layer in fams for x in r.layers)))
    codes_used = tuple(dict.fromkeys(c for cs in by_label.values() for c in cs))
    if not rows:
        return nc(claim, "US", f"could not price the products: {errors[:1]}", evidence, codes_used)
    for _, r, _ in rows[:3]:
        evidence.extend(layer_evidence(r))
    words = "; ".join(f"{lab} {r.hts10} from {r.origin}: {exempt_words(r) if ex else 'not exempt: ' + stack_words(r, fams)}"
                      for lab, r, ex in rows[:6])
    n = sum(1 for *_, ex in rows if ex)
    if n == len(rows):
        return CheckedClaim(claim, "supported", f"supported on {claim.on.isoformat()}: {words}", "US",
                            tuple(evidence), codes_used)
    if n:
        return CheckedClaim(claim, "partly_supported", f"exempt for {n} of {len(rows)} checked lines "
                            f"on {claim.on.isoformat()}: {words}", "US", tuple(evidence), codes_used)
    return CheckedClaim(claim, "contradicted", f"no exemption found on {claim.on.isoformat()}: {words}",
                        "US", tuple(evidence), codes_used)


def check_de_minimis(claim: Claim, engine: EngineLike) -> CheckedClaim:
    origin = claim.target.country or "DE"
    who = COUNTRY_NAMES.get(origin, origin) if claim.target.country else "any origin (Germany taken)"
    value = (claim.threshold_usd or 200.0) / 2
    evidence: list[Evidence] = []

    def ask(d: dt.date) -> DeMinimis | None:
        try:
            res = engine.de_minimis(origin=origin, on=d, value_usd=value)
        except TariffstackError as exc:
            evidence.append(Evidence("de_minimis", f"{d}: {exc}"))
            return None
        evidence.append(Evidence("de_minimis", f"{d}: a ${value:g} shipment from {who}: "
                                 f"{'eligible' if res.eligible else 'not eligible'} "
                                 f"(threshold ${res.threshold_usd:g}): {res.reason}",
                                 source=res.source))
        return res

    day = claim.when.start if claim.when else claim.on
    now = ask(claim.on)
    if now is None:
        return nc(claim, "US", "the engine could not answer for that date", evidence)
    thr_note = ""
    if claim.threshold_usd is not None and abs(now.threshold_usd - claim.threshold_usd) > 0.5:
        thr_note = f"; the threshold is ${now.threshold_usd:g}, not ${claim.threshold_usd:g}"
    if claim.change == "end":
        before = ask(day - dt.timedelta(days=1))
        if now.eligible:
            return CheckedClaim(claim, "contradicted",
                                f"on {claim.on} a ${value:g} shipment from {who} still enters free "
                                f"under de minimis (${now.threshold_usd:g}){thr_note}", "US",
                                tuple(evidence))
        if before is not None and before.eligible:
            return CheckedClaim(claim, "partly_supported" if thr_note else "supported",
                                f"de minimis for {who} ended on {day.isoformat()}: eligible on "
                                f"{(day - dt.timedelta(days=1)).isoformat()}, not on "
                                f"{claim.on.isoformat()} ({now.source}){thr_note}", "US",
                                tuple(evidence))
        return CheckedClaim(claim, "partly_supported",
                            f"de minimis for {who} is closed on {claim.on}, but it was already "
                            f"closed on {(day - dt.timedelta(days=1)).isoformat()} (before "
                            f"'{claim.when.text if claim.when else claim.on}'){thr_note}", "US",
                            tuple(evidence))
    if claim.change == "restore" or claim.change == "level":
        verdict: Verdict = "supported" if now.eligible else "contradicted"
        return CheckedClaim(claim, "partly_supported" if (verdict == "supported" and thr_note) else verdict,
                            f"on {claim.on} a ${value:g} shipment from {who} is "
                            f"{'eligible' if now.eligible else 'not eligible'} for de minimis "
                            f"({now.reason}){thr_note}", "US", tuple(evidence))
    return nc(claim, "US", "unrecognised de minimis statement", evidence)
