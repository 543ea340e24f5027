"""Who imposes a rate and on whom: the actor and the target of a claim in its sentence."""

from __future__ import annotations

import re

from tariffstack.news.dating import MONTH_DAY_NAMES
from tariffstack.news.lexicon import ALL_IMPORTS_RE, GOODS_NOUN, PRODUCT_ALT, clause_left
from tariffstack.news.parties import Mention, products_in, resolve
from tariffstack.news.results import Actor, Target


def target_window(s: str, a: int, width: int = 80) -> str:
    seg = s[a:a + width]
    cut = re.search(r"[;:]|\.\s*$|\s[–—]\s|,\s+(?:but|while|which|and\s+(?:said|that))\b", seg)
    return seg[: cut.start()] if cut else seg


def _listed(s: str, prods: list[tuple[int, int, str]], upto: int) -> list[tuple[int, int, str]]:
    """Products up to ``upto`` and the ones listed after them ("chicken, wheat, corn and cotton")."""
    out = [p for p in prods if p[0] <= upto]
    for p in prods:
        if p in out or not out:
            continue
        gap = s[out[-1][1]:p[0]]
        if re.fullmatch(r"(?:,\s*|\s+)(?:and\s+|or\s+)?(?:[\w-]+\s+){0,2}?", gap):
            out.append(p)
        else:
            break
    return out


def target_phrase(win: str) -> int | None:
    """Length of an 'on <whom>' phrase at the start of ``win`` (for the claim's span)."""
    thing = rf"(?:{GOODS_NOUN}|{PRODUCT_ALT})"
    for rx, flags in ((rf"\s*(?:to\s+(?:its|their|the)\s+(?:tariffs?|duties)\s+)?(?:on|against)\s+"
                       rf"[^,;]{{0,50}}?\b{thing}\b"
                       rf"(?:,?\s+(?:and|or)\s+(?:[\w.-]+\s+){{0,2}}?{thing}\b)*", re.I),
                      (r"\s*on\s+the\s+\S+\s+side\b", re.I),
                      (r"\s*(?:on|against)\s+(?:the\s+)?(?!" + MONTH_DAY_NAMES + r")[A-Z][\w’'.-]*"
                       r"(?:\s+[A-Z][\w’'.-]*)*", 0)):
        m = re.match(rx, win, flags)
        if m:
            return m.end()
    return None


def find_target(s: str, core_a: int, core_b: int, anchor_a: int, ms: list[Mention],
                 actor_code: str | None) -> Target:
    """Whose goods or which goods: 'on X' after the rate, then the bridge, then the sentence."""
    win = target_window(s, core_b)
    win_prods = products_in(s, core_b, core_b + len(win))
    onm = re.match(r"\s*(?:[\w.’'-]+\s+){0,3}?(?:on|against|for)\s+"
                   r"(?P<t>(?:(?!\d{1,3}(?:\.\d+)?\s*(?:%|percent))[^,;]){0,60})", win)
    near_products = _listed(s, win_prods, core_b + onm.end()) if onm else []

    def country_in(a: int, b: int, roles: tuple[str, ...]) -> Mention | None:
        for mm in ms:
            if a <= mm.start < b and mm.code not in ("PRON", actor_code) and mm.role in roles \
                    and not re.search(r"\b(?:to|into)\s+(?:the\s+)?$", s[max(0, mm.start - 12):mm.start]):
                return mm   # "goods shipped to America": the destination is no target
        return None

    for mm in ms:   # "Vietnam's rate will be 20%", "India's 25%": the owner right before
        if mm.role == "target" and mm.code not in ("PRON", actor_code) and 0 <= min(anchor_a, core_a) \
                - mm.end <= 3 and re.match(r"['’]s?\s", s[mm.end:mm.end + 3]):
            return Target("country", mm.text, mm.code)
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
        if win_prods:     # "a 50% duty now applies to steel from most countries"
            return Target("products", win.strip(), None, tuple(p[2] for p in win_prods))
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


def find_actor(s: str, core_a: int, core_b: int, ms: list[Mention],
               context: str | None, phrase_end: int | None = None) -> tuple[str | None, str]:
    """Who imposes: 'on the X side', a possessive ('Trump's 145%'), 'by X', else the subject."""
    for i, mm in enumerate(ms):
        if mm.role == "side" and core_b <= mm.start <= core_b + 40:
            return resolve(ms, i, context), mm.text
    for mm in ms:   # "a 25% U.S. tariff": the adjective inside the claim's own phrase
        if mm.role == "actor" and core_a <= mm.start < (phrase_end or core_b + 20) \
                and mm.code != "PRON":
            return mm.code, mm.text
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
                r"\s+(?:said|says|added|told|confirmed|stated)\b", s[mm.end:]):
            return mm.code, mm.text
    return None, ""


def actor_label(code: str | None) -> Actor:
    if code == "US":
        return "US"
    if code in ("CN", "HK", "MO"):
        return "CN"
    return "other"
