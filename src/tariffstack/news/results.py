"""The news checker's result types and the engine interface it needs.

Every step (reading, claim finding, dating, verdicts) passes these frozen records along, so each
step can be tested alone with hand-made inputs; ``to_json`` is the JSON contract of check-news.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tariffstack.models import DeMinimis, RateResult, SearchHit
from tariffstack.news.lexicon import COUNTRY_NAMES


class EngineLike(Protocol):
    """The subset of :class:`tariffstack.engine.Engine` the news checker calls.

    Positional-only / keyword-only markers keep the fake engines in tests and the real engine
    interchangeable whatever they name their parameters.
    """

    def rate(self, code: str, origin: str, on: dt.date, /) -> RateResult: ...

    def search(self, query: str, /, *, limit: int) -> list[SearchHit]: ...

    def de_minimis(self, *, origin: str, on: dt.date, value_usd: float) -> DeMinimis: ...

    def products(self, on: dt.date, /) -> Sequence[str]: ...


# ================================================================================================
# Result types
# ================================================================================================

Actor = Literal["US", "CN", "other"]
Verdict = Literal["supported", "contradicted", "partly_supported", "not_checkable"]
ClaimKind = Literal["rate", "exemption", "de_minimis"]
Change = Literal["level", "impose", "raise", "cut", "delta", "end", "restore", "exempt", "keep",
                 "suspend"]
TargetKind = Literal["country", "products", "all", "unknown"]
# how the claim speaks: of the law as it is or was ("fact"), of a change announced as coming
# ("announced": will, would, is set to), or of a possibility ("conditional": could, if, threatened)
Mood = Literal["fact", "announced", "conditional"]
# the day a claim is checked at: the article's date, a day its own words give ("effective
# Saturday, April 12", "since March 12", "the same day"), or the legal effective date of the
# measure that carried an announcement out
DateSource = Literal["article", "stated", "implementing_measure"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence as a span of the article text (furniture already left out)."""

    start: int
    end: int
    text: str
    block: int = 0          # paragraph number: announcements carry over within a paragraph


@dataclass(frozen=True, slots=True)
class Article:
    """Article text as given, its date, its sentences and what was stripped as page furniture."""

    text: str
    date: dt.date
    date_source: Literal["header", "argument"]
    sentences: tuple[Sentence, ...]
    removed: tuple[tuple[int, int, str], ...] = ()   # (start, end, why) of stripped furniture
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class When:
    """A time expression resolved against the article date (a day or a window)."""

    text: str
    start: dt.date
    end: dt.date
    how: str
    future: bool = False
    # what the words around it make of it: "start" (effective, from, since, took effect), "end"
    # (until: when a rate stops, never the day to check), "report" (said on, announced on: the
    # day of the news, used only when nothing else dates the claim) or "plain"
    role: str = "plain"

    @property
    def window(self) -> bool:
        return self.start != self.end

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "how": self.how, "future": self.future, "role": self.role}


@dataclass(frozen=True, slots=True)
class Target:
    """On whom or what a measure falls: a country's goods, named product groups, or all imports."""

    kind: TargetKind
    text: str
    country: str | None = None              # ISO alpha-2 (or "EU")
    products: tuple[str, ...] = ()          # product-group labels, e.g. ("steel",)

    def label(self) -> str:
        parts = []
        if self.country:
            parts.append(COUNTRY_NAMES.get(self.country, self.country))
        if self.products:
            parts.append(", ".join(self.products))
        if self.kind == "all":
            parts.append("all imports")
        return " / ".join(parts) if parts else "unknown"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "country": self.country,
                "products": list(self.products)}


