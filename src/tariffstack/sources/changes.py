"""USITC change records: the legal effective date and source of every change in a revision.

A revision's publication date is not when its changes took effect (several revisions are
retroactive), so stacks must be dated from the change record, which lists per item changed the
nature of the change, the effective date and the legal source.

The input is the text of the PDF laid out as printed (``pdftotext -layout`` in ``../shared``;
:func:`change_record_text` makes the same from a PDF with pypdf): a table (Item changed | Nature of change | Effective
date | Source [| Edition]) whose cells wrap over several lines, whose column positions change from
page to page (sometimes without a repeated header), with lone page numbers between pages. Rows are
recognised by their effective-date cell; lines without one are continuations assigned to the
column whose start on the row's first line is nearest.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from tariffstack.errors import DataError
from tariffstack.sources.noterefs import DASHES, GENERAL_NOTE_RE, STATISTICAL_NOTE_RE, note_ref
from tariffstack.sources.schedule import digits, dotted
from tariffstack.words import month_number, roman_value

__all__ = [
    "ChangeEntry",
    "ChangeRecord",
    "EntryKind",
    "canonical_code",
    "canonical_note_ref",
    "change_record_text",
    "load_change_records",
    "pdf_text",
    "parse_change_record",
]

EntryKind = Literal["heading", "note", "general_note", "other"]

_MONTH_RE = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|"
    r"Aug(?:ust|\.)?|Sep(?:tember|t\.?|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
_DATE_RE = re.compile(rf"\b(?P<m>{_MONTH_RE})\s+(?P<d>\d{{1,2}}),\s*(?P<y>\d{{4}})\b")
_DATE_FULL_RE = re.compile(rf"^{_DATE_RE.pattern}$")
_DATE_TAIL_RE = re.compile(rf"^(?P<head>.*\S)\s+(?P<date>{_DATE_RE.pattern})$")
_NO_DATE_RE = re.compile(r"^(?:N/?A|Various|None|TBD)$", re.IGNORECASE)
_SEE_RE = re.compile(r"^See\b.*", re.IGNORECASE)
_EFF_PART_RE = re.compile(rf"^(?:{_MONTH_RE}\b|\d{{1,2}},|\d{{4}}$|N/?A$|See\b)", re.IGNORECASE)
_SEGMENT_RE = re.compile(r"\S+(?: \S+)*")  # runs of text separated by 2+ spaces
_HEADER_RE = re.compile(r"item\s+changed|nature\s+of\s+change", re.IGNORECASE)
_PAGE_NO_RE = re.compile(r"^\s{15,}\d{1,3}\s*$")
_EDITION_RE = re.compile(r"^(?:Rev\.?\s*\d+|\d{4}|Basic)$", re.IGNORECASE)
_DASHES = DASHES
_ITEM_START_RE = re.compile(
    r"^(?:U\.?\s*S\.?\s+notes?\b|General\s+notes?\b|Statistical\s+(?:notes?|annex)\b|"
    r"Subch(?:apter)?\.?\s+[IVXLC]+\b|Chapters?\s+\d+|Section\s+[IVXLC]+\b|\d{4}\.\d{2})",
    re.IGNORECASE,
)
_ITEM_OPEN_END_RE = re.compile(
    rf"(?:[,({_DASHES}]|\b(?:subch|ch|chapter|section|for|through|and|of|to)\.?)$", re.IGNORECASE
)
_CODE_RE = re.compile(r"(?<![\d.])\d{4}(?:\.\d{2}(?:\.\d{2}(?:\.?\d{2})?)?)?(?![\d])")
_CODE_RANGE_RE = re.compile(
    rf"(?P<a>\d{{4}}\.\d{{2}}\.\d{{2}})\s*[{_DASHES}]\s*(?P<b>\d{{4}}\.\d{{2}}\.\d{{2}})"
)
_CODE_FORM_RE = re.compile(r"^\d{4}(?:\.\d{2}(?:\.\d{2}(?:\.?\d{2})?)?)?$|^\d{6}(?:\d{2}){0,2}$")
_US_NOTE_RE = re.compile(r"^U\.?\s*S\.?\s+notes?\s*(?P<ref>.*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """One row of a change record: what changed, how, from when, and on what authority."""

    revision: str
    item: str
    kind: EntryKind
    codes: tuple[str, ...]
    note_ref: str | None
    nature: str
    effective: date | None
    effective_text: str
    source: str
    edition: str | None = None  # basic editions only: the revision that first made the change


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """All entries of one revision's change record, with look-ups by code and by note."""

    revision: str
    published: date | None
    entries: tuple[ChangeEntry, ...] = field(default_factory=tuple)

    def effective_for(self, code: str) -> date | None:
        """Latest effective date of the entries naming ``code``, else of its nearest parent.

        A 10-digit statistical code inherits from its 8-digit line (and a line from the 6-digit
        group named, e.g. ``9401.99``), because a change to the parent covers the child.
        """
        wanted = canonical_code(code)
        if wanted is None:
            return None
        for candidate in _code_and_parents(wanted):
            matching = [e for e in self.entries if candidate in e.codes]
            if matching:
                dates = [e.effective for e in matching if e.effective is not None]
                return max(dates) if dates else None
        return None

    def effective_for_note(self, note_ref: str) -> list[date]:
        """Sorted distinct dates of entries whose note equals, contains or is inside ``note_ref``.

        A change to note 2(v) concerns 2(v)(iii) and vice versa, so both directions count;
        ranges such as ``2(v)(xiv)(1)-(9), (11)-(57)`` match only the subdivisions they cover.
        """
        query = _parse_ref(canonical_note_ref(note_ref) or note_ref.strip())
        if query is None:
            return []
        found: set[date] = set()
        for entry in self.entries:
            if entry.note_ref is None or entry.effective is None:
                continue
            parsed = _parse_ref(entry.note_ref)
            if parsed is not None and _refs_related(parsed, query):
                found.add(entry.effective)
        return sorted(found)


