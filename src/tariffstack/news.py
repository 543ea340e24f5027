"""Check the tariff claims in news text against the law, as of the article's date.

News reports are full of numbers ("145 percent on Chinese imports", "Beijing responded with a 125
percent tariff", "the $800 exemption ended on Friday"). This module reads plain article text,
finds each tariff claim with its sentence and character span, works out who imposes it, on whom,
at what rate and when, and then asks the rate engine (U.S. side) or :mod:`tariffstack.china`
(China's side) what the law said on that day.

Extraction is rule based on purpose: every decision traces to a named pattern, and a number that
is not clearly a tariff rate (trade flows, forecasts of imports, "a 75% to 80% drop") is left out
rather than guessed. Spans are offsets into the text exactly as given.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from .china import ChinaTariffs
from .errors import BadInput, TariffstackError
from .models import DeMinimis, RateResult, SearchHit

# ================================================================================================
# The engine interface this module needs (the real Engine and the test fakes both fit it)
# ================================================================================================


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
Change = Literal["level", "impose", "raise", "cut", "delta", "end", "restore", "exempt"]
TargetKind = Literal["country", "products", "all", "unknown"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence as a span of the article text (furniture already left out)."""

    start: int
    end: int
    text: str


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

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "how": self.how, "future": self.future}


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
            parts.append(_COUNTRY_NAMES.get(self.country, self.country))
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
    forecast: bool = False                   # could/would/threatened...: not a statement of law
    universal: bool = False                  # "all", "every", "across the board"
    measure: tuple[str, ...] = ()            # "reciprocal", "fentanyl", "baseline", "retaliatory"...
    notes: tuple[str, ...] = ()

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
            "forecast": self.forecast, "universal": self.universal, "measure": list(self.measure),
            "notes": list(self.notes),
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
                    "codes_used": list(self.codes_used)})
        return out


# ================================================================================================
# Reading: validation, date line, page furniture, sentences
# ================================================================================================

MAX_BYTES = 2 * 1024 * 1024
MAX_SENTENCE = 2000     # characters; longer runs are cut (real sentences are far shorter)
_HEADER_RE = re.compile(r"\A\ufeff?[ \t]*date:?[ \t]+(\d{4}-\d{1,2}-\d{1,2})\b[ \t]*", re.I)
_OUTLETS = frozenset({
    "cnn", "reuters", "ap", "associated press", "afp", "bloomberg", "news.az", "newsweek", "bbc",
    "bbc news", "fox news", "fox business", "cnbc", "breitbart", "xinhua", "the guardian", "nyt",
    "the new york times", "wsj", "the wall street journal", "financial times", "ft", "politico",
    "axios", "al jazeera", "scmp", "south china morning post", "global times", "nikkei asia",
    "yahoo finance", "abc news", "cbs news", "nbc news", "the hill", "usa today",
    "the washington post", "washington post", "cnn business", "reuters staff",
})
_CREDIT_RES = (
    re.compile(r"^[\w.'’\- ]{2,80}\bcontributed(?:\s+to)?(?:\s+this)?\s+(?:reporting|report|story)\b",
               re.I),
    re.compile(r"^(?:additional\s+)?(?:reporting|writing|editing)\s+by\b", re.I),
    re.compile(r"^(?:by|photo|photograph|image|video|source|credit|advertisement|read more|related|"
               r"share|subscribe|sign up|follow us|listen|watch)\b\s*[:|]?", re.I),
    re.compile(r"^(?:©|copyright\b|all rights reserved)", re.I),
    re.compile(r"^(?:updated|published|posted)\b[^.]{0,60}\d", re.I),
)
_WIDGET_RE = re.compile(r"\b\d+\s*px\b", re.I)
_TERMINAL_RE = re.compile(r"[.!?。！？][”\"’')\]]*\s*$|[”\"]\s*$")
_ABBREV = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "st", "jr", "sr",
    "inc", "corp", "co", "ltd", "no", "nos", "vs", "etc", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "fed", "reg", "art", "sec", "approx", "e.g", "i.e",
    "a.m", "p.m", "u.s", "u.k", "u.n", "e.u", "mt", "ft", "pres",
})
_STARTERS = frozenset({
    "The", "This", "That", "These", "Those", "It", "He", "She", "They", "We", "I", "But", "And",
    "In", "On", "A", "An", "Its", "His", "Her", "Their", "Our", "As", "At", "For", "If", "When",
    "While", "After", "Before", "Meanwhile", "However", "Still", "Yet", "So", "Some", "Many",
})
_BOUNDARY_RE = re.compile(r"[.!?]+[”\"’')\]]*(?=\s+[“\"‘'(\[]?[A-Z0-9])")
_ACRONYM_RE = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_STOPWORDS = frozenset({
    "the", "a", "an", "of", "to", "in", "and", "on", "for", "is", "was", "that", "with", "by",
    "it", "as", "at", "from", "has", "have", "be", "are", "were", "said", "its", "this", "will",
    "not", "or", "but", "he", "she", "they", "which", "after", "than", "his", "their",
})


