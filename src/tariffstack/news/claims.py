"""Finding claims: each tariff rate, exemption and de minimis statement with its actor,
target, change and the day to check it."""

from __future__ import annotations

import datetime as dt
import re

from tariffstack.news.dating import MONTH_DAY_NAMES, check_day, nearest_time, time_spans
from tariffstack.news.lexicon import (
    ALL_IMPORTS_RE,
    BELOW_RE,
    CUT_RE,
    DE_MINIMIS_RE,
    END_RE,
    EXEMPT_RE,
    GOODS_NOUN,
    IMPOSE_RE,
    MEASURE_WORDS,
    MODAL_AFTER_RE,
    MODAL_VERB_RE,
    MONEY_RE,
    PRODUCT_ALT,
    RAISE_RE,
    RESTORE_RE,
    TARIFF_RE,
    THREAT_RE,
    UNIVERSAL_RE,
    clause_left,
)
from tariffstack.news.parties import Mention, mentions, products_in, resolve
from tariffstack.news.ratehits import RateHit, rate_hits
from tariffstack.news.results import (
    Actor,
    Article,
    Change,
    Claim,
    Sentence,
    Target,
    TargetKind,
    When,
)


def _target_window(s: str, a: int, width: int = 80) -> str:
    seg = s[a:a + width]
    cut = re.search(r"[;:]|\.\s*$|\s[–—]\s|,\s+(?:but|while|which|and\s+(?:said|that))\b", seg)
    return seg[: cut.start()] if cut else seg


def _target_phrase(win: str) -> int | None:
    """Length of an 'on <whom>' phrase at the start of ``win`` (for the claim's span)."""
    thing = rf"(?:{GOODS_NOUN}|{PRODUCT_ALT})"
    for rx, flags in ((rf"\s*(?:on|against)\s+[^,;]{{0,50}}?\b{thing}\b"
                       rf"(?:,?\s+(?:and|or)\s+(?:[\w.-]+\s+){{0,2}}?{thing}\b)*", re.I),
                      (r"\s*on\s+the\s+\S+\s+side\b", re.I),
                      (r"\s*(?:on|against)\s+(?:the\s+)?(?!" + MONTH_DAY_NAMES + r")[A-Z][\w’'.-]*"
                       r"(?:\s+[A-Z][\w’'.-]*)*", 0)):
        m = re.match(rx, win, flags)
        if m:
            return m.end()
    return None


def _find_target(s: str, core_a: int, core_b: int, anchor_a: int, ms: list[Mention],
                 actor_code: str | None) -> Target:
    """Whose goods or which goods: 'on X' after the rate, then the bridge, then the sentence."""
    win = _target_window(s, core_b)
    win_prods = products_in(s, core_b, core_b + len(win))
    onm = re.match(r"\s*(?:[\w-]+\s+){0,3}?(?:on|against|for)\s+"
                   r"(?P<t>(?:(?!\d{1,3}(?:\.\d+)?\s*(?:%|percent))[^,;]){0,60})", win)
    near_products = [p for p in win_prods if onm and p[0] <= core_b + onm.end()] if onm else []

    def country_in(a: int, b: int, roles: tuple[str, ...]) -> Mention | None:
        for mm in ms:
            if a <= mm.start < b and mm.code not in ("PRON", actor_code) and mm.role in roles:
                return mm
        return None

    if onm:
        t_text = onm.group("t").strip()
        t_a = core_b + onm.start("t")
        all_words = ALL_IMPORTS_RE.match(t_text) or re.match(r"(?:nearly\s+|almost\s+)?all\b",
                                                               t_text, re.I)
        if not near_products and all_words and not country_in(
                t_a, t_a + len(t_text), ("goods", "target", "other")):
            return Target("all", t_text)
        c = country_in(t_a, t_a + len(t_text), ("goods", "target", "other", "side"))
        prods = tuple(p[2] for p in near_products)
        if c or prods:
            return Target("products" if prods else "country", t_text, c.code if c else None, prods)
    # between the tariff noun/verb and the number: "tariffs on China to 145%"
    c = country_in(anchor_a, core_a, ("goods", "target"))
    bridge_prods = tuple(p[2] for p in products_in(s, anchor_a, core_a))
    if c or bridge_prods:
        return Target("products" if bridge_prods else "country", s[anchor_a:core_a].strip(),
                      c.code if c else None, bridge_prods)
    clause = clause_left(s, core_a, 120) + s[core_a:core_b] + win
    if ALL_IMPORTS_RE.search(clause):
        return Target("all", ALL_IMPORTS_RE.search(clause).group(0))  # type: ignore[union-attr]
    # anywhere in the sentence: goods/target role, nearest to the claim; products named earlier
    # in the same clause ("Microchips from China remain subject to the 20% duty") stay with it
    left = clause_left(s, core_a, 120)
    clause_prods = tuple(p[2] for p in products_in(s, core_a - len(left), core_a))
    cands = [mm for mm in ms if mm.code not in ("PRON", actor_code) and mm.role in ("goods", "target")]
    if cands:
        best = min(cands, key=lambda mm: abs(mm.start - core_a))
        return Target("products" if clause_prods else "country", best.text, best.code, clause_prods)
    if clause_prods:
        return Target("products", left.strip(), None, clause_prods)
    cands = [mm for mm in ms if mm.code not in ("PRON", actor_code) and mm.role != "actor"]
    cands = cands or [mm for mm in ms if mm.code not in ("PRON", actor_code)]
    if cands:
        best = min(cands, key=lambda mm: abs(mm.start - core_a))
        return Target("country", best.text, best.code)
    if win_prods:
        return Target("products", win.strip(), None, tuple(p[2] for p in win_prods))
    return Target("unknown", "")


