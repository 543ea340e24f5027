"""Verdicts on China's claims: its 2025 notices, the product lists, and the WTO applied rates.

The across-the-board level (34%, 84%, 125%, 10%) comes from the all-goods notices; product
claims ("15% on coal and LNG", "soybeans at 13%") from China's schedule engine
(:mod:`tariffstack.engine.cn`), which stacks the WTO base rate, the product-list notices (No.1,
No.2, on the transcribed 8-digit lines where there are any) and the all-goods level; a claimed
total that includes the MFN rate is compared with that stack. What the data cannot show (the
unpublished April 2025 exemptions, the 2018-19 exclusions an importer may hold) is said so.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Sequence
from typing import Any

from tariffstack.errors import TariffstackError
from tariffstack.news.lexicon import PRODUCT_RES
from tariffstack.news.results import CheckedClaim, Claim, EngineLike, Evidence, Verdict, fmt, nc
from tariffstack.news.uslaw import TOL, claimed_words, codes_for, digits_of, rate_matches
from tariffstack.sources.china import ChinaTariffs, Notice

_SIDE = "China's side: "
_SUSPENDED_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*(?:of No\.\d+\s*)?(?:stays\s+)?suspended", re.I)
_STOP_RE = re.compile(r"stop measures of (No\.\d+)", re.I)
_ENGINES: weakref.WeakKeyDictionary[ChinaTariffs, Any] = weakref.WeakKeyDictionary()


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


def notice_days(china: ChinaTariffs, start: dt.date, end: dt.date) -> list[dt.date]:
    """Days in [start, end] on which a notice took effect: where an announcement is carried out."""
    return sorted({n.effective.date() for n in china.notices if start <= n.effective.date() <= end})


def _labels(text: str) -> set[str]:
    return {label for rx, label, _q, _p in PRODUCT_RES if rx.search(text)}


def _cn_engine(china: ChinaTariffs) -> Any:
    """China's schedule engine over the same data (built once per data set), or None."""
    if china not in _ENGINES:
        try:
            from tariffstack.engine.cn import ChinaEngine

            _ENGINES[china] = ChinaEngine(china)
        except (ImportError, TariffstackError):
            _ENGINES[china] = None
    return _ENGINES[china]


def _check_exemption(claim: Claim, china: ChinaTariffs, engine: EngineLike | None) -> CheckedClaim:
    side = _SIDE
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


def _general_holds(claim: Claim, china: ChinaTariffs, pct: float, general: str,
                   ev: list[Evidence]) -> CheckedClaim:
    side = _SIDE
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


def _check_general(claim: Claim, china: ChinaTariffs) -> CheckedClaim:
    """An across-the-board level (34%, 84%, 125%, 10%) against the all-goods notices."""
    side = _SIDE
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
        return _general_holds(claim, china, pct, general, ev)
    superseded = [china.notice(c) for c in chain
                  if (lvl := china.notice(c).general_pct) is not None and rate_matches(claim, lvl)]
    if superseded:
        n = superseded[-1]
        return CheckedClaim(claim, "partly_supported",
                            f"{side}{n.short} did set {fmt(n.general_pct or 0.0)} (effective "
                            f"{n.effective:%Y-%m-%d %H:%M} Beijing time), but {general}", "CN",
                            tuple(ev))
    return CheckedClaim(claim, "contradicted", f"{side}{general}, not {claimed_words(claim)}", "CN",
                        tuple(ev))


def _annex_rates(china: ChinaTariffs, label: str) -> list[tuple[Notice, float, str]]:
    """(notice, rate, annex words) of every product list whose words name the product group."""
    out = []
    for n in china.list_notices():
        for a in china.annexes(n):
            if label in _labels(a.summary):
                out.append((n, a.rate_pct, f"{n.short} Annex {a.annex} (+{a.rate_pct:g}%: {a.summary})"))
    return out


def _codes(china: ChinaTariffs, engine: EngineLike | None, label: str, on: dt.date) -> list[str]:
    """Codes to price: transcribed 8-digit lines of the product's category, else HS6 codes."""
    hs8 = [x.hs8 for n in china.list_notices() for a in china.annexes(n) for x in a.lines
           if label in _labels(x.category)]
    if hs8:
        return list(dict.fromkeys(hs8))[:2]
    by_label, _ev = _hs6_for(engine, [label], on)
    return by_label.get(label, [])[:2]


def _stopped(china: ChinaTariffs, n: Notice) -> Notice | None:
    return next((o for o in china.notices if (m := _STOP_RE.search(o.action))
                 and m.group(1) == n.short.rstrip("?")), None)


def _code_row(claim: Claim, china: ChinaTariffs, res: Any, label: str,
              named: list[tuple[Notice, float, str]]) -> tuple[str, str]:
    """('ok' | 'partial' | 'bad', words) for one priced code of a product group."""
    rate = claim.rate_pct if claim.rate_pct is not None else -1.0
    listed = {x.notice for x in res.layers if x.layer == "cn_list" and not x.exempt}
    in_force = [(n, r, w) for n, r, w in named if n.number in listed]
    lst = sum(r for _n, r, _w in in_force) if in_force else sum(
        x.rate_pct or 0.0 for x in res.layers if x.layer == "cn_list" and not x.exempt)
    general = sum(x.rate_pct or 0.0 for x in res.layers if x.layer == "cn_all" and not x.exempt)
    total = res.total_pct
    lists = "; ".join(w for _n, _r, w in in_force) or "no product list"
    parts = f"{label} ({res.level} {res.code}): {lists} + {fmt(general)} on all U.S. goods"
    if any(abs(rate - v) <= TOL for v in (lst, lst + general)) and (lst > 0 or general > 0):
        return "ok", parts
    if total is not None and abs(rate - total) <= TOL:
        return "ok", f"{parts}, {fmt(total)} in all with the base rate"
    if claim.all_in and total is not None and lst + general < rate < total:
        return "partial", (f"{parts}: {fmt(lst + general)} of 2025 duties; with the base "
                           f"{fmt(total - lst - general)} (MFN plus 2018-19 retaliation still "
                           f"applied, WTO) the rate is {fmt(total)}; {claimed_words(claim)} holds "
                           "only for importers excused from the 2018-19 retaliation, whom the "
                           "data cannot identify")
    gone = [(n, r, w) for n, r, w in named if abs(r - rate) <= TOL and n.number not in listed]
    if gone:
        n, _r, w = gone[0]
        stop = _stopped(china, n)
        when = (f"stopped from {stop.effective:%Y-%m-%d %H:%M} by {stop.short}" if stop
                and stop.effective.date() <= claim.on else f"in force from {n.effective:%Y-%m-%d}")
        return "bad", f"{w} set {claimed_words(claim)}, {when}; on {claim.on}: {parts}"
    return "bad", parts