def _decode(text: str | bytes) -> str:
    """The text as str, or BadInput for empty, binary, undecodable or huge input."""
    if isinstance(text, bytes | bytearray):
        raw = bytes(text)
        if len(raw) > MAX_BYTES:
            raise BadInput(f"text is too large ({len(raw):,} bytes; the limit is {MAX_BYTES:,})")
        if b"\x00" in raw:
            raise BadInput("input looks binary (contains NUL bytes); give plain UTF-8 text")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"input is not UTF-8 text (undecodable byte at offset {exc.start}); "
                "give plain UTF-8 text"
            ) from exc
    if not isinstance(text, str):
        raise BadInput(f"text must be str or bytes, got {type(text).__name__}")
    if len(text) > MAX_BYTES:
        raise BadInput(f"text is too large ({len(text):,} characters; the limit is {MAX_BYTES:,} bytes)")
    if "\x00" in text:
        raise BadInput("input looks binary (contains NUL characters); give plain text")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise BadInput(
            f"input has undecodable characters (lone surrogate at offset {exc.start}); "
            "it was probably read from a binary or non-UTF-8 file"
        ) from exc
    if size > MAX_BYTES:
        raise BadInput(f"text is too large ({size:,} bytes; the limit is {MAX_BYTES:,})")
    if not text.strip():
        raise BadInput("text is empty")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    bad = text.count("\ufffd")
    if controls + bad > max(2, len(text) // 100):
        raise BadInput(
            "input looks binary or wrongly decoded (many control or replacement characters)"
        )
    return text


def _is_english(content: str) -> tuple[bool, str]:
    letters = [c for c in content if c.isalpha()]
    if len(letters) >= 20:
        latin = sum(1 for c in letters if ord(c) < 0x250)
        if latin / len(letters) < 0.6:
            return False, f"only {latin / len(letters):.0%} of its letters are Latin"
    words = re.findall(r"[^\W\d_]+", content.lower())
    if len(words) >= 15:
        share = sum(1 for w in words if w in _STOPWORDS) / len(words)
        if share < 0.06:
            return False, f"only {share:.0%} of its words are common English words"
    return True, ""


def _furniture(line: str, leading: bool, continuing: bool = False) -> str | None:
    """Why a stripped line is page furniture, or None if it is content.

    ``continuing``: the previous content line did not end a sentence, so this line is most
    likely the rest of it (hard-wrapped text), never a dateline or subheading.
    """
    s = line.strip()
    if not s:
        return "blank"
    if not re.search(r"[^\W_]", s):
        return "symbols"
    words = s.split()
    if _WIDGET_RE.search(s) and len(words) <= 8:
        return "widget"
    if s.rstrip(".:").strip().lower() in _OUTLETS:
        return "outlet"
    if len(words) <= 14:
        for rx in _CREDIT_RES:
            if rx.search(s):
                return "credit"
    if not continuing and not s[0].islower() and not _TERMINAL_RE.search(s) \
            and not re.search(r"\d", s):
        if leading and len(words) <= 4:
            return "dateline"
        if len(words) <= 6:
            return "subheading"
    return None


def _split_sentences(text: str, start: int, end: int) -> list[Sentence]:
    """Sentences of one block text[start:end], skipping abbreviations like "U.S." and "Mr."."""
    block = text[start:end]
    cuts = [0]
    for m in _BOUNDARY_RE.finditer(block):
        before = block[: m.start()]
        word_m = re.search(r"([^\s“\"‘'(\[]+)$", before)
        word = word_m.group(1) if word_m else ""
        nxt_m = re.match(r"\s+[“\"‘'(\[]?(\w+)", block[m.end():])
        nxt = nxt_m.group(1) if nxt_m else ""
        punct = block[m.start():m.end()]
        if punct.startswith(".") and "!" not in punct and "?" not in punct:
            low = word.lower()
            if _ACRONYM_RE.match(word):
                if nxt not in _STARTERS:
                    continue
            elif low in _ABBREV or (len(word) == 1 and word.isupper()):
                continue
        cuts.append(m.end())
    cuts.append(len(block))
    out: list[Sentence] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        seg = block[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        s, e = start + a + lead, start + b - trail
        while e - s > MAX_SENTENCE:
            # run-on text with no sentence ends: cut at a space so work per sentence stays bounded
            cut = text.rfind(" ", s + MAX_SENTENCE // 2, s + MAX_SENTENCE)
            cut = cut if cut > s else s + MAX_SENTENCE
            out.append(Sentence(s, cut, text[s:cut]))
            s = cut + 1 if text[cut:cut + 1] == " " else cut
        if e > s:
            out.append(Sentence(s, e, text[s:e]))
    return out


def read_article(text: str | bytes, date: dt.date | None) -> Article:
    """Validate text, take its date (a leading `` date YYYY-MM-DD`` line wins over ``date``),
    strip page furniture (bylines, widgets, credits) and split the rest into sentences.

    Offsets in the result refer to the text as given, so a claim can be shown in place.
    """
    text = _decode(text)
    removed: list[tuple[int, int, str]] = []
    notes: list[str] = []
    pos = 0
    header = _HEADER_RE.match(text)
    art_date: dt.date | None = None
    source: Literal["header", "argument"] = "argument"
    if header:
        try:
            art_date = dt.date.fromisoformat(
                "-".join(p.zfill(2) for p in header.group(1).split("-"))
            )
        except ValueError as exc:
            raise BadInput(f"bad date line {header.group(0).strip()!r}: {exc}") from exc
        source = "header"
        removed.append((header.start(), header.end(), "date line"))
        pos = header.end()
        if date is not None and date != art_date:
            notes.append(f"date line says {art_date.isoformat()}; the date passed in "
                         f"({date.isoformat()}) was ignored")
    if art_date is None:
        if date is None:
            raise BadInput("no article date: the text has no leading ' date YYYY-MM-DD' line; "
                           "pass the article's date")
        if not isinstance(date, dt.date):
            raise BadInput(f"date must be a datetime.date, got {date!r}")
        art_date = date.date() if isinstance(date, dt.datetime) else date

    ok, why_not = _is_english(text[pos:])
    if not ok:
        raise BadInput(f"text does not look like English ({why_not}); only English news text "
                       "can be checked")
    # lines with offsets (the date line's remainder is the first line)
    lines: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\n]*(?:\n|$)", text[pos:]):
        if m.start() == m.end():
            continue
        s = pos + m.start()
        e = pos + m.end()
        body = text[s:e].rstrip("\r\n")
        lines.append((s, s + len(body)))
    blocks: list[tuple[int, int]] = []
    leading = True
    current: tuple[int, int] | None = None
    for s, e in lines:
        line = text[s:e]
        why = _furniture(line, leading, continuing=current is not None)
        if why is not None:
            if why != "blank":
                removed.append((s, e, why))
            if current:
                blocks.append(current)
                current = None
            continue
        leading = False
        current = (s, e) if current is None else (current[0], e)
        if _TERMINAL_RE.search(line):
            blocks.append(current)
            current = None
    if current:
        blocks.append(current)
    content = " ".join(text[a:b] for a, b in blocks)
    if not content.strip():
        raise BadInput("no article text left after removing the date line and page furniture")
    sentences: list[Sentence] = []
    for a, b in blocks:
        sentences.extend(_split_sentences(text, a, b))
    return Article(text=text, date=art_date, date_source=source, sentences=tuple(sentences),
                   removed=tuple(removed), notes=tuple(notes))


def read_article_file(path: Path | str, date: dt.date | None = None) -> Article:
    """Read an article file as bytes (so binary and non-UTF-8 files get a clear error)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise BadInput(f"cannot read {p}: {exc.strerror or exc}") from exc
    if size > MAX_BYTES:
        raise BadInput(f"{p} is too large ({size:,} bytes; the limit is {MAX_BYTES:,})")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {p}: {exc.strerror or exc}") from exc
    return read_article(raw, date)


# ================================================================================================
# Lexicons: parties, product groups, tariff words
# ================================================================================================

_COUNTRY_NAMES: dict[str, str] = {
    "US": "United States", "CN": "China", "HK": "Hong Kong", "MO": "Macau", "CA": "Canada",
    "MX": "Mexico", "EU": "European Union", "JP": "Japan", "IN": "India", "VN": "Vietnam",
    "GB": "United Kingdom", "KR": "South Korea", "TW": "Taiwan", "BR": "Brazil",
    "CH": "Switzerland", "DE": "Germany", "FR": "France", "IT": "Italy", "AU": "Australia",
    "KH": "Cambodia", "TH": "Thailand", "ID": "Indonesia", "MY": "Malaysia", "RU": "Russia",
    "SG": "Singapore", "PH": "Philippines", "BD": "Bangladesh", "ZA": "South Africa",
    "IL": "Israel", "TR": "Turkey", "AR": "Argentina", "CO": "Colombia", "NI": "Nicaragua",
    "LS": "Lesotho",
}

# (code, regex). Case-sensitive: names are capitalised; order does not matter (longest wins).
_PARTY_SOURCES: tuple[tuple[str, str], ...] = (
    ("US", r"the\s+United\s+States|United\s+States(?:\s+of\s+America)?|U\.\s?S\.(?:\s?A\.)?"
           r"(?:-(?:made|origin))?|(?<![\w.])USA?(?![\w])(?:-made)?|America(?:n(?:-made)?|ns)?|"
           r"Washington|White\s+House|Trump\s+administration|the\s+administration|"
           r"(?:U\.S\.\s+)?President\s+(?:Donald\s+(?:J\.\s+)?)?Trump|Donald\s+(?:J\.\s+)?Trump|"
           r"Trump|(?:Treasury\s+Secretary\s+)?(?:Scott\s+)?Bessent|(?:Howard\s+)?Lutnick|"
           r"(?:Jamieson\s+)?Greer|(?:Peter\s+)?Navarro|(?:Marco\s+)?Rubio|(?:Kevin\s+)?Hassett|"
           r"USTR|CBP"),
    ("CN", r"China|Chinese|Beijing|PRC|(?:President\s+)?Xi(?:\s+Jinping)?|He\s+Lifeng|"
           r"(?:State\s+Council\s+|Customs\s+)?Tariff\s+Commission"),
    ("HK", r"Hong\s+Kong"),
    ("MO", r"Macau|Macao"),
    ("CA", r"Canada|Canadian|Ottawa|(?:Mark\s+)?Carney|(?:Justin\s+)?Trudeau"),
    ("MX", r"Mexico|Mexican|(?:Claudia\s+)?Sheinbaum"),
    ("EU", r"the\s+European\s+Union|European\s+Union|EU|E\.U\.|Brussels|European|Europe|"
           r"(?:Ursula\s+)?von\s+der\s+Leyen"),
    ("JP", r"Japan|Japanese|Tokyo"),
    ("IN", r"India|Indian|New\s+Delhi|Modi"),
    ("VN", r"Vietnam|Viet\s+Nam|Vietnamese|Hanoi"),
    ("GB", r"the\s+United\s+Kingdom|United\s+Kingdom|U\.K\.|UK|Britain|British|London"),
    ("KR", r"South\s+Korea|Korea|Korean|Seoul"),
    ("TW", r"Taiwan|Taiwanese|Taipei"),
    ("BR", r"Brazil|Brazilian|Brasilia|Lula"),
    ("CH", r"Switzerland|Swiss|Bern"),
    ("DE", r"Germany|German|Berlin"),
    ("FR", r"France|French|Paris"),
    ("IT", r"Italy|Italian|Rome"),
    ("AU", r"Australia|Australian|Canberra"),
    ("KH", r"Cambodia|Cambodian"),
    ("TH", r"Thailand|Thai"),
    ("ID", r"Indonesia|Indonesian|Jakarta"),
    ("MY", r"Malaysia|Malaysian"),
    ("RU", r"Russia|Russian|Moscow"),
    ("SG", r"Singapore"),
    ("PH", r"the\s+Philippines|Philippines|Filipino"),
    ("BD", r"Bangladesh"),
    ("ZA", r"South\s+Africa|South\s+African"),
    ("IL", r"Israel|Israeli"),
    ("TR", r"Turkey|Turkish|Türkiye"),
    ("AR", r"Argentina|Argentine"),
    ("CO", r"Colombia|Colombian"),
    ("NI", r"Nicaragua"),
    ("LS", r"Lesotho"),
)
_PARTY_RES = tuple((code, re.compile(rf"(?<![\w-])(?:{src})(?![\w])")) for code, src in _PARTY_SOURCES)
_PRONOUN_RE = re.compile(r"\b(?:[Hh]e|[Ss]he|[Ii]t|[Ii]ts|[Tt]hey|[Tt]heir|[Hh]is|[Hh]er)\b")
# names that contain a country but are not a party (outlets, companies, universities)
_MASK_RE = re.compile(
    r"Reuters|Bloomberg|CNN|CNBC|Fox\s+Business(?:\s+Network)?|Fox\s+News|Breitbart|News\.Az|"
    r"Newsweek|Xinhua|Weibo|Yuyuan\s+Tantian|National\s+Retail\s+Federation|JP\s?Morgan|"
    r"Goldman\s+Sachs|National\s+University\s+of\s+Singapore|Bank\s+of\s+(?:America|China|Japan|"
    r"Canada|England)|America\s+First|Air\s+China|South\s+China\s+Morning\s+Post|China\s+Daily|"
    r"Global\s+Times|Canadian\s+Press|Voice\s+of\s+America|Washington\s+Post|"
    r"American\s+Chamber\s+of\s+Commerce|U\.S\.\s+Chamber\s+of\s+Commerce|"
    r"South\s+China\s+Sea|Indian\s+Ocean|New\s+Mexico|Washington\s+state"
)

# product groups: (pattern, label, engine search query, HTS prefixes that the hits must have)
_PRODUCT_GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (r"smart\s*phones?|(?:mobile|cell(?:ular)?)\s+phones?|iphones?", "smartphones", "smartphones",
     ("851713",)),
    (r"(?:micro)?chips|semiconductors?|integrated\s+circuits?|processors", "microchips",
     "electronic integrated circuits processors controllers", ("8542",)),
    (r"jet\s+engines?|aircraft\s+engines?|aero[- ]?engines?|turbojets?|turbofans?", "jet engines",
     "turbojets aircraft turbines", ("841111", "841112", "841191")),
    (r"pharmaceuticals?|pharma|medicines?|medicaments|(?:prescription\s+)?drugs", "pharmaceuticals",
     "medicaments", ("3003", "3004")),
    (r"(?:stainless\s+)?steel", "steel", "iron or nonalloy steel", ("72",)),
    (r"alumin(?:i)?um", "aluminum", "aluminum", ("76",)),
    (r"auto\s+parts|car\s+parts|automotive\s+parts", "auto parts",
     "parts and accessories of motor vehicles", ("8708",)),
    (r"cars|autos|automobiles|passenger\s+vehicles|(?:electric\s+)?vehicles|EVs", "cars",
     "passenger motor vehicles", ("8703",)),
    (r"copper", "copper", "refined copper", ("74",)),
    (r"lumber|timber|softwood", "lumber", "wood sawn", ("4407",)),
    (r"laptops?|computers?|PCs", "computers", "portable automatic data processing machines",
     ("8471",)),
    (r"soybeans?|soya\s+beans?", "soybeans", "soybeans", ("1201",)),
    (r"ethane", "ethane", "ethane", ("290110",)),
    (r"aircraft|airplanes|planes|jets", "aircraft", "airplanes aircraft", ("8802",)),
    (r"solar\s+(?:panels?|cells?|modules?)", "solar panels", "photovoltaic cells", ("85414",)),
    (r"toys", "toys", "toys", ("9503",)),
    (r"furniture", "furniture", "furniture", ("9401", "9403")),
    (r"apparel|clothing|garments|textiles", "apparel", "garments", ("61", "62")),
    (r"pork", "pork", "meat of swine", ("0203",)),
    (r"beef", "beef", "meat of bovine animals", ("0201", "0202")),
    (r"chicken|poultry", "chicken", "meat of fowls chickens", ("0207",)),
    (r"coal", "coal", "coal", ("2701",)),
    (r"LNG|liquefied\s+natural\s+gas", "LNG", "natural gas liquefied", ("271111",)),
    (r"crude(?:\s+oil)?", "crude oil", "petroleum oils crude", ("2709",)),
    (r"wheat", "wheat", "wheat", ("1001",)),
    (r"corn|maize", "corn", "corn maize", ("1005",)),
    (r"cotton", "cotton", "cotton", ("5201",)),
    (r"lobsters?|seafood", "seafood", "lobsters", ("0306",)),
)
_PRODUCT_RES = tuple((re.compile(rf"(?<![\w-])(?:{p})(?![\w])", re.I), label, query, prefixes)
                     for p, label, query, prefixes in _PRODUCT_GROUPS)
_PRODUCT_LOOKUP = {label: (query, prefixes) for _, label, query, prefixes in _PRODUCT_GROUPS}
_PRODUCT_ALT = "|".join(p for p, *_ in _PRODUCT_GROUPS)

_TARIFF_NOUN = r"(?:tariffs?|dut(?:y|ies)|levy|levies|import\s+tax(?:es)?|surcharges?|" \
               r"countermeasures?)"
_TARIFF_RE = re.compile(rf"\b{_TARIFF_NOUN}\b|\bretaliat", re.I)
_GOODS_NOUN = r"(?:imports|import|goods|products|exports|shipments|items|merchandise|" \
              r"steel|aluminum|cars|autos|vehicles|chips|semiconductors|smartphones|electronics)"
_NUM = r"\d{1,3}(?:\.\d+)?"
_PCT_UNIT = r"(?:\s*%|\s*-?\s*percent(?![\w])|\s*per\s*cent(?![\w]))"
_PP_UNIT = r"(?:\s*percentage[- ]points?)"
_RATE_RE = re.compile(
    rf"(?<![\w.$,])(?:(?P<lo>{_NUM})(?:{_PCT_UNIT})?\s*(?:to|-|–|—)\s*)?(?P<num>{_NUM})"
    rf"(?P<unit>{_PP_UNIT}|{_PCT_UNIT})",
    re.I,
)
_ADJ = (r"(?:ad\s+valorem|additional|extra|retaliatory|reciprocal|baseline|blanket|"
        r"across[- ]the[- ]board|import|punitive|counter|new|higher|lower|total|combined|cumulative|"
        r"overall|effective|minimum|flat|universal|global|general|special|emergency|"
        r"fentanyl(?:[- ]related)?|country[- ]specific|sectoral|section\s+\d+|steel|aluminum|auto|car|"
        r"U\.S\.|US|American|Chinese|China['’]s|Trump['’]s|[\"“”'‘’]|so[- ]called|"
        r"“reciprocal”|\"reciprocal\")")
_RIGHT_ANCHOR_RE = re.compile(
    rf"^\s*(?:[-–]\s*)?(?:{_ADJ}\s*){{0,4}}(?P<noun>(?:counter[- ]?)?tariffs?|dut(?:y|ies)|levy|levies|"
    rf"import\s+tax(?:es)?|tax(?:es)?|surcharges?|baseline|rate|border\s+tax)\b",
    re.I,
)
_LEFT_ANCHOR_RE = re.compile(
    r"(?P<noun>\b(?:tariffs?|dut(?:y|ies)|levy|levies|import\s+tax(?:es)?|surcharges?|rates?))\b"
    r"(?P<bridge>(?:[^.;:%!?]|(?<=\b[A-Z])\.){0,80}?)\b(?:of|at|to|by|from)\s+"
    r"(?:(?:a|an|the|staggering|whopping|massive|hefty|steep|new|total|combined|as\s+much\s+as|"
    r"as\s+high\s+as|up\s+to|nearly|almost|about|around|roughly|some|effective|an\s+effective|just|"
    r"only|over|more\s+than|record)\s+)*$",
    re.I,
)
_VERB_ANCHOR_RE = re.compile(
    r"\b(?P<verb>slap(?:s|ped|ping)?|impos(?:e|es|ed|ing)|levi(?:ed|es)|levy(?:ing)?|"
    r"plac(?:e|es|ed|ing)|put(?:s|ting)?|appl(?:y|ies|ied|ying)|charg(?:e|es|ed|ing)|"
    r"hit(?:s|ting)?|rais(?:e|es|ed|ing)|hik(?:e|es|ed|ing)|increas(?:e|es|ed|ing)|"
    r"lift(?:s|ed|ing)?|boost(?:s|ed|ing)?|cut(?:s|ting)?|lower(?:s|ed|ing)?|reduc(?:e|es|ed|ing)|"
    r"slash(?:es|ed|ing)?|trim(?:s|med|ming)?|eas(?:e|es|ed|ing)|set(?:s|ting)?|"
    r"fac(?:e|es|ed|ing)|bring(?:s|ing)?|brought|dropp?(?:ed|ing)?|rise|rises|rising|rose|risen|"
    r"go(?:es)?|went|climb(?:s|ed|ing)?|jump(?:s|ed|ing)?|reach(?:es|ed|ing)?|doubl(?:e|es|ed)|"
    r"tripl(?:e|es|ed)|respond(?:s|ed)?\s+with|retaliat(?:e|es|ed)\s+with|announc(?:e|es|ed))\b"
    r"(?P<obj>(?:[^.;:%!?]|(?<=\b[A-Z])\.){0,60}?)\s(?:(?:to|at|by|of|from|with)\s+)?"
    r"(?:(?:a|an|the|staggering|whopping|new|further|additional|extra|another)\s+)*$",
    re.I,
)
_QUANTITY_AFTER_RE = re.compile(
    r"^\s*(?:(?:year[- ]over[- ]year|year[- ]on[- ]year|annual(?:ized)?|y/y|on[- ]year)\s+)?"
    r"(?:drop|decline|fall|plunge|slump|slide|dip|rise|increase|jump|surge|gain|growth|decrease|"
    r"contraction|reduction|share|stake|chance|probability|likelihood|majority|minority|of\b|"
    r"more\b|less\b|fewer\b|lower\b|higher\b|down\b|up\b|off\b|below\b|above\b|cheaper|"
    r"year[- ]over[- ]year|year[- ]on[- ]year|in\s+(?:imports|exports|sales|trade|shipments|"
    r"prices|output|profits|revenue|gdp)|of\s+(?:gdp|imports|exports)|stake|owned|interest)",
    re.I,
)
_QUANTITY_VERB_BEFORE_RE = re.compile(
    r"\b(?:fell|fall|falls|falling|rose|rises|rising|grew|grow|grows|growing|dropped|drops|"
    r"declined|declines|decline|plunged|jumped|surged|increased|decreased|slid|slipped|shrank|"
    r"contracted|expanded|climbed|gained|lost|tumbled|sank|soared|slumped|down|up)\s+"
    r"(?:by\s+)?(?:(?:at\s+least|about|around|nearly|almost|roughly|more\s+than|less\s+than|over|"
    r"some|an\s+estimated|just|only|a\s+further|another)\s+)*$",
    re.I,
)
_QUANTITY_NOUN_RE = re.compile(
    r"\b(?:revenue|receipts|collections|prices|inflation|stocks?|shares|markets?|sales|output|"
    r"gdp|growth|exports|imports\s+(?:fell|rose|dropped|declined|plunged|jumped|grew))\b",
    re.I,
)
_MODAL_VERB_RE = re.compile(
    r"\b(?:could|would|might|may|will|shall|won['’]t|going\s+to|(?:plan(?:s|ned|ning)?|"
    r"expect(?:s|ed)?|want(?:s|ed)?|intend(?:s|ed)?|seek(?:s|ing)?|vow(?:s|ed)?|threaten(?:s|ed)?|"
    r"propos(?:e|es|ed))\s+to|(?:is|are|was|were)\s+(?:set|poised|slated|scheduled|due|likely|"
    r"expected)\s+to|likely\s+to)\s+(?:\w+\s+){0,2}?(?:impose|slap|levy|raise|hike|increase|lift|"
    r"cut|lower|reduce|rise|go|climb|reach|hit|top|exceed|jump|double|face|be|become|apply|set|put|"
    r"take|come|return|remain|stay|charge|add|triple|respond|retaliate|announce|introduce)\b",
    re.I,
)
_THREAT_RE = re.compile(
    r"\b(?:threaten(?:s|ed|ing)?|propos(?:e|es|ed|ing|al)|consider(?:s|ed|ing)?|weigh(?:s|ed|ing)?|"
    r"mull(?:s|ed|ing)?|floated|warn(?:s|ed|ing)?\s+of|if\b|unless\b|could\s+see|may\s+see)",
    re.I,
)
_MODAL_AFTER_RE = re.compile(
    r"^[^.;]{0,50}?\b(?:(?:could|would|might|may|will)\s+(?:\w+\s+){0,2}?(?:take\s+effect|apply|"
    r"start|begin|kick\s+in|come|be\s+(?:imposed|introduced|applied|considered|raised|cut))|"
    r"(?:is|are)\s+being\s+(?:considered|weighed|discussed)|(?:was|were)\s+proposed|"
    r"under\s+consideration)",
    re.I,
)
_EXEMPT_RE = re.compile(
    r"\b(?:exempt(?:s|ed|ing)?|exemptions?|waive[sd]?|waiving|waivers?|spare[sd]?|sparing|"
    r"carve[- ]outs?|exclu(?:de[sd]?|ding|sions?)|eas(?:e|es|ed|ing)\s+(?:of\s+)?(?:the\s+)?"
    r"(?:dut(?:y|ies)|tariffs?)|whitelist)\b",
    re.I,
)
_DE_MINIMIS_RE = re.compile(r"\bde\s+minimis\b", re.I)
_MONEY_RE = re.compile(
    r"\$\s?(?P<amt>\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?)(?P<scale>\s*(?:billion|million|"
    r"trillion|bn|mn|m|k)\b)?",
    re.I,
)
_BELOW_RE = re.compile(
    r"(?:less\s+than|under|below|up\s+to|no\s+more\s+than|not\s+exceeding|at\s+most)\s+$", re.I
)
_END_RE = re.compile(
    r"\b(?:end(?:s|ed|ing)?|scrap(?:s|ped|ping)?|eliminat(?:e|es|ed|ing)|clos(?:e|es|ed|ing)|"
    r"abolish(?:es|ed|ing)?|revok(?:e|es|ed|ing)|terminat(?:e|es|ed|ing)|suspend(?:s|ed|ing)?|"
    r"kill(?:s|ed|ing)?|remov(?:e|es|ed|ing)|strip(?:s|ped|ping)?|lift(?:s|ed|ing)?|"
    r"shut(?:s|ting)?|no\s+longer|expired?)\b",
    re.I,
)
_RESTORE_RE = re.compile(r"\b(?:restor(?:e|es|ed|ing)|reinstat(?:e|es|ed|ing))\b", re.I)
_RAISE_RE = re.compile(
    r"\b(?:rais(?:e|es|ed|ing)|hik(?:e|es|ed|ing)|increas(?:e|es|ed|ing)|lift(?:s|ed|ing)?\s+\w*\s*"
    r"to|boost(?:s|ed|ing)?|jack(?:s|ed)?\s+up|ratchet(?:s|ed)?\s+up|doubl(?:e|es|ed)|"
    r"tripl(?:e|es|ed)|rose|rise[sn]?|rising|climb(?:s|ed|ing)?|jump(?:s|ed|ing)?|went\s+up|"
    r"escalat(?:e|es|ed|ing))\b",
    re.I,
)
_CUT_RE = re.compile(
    r"\b(?:cut(?:s|ting)?|lower(?:s|ed|ing)?|reduc(?:e|es|ed|ing)|slash(?:es|ed|ing)?|"
    r"trim(?:s|med|ming)?|eas(?:e|es|ed|ing)|dropp(?:ed|ing)|brought\s+down|bring(?:s|ing)?\s+down|"
    r"roll(?:s|ed|ing)?\s+back|fell|fall(?:s|ing)?|de-?escalat(?:e|es|ed|ing))\b",
    re.I,
)
_IMPOSE_RE = re.compile(
    r"\b(?:slap(?:s|ped|ping)?|impos(?:e|es|ed|ing)|levi(?:ed|es)|levy(?:ing)?|plac(?:e|es|ed|ing)|"
    r"put(?:s|ting)?|appl(?:y|ies|ied|ying)|introduc(?:e|es|ed|ing)|announc(?:e|es|ed|ing)|"
    r"unveil(?:s|ed|ing)?|respond(?:s|ed)?\s+with|retaliat(?:e|es|ed)\s+with|hit(?:s|ting)?)\b",
    re.I,
)
_UNIVERSAL_RE = re.compile(
    r"\b(?:all|every|across[- ]the[- ]board|blanket|universal|everything)\b", re.I
)
_ALL_IMPORTS_RE = re.compile(
    r"\b(?:(?:on\s+)?(?:nearly\s+|almost\s+|virtually\s+)?all\s+(?:U\.S\.\s+)?imports|"
    r"all\s+(?:countries|trading\s+partners|nations)|(?:a\s+)?(?:10\s*(?:%|percent)\s+)?"
    r"baseline|universal\s+tariff|global\s+tariffs?|worldwide\s+tariffs?|"
    r"every\s+(?:country|trading\s+partner)|imports\s+from\s+(?:all|every)\b)",
    re.I,
)
_MEASURE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reciprocal", re.compile(r"\breciprocal\b", re.I)),
    ("baseline", re.compile(r"\bbaseline\b", re.I)),
    ("fentanyl", re.compile(r"\bfentanyl\b", re.I)),
    ("retaliatory", re.compile(r"\bretaliat", re.I)),
    ("section 232", re.compile(r"\bsection\s+232\b", re.I)),
    ("section 301", re.compile(r"\bsection\s+301\b", re.I)),
    ("section 122", re.compile(r"\bsection\s+122\b", re.I)),
)


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    code: str          # ISO alpha-2, "EU", or "PRON"
    text: str
    role: str          # side | goods | actor | target | subject | agent | other


_SUBJECT_AFTER_RE = re.compile(
    r"^\s*(?:,[^,]{0,40},\s*)?(?:(?:[“\"]?(?:has|have|had|also|then|later|quickly|quietly|swiftly|"
    r"recently|reportedly|already|now|again|just|officially|is|was|were|are|will|would|could|may|"
    r"might|on\s+\w+day|last\s+\w+|this\s+\w+)[”\"]?)\s+)*"
    r"(?:[a-z]+(?:ed|es)|[a-z]{2,}s|responded|retaliated|hit|put|set|cut|said|says|announced|"
    r"slapped|imposed|raised|hiked|made|took|gave|sought|began|brought|struck|won|kept)\b"
)
_FACES_RE = re.compile(
    r"^(?:['’]s\s+\w+)?\s*(?:(?:now|also|already|still|will|would|could|may|might|is|was|were|are|"
    r"has\s+been|have\s+been)\s+)*(?:fac(?:e|es|ed|ing)|pay(?:s|ing)?|paid|hit\s+(?:with|by)|"
    r"subject(?:ed)?\s+to)\b"
)
_GOODS_AFTER_RE = re.compile(
    rf"^(?:['’]s)?(?:[-‐](?:made|origin))?\s+(?:[a-z]+\s+)?{_GOODS_NOUN}\b", re.I
)
_TARGET_BEFORE_RE = re.compile(
    r"\b(?:on|against|from|for|targeting|targets|targeted|of|single|singled|singling)\s+(?:the\s+)?"
    r"(?:(?:goods|imports|products|shipments|exports)\s+(?:\w+\s+)?from\s+)?$",
    re.I,
)


def _mentions(s: str) -> list[_Mention]:
    """Parties and pronouns in a sentence, each with its grammatical role near it."""
    masked = [(m.start(), m.end()) for m in _MASK_RE.finditer(s)]
    found: list[tuple[int, int, str]] = []
    for code, rx in _PARTY_RES:
        for m in rx.finditer(s):
            if any(a <= m.start() < b for a, b in masked):
                continue
            found.append((m.start(), m.end(), code))
    for m in _PRONOUN_RE.finditer(s):
        found.append((m.start(), m.end(), "PRON"))
    # longest first, drop overlaps
    found.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
    kept: list[tuple[int, int, str]] = []
    for a, b, c in found:
        if all(b <= x or a >= y for x, y, _ in kept):
            kept.append((a, b, c))
    kept.sort()
    return [_Mention(a, b, c, s[a:b], _role(s, a, b, c)) for a, b, c in kept]


def _role(s: str, a: int, b: int, code: str) -> str:
    before, after, word = s[max(0, a - 120):a], s[b:b + 120], s[a:b]
    if re.match(r"\s+side\b", after) and re.search(r"\bon\s+the\s+$", before, re.I):
        return "side"
    if code == "PRON" and word.lower() in ("its", "their", "his", "her"):
        if re.match(rf"\s+(?:[a-z]+\s+)?{_GOODS_NOUN}\b", after, re.I):
            return "goods"
        return "actor"
    if _GOODS_AFTER_RE.match(after) or re.search(r"-(?:made|origin)$", word):
        return "goods"
    if re.match(r"['’]s?\s", after):
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


def _resolve(ms: list[_Mention], idx: int, context: str | None) -> str | None:
    """The party a mention stands for (pronouns: the nearest earlier non-target party)."""
    m = ms[idx]
    if m.code != "PRON":
        return m.code
    for prev in reversed(ms[:idx]):
        if prev.code != "PRON" and prev.role not in ("goods", "target", "side"):
            return prev.code
    return context


def _products_in(s: str, a: int = 0, b: int | None = None) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    seg = s[a:b]
    for rx, label, _q, _p in _PRODUCT_RES:
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


# ================================================================================================
# Time expressions
# ================================================================================================

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MON3 = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_PREP = r"(?:(?i:on|since|from|until|by|before|after)\s+)?"
_TIME_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("md", re.compile(rf"\b{_PREP}{_MON3}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b")),
    ("dm", re.compile(rf"\b{_PREP}\d{{1,2}}(?:st|nd|rd|th)?\s+{_MON3}(?:,?\s+\d{{4}})?\b")),
    ("month", re.compile(r"\b(?:(?:in|since|during|by|until|from|through)\s+)?"
                         r"(?:(?:early|mid|late)[-\s]+)?(?P<mon>January|February|March|April|May|June|"
                         r"July|August|September|October|November|December)(?:\s+(?P<yr>\d{4}))?\b")),
    ("weekday", re.compile(r"\b(?:(?P<mod>last|this|next|on|since|by|until|from|coming|earlier\s+"
                           r"this)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|"
                           r"sunday)(?:['’]s)?\b", re.I)),
    ("rel", re.compile(r"\b(?:(?:earlier|later)\s+this|last|this|next|past|previous|coming)\s+"
                       r"(?:week|month|year)\b", re.I)),
    ("day", re.compile(r"\b(?:today|yesterday|tomorrow|tonight)\b", re.I)),
    ("ago", re.compile(r"\b(?:a|one|two|three|four|five|six|\d+)\s+(?:days?|weeks?|months?)\s+ago\b",
                       re.I)),
    ("recent", re.compile(r"\b(?:recently|in\s+recent\s+(?:days|weeks))\b", re.I)),
)
_FUTURE_RE = re.compile(
    r"\b(?:will|shall|is\s+(?:set|due|scheduled|slated)\s+to|are\s+(?:set|due|scheduled|slated)\s+"
    r"to|to\s+take\s+effect|takes\s+effect|going\s+to|from\s+next)\b",
    re.I,
)
_MONTH_DAY_NAMES = (r"(?:January|February|March|April|May|June|July|August|September|October|"
                    r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_SMALL_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _shift_month(d: dt.date, k: int) -> tuple[int, int]:
    idx = d.year * 12 + d.month - 1 + k
    return idx // 12, idx % 12 + 1


@lru_cache(maxsize=256)
def _dateparser(text: str, base: dt.date, future: bool) -> dt.date | None:
    """dateparser for explicit dates ("April 9", "9 April 2025"), preferring past or future."""
    import dateparser

    cleaned = re.sub(r"^(?:on|since|from|until|by|before|after)\s+", "", text.strip(), flags=re.I)
    cleaned = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", cleaned)
    got = dateparser.parse(
        cleaned, languages=["en"],
        settings={"RELATIVE_BASE": dt.datetime.combine(base, dt.time(12)),
                  "PREFER_DATES_FROM": "future" if future else "past",
                  "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": False},
    )
    return got.date() if got is not None else None


def _resolve_time(kind: str, m: re.Match[str], base: dt.date, future: bool) -> When | None:
    """Resolve one time expression against the article date."""
    text = m.group(0)
    low = text.lower()
    d = base
    if kind in ("iso", "md", "dm"):
        got = _dateparser(text, base, future)
        if got is None:
            return None
        if not re.search(r"\d{4}", text):
            # no year: take the nearer of the past and the future reading ("June 4" in May)
            other = _dateparser(text, base, not future)
            if other is not None and abs((other - base).days) < abs((got - base).days):
                got = other
        if low.startswith("since") and got <= base:
            return When(text, got, base, f"from {got.isoformat()} to the article date")
        return When(text, got, got, f"explicit date, read as {got.isoformat()}", got > base)
    if kind == "month":
        mon = _MONTHS.index(m.group("mon").lower()) + 1
        if m.group("mon") == "May" and not re.match(r"(?:in|since|during|by|until|from|through|early|"
                                                    r"mid|late)\b", low) and not m.group("yr"):
            return None   # "may" the modal verb, or a bare month we cannot place
        if m.group("yr"):
            year = int(m.group("yr"))
        elif future:
            year = d.year if mon >= d.month else d.year + 1
        else:
            year = d.year if mon <= d.month else d.year - 1
        a, b = dt.date(year, mon, 1), _month_end(year, mon)
        if "early" in low:
            b = dt.date(year, mon, 10)
        elif "mid" in low:
            a, b = dt.date(year, mon, 11), dt.date(year, mon, 20)
        elif "late" in low:
            a = dt.date(year, mon, 21)
        return When(text, a, b, f"month {a:%B %Y}", a > base)
    if kind == "weekday":
        wd = _WEEKDAYS.index(m.group("wd").lower())
        mod = (m.group("mod") or "").lower()
        delta_back = (d.weekday() - wd) % 7
        if mod == "last":
            day = d - dt.timedelta(days=delta_back or 7)
            how = f"'last {_WEEKDAYS[wd].title()}': the one before {d.isoformat()}"
        elif mod in ("next", "coming"):
            day = d + dt.timedelta(days=((wd - d.weekday()) % 7) or 7)
            how = f"next {_WEEKDAYS[wd].title()} after {d.isoformat()}"
        elif mod.startswith("earlier") or mod == "this":
            day = d - dt.timedelta(days=d.weekday()) + dt.timedelta(days=wd)
            how = f"{_WEEKDAYS[wd].title()} of the week of {d.isoformat()}"
        elif delta_back == 0:
            day = d
            how = f"the article's own day ({_WEEKDAYS[wd].title()} {d.isoformat()})"
        elif future:
            day = d + dt.timedelta(days=(wd - d.weekday()) % 7)
            how = f"future tense: the next {_WEEKDAYS[wd].title()} after {d.isoformat()}"
        else:
            day = d - dt.timedelta(days=delta_back)
            how = f"past tense: the most recent {_WEEKDAYS[wd].title()} before {d.isoformat()}"
        return When(text, day, day, how, day > base)
    if kind == "rel":
        unit = low.split()[-1]
        if low.startswith(("last", "previous")):
            k = -1
        elif low.startswith(("next", "coming")):
            k = 1
        elif low.startswith("past"):
            span = {"week": 7, "month": 30, "year": 365}[unit]
            return When(text, d - dt.timedelta(days=span), d, f"the {span} days up to {d}")
        else:
            k = 0
        if unit == "week":
            monday = d - dt.timedelta(days=d.weekday()) + dt.timedelta(weeks=k)
            a, b = monday, monday + dt.timedelta(days=6)
        elif unit == "month":
            y, mo = _shift_month(d, k)
            a, b = dt.date(y, mo, 1), _month_end(y, mo)
        else:
            a, b = dt.date(d.year + k, 1, 1), dt.date(d.year + k, 12, 31)
        if k == 0 and low.startswith("earlier"):
            b = d
        elif k == 0 and low.startswith("later"):
            a = d
        elif k == 0:
            b = min(b, d) if not future else b
        return When(text, a, b, f"{a.isoformat()} to {b.isoformat()} relative to {d.isoformat()}",
                    a > base)
    if kind == "day":
        off = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[low]
        day = d + dt.timedelta(days=off)
        return When(text, day, day, f"{low} relative to {d.isoformat()}", off > 0)
    if kind == "ago":
        parts = low.split()
        n = _SMALL_NUMBERS.get(parts[0]) or int(parts[0])
        days = n * {"day": 1, "week": 7, "month": 30}[parts[1].rstrip("s")]
        day = d - dt.timedelta(days=days)
        return When(text, day, day, f"{days} days before {d.isoformat()}")
    if kind == "recent":
        return When(text, d - dt.timedelta(days=30), d, "vague: the 30 days before the article")
    return None


def _times(s: str, base: dt.date) -> list[tuple[int, int, When]]:
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, rx in _TIME_RES:
        for m in rx.finditer(s):
            found.append((m.start(), m.end(), kind, m))
    found.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
    kept: list[tuple[int, int, str, re.Match[str]]] = []
    for x in found:
        if all(x[1] <= y[0] or x[0] >= y[1] for y in kept):
            kept.append(x)
    out: list[tuple[int, int, When]] = []
    for a, b, kind, m in sorted(kept, key=lambda x: x[0]):
        local = _clause_left(s, a, 80) + s[a:b + 40]
        future = bool(_FUTURE_RE.search(local)) and not re.search(
            r"\b(?:last|ago|earlier|yesterday|recently|past|previous)\b", m.group(0), re.I)
        w = _resolve_time(kind, m, base, future)
        if w is not None:
            out.append((a, b, w))
    return out


# ================================================================================================
# Finding claims
# ================================================================================================


@dataclass
class _RateHit:
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


def _clause_left(s: str, pos: int, width: int = 90) -> str:
    """The text before ``pos`` back to the start of its clause (at most ``width`` characters)."""
    left = s[max(0, pos - width):pos]
    cut = max(left.rfind(";"), left.rfind(":"), left.rfind("—"), left.rfind(" – "), left.rfind("("))
    for m in re.finditer(r",\s+(?:and|but|while|whereas)\s+", left):
        cut = max(cut, m.end() - 1)
    return left[cut + 1:] if cut >= 0 else left


def _rate_hits(s: str) -> list[_RateHit]:
    """Percentages in a sentence that are tariff rates (not trade flows or other numbers)."""
    hits: list[_RateHit] = []
    tariff_ctx = bool(_TARIFF_RE.search(s))
    consumed: set[int] = set()
    for m in _RATE_RE.finditer(s):
        if m.start() in consumed:
            continue
        num = float(m.group("num"))
        lo = float(m.group("lo")) if m.group("lo") else None
        pp = "point" in m.group("unit").lower()
        L_off = max(0, m.start() - 110)
        Lw, R = s[L_off:m.start()], s[m.end():m.end() + 200]
        rate_from: float | None = None
        consumed_to: int | None = None
        fm = re.match(rf"\s*,?\s*(?:up|down)?\s*from\s+(?:a|an|the)?\s*(?P<f>{_NUM}){_PCT_UNIT}", R, re.I)
        if fm:
            rate_from = float(fm.group("f"))
            consumed_to = m.end() + fm.end()
            for k in range(m.end(), consumed_to):
                consumed.add(k)
        if lo is not None and re.search(r"\bfrom\s+(?:a|an|the)?\s*$", Lw, re.I):
            rate_from, lo = lo, None
        if _QUANTITY_AFTER_RE.match(R if consumed_to is None else s[consumed_to:consumed_to + 200]):
            continue
        anchor: tuple[int, int, str] | None = None
        ra = _RIGHT_ANCHOR_RE.match(R)
        if ra and (ra.group("noun").lower() not in ("rate", "tax", "taxes", "baseline") or tariff_ctx):
            anchor = (m.start(), m.end() + ra.end(), "noun after")
        if anchor is None:
            la = _LEFT_ANCHOR_RE.search(Lw)
            if la and re.search(r",\s+(?:then|and|but|while|later|before|after)\b", la.group("bridge")):
                la = None
            if la and not _QUANTITY_NOUN_RE.search(la.group("bridge")) and not re.search(
                    r"\b(?:fell|rose|dropped|declined|grew|plunged)\b", la.group("bridge"), re.I):
                if la.group("noun").lower().startswith("rate") and not tariff_ctx:
                    la = None
                if la:
                    anchor = (L_off + la.start(), m.end(), "tariff noun before")
        if anchor is None and tariff_ctx:
            clause = _clause_left(s, m.start(), 110)
            va = _VERB_ANCHOR_RE.search(clause)
            subj = clause[: va.start()][-40:] if va else ""
            if va and not _QUANTITY_NOUN_RE.search(va.group("obj")) and not _QUANTITY_NOUN_RE.search(
                    subj):
                base = m.start() - len(_clause_left(s, m.start(), 110))
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
        qv = _QUANTITY_VERB_BEFORE_RE.search(Lw)
        if anchor[2] != "noun after" and qv and not re.search(
                rf"{_TARIFF_NOUN}\s+(?:on\s+(?:[\w.’'-]+\s+){{1,4}})?$", Lw[: qv.start()], re.I):
            continue
        hits.append(_RateHit(m.start(), m.end(), num, lo, pp, anchor[0], anchor[1], anchor[2],
                             rate_from, consumed_to))
    return hits


def _target_window(s: str, a: int, width: int = 80) -> str:
    seg = s[a:a + width]
    cut = re.search(r"[;:]|\.\s*$|\s[–—]\s|,\s+(?:but|while|which|and\s+(?:said|that))\b", seg)
    return seg[: cut.start()] if cut else seg


def _target_phrase(win: str) -> int | None:
    """Length of an 'on <whom>' phrase at the start of ``win`` (for the claim's span)."""
    thing = rf"(?:{_GOODS_NOUN}|{_PRODUCT_ALT})"
    for rx, flags in ((rf"\s*(?:on|against)\s+[^,;]{{0,50}}?\b{thing}\b"
                       rf"(?:,?\s+(?:and|or)\s+(?:[\w.-]+\s+){{0,2}}?{thing}\b)*", re.I),
                      (r"\s*on\s+the\s+\S+\s+side\b", re.I),
                      (r"\s*(?:on|against)\s+(?:the\s+)?(?!" + _MONTH_DAY_NAMES + r")[A-Z][\w’'.-]*"
                       r"(?:\s+[A-Z][\w’'.-]*)*", 0)):
        m = re.match(rx, win, flags)
        if m:
            return m.end()
    return None


def _find_target(s: str, core_a: int, core_b: int, anchor_a: int, ms: list[_Mention],
                 actor_code: str | None) -> Target:
    """Whose goods or which goods: 'on X' after the rate, then the bridge, then the sentence."""
    win = _target_window(s, core_b)
    win_prods = _products_in(s, core_b, core_b + len(win))
    onm = re.match(r"\s*(?:[\w-]+\s+){0,3}?(?:on|against|for)\s+"
                   r"(?P<t>(?:(?!\d{1,3}(?:\.\d+)?\s*(?:%|percent))[^,;]){0,60})", win)
    near_products = [p for p in win_prods if onm and p[0] <= core_b + onm.end()] if onm else []

    def country_in(a: int, b: int, roles: tuple[str, ...]) -> _Mention | None:
        for mm in ms:
            if a <= mm.start < b and mm.code not in ("PRON", actor_code) and mm.role in roles:
                return mm
        return None

    if onm:
        t_text = onm.group("t").strip()
        t_a = core_b + onm.start("t")
        all_words = _ALL_IMPORTS_RE.match(t_text) or re.match(r"(?:nearly\s+|almost\s+)?all\b",
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
    bridge_prods = tuple(p[2] for p in _products_in(s, anchor_a, core_a))
    if c or bridge_prods:
        return Target("products" if bridge_prods else "country", s[anchor_a:core_a].strip(),
                      c.code if c else None, bridge_prods)
    clause = _clause_left(s, core_a, 120) + s[core_a:core_b] + win
    if _ALL_IMPORTS_RE.search(clause):
        return Target("all", _ALL_IMPORTS_RE.search(clause).group(0))  # type: ignore[union-attr]
    # anywhere in the sentence: goods/target role, nearest to the claim; products named earlier
    # in the same clause ("Microchips from China remain subject to the 20% duty") stay with it
    left = _clause_left(s, core_a, 120)
    clause_prods = tuple(p[2] for p in _products_in(s, core_a - len(left), core_a))
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


def _find_actor(s: str, core_a: int, core_b: int, ms: list[_Mention],
                context: str | None) -> tuple[str | None, str]:
    """Who imposes: 'on the X side', a possessive ('Trump's 145%'), 'by X', else the subject."""
    for i, mm in enumerate(ms):
        if mm.role == "side" and core_b <= mm.start <= core_b + 40:
            return _resolve(ms, i, context), mm.text
    for i in range(len(ms) - 1, -1, -1):
        mm = ms[i]
        if mm.role == "actor" and core_a - 60 <= mm.start < core_a:
            return _resolve(ms, i, context), mm.text
    for i, mm in enumerate(ms):
        if mm.role == "agent" and core_b <= mm.start <= core_b + 50:
            return _resolve(ms, i, context), mm.text
    for i in range(len(ms) - 1, -1, -1):
        mm = ms[i]
        if mm.start < core_a and mm.role in ("subject", "actor"):
            return _resolve(ms, i, context), mm.text
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
    return tuple(name for name, rx in _MEASURE_WORDS if rx.search(seg))


def _is_forecast(s: str, anchor_a: int, core_b: int) -> bool:
    clause = _clause_left(s, anchor_a, 70) + s[anchor_a:core_b]
    if _MODAL_VERB_RE.search(clause) or _THREAT_RE.search(clause):
        return True
    return bool(_MODAL_AFTER_RE.match(s[core_b:]))


def _change_kind(s: str, anchor_a: int, core_a: int, hit: _RateHit | None) -> Change:
    seg = _clause_left(s, core_a, 90)
    if hit is not None and (hit.pp or re.search(r"\bby\s+(?:another\s+)?$", s[max(0, core_a - 20):core_a], re.I)):
        return "delta"
    last: tuple[int, Change] | None = None
    for rx, kind in ((_RAISE_RE, "raise"), (_CUT_RE, "cut"), (_IMPOSE_RE, "impose")):
        for m in rx.finditer(seg):
            if last is None or m.start() > last[0]:
                last = (m.start(), kind)  # type: ignore[assignment]
    if last is None:
        return "level"
    return last[1]


def _nearest_time(times: list[tuple[int, int, When]], a: int, b: int,
                  taken: set[int]) -> When | None:
    """The time expression closest to span [a, b) not already used by another claim here;
    one the next rate in the sentence is closer to is left for that rate."""
    best: tuple[int, int, When] | None = None
    for i, (x, y, w) in enumerate(times):
        if i in taken:
            continue
        dist = 0 if (x < b and y > a) else min(abs(x - b), abs(a - y))
        if best is None or dist < best[0]:
            best = (dist, i, w)
    if best is None:
        return None
    taken.add(best[1])
    return best[2]


def _check_day(w: When | None, base: dt.date) -> dt.date:
    if w is None:
        return base
    if w.start > base:
        return w.start
    return min(w.end, base)


def find_claims(article: Article) -> list[Claim]:
    """Every tariff claim in the article: rates, exemptions and de minimis statements, in order.

    Numbers that describe trade flows ("imports fell 20%", "a 75% to 80% drop") are not claims.
    """
    out: list[Claim] = []
    context: str | None = None
    base = article.date
    for sent in article.sentences:
        s = sent.text
        ms = _mentions(s)
        times = _times(s, base)
        claims_here: list[Claim] = []
        # -- de minimis / low-value threshold ------------------------------------------------
        dm = _de_minimis_claim(sent, ms, times, base, context)
        if dm is not None:
            claims_here.append(dm)
        # -- rates -------------------------------------------------------------------------------
        prev_end = 0
        hits = _rate_hits(s)
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
            when = _nearest_time(times, core_a, core_b, blocked)
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
                change=change, when=when, on=_check_day(when, base),
                forecast=_is_forecast(s, hit.anchor_start, core_b) or bool(when and when.future),
                universal=bool(_UNIVERSAL_RE.search(s[max(prev_end, span_a - 40):end_b])),
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


def _de_minimis_claim(sent: Sentence, ms: list[_Mention], times: list[tuple[int, int, When]],
                      base: dt.date, context: str | None) -> Claim | None:
    s = sent.text
    threshold: tuple[int, int, float] | None = None
    for m in _MONEY_RE.finditer(s):
        if m.group("scale"):
            continue
        if _BELOW_RE.search(s[: m.start()][-30:]) or re.match(r"\s*or\s+less\b", s[m.end():], re.I):
            threshold = (m.start(), m.end(), float(m.group("amt").replace(",", "")))
            break
    named = _DE_MINIMIS_RE.search(s)
    if threshold is None and named:
        near = list(_MONEY_RE.finditer(s[max(0, named.start() - 25):named.start()]))
        if near and not near[-1].group("scale"):
            off = max(0, named.start() - 25)
            threshold = (off + near[-1].start(), off + near[-1].end(),
                         float(near[-1].group("amt").replace(",", "")))
    exempt = _EXEMPT_RE.search(s) or re.search(r"\b(?:duty|tax)[- ]free\b", s, re.I)
    if not named and not (threshold and exempt):
        return None
    anchor = named or exempt
    assert anchor is not None
    a = min(anchor.start(), threshold[0] if threshold else anchor.start())
    b = max(anchor.end(), threshold[1] if threshold else anchor.end())
    verbs = list(_END_RE.finditer(s[max(0, a - 40):a]))
    verb = verbs[-1] if verbs else None
    if verb is not None:
        a = max(0, a - 40) + verb.start()
    after = re.match(r"^(?:\s+[\w$.,-]+){0,7}?\s+(?:" + _END_RE.pattern[2:-2] + r")\b",
                     s[b:b + 50], re.I)
    if after:
        b += after.end()
    seg = s[max(0, a - 60):b]
    change: Change = "level"
    if _END_RE.search(seg):
        change = "end"
    elif _RESTORE_RE.search(seg):
        change = "restore"
    code, actor_text = _find_actor(s, a, b, ms, context)
    if code is None:
        code, actor_text = "US", "(inferred: de minimis is U.S. law)"
    target = Target("all", "all origins")
    for mm in ms:
        if mm.code not in ("PRON", "US") and mm.role in ("goods", "target", "other"):
            target = Target("country", mm.text, mm.code)
            break
    when = _nearest_time(times, a, b, set())
    return Claim(
        kind="de_minimis", start=sent.start + a, end=sent.start + b, fragment=s[a:b], sentence=sent,
        actor=_actor_label(code), actor_text=actor_text, actor_country=code, target=target,
        change=change, threshold_usd=threshold[2] if threshold else None, when=when,
        on=_check_day(when, base),
        forecast=bool(_MODAL_VERB_RE.search(_clause_left(s, a, 60)) or (when and when.future)),
        measure=("de minimis",),
    )


def _exemption_claim(sent: Sentence, ms: list[_Mention], times: list[tuple[int, int, When]],
                     base: dt.date, context: str | None, has_de_minimis: bool) -> Claim | None:
    s = sent.text
    if has_de_minimis or not _TARIFF_RE.search(s):
        return None
    m = _EXEMPT_RE.search(s)
    if m is None:
        return None
    a = m.start()
    prods = _products_in(s, a) or _products_in(s)
    b = max([m.end()] + [p[1] for p in prods if p[0] > a])
    before = [p for p in prods if p[0] < a and not re.search(r"[;:]|\s[–—]\s", s[p[0]:a])]
    if before:   # "Smartphones and computers were exempted ..."
        a = before[0][0]
    frm = re.match(r"\s+from\s+(?:the\s+|its\s+|their\s+)?[^,;–—]{0,50}?\b"
                   r"(?:tariffs?|dut(?:y|ies)|levy|levies)\b", s[m.end():], re.I)
    if frm:
        b = max(b, m.end() + frm.end())
    code, actor_text = _find_actor(s, a, m.end(), ms, context)
    country: _Mention | None = None
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
    goods = re.match(rf"[^,;–—]{{0,60}}?\b{_GOODS_NOUN}\b", s[m.end():], re.I)
    if goods and not labels:
        b = max(b, m.end() + goods.end())
    when = _nearest_time(times, a, b, set())
    forecast = bool(re.search(r"\b(?:could|might|may|would|plan(?:s|ned)?\s+to|consider(?:s|ing)?|"
                              r"seek(?:s|ing)?|ask(?:s|ed|ing)?\s+for|lobby(?:ing)?\s+for)\s+"
                              r"(?:\w+\s+){0,2}$", s[max(0, a - 80):a], re.I))
    notes = ("stated as a plan ('will')",) if re.search(r"\bwill\s+$", s[max(0, a - 10):a]) else ()
    return Claim(
        kind="exemption", start=sent.start + a, end=sent.start + b, fragment=s[a:b], sentence=sent,
        actor=_actor_label(code), actor_text=actor_text or "(unknown)", actor_country=code,
        target=Target(kind, ttext or ", ".join(labels), tcode, labels), change="exempt",
        when=when, on=_check_day(when, base), forecast=forecast,
        measure=_measure(s, a, b), notes=notes,
    )


# ================================================================================================
# Checking U.S. claims with the engine
# ================================================================================================

COUNTRY_WIDE: frozenset[str] = frozenset({"ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other", "s122"})
LAYER_LABEL: dict[str, str] = {
    "mfn": "MFN", "s301": "Section 301", "s232": "Section 232", "ieepa_fentanyl": "fentanyl",
    "ieepa_reciprocal": "reciprocal", "ieepa_other": "IEEPA other", "s122": "Section 122",
    "s201": "Section 201", "other": "other",
}
SAMPLE_CHAPTERS = 30
# lines that show the usual exemptions (electronics, 232 metals, autos, pharma); used when present
PROBE_PREFIXES = ("8517130000", "84713001", "854231", "720851", "870323", "300490", "940360")
ALL_ORIGINS = ("DE", "JP", "GB", "IN", "VN", "BR", "KR", "AU", "CN", "CA", "MX")
PRODUCT_ORIGINS = ("DE", "JP", "BR", "CN", "MX")
_TOL = 0.05


def _digits(code: str) -> str:
    return re.sub(r"\D", "", code)


def _fmt(x: float) -> str:
    return f"{x:g}%"


def _sample_codes(engine: EngineLike, on: dt.date, size: int = SAMPLE_CHAPTERS) -> list[str]:
    """A deterministic spread of HTS-10 lines: the middle line of evenly spaced chapters plus
    probe lines that exercise the well-known exemptions."""
    cache: dict[tuple[dt.date, int], list[str]] | None = getattr(engine, "samples", None)
    if cache is not None and (on, size) in cache:
        return list(cache[(on, size)])
    prods = list(engine.products(on))
    by_ch: dict[str, list[str]] = {}
    for p in prods:
        d = _digits(p)
        if len(d) < 8 or d[:2] in ("98", "99"):
            continue
        by_ch.setdefault(d[:2], []).append(p)
    chapters = sorted(by_ch)
    step = max(1, round(len(chapters) / size)) if chapters else 1
    picked = [by_ch[ch][len(by_ch[ch]) // 2] for ch in chapters[::step]]
    ordered = sorted((_digits(p), p) for p in prods)
    for pre in PROBE_PREFIXES:
        hit = next((p for d, p in ordered if d.startswith(pre)), None)
        if hit and hit not in picked:
            picked.append(hit)
    if cache is not None:
        cache[(on, size)] = list(picked)
    return picked


def _codes_for(engine: EngineLike, labels: Sequence[str], on: dt.date,
               per_group: int = 3) -> tuple[dict[str, list[str]], list[Evidence]]:
    """HTS-10 codes for product words, through the engine's search (restricted to the group's
    headings so "chips" never lands on potato chips); falls back to the first lines in force."""
    prods: list[str] | None = None
    out: dict[str, list[str]] = {}
    ev: list[Evidence] = []
    for label in labels:
        query, prefixes = _PRODUCT_LOOKUP[label]
        try:
            hits = engine.search(query, limit=40)
        except TariffstackError:
            hits = []
        codes: list[str] = []
        for h in hits:
            d = _digits(h.hts)
            if any(d.startswith(p) for p in prefixes) and len(d) == 10 and h.hts not in codes:
                codes.append(h.hts)
            if len(codes) >= per_group:
                break
        how = f"engine search {query!r}"
        if len(codes) < per_group:
            if prods is None:
                prods = list(engine.products(on))
            for p in prods:
                d = _digits(p)
                if any(d.startswith(x) for x in prefixes) and p not in codes:
                    codes.append(p)
                if len(codes) >= per_group:
                    break
            how += " + first lines in force under " + ", ".join(prefixes)
        out[label] = codes
        ev.append(Evidence("search", f"{label}: {', '.join(codes) or 'no codes found'} ({how})",
                           codes=tuple(codes)))
    return out, ev


def _value(res: RateResult, fams: frozenset[str] | None) -> float:
    return round(sum(x.rate_pct or 0.0 for x in res.layers
                     if not x.exempt and x.layer != "mfn" and (fams is None or x.layer in fams)), 4)


def _families(claim: Claim) -> frozenset[str]:
    m = set(claim.measure)
    if "fentanyl" in m:
        return frozenset({"ieepa_fentanyl"})
    if "reciprocal" in m or "baseline" in m:
        return frozenset({"ieepa_reciprocal"})
    if "section 232" in m:
        return frozenset({"s232"})
    if "section 301" in m:
        return frozenset({"s301"})
    if "section 122" in m:
        return frozenset({"s122"})
    return COUNTRY_WIDE


def _stack_words(res: RateResult, fams: frozenset[str] | None) -> str:
    layers = sorted((x for x in res.layers if not x.exempt and x.layer != "mfn"
                     and (x.rate_pct or 0.0) > 0 and (fams is None or x.layer in fams)),
                    key=lambda x: -(x.rate_pct or 0.0))
    parts = [f"{_fmt(x.rate_pct or 0.0)} {LAYER_LABEL.get(x.layer, x.layer)} ({x.heading})"
             for x in layers]
    return " + ".join(parts) if parts else "no additional duty"


def _layer_evidence(res: RateResult) -> list[Evidence]:
    out = []
    for x in res.layers:
        if x.layer == "mfn":
            continue
        eff = x.effective_from.isoformat() if x.effective_from else "?"
        kind = "exemption" if x.exempt else "layer"
        label = LAYER_LABEL.get(x.layer, x.layer)
        what = "exempt" if x.exempt else _fmt(x.rate_pct or 0.0)
        out.append(Evidence(
            kind, f"{res.hts10} from {res.origin} on {res.entry_date}: {label} {what} under "
                  f"{x.heading} ({x.revision}, in force from {eff}): {x.reason}",
            heading=x.heading, rate_pct=x.rate_pct, effective_from=x.effective_from,
            source=x.source, codes=(res.hts10,), layer=x.layer))
    return out


def _exempt_words(res: RateResult) -> str:
    ex = [x for x in res.layers if x.exempt]
    if not ex:
        return _stack_words(res, None)
    return "; ".join(f"{LAYER_LABEL.get(x.layer, x.layer)} exempt under {x.heading}"
                     + (f", {x.source.split(';')[0].strip()}" if x.source else "") for x in ex)


def _matches(claim: Claim, v: float) -> bool:
    if claim.rate_range:
        return claim.rate_range[0] - _TOL <= v <= claim.rate_range[1] + _TOL
    return claim.rate_pct is not None and abs(v - claim.rate_pct) <= _TOL


def _claimed(claim: Claim) -> str:
    if claim.rate_range:
        return f"{_fmt(claim.rate_range[0])} to {_fmt(claim.rate_range[1])}"
    return _fmt(claim.rate_pct or 0.0)


def _safe_rate(engine: EngineLike, code: str, origin: str, on: dt.date,
               errors: list[str]) -> RateResult | None:
    try:
        return engine.rate(code, origin, on)
    except TariffstackError as exc:
        errors.append(f"{code} {origin} {on}: {exc}")
        return None


def _since(engine: EngineLike, code: str, origin: str, on: dt.date, fams: frozenset[str] | None,
           target: float, days: int = 400) -> tuple[dt.date, float | None] | None:
    """First day of the unbroken run (ending on ``on``) where the value equals ``target``, by
    bisection, and the value the day before. Why: effective dates printed on layers can be a
    revision's modification date, so when a level began is measured, not read."""
    errs: list[str] = []

    def val(d: dt.date) -> float | None:
        r = _safe_rate(engine, code, origin, d, errs)
        return None if r is None else _value(r, fams)

    def ok(d: dt.date) -> bool:
        v = val(d)
        return v is not None and abs(v - target) <= _TOL

    if not ok(on):
        return None
    lo, hi = on - dt.timedelta(days=days), on
    if ok(lo):
        return lo, None
    while (hi - lo).days > 1:
        mid = lo + dt.timedelta(days=(hi - lo).days // 2)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi, val(hi - dt.timedelta(days=1))


def _timing(engine: EngineLike, claim: Claim, code: str, origin: str,
            fams: frozenset[str] | None, current: float) -> tuple[bool, str, list[Evidence]]:
    """Check 'when' and 'from' of a change claim against the schedule: (ok, words, evidence)."""
    if claim.change not in ("raise", "cut", "impose", "delta") and claim.rate_from_pct is None:
        return True, "", []
    if claim.when is None and claim.rate_from_pct is None and claim.change != "delta":
        return True, "", []
    found = _since(engine, code, origin, claim.on, fams, current)
    if found is None:
        return True, "", []
    start, before = found
    ev = [Evidence("timing", f"{code} from {origin}: {_fmt(current)} since {start.isoformat()}"
                   + (f", {_fmt(before)} the day before" if before is not None else ""),
                   effective_from=start, codes=(code,))]
    problems: list[str] = []
    if claim.when is not None and not claim.when.future and start < claim.when.start:
        problems.append(f"the schedule shows {_fmt(current)} since {start.isoformat()}, before "
                        f"'{claim.when.text}' ({claim.when.start.isoformat()} to "
                        f"{claim.when.end.isoformat()})")
    if claim.rate_from_pct is not None and before is not None and abs(before - claim.rate_from_pct) > _TOL:
        problems.append(f"the rate before the change was {_fmt(before)}, not {_fmt(claim.rate_from_pct)}")
    if claim.change == "delta" and before is not None and claim.rate_pct is not None \
            and abs((current - before) - claim.rate_pct) > _TOL:
        problems.append(f"the change on {start.isoformat()} was {current - before:+g} points")
    if problems:
        return False, "; ".join(problems), ev
    words = f"in force since {start.isoformat()}"
    if before is not None:
        words += f" (was {_fmt(before)})"
    return True, words, ev


def _short_desc(res: RateResult) -> str:
    """A readable product name: the line's text, or its nearest ancestor when it says 'Other'."""
    names = [res.description, *reversed(res.path)]
    for d in names:
        d = d.strip().rstrip(":")
        if d and not d.lower().startswith("other"):
            return _clip(d, 40)
    return _clip(res.description, 40)


def _exception_words(others: dict[float, list[RateResult]], examples: int = 3) -> list[str]:
    """'N lines pay X% (why): examples' per (rate, exempting headings) group, largest first."""
    keyed: dict[tuple[float, str], list[RateResult]] = {}
    for v, rs in others.items():
        for r in rs:
            keyed.setdefault((v, _exempt_words(r)), []).append(r)
    out = []
    for (v, why), rs in sorted(keyed.items(), key=lambda kv: (-len(kv[1]), kv[0][0])):
        rs = sorted(rs, key=lambda r: (_short_desc(r).lower().startswith("other"),
                                       not any(_digits(r.hts10).startswith(p) for p in PROBE_PREFIXES),
                                       r.hts10))
        eg = ", ".join(f"{r.hts10} {_short_desc(r)}" for r in rs[:examples])
        more = f" (+{len(rs) - examples} more)" if len(rs) > examples else ""
        n = f"{len(rs)} lines pay" if len(rs) > 1 else "1 line pays"
        out.append(f"{n} {_fmt(v)} ({why}), e.g. {eg}{more}")
    return out


def _check_us_country(claim: Claim, engine: EngineLike) -> CheckedClaim:
    origin = claim.target.country or ""
    if origin == "EU":
        origin = "DE"
    fams = _families(claim)
    errors: list[str] = []
    codes = _sample_codes(engine, claim.on)
    results = [r for c in codes if (r := _safe_rate(engine, c, origin, claim.on, errors)) is not None]
    if not results:
        return _nc(claim, "US", f"the engine could not price any sampled line: {errors[:1]}")
    groups: dict[float, list[RateResult]] = {}
    for r in results:
        groups.setdefault(_value(r, fams), []).append(r)
    modal_v, modal = max(groups.items(), key=lambda kv: (len(kv[1]), kv[0]))
    rep = modal[0]
    name = _COUNTRY_NAMES.get(origin) or rep.origin_name or origin
    scope = f"on products of {name} on {claim.on.isoformat()}"
    if claim.target.country == "EU":
        scope += " (Germany taken for the EU)"
    others = {v: rs for v, rs in groups.items() if v != modal_v}
    exc_words = _exception_words(others)
    rep_ev = _layer_evidence(rep)
    evidence = [e for e in rep_ev if e.layer in fams]
    for rs in others.values():
        evidence.extend(e for e in _layer_evidence(rs[0]) if e.kind == "exemption")
    evidence.extend(e for e in rep_ev if e not in evidence)
    evidence.append(Evidence("sample", f"{len(results)} HTS-10 lines sampled from "
                                       f"{len({_digits(r.hts10)[:2] for r in results})} chapters",
                             codes=tuple(r.hts10 for r in results)))
    stack = _stack_words(rep, fams)
    share = f"{len(modal)} of {len(results)} sampled lines"
    tail = ("; product-specific duties (MFN, Section 301, Section 232) come on top and vary by product"
            if fams == COUNTRY_WIDE else "")
    exc_txt = f"; exemptions: {'; '.join(exc_words)}" if exc_words else ""
    codes_used = tuple(r.hts10 for r in results)
    if _matches(claim, modal_v):
        ok, twords, tev = _timing(engine, claim, rep.hts10, origin, fams, modal_v)
        evidence.extend(tev)
        if not ok:
            return CheckedClaim(claim, "partly_supported",
                                f"rate right, timing wrong: {stack} {scope} ({share}), but {twords}",
                                "US", tuple(evidence), codes_used)
        verdict: Verdict = "partly_supported" if (claim.universal and exc_words) else "supported"
        lead = "true for most products but not all" if verdict == "partly_supported" else verdict
        when = f"; {twords}" if twords else ""
        return CheckedClaim(claim, verdict, f"{lead}: {stack} {scope} ({share}){when}{exc_txt}{tail}",
                            "US", tuple(evidence), codes_used)
    minority = [(v, rs) for v, rs in others.items() if _matches(claim, v)]
    if minority:
        v, rs = minority[0]
        return CheckedClaim(
            claim, "partly_supported",
            f"{_claimed(claim)} holds only for {len(rs)} of {len(results)} sampled lines (e.g. "
            f"{rs[0].hts10}: {_stack_words(rs[0], fams)}); most {scope} pay {_fmt(modal_v)}: {stack}",
            "US", tuple(evidence), codes_used)
    return CheckedClaim(
        claim, "contradicted",
        f"the schedule says {_fmt(modal_v)} ({stack}) {scope} ({share}), not {_claimed(claim)}"
        f"{exc_txt}{tail}",
        "US", tuple(evidence), codes_used)


def _check_us_products(claim: Claim, engine: EngineLike) -> CheckedClaim:
    by_label, evidence = _codes_for(engine, claim.target.products, claim.on)
    named: tuple[str, ...] = (claim.target.country,) if claim.target.country else PRODUCT_ORIGINS
    origins = tuple("DE" if o == "EU" else o for o in named)
    fams: frozenset[str] | None = _families(claim) if claim.measure else None
    if fams == COUNTRY_WIDE:
        fams = None
    errors: list[str] = []
    pairs: list[tuple[str, RateResult, list[str]]] = []
    for label, codes in by_label.items():
        for code in codes:
            for o in origins:
                r = _safe_rate(engine, code, o, claim.on, errors)
                if r is None:
                    continue
                # a claim about a product names its measure (232, 301...); only a claim about
                # one origin's product may mean the whole stack
                allowed = fams if fams is not None else (
                    frozenset(LAYER_LABEL) - COUNTRY_WIDE - {"mfn"})
                cands: dict[str, float] = {}
                for x in r.layers:
                    if x.layer in allowed and not x.exempt:
                        key = LAYER_LABEL.get(x.layer, x.layer)
                        cands[key] = cands.get(key, 0.0) + (x.rate_pct or 0.0)
                if fams is None and claim.target.country:
                    cands["IEEPA country-wide"] = _value(r, COUNTRY_WIDE)
                    cands["total additional"] = r.total_additional_pct
                hit = [k for k, v in cands.items() if _matches(claim, v)]
                pairs.append((label, r, hit))
    codes_used = tuple(dict.fromkeys(c for cs in by_label.values() for c in cs))
    if not pairs:
        why = errors[0] if errors else "no HTS codes found for " + ", ".join(claim.target.products)
        return _nc(claim, "US", f"could not price the products: {why}", evidence, codes_used)
    good = [p for p in pairs if p[2]]
    lines = []
    for label, r, hit in pairs[:6]:
        lines.append(f"{label} {r.hts10} from {r.origin}: {_stack_words(r, fams)}"
                     + (f" [matches: {', '.join(hit)}]" if hit else ""))
    for _, r, _ in pairs[:3]:
        evidence.extend(_layer_evidence(r))
    scope = (f"on {claim.on.isoformat()} for origins {', '.join(origins)}"
             if not claim.target.country else f"on {claim.on.isoformat()}")
    detail = "; ".join(lines) + (f"; ... {len(pairs) - 6} more" if len(pairs) > 6 else "")
    if len(good) == len(pairs):
        return CheckedClaim(claim, "supported", f"supported {scope}: {detail}", "US",
                            tuple(evidence), codes_used)
    if good:
        return CheckedClaim(claim, "partly_supported",
                            f"{_claimed(claim)} holds for {len(good)} of {len(pairs)} product/origin "
                            f"pairs {scope}: {detail}", "US", tuple(evidence), codes_used)
    return CheckedClaim(claim, "contradicted", f"no checked product pays {_claimed(claim)} {scope}: "
                                               f"{detail}", "US", tuple(evidence), codes_used)


def _check_us_all(claim: Claim, engine: EngineLike) -> CheckedClaim:
    fams = _families(claim)
    if claim.measure == () or fams == COUNTRY_WIDE:
        fams = frozenset({"ieepa_reciprocal"}) if any(
            w in claim.fragment.lower() for w in ("baseline", "global", "universal")) else fams
    codes = _sample_codes(engine, claim.on, 12)[:12]
    errors: list[str] = []
    per_origin: dict[str, float] = {}
    reps: dict[str, RateResult] = {}
    for o in ALL_ORIGINS:
        vals: Counter[float] = Counter()
        for c in codes:
            r = _safe_rate(engine, c, o, claim.on, errors)
            if r is not None:
                vals[_value(r, fams)] += 1
                reps.setdefault(o, r)
        if vals:
            per_origin[o] = max(vals.items(), key=lambda kv: (kv[1], kv[0]))[0]
    if not per_origin:
        return _nc(claim, "US", f"the engine could not price any sampled line: {errors[:1]}")
    overall = Counter(per_origin.values())
    modal_v = max(overall.items(), key=lambda kv: (kv[1], kv[0]))[0]
    exceptions = [f"{o} {_fmt(v)}" for o, v in per_origin.items() if v != modal_v]
    rep = next(reps[o] for o, v in per_origin.items() if v == modal_v)
    evidence = _layer_evidence(rep) + [Evidence("sample", f"{len(codes)} lines x origins "
                                                          f"{', '.join(per_origin)}",
                                                codes=tuple(codes))]
    exc = f"; other rates: {', '.join(exceptions)}" if exceptions else ""
    head = (f"{_stack_words(rep, fams)} for {overall[modal_v]} of "
            f"{len(per_origin)} sampled origins on {claim.on.isoformat()}{exc}")
    if _matches(claim, modal_v):
        verdict: Verdict = "partly_supported" if (claim.universal and exceptions) else "supported"
        return CheckedClaim(claim, verdict, f"{verdict.replace('_', ' ')}: {head}", "US",
                            tuple(evidence), tuple(codes))
    if any(_matches(claim, v) for v in per_origin.values()):
        return CheckedClaim(claim, "partly_supported", f"only some origins: {head}", "US",
                            tuple(evidence), tuple(codes))
    return CheckedClaim(claim, "contradicted", f"the schedule says {head}; not {_claimed(claim)}",
                        "US", tuple(evidence), tuple(codes))


def _check_us_exemption(claim: Claim, engine: EngineLike) -> CheckedClaim:
    if not claim.target.products:
        return _nc(claim, "US", "no product named: cannot tell which exemption is meant")
    by_label, evidence = _codes_for(engine, claim.target.products, claim.on)
    origins = (claim.target.country,) if claim.target.country and claim.target.country != "US" \
        else ("CN",) + tuple(o for o in PRODUCT_ORIGINS if o != "CN")[:2]
    fams = _families(claim)
    errors: list[str] = []
    rows: list[tuple[str, RateResult, bool]] = []
    for label, codes in by_label.items():
        for code in codes:
            for o in origins:
                r = _safe_rate(engine, code, o, claim.on, errors)
                if r is not None:
                    rows.append((label, r, any(x.exempt and x.layer in fams for x in r.layers)))
    codes_used = tuple(dict.fromkeys(c for cs in by_label.values() for c in cs))
    if not rows:
        return _nc(claim, "US", f"could not price the products: {errors[:1]}", evidence, codes_used)
    for _, r, _ in rows[:3]:
        evidence.extend(_layer_evidence(r))
    words = "; ".join(f"{lab} {r.hts10} from {r.origin}: {_exempt_words(r) if ex else 'not exempt: ' + _stack_words(r, fams)}"
                      for lab, r, ex in rows[:6])
    n = sum(1 for *_, ex in rows if ex)
    if n == len(rows):
        return CheckedClaim(claim, "supported", f"supported on {claim.on.isoformat()}: {words}", "US",
                            tuple(evidence), codes_used)
    if n:
        return CheckedClaim(claim, "partly_supported", f"exempt for {n} of {len(rows)} checked lines "
                            f"on {claim.on.isoformat()}: {words}", "US", tuple(evidence), codes_used)
    return CheckedClaim(claim, "contradicted", f"no exemption found on {claim.on.isoformat()}: {words}",
                        "US", tuple(evidence), codes_used)


def _check_de_minimis(claim: Claim, engine: EngineLike) -> CheckedClaim:
    origin = claim.target.country or "DE"
    who = _COUNTRY_NAMES.get(origin, origin) if claim.target.country else "any origin (Germany taken)"
    value = (claim.threshold_usd or 200.0) / 2
    evidence: list[Evidence] = []

    def ask(d: dt.date) -> DeMinimis | None:
        try:
            res = engine.de_minimis(origin=origin, on=d, value_usd=value)
        except TariffstackError as exc:
            evidence.append(Evidence("de_minimis", f"{d}: {exc}"))
            return None
        evidence.append(Evidence("de_minimis", f"{d}: a ${value:g} shipment from {who}: "
                                 f"{'eligible' if res.eligible else 'not eligible'} "
                                 f"(threshold ${res.threshold_usd:g}): {res.reason}",
                                 source=res.source))
        return res

    day = claim.when.start if claim.when else claim.on
    now = ask(claim.on)
    if now is None:
        return _nc(claim, "US", "the engine could not answer for that date", evidence)
    thr_note = ""
    if claim.threshold_usd is not None and abs(now.threshold_usd - claim.threshold_usd) > 0.5:
        thr_note = f"; the threshold is ${now.threshold_usd:g}, not ${claim.threshold_usd:g}"
    if claim.change == "end":
        before = ask(day - dt.timedelta(days=1))
        if now.eligible:
            return CheckedClaim(claim, "contradicted",
                                f"on {claim.on} a ${value:g} shipment from {who} still enters free "
                                f"under de minimis (${now.threshold_usd:g}){thr_note}", "US",
                                tuple(evidence))
        if before is not None and before.eligible:
            return CheckedClaim(claim, "partly_supported" if thr_note else "supported",
                                f"de minimis for {who} ended on {day.isoformat()}: eligible on "
                                f"{(day - dt.timedelta(days=1)).isoformat()}, not on "
                                f"{claim.on.isoformat()} ({now.source}){thr_note}", "US",
                                tuple(evidence))
        return CheckedClaim(claim, "partly_supported",
                            f"de minimis for {who} is closed on {claim.on}, but it was already "
                            f"closed on {(day - dt.timedelta(days=1)).isoformat()} (before "
                            f"'{claim.when.text if claim.when else claim.on}'){thr_note}", "US",
                            tuple(evidence))
    if claim.change == "restore" or claim.change == "level":
        verdict: Verdict = "supported" if now.eligible else "contradicted"
        return CheckedClaim(claim, "partly_supported" if (verdict == "supported" and thr_note) else verdict,
                            f"on {claim.on} a ${value:g} shipment from {who} is "
                            f"{'eligible' if now.eligible else 'not eligible'} for de minimis "
                            f"({now.reason}){thr_note}", "US", tuple(evidence))
    return _nc(claim, "US", "unrecognised de minimis statement", evidence)


# ================================================================================================
# Checking China's claims
# ================================================================================================


def _hs6_for(engine: EngineLike | None, labels: Sequence[str], on: dt.date) -> tuple[
        dict[str, list[str]], list[Evidence]]:
    """HS6 codes for product words: the first 6 digits of the U.S. engine's hits (HS6 is shared)."""
    if engine is None:
        return {lab: [] for lab in labels}, []
    by_label, ev = _codes_for(engine, labels, on)
    return {lab: list(dict.fromkeys(_digits(c)[:6] for c in cs)) for lab, cs in by_label.items()}, ev


def _notice_evidence(china: ChinaTariffs, numbers: Sequence[str]) -> list[Evidence]:
    out = []
    for num in numbers:
        n = china.notice(num)
        out.append(Evidence("notice", f"{n.label}: {n.action}, {n.rate}; scope: {n.scope}; "
                                      f"later: {n.later_status}; number: {n.number_confidence}",
                            rate_pct=n.general_pct, effective_from=n.effective.date(),
                            source=n.sources[0] if n.sources else None))
    return out


def _check_cn(claim: Claim, china: ChinaTariffs | None, engine: EngineLike | None) -> CheckedClaim:
    side = "China's side: "
    if china is None:
        return _nc(claim, "CN", side + "China's tariff data was not loaded")
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
        return _nc(claim, "CN", side + "a forecast or conditional statement, not a statement of law "
                                       f"in force{when}")
    if claim.kind != "rate":
        return _nc(claim, "CN", side + "only China's rate and exemption claims are checked")
    if claim.target.country not in (None, "US"):
        return _nc(claim, "CN", side + f"China's tariffs on {claim.target.label()} are not in the data "
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
    general = (f"China's additional tariff on all U.S. goods was {_fmt(pct)} on {claim.on} "
               f"(latest notice {last}; chain: "
               + ", ".join(china.notice(c).short for c in chain) + ")") if chain else \
        f"China had no across-the-board tariff on U.S. goods on {claim.on}"
    if _matches(claim, pct):
        ok, twords = True, ""
        if claim.when is not None and claim.change in ("raise", "cut", "impose") and not claim.when.future:
            before, _ = china.general_additional_pct(claim.when.start - dt.timedelta(days=1))
            if abs(before - pct) <= _TOL:
                ok = False
                start = next((d for d, v, _n in reversed(china.general_history()) if d <= claim.on), None)
                twords = (f"it was already {_fmt(pct)} on {claim.when.start - dt.timedelta(days=1)}"
                          + (f" (since {start})" if start else ""))
        if claim.rate_from_pct is not None:
            hist = [(d, v) for d, v, _n in china.general_history() if d <= claim.on]
            prev = hist[-2][1] if len(hist) >= 2 else 0.0
            if abs(prev - claim.rate_from_pct) > _TOL:
                ok, twords = False, f"the level before was {_fmt(prev)}, not {_fmt(claim.rate_from_pct)}"
        verdict: Verdict = "supported" if ok else "partly_supported"
        expl = f"{side}{verdict.replace('_', ' ')}: {general}" + (f"; but {twords}" if twords else "")
        expl += "; unpublished April 2025 exemptions (press reports) not reflected"
        return CheckedClaim(claim, verdict, expl, "CN", tuple(ev))
    superseded = [china.notice(c) for c in chain
                  if (lvl := china.notice(c).general_pct) is not None and _matches(claim, lvl)]
    if superseded:
        n = superseded[-1]
        return CheckedClaim(claim, "partly_supported",
                            f"{side}{n.short} did set {_fmt(n.general_pct or 0.0)} (effective "
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
        good = [r for r in rows if _matches(claim, r[2])]
        words = "; ".join(f"{lab} {c}: {r:+g} points" for lab, c, r in rows)
        if rows and len(good) == len(rows):
            return CheckedClaim(claim, "supported", f"{side}supported by WTO applied rates: {words}",
                                "CN", tuple(ev))
        if good:
            return CheckedClaim(claim, "partly_supported", f"{side}WTO applied rates rose by "
                                f"{_claimed(claim)} for some lines only: {words}", "CN", tuple(ev))
    return CheckedClaim(claim, "contradicted", f"{side}{general}, not {_claimed(claim)}", "CN",
                        tuple(ev))


# ================================================================================================
# check() and rendering
# ================================================================================================


def _nc(claim: Claim, side: Actor, why: str, evidence: Sequence[Evidence] = (),
        codes: Sequence[str] = ()) -> CheckedClaim:
    return CheckedClaim(claim, "not_checkable", why, side, tuple(evidence), tuple(codes))


def check_claim(claim: Claim, engine: EngineLike, china: ChinaTariffs | None) -> CheckedClaim:
    """Verdict for one claim; never raises for data gaps (they become not_checkable)."""
    try:
        return _check_claim(claim, engine, china)
    except TariffstackError as exc:
        return _nc(claim, claim.actor, f"could not check: {exc}")


def _check_claim(claim: Claim, engine: EngineLike, china: ChinaTariffs | None) -> CheckedClaim:
    got = _check_side(claim, engine, china)
    w = claim.when
    if claim.forecast and got.verdict == "not_checkable" and w is not None and w.future:
        # a dated plan: still not checkable as of the article, but say what the law later said
        later = _check_side(replace(claim, forecast=False, on=w.start), engine, china)
        if later.verdict != "not_checkable":
            got = replace(got, explanation=f"{got.explanation}; for information, on "
                                           f"{w.start.isoformat()} the schedule shows: "
                                           f"{later.verdict} – {later.explanation}",
                          evidence=got.evidence + later.evidence,
                          codes_used=got.codes_used + later.codes_used)
    return got


def _check_side(claim: Claim, engine: EngineLike, china: ChinaTariffs | None) -> CheckedClaim:
    if claim.actor == "CN":
        return _check_cn(claim, china, engine)
    if claim.actor_country is None and claim.target.kind == "unknown":
        return _nc(claim, claim.actor, "unknown actor and target: the sentence says neither who "
                                       "imposes the rate nor on what")
    if claim.actor == "other":
        who = _COUNTRY_NAMES.get(claim.actor_country or "", claim.actor_text or "an unknown party")
        return _nc(claim, "other", f"no data on tariffs imposed by {who}; only U.S. law (the HTS) "
                                   "and China's 2025 notices are checked")
    if claim.kind == "de_minimis":
        if claim.forecast:
            return _nc(claim, "US", f"a forecast or plan, not the law in force on {claim.on}")
        return _check_de_minimis(claim, engine)
    if claim.forecast:
        when = "" if claim.when and claim.when.future else f" on {claim.on}"
        return _nc(claim, "US", f"a forecast, threat or conditional ('{claim.fragment}'), not a "
                                f"statement of the law in force{when}")
    if claim.kind == "exemption":
        return _check_us_exemption(claim, engine)
    if claim.target.kind == "unknown" or claim.target.country == "US":
        return _nc(claim, "US", "unknown target: the sentence names no country, product group or "
                                "'all imports' the rate falls on")
    if claim.target.kind == "all":
        return _check_us_all(claim, engine)
    if claim.target.products:
        return _check_us_products(claim, engine)
    return _check_us_country(claim, engine)


class _Memo:
    """Caches engine answers for one check() run: articles repeat the same question (145% on
    China, asked three times) and each asks it for a few dozen sampled lines."""

    def __init__(self, engine: EngineLike) -> None:
        self._engine = engine
        self._rates: dict[tuple[str, str, dt.date], RateResult | TariffstackError] = {}
        self._products: dict[dt.date, Sequence[str]] = {}
        self._search: dict[tuple[str, int], list[SearchHit]] = {}
        self._dm: dict[tuple[str, dt.date, float], DeMinimis] = {}
        self.samples: dict[tuple[dt.date, int], list[str]] = {}   # used by _sample_codes

    def rate(self, code: str, origin: str, on: dt.date, /) -> RateResult:
        key = (code, origin, on)
        if key not in self._rates:
            try:
                self._rates[key] = self._engine.rate(code, origin, on)
            except TariffstackError as exc:
                self._rates[key] = exc
        got = self._rates[key]
        if isinstance(got, TariffstackError):
            raise got
        return got

    def search(self, query: str, /, *, limit: int) -> list[SearchHit]:
        key = (query, limit)
        if key not in self._search:
            self._search[key] = self._engine.search(query, limit=limit)
        return self._search[key]

    def de_minimis(self, *, origin: str, on: dt.date, value_usd: float) -> DeMinimis:
        key = (origin, on, value_usd)
        if key not in self._dm:
            self._dm[key] = self._engine.de_minimis(origin=origin, on=on, value_usd=value_usd)
        return self._dm[key]

    def products(self, on: dt.date, /) -> Sequence[str]:
        if on not in self._products:
            self._products[on] = self._engine.products(on)
        return self._products[on]


def check(article: Article, engine: EngineLike, china: ChinaTariffs | None) -> list[CheckedClaim]:
    """Find and check every claim in an article, U.S. claims with the engine and China's with
    its notices, each as of the claim's own date."""
    memo = _Memo(engine)
    return [check_claim(c, memo, china) for c in find_claims(article)]


_VERDICT_STYLE = {"supported": "bold green", "contradicted": "bold red",
                  "partly_supported": "bold yellow", "not_checkable": "dim"}


def verdict_label(verdict: str) -> str:
    """How a verdict reads to people: "partly supported", not the JSON key."""
    return verdict.replace("_", " ")


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def render_claims(checked: Sequence[CheckedClaim], max_evidence: int = 3) -> Group:
    """One block per claim, readable at 80 columns: the claim and its verdict, who and when,
    what the law says, then the key evidence (clipped at word boundaries)."""
    blocks: list[Text | Padding] = [Text("Tariff claims checked against the law", style="bold")]
    if not checked:
        blocks.append(Text("no claims found"))
        return Group(*blocks)
    for i, cc in enumerate(checked, 1):
        c = cc.claim
        if c.kind == "de_minimis":
            rate = f"< ${c.threshold_usd:g}" if c.threshold_usd else "de minimis"
        elif c.kind == "exemption":
            rate = "exemption"
        elif c.rate_range:
            rate = f"{_fmt(c.rate_range[0])} to {_fmt(c.rate_range[1])}"
        else:
            rate = (f"{_fmt(c.rate_from_pct)} -> " if c.rate_from_pct is not None else "") + _fmt(c.rate_pct or 0.0)
        head = Text(f"\n{i}. ", style="bold") + Text(f"“{_clip(c.fragment, 120)}”  ")
        head.append(verdict_label(cc.verdict).upper(), style=_VERDICT_STYLE[cc.verdict])
        who = f"{c.actor} -> {c.target.label()}, {rate}, on {c.on.isoformat()}"
        if c.when:
            who += f" ({_clip(c.when.text, 40)})"
        body = Text.assemble(Text(who, style="dim"), "\n", Text(cc.explanation))
        for e in cc.evidence[:max_evidence]:
            body.append(f"\n- {_clip(e.text, 160)}", style="dim")
        if len(cc.evidence) > max_evidence:
            body.append(f"\n(+{len(cc.evidence) - max_evidence} more with --json)", style="dim")
        if cc.codes_used:
            shown = ", ".join(cc.codes_used[:6]) + (" …" if len(cc.codes_used) > 6 else "")
            body.append(f"\ncodes: {shown}", style="dim")
        blocks.extend([head, Padding(body, (0, 0, 0, 3), expand=False)])
    return Group(*blocks)