# ---------------------------------------------------------------------------------------------
# codes


def canonical_code(text: str) -> str | None:
    """Dotted HTS code (``9403.20.00.75``) from any printed form, or None if not a code."""
    text = text.strip()
    if not _CODE_FORM_RE.match(text):
        return None
    return dotted(digits(text))


def _code_and_parents(code: str) -> Iterator[str]:
    """The code itself, then each shorter parent down to 6 digits."""
    parts = code.split(".")
    yield code
    for n in range(len(parts) - 1, 1, -1):
        yield ".".join(parts[:n])


def _codes_in(item: str) -> tuple[str, ...]:
    """Codes named in an item; 9903 heading ranges are expanded by their last 2-digit group."""
    found: list[str] = []
    consumed: list[tuple[int, int]] = []
    for m in _CODE_RANGE_RE.finditer(item):
        a, b = m.group("a"), m.group("b")
        consumed.append(m.span())
        if a[:7] == b[:7] and a.startswith("9903.") and int(a[8:]) <= int(b[8:]):
            found.extend(f"{a[:7]}.{n:02d}" for n in range(int(a[8:]), int(b[8:]) + 1))
        else:
            found.extend((a, b))
    for m in _CODE_RE.finditer(item):
        if any(s <= m.start() < e for s, e in consumed):
            continue
        code = canonical_code(m.group())
        if code is not None and len(code) > 4:
            found.append(code)
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------------------------------------
# notes


def canonical_note_ref(item: str) -> str | None:
    """Canonical reference of a note item (:mod:`tariffstack.sources.noterefs`), None if the
    item is not a note."""
    ref = note_ref(item)
    return None if ref is None else str(ref)


Interval = tuple[str, int, int]  # (kind of numbering, low, high)


def _parse_ref(ref: str) -> tuple[str, list[list[Interval]]] | None:
    """Scope and per-level intervals of a canonical note reference, None if unparsable."""
    scope, _, path = ref.rpartition(": ")
    tokens = re.findall(r"\d+|\([^()]*\)|-|,", path.replace(" ", ""))
    if not tokens or not tokens[0].isdigit():
        return None
    levels: list[list[Interval]] = []
    pending: Interval | None = None  # start of a range awaiting its end
    alternatives = False  # after the first "-" or ",", tokens are more values at the last level
    expect_end = False
    for tok in tokens:
        if tok == "-":
            expect_end, alternatives = True, True
            continue
        if tok == ",":
            alternatives = True
            continue
        value = tok.strip("()")
        if not value:
            continue
        depth = len(levels) - 1 if alternatives else len(levels)
        if depth < 0:
            return None
        interval = _ordinal(value, depth)
        if expect_end and pending is not None and interval[0] == pending[0]:
            lo, hi = sorted((pending[1], interval[1]))
            levels[depth][-1] = (pending[0], lo, hi)
            pending, expect_end = None, False
            continue
        expect_end = False
        if alternatives:
            if depth >= len(levels):
                return None
            levels[depth].append(interval)
        else:
            levels.append([interval])
        pending = interval
    return scope, levels


