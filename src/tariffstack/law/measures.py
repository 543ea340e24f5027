"""Legal measures: each Chapter 99 heading read into a typed measure with a validity interval.

A heading's text says who pays (countries named, or "any country"), what (a note's product
list, subheadings written out, product-line footnotes, or every product), what it excepts
(other headings, in-transit goods, countries), and how much. Each distinct text of a heading
over the revisions becomes one :class:`Measure` version, dated by the effective date the change
record gives for it (not the revision's publication date). Which layer a heading belongs to,
and the few scopes a text cannot express alone, come from ``data/families.csv``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from tariffstack.law import countries
from tariffstack.law.rates import AdditionalDuty, parse_additional
from tariffstack.law.validity import Validity
from tariffstack.models import LayerName
from tariffstack.sources.changes import ChangeRecord
from tariffstack.sources.noterefs import us_note
from tariffstack.sources.schedule import Line, Revision, digits
from tariffstack.words import month_number

Status = Literal["active", "suspended", "terminated"]

# "9903.01.26-9903.01.33", "9903.01.26-.33" and "9903.80.05 through 9903.80.58" are ranges;
# the text sometimes runs a heading into the word before it ("and9903.02.84")
HEADING_RE = re.compile(
    r"(?<!\d)(99\d\d\.\d\d\.\d\d)(?:\s*[-\u2013\u2014]\s*(?:(99\d\d\.\d\d\.)|\.)?(\d\d)(?!\d|\.\d)"
    r"|\s+through\s+(99\d\d\.\d\d\.)(\d\d))?"
)
CODE_IN_TEXT_RE = re.compile(r"\b(\d{4}\.\d{2}(?:\.\d{2}(?:\.?\d{2})?)?)\b")
HEADING4_RE = re.compile(r"\bheadings? ((?:\d{4}(?:, | and | or |, and |, or )?)+)")
CHAPTER_RE = re.compile(r"\bchapters? ((?:\d{1,2}(?:, | and | or |, and |, or )?)+)")
DATE_TXT = r"(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{1,2}),\s*(\d{4})"
LOADED_RE = re.compile(r"loaded onto a vessel.{0,200}?before 12:01 a\.m\.[^,;]{0,40}? on " + DATE_TXT, re.I)
ENTERED_BEFORE_RE = re.compile(
    r"(?:entered for consumption|withdrawn from warehouse for consumption)[^.;]{0,80}?before 12:01 a\.m\.[^,;]{0,40}? on "
    + DATE_TXT,
    re.I,
)
MFN_COND_RE = re.compile(
    r"rate of duty under column 1(?:[- ]General)?(?: or column 1[- ]Special)? (equal to or greater than|less than) (\d+(?:\.\d+)?) ?(?:percent|%)",
    re.I,
)
COMPILER_RE = re.compile(r"\[Compiler'?s note:(.*?)\]", re.I | re.S)
AS_OF_RE = re.compile(r"(?:terminated|expired|suspended)(?: as of| on| effective)? " + DATE_TXT, re.I)
NOTE_REF_RES = (
    # subdivision(s) (v)(iii) [and (x)] of [U.S.] note 2
    re.compile(r"subdivisions? ((?:\([a-z0-9]+\)(?:\s*[-\u2013\u2014]\s*\([a-z0-9]+\))?(?:,? (?:and |or )?)?)+)\s*(?:of|to) (?:such )?(?:U\.S\. )?note (\d+)", re.I),
    # [U.S.] note 2(v)(iii)
    re.compile(r"(?:U\.S\. )?note (\d+)((?:\([a-zA-Z0-9]+\))+)", re.I),
)
CONDITION_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("donations", "donation"),
    ("informational materials", "informational"),
    ("u.s. content", "us_content"),
    ("general note 11", "usmca"),
    ("transshipped", "transshipment"),
    ("privileged foreign status", "ftz"),
    ("certificates of origin", "certificate"),
    ("melted and poured in the united states", "us_melt"),
    ("smelted and cast in the united states", "us_melt"),
    ("melted and poured in", "melt_pour"),
    ("covered by an exclusion", "exclusion"),
    ("non-patented articles", "described"),
    ("potash", "described"),
    ("crude oil, natural gas", "described"),
    ("accompanied baggage", "in_transit"),
)
ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv",
         "xv", "xvi", "xvii", "xviii", "xix", "xx", "xxi", "xxii", "xxiii", "xxiv", "xxv"]


@dataclass(frozen=True, slots=True)
class Family:
    """A row of families.csv: the layer and default scope of a range of headings."""

    first: str
    last: str
    layer: LayerName
    scope: str
    countries: frozenset[str] | None
    citation: str
    summary: str

    def covers(self, heading: str) -> bool:
        return self.first <= heading <= self.last

    @property
    def width(self) -> int:
        return int(digits(self.last)) - int(digits(self.first))


@cache
def families() -> tuple[Family, ...]:
    out: list[Family] = []
    with resources.files("tariffstack").joinpath("data/families.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cs = row["countries"].strip()
            out.append(
                Family(
                    first=row["first"], last=row["last"], layer=row["layer"],  # type: ignore[arg-type]
                    scope=row["scope"], countries=countries.parse_spec(cs, "families.csv: countries") if cs else None,
                    citation=row["citation"], summary=row["summary"],
                )
            )
    return tuple(out)


def family_for(heading: str) -> Family | None:
    """The narrowest family row whose range holds the heading."""
    found = [f for f in families() if f.covers(heading)]
    return min(found, key=lambda f: f.width) if found else None


def _bare_family(heading: str) -> Family:
    """A heading outside every family row: only the registry says what it is."""
    return Family(first=heading, last=heading, layer="other", scope="unknown", countries=None,
                  citation="HTS chapter 99, subchapter III", summary=f"Heading {heading}")


@dataclass(frozen=True, slots=True)
class Measure:
    """One version of a Chapter 99 heading, in force from ``start`` until ``end`` (exclusive, the
    package's convention: see law/validity.py)."""

    heading: str
    revision: str
    revision_index: int
    start: date
    start_source: str
    end: date | None
    text: str
    duty: AdditionalDuty
    status: Status
    layer: LayerName
    family: Family
    countries: frozenset[str] | None          # None: any country
    excluded_countries: frozenset[str]
    exceptions: tuple[str, ...]               # headings whose goods this one excepts
    note_refs: tuple[str, ...]
    codes: frozenset[str]                     # digit prefixes of products in scope (list scopes)
    scope: str                                # all | footnote | list | layer:X | condition | unknown
    condition: str | None
    mfn_condition: tuple[str, float] | None   # ("ge"|"lt", percent)
    loaded_before: date | None
    entered_before: date | None
    except_codes: frozenset[str] = frozenset()  # digit prefixes taken out of the scope
    by_footnote: bool = False                 # a list scope that also takes lines citing it
    unevaluated: str | None = None            # why the registry does not model it (never applies)
    record: str = ""                          # the registry row it was read with (file:line)

    @property
    def imposes(self) -> bool:
        return self.duty.kind in ("plus", "absolute", "floor") and self.duty.parsed

    @property
    def exempts(self) -> bool:
        return self.duty.kind in ("exempt", "no_change", "free")

    @property
    def validity(self) -> Validity:
        return Validity(self.start, self.end)

    def active_on(self, day: date) -> bool:
        return self.status == "active" and self.validity.contains(day)


def _date(m: re.Match[str], offset: int = 1) -> date:
    return date(int(m.group(offset + 2)), month_number(m.group(offset)), int(m.group(offset + 1)))


def split_compiler_note(text: str) -> tuple[str, str]:
    """(text without compiler's notes, the notes' text)."""
    notes = " ".join(m.group(1) for m in COMPILER_RE.finditer(text))
    return COMPILER_RE.sub("", text).strip(), notes.strip()


def status_of(text: str) -> tuple[Status, date | None]:
    """Suspended/terminated per the compiler's note, with a date when the note states one."""
    _, note = split_compiler_note(text)
    low = note.lower()
    if not low:
        # some notes lost their closing bracket in the export
        idx = text.lower().find("compiler's note")
        low = text.lower()[idx:] if idx >= 0 else ""
    m = AS_OF_RE.search(low)
    when = _date(m) if m else None
    if "terminat" in low or "expired" in low or "deleted" in low:
        return "terminated", when
    if "suspended" in low:
        return "suspended", when
    return "active", None


def exception_headings(text: str, own: str) -> tuple[str, ...]:
    """Every other 9903 heading the text names: in heading texts they are exceptions."""
    out: list[str] = []
    for m in HEADING_RE.finditer(text):
        first = m.group(1)
        last_digits, last_prefix = (m.group(3), m.group(2)) if m.group(3) else (m.group(5), m.group(4))
        if last_digits:
            prefix = last_prefix or first[:8]
            lo, hi = int(first[8:]), int(last_digits)
            if prefix != first[:8]:
                out.extend((first, f"{prefix}{hi:02d}"))  # a range across subheadings: the ends
            else:
                out.extend(f"{prefix}{n:02d}" for n in range(lo, hi + 1))
        else:
            out.append(first)
    return tuple(dict.fromkeys(h for h in out if h != own))


def _expand_subdivs(spec: str) -> list[str]:
    """'(c)(i)–(v)' -> ['(c)(i)', ..., '(c)(v)']; '(j), (k)' -> ['(j)', '(k)']."""
    out: list[str] = []
    for part in re.split(r",\s*(?:and |or )?|\s+(?:and|or)\s+", spec):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"((?:\([a-z0-9]+\))*)\(([a-z0-9]+)\)\s*[-\u2013\u2014]\s*\(([a-z0-9]+)\)$", part, re.I)
        if m:
            base, lo, hi = m.group(1), m.group(2), m.group(3)   # label case is kept: (A) is not (a)
            if lo.lower() in ROMAN and hi.lower() in ROMAN:
                span = ROMAN[ROMAN.index(lo.lower()) : ROMAN.index(hi.lower()) + 1]
                out.extend(f"{base}({r.upper() if lo.isupper() else r})" for r in span)
            elif len(lo) == 1 and len(hi) == 1:
                out.extend(f"{base}({chr(c)})" for c in range(ord(lo), ord(hi) + 1))
            elif lo.isdigit() and hi.isdigit():
                out.extend(f"{base}({n})" for n in range(int(lo), int(hi) + 1))
            continue
        out.append(part)
    return out


