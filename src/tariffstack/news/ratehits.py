"""Percentages that are tariff rates, not trade flows or other numbers.

A number counts only when something anchors it to a tariff (a tariff noun next to it, a tariff
verb before it, an "on <goods>" phrase after it); a number that reads as a quantity is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tariffstack.news.lexicon import (
    LEFT_ANCHOR_RE,
    NUM,
    PCT_UNIT,
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


def rate_hits(s: str) -> list[RateHit]:
    """Percentages in a sentence that are tariff rates (not trade flows or other numbers)."""
    hits: list[RateHit] = []
    tariff_ctx = bool(TARIFF_RE.search(s))
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
        fm = re.match(rf"\s*,?\s*(?:up|down)?\s*from\s+(?:a|an|the)?\s*(?P<f>{NUM}){PCT_UNIT}", R, re.I)
        if fm:
            rate_from = float(fm.group("f"))
            consumed_to = m.end() + fm.end()
            for k in range(m.end(), consumed_to):
                consumed.add(k)
        if lo is not None and re.search(r"\bfrom\s+(?:a|an|the)?\s*$", Lw, re.I):
            rate_from, lo = lo, None
        if QUANTITY_AFTER_RE.match(R if consumed_to is None else s[consumed_to:consumed_to + 200]):
            continue
        anchor: tuple[int, int, str] | None = None
        ra = RIGHT_ANCHOR_RE.match(R)
        if ra and (ra.group("noun").lower() not in ("rate", "tax", "taxes", "baseline") or tariff_ctx):
            anchor = (m.start(), m.end() + ra.end(), "noun after")
        if anchor is None:
            la = LEFT_ANCHOR_RE.search(Lw)
            if la and re.search(r",\s+(?:then|and|but|while|later|before|after)\b", la.group("bridge")):
                la = None
            if la and not QUANTITY_NOUN_RE.search(la.group("bridge")) and not re.search(
                    r"\b(?:fell|rose|dropped|declined|grew|plunged)\b", la.group("bridge"), re.I):
                if la.group("noun").lower().startswith("rate") and not tariff_ctx:
                    la = None
                if la:
                    anchor = (L_off + la.start(), m.end(), "tariff noun before")
        if anchor is None and tariff_ctx:
            clause = clause_left(s, m.start(), 110)
            va = VERB_ANCHOR_RE.search(clause)
            subj = clause[: va.start()][-40:] if va else ""
            if va and not QUANTITY_NOUN_RE.search(va.group("obj")) and not QUANTITY_NOUN_RE.search(
                    subj):
                base = m.start() - len(clause_left(s, m.start(), 110))
                anchor = (base + va.start(), m.end(), "tariff verb before")
        on_target = re.match(
            r"\s*on\s+(?:the\s+)?(?:all\s+)?(?:(?!(?:January|February|March|April|May|June|July|"
            r"August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|"
            r"Saturday|Sunday)\b)[A-Z“\"]|imports|goods|products|exports)", R)
        if anchor is None and tariff_ctx and on_target:
            anchor = (m.start(), m.end(), "'on' target after")
        if anchor is None and on_target:
            im = re.search(r"\b(?:slap(?:s|ped)?|impos(?:e|es|ed)|levi(?:ed|es)|levy|put(?:s)?|"
                           r"plac(?:e|es|ed)|add(?:s|ed)?)\s+(?:(?:a|an|an\s+additional|"
                           r"another|further|extra)\s+)?$", Lw, re.I)
            if im:
                anchor = (L_off + im.start(), m.end(), "imposing verb + 'on' target")
        if anchor is None and hits:
            prev = hits[-1]
            gap = s[(prev.consumed_to or prev.end):m.start()]
            if len(gap) < 70 and re.search(r"(?:,\s*|\s)(?:and|or|with|but|while|versus|vs\.?)\s+"
                                           r"(?:(?:a|an|the|then|later|now)\s+)*$", gap) \
                    and not re.search(r"[.;]", gap):
                anchor = (m.start(), m.end(), "listed with a rate")
        if anchor is None:
            continue
        qv = QUANTITY_VERB_BEFORE_RE.search(Lw)
        if anchor[2] != "noun after" and qv and not re.search(
                rf"{TARIFF_NOUN}\s+(?:on\s+(?:[\w.’'-]+\s+){{1,4}})?$", Lw[: qv.start()], re.I):
            continue
        hits.append(RateHit(m.start(), m.end(), num, lo, pp, anchor[0], anchor[1], anchor[2],
                             rate_from, consumed_to))
    return hits