def _find_actor(s: str, core_a: int, core_b: int, ms: list[Mention],
                context: str | None) -> tuple[str | None, str]:
    """Who imposes: 'on the X side', a possessive ('Trump's 145%'), 'by X', else the subject."""
    for i, mm in enumerate(ms):
        if mm.role == "side" and core_b <= mm.start <= core_b + 40:
            return resolve(ms, i, context), mm.text
    for i in range(len(ms) - 1, -1, -1):
        mm = ms[i]
        if mm.role == "actor" and core_a - 60 <= mm.start < core_a:
            return resolve(ms, i, context), mm.text
    for i, mm in enumerate(ms):
        if mm.role == "agent" and core_b <= mm.start <= core_b + 50:
            return resolve(ms, i, context), mm.text
    for i in range(len(ms) - 1, -1, -1):
        mm = ms[i]
        if mm.start < core_a and mm.role in ("subject", "actor"):
            return resolve(ms, i, context), mm.text
    for mm in ms:   # "..., the administration said"
        if mm.start >= core_b and mm.code != "PRON" and re.match(
                r"\s+(?:said|says|announced|added|told|confirmed|stated)\b", s[mm.end:]):
            return mm.code, mm.text
    return None, ""


def _actor_label(code: str | None) -> Actor:
    if code == "US":
        return "US"
    if code in ("CN", "HK", "MO"):
        return "CN"
    return "other"


def _measure(s: str, a: int, b: int) -> tuple[str, ...]:
    seg = s[max(0, a - 70):b + 50]
    return tuple(name for name, rx in MEASURE_WORDS if rx.search(seg))


def _is_forecast(s: str, anchor_a: int, core_b: int) -> bool:
    clause = clause_left(s, anchor_a, 70) + s[anchor_a:core_b]
    if MODAL_VERB_RE.search(clause) or THREAT_RE.search(clause):
        return True
    return bool(MODAL_AFTER_RE.match(s[core_b:]))


def _change_kind(s: str, anchor_a: int, core_a: int, hit: RateHit | None) -> Change:
    seg = clause_left(s, core_a, 90)
    if hit is not None and (hit.pp or re.search(r"\bby\s+(?:another\s+)?$", s[max(0, core_a - 20):core_a], re.I)):
        return "delta"
    last: tuple[int, Change] | None = None
    for rx, kind in ((RAISE_RE, "raise"), (CUT_RE, "cut"), (IMPOSE_RE, "impose")):
        for m in rx.finditer(seg):
            if last is None or m.start() > last[0]:
                last = (m.start(), kind)  # type: ignore[assignment]
    if last is None:
        return "level"
    return last[1]


