"""Exemption and de minimis claims ("smartphones were exempted", "the $800 exemption ended")."""

from __future__ import annotations

import datetime as dt
import re

from tariffstack.news.dating import check_day, pick_time
from tariffstack.news.lexicon import (
    BELOW_RE,
    DE_MINIMIS_RE,
    END_RE,
    EXEMPT_RE,
    GOODS_NOUN,
    MEASURE_WORDS,
    MODAL_VERB_RE,
    MONEY_RE,
    RESTORE_RE,
    TARIFF_RE,
    clause_left,
)
from tariffstack.news.parties import Mention, products_in
from tariffstack.news.results import Change, Claim, Sentence, Target, TargetKind, When
from tariffstack.news.targets import actor_label, find_actor


def measure_words(s: str, a: int, b: int) -> tuple[str, ...]:
    """The named measures ("reciprocal", "fentanyl", "section 232") near a claim."""
    right = s[b:b + 45]
    cut = re.search(r",\s+(?:combining|adding|plus|bringing|lifting|on\s+top|and|but|while)\b|"
                    r"\buntil\b|;|\s[–—]\s", right)
    seg = clause_left(s, a, 70) + s[a:b] + (right[:cut.start()] if cut else right)
    return tuple(name for name, rx in MEASURE_WORDS if rx.search(seg))


def de_minimis_claim(sent: Sentence, ms: list[Mention], times: list[tuple[int, int, When]],
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
    code, actor_text = find_actor(s, a, b, ms, context)
    if code is None:
        code, actor_text = "US", "(inferred: de minimis is U.S. law)"
    target = Target("all", "all origins")
    for mm in ms:
        if mm.code not in ("PRON", "US") and mm.role in ("goods", "target", "other"):
            target = Target("country", mm.text, mm.code)
            break
    when = pick_time(times, s, a, b, set())
    on, source = check_day(when, base)
    forecast = bool(MODAL_VERB_RE.search(clause_left(s, a, 60)) or (when and when.future))
    return Claim(
        kind="de_minimis", start=sent.start + a, end=sent.start + b, fragment=s[a:b], sentence=sent,
        actor=actor_label(code), actor_text=actor_text, actor_country=code, target=target,
        change=change, threshold_usd=threshold[2] if threshold else None, when=when,
        on=on, date_source=source, forecast=forecast, mood="announced" if forecast else "fact",
        measure=("de minimis",),
    )


def exemption_claim(sent: Sentence, ms: list[Mention], times: list[tuple[int, int, When]],
                     base: dt.date, context: str | None, has_de_minimis: bool) -> Claim | None:
    s = sent.text
    if has_de_minimis or not TARIFF_RE.search(s):
        return None
    m = next((x for x in EXEMPT_RE.finditer(s)
              if not END_RE.search(s[max(0, x.start() - 25):x.start()])), None)
    if m is None:   # none, or only "ending the exemptions": the end of one is no exemption
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
    code, actor_text = find_actor(s, a, m.end(), ms, context)
    country: Mention | None = None
    for mm in ms:
        if mm.code not in ("PRON", code) and mm.role in ("goods", "target"):
            country = mm
            break
    if code is None and context == "CN" and (country is None or country.code == "US"):
        code, actor_text = "CN", "(inferred from the sentences before)"
    if code is None and (country is None or country.code != "US"):
        code, actor_text = "US", "(inferred: exemption from U.S. duties)"
    if country is None and actor_label(code) == "CN":
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
    if not labels and not goods and country is None and not re.search(
            rf"\b{GOODS_NOUN}\b", s[max(0, a - 60):a], re.I):
        return None   # "sparing markets a return to triple-digit duties": no goods named
    when = pick_time(times, s, a, b, set())
    on, source = check_day(when, base, past=bool(re.search(r"\b(?:was|were|had)\b|\b[a-z]{3,}ed\b",
                                                          s[a:b], re.I)))
    forecast = bool(re.search(r"\b(?:could|might|may|would|plan(?:s|ned)?\s+to|consider(?:s|ing)?|"
                              r"seek(?:s|ing)?|ask(?:s|ed|ing)?\s+for|lobby(?:ing)?\s+for)\s+"
                              r"(?:\w+\s+){0,2}$", s[max(0, a - 80):a], re.I))
    notes = ("stated as a plan ('will')",) if re.search(r"\bwill\s+$", s[max(0, a - 10):a]) else ()
    return Claim(
        kind="exemption", start=sent.start + a, end=sent.start + b, fragment=s[a:b], sentence=sent,
        actor=actor_label(code), actor_text=actor_text or "(unknown)", actor_country=code,
        target=Target(kind, ttext or ", ".join(labels), tcode, labels), change="exempt",
        when=when, on=on, date_source=source, forecast=forecast,
        mood="conditional" if forecast else "fact", measure=measure_words(s, a, b), notes=notes,
    )
