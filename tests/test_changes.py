"""Change records: facts checked by hand in the USITC text, layout quirks, and robustness."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffstack.errors import DataError
from tariffstack.sources.changes import (
    ChangeEntry,
    ChangeRecord,
    canonical_code,
    canonical_note_ref,
    load_change_records,
    parse_change_record,
)

# Entry counts per file, cross-checked against a grep of rows with an effective-date cell
# (plus the dateless "Statistical Annex" rows of 2026 rev 5 (2) and rev 8 (1)).
EXPECTED_COUNTS = {
    "2025 basic": 356, "2025 rev 1": 6, "2025 rev 2": 1, "2025 rev 3": 14, "2025 rev 4": 45,
    "2025 rev 5": 2, "2025 rev 6": 12, "2025 rev 7": 45, "2025 rev 8": 2, "2025 rev 9": 3,
    "2025 rev 10": 1, "2025 rev 11": 9, "2025 rev 12": 5, "2025 rev 13": 8, "2025 rev 14": 48,
    "2025 rev 15": 3, "2025 rev 16": 136, "2025 rev 17": 20, "2025 rev 18": 117,
    "2025 rev 19": 14, "2025 rev 20": 7, "2025 rev 21": 4, "2025 rev 22": 1, "2025 rev 23": 26,
    "2025 rev 24": 28, "2025 rev 25": 29, "2025 rev 26": 43, "2025 rev 27": 10,
    "2025 rev 28": 5, "2025 rev 29": 79, "2025 rev 30": 8, "2025 rev 31": 2, "2025 rev 32": 41,
    "2026 basic": 813, "2026 rev 1": 40, "2026 rev 2": 305, "2026 rev 3": 12, "2026 rev 4": 34,
    "2026 rev 5": 321, "2026 rev 6": 9, "2026 rev 7": 3, "2026 rev 8": 8, "2026 rev 9": 31,
}


@pytest.fixture(scope="module")
def records(hts_dir: Path) -> dict[str, ChangeRecord]:
    return load_change_records(hts_dir)


def _entries(record: ChangeRecord, item: str) -> list[ChangeEntry]:
    return [e for e in record.entries if e.item == item]


def _only(record: ChangeRecord, item: str) -> ChangeEntry:
    found = _entries(record, item)
    assert len(found) == 1, (item, found)
    return found[0]


# ---------------------------------------------------------------------------------------------
# the real files


def test_every_listed_file_parses(records: dict[str, ChangeRecord], hts_dir: Path) -> None:
    with (hts_dir / "REVISIONS.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    listed = {r["revision"] for r in rows if r["change_record"]}
    assert set(records) == listed
    assert "2026 rev 10" not in records  # no change record published
    assert {rev: len(r.entries) for rev, r in records.items()} == EXPECTED_COUNTS
    for row in rows:
        if row["revision"] not in records:
            continue
        record = records[row["revision"]]
        assert record.revision == row["revision"]
        assert all(e.revision == row["revision"] for e in record.entries)
        if row["revision"] == "2025 basic":
            assert record.published is None  # that edition prints no date at the top
        else:
            assert record.published == date.fromisoformat(row["published"])


def test_every_9903_entry_has_a_date(records: dict[str, ChangeRecord]) -> None:
    undated = [
        (rev, e.item, e.effective_text)
        for rev, r in records.items()
        for e in r.entries
        if any(c.startswith("9903.") for c in e.codes) and e.effective is None
    ]
    assert undated == []


def test_cells_are_not_glued_or_split(records: dict[str, ChangeRecord]) -> None:
    natures = ("Added", "Modified", "Deleted", "Technical", "Established", "Discontinued",
               "Annotated")
    for r in records.values():
        for e in r.entries:
            assert e.item and not e.item.endswith(natures), e
            assert e.nature.split(" ")[0].capitalize() in natures, e
            assert e.effective is not None or e.effective_text in ("N/A", ""), e
            assert "  " not in e.item + e.nature + e.source


def test_rev10_electronics_note_is_retroactive(records: dict[str, ChangeRecord]) -> None:
    record = records["2025 rev 10"]
    entry = _only(record, "U.S. note 2(v)(iii)")
    assert entry.kind == "note"
    assert entry.note_ref == "2(v)(iii)"
    assert entry.nature == "Modified"
    assert entry.effective == date(2025, 4, 5)
    assert entry.source == "Executive Memoranda"
    assert record.published == date(2025, 4, 15)
    assert record.effective_for_note("2(v)(iii)") == [date(2025, 4, 5)]


def test_rev11_and_rev12(records: dict[str, ChangeRecord]) -> None:
    r11 = records["2025 rev 11"]
    assert r11.effective_for("9903.01.24") == date(2025, 5, 2)
    assert r11.effective_for("9903.01.63") == date(2025, 5, 2)
    e = _only(r11, "9903.94.05")
    assert (e.effective, e.source, e.nature) == (date(2025, 5, 3), "PP 10908", "Added")
    r12 = records["2025 rev 12"]
    assert r12.effective_for("9903.01.25") == date(2025, 5, 14)
    assert r12.effective_for("9903.01.63") == date(2025, 5, 14)


def test_rev17_wrapped_nature_and_page_without_header(records: dict[str, ChangeRecord]) -> None:
    r17 = records["2025 rev 17"]
    e = _only(r17, "9903.01.10")
    assert e.nature == "Modified (rate changed to 35%)"
    assert e.effective == date(2025, 8, 1)
    assert e.source == "Executive Order"  # wrapped over two lines
    assert _only(r17, "U.S. note 36, subch III, ch 99").effective == date(2025, 8, 1)
    e = _only(r17, "9401.99")
    assert e.codes == ("9401.99",)
    assert e.nature == "Technical correction (statistical reporting numbers)"
    assert _only(r17, "9403.20.0075").codes == ("9403.20.00.75",)
    assert r17.effective_for("9403.20.00.75") == date(2025, 7, 1)
    assert r17.effective_for("9403200075") == date(2025, 7, 1)
    assert r17.effective_for("9401.99.90.30") == date(2025, 7, 1)  # via the 6-digit group


def test_rev18_terminations_across_page_breaks(records: dict[str, ChangeRecord]) -> None:
    r18 = records["2025 rev 18"]
    terminated = [e for e in r18.entries if e.nature == "Modified (terminated)" and e.codes]
    codes = [c for e in terminated for c in e.codes]
    # the record lists 9903.01.43-9903.01.76 one by one, leaving out 9903.01.63 (China), which
    # the note 2(v) entry says is kept alongside the new 9903.02.01-9903.02.71
    expected = [f"9903.01.{n}" for n in range(43, 77) if n != 63]
    assert codes == expected
    assert all(e.effective == date(2025, 8, 7) for e in terminated)
    assert r18.effective_for("9903.01.52") == date(2025, 8, 7)  # first row after page break
    assert r18.effective_for("9903.01.63") is None
    assert r18.effective_for("9903.01.77") == date(2025, 8, 6)
    assert _only(r18, "9903.01.77").nature == "Added"
    assert r18.effective_for("9903.02.01") == date(2025, 8, 7)
    assert r18.effective_for("9903.02.71") == date(2025, 8, 7)
    note = _only(r18, "U.S. Note 2(v)(xiv)(1)-(9), (11)-(57), subch III, ch 99")
    assert note.note_ref == "2(v)(xiv)(1)-(9), (11)-(57)"
    assert note.nature == "Modified (terminated)"
    gn = _only(r18, "General Note 11")
    assert gn.kind == "general_note"
    assert gn.nature == (
        "Technical Correction (USMCA heading rule beginning on July 1, 2023, for 7305 through "
        "7307)"
    )
    assert gn.effective == date(2020, 7, 1)
    assert gn.source == "PP 10053"


def test_rev18_note_ranges_match_only_their_subdivisions(
    records: dict[str, ChangeRecord],
) -> None:
    r18 = records["2025 rev 18"]
    # 2(v) itself was modified Aug 7; 2(v)(xiv)(10) (China) was not among those terminated
    assert r18.effective_for_note("2(v)(xiv)(10)") == [date(2025, 8, 7)]  # only via 2(v)
    assert r18.effective_for_note("2(x)(v)") == [date(2025, 8, 6)]  # inside 2(x)(i)-(xi)
    assert r18.effective_for_note("2(x)(xii)") == []
    assert r18.effective_for_note("2") == [date(2025, 8, 6), date(2025, 8, 7)]


def test_2026_rev4_section_122_and_expiry(records: dict[str, ChangeRecord]) -> None:
    r4 = records["2026 rev 4"]
    for n in range(1, 12):
        e = _only(r4, f"9903.03.{n:02d}")
        assert (e.nature, e.effective, e.source) == ("Added", date(2026, 2, 24), "PP 11012")
    e = _only(r4, "9903.45.21")
    assert (e.nature, e.effective) == ("Modified (expired)", date(2026, 2, 7))
    note = _only(r4, "U.S. note 2(aa)(i)–(viii), subch III, ch 99")
    assert note.note_ref == "2(aa)(i)-(viii)"
    assert r4.effective_for_note("2(aa)(iii)") == [date(2026, 2, 24)]


def test_rev25_item_printed_below_its_date_line(records: dict[str, ChangeRecord]) -> None:
    r25 = records["2025 rev 25"]
    e = _only(r25, "U.S. note 2(v)(xiii)-(xix), subch III, ch 99")
    assert e.nature == "Modified (renumbered as subdivisions (xiv) through (xx))"
    assert e.effective == date(2025, 10, 14)


def test_rev5_date_glued_to_nature(records: dict[str, ChangeRecord]) -> None:
    e = _only(records["2025 rev 5"], "U.S. note 16(n), subch III, ch 99")
    assert e.nature == "Deleted (Compiler’s note)"
    assert e.effective == date(2025, 3, 14)
    assert e.source == "Notice"


def test_basic_editions(records: dict[str, ChangeRecord]) -> None:
    b25 = records["2025 basic"]
    e = _only(b25, "U.S. note 18(c)(iii)(17), subch III, ch 99")  # "99" wrapped alone
    assert e.effective == date(2024, 6, 26)
    assert e.edition == "Rev 4"
    e = _only(b25, "0403.20.05")
    assert (e.effective, e.effective_text, e.source, e.edition) == (None, "N/A", "N/A", "Rev 2")
    assert b25.effective_for("9903.88.02") == date(2024, 6, 15)  # latest of two entries
    b26 = records["2026 basic"]
    # the printed year 3025 (rev 16 rows) is a typo for 2025
    e = next(e for e in _entries(b26, "9903.01.25") if e.edition == "Rev 16")
    assert (e.effective_text, e.effective) == ("June 30, 3025", date(2025, 6, 30))
    assert b26.effective_for("9903.01.25") == date(2025, 11, 14)
    e = _only(b26, "U.S. note 2(v)(xxiii)(a) – (b), subch III, ch 99")
    assert e.note_ref == "2(v)(xxiii)(a)-(b)"
    assert _only(b26, "Subch XII, ch 99").kind == "other"
    assert _only(b26, "U.S. note 3, ch 2").note_ref == "ch 2: 3"


def test_dateless_rows_kept(records: dict[str, ChangeRecord]) -> None:
    e = _only(records["2026 rev 8"], "Statistical Annex A")
    assert e.kind == "other"
    assert e.nature == "Technical correction (Burma Scheule C code 546.1 reverted to 546.0)"
    assert (e.effective, e.effective_text, e.source) == (None, "", "")
    e38 = _only(records["2026 rev 8"], "U.S. note 38(i), subch III, ch 99")
    assert e38.nature == "Modified"  # the dateless row is not glued onto the row above


# ---------------------------------------------------------------------------------------------
# synthetic layouts

HEADER = "      Item changed          Nature of change       Effective date      Source\n"


def test_header_date_and_wrapped_cells() -> None:
    text = (
        "        Harmonized Tariff Schedule of the United States (2025 Revision 99)\n\n"
        "                             April 05, 2025\n\n"
        "Notes: rows published August 1, 2025 are not rows.\n"
        + HEADER
        + " U.S. note 2(v)(xiv)(1)-(9),   Modified (replaced     April 5, 2025    Executive\n"
        "   (11)-(57), subch III, ch 99  “9903.01.43–                           Order\n"
        "                                9903.01.76”)\n"
        "                                      7\n"
        " 9903.01.43–9903.01.46         Added                  April 9, 2025    Notice\n"
    )
    record = parse_change_record(text, "2025 rev 99")
    assert record.published == date(2025, 4, 5)
    assert len(record.entries) == 2
    note, heading = record.entries
    assert note.item == "U.S. note 2(v)(xiv)(1)-(9), (11)-(57), subch III, ch 99"
    assert note.nature == "Modified (replaced “9903.01.43–9903.01.76”)"
    assert note.source == "Executive Order"
    assert note.codes == ()
    assert heading.kind == "heading"
    assert heading.codes == ("9903.01.43", "9903.01.44", "9903.01.45", "9903.01.46")
    assert record.effective_for("9903.01.45") == date(2025, 4, 9)


def test_new_row_after_page_break_without_header() -> None:
    text = (
        "                         May 2, 2025\n"
        + HEADER
        + " 9903.01.01                   Added                 May 2, 2025      Notice\n"
        "\f9903.01.02   Added   May 3, 2025   Notice\n"
        "Statistical Annex A     Modified (code\n"
        "                        changed)\n"
    )
    record = parse_change_record(text, "2025 rev 99")
    assert [(e.item, e.effective) for e in record.entries] == [
        ("9903.01.01", date(2025, 5, 2)),
        ("9903.01.02", date(2025, 5, 3)),
        ("Statistical Annex A", None),
    ]
    assert record.entries[2].nature == "Modified (code changed)"


@pytest.mark.parametrize("text", ["", "\n\n\f\n", "garbage\x00\x01 ∂∂ 9903.01.25", "Item changed"])
def test_empty_and_garbage_give_empty_records(text: str) -> None:
    record = parse_change_record(text, "x")
    assert record.entries == ()
    assert record.effective_for("9903.01.25") is None
    assert record.effective_for("not a code") is None
    assert record.effective_for_note("2(v)") == []
    assert record.effective_for_note("???") == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ItemchangdN/A 9903.0125(v)-,\n\fMay 2, 2025")),
               max_size=400))
def test_fuzz_never_crashes(text: str) -> None:
    record = parse_change_record(HEADER + text, "fuzz")
    for entry in record.entries:
        assert isinstance(entry.item, str)
    record.effective_for("9903.01.25")
    record.effective_for_note("2(v)(iii)")


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9903.01.25", "9903.01.25"),
        ("9403.20.0075", "9403.20.00.75"),
        ("9403200075", "9403.20.00.75"),
        ("9401.99", "9401.99"),
        ("9903", "9903"),
        ("99.03", None),
        ("abc", None),
        ("", None),
    ],
)
def test_canonical_code(raw: str, expected: str | None) -> None:
    assert canonical_code(raw) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("U.S. note 2(v)(iii), subch III, ch 99", "2(v)(iii)"),
        ("U.S. note 2(v)(iii)", "2(v)(iii)"),
        ("U.S. note 2(s), ch99, subch III", "2(s)"),
        ("U.S. note 2(v)(iii)(a), subch III, ch", "2(v)(iii)(a)"),
        ("U.S. note 19(a)(iii), ch 99", "19(a)(iii)"),
        ("U.S. note 39 subch III ch 99", "39"),
        ("U.S. note 16(c), subch III, ch 99", "16(c)"),
        ("U.S. note 2(aa)(i)–(viii), subch III, ch 99", "2(aa)(i)-(viii)"),
        ("U.S. note 2(aa)(v)(e)—(f), (h)–(k), subch III, ch 99", "2(aa)(v)(e)-(f), (h)-(k)"),
        ("U.S. note 3(d) subch II, ch 98", "subch II, ch 98: 3(d)"),
        ("U.S. note 1, subch VIII, ch 99", "subch VIII, ch 99: 1"),
        ("General Note 11", "general note: 11"),
        ("General note 29, chapter rule 1 for chapter 64", "general note: 29"),
        ("Statistical notes 2–10, ch 85", "statistical note, ch 85: 2-10"),
        ("Statistical note 2 through 4, ch 84", "statistical note, ch 84: 2-4"),
        ("2(v)(iii)", "2(v)(iii)"),
        ("Chapter 99", None),
        ("9903.01.25", None),
    ],
)
def test_canonical_note_ref(item: str, expected: str | None) -> None:
    assert canonical_note_ref(item) == expected


def _note_record(*refs: tuple[str, date]) -> ChangeRecord:
    entries = tuple(
        ChangeEntry("r", f"U.S. note {ref}", "note", (), canonical_note_ref(f"U.S. note {ref}"),
                    "Modified", when, when.isoformat(), "Notice")
        for ref, when in refs
    )
    return ChangeRecord("r", None, entries)


def test_effective_for_note_ancestors_descendants_and_scope() -> None:
    d1, d2, d3, d4 = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)
    record = _note_record(
        ("2(v)", d1),
        ("2(v)(iii)(a), subch III, ch 99", d2),
        ("2(v)(xvi)-(xix)", d3),
        ("2(v), subch II, ch 98", d4),
    )
    assert record.effective_for_note("2(v)(iii)") == [d1, d2]
    assert record.effective_for_note("2(v)(xvii)") == [d1, d3]
    assert record.effective_for_note("2(v)(xx)") == [d1]
    assert record.effective_for_note("2(v)") == [d1, d2, d3]
    assert record.effective_for_note("U.S. note 2(v), subch III, ch 99") == [d1, d2, d3]
    assert record.effective_for_note("subch II, ch 98: 2(v)(i)") == [d4]
    assert record.effective_for_note("2(w)") == []


# ---------------------------------------------------------------------------------------------
# loading errors


def _write_index(root: Path, change_record: str) -> Path:
    hts = root / "hts"
    (hts / "change_records").mkdir(parents=True)
    (hts / "REVISIONS.csv").write_text(
        "revision,json,change_record,published,sha256\n"
        f"2025 rev 1,hts/json/a.json.gz,{change_record},2025-02-05,x\n"
        "2025 rev 2,hts/json/b.json.gz,,,y\n",
        encoding="utf-8",
    )
    return hts


def test_load_reads_listed_files_only(tmp_path: Path) -> None:
    hts = _write_index(tmp_path, "hts/change_records/r1.txt")
    (hts / "change_records" / "r1.txt").write_text(
        "   February 5, 2025\n" + HEADER + " 9903.01.20   Added   February 4, 2025   Notice\n",
        encoding="utf-8",
    )
    loaded = load_change_records(hts)
    assert list(loaded) == ["2025 rev 1"]
    assert loaded["2025 rev 1"].effective_for("9903.01.20") == date(2025, 2, 4)


def test_load_missing_index_raises(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        load_change_records(tmp_path)


def test_load_missing_file_raises(tmp_path: Path) -> None:
    hts = _write_index(tmp_path, "hts/change_records/absent.txt")
    with pytest.raises(DataError, match="2025 rev 1"):
        load_change_records(hts)


def test_load_undecodable_file_raises(tmp_path: Path) -> None:
    hts = _write_index(tmp_path, "hts/change_records/bad.txt")
    (hts / "change_records" / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError):
        load_change_records(hts)