def find_claims(article: Article) -> list[Claim]:
    """Every tariff claim in the article: rates, exemptions and de minimis statements, in order.

    Numbers that describe trade flows ("imports fell 20%", "a 75% to 80% drop") are not claims.
    """
    out: list[Claim] = []
    context: str | None = None
    base = article.date
    for sent in article.sentences:
        s = sent.text
        ms = mentions(s)
        times = time_spans(s, base)
        claims_here: list[Claim] = []
        # -- de minimis / low-value threshold ------------------------------------------------
        dm = _de_minimis_claim(sent, ms, times, base, context)
        if dm is not None:
            claims_here.append(dm)
        # -- rates -------------------------------------------------------------------------------
        prev_end = 0
        hits = rate_hits(s)
        used: set[int] = set()
        for k, hit in enumerate(hits):
            core_a, core_b = hit.start, hit.consumed_to or hit.end
            # time expressions used by earlier rates, or nearer the next rate, are not this one's
            nxt = hits[k + 1].start if k + 1 < len(hits) else None
            blocked = used | {i for i, (x, _y, _w) in enumerate(times)
                              if nxt is not None and x > core_b and abs(x - nxt) < abs(x - core_b)}
            code, actor_text = _find_actor(s, min(core_a, hit.anchor_start), core_b, ms, context)
            target = _find_target(s, core_a, core_b, hit.anchor_start, ms, code)
            notes: list[str] = []
            if code is None:
                if target.country == "US":
                    others = [mm.code for mm in ms if mm.code not in ("PRON", "US")]
                    code = others[0] if others else None
                elif target.kind != "unknown":
                    code = "US"
                notes.append(f"actor inferred from the target ({code or 'unknown'})")
                actor_text = actor_text or "(inferred)"
            if target.kind == "unknown" and _actor_label(code) == "CN":
                target = Target("country", "(China's tariffs fall on U.S. goods)", "US")
            if target.country == code and code is not None:
                target = Target("unknown", target.text)
            before = set(blocked)
            when = nearest_time(times, core_a, core_b, blocked)
            used |= blocked - before
            change = _change_kind(s, hit.anchor_start, core_a, hit)
            if hit.rate_from is not None and change == "level":
                change = "raise" if hit.num > hit.rate_from else "cut"
            end_b = hit.anchor_end
            tw = _target_window(s, end_b, 60)
            tm = _target_phrase(tw)
            if tm:
                end_b += tm
            end_b = max(end_b, core_b)
            span_a = min(hit.anchor_start, core_a)
            claim = Claim(
                kind="rate", start=sent.start + span_a, end=sent.start + end_b,
                fragment=s[span_a:end_b], sentence=sent, actor=_actor_label(code),
                actor_text=actor_text, actor_country=code, target=target,
                rate_pct=None if hit.lo is not None else hit.num,
                rate_from_pct=hit.rate_from,
                rate_range=(hit.lo, hit.num) if hit.lo is not None else None,
                change=change, when=when, on=check_day(when, base),
                forecast=_is_forecast(s, hit.anchor_start, core_b) or bool(when and when.future),
                universal=bool(UNIVERSAL_RE.search(s[max(prev_end, span_a - 40):end_b])),
                measure=_measure(s, span_a, end_b), notes=tuple(notes + [f"rate found by {hit.how}"]),
            )
            claims_here.append(claim)
            prev_end = end_b
        # -- exemptions ----------------------------------------------------------------------
        ex = _exemption_claim(sent, ms, times, base, context, dm is not None)
        if ex is not None:
            claims_here.append(ex)
        for c in claims_here:
            if c.actor_country:
                context = c.actor_country
        subj = [mm for mm in ms if mm.role == "subject" and mm.code != "PRON"]
        if subj:
            context = subj[-1].code
        claims_here.sort(key=lambda c: c.start)
        out.extend(claims_here)
    return out


