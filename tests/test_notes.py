"""Tests for the chapter 99 U.S. notes parser, on the real rev 6 (2026) text and on small texts.

Every count and code asserted on the real file was checked by reading the text (and by an
independent grep of the same line range): the parser must find what a reader finds.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffstack.errors import BadInput, DataError
from tariffstack.sources.notes import NotesIndex, NoteSubdivision, parse_ref

NOTES_FILE = "notes/chapter99_2026_rev_6.txt"


@pytest.fixture(scope="module")
def notes_path(hts_dir: Path) -> Path:
    path = hts_dir / NOTES_FILE
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="module")
def index(notes_path: Path) -> NotesIndex:
    return NotesIndex.load(notes_path)


@pytest.fixture(scope="module")
def raw_text(notes_path: Path) -> str:
    return notes_path.read_bytes().decode("latin-1")


# --- refs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("2(v)(iii)", "2(v)(iii)"),
        ("III:2(v)(iii)", "2(v)(iii)"),
        ("U.S. note 2(v)(iii)", "2(v)(iii)"),
        ("note 16(c)(i)", "16(c)(i)"),
        ("U.S. note 20(b) to subchapter III", "20(b)"),
        ("U.S. note 20(b) to subchapter III of chapter 99", "20(b)"),
        ("note 21(b) to this subchapter", "21(b)"),
        ("2 (v) (iii)", "2(v)(iii)"),
        ("xv:3", "subch XV, ch 99: 3"),
        ("note 19(a)(iii)(A)", "19(a)(iii)(A)"),  # label case is kept
    ],
)
def test_parse_ref_spellings(spelling: str, canonical: str) -> None:
    assert parse_ref(spelling) == canonical


@pytest.mark.parametrize("bad", ["", "foo", "2(v", "note", "2(v)(iii)x", "123(a)"])
def test_parse_ref_rejects_garbage(bad: str) -> None:
    with pytest.raises(KeyError, match="not a chapter 99 note reference"):
        parse_ref(bad)


def test_get_accepts_every_spelling(index: NotesIndex) -> None:
    sub = index.get("2(v)(iii)")
    assert isinstance(sub, NoteSubdivision)
    assert sub.ref == "2(v)(iii)"
    for spelling in ("III:2(v)(iii)", "U.S. note 2(v)(iii)", "note 2(v)(iii)"):
        assert index.get(spelling) is sub
    assert "2(v)(iii)" in index
    assert "2(w)" not in index


def test_unknown_ref_is_a_clear_key_error(index: NotesIndex) -> None:
    # note 2 has no (w) in rev 6, and there is no note 34 in subchapter III
    with pytest.raises(KeyError, match=r"subdivision 2\(w\) \(from"):
        index.get("2(w)")
    with pytest.raises(KeyError, match=r"subdivision 34 \(from"):
        index.get("34")


# --- note 2: IEEPA -------------------------------------------------------------------------


def test_note2_top_level_letters(index: NotesIndex) -> None:
    # deleted subdivisions are simply absent; (aa) follows (z) at the same level
    assert index.children("2") == [
        f"2({x})" for x in ("a", "b", "c", "j", "k", "l", "m", "s", "t", "u", "v", "x", "y",
                                "z", "aa")
    ]


def test_annex_ii_exemptions_2v_iii(index: NotesIndex) -> None:
    sub = index.get("2(v)(iii)")
    assert index.children("2(v)(iii)") == ["2(v)(iii)(a)", "2(v)(iii)(b)"]
    assert len(index.codes("2(v)(iii)(a)")) == 1082  # 1076 8-digit, 4 headings, 1 6-digit, 1 10
    assert len(index.codes("2(v)(iii)(b)")) == 11  # (1) etrogs ... (11) essential oils
    assert len(sub.hts_codes) == 1093
    assert {"85171300", "85176200", "8471", "847330", "8542", "85423100", "8505110070"} \
        <= sub.hts_codes
    assert "99030132" in sub.cited_headings  # "As provided for in heading 9903.01.32"
    assert not any(c.startswith("99") for c in sub.hts_codes)
    assert index.covers("2(v)(iii)", "8517130000")  # smartphones
    assert index.covers("2(v)(iii)", "8517.13.00.00")
    assert index.covers("2(v)(iii)", "8471.30.01.00")  # via heading 8471
    assert index.covers("2(v)(iii)", "8542.31.00.00")
    assert not index.covers("2(v)(iii)", "8703.23.01.90")  # cars are not exempt
    assert index.codes("2(v)(iii)(b)(1)") == frozenset({"08059001"})  # etrogs


def test_annex_ii_text_has_no_page_furniture(index: NotesIndex) -> None:
    text = index.get("2(v)(iii)").text
    assert text.startswith("(iii)\n\n(a) As provided for in heading 9903.01.32")
    for furniture in ("Harmonized Tariff Schedule", "Annotated for Statistical",
                      "U.S. Notes (con.)", "99 - III -", "List may appear"):
        assert furniture not in text


@pytest.mark.parametrize(
    ("ref", "count"),
    [
        ("2(v)(xx)", 219), ("2(v)(xxii)", 553), ("2(v)(xxiii)", 807), ("2(v)(xxiv)(b)", 554),
        ("2(v)(xxv)(b)", 321), ("2(v)(xxv)(c)", 553), ("2(v)(xxv)(d)", 807),
        ("2(x)(iii)(a)", 367), ("2(x)(iv)", 565), ("2(aa)(ii)", 1098), ("2(aa)(iv)", 546),
    ],
)
def test_note2_other_lists(index: NotesIndex, ref: str, count: int) -> None:
    assert len(index.codes(ref)) == count


def test_chapter98_codes_only_count_in_lists(index: NotesIndex) -> None:
    # every IEEPA paragraph mentions 9802.00.40-.80 in its chapter 98 clause: not products
    assert index.codes("2(a)") == frozenset()
    assert not index.covers("2(v)(i)", "9802.00.80.00")


# --- note 20: Section 301 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "heading", "count", "sample"),
    [
        ("20(b)", "9903.88.01", 856, "84011000"),  # list 1
        ("20(d)", "9903.88.02", 283, "39011010"),  # list 2
        ("20(f)", "9903.88.03", 5906, "02032920"),  # list 3
        ("20(s)(i)", "9903.88.15", 2958, "01012100"),  # list 4A
        ("20(u)(i)", "9903.88.16", 538, "03047510"),  # list 4B (suspended); "i)" lost its "("
    ],
)
def test_section301_lists(index: NotesIndex, ref: str, heading: str, count: int,
                          sample: str) -> None:
    sub = index.get(ref)
    assert f"Heading {heading} applies" in sub.text or heading in index.get(
        ref.split(")")[0] + ")").text
    assert len(sub.hts_codes) == count
    assert sample in sub.hts_codes
    assert all(len(c) == 8 for c in sub.hts_codes)


def test_section301_list4_products_parts(index: NotesIndex) -> None:
    assert index.children("20(s)") == ["20(s)(i)", "20(s)(ii)"]
    assert len(index.codes("20(s)(ii)")) == 21
    assert len(index.codes("20(s)")) == 2958 + 21
    # 20(u) prints "i)" and "ii)" without the opening parenthesis
    assert index.children("20(u)") == ["20(u)(i)", "20(u)(ii)"]
    assert len(index.codes("20(u)(ii)")) == 44  # 10-digit numbers in product descriptions
    assert len(index.codes("20(u)")) == 582


def test_heading_text_matches_subdivision(index: NotesIndex) -> None:
    assert "U.S. note 20(b)" in index.get("20(a)").text
    assert "99038801" in index.get("20(a)").cited_headings


# --- note 16: 2026 metals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "title", "count"),
    [
        ("16(c)(i)", "Articles of aluminum", 9),
        ("16(c)(ii)", "Derivative aluminum articles", 17),
        ("16(c)(vi)", "Derivative aluminum articles", 105),
        ("16(c)(vii)", "Derivative steel articles", 301),
        ("16(c)(viii)", "Articles of copper", 4),
        ("16(c)(ix)", "Derivative aluminum articles", 13),
        ("16(c)(x)", "Derivative steel articles", 35),
    ],
)
def test_metals_lists(index: NotesIndex, ref: str, title: str, count: int) -> None:
    sub = index.get(ref)
    assert sub.text.split(":")[0].endswith(title)
    assert len(sub.hts_codes) == count


def test_metals_aluminum_headings(index: NotesIndex) -> None:
    assert index.codes("16(c)(i)") == frozenset(
        {"7601", "7604", "7605", "7606", "7607", "7608", "7609", "7616995160", "7616995170"})
    assert index.covers("16(c)(i)", "7601.10.30.00")
    assert not index.covers("16(c)(i)", "7616.99.51.90")  # that one is derivative: (c)(ii)
    assert index.covers("16(c)(ii)", "7616.99.51.90")


def test_metals_chapter72_steel(index: NotesIndex) -> None:
    steel = index.codes("16(c)(iii)")
    headings = {f"{h}" for h in range(7206, 7230) if h != 7216}
    assert headings <= steel  # 7206-7215 and 7217-7229 are listed as whole headings
    assert {"72161000", "72169900", "730210", "730290", "7304", "7305", "7306"} <= steel
    assert index.covers("16(c)(iii)", "7208.10.15.00")
    assert not index.covers("16(c)(iii)", "7216.91.00.10")  # derivative, in (c)(iv)
    assert index.covers("16(c)", "7216.91.00.10")
    assert len(index.codes("16(c)")) == 714


def test_metals_page_with_labels_inside_the_table(index: NotesIndex) -> None:
    # On page 99-III-65 the labels "(iv)" and "(v)" sit inside a 4-column grid, so the text
    # cannot say which row starts which list; the codes are all there, in (iii)-(v).
    together = index.codes("16(c)(iii)") | index.codes("16(c)(iv)") | index.codes("16(c)(v)")
    assert len(together) == 254
    assert {"73012010", "7326908645", "74061000", "74198050", "76141010"} <= together
    assert "74061000" in index.codes("16(c)(v)")  # below the "(v)" label: copper, certain


def test_text_of_note_16c_cites_chapters_without_listing_them(index: NotesIndex) -> None:
    # "not in chapters 72, 73, 74 or 76" is a condition, not a list
    assert "72" not in index.codes("16(c)")


# --- note 33: autos and parts -------------------------------------------------------------------


def test_autos_and_parts(index: NotesIndex) -> None:
    cars = index.codes("33(b)")
    assert len(cars) == 17
    assert all(c.startswith(("8703", "8704")) for c in cars)
    parts = index.codes("33(g)")
    assert len(parts) == 130
    assert {"4009120020", "8471", "8407", "870829", "87089953"} - parts == {"8407"}
    assert index.covers("33(g)", "8708.29.50.60")  # 6-digit 8708.29 listed
    assert not index.covers("33(g)", "8708.99.81.80")
    uk = index.codes("33(i)")
    assert len(uk) == 12 and all(c.startswith("8703") for c in uk)
    uk_parts = index.codes("33(j)")
    assert len(uk_parts) == 267 and all(len(c) == 10 for c in uk_parts)


def test_deleted_notes(index: NotesIndex) -> None:
    assert index.get("36").text == "[Note deleted.]"
    assert index.codes("36") == frozenset()
    assert index.get("4").text == "[U.S. note 4 deleted]"


# --- letter or roman: sequence decides ----------------------------------------------------------


def test_i_after_h_is_a_letter(index: NotesIndex) -> None:
    kids = index.children("20")
    assert kids[7:10] == ["20(h)", "20(i)", "20(j)"]
    assert "20(h)(i)" not in index.refs()
    assert "(2) heading 9903.88.06 and U.S. note 20(i)" in index.get("20(a)").text
    assert index.get("20(i)").text.startswith("(i) The U.S. Trade Representative determined")
    assert index.get("20(i)").text.count("\n(1) 8412.21.0045") == 1
    assert index.get("31(l)(ii)(i)").text.startswith("(i) any information technology")


def test_i_as_roman_and_as_letter_in_one_note(index: NotesIndex) -> None:
    assert index.get("16(c)(i)").text.startswith("(i) Articles of aluminum")
    assert index.get("16(i)").text.startswith("(i) Heading 9903.82.19 applies")
    romans = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
    assert index.children("16(c)") == [f"16(c)({r})" for r in romans]


def test_v_and_x_as_letters_with_roman_children(index: NotesIndex) -> None:
    assert index.get("2(v)(i)").text.startswith("(i) Except as provided in headings 9903.01.26")
    assert index.get("2(v)(v)").text.startswith("(v) As provided in 9903.01.27")
    assert len(index.children("2(v)")) == 25  # (i) through (xxv)
    assert index.get("2(x)(x)").text.startswith("(x) The additional duties imposed by heading "
                                                "9903.01.77")
    assert index.children("2(x)")[-1] == "2(x)(xv)"


def test_double_letters_as_a_deeper_level(index: NotesIndex) -> None:
    assert index.children("6(b)(iii)(B)(II)") == ["6(b)(iii)(B)(II)(aa)",
                                                  "6(b)(iii)(B)(II)(bb)"]


def test_misprinted_labels(index: NotesIndex) -> None:
    # "(II)" printed for 20(ll); "(21) (a)" printed for note 21 (cited as note 21(b))
    assert "20(ll)" in index.refs()
    assert "heading 9903.88.33 and U.S. note 20(ll)" in " ".join(index.get("20(g)").text.split())
    assert index.get("20(ll)").text.startswith("(II) The U.S. Trade Representative")
    assert len(index.codes("20(ll)")) == 74
    assert "new airplanes or other new aircraft" in index.get("21(b)").text
    assert any("21" in w for w in index.warnings)  # the expired second note 21


def test_refs_listing(index: NotesIndex) -> None:
    hits = index.refs_listing("8517.13.00.00")
    assert "2(v)(iii)(a)" in hits
    assert "2(v)(iii)" not in hits  # only the deepest


def test_covers_rejects_malformed_codes(index: NotesIndex) -> None:
    with pytest.raises(BadInput):
        index.covers("2(v)(iii)", "85171")
    with pytest.raises(BadInput):
        index.covers("2(v)(iii)", "phone")


def test_no_furniture_anywhere(index: NotesIndex) -> None:
    for ref in index.refs():
        if "(" in ref:
            continue
        text = index.get(ref).text
        assert "Harmonized Tariff Schedule" not in text, ref
        assert "U.S. Notes (con.)" not in text, ref
        assert "\f" not in text, ref


# --- small texts ------------------------------------------------------------------------------

HEADER = """
\f                   Harmonized Tariff Schedule of the United States Revision 6 (2026)

                                                   Annotated for Statistical Reporting Purposes

