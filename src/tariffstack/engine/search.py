"""Ranked full-text search over product lines in the user's own words (SQLite FTS5).

SQLite's FTS5 ships with Python, ranks with BM25 and needs no server, which suits an embedded
tool. Newcomers type "laptop" where the schedule says "portable automatic data processing
machines", so a curated table (``data/search_synonyms.csv``) widens each everyday word to the
schedule's vocabulary. Ranking weighs the line's own description and its heading above deep path
text, and pushes parts and accessories ("shoelaces" for "leather shoes") down unless the query
asks for them. A query that looks like an HTS code jumps straight to the lines under that prefix.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from tariffstack.errors import DataError
from tariffstack.models import SearchHit
from tariffstack.sources.schedule import Line, digits, products

if TYPE_CHECKING:
    from tariffstack.law.store import Model

CODE_QUERY_RE = re.compile(r"^\s*\d{2,4}(?:[.\s]?\d{1,2}){0,3}\s*$")
TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)        # what FTS5's unicode61 tokenizer keeps
MAX_QUERY = 200
MAX_TERM_WORDS = 4
SYNONYMS_FILE = "search_synonyms.csv"

# words dropped from queries: FTS5 operators and glue that every description has
STOPWORDS = frozenset({"a", "an", "the", "of", "for", "and", "or", "not", "near", "with", "in", "on",
                       "to", "by", "from", "other"})
# words that make a line an accessory or part rather than the product a user names
ACCESSORY_WORDS = frozenset({"part", "parts", "accessory", "accessories", "lace", "laces", "shoelace",
                             "shoelaces", "case", "cases", "cover", "covers", "casing", "casings",
                             "holder", "holders", "mounting", "mountings", "fittings", "spare"})
# openings that make a line a thing for another product ("Of a kind used on motor cars": tires)
FOR_ANOTHER = ("of a kind used", "of a type used", "for use", "suitable for use", "designed for use",
               "modified for use", "of a kind designed for")
HEADING_BOOST = 1.6        # score multiplier when the heading alone matches the whole query
MAX_CANDIDATES = 5000      # rows scored per query (a broad word like "steel" matches ~3,000)
ACCESSORY_FACTOR = 0.3      # bm25 multiplier for accessory lines when the query does not ask for them
# bm25 column weights: own description, nearest informative ancestor, heading, rest of the path
WEIGHTS = (8.0, 4.0, 6.0, 1.0)
GENERIC_RE = re.compile(r"^\s*(?:(?:all\s+)?others?|new|used|parts|for\s+(?:men|women|boys|girls|babies|other\s+persons))"
                        r"\b[\s:.,;]*(?:\(\d+\))?\s*$", re.I)
SYN_TEXT_RE = re.compile(r"^[^\W_]+(?:[ \-'][^\W_]+)*$", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Everyday words -> the schedule's phrases, keyed by the normalized word tuple."""

    table: dict[tuple[str, ...], tuple[str, ...]]

    def expand(self, words: Sequence[str]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Split query words into groups (literal words, schedule phrases), longest term first."""
        norm = [_norm(w) for w in words]
        out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_TERM_WORDS, len(words) - i), 0, -1):
                phrases = self.table.get(tuple(norm[i:i + n]))
                if phrases is not None:
                    out.append((tuple(words[i:i + n]), phrases))
                    i += n
                    break
            else:
                out.append(((words[i],), ()))
                i += 1
        return out


    def completions(self, prefix: str, most: int = 3) -> tuple[str, ...]:
        """Phrases of the one-word terms a half-typed word may be ("sho" -> shoes -> footwear);
        none when it could be many, so a short prefix does not drag in half the table."""
        p = prefix.lower()
        keys = [k for k in self.table if len(k) == 1 and k[0].startswith(p)] if len(p) >= 3 else []
        if not keys or len(keys) > most:
            return ()
        return tuple(dict.fromkeys(ph for k in keys for ph in self.table[k]))


def _norm(word: str) -> str:
    """A crude singular so that "laptops" finds the row for "laptop" (both sides use it)."""
    w = word.lower()
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def parse_synonyms(text: str, source: str = SYNONYMS_FILE) -> Synonyms:
    """Read and check the synonyms table; a bad row is a DataError naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"term", "expands_to"} - set(reader.fieldnames or ())
    if missing:
        raise DataError(f"{source} line 1: missing column(s) {', '.join(sorted(missing))}")
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for n, row in enumerate(reader, start=2):
        if None in row:
            raise DataError(f"{source} line {n}: more fields than columns (quote text with commas)")
        term = (row.get("term") or "").strip().lower()
        raw = (row.get("expands_to") or "").strip()
        if not term or not SYN_TEXT_RE.match(term):
            raise DataError(f"{source} line {n}: bad term {term!r} (words, spaces and hyphens only)")
        phrases = tuple(p.strip() for p in raw.split("|"))
        if not raw or any(not p or not SYN_TEXT_RE.match(p) for p in phrases):
            raise DataError(f"{source} line {n}: bad expands_to {raw!r} "
                            "(phrases of words separated by '|')")
        key = tuple(_norm(w) for w in TOKEN_RE.findall(term))
        if len(key) > MAX_TERM_WORDS:
            raise DataError(f"{source} line {n}: term {term!r} has more than {MAX_TERM_WORDS} words")
        if key in table:
            raise DataError(f"{source} line {n}: term {term!r} is listed twice")
        table[key] = phrases
    return Synonyms(table)


