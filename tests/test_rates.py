"""Tests for tariffstack.rates: literal forms, and every rate text of the 2025-2026 revisions.

Reading 44 revisions with ``json.load`` takes 15-20 s, so the corpus reader scans the
decompressed JSON for the few keys it needs (the files are pretty-printed, one key per line);
``test_reader_matches_json`` checks that scan against ``json.loads`` on one revision.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffstack.law.rates import (
    AdditionalDuty,
    Rate,
    SpecificPart,
    floor_pct_from_description,
    parse_additional,
    parse_rate,
    parse_special,
    special_rate_for,
    split_special,
    unparsed_texts,
)

# --------------------------------------------------------------------------------------------
# Corpus reader
# --------------------------------------------------------------------------------------------

_JSON_STR = rb'("[^"\\]*(?:\\.[^"\\]*)*"|null)'
_COLUMNS = ("htsno", "general", "special", "other")
_KEY_RES = {k: re.compile(b'"' + k.encode() + b'" : ' + _JSON_STR) for k in _COLUMNS}
_DESC_99_RE = re.compile(
    rb'"htsno" : "(99[^"]*)",\s*"indent" : [^\n]*\n\s*"description" : ' + _JSON_STR
)

Line = tuple[str, str, str, str]  # htsno, general, special, other


def _decode(raw: bytes, cache: dict[bytes, str]) -> str:
    """A JSON string literal (or null -> "") decoded once per distinct value."""
    if raw == b"null":
        return ""
    value = cache.get(raw)
    if value is None:
        value = cache[raw] = json.loads(raw)
    return value


def _raw_columns(path: Path) -> tuple[list[list[bytes]], dict[bytes, bytes]]:
    """Undecoded JSON literals of the rate columns, and chapter 99 descriptions by htsno."""
    raw = zlib.decompress(path.read_bytes(), 31)
    columns = [_KEY_RES[k].findall(raw) for k in _COLUMNS]
    assert len({len(c) for c in columns}) == 1, f"{path.name}: keys out of step"
    return columns, dict(_DESC_99_RE.findall(raw))


def _read_revision(path: Path) -> tuple[list[Line], dict[str, str]]:
    """Rate columns of every record, and descriptions of chapter 99 lines, of one revision."""
    columns, descriptions = _raw_columns(path)
    cache: dict[bytes, str] = {}
    decoded = [[_decode(v, cache) for v in column] for column in columns]
    lines: list[Line] = list(zip(*decoded, strict=True))
    return lines, {h.decode(): _decode(d, cache) for h, d in descriptions.items()}


def _revision_files(hts_dir: Path) -> list[Path]:
    files = sorted((hts_dir / "json").glob("hts_202[56]_*.json.gz"))
    assert len(files) >= 44, f"expected the 44 revisions of 2025-2026, found {len(files)}"
    return files


@dataclass
class Corpus:
    """Distinct texts per column, split the way they must be parsed."""

    revisions: int = 0
    general: Counter[str] = field(default_factory=Counter)        # htsno not 99*
    special: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)
    ch99_general: Counter[str] = field(default_factory=Counter)   # 99* but not 9903
    ch99_special: Counter[str] = field(default_factory=Counter)
    ch99_other: Counter[str] = field(default_factory=Counter)
    # 9903 headings: (htsno, text, description) -> revisions it was printed in
    h9903_general: dict[tuple[str, str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    h9903_special: Counter[str] = field(default_factory=Counter)
    h9903_other: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def corpus(hts_dir: Path) -> Corpus:
    """Count (htsno, text) pairs on the raw literals at C speed, then decode distinct ones."""
    c = Corpus()
    pairs: list[Counter[tuple[bytes, bytes]]] = [Counter(), Counter(), Counter()]
    h9903: dict[tuple[bytes, bytes, bytes], set[str]] = defaultdict(set)
    for path in _revision_files(hts_dir):
        c.revisions += 1
        rev = path.name.removeprefix("hts_").removesuffix(".json.gz")
        (htsnos, *rates), descriptions = _raw_columns(path)
        for counter, column in zip(pairs, rates, strict=True):
            counter.update(zip(htsnos, column, strict=True))
        for i, htsno in enumerate(htsnos):
            if htsno.startswith(b'"9903'):
                h9903[(htsno, rates[0][i], descriptions.get(htsno[1:-1], b'""'))].add(rev)
    cache: dict[bytes, str] = {}
    targets = ((c.general, c.ch99_general, None), (c.special, c.ch99_special, c.h9903_special),
               (c.other, c.ch99_other, c.h9903_other))
    for counter, (plain, ch99, h_9903) in zip(pairs, targets, strict=True):
        for (htsno, text), n in counter.items():
            if htsno.startswith(b'"9903'):
                if h_9903 is not None:
                    h_9903[_decode(text, cache)] += n
            elif htsno.startswith(b'"99'):
                ch99[_decode(text, cache)] += n
            else:
                plain[_decode(text, cache)] += n
    for (htsno, general, description), revs in h9903.items():
        key = (_decode(htsno, cache), _decode(general, cache), _decode(description, cache))
        c.h9903_general[key] |= revs
    return c


def test_reader_matches_json(hts_dir: Path) -> None:
    path = hts_dir / "json" / "hts_2026_rev_6.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = json.load(fh)
    lines, descriptions = _read_revision(path)
    expected = [tuple(r.get(k) or "" for k in _COLUMNS) for r in records]
    assert lines == expected
    expected_desc = {r["htsno"]: r["description"] or "" for r in records
                     if (r["htsno"] or "").startswith("99")}
    assert descriptions == expected_desc


# --------------------------------------------------------------------------------------------
# Real data: coverage
# --------------------------------------------------------------------------------------------


def test_general_column_all_parse(corpus: Corpus) -> None:
    unparsed = unparsed_texts(corpus.general)
    print(f"\ngeneral (non-99): {len(corpus.general)} distinct texts in {corpus.revisions} "
          f"revisions, {len(unparsed)} unparsed")
    assert corpus.revisions == 44
    assert unparsed == Counter()


def test_other_column_all_parse(corpus: Corpus) -> None:
    unparsed = unparsed_texts(corpus.other)
    print(f"\nother (non-99): {len(corpus.other)} distinct, {len(unparsed)} unparsed")
    assert unparsed == Counter()


def test_special_column_all_parse(corpus: Corpus) -> None:
    bad = {t for t in corpus.special if not all(g.rate.parsed for g in parse_special(t))}
    print(f"\nspecial (non-99): {len(corpus.special)} distinct, {len(bad)} unparsed")
    assert bad == set()
    # Every group names programs, except "Free ..." alone and two texts that state no rate.
    bare = {t for t in corpus.special for g in parse_special(t)
            if not g.programs and not g.rate.free}
    assert bare == {
        "A duty upon the full value of the import- ed article less the value of fabrics, "
        "components or materials of the United States (see U.S. note 39 to this subchapter)",
        "The duty rate provided for originating goods of Korea in such subheading",
    }


def test_chapter99_rate_lines_parse(corpus: Corpus) -> None:
    """Chapter 99 lines outside 9903 (9901, 9902, 98xx-like TRQ lines) print ordinary rates."""
    unparsed_general = unparsed_texts(corpus.ch99_general)
    unparsed_other = unparsed_texts(corpus.ch99_other)
    bad_special = {t for t in corpus.ch99_special
                   if not all(g.rate.parsed for g in parse_special(t))}
    print(f"\nch.99 outside 9903: general {len(corpus.ch99_general)} distinct "
          f"({len(unparsed_general)} unparsed), special {len(corpus.ch99_special)} "
          f"({len(bad_special)}), other {len(corpus.ch99_other)} ({len(unparsed_other)})")
    assert unparsed_general == Counter()
    # e.g. 9901.00.50: "No change (A) Free (CA,IL, MX) See U.S. note 3 to this sub- chapter (E) ..."
    assert bad_special == set()
    # 9913.95.01 / 9913.95.23 print a lone ":" in column 2 (a heading stub, not a rate).
    assert set(unparsed_other) == {":"}


def test_9903_general_additional(corpus: Corpus) -> None:
    plus_re = re.compile(r"\+\s*(?:a duty of\s+)?(\d+(?:\.\d+)?)%")
    kinds: Counter[str] = Counter()
    unknown: set[str] = set()
    texts = {text for (_, text, _) in corpus.h9903_general}
    for (htsno, text, description), _revs in corpus.h9903_general.items():
        duty = parse_additional(text, description)
        kinds[duty.kind] += 1
        if duty.kind == "unknown":
            unknown.add(text)
        m = plus_re.search(text)
        if m is not None:
            assert duty.kind == "plus", (htsno, text)
            assert duty.pct == float(m[1]), (htsno, text)
        if re.fullmatch(r"\d+(?:\.\d+)?%", text.strip()):
            floor = floor_pct_from_description(description)
            expected = "floor" if floor == float(text.strip()[:-1]) else "absolute"
            assert duty.kind == expected, (htsno, text)
    print(f"\n9903 general: {len(texts)} distinct texts over "
          f"{len({h for (h, _, _) in corpus.h9903_general})} headings; kinds {dict(kinds)}")
    # Only empty texts (headings whose rate is printed on their subheadings) are unknown.
    assert {t.strip() for t in unknown} == {""}


def test_9903_known_headings(corpus: Corpus) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for (htsno, text, description), _revs in corpus.h9903_general.items():
        duty = parse_additional(text, description)
        seen[htsno].add(f"{duty.kind}:{duty.pct}:{duty.content_basis}")
    # EU and Japan "15% all-in" (from 2025 rev 18 / rev 23), Korea, Switzerland, Liechtenstein.
    for htsno in ("9903.02.20", "9903.02.73", "9903.02.80", "9903.02.83", "9903.02.88"):
        assert seen[htsno] == {"floor:15.0:None"}, htsno
    for htsno in ("9903.02.19", "9903.02.72"):
        assert seen[htsno] == {"exempt:None:None"}, htsno
    assert seen["9903.82.07"] == {"floor:10.0:None"}
    assert seen["9903.76.21"] == {"absolute:15.0:None"}  # "ordinary customs duty" (note 37)
    assert seen["9903.01.25"] == {"plus:10.0:None"}
    assert "plus:50.0:steel" in seen["9903.81.91"]
    assert seen["9903.78.01"] == {"plus:50.0:copper"}
    assert "plus:25.0:non-U.S." in seen["9903.94.03"]
    assert "no_change:None:None" in seen["9903.82.03"]


def test_9903_special_and_other_additional(corpus: Corpus) -> None:
    unknown: set[str] = set()
    n_groups = 0
    for text in corpus.h9903_special:
        for rate_text, _codes in split_special(text):
            n_groups += 1
            if parse_additional(rate_text).kind == "unknown":
                unknown.add(rate_text)
    for text in corpus.h9903_other:
        if text.strip() and parse_additional(text).kind == "unknown":
            unknown.add(text)
    print(f"\n9903 special: {len(corpus.h9903_special)} distinct ({n_groups} groups), "
          f"other: {len(corpus.h9903_other)} distinct; unknown {sorted(unknown)}")
    assert unknown == set()


# --------------------------------------------------------------------------------------------
# Literal forms
# --------------------------------------------------------------------------------------------


def _spec(rate: Rate) -> list[tuple[float, str, str | None]]:
    return [(round(s.amount_usd, 6), s.unit, s.qualifier) for s in rate.specific]


def test_free_and_empty() -> None:
    r = parse_rate("Free")
    assert r.parsed and r.free and r.ad_valorem_pct == 0.0 and r.specific == () and not r.note
    assert not r.is_compound and not r.is_specific_only and not r.is_empty
    e = parse_rate("  \n")
    assert e.parsed and e.is_empty and e.text == "" and not e.free
    assert e.ad_valorem_pct is None
    cond = parse_rate("Free, under bond, as prescribed in U.S. note 1 to this subchapter")
    assert cond.free and cond.note == "under bond, as prescribed in U.S. note 1 to this subchapter"


@pytest.mark.parametrize(
    ("text", "pct"),
    [("6%", 6.0), ("4.3%", 4.3), ("2.5% <u></u>", 2.5), ("37% /", 37.0), ("33 1/3%", 100 / 3),
     ("131.8%", 131.8)],
)
def test_ad_valorem(text: str, pct: float) -> None:
    r = parse_rate(text)
    assert r.parsed and not r.free and r.specific == ()
    assert r.ad_valorem_pct == pytest.approx(pct)
    assert not r.ad_valorem_is_partial


@pytest.mark.parametrize(
    ("text", "amount", "unit", "qualifier"),
    [
        ("2.2¢/kg", 0.022, "kg", None),
        ("$1.35/doz.", 1.35, "doz.", None),
        ("5.6¢/liter", 0.056, "liter", None),
        ("4.5¢/ liter", 0.045, "liter", None),
        ("$1.52/pf. liter", 1.52, "pf. liter", None),
        ("0.5¢/pf.liter", 0.005, "pf. liter", None),
        ("37.5¢/kg on drained weight", 0.375, "kg", "on drained weight"),
        ("0.01¢/kg of total sugars", 0.0001, "kg of total sugars", None),
        ("18.7¢/clean kg", 0.187, "clean kg", None),
        ("$1.13/m<sup>3</sup>", 1.13, "m3", None),
        ("14.5¢/m2", 0.145, "m2", None),
        ("68¢/head", 0.68, "head", None),
        ("$1.44 each", 1.44, "each", None),
        ("0.9¢ each", 0.009, "each", None),
        ("19.2¢/1000", 0.192, "1000", None),
        ("$1/1,000 pins + 35%", 1.0, "1,000 pins", None),
        ("$2.50/thou- sand + 40%", 2.5, "thousand", None),
        ("$1.32/t, including weight of container", 1.32, "t", "including weight of container"),
        ("86.1¢/m2of recording surface", 0.861, "m2 of recording surface", None),
        ("1.7¢/kg on lead content", 0.017, "kg", "on lead content"),
    ],
)
def test_specific(text: str, amount: float, unit: str, qualifier: str | None) -> None:
    r = parse_rate(text)
    assert r.parsed and not r.free
    got_amount, got_unit, got_qualifier = _spec(r)[0]
    assert got_amount == pytest.approx(amount)
    assert (got_unit, got_qualifier) == (unit, qualifier)
    assert r.specific[0].text.startswith(text.split(" +")[0].split("<")[0][:4])


def test_cents_vs_dollars() -> None:
    assert parse_rate("2.2¢/kg").specific[0].amount_usd == pytest.approx(0.022)
    assert parse_rate("$2.2/kg").specific[0].amount_usd == pytest.approx(2.2)
    assert parse_rate("$1.035/kg + 13.6%").specific[0].amount_usd == pytest.approx(1.035)
    assert parse_rate("0.01¢/kg of total sugars").specific[0].amount_usd == pytest.approx(1e-4)


def test_compound() -> None:
    r = parse_rate("1.5¢/kg + 4.3%")
    assert r.parsed and r.is_compound and not r.is_specific_only
    assert r.ad_valorem_pct == 4.3 and _spec(r) == [(0.015, "kg", None)]
    assert parse_rate("$1.035/kg +13.6%").ad_valorem_pct == 13.6
    assert parse_rate("2.2¢/kg  +  33.5%").is_compound
    specific_only = parse_rate("2.2¢/kg")
    assert specific_only.is_specific_only and not specific_only.is_compound
    sugars = parse_rate("16.9¢/kg of total sugars + 5.1%")
    assert _spec(sugars) == [(0.169, "kg of total sugars", None)] and sugars.ad_valorem_pct == 5.1


def test_three_part_compound() -> None:
    r = parse_rate("13.5¢/kg + 6.3% + 1.9¢/article")
    assert r.parsed and r.is_compound and r.ad_valorem_pct == 6.3
    assert _spec(r) == [(0.135, "kg", None), (0.019, "article", None)]
    jewels = parse_rate("15¢ each + 2.3% + 0.8¢/jewel")
    assert _spec(jewels) == [(0.15, "each", None), (0.008, "jewel", None)]
    assert parse_rate("43¢ each + 2.8¢/jewel over 7 + 3.7% on the case").specific[1].qualifier \
        == "over 7"
    alcohol = parse_rate("3.1¢/liter + 22.1¢/pf. liter on ethyl alcohol content")
    assert _spec(alcohol) == [(0.031, "liter", None),
                              (0.221, "pf. liter", "on ethyl alcohol content")]


def test_partial_ad_valorem_parts() -> None:
    watch = parse_rate("$1.53 each + 4.2% on the case + 2% on the strap, band or bracelet")
    assert watch.parsed and watch.ad_valorem_is_partial
    assert watch.ad_valorem_pct == 4.2
    assert [(p.pct, p.qualifier) for p in watch.ad_valorem] == [
        (4.2, "on the case"), (2.0, "on the strap, band or bracelet")]
    rifle = parse_rate(
        "3.1% on the value of the rifle + 13% on the value of the telescopic sight, if any")
    assert [p.pct for p in rifle.ad_valorem] == [3.1, 13.0]
    retail = parse_rate("1.5 percent of the fair retail value")
    assert retail.ad_valorem_pct == 1.5 and retail.ad_valorem[0].qualifier == \
        "of the fair retail value"
    assert parse_rate("3.9% on the movement and case+ 5.3% on the battery").parsed


def test_trailing_conditions_are_notes() -> None:
    sugar = parse_rate(
        "1.4606¢/kg less 0.020668¢/kg for each degree under 100 degrees (and fractions of a "
        "degree in proportion) but not less than 0.943854¢/kg")
    assert sugar.parsed and _spec(sugar) == [(0.014606, "kg", None)]
    assert sugar.note is not None and sugar.note.startswith("less 0.020668¢/kg")
    movement = parse_rate(
        "4.3% + 1.7¢/jewel + 0.2¢ for each other piece or part, but if consisting in part of a "
        "plate or a set of plates the total duty shall not exceed the duty for the complete "
        "movement")
    assert movement.ad_valorem_pct == 4.3
    assert _spec(movement) == [(0.017, "jewel", None), (0.002, "other piece or part", None)]
    assert movement.note is not None and movement.note.startswith("but if consisting")


@pytest.mark.parametrize(
    "text",
    [
        "The rate applicable to each garment in the ensemble if separately entered",
        "The rate of duty appli- cable to that article in the set subject to the high- est "
        "rate of duty",
        "See additional U.S. note 2",
        "A duty upon the value of the repairs or alterations (see U.S. note 3 of this subchapter)",
        "The duty rate provided in such subheading minus 0.5%",
        "See 9822.04.25",
        "No change",
    ],
)
def test_references(text: str) -> None:
    r = parse_rate(text)
    assert r.parsed and r.is_reference and r.note
    assert r.ad_valorem_pct is None and r.specific == () and not r.free


@pytest.mark.parametrize(
    "text", [":", "The duty provided in the applicable subheading + 25%", "abc", "5¢", "$1.2¢/kg",
             "6% + x"]
)
def test_not_understood_is_kept(text: str) -> None:
    r = parse_rate(text)
    assert not r.parsed and r.text == text.strip()
    assert r.ad_valorem_pct is None and r.specific == ()


def test_parse_rate_is_cached() -> None:
    assert parse_rate("6.5%") is parse_rate("6.5%")


# Special column ------------------------------------------------------------------------------


def test_parse_special_single_group() -> None:
    groups = parse_special("Free (A,AU,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)")
    assert len(groups) == 1
    assert groups[0].rate.free
    assert groups[0].programs == ("A", "AU", "BH", "CL", "CO", "D", "E", "IL", "JO", "KR", "MA",
                                  "OM", "P", "PA", "PE", "S", "SG")
    assert parse_special("") == () and parse_special(" \n") == ()


def test_parse_special_several_groups() -> None:
    text = "Free (A+,AU,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG) 3.2% (JP)"
    groups = parse_special(text)
    assert [g.programs[0] for g in groups] == ["A+", "JP"]
    assert groups[1].rate.ad_valorem_pct == 3.2
    messy = parse_special("Free \n(A+, AU, BH, CL,CO,D, E, IL, JO, KR, MA, OM,P, PA, PE, S, SG)")
    assert messy[0].programs[:3] == ("A+", "AU", "BH") and len(messy[0].programs) == 17
    glued = parse_special("Free (A,AU,BH,CL,CO,D,E,IL,KR,MA,OM,P,PA,PE,S,SG)1.3¢/liter(JO)")
    assert glued[1].programs == ("JO",) and _spec(glued[1].rate) == [(0.013, "liter", None)]
    jo = parse_special("Free (A+,AU,BH,CL,CO,D,E, IL,KR,MA, OM,P,PA,PE,S, SG) 1.3¢/liter + "
                       "9.8¢/pf. liter on ethyl alcohol content (JO)")
    assert jo[1].rate.parsed and len(jo[1].rate.specific) == 2


def test_parse_special_see_and_typos() -> None:
    groups = parse_special(
        "Free (BH,CL,JO,KR,MA,OM,P,PE,SG) 7.5¢/kg (KR) See 9823.04.01-9823.04.54 (S+) "
        "See 9908.04.05 (IL) See 9918.04.50, 9918.04.58 (CO) See 9919.04.50, 9919.04.57, "
        "9919.04.67 (PA (PA)")
    assert [g.programs for g in groups][1:] == [("KR",), ("S+",), ("IL",), ("CO",), ("PA",)]
    assert groups[2].rate.is_reference
    assert groups[-1].rate.note == "See 9919.04.50, 9919.04.57, 9919.04.67"
    assert parse_special("Free (AU,BH,CL,CO,IL,JO,KR,MA,.OM,P,PA,PE,S,SG) ")[0].programs[8] == "OM"
    trailing_comma = parse_special("Free (AU) A duty upon the value of the repairs (B,C,)")
    assert trailing_comma[1].programs == ("B", "C")
    not_codes = parse_special("Free (See U.S. note 4 of this subchapter)")
    assert len(not_codes) == 1 and not_codes[0].programs == () and not_codes[0].rate.free


def test_special_rate_for() -> None:
    text = "Free (A*,AU,B,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG) 2.75% (JP)"
    jp = special_rate_for(text, "JP")
    assert jp is not None and jp.ad_valorem_pct == 2.75
    au = special_rate_for(text, "au")
    assert au is not None and au.free
    a = special_rate_for(text, "A")          # base-code match: A finds A*
    assert a is not None and a.free
    assert special_rate_for(text, "CA") is None
    assert special_rate_for("", "A") is None
    both = "Free (A+) 5% (A)"
    exact = special_rate_for(both, "A")      # exact code wins over the base match
    assert exact is not None and exact.ad_valorem_pct == 5.0
    plus = special_rate_for(both, "A+")
    assert plus is not None and plus.free


# Chapter 99 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "pct", "basis"),
    [
        ("The duty provided in the applicable subheading + 25%", "plus", 25.0, None),
        ("The duty provided in the applicable subheading + 25%.", "plus", 25.0, None),
        ("The duty provided in the applicable subheading +10%", "plus", 10.0, None),
        ("The duty provided in the applicable subheading plus 25%", "plus", 25.0, None),
        ("The duty provided inthe applicable subheading+ 25%", "plus", 25.0, None),
        ("The duty provided in the applicable subheading + 7.5%", "plus", 7.5, None),
        ("The duty provided in the applicable subheading + 0%", "plus", 0.0, None),
        ("The duty provided in the applicable subheading + a duty of 50% upon the value of the "
         "steel content", "plus", 50.0, "steel"),
        ("The duty provided in the applicable subheading + a duty of 25% upon the value of the "
         "aluminum content.", "plus", 25.0, "aluminum"),
        ("The duty provided in the applicable subheading + a duty of 50% upon the value of the "
         "copper content", "plus", 50.0, "copper"),
        ("The duty provided in the applicable subheading + a duty of 25% upon the value of the "
         "non-U.S. content", "plus", 25.0, "non-U.S."),
        ("The duty provided in the applicable subheading", "exempt", None, None),
        ("The duty provided in the applicable subheading.", "exempt", None, None),
        ("The duty provided for in the applicable subheading", "exempt", None, None),
        ("No change", "no_change", None, None),
        ("no change", "no_change", None, None),
        ("No change.", "no_change", None, None),
        ("Free", "free", 0.0, None),
        ("10%", "absolute", 10.0, None),
        ("The duty provided in the applicable subheading + (15% minus the column 1 general rate)",
         "floor", 15.0, None),
    ],
)
def test_parse_additional(text: str, kind: str, pct: float | None, basis: str | None) -> None:
    duty = parse_additional(text)
    assert duty.parsed and duty.kind == kind
    assert duty.pct == pct and duty.content_basis == basis and duty.text == text


def test_parse_additional_specific_and_base() -> None:
    sugar = parse_additional("The duty provided in the applicable subheading + 1.5¢/kg")
    assert sugar.kind == "plus" and sugar.pct is None
    assert sugar.specific == (SpecificPart(0.015, "kg", None, "1.5¢/kg"),)
    mixed = parse_additional("The duty provided in the applicable subheading + 1.5¢/kg + 5%")
    assert mixed.kind == "plus" and mixed.pct == 5.0 and len(mixed.specific) == 1
    plain = parse_additional("13.3¢/kg")
    assert plain.kind == "absolute" and plain.pct is None and plain.specific[0].unit == "kg"
    trailers = parse_additional(
        "The duty provided in subheadings 8716.39.00, 8716.90.30 or 8716.90.50 + 100%")
    assert trailers.kind == "plus" and trailers.pct == 100.0
    assert trailers.base_subheadings == ("8716.39.00", "8716.90.30", "8716.90.50")


def test_parse_additional_floor_from_description() -> None:
    eu = ("... articles the product of the European Union, with an ad valorem (or ad valorem "
          "equivalent) rate of duty under column 1-General less than 15 percent, as provided "
          "for in subdivision (v) of U.S. note 2 to this subchapter")
    duty = parse_additional("15%", eu)
    assert duty.kind == "floor" and duty.pct == 15.0
    assert duty.additional_pct(4.0) == pytest.approx(11.0)
    assert duty.additional_pct(20.0) == 0.0
    assert duty.additional_pct(None) is None
    assert parse_additional("15%").kind == "absolute"               # no description, no floor
    assert parse_additional("10%", eu).kind == "absolute"           # number differs
    assert floor_pct_from_description("rate of duty under column1 less than 10 percent") == 10.0
    assert floor_pct_from_description("Wood products of Japan") is None
    assert floor_pct_from_description(None) is None


@pytest.mark.parametrize(
    "text", ["", "  ", "See U.S. note 3(e)", "The duty provided in the applicable subheading + x",
             "The rate applicable in the absence of this heading"],
)
def test_parse_additional_unknown(text: str) -> None:
    duty = parse_additional(text)
    assert duty == AdditionalDuty(text.strip(), "unknown", None, (), None, False)
    assert duty.additional_pct(5.0) is None


def test_additional_pct() -> None:
    assert parse_additional("The duty provided in the applicable subheading + 25%"
                            ).additional_pct(3.0) == 25.0
    assert parse_additional("The duty provided in the applicable subheading"
                            ).additional_pct(3.0) == 0.0
    assert parse_additional("No change").additional_pct(None) == 0.0
    assert parse_additional("10%").additional_pct(3.0) is None


def test_unparsed_texts_counts() -> None:
    counts = unparsed_texts(["Free", "6%", "zzz", "zzz", "", "Other", "No change"])
    assert counts == Counter({"zzz": 2, "Other": 1})


_RATE_ALPHABET = st.sampled_from(list("0123456789.,$¢%/+() ;:-*AEPSfreFREkgliteron\n<>"))


@settings(max_examples=300, deadline=None)
@given(st.text(_RATE_ALPHABET, max_size=40) | st.text(max_size=40))
def test_parsers_never_raise(text: str) -> None:
    rate = parse_rate(text)
    assert rate.text == text.strip() or rate.is_empty
    assert rate.parsed or (rate.ad_valorem_pct is None and rate.specific == ())
    for group in parse_special(text):
        assert isinstance(group.rate, Rate)
    duty = parse_additional(text, text)
    assert duty.parsed or duty.kind == "unknown"
    special_rate_for(text, "A")
