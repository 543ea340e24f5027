"""Finding claims: each tariff rate, exemption and de minimis statement with its actor, target,
change, mood and the day to check it.

Sentences are read in order with a little memory: the last actor named (for "it", "he"), the
last day stated (for "the same day"), whether the sentence before spoke of tariffs (for "Vietnam's
rate will be 20%") and an announcement still open in the paragraph (for "Japan also gets 15%"
after "New rates ... will take effect from next week"). Repeats of one claim are merged last.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from tariffstack.news.dating import check_day, is_present, pick_time, time_spans
from tariffstack.news.exemptions import de_minimis_claim, exemption_claim, measure_words
from tariffstack.news.lexicon import (
    ALL_IN_RE,
    COMPOSITE_RE,
    CONDITIONAL_RE,
    CUT_RE,
    HEDGE_RE,
    IMPOSE_RE,
    KEEP_RE,
    MODAL_AFTER_RE,
    RAISE_RE,
    RETALIATION_RE,
    TARIFF_RE,
    UNIVERSAL_RE,
    UPTO_RE,
    clause_left,
)
from tariffstack.news.parties import Mention, mentions
from tariffstack.news.ratehits import RateHit, rate_hits
from tariffstack.news.repeats import merge_repeats
from tariffstack.news.results import Article, Change, Claim, Mood, Sentence, Target, When
from tariffstack.news.targets import (
    actor_label,
    find_actor,
    find_target,
    target_phrase,
    target_window,
)

# an announcement: a change said to be coming, not a possibility
_ANNOUNCE_RE = re.compile(
    r"\b(?:will|shall|would|won['’]t|going\s+to|(?:plan(?:s|ned)?|intend(?:s|ed)?|vow(?:s|ed)?|"
    r"pledg(?:e|es|ed)|promis(?:e|es|ed)|agree(?:s|d)?)\s+to|(?:is|are|was|were)\s+(?:\w+\s+)?(?:set|poised|"
    r"slated|scheduled|due|expected)\s+to|to\s+take\s+effect)\b", re.I)
# a participle that continues the main clause: its mood is the main clause's
_PARTICIPLE_RE = re.compile(r",\s+(?:lifting|bringing|raising|pushing|taking|making|putting|"
                            r"leaving|lowering|cutting)\b[^,]*$", re.I)
# a relative clause in the present ("the 30 percent that most Chinese goods already pay")
_PRESENT_AFTER_RE = re.compile(r"^\s*(?:that|which)\s+[^,.;]{0,50}?\b(?:already|now|currently|still)\b",
                               re.I)
# the claim's own verb in the present ("steel from Britain also pays the 50 percent rate that
# took effect last week": the start of the rate is background, the claim speaks of now)
_PRESENT_VERB_RE = re.compile(r"\b(?:pays?|faces?|gets?|is|are|stands?|leaves?|keeps?)\b", re.I)
_PAST_RE = re.compile(r"\b(?:was|were|had|did)\b|\b[a-z]{3,}ed\b", re.I)
# a sentence that opens on the announcement before it ("The new levy would come on top of ...")
_ANAPHORA_RE = re.compile(r"\s*(?:The\s+new|This|That|These|The\s+move|The\s+measure|The\s+"
                          r"(?:higher|extra|additional)\s+\w+|It)\b")
# a definite noun phrase presupposes the rate: "its retaliatory 125% tariffs", "the 20% duty"
_DEFINITE_RE = re.compile(r"\b(?:its|their|his|her|the|this|that|these|those|[A-Z][\w.]*['’]s)\s+"
                          r"(?:[\w-]+\s+){0,2}$")
_HORIZON = dt.timedelta(days=60)   # how long after an undated announcement its measure is looked for


@dataclass
class _Memory:
    """What the sentences read so far leave for the next ones."""

    context: str | None = None          # last actor named
    last_stated: dt.date | None = None  # last day the article stated
    tariff_words: bool = False          # the sentence before spoke of tariffs
    tariff_block: int = -1              # the last paragraph that did
    open_from: dt.date | None = None    # an announcement open in this paragraph, its window
    open_to: dt.date | None = None
    block: int = -1


_EXEMPTED_FROM_RE = re.compile(r"\b(?:exempt\w*|spared|excluded|waived|exclusions?)\s+from\s+"
                               r"(?:(?:the|its|their|a|an)\s+)?(?:[\w-]+\s+){0,2}$", re.I)
# a rate said to stop: "will no longer charge the 15% levy", "scrapped its 25% tariff"
_END_RATE_RE = re.compile(
    r"\b(?:no\s+longer\s+(?:\w+\s+)?|stop(?:s|ped|ping)?\s+(?:collecting\s+|charging\s+|applying\s+)?|"
    r"scrap(?:s|ped|ping)?|eliminat\w+|abolish\w*|revok\w+|terminat\w+|remov(?:e|es|ed|ing)|"
    r"end(?:s|ed|ing)?|rescind\w*|withdr[ae]w\w*)\s*(?:(?:the|its|their|a|an|all)\s+)?"
    r"(?:[\w-]+\s+){0,2}$", re.I)
# "announce", "unveil": a day near them dates the announcement, not the measure
_ANNOUNCE_VERB_RE = re.compile(r"\b(?:announc|unveil|publish|present|detail|outlin)\w*\b", re.I)
# a deal or an order as the subject, in the present: "The U.K. deal cuts the tariff on ..."
_DEAL_SUBJECT_RE = re.compile(r"\b(?:deal|agreement|accord|framework|truce|order|proclamation)\s+"
                              r"(?:\w+\s+)?(?:cuts|raises|lowers|sets|halves|doubles|brings|puts|"
                              r"reduces|lifts|keeps|extends)\b", re.I)


def _mood(s: str, anchor_a: int, core_a: int, core_b: int) -> Mood:
    """fact / announced / conditional, from the modal words of the claim's clause."""
    clause = clause_left(s, anchor_a, 70) + s[anchor_a:core_b]
    if _PARTICIPLE_RE.search(s[:core_a]):
        clause = s[:core_b]              # ", lifting the total to": the main clause decides
    after = s[core_b:core_b + 80]
    if _PRESENT_AFTER_RE.match(after):
        return "fact"
    if CONDITIONAL_RE.search(clause) or re.match(r"^[^.;]{0,60}?\b(?:if|unless)\b", after, re.I):
        return "conditional"
    if _ANNOUNCE_RE.search(clause) or MODAL_AFTER_RE.match(after) or _DEAL_SUBJECT_RE.search(clause):
        return "announced"
    return "fact"


