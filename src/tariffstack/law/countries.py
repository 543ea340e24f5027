"""Countries of origin: every way a user or the HTS names one, mapped to ISO 3166-1 alpha-2.

Duty layers are keyed by origin, but origins arrive as ISO codes, Census Schedule C codes, or
English names in whatever spelling the user (or a Chapter 99 heading) chose. Everything here
funnels those spellings into one ``Country`` so the engine compares codes, never prose.

The table lives in ``data/countries.csv`` (one row per ISO 3166-1 country plus Kosovo, XK):
names as the U.S. government writes them, Census Schedule C codes (from the Census Bureau's
"Schedule C - Country List", census.gov/foreign-trade/schedules/c/country2.txt), and aliases.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from rapidfuzz import fuzz, process

from tariffstack.errors import DataError, UnknownCountry

__all__ = ["GROUPS", "Country", "all_countries", "find_in_text", "get", "parse_spec", "resolve"]


@dataclass(frozen=True, slots=True)
class Country:
    """One country of origin; ``iso2`` is the key every other module uses."""

    iso2: str
    iso3: str
    name: str
    census_code: str | None
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        """``"China (CN)"``: how suggestions and messages show a country."""
        return f"{self.name} ({self.iso2})"


_EU27 = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)

GROUPS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # The 27 member states since the UK left on 2020-01-31; unchanged through 2026.
        # Overseas parts with their own ISO code (GP, MQ, GF, RE, YT, MF) are not included.
        "EU": _EU27,
        "USMCA": frozenset({"US", "CA", "MX"}),
        # General note 3(b), column 2 countries: Cuba and North Korea, plus Russia and Belarus
        # since Apr 9, 2022 (Suspending Normal Trade Relations with Russia and Belarus Act,
        # Pub. L. 117-110). The note names these four in every 2024-2026 revision.
        "GN3B": frozenset({"CU", "KP", "RU", "BY"}),
    }
)

# Phrases in heading text that name a whole group rather than a country.
_GROUP_PHRASES: Mapping[str, str] = MappingProxyType(
    {"European Union": "EU", "general note 3(b)": "GN3B"}
)

# What users type for a group; a group is never an origin, so these get their own answer.
_GROUP_NAMES: Mapping[str, str] = MappingProxyType(
    {"eu": "EU", "europeanunion": "EU", "eu27": "EU", "usmca": "USMCA", "cusma": "USMCA",
     "tmec": "USMCA", "nafta": "USMCA"}
)

# Country names that are also ordinary words in the schedule ("porcelain or china", "guinea
# fowl", "jerseys", "turkey meat"): in text they count only when capitalised.
_COMMON_WORDS = frozenset(
    {"china", "turkey", "guinea", "jersey", "chad", "japan", "chile", "reunion", "guernsey"}
)

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_CENSUS_RE = re.compile(r"\d{4}")
_ISO2_RE = re.compile(r"[A-Z]{2}")
_ISO3_RE = re.compile(r"[A-Z]{3}")


def _words(text: str) -> str:
    """Accents folded, ``&`` spelled out, punctuation to single spaces; case is kept.

    Heading texts write the same name as ``Côte d`Ivoire``, ``Côte D’Ivoire`` and
    ``Cote d'Ivoire``; after this they are all ``Cote d Ivoire``.
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and "))
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", folded).strip()


def _key(text: str) -> str:
    """Lookup key for ``resolve``: words, lower case, no leading "the", no spaces."""
    words = _words(text).casefold()
    if words.startswith("the "):
        words = words[4:]
    return words.replace(" ", "")


@cache
def all_countries() -> tuple[Country, ...]:
    """Every country in ``data/countries.csv``, in ISO alpha-2 order (read once)."""
    raw = resources.files("tariffstack").joinpath("data/countries.csv").read_text("utf-8")
    countries: list[Country] = []
    for n, row in enumerate(csv.DictReader(io.StringIO(raw)), start=2):
        try:
            country = Country(
                iso2=row["iso2"].strip(),
                iso3=row["iso3"].strip(),
                name=row["name"].strip(),
                census_code=row["census_code"].strip() or None,
                aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
            )
        except (KeyError, AttributeError) as exc:
            raise DataError(f"countries.csv line {n}: missing column {exc}") from exc
        _check_row(country, n)
        countries.append(country)
    return tuple(sorted(countries, key=lambda c: c.iso2))


def _check_row(country: Country, line: int) -> None:
    """Reject a malformed row early: a bad code would silently match nothing later."""
    problems = []
    if not _ISO2_RE.fullmatch(country.iso2):
        problems.append(f"iso2 {country.iso2!r}")
    if not _ISO3_RE.fullmatch(country.iso3):
        problems.append(f"iso3 {country.iso3!r}")
    if not country.name:
        problems.append("empty name")
    if country.census_code is not None and not _CENSUS_RE.fullmatch(country.census_code):
        problems.append(f"census_code {country.census_code!r}")
    if problems:
        raise DataError(f"countries.csv line {line}: bad {', '.join(problems)}")


@dataclass(frozen=True, slots=True)
class _Index:
    """Lookup tables derived from the CSV, built once."""

    by_iso2: Mapping[str, Country]
    by_census: Mapping[str, Country]
    by_key: Mapping[str, Country]
    fuzzy: Mapping[str, str]          # normalised name or alias -> iso2, for suggestions
    text_re: re.Pattern[str]
    text_targets: Mapping[str, frozenset[str]]  # normalised lower-case phrase -> iso2 codes


def _names(country: Country) -> Iterable[str]:
    """The name and every alias: what a person (or a heading) might write."""
    yield country.name
    yield from country.aliases


def _is_abbreviation(alias: str) -> bool:
    """``UK``, ``U.S.A.``, ``DPRK``: fine to type, too ambiguous to look for in prose."""
    letters = alias.replace(".", "").replace(" ", "")
    return letters.isupper() and len(letters) <= 5


def _claim(table: dict[str, Country], key: str, country: Country) -> None:
    """Add ``key`` for ``country``, refusing a spelling that would mean two countries."""
    other = table.setdefault(key, country)
    if other.iso2 != country.iso2:
        raise DataError(f"countries.csv: {key!r} is both {other.iso2} and {country.iso2}")


@cache
def _index() -> _Index:
    """Build every lookup table once from ``all_countries()``."""
    by_iso2: dict[str, Country] = {}
    by_census: dict[str, Country] = {}
    by_key: dict[str, Country] = {}
    fuzzy: dict[str, str] = {}
    targets: dict[str, frozenset[str]] = {}
    phrase_owner: dict[str, Country] = {}
    for c in all_countries():
        _claim(by_iso2, c.iso2, c)
        if c.census_code:
            _claim(by_census, c.census_code, c)
        _claim(by_key, c.iso2.casefold(), c)
        _claim(by_key, c.iso3.casefold(), c)
    for c in all_countries():
        for spelling in _names(c):
            _claim(by_key, _key(spelling), c)
            words = _words(spelling).casefold()
            fuzzy.setdefault(words, c.iso2)
            if not _is_abbreviation(spelling):
                _claim(phrase_owner, words, c)
                targets[words] = frozenset({c.iso2})
    for phrase, group in _GROUP_PHRASES.items():
        targets[_words(phrase).casefold()] = GROUPS[group]

    # Longest first, so at any position the longest name wins ("Guinea-Bissau" over "Guinea").
    alternation = "|".join(re.escape(p) for p in sorted(targets, key=lambda p: (-len(p), p)))
    text_re = re.compile(rf"(?<![0-9A-Za-z])(?:{alternation})(?![0-9A-Za-z])", re.IGNORECASE)
    return _Index(
        by_iso2=MappingProxyType(by_iso2),
        by_census=MappingProxyType(by_census),
        by_key=MappingProxyType(by_key),
        fuzzy=MappingProxyType(fuzzy),
        text_re=text_re,
        text_targets=MappingProxyType(targets),
    )


def _suggest(query: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` close names, as ``"China (CN)"``, best first."""
    words = _words(query).casefold()
    if not words:
        return []
    index = _index()
    matches = process.extract(
        words, list(index.fuzzy), scorer=fuzz.WRatio, limit=20, score_cutoff=70
    )
    labels: list[str] = []
    for choice, _score, _pos in matches:
        label = index.by_iso2[index.fuzzy[choice]].label
        if label not in labels:
            labels.append(label)
        if len(labels) == limit:
            break
    return labels


def get(iso2: str) -> Country:
    """The country with this ISO alpha-2 code (any case); ``UnknownCountry`` if none."""
    country = _index().by_iso2.get(iso2.strip().upper())
    if country is None:
        raise UnknownCountry(iso2, _suggest(iso2))
    return country


def resolve(query: str) -> Country:
    """One country from whatever the user typed.

    Accepts ISO alpha-2 and alpha-3 codes, 4-digit Census Schedule C codes, names and aliases,
    ignoring case, accents, punctuation, a leading "the" and "Name, Qualifier" word order
    ("Korea, South", "Bahamas, The"). Anything else raises ``UnknownCountry`` with up to three
    close matches.
    """
    text = query.strip()
    index = _index()
    if _CENSUS_RE.fullmatch(text):
        census = index.by_census.get(text)
        if census is None:
            raise UnknownCountry(query, [])
        return census
    candidates = [text]
    if text.count(",") == 1:
        head, tail = text.split(",")
        candidates.append(f"{tail} {head}")
    for candidate in candidates:
        key = _key(candidate)
        if key and key in index.by_key:
            return index.by_key[key]
    group = _GROUP_NAMES.get(_key(text))
    if group is not None:
        members = sorted(GROUPS[group] - {"US"})
        preferred = [m for m in ("DE", "FR", "IT", "CA", "MX") if m in members] or members
        examples = ", ".join(index.by_iso2[m].label for m in preferred[:3])
        raise UnknownCountry(query, [index.by_iso2[m].label for m in members], why=(
            f"is a group of {len(members)} countries, not a country of origin: goods originate in "
            f"one member, so give that one (e.g. {examples})"))
    raise UnknownCountry(query, _suggest(text))


def find_in_text(text: str) -> frozenset[str]:
    """ISO alpha-2 codes of the countries a heading text names.

    Reads Chapter 99 prose such as "articles the product of China, including Hong Kong and
    Macau". Names match as whole words, longest first and without overlap, so "Papua New
    Guinea" is not also "Guinea" and "Romania" holds no "Oman". "European Union" gives the 27
    members and "general note 3(b)" the column 2 countries. The United States is never
    reported: in these texts it is the importer ("persons subject to the jurisdiction of the
    United States"), not an origin. Meant for Chapter 99 headings and notes; product
    descriptions elsewhere name species and styles ("Brazil nuts", "Greenland turbot").
    """
    index = _index()
    found: set[str] = set()
    for match in index.text_re.finditer(_words(text)):
        phrase = match.group(0)
        lowered = phrase.casefold()
        if lowered in _COMMON_WORDS and not phrase[0].isupper():
            continue
        found.update(index.text_targets[lowered])
    found.discard("US")
    return frozenset(found)


def parse_spec(spec: str, where: str = "") -> frozenset[str] | None:
    """A country field of the package's data files: ``*`` (or empty) for any country, else
    ``;``-separated ISO codes and group names (EU, USMCA, ...), groups expanded. An unknown code
    is a DataError naming ``where`` (file:line and field)."""
    spec = (spec or "").strip()
    if spec in ("", "*"):
        return None
    out: set[str] = set()
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        if part in GROUPS:
            out |= GROUPS[part]
            continue
        try:
            out.add(get(part).iso2)
        except UnknownCountry as exc:
            raise DataError(f"{where + ': ' if where else ''}unknown country or group {part!r}") from exc
    return frozenset(out)
