"""One form for note references: the change records, the headings, the notes index and the
registry all key a note the same way, whatever spelling the text used."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariffstack.engine.us import Engine
from tariffstack.law.measures import note_refs
from tariffstack.law.registry import load_registry
from tariffstack.sources.changes import load_change_records
from tariffstack.sources.noterefs import NoteRef, note_ref, us_note
from tariffstack.sources.notes import NotesIndex, parse_ref


@pytest.mark.parametrize(("spelling", "path", "scope"), [
    ("U.S. note 2(v)(iii), subch III, ch 99", "2(v)(iii)", ""),
    ("III:2(v)(iii)", "2(v)(iii)", ""),
    ("note 21(b) to this subchapter", "21(b)", ""),
    ("U.S. note 20(b) to subchapter III of chapter 99", "20(b)", ""),
    ("U.S. note 1 to subchapter XXII", "1", "subch XXII, ch 99"),
    ("xxii:1", "1", "subch XXII, ch 99"),
    ("subch XXII, ch 99: 1", "1", "subch XXII, ch 99"),
    ("U.S. note 3(d) subch II, ch 98", "3(d)", "subch II, ch 98"),
    ("U.S. note 3, ch 2", "3", "ch 2"),
    ("General Note 11", "11", "general note"),
    ("general note: 11", "11", "general note"),
    ("Statistical note 2 through 4, ch 84", "2-4", "statistical note, ch 84"),
    ("statistical note, ch 84: 2-4", "2-4", "statistical note, ch 84"),
    ("U.S. note 2(aa)(v)(e)\u2014(f), (h)\u2013(k)", "2(aa)(v)(e)-(f), (h)-(k)", ""),
    ("note 6(b)(iii)(B)(II)", "6(b)(iii)(B)(II)", ""),
])
def test_every_spelling_has_one_canonical_form_that_reads_back(spelling: str, path: str, scope: str) -> None:
    ref = note_ref(spelling)
    assert ref == NoteRef(path, scope)
    assert note_ref(str(ref)) == ref                      # the canonical form is itself a spelling


@pytest.mark.parametrize("text", ["", "Chapter 99", "9903.01.25", "note", "foo: bar", "subdivision (a)"])
def test_text_that_names_no_note(text: str) -> None:
    assert note_ref(text) is None


def test_a_subchapter_is_the_citing_texts_unless_named() -> None:
    assert note_ref("note 1", subchapter="XXII") == us_note("XXII", "1")
    assert note_ref("note 1 to subchapter III", subchapter="XXII") == us_note("III", "1")
    assert us_note("xxii", "1").subchapter == "XXII" and us_note("III", "2").subchapter == "III"
    assert note_ref("U.S. note 3, ch 2").subchapter is None      # type: ignore[union-attr]


def test_the_index_keys_every_subchapter_in_the_one_form(engine: Engine) -> None:
    notes = engine.model.notes
    assert isinstance(notes, NotesIndex)
    for ref in notes.refs():
        assert parse_ref(ref) == ref, ref
    other = notes.get("U.S. note 1 to subchapter XXII")
    assert other.ref == "subch XXII, ch 99: 1" and notes.get("XXII:1") is other
    assert notes.get("U.S. note 1") is not other                  # subchapter III's note 1


def test_headings_cite_notes_as_the_index_keys_them(engine: Engine) -> None:
    """Every note a Chapter 99 heading of any revision cites is read in the index's form, and
    the ones the notes text holds are found under it."""
    notes = engine.model.notes
    assert notes is not None
    versions = [m for ms in engine.model.measures.values() for m in ms]
    cited = {r for m in versions for r in (*note_refs(m.text), *m.note_refs)}
    assert len(cited) > 50
    assert all(parse_ref(r) == r for r in cited)
    found = {r for r in cited if r in notes}
    assert {"2(v)(iii)", "16(c)", "20(b)"} <= found and len(found) > 0.8 * len(cited), sorted(cited - found)


def test_change_records_name_notes_as_the_index_keys_them(hts_dir: Path, engine: Engine) -> None:
    notes = engine.model.notes
    assert notes is not None
    refs = {e.note_ref for rec in load_change_records(hts_dir).values() for e in rec.entries if e.note_ref}
    exact = {r for r in refs if (n := note_ref(r)) is not None and n.exact and n.subchapter}
    assert len(exact) > 20
    assert all(str(note_ref(r)) == r == parse_ref(r) for r in exact)
    assert sum(r in notes for r in exact) > 0.8 * len(exact)


def test_registry_cites_notes_as_the_index_keys_them(engine: Engine) -> None:
    notes = engine.model.notes
    assert notes is not None
    cited = {t[5:] for recs in load_registry().by_heading.values() for r in recs
             for t in (*r.products, *r.except_products) if t.startswith("note:")}
    assert cited and all(parse_ref(r) == r for r in cited)
