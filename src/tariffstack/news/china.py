"""Verdicts on China's claims, from its 2025 notices and the WTO applied rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tariffstack.errors import TariffstackError
from tariffstack.news.results import CheckedClaim, Claim, EngineLike, Evidence, Verdict, fmt, nc
from tariffstack.news.uslaw import TOL, claimed_words, codes_for, digits_of, rate_matches
from tariffstack.sources.china import ChinaTariffs


def _hs6_for(engine: EngineLike | None, labels: Sequence[str], on: dt.date) -> tuple[
        dict[str, list[str]], list[Evidence]]:
    """HS6 codes for product words: the first 6 digits of the U.S. engine's hits (HS6 is shared)."""
    if engine is None:
        return {lab: [] for lab in labels}, []
    by_label, ev = codes_for(engine, labels, on)
    return {lab: list(dict.fromkeys(digits_of(c)[:6] for c in cs)) for lab, cs in by_label.items()}, ev


def _notice_evidence(china: ChinaTariffs, numbers: Sequence[str]) -> list[Evidence]:
    out = []
    for num in numbers:
        n = china.notice(num)
        out.append(Evidence("notice", f"{n.label}: {n.action}, {n.rate}; scope: {n.scope}; "
                                      f"later: {n.later_status}; number: {n.number_confidence}",
                            rate_pct=n.general_pct, effective_from=n.effective.date(),
                            source=n.sources[0] if n.sources else None))
    return out


