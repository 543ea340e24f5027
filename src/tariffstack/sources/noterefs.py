"""One form for a reference to a note of the schedule, whoever wrote it.

Headings cite notes ("subdivision (v)(iii) of U.S. note 2", "note 20(b) to this subchapter"),
change records list them ("U.S. note 2(aa)(i)–(viii), subch III, ch 99", "General Note 11"),
the heading registry names them (``note:2(v)(iii)``) and users type them. Every reader turns
the text into a :class:`NoteRef`, whose string is the one canonical form used as a key
everywhere: the bare path for a U.S. note to subchapter III of chapter 99 (the notes the
trade actions live in), e.g. ``2(v)(iii)``; any other note carries its scope, so that two notes
numbered alike cannot collide: ``subch IV, ch 99: 1``, ``subch II, ch 98: 3(d)``, ``ch 2: 3``,
``general note: 11``, ``statistical note, ch 84: 2-4``. Label case is kept ("(A)" and "(a)" are
different subdivisions); dashes, "through" and spacing are unified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DASHES", "GENERAL_NOTE_RE", "STATISTICAL_NOTE_RE", "NoteRef", "note_ref", "us_note", "us_scope"]

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212-"
_DASH_RE = re.compile(f"[{DASHES}]")
# a path: a note number, then subdivisions, ranges ("(i)-(viii)", "2-10") or lists ("(a), (b)")
_PATH_START_RE = re.compile(rf"^\d{{1,3}}(?:\s*\(|\s*$|\s*[{DASHES}]|\s*,|\s+through\b)", re.IGNORECASE)
_EXACT_RE = re.compile(r"^\d{1,2}(?:\([A-Za-z0-9]{1,5}\))*$")   # one subdivision, no range or list
_ROMAN_KEY_RE = re.compile(r"^(?P<sub>[IVXLC]+)\s*:\s*(?P<path>\d.*)$", re.IGNORECASE)
_US_RE = re.compile(r"^(?:additional\s+)?(?:U\.?\s*S\.?\s+)?notes?\b\s*(?P<ref>.*)$", re.IGNORECASE)
GENERAL_NOTE_RE = re.compile(r"^General\s+notes?\s*(?P<ref>.*)$", re.IGNORECASE)
STATISTICAL_NOTE_RE = re.compile(r"^Statistical\s+notes?\s*(?P<ref>.*)$", re.IGNORECASE)
_THIS_SUBCH_RE = re.compile(r"\s+(?:to|of|in)\s+this\s+subchapter\b", re.IGNORECASE)
_QUALIFIER_RE = re.compile(
    r"(?:,\s*|\s+)(?=(?:subch(?:apter)?|ch(?:apter)?|section)(?![a-z]))", re.IGNORECASE
)
_CONNECTOR_TAIL_RE = re.compile(r"\s+(?:to|of|in)$", re.IGNORECASE)
_SUBCH_RE = re.compile(r"\bsubch(?:apter)?\.?\s*(?P<r>[IVXLC]+)\b", re.IGNORECASE)
_CH_RE = re.compile(r"\bch(?:apter)?\.?\s*(?P<n>\d+)", re.IGNORECASE)
_SECTION_RE = re.compile(r"\bsection\s+(?P<r>[IVXLC]+)\b", re.IGNORECASE)
_SCOPED_RE = re.compile(r"^subch (?P<sub>[IVXLC]+), ch 99$")
# the scope of a canonical reference, as ``str(NoteRef)`` writes it
_CANONICAL_SCOPE_RE = re.compile(
    r"^(?:general note|statistical note(?:, [^:]+)?|(?:section [IVXLC]+, )?(?:subch [IVXLC]+, )?ch \d+)$")


@dataclass(frozen=True, slots=True, order=True)
class NoteRef:
    """A note (or a range or list of its subdivisions) and the part of the schedule it is in."""

    path: str         # "2(v)(iii)", "2(aa)(i)-(viii)", "2-10"
    scope: str = ""   # "" = U.S. notes to subchapter III of chapter 99

    def __str__(self) -> str:
        return f"{self.scope}: {self.path}" if self.scope else self.path

    @property
    def exact(self) -> bool:
        """One subdivision (what a notes index can hold), not a range or a list."""
        return bool(_EXACT_RE.match(self.path))

    @property
    def subchapter(self) -> str | None:
        """The subchapter of chapter 99 whose U.S. note this is (roman), None for other notes."""
        if not self.scope:
            return "III"
        m = _SCOPED_RE.match(self.scope)
        return m.group("sub") if m else None


def us_scope(subchapter: str) -> str:
    """The scope of the U.S. notes to ``subchapter`` (roman) of chapter 99."""
    sub = subchapter.upper()
    return "" if sub == "III" else _join_scope(subch=sub, ch="99")


def us_note(subchapter: str, path: str) -> NoteRef:
    """The U.S. note ``path`` to ``subchapter`` (roman) of chapter 99."""
    return NoteRef(_canonical_path(path), us_scope(subchapter))


def note_ref(text: str, subchapter: str = "III") -> NoteRef | None:
    """The note ``text`` refers to, in any usual spelling (also the canonical one); None if it
    names no note. A U.S. note with no chapter is of chapter 99, and with no subchapter of
    ``subchapter`` (the one the citing text is in)."""
    t = " ".join(text.split())
    scope, sep, raw = t.rpartition(": ")
    if sep and _CANONICAL_SCOPE_RE.match(scope):   # the canonical form of a scoped note
        path = _path(raw)
        return None if path is None else NoteRef(path, scope)
    if m := _ROMAN_KEY_RE.match(t):          # "III:2(v)(iii)", the short form users type
        path = _path(m.group("path"))
        return None if path is None else us_note(m.group("sub"), path)
    if m := GENERAL_NOTE_RE.match(t):
        path = _path(re.split(r",", _split_qualifier(m.group("ref"))[0], maxsplit=1)[0])
        return None if path is None else NoteRef(path, "general note")
    if m := STATISTICAL_NOTE_RE.match(t):
        raw, qual = _split_qualifier(m.group("ref"))
        subch, ch, section = _qualifiers(qual)
        rest = _join_scope(subch=subch, ch=ch, section=section)
        path = _path(raw)
        return None if path is None else NoteRef(path, "statistical note" + (f", {rest}" if rest else ""))
    if m := _US_RE.match(t):
        t = m.group("ref")
    raw, qual = _split_qualifier(_THIS_SUBCH_RE.sub("", t))
    path = _path(_CONNECTOR_TAIL_RE.sub("", raw))
    if path is None:
        return None
    subch, ch, _ = _qualifiers(qual)
    ch = ch or "99"
    if ch == "99":
        return us_note(subch or subchapter, path)
    return NoteRef(path, _join_scope(subch=subch, ch=ch))


def _path(text: str) -> str | None:
    """The canonical path of a printed one, None if it does not start like a note path."""
    text = text.strip(" ,")
    return (_canonical_path(text) or None) if _PATH_START_RE.match(text) else None


def _split_qualifier(ref: str) -> tuple[str, str]:
    """Split ``2(s), ch99, subch III`` into path ``2(s)`` and qualifier ``ch99, subch III``."""
    m = _QUALIFIER_RE.search(ref)
    if m is None:
        return ref.strip(" ,"), ""
    return ref[: m.start()].strip(" ,"), ref[m.end():]


def _qualifiers(qual: str) -> tuple[str | None, str | None, str | None]:
    """Subchapter (roman), chapter (number) and section (roman) named in a qualifier."""
    subch, ch, section = _SUBCH_RE.search(qual), _CH_RE.search(qual), _SECTION_RE.search(qual)
    return (subch.group("r").upper() if subch else None, str(int(ch.group("n"))) if ch else None,
            section.group("r").upper() if section else None)


def _join_scope(*, subch: str | None, ch: str | None, section: str | None = None) -> str:
    parts = [f"section {section}"] if section else []
    if subch:
        parts.append(f"subch {subch}")
    if ch:
        parts.append(f"ch {ch}")
    return ", ".join(parts)


def _canonical_path(path: str) -> str:
    """A printed note path with dashes unified, inner spaces dropped and ``through`` as ``-``."""
    text = re.sub(r"\s+through\s+", "-", path.strip(), flags=re.IGNORECASE)
    text = _DASH_RE.sub("-", text)
    text = re.sub(r"\s*-\s*", "-", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    text = re.sub(r"(?<=[)\d])\s+(?=\()", "", text)
    text = re.sub(r"^0+(?=\d)", "", text)
    return text.strip(" ,")
