"""Countries of origin: resolving what users type, and reading the countries a heading names."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from pathlib import Path

import pycountry
import pytest

from tariffstack.errors import BadInput, UnknownCountry
from tariffstack.law.countries import GROUPS, Country, all_countries, find_in_text, get, resolve

# --- the table ---------------------------------------------------------------------------------


def test_every_iso_country_is_present_once() -> None:
    codes = [c.iso2 for c in all_countries()]
    assert len(codes) == len(set(codes))
    iso = {c.alpha_2 for c in pycountry.countries}
    assert iso <= set(codes)
    assert set(codes) - iso == {"XK"}  # Kosovo: user-assigned code, has a Census code


def test_iso3_matches_pycountry() -> None:
    for c in all_countries():
        if c.iso2 != "XK":
            record = pycountry.countries.get(alpha_2=c.iso2)
            assert record is not None
            assert record.alpha_3 == c.iso3


def test_census_codes_are_unique_four_digit_and_broad() -> None:
    codes = [c.census_code for c in all_countries() if c.census_code]
    assert all(re.fullmatch(r"\d{4}", code) for code in codes)
    assert len(codes) == len(set(codes))
    assert len(codes) >= 235


@pytest.mark.parametrize(
    ("iso2", "census"),
    [
        ("CN", "5700"), ("CA", "1220"), ("MX", "2010"), ("JP", "5880"), ("DE", "4280"),
        ("GB", "4120"), ("HK", "5820"), ("VN", "5520"), ("KR", "5800"), ("TW", "5830"),
        ("IN", "5330"), ("MO", "5660"), ("US", "1000"), ("DK", "4099"),
    ],
)
def test_census_codes_of_major_partners(iso2: str, census: str) -> None:
    assert get(iso2).census_code == census
    assert resolve(census).iso2 == iso2


def test_names_are_the_us_short_forms() -> None:
    names = {c.iso2: c.name for c in all_countries()}
    assert names["KR"] == "South Korea"
    assert names["KP"] == "North Korea"
    assert names["TW"] == "Taiwan"
    assert names["VN"] == "Vietnam"
    assert names["RU"] == "Russia"
    assert names["CD"] == "Democratic Republic of the Congo"


def test_country_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get("CN").name = "x"  # type: ignore[misc]


def test_all_countries_is_cached() -> None:
    assert all_countries() is all_countries()
    assert all(isinstance(c, Country) for c in all_countries())


# --- resolve -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "iso2"),
    [
        # codes
        ("CN", "CN"), ("cn", "CN"), (" de ", "DE"), ("CHN", "CN"), ("gbr", "GB"), ("VNM", "VN"),
        ("5700", "CN"), ("1220", "CA"), ("4803", "XK"),
        # names in any case
        ("China", "CN"), ("united kingdom", "GB"), ("UNITED STATES", "US"), ("Germany", "DE"),
        ("Viet Nam", "VN"), ("Vietnam", "VN"), ("South Korea", "KR"), ("Korea, South", "KR"),
        ("Republic of Korea", "KR"), ("North Korea", "KP"), ("Korea, North", "KP"),
        ("Turkey", "TR"), ("Türkiye", "TR"), ("Turkiye", "TR"), ("Hong Kong", "HK"),
        ("Macau", "MO"), ("Macao", "MO"), ("Burma", "MM"), ("Myanmar", "MM"),
        ("Ivory Coast", "CI"), ("Côte d'Ivoire", "CI"), ("Cote d`Ivoire", "CI"),
        ("cote divoire", "CI"), ("Taiwan", "TW"), ("Russian Federation", "RU"),
        ("Democratic Republic of the Congo", "CD"), ("Republic of the Congo", "CG"),
        ("Czech Republic", "CZ"), ("Czechia", "CZ"), ("UK", "GB"), ("U.S.A.", "US"),
        ("Great Britain", "GB"), ("Kosovo", "XK"), ("Cape Verde", "CV"), ("Swaziland", "SZ"),
        # punctuation, "the", word order, Saint/St.
        ("the Netherlands", "NL"), ("The Gambia", "GM"), ("Bahamas, The", "BS"),
        ("Netherlands, The", "NL"), ("St. Kitts & Nevis", "KN"), ("St Lucia", "LC"),
        ("Saint Pierre and Miquelon", "PM"), ("Guinea-Bissau", "GW"), ("guinea bissau", "GW"),
        ("Trinidad & Tobago", "TT"), ("Bosnia-Herzegovina", "BA"),
    ],
)
def test_resolve(query: str, iso2: str) -> None:
    assert resolve(query).iso2 == iso2


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Chna", "China (CN)"), ("Germny", "Germany (DE)"), ("Sout Korea", "South Korea (KR)")],
)
def test_typos_suggest_the_country_first(query: str, expected: str) -> None:
    with pytest.raises(UnknownCountry) as info:
        resolve(query)
    assert info.value.query == query
    assert info.value.suggestions[0] == expected
    assert len(info.value.suggestions) <= 3
    assert expected in str(info.value)


@pytest.mark.parametrize("query", ["Xyzzy", "", "   ", "9999", "ZZ", "Narnia"])
def test_unknown_raises_with_message(query: str) -> None:
    with pytest.raises(UnknownCountry) as info:
        resolve(query)
    assert isinstance(info.value, BadInput)
    assert "unknown country" in str(info.value)
    assert len(info.value.suggestions) <= 3


def test_get_is_by_alpha2_only_and_never_keyerror() -> None:
    assert get("cn") == get("CN") == resolve("China")
    with pytest.raises(UnknownCountry):
        get("China")
    with pytest.raises(UnknownCountry):
        get("XX")


# --- groups ------------------------------------------------------------------------------------


def test_groups() -> None:
    assert len(GROUPS["EU"]) == 27
    assert {"DE", "FR", "IT", "IE", "HR", "CY", "MT"} <= GROUPS["EU"]
    assert not {"GB", "CH", "NO", "IS", "TR"} & GROUPS["EU"]
    assert GROUPS["USMCA"] == {"US", "CA", "MX"}
    assert GROUPS["GN3B"] == {"CU", "KP", "RU", "BY"}
    known = {c.iso2 for c in all_countries()}
    assert all(members <= known for members in GROUPS.values())


# --- find_in_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("articles the product of China and Hong Kong", {"CN", "HK"}),
        ("articles the product of China, including Hong Kong and Macau", {"CN", "HK", "MO"}),
        ("articles the product of Brunei, Japan, or Malaysia", {"BN", "JP", "MY"}),
        ("articles the product of Côte d`Ivoire or Namibia", {"CI", "NA"}),
        ("articles the product of Côte D’Ivoire", {"CI"}),
        ("articles the product of Myanmar (Burma) or Sri Lanka", {"MM", "LK"}),
        ("articles the product of Bosnia and Herzegovina", {"BA"}),
        ("articles the product of Falkland Islands or Syria", {"FK", "SY"}),
        ("Cameroon or the Democratic Republic of the Congo", {"CM", "CD"}),
        ("articles the product of the Republic of the Congo", {"CG"}),
        ("articles the product of South Korea", {"KR"}),
        ("articles the product of North Macedonia", {"MK"}),
        ("Saint Pierre and Miquelon", {"PM"}),
        ("Trinidad and Tobago", {"TT"}),
        ("Guinea-Bissau", {"GW"}),
        ("Guinea", {"GN"}),
        ("Papua New Guinea", {"PG"}),
        ("Equatorial Guinea", {"GQ"}),
        ("Guinea, Guinea-Bissau, Equatorial Guinea or Papua New Guinea", {"GN", "GW", "GQ", "PG"}),
        ("Niger", {"NE"}),
        ("Nigeria", {"NG"}),
        ("Niger and Nigeria", {"NE", "NG"}),
        ("Dominica", {"DM"}),
        ("Dominican Republic", {"DO"}),
        ("Sudan", {"SD"}),
        ("South Sudan", {"SS"}),
        ("Northern Ireland", {"GB"}),
        ("American Samoa or Samoa", {"AS", "WS"}),
        ("Chad or Jordan", {"TD", "JO"}),
        ("member countries of the European Union", GROUPS["EU"]),
        ("the European Union or Jordan", GROUPS["EU"] | {"JO"}),
        ("any country identified in general note 3(b)", GROUPS["GN3B"]),
        # not inside other words, not common nouns, not the importing country
        ("Romania", {"RO"}),
        ("a woman's garment", set()),
        ("Chadwick and Omani goods", set()),
        ("tableware of porcelain or china", set()),
        ("guinea fowl and turkey meat", set()),
        ("persons subject to the jurisdiction of the United States", set()),
        ("Articles the product of any country", set()),
        ("", set()),
    ],
)
def test_find_in_text(text: str, expected: set[str]) -> None:
    assert find_in_text(text) == expected


# --- find_in_text on the real IEEPA headings ----------------------------------------------------

REVISIONS = ("hts_2025_rev_18.json.gz", "hts_2025_rev_32.json.gz")


@pytest.fixture(scope="module")
def ieepa_headings(hts_dir: Path) -> dict[tuple[str, str], str]:
    """(revision file, heading) -> description, for every 9903.01.xx and 9903.02.xx heading."""
    out: dict[tuple[str, str], str] = {}
    for name in REVISIONS:
        with gzip.open(hts_dir / "json" / name, "rt", encoding="utf-8") as fh:
            for record in json.load(fh):
                if record["htsno"].startswith(("9903.01.", "9903.02.")):
                    out[(name, record["htsno"])] = record["description"]
    return out


def test_every_country_heading_names_a_country(ieepa_headings: dict[tuple[str, str], str]) -> None:
    assert len(ieepa_headings) > 200
    missing = []
    for key, text in ieepa_headings.items():
        named = re.search(r"product of (?!any country)", text, re.IGNORECASE)
        if named and not find_in_text(text):
            missing.append(key)
    assert not missing


def test_headings_never_report_the_united_states(
    ieepa_headings: dict[tuple[str, str], str],
) -> None:
    assert all("US" not in find_in_text(text) for text in ieepa_headings.values())


EXPECTED = {
    "9903.01.01": {"MX"},
    "9903.01.10": {"CA"},
    "9903.01.20": {"CN", "HK"},
    "9903.01.24": {"CN", "HK"},
    "9903.01.25": set(),
    "9903.01.29": {"CU", "KP", "RU", "BY"},
    "9903.01.43": {"CM", "CD"},
    "9903.01.44": {"TD", "GQ"},
    "9903.01.48": {"IL", "MW", "PH", "ZM"},
    "9903.01.50": GROUPS["EU"] | {"JO"},
    "9903.01.51": {"CI", "NA"},
    "9903.01.53": {"BN", "JP", "MY"},
    "9903.01.59": {"DZ", "NR", "ZA"},
    "9903.01.61": {"AO", "FJ", "ID", "TW"},
    "9903.01.63": {"CN", "HK", "MO"},
    "9903.01.66": {"BD", "BW", "LI", "RS"},
    "9903.01.70": {"FK", "SY"},
    "9903.01.71": {"MM", "LK"},
    "9903.01.83": {"BR"},
    "9903.02.15": {"CI"},
    "9903.02.16": {"CD"},
    "9903.02.18": {"GQ"},
    "9903.02.19": GROUPS["EU"],
    "9903.02.52": {"PG"},
    "9903.02.53": {"PH"},
    "9903.02.66": {"GB"},
    "9903.02.76": GROUPS["EU"],
    "9903.02.81": {"KR"},
}


@pytest.mark.parametrize("heading", sorted(EXPECTED))
def test_known_headings(heading: str, ieepa_headings: dict[tuple[str, str], str]) -> None:
    texts = [text for (_, h), text in ieepa_headings.items() if h == heading]
    assert texts, heading
    for text in texts:
        assert find_in_text(text) == EXPECTED[heading]