def _ordinal(token: str, depth: int) -> Interval:
    """Position of a numbering token: numbers, letters (a..z, aa..zz), roman at depth 2."""
    if token.isdigit():
        n = int(token)
        return ("n", n, n)
    low = token.lower()
    if depth == 2 and token.islower() and roman_value(low) is not None:
        n = _roman(low)
        return ("r", n, n)
    kind = "A" if token.isupper() else "a"
    if len(set(low)) == 1:
        n = (len(low) - 1) * 26 + ord(low[0]) - 96
    else:
        n = 0
        for ch in low:
            n = n * 26 + (ord(ch) - 96)
    return (kind, n, n)


def _roman(text: str) -> int:
    value = roman_value(text)
    if value is None:  # the patterns that call this only match roman numerals
        raise ValueError(f"not a roman numeral: {text!r}")
    return value


def _refs_related(
    a: tuple[str, list[list[Interval]]], b: tuple[str, list[list[Interval]]]
) -> bool:
    """Same scope and overlapping at every level both define (equal, ancestor or descendant)."""
    if a[0] != b[0]:
        return False
    for la, lb in zip(a[1], b[1], strict=False):
        if not any(
            ka == kb and lo_a <= hi_b and lo_b <= hi_a
            for ka, lo_a, hi_a in la
            for kb, lo_b, hi_b in lb
        ):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# dates


def _parse_date(text: str, ref_year: int | None) -> date | None:
    """Date printed as ``April 5, 2025``; a year off by exactly 1000 (``3025``) is corrected."""
    m = _DATE_RE.search(text)
    if m is None:
        return None
    month = month_number(m.group("m"))
    day, year = int(m.group("d")), int(m.group("y"))
    if ref_year is not None and abs(year - ref_year) > 50 and abs(year - 1000 - ref_year) <= 1:
        year -= 1000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _ref_year(revision: str, published: date | None) -> int | None:
    if published is not None:
        return published.year
    m = re.search(r"\b(19|20)\d{2}\b", revision)
    return int(m.group()) if m else None


# ---------------------------------------------------------------------------------------------
# layout


@dataclass(slots=True)
class _Segment:
    start: int
    text: str


@dataclass(slots=True)
class _Row:
    cells: dict[str, list[str]] = field(
        default_factory=lambda: {c: [] for c in ("item", "nature", "eff", "source", "edition")}
    )
    dated: bool = False

    def add(self, column: str, text: str) -> None:
        self.cells[column].append(text)

    def text(self, column: str) -> str:
        return _join_wrapped(self.cells[column])


_COLUMNS = ("item", "nature", "eff", "source", "edition")


def _join_wrapped(parts: Iterable[str]) -> str:
    """Join wrapped cell lines; a line ending in a dash continues without a space."""
    out = ""
    for part in parts:
        part = " ".join(part.split())
        if not part:
            continue
        if not out:
            out = part
        elif out[-1] in _DASHES:
            out += part
        else:
            out += " " + part
    return out


def _segments(line: str) -> list[_Segment]:
    return [_Segment(m.start(), m.group()) for m in _SEGMENT_RE.finditer(line)]


def _find_effective(
    segs: list[_Segment], eff_start: int | None, margin: int
) -> tuple[int, list[_Segment]]:
    """Index of the effective-date cell in ``segs`` (-1 if none), splitting a glued date off.

    The item cell sits at the left margin, so a date there is never the effective cell; a date
    cell standing alone must sit near the effective column so that a wrapped nature reading
    just "March 4, 2025" is not taken for a new row.
    """
    for i, seg in enumerate(segs):
        if seg.start <= margin + 4:
            continue
        is_date = bool(_DATE_FULL_RE.match(seg.text) or _NO_DATE_RE.match(seg.text))
        if is_date and (i > 0 or len(segs) > 1):
            return i, segs
        if is_date and eff_start is not None and abs(seg.start - eff_start) <= 6:
            return i, segs
        if (
            _SEE_RE.match(seg.text)
            and i < len(segs) - 1
            and eff_start is not None
            and abs(seg.start - eff_start) <= 4
        ):
            return i, segs
    # a date glued to the nature by a single space, followed by the source cell
    for i, seg in enumerate(segs[:-1]):
        m = _DATE_TAIL_RE.match(seg.text)
        if seg.start > margin + 4 and m and not _DATE_RE.search(m.group("head")):
            head = _Segment(seg.start, m.group("head"))
            tail = _Segment(seg.start + m.start("date"), m.group("date"))
            return i + 1, [*segs[:i], head, tail, *segs[i + 1 :]]
    return -1, segs


