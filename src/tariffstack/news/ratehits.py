"""Percentages that are tariff rates, not trade flows or other numbers.

A number counts only when something anchors it to a tariff (a tariff noun next to it, a tariff
verb before it, an "on <goods>" phrase after it); a number that reads as a quantity is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tariffstack.news.lexicon import (
    ESTIMATE_RE,
    LEFT_ANCHOR_RE,
    NUM,
    PAY_ANCHOR_RE,
    PCT_UNIT,
    PRODUCT_ALT,
    QUANTITY_AFTER_RE,
    QUANTITY_NOUN_RE,
    QUANTITY_VERB_BEFORE_RE,
    RATE_RE,
    RIGHT_ANCHOR_RE,
    TARIFF_NOUN,
    TARIFF_RE,
    VERB_ANCHOR_RE,
    clause_left,
)


@dataclass
class RateHit:
    start: int               # rate number span in the sentence
    end: int
    num: float
    lo: float | None
    pp: bool
    anchor_start: int        # where the claim phrase starts (tariff noun or verb)
    anchor_end: int
    how: str
    rate_from: float | None = None
    consumed_to: int | None = None   # end of a trailing "from X%" that belongs to this hit
    extra: dict[str, Any] = field(default_factory=dict)


# rates that are not tariffs: "mortgage rates rose to 7%"
_OTHER_RATE_RE = re.compile(r"\b(?:mortgage|interest|unemployment|jobless|inflation|exchange|savings|"
                            r"growth|participation|vacancy|approval|income\s+tax|policy|lending|"
                            r"deposit|bond|discount|repo|birth|poverty|tax)\s+$", re.I)
# a country's possessive right before: "Vietnam's 46 percent rate", "India's rate will be"
_OWNER_RE = re.compile(r"\b(?:[A-Z][a-z]+|U\.S\.|EU)(?:\s+[A-Z][a-z]+)?['’]s\s+$")


def _anchor(s: str, m: re.Match[str], tariff_ctx: bool,
            hits: list[RateHit]) -> tuple[int, int, str] | None:
    """What ties the number at ``m`` to a tariff: (claim start, claim end, which rule), or None."""
    L_off = max(0, m.start() - 110)
    Lw, R = s[L_off:m.start()], s[m.end():m.end() + 200]
    anchor: tuple[int, int, str] | None = None
    ra = RIGHT_ANCHOR_RE.match(R)
    owner = bool(_OWNER_RE.search(Lw))       # "Vietnam's 46 percent rate", "India's rate will be"
    if ra and (ra.group("noun").lower() not in ("rate", "tax", "taxes", "charge", "penalty",
                                                 "penalties") or tariff_ctx or owner):
        anchor = (m.start(), m.end() + ra.end(), "noun after")
    pa = PAY_ANCHOR_RE.search(Lw) if anchor is None else None
    if pa and (pa.group("verb").lower().startswith(("pa", "fac")) or tariff_ctx):
        anchor = (L_off + pa.start(), m.end(), "'pays' before")
    if anchor is None:
        la = LEFT_ANCHOR_RE.search(Lw)
        if la and re.search(r",\s+(?:then|and|but|while|later|before|after)\b", la.group("bridge")):
            la = None
        if la and not QUANTITY_NOUN_RE.search(la.group("bridge")) and not re.search(
                r"\b(?:fell|rose|dropped|declined|grew|plunged)\b", la.group("bridge"), re.I):
            if la.group("noun").lower().startswith("rate") and (
                    (not tariff_ctx and not _OWNER_RE.search(Lw[:la.start()] + " "))
                    or _OTHER_RATE_RE.search(Lw[:la.start()])):
                la = None
            if la:
                anchor = (L_off + la.start(), m.end(), "tariff noun before")
    if anchor is None and tariff_ctx:
        clause = clause_left(s, m.start(), 110)
        # the verb nearest the number: "pay, lifting the total to" is anchored by "lifting"
        va = next((v for pos in reversed([w.start() for w in re.finditer(r"\b\w", clause)])
                   if (v := VERB_ANCHOR_RE.match(clause, pos))), None)
        subj = clause[: va.start()][-40:] if va else ""
        if va and not QUANTITY_NOUN_RE.search(va.group("obj")) and not QUANTITY_NOUN_RE.search(
                subj) and not _OTHER_RATE_RE.search(subj + " ") and not re.search(
                r"\b(?:unemployment|inflation|mortgage|interest|jobless)\b", subj, re.I):
            base = m.start() - len(clause_left(s, m.start(), 110))
            anchor = (base + va.start(), m.end(), "tariff verb before")
    on_target = bool(re.match(
        r"\s*on\s+(?:the\s+)?(?:all\s+)?(?:(?!(?:January|February|March|April|May|June|July|"
        r"August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|"
        r"Saturday|Sunday)\b)[A-Z“\"]|imports|goods|products|exports)", R)) or bool(re.match(
            rf"\s*on\s+(?:(?:U\.S\.|American|Chinese|imported)\s+)?(?:{PRODUCT_ALT})(?![\w])", R, re.I))
    if anchor is None and tariff_ctx and on_target:
        anchor = (m.start(), m.end(), "'on' target after")
    if anchor is None and on_target:
        im = re.search(r"\b(?:slap(?:s|ped)?|impos(?:e|es|ed)|levi(?:ed|es)|levy|put(?:s)?|"
                       r"plac(?:e|es|ed)|add(?:s|ed)?|charg(?:e|es|ed|ing))\s+(?:(?:a|an|an\s+additional|"
                       r"another|further|extra)\s+)?$", Lw, re.I)
        if im:
            anchor = (L_off + im.start(), m.end(), "imposing verb + 'on' target")
    if anchor is None and hits:
        prev = hits[-1]
        gap = s[(prev.consumed_to or prev.end):m.start()]
        if len(gap) < 70 and re.search(r"(?:,\s*|\s)(?:and|or|with|but|while|versus|vs\.?)\s+"
                                       r"(?:(?:a|an|the|then|later|now)\s+)*"
                                       r"(?:[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)?['’]s\s+)?$", gap) \
                and not re.search(r"[.;]", gap):
            anchor = (m.start(), m.end(), "listed with a rate")
    return anchor


def rate_hits(s: str, context: bool = False) -> list[RateHit]:
    """Percentages in a sentence that are tariff rates (not trade flows or other numbers).

    ``context``: the sentence before spoke of tariffs, so "rate" and tariff verbs count here too
    ("Vietnam's rate will be 20%" after "New U.S. tariff rates ... take effect").
    """
    hits: list[RateHit] = []
    tariff_ctx = bool(TARIFF_RE.search(s)) or context
    consumed: set[int] = set()
    for m in RATE_RE.finditer(s):
        if m.start() in consumed:
            continue
        num = float(m.group("num"))
        lo = float(m.group("lo")) if m.group("lo") else None
        pp = "point" in m.group("unit").lower()
        L_off = max(0, m.start() - 110)
        Lw, R = s[L_off:m.start()], s[m.end():m.end() + 200]
        rate_from: float | None = None
        consumed_to: int | None = None
        fm = re.match(rf"\s*,?\s*(?:up|down)?\s*from\s+(?:a|an|the)?\s*(?P<f>{NUM}){PCT_UNIT}", R, re.I) \
            or re.match(rf"\s*(?:[\w-]+\s+){{0,2}}?(?:tariffs?|dut(?:y|ies)|levy|levies|rate)\s*,?\s*"
                        rf"(?:up|down)\s+from\s+(?:a|an|the)?\s*(?P<f>{NUM}){PCT_UNIT}", R, re.I)
        if fm:
            rate_from = float(fm.group("f"))
            consumed_to = m.end() + fm.end()
            for k in range(m.end(), consumed_to):
                consumed.add(k)
        if lo is not None and re.search(r"\bfrom\s+(?:a|an|the)?\s*$", Lw, re.I):
            rate_from, lo = lo, None
        if QUANTITY_AFTER_RE.match(R if consumed_to is None else s[consumed_to:consumed_to + 200]):
            continue
        if ESTIMATE_RE.search(clause_left(s, m.start(), 60)):
            continue   # "the average effective tariff rate would jump to about 22%": an estimate
        anchor = _anchor(s, m, tariff_ctx, hits)
        if anchor is None:
            continue
        qv = QUANTITY_VERB_BEFORE_RE.search(Lw)
        if anchor[2] != "noun after" and qv and not re.search(
                rf"{TARIFF_NOUN}\s+(?:on\s+(?:[\w.’'-]+\s+){{1,4}})?$", Lw[: qv.start()], re.I):
            continue
        hits.append(RateHit(m.start(), m.end(), num, lo, pp, anchor[0], anchor[1], anchor[2],
                             rate_from, consumed_to))
    return hits