def _change_kind(s: str, core_a: int, core_b: int, hit: RateHit) -> Change:
    seg = clause_left(s, core_a, 90)
    if hit.pp or re.search(r"\bby\s+(?:another\s+)?$", s[max(0, core_a - 20):core_a], re.I):
        return "delta"
    if re.search(r"\bsuspen\w*\s+(?:the\s+|a\s+|its\s+|part\s+of\s+)?(?:[\w-]+\s+){0,2}$", seg) or \
            re.match(r"^\s*(?:[\w.’'-]+\s+){0,6}?(?:suspended|on\s+hold)\b", s[core_b:core_b + 60],
                     re.I):
        return "suspend"
    if _END_RATE_RE.search(seg[-60:]):
        return "end"
    last: tuple[int, Change] | None = None
    for rx, kind in ((RAISE_RE, "raise"), (CUT_RE, "cut"), (IMPOSE_RE, "impose"), (KEEP_RE, "keep")):
        for m in rx.finditer(seg):
            if last is None or m.start() > last[0]:
                last = (m.start(), kind)  # type: ignore[assignment]
    return "level" if last is None else last[1]


def _actor_and_target(s: str, hit: RateHit, core_a: int, core_b: int, ms: list[Mention],
                      memory: _Memory, notes: list[str], previous: list[Claim]
                      ) -> tuple[str | None, str, Target]:
    code, actor_text = find_actor(s, min(core_a, hit.anchor_start), core_b, ms, memory.context,
                                  max(hit.anchor_end, core_b))
    target = find_target(s, core_a, core_b, hit.anchor_start, ms, code)
    if target.kind in ("unknown", "country") and not target.products and re.search(
            r"\b(?:parts|components)\b", s[max(0, hit.anchor_start - 30):hit.anchor_end]) \
            and any("cars" in c.target.products for c in previous[-3:]):
        target = Target("products", "parts (of the cars named before)", target.country,
                        ("auto parts",))
        notes.append("'parts' read as the auto parts of the claim before")
    if target.products and _EXEMPTED_FROM_RE.search(s[max(0, hit.anchor_start - 60):hit.anchor_start]):
        # "Smartphones ... were exempted from the 125% reciprocal tariff": the rate is the one
        # the others pay, not the exempted products'
        target = Target("country", target.text, target.country) if target.country else \
            Target("unknown", target.text)
        notes.append("the rate of an exemption: checked for the goods that pay it")
    if code is None and re.match(r"\s*(?:It|They|He|She)\b", s) and memory.context:
        code, actor_text = memory.context, s.split()[0] + " (the party named before)"
    if code is None:
        if target.country == "US":
            others = [mm.code for mm in ms if mm.code not in ("PRON", "US")]
            code = others[0] if others else (memory.context if memory.context != "US" else None)
        elif target.kind != "unknown":
            code = "US"
        notes.append(f"actor inferred from the target ({code or 'unknown'})")
        actor_text = actor_text or "(inferred)"
    if target.kind == "unknown" and actor_label(code) == "CN":
        target = Target("country", "(China's tariffs fall on U.S. goods)", "US")
    if target.country == code and code is not None:
        target = Target("unknown", target.text)
    if code is not None and actor_label(code) == "other" and target.kind == "unknown" \
            and not RETALIATION_RE.search(s):
        # "bringing its levies to 50%", "Japan also gets 15%": the rate that country pays
        notes.append(f"{actor_text or code} read as the country that pays, the U.S. as the actor")
        target = Target("country", actor_text, code)
        code, actor_text = "US", "(inferred: a rate the country pays)"
    return code, actor_text, target