def _rows(lines: list[str]) -> list[_Row]:
    """Group table lines into rows, tracking per-page column starts."""
    rows: list[_Row] = []
    current: _Row | None = None
    starts: dict[str, int] = {}
    margin = 0
    in_table = False
    for raw in lines:
        line = raw.replace("\u00a0", " ").rstrip()
        if not line.strip():
            continue
        if _HEADER_RE.search(line):
            in_table = True
            starts = _header_starts(line)
            margin = _leading(line)
            continue
        if not in_table or _PAGE_NO_RE.match(line):
            continue
        segs = _segments(line)
        margin = min(margin, segs[0].start)
        k, segs = _find_effective(segs, starts.get("eff"), margin)
        if k >= 0:
            before, after = segs[:k], segs[k + 1 :]
            row_starts: dict[str, int] = {"eff": segs[k].start}
            item_segs = [s for s in before if s.start <= margin + 4]
            nature_segs = [s for s in before if s.start > margin + 4]
            if item_segs and not nature_segs and len(item_segs) > 1:
                nature_segs = item_segs[1:]
                item_segs = item_segs[:1]
            edition: _Segment | None = None
            if len(after) >= 2 and _EDITION_RE.match(after[-1].text):
                edition = after.pop()
            if item_segs:
                row_starts["item"] = item_segs[0].start
            if nature_segs:
                row_starts["nature"] = nature_segs[0].start
            if after:
                row_starts["source"] = after[0].start
            if edition is not None:
                row_starts["edition"] = edition.start
            merge = (
                not item_segs and current is not None and not current.dated
                and bool(current.cells["item"])
            )
            if not merge:
                current = _Row()
                rows.append(current)
            assert current is not None
            current.dated = True
            starts = {**starts, **row_starts}
            for s in item_segs:
                current.add("item", s.text)
            for s in nature_segs:
                current.add("nature", s.text)
            current.add("eff", segs[k].text)
            for s in after:
                current.add("source", s.text)
            if edition is not None:
                current.add("edition", edition.text)
            continue
        # continuation line (or a row without an effective date)
        assigned = [(_nearest(s, starts, margin), s) for s in segs]
        item_text = " ".join(s.text for c, s in assigned if c == "item")
        if current is None or (
            item_text
            and current.cells["item"]
            and _ITEM_START_RE.match(item_text)
            and not _ITEM_OPEN_END_RE.search(current.text("item"))
        ):
            current = _Row()
            rows.append(current)
        for column, s in assigned:
            current.add(column, s.text)
    return rows


def _header_starts(line: str) -> dict[str, int]:
    """Approximate column starts from a table header, for continuation lines above any row."""
    starts: dict[str, int] = {}
    for column, pattern in (
        ("item", r"item\s+changed"),
        ("nature", r"nature\s+of\s+change"),
        ("eff", r"effective\s+date"),
        ("source", r"\bsource\b"),
        ("edition", r"\bedition\b"),
    ):
        m = re.search(pattern, line, re.IGNORECASE)
        if m:
            starts[column] = m.start()
    if "item" in starts:
        starts["item"] = _leading(line)
    return starts


def _leading(line: str) -> int:
    return len(line) - len(line.lstrip())


def _nearest(segment: _Segment, starts: dict[str, int], margin: int) -> str:
    """Column whose start is nearest to a continuation segment's start (ties to the left).

    Wrapped text almost never continues a date, so only date-like text may go to that column.
    """
    start = segment.start
    if start <= margin + 2:
        return "item"
    columns = [c for c in _COLUMNS if c != "eff" or _EFF_PART_RE.search(segment.text)]
    best = "nature"
    best_dist: int | None = None
    for column in columns:
        if column not in starts:
            continue
        dist = abs(starts[column] - start)
        if best_dist is None or dist < best_dist:
            best, best_dist = column, dist
    return best


# ---------------------------------------------------------------------------------------------
# entries