def note_refs(text: str) -> tuple[str, ...]:
    """U.S. note subdivisions a heading cites, in the canonical form of
    :mod:`~tariffstack.sources.noterefs` ('2(v)(iii)', '16(c)(i)'): notes to subchapter III,
    where the trade-action headings are."""
    body, _ = split_compiler_note(text)
    refs: list[str] = []
    for m in NOTE_REF_RES[0].finditer(body):
        refs.extend(str(us_note("III", f"{m.group(2)}{sub}")) for sub in _expand_subdivs(m.group(1)))
    for m in NOTE_REF_RES[1].finditer(body):
        refs.append(str(us_note("III", f"{m.group(1)}{m.group(2)}")))
    return tuple(dict.fromkeys(refs))


def listed_codes(text: str) -> frozenset[str]:
    """Product codes written out in a heading's text (not 9903 headings), as digit prefixes."""
    body, _ = split_compiler_note(text)
    codes = {digits(c) for c in CODE_IN_TEXT_RE.findall(body) if not c.startswith("99")}
    for m in HEADING4_RE.finditer(body):
        codes |= {c for c in re.findall(r"\d{4}", m.group(1)) if not c.startswith("99")}
    for m in CHAPTER_RE.finditer(body):
        if "chapter 99" in m.group(0).lower() or "chapters 1 through" in m.group(0).lower():
            continue
        codes |= {c.zfill(2) for c in re.findall(r"\d{1,2}", m.group(1))}
    return frozenset(codes)