@lru_cache(maxsize=1)
def load_synonyms() -> Synonyms:
    """The packaged table, read and checked once per process."""
    raw = resources.files("tariffstack").joinpath(f"data/{SYNONYMS_FILE}").read_text("utf-8")
    return parse_synonyms(raw)


def is_generic(description: str) -> bool:
    """True for descriptions that say little alone ("Other", "Other (338)", "New", "For men")."""
    return bool(GENERIC_RE.match(description))


def informative_ancestor(line: Line) -> str:
    """The nearest ancestor description that is not generic, without its trailing colon."""
    for p in reversed(line.path):
        if not is_generic(p):
            return p.rstrip(" :")
    return ""


def short_description(line: Line) -> str:
    """The own description, led by the nearest informative ancestor when it is just "Other"."""
    own = line.description.rstrip(" :")
    if is_generic(own):
        near = informative_ancestor(line)
        if near:
            return f"{near}: {own[:1].lower()}{own[1:]}"
    return own


def heading_description(line: Line) -> str:
    """The heading's text: the first path element, or the line itself for a heading printed whole."""
    return (line.path[0] if line.path else line.description).rstrip(" :")


def is_accessory(line: Line) -> bool:
    """Parts, accessories, laces, cases: the line or a parent starts with such a word, or says it is
    "of a kind used" on something else. Only the opening counts: "Trousers imported as parts of
    suits" is a garment."""
    for text in (line.description, *line.path):
        low = text.lower()
        first = TOKEN_RE.findall(low)[:1]
        if first and first[0] in ACCESSORY_WORDS or low.startswith(FOR_ANOTHER):
            return True
    return False


def _phrase(words: Iterable[str], prefix: bool = False) -> str:
    """One FTS5 phrase, quoted so that no user text is read as query syntax."""
    text = " ".join(words).replace('"', " ")
    return f'"{text}"' + ("*" if prefix else "")


def _group(literal: tuple[str, ...], phrases: tuple[str, ...], prefix: bool) -> str:
    """The literal words (as a prefix when half-typed) or any of their schedule phrases."""
    alts = [_phrase(literal, prefix), *(_phrase(TOKEN_RE.findall(p)) for p in phrases)]
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