def _kind(item: str) -> EntryKind:
    if _US_NOTE_RE.match(item) or STATISTICAL_NOTE_RE.match(item):
        return "note"
    if GENERAL_NOTE_RE.match(item):
        return "general_note"
    if re.match(r"^\d{4}(?:\.\d{2})", item):
        return "heading"
    return "other"


def _entry(row: _Row, revision: str, ref_year: int | None) -> ChangeEntry | None:
    item = row.text("item")
    nature = row.text("nature")
    if not item and not nature:
        return None
    effective_text = row.text("eff")
    kind = _kind(item)
    note_ref = canonical_note_ref(item) if kind in ("note", "general_note") else None
    return ChangeEntry(
        revision=revision,
        item=item,
        kind=kind,
        codes=_codes_in(item) if kind == "heading" else (),
        note_ref=note_ref,
        nature=nature,
        effective=_parse_date(effective_text, ref_year),
        effective_text=effective_text,
        source=row.text("source"),
        edition=row.text("edition") or None,
    )


def _published(lines: list[str]) -> date | None:
    """The date printed alone on a line above the table (absent from some basic editions)."""
    for line in lines:
        if _HEADER_RE.search(line):
            break
        text = line.strip()
        if _DATE_FULL_RE.match(text):
            return _parse_date(text, None)
    return None


def parse_change_record(text: str, revision: str) -> ChangeRecord:
    """Parse the text of one change record; text without a table gives an empty record."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").split("\n")
    lines = [line.expandtabs(8) for line in lines]
    published = _published(lines)
    ref_year = _ref_year(revision, published)
    entries = []
    for row in _rows(lines):
        entry = _entry(row, revision, ref_year)
        if entry is not None:
            entries.append(entry)
    return ChangeRecord(revision=revision, published=published, entries=tuple(entries))


def _resolve(hts_dir: Path, listed: str) -> Path:
    """Paths in REVISIONS.csv start with ``hts/`` (relative to the folder holding it), whatever
    the data folder is called; accept both bases."""
    rel = Path(listed)
    candidates = [hts_dir.parent / rel, hts_dir / rel]
    if len(rel.parts) > 1 and rel.parts[0] in ("hts", hts_dir.name):
        candidates.insert(0, hts_dir.joinpath(*rel.parts[1:]))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[0]


# Opening brackets followed by a gap: pypdf places the glyph after "(" a few columns too far
# when the PDF positions it separately ("2(   aa)(v)(3)"); a table cell never ends in "(".
_BRACKET_GAP_RE = re.compile(r"\((?P<gap> +)(?P<run>\S+(?: \S+)*)")


def pdf_text(data: bytes, name: str) -> str:
    """The text of a change record PDF, laid out as printed (columns kept at their places).

    pypdf's layout mode gives what ``pdftotext -layout`` gives for USITC's change records (all 43
    in ``../shared`` parse to the same entries), except for a gap it puts after some opening
    brackets; the gap is moved behind the text it split, so later columns keep their place. A
    file pypdf cannot read raises ``DataError`` naming it.
    """
    from pypdf import PdfReader  # a second or so to import; only PDFs need it

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on a damaged file
        raise DataError(f"change record {name} is not a readable PDF ({type(exc).__name__}: {exc})") from None
    lines = "\n\f".join(pages).split("\n")
    return "\n".join(_BRACKET_GAP_RE.sub(lambda m: f"({m['run']}{m['gap']}", ln) for ln in lines)


def change_record_text(path: Path, name: str | None = None) -> str:
    """The text of one change record file: a PDF is read as laid out, anything else as UTF-8."""
    label = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read change record {label}: {exc.strerror or exc}") from None
    if data[:1024].lstrip().startswith(b"%PDF"):
        return pdf_text(data, label)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"change record {label} is neither a PDF nor UTF-8 text (byte {exc.start})") from None


def load_change_records(hts_dir: Path) -> dict[str, ChangeRecord]:
    """Parse every change record listed in ``REVISIONS.csv``, keyed by revision label."""
    index = hts_dir / "REVISIONS.csv"
    try:
        with index.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {index}: {exc}") from None
    records: dict[str, ChangeRecord] = {}
    for row in rows:
        revision = (row.get("revision") or "").strip()
        listed = (row.get("change_record") or "").strip()
        if not revision or not listed:
            continue
        path = _resolve(hts_dir, listed)
        text = change_record_text(path, f"of {revision} at {path}")
        records[revision] = parse_change_record(text, revision)
    return records