def _label_row(claim: Claim, china: ChinaTariffs, cn: Any, engine: EngineLike | None,
               label: str) -> tuple[str, str, list[Evidence]]:
    """('ok' | 'partial' | 'bad' | 'none', words, evidence) for one product group of the claim."""
    named = _annex_rates(china, label)
    ev: list[Evidence] = []
    rows: list[tuple[str, str]] = []
    for code in _codes(china, engine, label, claim.on):
        try:
            res = cn.rate(code, claim.on)
        except TariffstackError:
            continue
        total = res.total_pct
        wto = res.wto or {}
        ev.append(Evidence("cn_rate", f"{label} {res.level} {res.code} on {claim.on}: "
                           + " + ".join(f"{x.layer} {fmt(x.rate_pct or 0.0)}" for x in res.layers
                                        if not x.exempt) + (f" = {fmt(total)}" if total is not None else "")
                           + f" (WTO HS6 {res.hs6}: {wto.get('best_avlbl')}% on {wto.get('date')})",
                           rate_pct=total, codes=(res.code,)))
        rows.append(_code_row(claim, china, res, label, named))
    if not rows:
        return "none", f"{label}: no code to price", ev
    kinds = {k for k, _w in rows}
    kind = "ok" if kinds == {"ok"} else "partial" if kinds & {"ok", "partial"} else "bad"
    return kind, "; ".join(dict.fromkeys(w for _k, w in rows)), ev


def _check_products(claim: Claim, china: ChinaTariffs, engine: EngineLike | None) -> CheckedClaim:
    cn = _cn_engine(china)
    if cn is None:
        return nc(claim, "CN", _SIDE + "China's schedule could not be built from the data")
    rows = [_label_row(claim, china, cn, engine, lab) for lab in claim.target.products]
    ev = [e for _k, _w, es in rows for e in es]
    priced = [r for r in rows if r[0] != "none"]
    words = "; ".join(w for _k, w, _e in rows)
    codes = tuple(c for e in ev for c in e.codes)
    if not priced:
        return nc(claim, "CN", f"{_SIDE}no product line to price: {words}", ev)
    if all(k == "ok" for k, _w, _e in priced):
        return CheckedClaim(claim, "supported", f"{_SIDE}supported on {claim.on}: {words}", "CN",
                            tuple(ev), codes)
    if any(k in ("ok", "partial") for k, _w, _e in priced):
        return CheckedClaim(claim, "partly_supported", f"{_SIDE}partly supported on {claim.on}: "
                            f"{words}", "CN", tuple(ev), codes)
    return CheckedClaim(claim, "contradicted", f"{_SIDE}not {claimed_words(claim)} on {claim.on}: "
                        f"{words}", "CN", tuple(ev), codes)


def _check_suspension(claim: Claim, china: ChinaTariffs) -> CheckedClaim:
    """"Keeps the 24% suspended": the suspension in the all-goods notices in force on the day."""
    _pct, chain = china.general_additional_pct(claim.on)
    notices = [china.notice(c) for c in chain]
    held = [(n, float(m.group(1))) for n in notices if (m := _SUSPENDED_RE.search(n.rate))]
    ev = _notice_evidence(china, [n.number for n, _v in held])
    if held and rate_matches(claim, held[-1][1]):
        n, v = held[-1]
        return CheckedClaim(claim, "supported", f"{_SIDE}supported: {fmt(v)} of China's all-goods "
                            f"tariff held suspended on {claim.on} ({n.label}: {n.rate})", "CN", tuple(ev))
    now = f"{fmt(held[-1][1])} suspended ({held[-1][0].short})" if held else "no suspension"
    return CheckedClaim(claim, "contradicted", f"{_SIDE}on {claim.on} the notices show {now}, not "
                        f"{claimed_words(claim)} suspended", "CN", tuple(ev))


def check_cn(claim: Claim, china: ChinaTariffs | None, engine: EngineLike | None) -> CheckedClaim:
    """A claim about China's tariffs on U.S. goods, on the claim's day."""
    if china is None:
        return nc(claim, "CN", _SIDE + "China's tariff data was not loaded")
    if claim.kind == "exemption":
        return _check_exemption(claim, china, engine)
    if claim.kind != "rate":
        return nc(claim, "CN", _SIDE + "only China's rate and exemption claims are checked")
    if claim.target.country not in (None, "US"):
        return nc(claim, "CN", _SIDE + f"China's tariffs on {claim.target.label()} are not in the "
                                       "data (only China's tariffs on U.S. goods)")
    if claim.change == "suspend":
        return _check_suspension(claim, china)
    if claim.target.products:
        return _check_products(claim, china, engine)
    return _check_general(claim, china)