def _rate_claims(sent: Sentence, ms: list[Mention], times: list[tuple[int, int, When]],
                 base: dt.date, memory: _Memory, previous: list[Claim]) -> list[Claim]:
    s = sent.text
    out: list[Claim] = []
    prev_end = 0
    hits = rate_hits(s, memory.tariff_words or memory.tariff_block == sent.block)
    used: set[int] = set()
    for hit in hits:
        core_a, core_b = hit.start, hit.consumed_to or hit.end
        notes: list[str] = []
        code, actor_text, target = _actor_and_target(s, hit, core_a, core_b, ms, memory, notes,
                                                     previous)
        change = _change_kind(s, core_a, core_b, hit)
        if hit.rate_from is not None and change in ("level", "keep"):
            change = "raise" if hit.num > hit.rate_from else "cut"
        end_b = hit.anchor_end
        tm = target_phrase(target_window(s, end_b, 60))
        if tm:
            end_b += tm
        end_b = max(end_b, core_b)
        span_a = min(hit.anchor_start, core_a)
        when = pick_time(times, s, span_a, end_b, used)
        clause = clause_left(s, span_a, 60) + s[span_a:end_b + 30]
        verb = s[max(0, span_a - 30):end_b]
        present_words = is_present(clause) or bool(_PRESENT_AFTER_RE.match(s[core_b:core_b + 80]))
        present = present_words or bool(_PRESENT_VERB_RE.search(verb))
        past = bool(_PAST_RE.search(verb))
        on, source = check_day(when, base, present, past)
        mood = _mood(s, hit.anchor_start, core_a, core_b)
        if hit.how == "listed with a rate" and out:
            mood = out[-1].mood          # "will add 15% on ..., and 10% on ...": the same verb
        elif hit.how == "noun after" and _DEFINITE_RE.search(s[max(0, core_a - 40):core_a]):
            mood = "fact"                # "exempt from its retaliatory 125% tariffs": it exists
        if mood == "fact" and (when is None or not when.future) and not present_words \
                and memory.open_from is not None and memory.block == sent.block \
                and re.search(r"\b(?:also|too|as\s+well)\b", s[:end_b + 20]):
            mood = "announced"           # "Japan also gets 15%" after "... will take effect"
            notes.append("read with the announcement before it in the paragraph")
        search_from = search_to = None
        if mood != "fact" and when is not None and _ANNOUNCE_VERB_RE.search(
                clause_left(s, span_a, 80) + s[span_a:end_b]):
            # "expected to announce ... later today": the day of the announcement, not of the
            # measure; look for the measure from then on
            search_from, search_to, on, source = when.start, when.start + _HORIZON, base, "article"
            when = None
        if mood != "fact" and search_from is None:
            if when is not None and when.window and when.start > base:
                search_from, search_to = when.start, when.end      # "from next week"
            elif when is None and memory.open_from is not None and memory.block == sent.block:
                search_from, search_to = memory.open_from, memory.open_to   # the day before
            elif when is None:
                search_from, search_to = base, base + _HORIZON
        universal = bool(UNIVERSAL_RE.search(s[max(prev_end, span_a - 40):end_b])) and not \
            HEDGE_RE.search(s[max(prev_end, span_a - 40):end_b])
        local = s[max(prev_end, span_a - 40):end_b + 10]
        claim = Claim(
            kind="rate", start=sent.start + span_a, end=sent.start + end_b,
            fragment=s[span_a:end_b], sentence=sent, actor=actor_label(code),
            actor_text=actor_text, actor_country=code, target=target,
            rate_pct=None if hit.lo is not None else hit.num, rate_from_pct=hit.rate_from,
            rate_range=(hit.lo, hit.num) if hit.lo is not None else None,
            change=change, when=when, on=on, date_source=source,
            forecast=mood != "fact", mood=mood, universal=universal,
            measure=measure_words(s, span_a, end_b),
            composite=bool(COMPOSITE_RE.search(local)),
            upto=bool(UPTO_RE.search(s[max(0, core_a - 30):core_a])),
            all_in=bool(ALL_IN_RE.search(s)), search_from=search_from, search_to=search_to,
            notes=tuple(notes + [f"rate found by {hit.how}"]),
        )
        out.append(claim)
        prev_end = end_b
    return out