def check_cn(claim: Claim, china: ChinaTariffs | None, engine: EngineLike | None) -> CheckedClaim:
    side = "China's side: "
    if china is None:
        return nc(claim, "CN", side + "China's tariff data was not loaded")
    if claim.kind == "exemption":
        facts = china.exemptions
        ev = [Evidence("press", facts.summary, source=facts.source)]
        by_label, sev = _hs6_for(engine, claim.target.products, claim.on)
        ev.extend(sev)
        wto_words = []
        for label, codes in by_label.items():
            for code in codes[:2]:
                try:
                    now = china.applied_rate(code, claim.on)
                    base_d = china.base_date_for_general()
                    base = china.applied_rate(code, base_d) if base_d else None
                except TariffstackError:
                    continue
                txt = (f"HS6 {code} ({label}): WTO applied rate {now.best_avlbl_pct}% on "
                       f"{now.data_date}" + (f" vs {base.best_avlbl_pct}% on {base.data_date}"
                                             if base else ""))
                wto_words.append(txt)
                ev.append(Evidence("wto", txt, rate_pct=now.best_avlbl_pct, codes=(code,)))
        published = "was never officially published" if not facts.officially_published \
            else "is published"
        expl = (f"{side}not checkable against official data: China's April 2025 exemption list "
                f"{published} (press only: {', '.join(facts.press_sources)}; reported ~131 items "
                f"incl. {', '.join(facts.reported_categories)}); the WTO applied rates do not "
                "reflect it")
        if wto_words:
            expl += " (" + "; ".join(wto_words[:3]) + ")"
        return CheckedClaim(claim, "not_checkable", expl, "CN", tuple(ev),
                            tuple(c for cs in by_label.values() for c in cs))
    if claim.forecast:
        when = "" if claim.when and claim.when.future else f" on {claim.on}"
        return nc(claim, "CN", side + "a forecast or conditional statement, not a statement of law "
                                       f"in force{when}")
    if claim.kind != "rate":
        return nc(claim, "CN", side + "only China's rate and exemption claims are checked")
    if claim.target.country not in (None, "US"):
        return nc(claim, "CN", side + f"China's tariffs on {claim.target.label()} are not in the data "
                                        "(only China's tariffs on U.S. goods)")
    pct, chain = china.general_additional_pct(claim.on)
    ev = _notice_evidence(china, chain)
    base_d = china.base_date_for_general()
    if pct > 0 and base_d is not None:
        try:
            hits, total = china.count_rises(pct, base_d, claim.on)
            d1 = china.wto_date_on(claim.on)
            ev.append(Evidence("wto", f"WTO applied rates: {hits:,} of {total:,} HS6 lines are "
                                      f"{pct:g} points higher on {d1} than on {base_d}",
                               rate_pct=pct))
        except TariffstackError:
            pass
    last = china.notice(chain[-1]).short if chain else "none"
    general = (f"China's additional tariff on all U.S. goods was {fmt(pct)} on {claim.on} "
               f"(latest notice {last}; chain: "
               + ", ".join(china.notice(c).short for c in chain) + ")") if chain else \
        f"China had no across-the-board tariff on U.S. goods on {claim.on}"
    if rate_matches(claim, pct):
        ok, twords = True, ""
        if claim.when is not None and claim.change in ("raise", "cut", "impose") and not claim.when.future:
            before, _ = china.general_additional_pct(claim.when.start - dt.timedelta(days=1))
            if abs(before - pct) <= TOL:
                ok = False
                start = next((d for d, v, _n in reversed(china.general_history()) if d <= claim.on), None)
                twords = (f"it was already {fmt(pct)} on {claim.when.start - dt.timedelta(days=1)}"
                          + (f" (since {start})" if start else ""))
        if claim.rate_from_pct is not None:
            hist = [(d, v) for d, v, _n in china.general_history() if d <= claim.on]
            prev = hist[-2][1] if len(hist) >= 2 else 0.0
            if abs(prev - claim.rate_from_pct) > TOL:
                ok, twords = False, f"the level before was {fmt(prev)}, not {fmt(claim.rate_from_pct)}"
        verdict: Verdict = "supported" if ok else "partly_supported"
        expl = f"{side}{verdict.replace('_', ' ')}: {general}" + (f"; but {twords}" if twords else "")
        expl += "; unpublished April 2025 exemptions (press reports) not reflected"
        return CheckedClaim(claim, verdict, expl, "CN", tuple(ev))
    superseded = [china.notice(c) for c in chain
                  if (lvl := china.notice(c).general_pct) is not None and rate_matches(claim, lvl)]
    if superseded:
        n = superseded[-1]
        return CheckedClaim(claim, "partly_supported",
                            f"{side}{n.short} did set {fmt(n.general_pct or 0.0)} (effective "
                            f"{n.effective:%Y-%m-%d %H:%M} Beijing time), but {general}", "CN",
                            tuple(ev))
    if claim.target.products and engine is not None:
        by_label, sev = _hs6_for(engine, claim.target.products, claim.on)
        ev.extend(sev)
        first = china.wto_dates[0]
        rows = []
        for label, codes in by_label.items():
            for code in codes[:3]:
                try:
                    a, b = china.applied_rate(code, first), china.applied_rate(code, claim.on)
                except TariffstackError:
                    continue
                if a.best_avlbl_pct is None or b.best_avlbl_pct is None:
                    continue
                rise = b.best_avlbl_pct - a.best_avlbl_pct
                rows.append((label, code, rise))
                ev.append(Evidence("wto", f"HS6 {code} ({label}): applied {b.best_avlbl_pct}% on "
                                          f"{b.data_date} vs {a.best_avlbl_pct}% on {a.data_date}",
                                   rate_pct=rise, codes=(code,)))
        good = [r for r in rows if rate_matches(claim, r[2])]
        words = "; ".join(f"{lab} {c}: {r:+g} points" for lab, c, r in rows)
        if rows and len(good) == len(rows):
            return CheckedClaim(claim, "supported", f"{side}supported by WTO applied rates: {words}",
                                "CN", tuple(ev))
        if good:
            return CheckedClaim(claim, "partly_supported", f"{side}WTO applied rates rose by "
                                f"{claimed_words(claim)} for some lines only: {words}", "CN", tuple(ev))
    return CheckedClaim(claim, "contradicted", f"{side}{general}, not {claimed_words(claim)}", "CN",
                        tuple(ev))
