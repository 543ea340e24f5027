"""Reading an article: validation, the date line, page furniture and sentences.

Offsets always refer to the text exactly as given, so a claim found later can be shown in place.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Literal

from tariffstack.errors import BadInput, TooLarge
from tariffstack.news.results import Article, Sentence

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
            raise TooLarge(f"text is too large ({len(raw):,} bytes; the limit is {MAX_BYTES:,})", field="text")
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
        raise TooLarge(f"text is too large ({len(text):,} characters; the limit is {MAX_BYTES:,} bytes)", field="text")
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
        raise TooLarge(f"text is too large ({size:,} bytes; the limit is {MAX_BYTES:,})", field="text")
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


def _split_sentences(text: str, start: int, end: int, para: int = 0) -> list[Sentence]:
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
            out.append(Sentence(s, cut, text[s:cut], para))
            s = cut + 1 if text[cut:cut + 1] == " " else cut
        if e > s:
            out.append(Sentence(s, e, text[s:e], para))
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
                           "pass the article's date", field="date")
        if not isinstance(date, dt.date):
            raise BadInput(f"date must be a datetime.date, got {date!r}", field="date")
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
    # paragraphs: blocks between blank lines where the text has them, else each block
    blank = re.compile(r"\n[ \t]*\r?\n")
    paragraphs = bool(blank.search(text, pos))
    para = 0
    for k, (a, b) in enumerate(blocks):
        if k and (not paragraphs or blank.search(text, blocks[k - 1][1], a)):
            para += 1
        sentences.extend(_split_sentences(text, a, b, para))
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
        raise TooLarge(f"{p} is too large ({size:,} bytes; the limit is {MAX_BYTES:,})")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {p}: {exc.strerror or exc}") from exc
    return read_article(raw, date)