def _remember(memory: _Memory, sent: Sentence, ms: list[Mention], claims: list[Claim],
              times: list[tuple[int, int, When]], base: dt.date) -> None:
    for c in claims:
        if c.actor_country and not c.actor_text.startswith("(inferred: a rate"):
            memory.context = c.actor_country
    named = [mm for mm in ms if mm.role in ("subject", "actor") and mm.code != "PRON"]
    if named:
        memory.context = named[-1].code
    for c in claims:
        if c.date_source == "stated" and c.when is not None and not c.when.window:
            memory.last_stated = c.on
    starts = [w for _, _, w in times if w.role == "start" and not w.window]
    if starts and not claims:
        memory.last_stated = starts[-1].start
    memory.tariff_words = bool(TARIFF_RE.search(sent.text))
    if memory.tariff_words:
        memory.tariff_block = sent.block
    announced = [c for c in claims if c.mood == "announced"]
    future = [w for _, _, w in times if w.start > base and w.role != "end"]
    if future and re.search(r"\b(?:will|would|is\s+set\s+to|take\s+effect|takes\s+effect)\b",
                            sent.text, re.I):
        memory.open_from, memory.open_to = future[-1].start, future[-1].end
    elif announced and announced[-1].search_from is not None:
        memory.open_from, memory.open_to = announced[-1].search_from, announced[-1].search_to


def find_claims(article: Article) -> list[Claim]:
    """Every tariff claim in the article: rates, exemptions and de minimis statements, in order,
    with repeats of one claim merged into its first mention.

    Numbers that describe trade flows ("imports fell 20%", "a 75% to 80% drop") are not claims.
    """
    out: list[Claim] = []
    memory = _Memory()
    base = article.date
    for sent in article.sentences:
        s = sent.text
        if sent.block != memory.block:
            if not _ANAPHORA_RE.match(s):
                memory.open_from = memory.open_to = None
            memory.block = sent.block
        ms = mentions(s)
        times = time_spans(s, base, memory.last_stated)
        here: list[Claim] = []
        dm = de_minimis_claim(sent, ms, times, base, memory.context)
        if dm is not None:
            here.append(dm)
        here.extend(_rate_claims(sent, ms, times, base, memory, out))
        ex = exemption_claim(sent, ms, times, base, memory.context, dm is not None)
        if ex is not None:
            here.append(ex)
        here.sort(key=lambda c: c.start)
        _remember(memory, sent, ms, here, times, base)
        out.extend(here)
    return merge_repeats([replace(c, published=base) for c in out])

