"""The U.S. notes of HTS chapter 99, split into addressable subdivisions with their product lists.

Chapter 99 headings do not list the products they cover: they cite a note subdivision
("U.S. note 20(b) to subchapter III", "note 2(v)(iii)") that holds the list, often spread over
many pages of the USITC PDF. This module turns the text extracted from that PDF into a tree of
subdivisions keyed by canonical refs (:mod:`~tariffstack.sources.noterefs`) such as ``"2(v)(iii)"``, each with its full text and the
HTS codes it lists, so a heading's scope can be answered with ``covers(ref, hts10)``.

The PDF text is irregular (page furniture in the middle of lists, indentation lost on some
pages, labels like ``(i)`` that may be a letter or a roman numeral, wrapped cross-references
that look like labels), so subdivision labels are resolved by sequence: every label is read
as the continuation of an open level or the first child of the innermost one, and the cheapest
consistent reading of the whole note wins (see ``_resolve``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from tariffstack.errors import BadInput, DataError
from tariffstack.sources.noterefs import note_ref, us_note, us_scope
from tariffstack.sources.schedule import digits
from tariffstack.words import roman_value

__all__ = ["NoteSubdivision", "NotesIndex", "parse_ref"]


@dataclass(frozen=True, slots=True)
class NoteSubdivision:
    """One note or note subdivision; ``text`` and ``hts_codes`` include its children."""

    ref: str  # canonical: "2(v)(iii)"; another subchapter's "subch IV, ch 99: 1"
    text: str  # page furniture removed, whitespace collapsed per line
    hts_codes: frozenset[str]  # codes of chapters 01-98, digits only ("84713001", "7601", "72")
    cited_headings: frozenset[str] = field(default=frozenset())  # chapter 99 codes mentioned


# --------------------------------------------------------------------------------------------
# Reading and page furniture

_HDR_RE = re.compile(r"Harmonized Tariff Schedule of the United States(?:\s+Revision\s+\d+)?"
                     r"(?:\s*\(\d{4}\))?")
_FURNITURE_RES = (
    _HDR_RE,
    re.compile(r"Annotated for Statistical Reporting Purposes"),
    re.compile(r"U\.S\. Notes \(con\.\)"),
    re.compile(r"(?<![A-Za-z])(?<!SUBCHAPTER )XXII(?![A-Za-z])"),
    re.compile(r"\b99\s*-\s*[IVXL]+\s*-\s*\d+\b"),
)
_LONE_NUMBER_RE = re.compile(r"^(?:\d{1,3}|[IVXL]{1,5})$")  # garbled page no. / section
_HEADER_SPAN = 12  # lines after the title line that may still be page header

# Compiler's notes that only describe the PDF layout; substantive ones are kept in the text.
_LAYOUT_NOTE_RE = re.compile(
    r"\[Compiler's\s+note:\s*(?:List(?:\s+for\s+\S+)?\s+(?:may|continues)"
    r"|text\s+of\s+note\s+may|numbers\s+in\s+this\s+table)[^\]]*\]",
    re.IGNORECASE,
)


def _read_text(path: Path) -> str:
    """Read the notes file; the USITC extract is Latin-1, so fall back to it when not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:  # missing, a directory, no permission
        raise DataError(f"cannot read chapter 99 notes file {path}: {exc}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # never fails; the USITC text uses ¢, soft hyphen, ô


def _strip_furniture(lines: list[str]) -> list[str]:
    """Blank out page headers (title, revision, page number, "U.S. Notes (con.)").

    Lines are blanked rather than deleted so positions stay aligned with the source. Code
    columns that share a line with a header item (seen on some pages) are kept.
    """
    out = list(lines)
    i = 0
    n = len(out)
    while i < n:
        if not _HDR_RE.search(out[i]):
            i += 1
            continue
        j = i
        while j < n and j <= i + _HEADER_SPAN:
            line = out[j]
            had_con = "U.S. Notes (con.)" in line
            for rx in _FURNITURE_RES:
                line = rx.sub(" ", line)
            rest = line.strip()
            if rest and not _LONE_NUMBER_RE.match(rest):
                out[j] = line
                break
            out[j] = ""
            j += 1
            if had_con:
                break
        i = j + 1 if j > i else i + 1
    return out


def _drop_layout_notes(lines: list[str]) -> list[str]:
    """Remove layout-only compiler's notes, which may span two lines, keeping line count."""
    text = "\n".join(lines)
    text = _LAYOUT_NOTE_RE.sub(lambda m: "\n" * m.group().count("\n"), text)
    return text.split("\n")


# --------------------------------------------------------------------------------------------
# Subchapters and notes

_SUBCHAPTER_RE = re.compile(r"^\s*SUBCHAPTER\s+([IVXL]+)\s*$")
_US_NOTES_RE = re.compile(r"^\s*U\.S\.\s+Notes\s*$")
_TABLE_RE = re.compile(r"^\s*Heading/")
_NOTE_START_RE = re.compile(r"^(\s*)(\d{1,2})\.(?=\s|$)(.*)$")
_NOTE_MISPRINT_RE = re.compile(r"^(\s*)\((\d{1,2})\)(\s+\(a\).*)$")  # "(21) (a) ..." for "21."
_NOTE_DELETED_RE = re.compile(r"^\s*\[U\.S\.\s+note\s+(\d{1,2})\s+deleted\]", re.IGNORECASE)


class _RawNote(NamedTuple):
    subchapter: str
    number: int
    lines: list[str]  # first line has "N." blanked out


def _subchapter_regions(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield (roman, U.S.-note lines) per subchapter: the text before its first table."""
    starts = [(i, m.group(1)) for i, line in enumerate(lines)
              if (m := _SUBCHAPTER_RE.match(line))]
    for k, (start, roman) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        stop = next((i for i in range(start, end) if _TABLE_RE.match(lines[i])), end)
        # "U.S. Notes" heads the notes; some subchapters (XXI, XXII) start them without it
        begin = next((i + 1 for i in range(start, stop) if _US_NOTES_RE.match(lines[i])),
                     start + 1)
        yield roman, lines[begin:stop]


def _split_notes(roman: str, lines: list[str]) -> list[_RawNote]:
    """Cut a subchapter's notes at "N." lines that continue the note numbering.

    Numbered product lists ("1. Other seats ...") also use "N.", so a number is a new note
    only when it follows the last note number and does not merely continue such a list.
    """
    notes: list[_RawNote] = []
    current: int = 0
    start: int | None = None
    last_item = 0  # last "N." list item seen inside the current note

    def close(end: int) -> None:
        if start is not None and current:
            notes.append(_RawNote(roman, current, lines[start:end]))

    for i, line in enumerate(lines):
        deleted = _NOTE_DELETED_RE.match(line)
        if deleted and int(deleted.group(1)) > current:
            close(i)
            current, start, last_item = int(deleted.group(1)), i, 0
            continue
        m = _NOTE_START_RE.match(line)
        misprint = _NOTE_MISPRINT_RE.match(line)
        if misprint and int(misprint.group(2)) == current + 1:
            m = misprint
        if not m:
            continue
        num = int(m.group(2))
        rest = m.group(3).strip()
        strong = rest == "" or rest.startswith(("(a)", "[")) or rest.startswith("(1)")
        is_note = current < num <= current + 3 and (num == current + 1 or strong)
        if num == current and rest.startswith("(a)") and m is not misprint:
            is_note = True  # a second note printed with the same number (21: expired one)
        if is_note and last_item and num == last_item + 1 and not strong:
            is_note = False  # "21. Other ..." right after item 20 of a list
        if is_note:
            close(i)
            current, start, last_item = num, i, 0
            width = len(line) - len(m.group(1)) - len(m.group(3))
            lines[i] = m.group(1) + " " * width + m.group(3)
        elif start is not None:
            last_item = num
    close(len(lines))
    return notes


# --------------------------------------------------------------------------------------------
# Subdivision labels

_LABEL_RE = re.compile(r"\(([A-Za-z]{1,5}|\d{1,3})\)")
_OPENLESS_LABEL_RE = re.compile(r"([a-z]{1,4})\)(?=\s)")  # opening parenthesis lost
_ROMAN_LOWER_RE = re.compile(r"^(?=[ivxl])(xl|l?x{0,3})(ix|iv|v?i{0,3})$")
# A label followed by these words is a wrapped cross-reference, not the start of a subdivision.
_REFERENCE_TAIL_RE = re.compile(
    r"^(?:[,.;:)\]\u00ad\u2013\u2014\ufffd-]"
    r"|(?:of|to|through|and|or|above|below|hereof|herein)\b|in\s+(?:this|subdivision)\b)"
)

# Label kinds: "a" letters (a..z, then aa..zz, aaa..zzz), "aa" double letters opening their
# own deeper level (note 6), "i" roman, "A" capitals, "I" capital roman, "1" numbers.
Kind = str


def _roman(s: str) -> int | None:
    """Value of a lowercase roman numeral up to 89 (the labels notes use), or None."""
    return roman_value(s) if _ROMAN_LOWER_RE.match(s) else None


def _readings(label: str) -> list[tuple[Kind, int]]:
    """Every (kind, ordinal) a label can stand for; "(i)" is letter 9 or roman 1."""
    out: list[tuple[Kind, int]] = []
    if label.isdigit():
        return [("1", int(label))]
    low = label.lower()
    upper = label.isupper()
    if not (label.islower() or upper):
        return []
    same = len(set(low)) == 1
    if same and len(low) <= 3:
        ordinal = 26 * (len(low) - 1) + ord(low[0]) - 96
        out.append(("A" if upper else "a", ordinal))
        if len(low) == 2 and not upper:
            out.append(("aa", ord(low[0]) - 96))
    r = _roman(low)
    if r is not None and (len(low) > 1 or low in "ivx"):
        out.append(("I" if upper else "i", r))
    return out


def _misprint_readings(label: str) -> list[tuple[Kind, int, str]]:
    """Readings of "(II)" as "(ll)": the PDF prints 20(ll) with capital I's."""
    if label and set(label) == {"I"} and len(label) <= 3:
        return [(kind, ordinal, "l" * len(label)) for kind, ordinal in _readings("l" * len(label))
                if kind in ("a", "aa")]
    return []


class _Label(NamedTuple):
    pos: int  # offset in the note text
    label: str  # as printed, without parentheses
    readings: tuple[tuple[Kind, int, str, float], ...]  # kind, ordinal, label to use, penalty
    chained: bool  # follows another label on the same line: "(v) (i) Except ..."


class _Level(NamedTuple):
    kind: Kind
    ordinal: int
    label: str


_SUCCESSOR_FREE_GAP = 1
_PUSH_FIRST = 0.1
_PUSH_OTHER = 6.0
_OPEN_LATER = 0.5
_IGNORE = 4.0
_MISPRINT_PENALTY = 1.0
_MAX_DEPTH = 7
_BEAM = 16


def _gap_cost(gap: int) -> float:
    """Cost of skipping labels (deleted subdivisions are simply absent from the text)."""
    return 0.0 if gap == _SUCCESSOR_FREE_GAP else 1.0 + 0.25 * (gap - 2)


class _Step(NamedTuple):
    """One decision in a reading, linked to the previous one (shared between readings)."""

    prev: _Step | None
    decision: tuple[str, ...] | None  # label path, or None: the label is plain text


class _State(NamedTuple):
    cost: float
    stack: tuple[_Level, ...]
    history: _Step | None


def _options(stack: tuple[_Level, ...], lab: _Label) -> Iterator[tuple[float, tuple[_Level, ...]]]:
    """Ways to place one label: continue an open level, or open a child of the innermost."""
    deepest = stack[-1].kind if stack else None
    for kind, ordinal, text, penalty in lab.readings:
        if not lab.chained:
            for d in range(len(stack) - 1, -1, -1):
                lvl = stack[d]
                if lvl.kind == kind and ordinal > lvl.ordinal:
                    bias = 0.001 * (len(stack) - 1 - d)  # prefer the innermost on ties
                    new = (*stack[:d], _Level(kind, ordinal, text))
                    yield _gap_cost(ordinal - lvl.ordinal) + bias + penalty, new
        if kind != deepest and len(stack) < _MAX_DEPTH:
            if ordinal == 1:
                cost = _PUSH_FIRST
            elif not stack:  # a note may open on a later label when earlier ones were deleted
                cost = _OPEN_LATER
            else:
                cost = _PUSH_OTHER
            yield cost + penalty, (*stack, _Level(kind, ordinal, text))


def _resolve(labels: list[_Label]) -> list[tuple[str, ...] | None]:
    """Assign each label a path, or None when it is text; cheapest reading of the note wins.

    A small beam search: a wrong guess for an ambiguous label ("(i)" after "(h)") makes a
    later label expensive ("(j)" then skips a letter), so the sequence decides.
    """
    beam: list[_State] = [_State(0.0, (), None)]
    for lab in labels:
        best: dict[tuple[_Level, ...], _State] = {}
        for st in beam:
            cands: list[tuple[float, tuple[_Level, ...], tuple[str, ...] | None]] = [
                (st.cost + _IGNORE, st.stack, None)]
            for cost, stack in _options(st.stack, lab):
                cands.append((st.cost + cost, stack, tuple(lv.label for lv in stack)))
            for cost, stack, decision in cands:
                old = best.get(stack)
                if old is None or cost < old.cost:
                    best[stack] = _State(cost, stack, _Step(st.history, decision))
        beam = sorted(best.values(), key=lambda s: s.cost)[:_BEAM]
    out: list[tuple[str, ...] | None] = []
    node = beam[0].history if beam else None
    while node is not None:
        out.append(node.decision)
        node = node.prev
    out.reverse()
    return out


# --------------------------------------------------------------------------------------------
# HTS codes

_DOTTED_RE = re.compile(r"(?<![\d.,])(\d{4})\.(\d{2})(?:\.(\d{2})(?:\.?(\d{2}))?)?(?![\d])")
_CODE_TOKEN_RE = re.compile(r"^\d{4}(?:\.\d{2}(?:\.\d{2}(?:\.?\d{2})?)?)?$")
_LIST_SPLIT_RE = re.compile(r"[\s,;]+")
_SEPARATOR = r"(?:\s*[,;]\s*|\s*,?\s+(?:and|or|through|to)\s+|\s*[-\u2013\u2014\u00ad\ufffd]\s*)"
_HEADING_RUN_RE = re.compile(  # "headings 8701 to 8705", "heading 8471, 8473.30 and 8542"
    r"\b(?:headings?|provided\s+for\s+in)\s+"
    rf"(\d{{4}}(?:\.\d{{2}})*(?:{_SEPARATOR}\d{{4}}(?:\.\d{{2}})*)*)",
    re.IGNORECASE,
)
_RANGE_RE = re.compile(r"(\d{4})(?:\s+(?:through|to)\s+|\s*[-\u2013\u2014\u00ad\ufffd]\s*)(\d{4})"
                       r"(?![.\d])")
_BARE_HEADING_RE = re.compile(r"(?<![\d.])(\d{4})(?![.\d])")
_CHAPTER_RE = re.compile(
    r"\b(?:classifiable|classified|provided\s+for)\s+in\s+(?:the\s+)?(?:HTSUS\s+)?chapters?\s+"
    r"(\d{1,2}(?:(?:\s*,\s*|\s*,?\s+(?:or|and)\s+)\d{1,2})*)(?!\d|\s+(?:to|through)\s+\d)",
    re.IGNORECASE,
)


def _valid_chapter(code: str) -> bool:
    return 1 <= int(code[:2]) <= 99


def _is_list_line(line: str) -> bool:
    """A row of a printed code list: nothing but codes (and separators)."""
    toks = [t for t in _LIST_SPLIT_RE.split(line.strip()) if t and t not in ("and", "or")]
    return bool(toks) and all(_CODE_TOKEN_RE.match(t) for t in toks)


_NOT_APPLY_RE = re.compile(r"\b(?:does|do|shall)\s+not\s+apply\s+to\s+the\s+following\b", re.I)


def _codes_with_pos(text: str) -> list[tuple[int, str]]:
    """All codes in a note with their offsets: dotted codes, bare headings, chapters.

    Chapter 98 codes count only inside printed lists: in prose they are the standard
    "goods entered under 9802.00.80 ..." clause of nearly every subdivision, not products.
    """
    lines = text.split("\n")
    starts: list[int] = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    flags = [_is_list_line(ln) for ln in lines]

    def on_list(pos: int) -> bool:
        return flags[bisect.bisect_right(starts, pos) - 1]

    found: list[tuple[int, str]] = []
    for m in _DOTTED_RE.finditer(text):
        code = "".join(g for g in m.groups() if g)
        if not code.startswith("98") or on_list(m.start()):
            found.append((m.start(), code))
    for m in _HEADING_RUN_RE.finditer(text):
        run, base = m.group(1), m.start(1)
        ranges = [(r.start(), r.end(), r.group(1), r.group(2)) for r in _RANGE_RE.finditer(run)]
        for s, _e, lo, hi in ranges:
            a, b = int(lo), int(hi)
            if lo[:2] == hi[:2] and a < b:
                found.extend((base + s, f"{x:04d}") for x in range(a, b + 1))
        for h in _BARE_HEADING_RE.finditer(run):
            if not any(s <= h.start() < e for s, e, _lo, _hi in ranges):
                found.append((base + h.start(), h.group(1)))
    # "Heading X does not apply to the following: (i) articles classifiable in HTSUS chapters
    # 72, 73 or 76; ..." names chapters a heading excludes, not its products
    excluded = [m.end() for m in _NOT_APPLY_RE.finditer(text)]
    for m in _CHAPTER_RE.finditer(text):
        if any(0 <= m.start() - end < 200 for end in excluded):
            continue
        for c in re.findall(r"\d{1,2}", m.group(1)):
            if 1 <= int(c) <= 97:
                found.append((m.start(1), f"{int(c):02d}"))
    # bare 4-digit headings inside printed lists ("7601  7604  7605")
    for k, line in enumerate(lines):
        if flags[k]:
            toks = [t for t in _LIST_SPLIT_RE.split(line.strip()) if t]
            neighbour = (k > 0 and flags[k - 1]) or (k + 1 < len(lines) and flags[k + 1])
            if len(toks) >= 2 or neighbour:
                for h in _BARE_HEADING_RE.finditer(line):
                    found.append((starts[k] + h.start(), h.group(1)))
    found = [(p, c) for p, c in found if _valid_chapter(c)]
    found.sort()
    return found


# --------------------------------------------------------------------------------------------
# Building subdivisions


def _find_labels(lines: list[str]) -> tuple[str, list[_Label]]:
    """Join a note's lines and find the labels that may open a subdivision.

    A label counts only at the start of a line that follows a blank line or a row of codes
    (wrapped prose continues straight on), and not when followed by reference words
    ("(a) of this note", "(v)(a)(1)-(3) that") or run into a lowercase word ("(www)of").
    """
    text = "\n".join(lines)
    labels: list[_Label] = []
    offset = 0
    prev_open = True  # first line of a note
    for line in lines:
        stripped = line.strip()
        if prev_open and (stripped.startswith("(") or _OPENLESS_LABEL_RE.match(stripped)):
            labels.extend(_line_labels(line, offset))
        prev_open = stripped == "" or _is_list_line(stripped)
        offset += len(line) + 1
    return text, labels


def _line_labels(line: str, offset: int) -> list[_Label]:
    pos = len(line) - len(line.lstrip())
    found: list[_Label] = []
    while True:
        m = _LABEL_RE.match(line, pos)
        if not m and not found:
            m = _OPENLESS_LABEL_RE.match(line, pos)  # "i) all products ..." in 20(u)
        if not m:
            break
        end = m.end()
        if end < len(line) and not (line[end].isspace() or line[end] == "("
                                    or line[end].isupper()):
            return []  # "(vvv)and": a reference run into prose ("(mmm)The" is a label)
        label = m.group(1)
        readings = tuple([(k, o, label, 0.0) for k, o in _readings(label)]
                         + [(k, o, t, _MISPRINT_PENALTY) for k, o, t in _misprint_readings(label)])
        if not readings:
            return found  # "(v) (USMCA) ...": keep the labels before the word
        found.append(_Label(offset + m.start(), m.group(1), readings, bool(found)))
        pos = end
        while pos < len(line) and line[pos].isspace():
            pos += 1
    if found and _REFERENCE_TAIL_RE.match(line[pos:]):
        return []
    return found


def _tidy(text: str) -> str:
    """Collapse spacing per line and runs of blank lines; strip the ends."""
    out: list[str] = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _build_note(note: _RawNote, taken: set[str]) -> tuple[list[NoteSubdivision], list[str]]:
    """The note itself and each subdivision, each spanning its children."""
    text, labels = _find_labels(note.lines)
    paths = _resolve(labels)
    codes = _codes_with_pos(text)
    positions = [p for p, _c in codes]
    base = str(us_note(note.subchapter, str(note.number)))

    placed = [(lab.pos, path) for lab, path in zip(labels, paths, strict=True) if path]
    spans: list[tuple[str, int, int]] = [(base, 0, len(text))]
    for k, (pos, path) in enumerate(placed):
        end = next((p for p, q in placed[k + 1:] if len(q) <= len(path)), len(text))
        spans.append((base + "".join(f"({x})" for x in path), pos, end))

    out: list[NoteSubdivision] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for ref, start, end in spans:
        if ref in seen or ref in taken:
            warnings.append(f"{ref}: label repeated; kept the first occurrence")
            continue
        seen.add(ref)
        lo = bisect.bisect_left(positions, start)
        hi = bisect.bisect_left(positions, end)
        inside = [c for _p, c in codes[lo:hi]]
        out.append(NoteSubdivision(
            ref=ref,
            text=_tidy(text[start:end]),
            hts_codes=frozenset(c for c in inside if not c.startswith("99")),
            cited_headings=frozenset(c for c in inside if c.startswith("99")),
        ))
    return out, warnings


# --------------------------------------------------------------------------------------------
# Refs

def parse_ref(ref: str, default_subchapter: str = "III") -> str:
    """Canonical form of a reference to one note subdivision (:mod:`~tariffstack.sources.noterefs`):
    "U.S. note 2(v)(iii)" -> "2(v)(iii)", "XV:3" -> "subch XV, ch 99: 3". KeyError if it is not
    one chapter 99 subdivision (a range, a list or another chapter's note)."""
    found = note_ref(ref, default_subchapter)
    if found is None or not found.exact or found.subchapter is None:
        raise KeyError(f"not a chapter 99 note reference: {ref!r} "
                       "(expected e.g. '2(v)(iii)', 'III:20(b)' or 'U.S. note 16(c)(i)')")
    return str(found)


def _listed(code: str, listed: frozenset[str]) -> bool:
    """Whether a listed chapter, heading, subheading or stat. number is a prefix of ``code``."""
    return any(code[:n] in listed for n in (2, 4, 6, 8, 10) if n <= len(code))


def _normalize_code(code: str) -> str:
    d = digits(code)
    if not d.isdigit() or len(d) not in (2, 4, 6, 8, 10):
        raise BadInput(f"not an HTS code: {code!r} (expected e.g. 8517.13.00.00 or 8517130000)")
    return d


# --------------------------------------------------------------------------------------------


class NotesIndex:
    """All U.S. notes of chapter 99 by canonical ref; subchapter III is the default."""

    __slots__ = ("_by_ref", "source", "warnings")

    def __init__(self, subdivisions: Iterable[NoteSubdivision], source: Path | None = None,
                 warnings: Iterable[str] = ()) -> None:
        self._by_ref: dict[str, NoteSubdivision] = {s.ref: s for s in subdivisions}
        self.source = source
        self.warnings: list[str] = list(warnings)

    @classmethod
    def load(cls, path: Path) -> NotesIndex:
        """Parse the chapter 99 notes text; DataError when unreadable or no notes are found."""
        return cls.parse(_read_text(Path(path)), source=Path(path))

    @classmethod
    def parse(cls, text: str, source: Path | None = None) -> NotesIndex:
        """Parse text already read (tests feed broken variants through here)."""
        lines = _drop_layout_notes(_strip_furniture(text.replace("\r\n", "\n").split("\n")))
        subs: list[NoteSubdivision] = []
        warnings: list[str] = []
        taken: set[str] = set()
        for roman, region in _subchapter_regions(lines):
            for note in _split_notes(roman, region):
                built, warn = _build_note(note, taken)
                taken.update(b.ref for b in built)
                subs.extend(built)
                warnings.extend(warn)
        if not subs:
            where = f" in {source}" if source else ""
            raise DataError(f"no chapter 99 U.S. notes found{where}; is the file truncated "
                            "or not the USITC chapter 99 text?")
        return cls(subs, source, warnings)

    def get(self, ref: str) -> NoteSubdivision:
        """The subdivision for any usual spelling of a ref; KeyError names what is missing."""
        key = parse_ref(ref)
        try:
            return self._by_ref[key]
        except KeyError:
            near = [r for r in self._by_ref if r.startswith(key.split("(")[0] + "(")][:8]
            hint = f"; e.g. {', '.join(near)}" if near else ""
            raise KeyError(f"no chapter 99 note subdivision {key} (from {ref!r}){hint}") from None

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        try:
            return parse_ref(ref) in self._by_ref
        except KeyError:
            return False

    def refs(self) -> list[str]:
        """All refs in document order."""
        return list(self._by_ref)

    def children(self, ref: str) -> list[str]:
        """Direct subdivisions of a ref, in document order."""
        key = parse_ref(ref)
        depth = key.count("(")
        return [r for r in self._by_ref
                if r.startswith(key + "(") and r.count("(") == depth + 1]

    def codes(self, ref: str) -> frozenset[str]:
        """Codes listed in a subdivision and its children (digits only)."""
        return self.get(ref).hts_codes

    def covers(self, ref: str, hts10: str) -> bool:
        """True if the code falls under any code, heading or chapter listed in ``ref``."""
        return _listed(_normalize_code(hts10), self.get(ref).hts_codes)

    def refs_listing(self, hts10: str, subchapter: str = "III") -> list[str]:
        """Deepest refs whose own list covers the code (which list an article is on)."""
        code = _normalize_code(hts10)
        scope = us_scope(subchapter)
        hits = [r for r, s in self._by_ref.items() if r.rpartition(": ")[0] == scope
                and _listed(code, s.hts_codes)]
        return [r for r in hits if not any(o != r and o.startswith(r + "(") for o in hits)]
