"""Who is named in a sentence, in which grammatical role, and which product groups."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tariffstack.news.lexicon import GOODS_NOUN, MASK_RE, PARTY_RES, PRODUCT_RES, PRONOUN_RE


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    code: str          # ISO alpha-2, "EU", or "PRON"
    text: str
    role: str          # side | goods | actor | target | subject | agent | other


_SUBJECT_AFTER_RE = re.compile(
    r"^\s*(?:,[^,]{0,40},\s*)?(?:(?:[“\"]?(?:has|have|had|also|then|later|quickly|quietly|swiftly|"
    r"recently|reportedly|already|now|again|just|officially|is|was|were|are|will|would|could|may|"
    r"might|on\s+\w+day|last\s+\w+|this\s+\w+)[”\"]?)\s+)*"
    r"(?:(?:trade\s+|commerce\s+|finance\s+|foreign\s+)?(?:spokes(?:man|woman|person)|officials?|"
    r"ministry|commission|administration|government|envoy|negotiators?|aides?|order|proclamation)\s+)?"
    r"(?:[a-z]+(?:ed|es)|[a-z]{2,}s|responded|retaliated|hit|put|set|cut|said|says|announced|"
    r"slapped|imposed|raised|hiked|made|took|gave|sought|began|brought|struck|won|kept)\b"
)
_FACES_RE = re.compile(
    r"^(?:['’]s\s+\w+)?\s*(?:(?:now|also|already|still|will|would|could|may|might|is|was|were|are|"
    r"has\s+been|have\s+been)\s+)*(?:fac(?:e|es|ed|ing)|pay(?:s|ing)?|paid|hit\s+(?:with|by)|"
    r"subject(?:ed)?\s+to)\b"
)
_GOODS_AFTER_RE = re.compile(
    rf"^(?:['’]s)?(?:[-‐](?:made|origin))?\s+(?:[a-z]+\s+)?{GOODS_NOUN}\b", re.I
)
# "a 25% U.S. tariff", "a 15% Chinese tariff", "30% U.S. duties": the adjective names who imposes
_ADJ_ACTOR_RE = re.compile(
    r"^\s+(?:(?:additional|extra|retaliatory|reciprocal|new|combined|overall|total|import|"
    r"counter|punitive)\s+)?(?:tariffs?|dut(?:y|ies)|levy|levies|rate|counter-?tariffs?|"
    r"import\s+tax(?:es)?)\b", re.I)
# "India's 25%", "Vietnam's 46 percent rate", "Vietnam's rate will be": the rate a country pays
_POSSESSIVE_RATE_RE = re.compile(
    r"^['’]s?\s+(?:\d{1,3}(?:\.\d+)?\s*(?:%|-?\s*percent|per\s*cent)(?!\s+(?:[\w-]+\s+){0,2}?"
    r"(?:tariffs?|dut(?:y|ies)|levy|levies|retaliat))|(?!(?:[\w-]+\s+){0,2}?(?:retaliat|counter))"
    r"(?:[\w-]+\s+){0,2}?rates?\b|(?:[\w-]+\s+)?(?:fentanyl|reciprocal|baseline|section\s+\d+)\b)",
    re.I)
_TARGET_BEFORE_RE = re.compile(
    r"\b(?:on|against|from|for|targeting|targets|targeted|of|single|singled|singling)\s+(?:the\s+)?"
    r"(?:(?:goods|imports|products|shipments|exports)\s+(?:\w+\s+)?from\s+)?$",
    re.I,
)


def mentions(s: str) -> list[Mention]:
    """Parties and pronouns in a sentence, each with its grammatical role near it."""
    masked = [(m.start(), m.end()) for m in MASK_RE.finditer(s)]
    found: list[tuple[int, int, str]] = []
    for code, rx in PARTY_RES:
        for m in rx.finditer(s):
            if any(a <= m.start() < b for a, b in masked):
                continue
            found.append((m.start(), m.end(), code))
    for m in PRONOUN_RE.finditer(s):
        found.append((m.start(), m.end(), "PRON"))
    # longest first, drop overlaps
    found.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
    kept: list[tuple[int, int, str]] = []
    for a, b, c in found:
        if all(b <= x or a >= y for x, y, _ in kept):
            kept.append((a, b, c))
    kept.sort()
    return [Mention(a, b, c, s[a:b], _role(s, a, b, c)) for a, b, c in kept]


def _role(s: str, a: int, b: int, code: str) -> str:
    before, after, word = s[max(0, a - 120):a], s[b:b + 120], s[a:b]
    if re.match(r"\s+side\b", after) and re.search(r"\bon\s+the\s+$", before, re.I):
        return "side"
    if code == "PRON" and word.lower() in ("its", "their", "his", "her"):
        if re.match(rf"\s+(?:[a-z]+\s+)?{GOODS_NOUN}\b", after, re.I):
            return "goods"
        return "actor"
    if _GOODS_AFTER_RE.match(after) or re.search(r"-(?:made|origin)$", word):
        return "goods"
    if code not in ("US", "PRON") and _POSSESSIVE_RATE_RE.match(after):
        return "target"
    if re.match(r"['’]s?\s", after) and _TARGET_BEFORE_RE.search(before):
        return "target"   # "for New Delhi's purchases", "on China's goods"
    if re.match(r"['’]s?\s", after):
        return "actor"
    if code != "PRON" and _ADJ_ACTOR_RE.match(after) and not re.search(
            r"\b(?:on|against|from)\s+(?:the\s+)?$", before, re.I):
        return "actor"
    if _TARGET_BEFORE_RE.search(before):
        return "target"
    if re.search(r"\bby\s+(?:the\s+)?$", before, re.I):
        return "agent"
    if _FACES_RE.match(after):
        return "target"
    if _SUBJECT_AFTER_RE.match(after):
        return "subject"
    return "other"


def resolve(ms: list[Mention], idx: int, context: str | None) -> str | None:
    """The party a mention stands for (pronouns: the nearest earlier non-target party)."""
    m = ms[idx]
    if m.code != "PRON":
        return m.code
    for prev in reversed(ms[:idx]):
        if prev.code != "PRON" and prev.role not in ("goods", "target", "side"):
            return prev.code
    return context


def products_in(s: str, a: int = 0, b: int | None = None) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    seg = s[a:b]
    for rx, label, _q, _p in PRODUCT_RES:
        for m in rx.finditer(seg):
            span = (a + m.start(), a + m.end())
            if any(not (span[1] <= x or span[0] >= y) for x, y, _ in out):
                continue
            out.append((span[0], span[1], label))
    out.sort()
    # "auto parts" wins over "cars" in the same place; duplicates of a label are dropped
    seen: set[str] = set()
    uniq = []
    for x in out:
        if x[2] not in seen:
            seen.add(x[2])
            uniq.append(x)
    return uniq