def condition_of(text: str) -> str | None:
    """The fact (beyond product and origin) a heading's scope depends on, if any."""
    body, _ = split_compiler_note(text)
    low = body.lower()
    for key, cond in CONDITION_KEYWORDS:
        if key in low:
            return cond
    if re.match(r"^articles (?:the product )?of .{0,80}? that:? \(1\) were loaded", low) or re.match(
        r"^except for .{0,300}?articles .{0,60}?that:? \(1\) were loaded", low
    ):
        return "in_transit"
    return None


def read_countries(text: str) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(countries named as payers or None for any country, countries excepted)."""
    body, _ = split_compiler_note(text)
    excluded: set[str] = set()
    # "except products of Australia, of Argentina, ... entered under ..." / "except for articles the product of China ... as described in heading"
    for m in re.finditer(
        r"except(?: for)? (?:articles|products) (?:the product )?of (.{0,600}?)(?=,? (?:as provided|as described|as specified|that are|under|entered|or any|any exclusions)|;|$)",
        body,
        re.I,
    ):
        excluded |= countries.find_in_text(m.group(1))
        body = body.replace(m.group(0), " ")
    low = body.lower()
    named = countries.find_in_text(body)
    if "any country" in low or not named:
        return None, frozenset(excluded)
    return frozenset(named), frozenset(excluded)


def build_measures(
    revisions: list[Revision],
    headings_by_rev: list[dict[str, Line]],
    records: dict[str, ChangeRecord],
) -> dict[str, list[Measure]]:
    """Every version of every Chapter 99 heading, dated by the change records."""
    out: dict[str, list[Measure]] = {}
    last_key: dict[str, tuple[str, str] | None] = {}
    for rev, lines in zip(revisions, headings_by_rev, strict=True):
        cr = records.get(rev.name)
        present = set()
        for line in lines.values():
            if len(line.digits) != 8 or not line.digits.startswith("9903"):
                continue
            h = line.hts
            present.add(h)
            key = (line.general, line.description)
            if last_key.get(h) == key:
                continue
            last_key[h] = key
            fam = family_for(h) or _bare_family(h)
            start, source = _start_of(h, rev, cr)
            m = _measure(h, line, rev, start, source, fam)
            _close_previous(out.setdefault(h, []), m.start)
            out[h].append(m)
        for h, old_key in list(last_key.items()):
            if old_key is not None and h not in present:
                last_key[h] = None
                start, _ = _start_of(h, rev, cr)
                _close_previous(out.get(h, []), start)
    for versions in out.values():
        versions.sort(key=lambda v: (v.start, v.revision_index))
    return out


def _close_previous(versions: list[Measure], start: date) -> None:
    """End earlier versions that were still open when a new one starts."""
    for i, v in enumerate(versions):
        if v.end is None or v.end > start:
            if v.start >= start:
                # a later revision restated the law from an earlier date: it supersedes
                versions[i] = _replace_end(v, v.start)
            else:
                versions[i] = _replace_end(v, start)


def _replace_end(v: Measure, end: date) -> Measure:
    from dataclasses import replace

    return replace(v, end=end)


def _start_of(heading: str, rev: Revision, cr: ChangeRecord | None) -> tuple[date, str]:
    if rev.index == 0:
        return date(rev.year, 1, 1), f"in the {rev.name} edition"
    if cr is not None:
        eff = cr.effective_for(heading)
        if eff is not None:
            return eff, f"effective {eff:%B %-d, %Y} per the {rev.name} change record"
    if rev.published is not None:
        return rev.published, f"published in {rev.name} ({rev.published:%B %-d, %Y}); no effective date listed"
    return date(rev.year, 1, 1), f"in {rev.name}; no date known"


def _measure(h: str, line: Line, rev: Revision, start: date, source: str, fam: Family) -> Measure:
    text = line.description
    status, status_date = status_of(text)
    if status != "active" and status_date is not None:
        start, source = status_date, f"{status} as of {status_date:%B %-d, %Y} per the compiler's note in {rev.name}"
    named, excluded = read_countries(text)
    if fam.countries is not None:
        named = fam.countries if named is None else (named & fam.countries) or fam.countries
    refs = note_refs(text)
    cond = condition_of(text)
    codes = listed_codes(text)
    scope = fam.scope
    if scope in ("all", "notes") and cond is not None:
        scope = "condition"
    elif scope == "notes":
        scope = "list" if (refs or codes) else "unknown"
    mc = MFN_COND_RE.search(text)
    loaded = LOADED_RE.search(text)
    entered = ENTERED_BEFORE_RE.search(text)
    return Measure(
        heading=h,
        revision=rev.name,
        revision_index=rev.index,
        start=start,
        start_source=source,
        end=None,
        text=text,
        duty=parse_additional(line.general, text),
        status=status,
        layer=fam.layer,
        family=fam,
        countries=named,
        excluded_countries=excluded,
        exceptions=exception_headings(split_compiler_note(text)[0], h),
        note_refs=refs,
        codes=codes,
        scope=scope,
        condition=cond,
        mfn_condition=(("ge" if mc.group(1).lower().startswith("equal") else "lt"), float(mc.group(2)))
        if mc
        else None,
        loaded_before=_date(loaded, 1) if loaded else None,
        entered_before=_date(entered, 1) if entered else None,
    )