XXII
99 - III - 7

U.S. Notes (con.)

"""


def _doc(body: str) -> str:
    return ("            SUBCHAPTER III\n\n            TEMPORARY MODIFICATIONS\n\n"
            "                                        XXII\n                                    "
            "  99-III-1\n\nU.S. Notes\n\n" + textwrap.dedent(body)
            + "\n Heading/ Stat.       Unit\n9903.01.01   Articles ...\n")


def test_small_letter_sequence() -> None:
    idx = NotesIndex.parse(_doc("""
        1. Intro.

        2. (g) Heading 9903.88.04 applies.

        (h) Heading 9903.88.05 applies.

        (i) Heading 9903.88.06 applies to 8471.30.01.

        (j) Heading 9903.88.07 applies.
        """))
    assert idx.children("2") == ["2(g)", "2(h)", "2(i)", "2(j)"]
    assert idx.codes("2(i)") == frozenset({"84713001"})


def test_small_roman_sequence() -> None:
    idx = NotesIndex.parse(_doc("""
        1. Intro.

        2. (g) Heading 9903.88.04 applies.

        (h) Heading 9903.88.05 applies to:

        (i) the first thing; and

        (ii) the second thing.

        (i) A letter after all.
        """))
    assert idx.children("2") == ["2(g)", "2(h)", "2(i)"]
    assert idx.children("2(h)") == ["2(h)(i)", "2(h)(ii)"]


def test_small_list_over_a_page_break() -> None:
    idx = NotesIndex.parse(_doc("""
        1. Intro.

        2. (v) (i) General rule.

        (ii) Donations.

        (iii)

             (a) The duties shall not apply to products classified in the following subheadings:

                   0101.30.00  0101.90.40  8471
                   8517.13.00  8542""" + HEADER + """
                   8542.31.00  7601
                   9802.00.80

        (iv) As provided in subdivision
        (a) of this note, the rest.
        """))
    assert idx.children("2(v)") == ["2(v)(i)", "2(v)(ii)", "2(v)(iii)", "2(v)(iv)"]
    codes = idx.codes("2(v)(iii)(a)")
    assert codes == frozenset({"01013000", "01019040", "8471", "85171300", "8542", "85423100",
                               "7601", "98020080"})
    assert "Harmonized" not in idx.get("2(v)(iii)").text
    assert idx.covers("2(v)(iii)", "8542390000")
    assert "2(v)(iv)(a)" not in idx.refs()  # "(a) of this note" is a reference


def test_small_heading_ranges_and_chapters() -> None:
    idx = NotesIndex.parse(_doc("""
        1. Vehicles of headings 8701 to 8705 and parts of heading 8708, provided for in 7606;
        and articles classifiable in chapters 72, 73 or 76, but not entered under chapters 1 to
        97 or chapter 98.
        """))
    assert idx.codes("1") == frozenset({"8701", "8702", "8703", "8704", "8705", "8708", "7606",
                                        "72", "73", "76"})


# --- robustness -------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        NotesIndex.load(tmp_path / "nope.txt")
    with pytest.raises(DataError):
        NotesIndex.load(tmp_path)  # a directory


def test_empty_and_garbage_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="no chapter 99 U.S. notes"):
        NotesIndex.load(empty)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(20000)))
    with pytest.raises(DataError):
        NotesIndex.load(junk)


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.345, 0.5])
def test_truncated_real_file(raw_text: str, tmp_path: Path, fraction: float) -> None:
    cut = tmp_path / "cut.txt"
    cut.write_text(raw_text[: int(len(raw_text) * fraction)], encoding="latin-1")
    try:
        idx = NotesIndex.load(cut)
    except DataError:
        return
    for ref in idx.refs():
        assert all(c.isdigit() for c in idx.get(ref).hts_codes)


def test_truncated_mid_annex_ii(raw_text: str) -> None:
    stop = raw_text.index("8517.13.00")
    idx = NotesIndex.parse(raw_text[:stop])
    assert 0 < len(idx.codes("2(v)(iii)(a)")) < 1082
    assert not idx.covers("2(v)(iii)", "8517130000")


_FRAGMENTS = [
    "SUBCHAPTER III", "U.S. Notes", "U.S. Notes (con.)", "1.", "2.", "3. (a)", "(a)", "(i)",
    "(ii)", "(v) (i)", "(x)", "(aa)", "(A)", "(II)", "(1)", "(21) (a)", "(b) of this note",
    "8517.13.00  8471  8542", "heading 8701 to 8705", "chapters 72, 73 or 76", "Heading/ Stat.",
    "Harmonized Tariff Schedule of the United States Revision 6 (2026)", "XXII", "99 - III - 4",
    "[U.S. note 4 deleted]", "[Compiler's note: List may appear", "on a subsequent page.]",
    "", "", "text", "\xad", "\ufffd", "9903.01.25\xad9903.01.30", "(mmm)The", "(z)(xiv) of",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=60))
def test_fuzz_never_crashes(parts: list[str]) -> None:
    try:
        idx = NotesIndex.parse("\n".join(parts))
    except DataError:
        return
    for ref in idx.refs():
        sub = idx.get(ref)
        assert sub.ref == ref
        assert all(c.isdigit() for c in sub.hts_codes)


def test_chapters_a_heading_does_not_apply_to_are_not_its_products(index: NotesIndex) -> None:
    for ref in ("33(p)", "33(q)", "33(r)", "38(j)"):
        assert "do not apply to the following" in index.get(ref).text.replace("does not", "do not")
        assert not {"72", "73", "76"} & set(index.codes(ref)), ref
    assert "8708" in {c[:4] for c in index.codes("33(g)")}  # the parts list itself still reads