class SearchIndex:
    """An in-memory FTS5 index of the newest revision's product lines."""

    def __init__(self, model: Model, synonyms: Synonyms | None = None) -> None:
        self.synonyms = synonyms if synonyms is not None else load_synonyms()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(
            "CREATE VIRTUAL TABLE lines USING fts5(digits UNINDEXED, acc UNINDEXED,"
            " own, near, heading, path, tokenize='porter unicode61 remove_diacritics 2')"
        )
        rows = []
        self.lines: dict[str, Line] = {}
        for ln in products(model.lines[-1]):
            near = informative_ancestor(ln) if is_generic(ln.description) else ""
            rest = " > ".join(ln.path[1:])
            rows.append((ln.digits, int(is_accessory(ln)), ln.description, near, heading_description(ln), rest))
            self.lines[ln.digits] = ln
        self.codes = sorted(self.lines)  # for code prefixes: a bisect, not a scan
        self.db.executemany("INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.commit()

    def hit(self, line: Line, score: float) -> SearchHit:
        """A hit with what a reader needs at a glance (code, short text, heading, MFN rate)."""
        return SearchHit(line.hts, line.description, line.path, score, short=short_description(line),
                         heading=heading_description(line), general=line.general)

    def queries(self, query: str) -> list[str]:
        """FTS5 expressions to try in order: the schedule's words for everyday ones, every word (or
        its synonyms), the last word as a prefix (search-as-you-type), any word."""
        words = TOKEN_RE.findall(query.lower())
        groups = [g for g in self.synonyms.expand(words) if g[1] or g[0][0] not in STOPWORDS]
        if not groups:
            return []
        exact = [_group(lit, syn, False) for lit, syn in groups]
        out = []
        if any(syn for _, syn in groups):  # the curated meaning first: "computer" is not "computing"
            out.append(" AND ".join(_group(lit, syn, False) if not syn else
                                    _group(tuple(TOKEN_RE.findall(syn[0])), syn[1:], False) for lit, syn in groups))
        out.append(" AND ".join(exact))
        last_lit, last_syn = groups[-1]
        if not last_syn and len(last_lit[-1]) >= 2:
            done = self.synonyms.completions(last_lit[-1])
            out.append(" AND ".join([*exact[:-1], _group(last_lit, done, True)]))
        if len(groups) > 1:
            out.append(" OR ".join(exact))
        return out

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Hits for words (ranked) or for an HTS code prefix (in code order)."""
        q = (query or "").strip()[:MAX_QUERY]
        limit = max(1, min(int(limit), 200))
        if not q:
            return []
        if CODE_QUERY_RE.match(q):
            d = digits(q)
            start = bisect.bisect_left(self.codes, d)
            under = itertools.takewhile(lambda k: k.startswith(d), self.codes[start:start + limit])
            return [self.hit(self.lines[k], 1.0) for k in under]
        asks_parts = any(w.lower() in ACCESSORY_WORDS or _norm(w) in ACCESSORY_WORDS
                         for w in TOKEN_RE.findall(q))
        factor = 1.0 if asks_parts else ACCESSORY_FACTOR
        seen: dict[str, float] = {}
        for match in self.queries(q):
            try:
                found = self.db.execute(
                    "SELECT digits, bm25(lines, 0, 0, ?, ?, ?, ?) * (CASE WHEN acc = 1 THEN ? ELSE 1.0 END)"
                    " FROM lines WHERE lines MATCH ? ORDER BY 2 LIMIT ?", (*WEIGHTS, factor, match, MAX_CANDIDATES),
                ).fetchall()
                # a second query: lines whose heading itself names the product ("motorbike" is
                # under "Motorcycles", not under inner tubes "Motorcycle")
                named = {d for (d,) in self.db.execute("SELECT digits FROM lines WHERE lines MATCH ?",
                                                       (f"heading : ({match})",))}
            except sqlite3.OperationalError:
                continue
            ranked = sorted(((-s * (HEADING_BOOST if d in named else 1.0), d) for d, s in found), reverse=True)
            floor = min(seen.values(), default=float("inf"))
            for score, d in ranked:
                if len(seen) >= limit:
                    break
                if d not in seen:  # a later query's hits rank after earlier ones: keep scores falling
                    seen[d] = floor = min(score, floor)
            if len(seen) >= limit:
                break
        return [self.hit(self.lines[d], round(score, 4)) for d, score in seen.items()]