@dataclass(frozen=True, slots=True)
class Claim:
    """One tariff claim found in a sentence, with everything needed to check it."""

    kind: ClaimKind
    start: int                               # span of the claim in Article.text
    end: int
    fragment: str
    sentence: Sentence
    actor: Actor
    actor_text: str                          # the words that named the actor ("Beijing", "he")
    actor_country: str | None                # ISO alpha-2 of the actor when known
    target: Target
    rate_pct: float | None = None            # the rate claimed (the new rate for a change)
    rate_from_pct: float | None = None       # "from 125% to 10%"
    rate_range: tuple[float, float] | None = None
    change: Change = "level"
    threshold_usd: float | None = None       # "worth less than $800"
    when: When | None = None
    on: dt.date = dt.date(1970, 1, 1)        # the day to check
    forecast: bool = False                   # mood != "fact" (kept for older readers)
    universal: bool = False                  # "all", "every", "across the board"
    measure: tuple[str, ...] = ()            # "reciprocal", "fentanyl", "baseline", "retaliatory"...
    notes: tuple[str, ...] = ()
    mood: Mood = "fact"
    date_source: DateSource = "article"
    composite: bool = False                  # "a total of", "combined", "up to": a sum of layers
    upto: bool = False                       # "up to", "as much as": the highest any product pays
    all_in: bool = False                     # "includes existing duties", "including the MFN duty"
    search_from: dt.date | None = None       # an announcement's window: look for its measure here
    search_to: dt.date | None = None
    repeats: tuple[tuple[int, int, str], ...] = ()   # later mentions merged into this claim
    published: dt.date | None = None         # the article's date (set by check())

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "start": self.start, "end": self.end, "fragment": self.fragment,
            "sentence": self.sentence.text, "sentence_start": self.sentence.start,
            "sentence_end": self.sentence.end, "actor": self.actor, "actor_text": self.actor_text,
            "actor_country": self.actor_country, "target": self.target.to_json(),
            "rate_pct": self.rate_pct, "rate_from_pct": self.rate_from_pct,
            "rate_range": list(self.rate_range) if self.rate_range else None,
            "change": self.change, "threshold_usd": self.threshold_usd,
            "when": self.when.to_json() if self.when else None, "date": self.on.isoformat(),
            "forecast": self.forecast, "mood": self.mood, "universal": self.universal,
            "composite": self.composite, "measure": list(self.measure), "notes": list(self.notes),
            "repeats": [{"start": a, "end": b, "fragment": f} for a, b, f in self.repeats],
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact behind a verdict: a duty layer, a notice, a WTO figure, a search, a press report."""

    kind: str
    text: str
    heading: str | None = None
    rate_pct: float | None = None
    effective_from: dt.date | None = None
    source: str | None = None
    codes: tuple[str, ...] = ()
    layer: str | None = None                 # engine layer name for duty evidence

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "heading": self.heading, "layer": self.layer,
                "rate_pct": self.rate_pct,
                "effective_from": self.effective_from.isoformat() if self.effective_from else None,
                "source": self.source, "codes": list(self.codes)}


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    """A claim with its verdict, a one-paragraph explanation and the evidence for it."""

    claim: Claim
    verdict: Verdict
    explanation: str
    side: Actor                              # whose law was consulted
    evidence: tuple[Evidence, ...] = ()
    codes_used: tuple[str, ...] = ()
    effective_date: dt.date | None = None    # the day the verdict speaks of (None: claim.on)
    date_source: DateSource | None = None    # None: the claim's own

    # flat accessors for the fields readers ask for first
    @property
    def start(self) -> int:
        return self.claim.start

    @property
    def end(self) -> int:
        return self.claim.end

    def to_json(self) -> dict[str, Any]:
        out = self.claim.to_json()
        out.update({"verdict": self.verdict, "explanation": self.explanation, "side": self.side,
                    "evidence": [e.to_json() for e in self.evidence],
                    "codes_used": list(self.codes_used),
                    "effective_date": (self.effective_date or self.claim.on).isoformat(),
                    "date_source": self.date_source or self.claim.date_source})
        return out


def fmt(x: float) -> str:
    return f"{x:g}%"


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def nc(claim: Claim, side: Actor, why: str, evidence: Sequence[Evidence] = (),
        codes: Sequence[str] = ()) -> CheckedClaim:
    return CheckedClaim(claim, "not_checkable", why, side, tuple(evidence), tuple(codes))