def _de_minimis_claim(sent: Sentence, ms: list[Mention], times: list[tuple[int, int, When]],
                      base: dt.date, context: str | None) -> Claim | None:
    s = sent.text
    threshold: tuple[int, int, float] | None = None
    for m in MONEY_RE.finditer(s):
        if m.group("scale"):
            continue
        if BELOW_RE.search(s[: m.start()][-30:]) or re.match(r"\s*or\s+less\b", s[m.end():], re.I):
            threshold = (m.start(), m.end(), float(m.group("amt").replace(",", "")))
            break
    named = DE_MINIMIS_RE.search(s)
    if threshold is None and named:
        near = list(MONEY_RE.finditer(s[max(0, named.start() - 25):named.start()]))
        if near and not near[-1].group("scale"):
            off = max(0, named.start() - 25)
            threshold = (off + near[-1].start(), off + near[-1].end(),
                         float(near[-1].group("amt").replace(",", "")))
    exempt = EXEMPT_RE.search(s) or re.search(r"\b(?:duty|tax)[- ]free\b", s, re.I)
    if not named and not (threshold and exempt):
        return None
    anchor = named or exempt
    assert anchor is not None
    a = min(anchor.start(), threshold[0] if threshold else anchor.start())
    b = max(anchor.end(), threshold[1] if threshold else anchor.end())
    verbs = list(END_RE.finditer(s[max(0, a - 40):a]))
    verb = verbs[-1] if verbs else None
    if verb is not None:
        a = max(0, a - 40) + verb.start()
    after = re.match(r"^(?:\s+[\w$.,-]+){0,7}?\s+(?:" + END_RE.pattern[2:-2] + r")\b",
                     s[b:b + 50], re.I)
    if after:
        b += after.end()
    seg = s[max(0, a - 60):b]
    change: Change = "level"
    if END_RE.search(seg):
        change = "end"
    elif RESTORE_RE.search(seg):
        change = "restore"
    code, actor_text = _find_actor(s, a, b, ms, context)
    if code is None:
        code, actor_text = "US", "(inferred: de minimis is U.S. law)"
    target = Target("all", "all origins")
    for mm in ms:
        if mm.code not in ("PRON", "US") and mm.role in ("goods", "target", "other"):
            target = Target("country", mm.text, mm.code)
            break
    when = nearest_time(times, a, b, set())
    return Claim(
        kind="de_minimis", start=sent.start + a, end=sent.start + b, fragment=s[a:b], sentence=sent,
        actor=_actor_label(code), actor_text=actor_text, actor_country=code, target=target,
        change=change, threshold_usd=threshold[2] if threshold else None, when=when,
        on=check_day(when, base),
        forecast=bool(MODAL_VERB_RE.search(clause_left(s, a, 60)) or (when and when.future)),
        measure=("de minimis",),
    )


def _exemption_claim(sent: Sentence, ms: list[Mention], times: list[tuple[int, int, When]],
                     base: dt.date, context: str | None, has_de_minimis: bool) -> Claim | None:
    s = sent.text
    if has_de_minimis or not TARIFF_RE.search(s):
        return None
    m = EXEMPT_RE.search(s)
    if m is None:
        return None
    a = m.start()
    prods = products_in(s, a) or products_in(s)
    b = max([m.end()] + [p[1] for p in prods if p[0] > a])
    before = [p for p in prods if p[0] < a and not re.search(r"[;:]|\s[–—]\s", s[p[0]:a])]
    if before:   # "Smartphones and computers were exempted ..."
        a = before[0][0]
    frm = re.match(r"\s+from\s+(?:the\s+|its\s+|their\s+)?[^,;–—]{0,50}?\b"
                   r"(?:tariffs?|dut(?:y|ies)|levy|levies)\b", s[m.end():], re.I)
    if frm:
        b = max(b, m.end() + frm.end())
    code, actor_text = _find_actor(s, a, m.end(), ms, context)
    country: Mention | None = None
    for mm in ms:
        if mm.code not in ("PRON", code) and mm.role in ("goods", "target"):
            country = mm
            break
    if code is None and (country is None or country.code != "US"):
        code, actor_text = "US", "(inferred: exemption from U.S. duties)"
    if country is None and _actor_label(code) == "CN":
        tcode: str | None = "US"
        ttext = "(China's tariffs fall on U.S. goods)"
    else:
        tcode = country.code if country else None
        ttext = country.text if country else ""
    labels = tuple(p[2] for p in prods)
    kind: TargetKind = "products" if labels else ("country" if tcode else "unknown")
    goods = re.match(rf"[^,;–—]{{0,60}}?\b{GOODS_NOUN}\b", s[m.end():], re.I)
    if goods and not labels:
        b = max(b, m.end() + goods.end())
    when = nearest_time(times, a, b, set())
    forecast = bool(re.search(r"\b(?:could|might|may|would|plan(?:s|ned)?\s+to|consider(?:s|ing)?|"
                              r"seek(?:s|ing)?|ask(?:s|ed|ing)?\s+for|lobby(?:ing)?\s+for)\s+"
                              r"(?:\w+\s+){0,2}$", s[max(0, a - 80):a], re.I))
    notes = ("stated as a plan ('will')",) if re.search(r"\bwill\s+$", s[max(0, a - 10):a]) else ()
    return Claim(
        kind="exemption", start=sent.start + a, end=sent.start + b, fragment=s[a:b], sentence=sent,
        actor=_actor_label(code), actor_text=actor_text or "(unknown)", actor_country=code,
        target=Target(kind, ttext or ", ".join(labels), tcode, labels), change="exempt",
        when=when, on=check_day(when, base), forecast=forecast,
        measure=_measure(s, a, b), notes=notes,
    )
