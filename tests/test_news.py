"""News claim checker: reading, claim finding and verdicts.

Unit tests use ``FakeEngine``, a small hand-written model of what the law says in spring 2025
(China: 20% fentanyl from Mar 4 + reciprocal 125% from Apr 10, 10% from May 14; Annex II
electronics and pharma exempt from the reciprocal duty; 232 steel/aluminum/cars 25% and outside
the reciprocal duty; de minimis for China ends May 2). China's side uses the real notice table in
../shared/china. One test at the end runs the real engine when it can be loaded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from tariffstack.errors import BadInput, DateOutOfRange, UnknownProduct
from tariffstack.models import DeMinimis, Layer, RateResult, SearchHit
from tariffstack.news import (
    MAX_BYTES,
    Article,
    CheckedClaim,
    Claim,
    EngineLike,
    check,
    find_claims,
    read_article,
    read_article_file,
    render_claims,
)
from tariffstack.sources.china import ChinaTariffs

D = dt.date
FIXTURES = Path(__file__).parent / "fixtures" / "news"
NEWS_000 = "000_9185287dd3d82ad3.txt"
NEWS_002 = "002_cbad1bc2bbee5d25.txt"
NEWS_004 = "004_7552514f4d737e46.txt"

# ---------------------------------------------------------------------------------------------
# A fake engine that says what the law says (for the products it knows)
# ---------------------------------------------------------------------------------------------

CATALOG: dict[str, str] = {
    "0101.21.00.10": "Purebred breeding horses",
    "0201.10.05.10": "Beef carcasses",
    "0302.11.00.10": "Trout",
    "0409.00.00.10": "Natural honey",
    "0702.00.20.00": "Tomatoes",
    "1001.19.00.25": "Durum wheat",
    "1201.90.00.10": "Soybeans",
    "2204.21.50.40": "Wine",
    "2701.12.00.10": "Bituminous coal",
    "2711.11.00.00": "Natural gas liquefied",
    "2901.10.10.00": "Ethane",
    "3004.90.92.90": "Other medicaments",
    "3926.90.99.90": "Other articles of plastics",
    "4011.10.10.10": "New pneumatic tires",
    "4407.11.00.01": "Wood sawn lengthwise",
    "6109.10.00.04": "T-shirts of cotton",
    "6403.99.90.65": "Footwear",
    "7208.51.00.30": "Flat-rolled products of iron or nonalloy steel",
    "7606.12.30.90": "Aluminum plates",
    "8411.12.40.00": "Turbojets aircraft turbines",
    "8471.30.01.00": "Portable automatic data processing machines",
    "8517.13.00.00": "Smartphones",
    "8542.31.00.00": "Electronic integrated circuits processors and controllers",
    "8703.23.01.90": "Passenger motor vehicles",
    "9403.60.80.93": "Wooden furniture",
    "9503.00.00.90": "Toys",
}
ANNEX_II = ("3004", "847130", "851713", "854231")
METALS = ("72", "76")
REV = "fake rev"


def _digits(code: str) -> str:
    return code.replace(".", "")


def _layer(name: str, pct: float, heading: str, since: D, reason: str, source: str | None = None,
           exempt: bool = False) -> Layer:
    return Layer(name, pct, None, heading, REV, since, None, reason, source,  # type: ignore[arg-type]
                 exempt=exempt)


class FakeEngine:
    """Hand-written law for a few products; records every rate() call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, D]] = []
        self.searches: list[str] = []

    def products(self, on: D, /) -> list[str]:
        return list(CATALOG)

    def search(self, query: str, /, *, limit: int = 10) -> list[SearchHit]:
        self.searches.append(query)
        words = {w for w in query.lower().split() if len(w) > 2}
        hits = []
        for code, desc in CATALOG.items():
            score = sum(1 for w in words if w in desc.lower())
            if score:
                hits.append(SearchHit(code, desc, (desc,), float(score)))
        hits.sort(key=lambda h: (-h.score, h.hts))
        return hits[:limit]

    def de_minimis(self, *, origin: str, on: D, value_usd: float) -> DeMinimis:
        end = D(2025, 5, 2) if origin in ("CN", "HK") else D(2025, 8, 29)
        if on >= end:
            return DeMinimis(False, 800.0, f"de minimis suspended for {origin} from {end}",
                             "EO 14256" if origin in ("CN", "HK") else "EO 14324")
        return DeMinimis(value_usd <= 800.0, 800.0, "$800 administrative exemption",
                         "19 U.S.C. 1321(a)(2)(C)")

    def rate(self, code: str, origin: str, on: D, /) -> RateResult:
        self.calls.append((code, origin, on))
        if code not in CATALOG:
            raise UnknownProduct(f"unknown HTS code {code}")
        if on < D(2025, 1, 1):
            raise DateOutOfRange(f"date {on} is outside the data")
        d = _digits(code)
        layers = [_layer("mfn", 0.0, code, D(2025, 1, 1), "MFN")]
        metal = d.startswith(METALS) and on >= D(2025, 3, 12)
        car = d.startswith("8703") and on >= D(2025, 4, 3)
        if metal:
            layers.append(_layer("s232", 50.0 if on >= D(2025, 6, 4) else 25.0, "9903.81.87",
                                 D(2025, 3, 12), "Section 232 steel and aluminum"))
        if car:
            layers.append(_layer("s232", 25.0, "9903.94.01", D(2025, 4, 3), "Section 232 autos"))
        if origin in ("CN", "HK"):
            if d.startswith(("84", "85")) and not d.startswith(("851713", "847130")):
                layers.append(_layer("s301", 25.0, "9903.88.01", D(2025, 1, 1), "Section 301 list 1"))
            if on >= D(2025, 3, 4):
                layers.append(_layer("ieepa_fentanyl", 20.0, "9903.01.24", D(2025, 3, 4),
                                     "IEEPA fentanyl duty on China", "U.S. note 2(u); EO 14195"))
            elif on >= D(2025, 2, 4):
                layers.append(_layer("ieepa_fentanyl", 10.0, "9903.01.20", D(2025, 2, 4),
                                     "IEEPA fentanyl duty on China", "U.S. note 2(s); EO 14195"))
        if origin in ("CA", "MX") and on >= D(2025, 3, 4):
            layers.append(_layer("ieepa_fentanyl", 25.0, "9903.01.10" if origin == "CA" else
                                 "9903.01.01", D(2025, 3, 4), "IEEPA fentanyl duty"))
        recip: tuple[float, str] | None = None
        if origin in ("CN", "HK"):
            if D(2025, 4, 10) <= on < D(2025, 5, 14):
                recip = (125.0, "9903.01.63")
            elif on == D(2025, 4, 9):
                recip = (84.0, "9903.01.63")
            elif on >= D(2025, 4, 5):
                recip = (10.0, "9903.01.25")
        elif origin not in ("CA", "MX") and on >= D(2025, 4, 5):
            recip = (10.0, "9903.01.25")
        if recip:
            if d.startswith(ANNEX_II):
                layers.append(_layer("ieepa_reciprocal", 0.0, "9903.01.32", D(2025, 4, 5),
                                     "Annex II products are exempt from the reciprocal duty",
                                     "U.S. note 2(v)(iii); EO 14257", exempt=True))
            elif metal or car:
                layers.append(_layer("ieepa_reciprocal", 0.0, "9903.01.33", D(2025, 4, 5),
                                     "Section 232 goods are outside the reciprocal duty",
                                     "U.S. note 2(v)(vi); EO 14257", exempt=True))
            else:
                layers.append(_layer("ieepa_reciprocal", recip[0], recip[1], D(2025, 4, 5),
                                     "IEEPA reciprocal duty", "U.S. note 2(v); EO 14257"))
        add = sum(x.rate_pct or 0.0 for x in layers if x.layer != "mfn" and not x.exempt)
        return RateResult(code, CATALOG[code], (CATALOG[code],), origin, origin, on, REV,
                          tuple(layers), add, add)


def _fits(engine: EngineLike) -> EngineLike:
    """Type check: the fake satisfies the protocol news.py uses."""
    return engine


@pytest.fixture(scope="module")
def china(shared_dir: Path) -> ChinaTariffs:
    return ChinaTariffs.load(shared_dir / "china")


@pytest.fixture()
def engine() -> FakeEngine:
    return FakeEngine()


def _news(shared_dir: Path, name: str, date: D | None = None) -> Article:
    return read_article((shared_dir / "news" / name).read_text(encoding="utf-8"), date)


def _fixture(name: str, date: D | None = None) -> Article:
    return read_article((FIXTURES / name).read_text(encoding="utf-8"), date)


Row = tuple[str, str, str, str | None, float | None, str]   # kind, fragment, actor, target, rate, verdict


def _rows(checked: Sequence[CheckedClaim]) -> list[Row]:
    return [(c.claim.kind, c.claim.fragment, c.claim.actor, c.claim.target.country,
             c.claim.rate_pct, c.verdict) for c in checked]


def _by_fragment(checked: Sequence[CheckedClaim], fragment: str) -> CheckedClaim:
    found = [c for c in checked if fragment in c.claim.fragment]
    assert len(found) == 1, [c.claim.fragment for c in checked]
    return found[0]


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def test_fake_engine_fits_protocol(engine: FakeEngine) -> None:
    assert _fits(engine) is engine


def test_date_line_is_read_and_removed(shared_dir: Path) -> None:
    art = _news(shared_dir, NEWS_000)
    assert art.date == D(2025, 5, 2) and art.date_source == "header"
    assert art.sentences[0].text.startswith("China may be warming")
    assert all("date 2025" not in s.text for s in art.sentences)


def test_date_line_wins_over_argument_with_a_note(shared_dir: Path) -> None:
    art = _news(shared_dir, NEWS_004, D(2025, 6, 1))
    assert art.date == D(2025, 5, 1)
    assert art.notes and "ignored" in art.notes[0]


def test_cnn_furniture_is_stripped_without_losing_sentences(shared_dir: Path) -> None:
    art = _news(shared_dir, NEWS_002, D(2025, 5, 2))
    removed = {art.text[a:b]: why for a, b, why in art.removed}
    assert removed == {"Hong Kong": "dateline", "CNN": "outlet", "—": "symbols",
                       "Diminished trade": "subheading",
                       "CNN’s Vanessa Yurkevich contributed reporting.": "credit"}
    texts = [s.text for s in art.sentences]
    assert texts[0].startswith("China says it is “currently assessing”")
    assert texts[-1].startswith("On Tuesday, China’s foreign ministry")
    # the two sentences of the key paragraph are split, each with exact offsets
    i = next(i for i, t in enumerate(texts) if t.startswith("Vast flows"))
    assert texts[i + 1] == "In response, Beijing has raised tariffs on American imports to 125%."
    for s in art.sentences:
        assert art.text[s.start:s.end] == s.text


def test_widget_and_outlet_lines_are_stripped(shared_dir: Path) -> None:
    art = _news(shared_dir, NEWS_004)
    whys = {art.text[a:b].strip(): why for a, b, why in art.removed}
    assert whys["+ ↺ − 16 px"] == "widget"
    assert whys["News.Az"] == "outlet"
    assert art.sentences[0].text.startswith("The United States has reached out")
    assert "News.Az reports citing foreign media." in art.sentences[1].text  # inline: kept


def test_abbreviations_do_not_split_sentences() -> None:
    art = read_article("The U.S. Trade Representative spoke. Mr. Smith said the U.S. will act. "
                       "It did.", D(2025, 5, 2))
    assert [s.text for s in art.sentences] == [
        "The U.S. Trade Representative spoke.", "Mr. Smith said the U.S. will act.", "It did."]


def test_wrapped_lines_join_into_one_sentence() -> None:
    art = read_article("Beijing responded with a 125 percent\ntariff on U.S. imports on\nFriday.",
                       D(2025, 5, 2))
    assert len(art.sentences) == 1
    (claim,) = find_claims(art)
    assert claim.rate_pct == 125.0 and claim.actor == "CN"


@pytest.mark.parametrize("bad, message", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("tariffs\x00of 145%", "binary"),
    (b"\xff\xfe\x00\x01binary", "binary"),
    (b"caf\xe9 tariffs of 145 percent", "not UTF-8"),
    ("tariffs \udcff of 145%", "undecodable"),
    ("\x01\x02\x03\x04\x05 tariffs", "binary"),
])
def test_bad_input_is_rejected(bad: str | bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        read_article(bad, D(2025, 5, 2))


def test_huge_input_is_rejected() -> None:
    with pytest.raises(BadInput, match="too large"):
        read_article("a" * (MAX_BYTES + 1), D(2025, 5, 2))
    with pytest.raises(BadInput, match="too large"):
        read_article(b"a" * (MAX_BYTES + 1), D(2025, 5, 2))


def test_missing_or_bad_date_is_rejected() -> None:
    with pytest.raises(BadInput, match="no article date"):
        read_article("Beijing responded with a 125 percent tariff.", None)
    with pytest.raises(BadInput, match="bad date line"):
        read_article(" date 2025-13-45 Some text here.", None)


def test_non_english_text_is_rejected() -> None:
    with pytest.raises(BadInput, match="English"):
        read_article("中国对原产于美国的所有进口商品加征百分之一百二十五的关税，自四月十二日起实施。"
                     "国务院关税税则委员会发布公告。", D(2025, 4, 12))
    with pytest.raises(BadInput, match="English"):
        read_article("Die Vereinigten Staaten erheben seit April Zölle von 145 Prozent auf "
                     "chinesische Waren, sagte das Ministerium am Freitag nach einer Sitzung "
                     "mit Vertretern der Industrie.", D(2025, 5, 2))


def test_read_article_file_reads_bytes(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(BadInput, match="binary"):
        read_article_file(p, D(2025, 5, 2))
    with pytest.raises(BadInput, match="cannot read"):
        read_article_file(tmp_path / "missing.txt", D(2025, 5, 2))
    art = read_article_file(FIXTURES / "07_baseline_and_de_minimis.txt")
    assert art.date == D(2025, 5, 5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300))
def test_any_text_reads_or_fails_cleanly(text: str) -> None:
    try:
        art = read_article(text, D(2025, 5, 2))
    except BadInput:
        return
    for c in find_claims(art):
        assert art.text[c.start:c.end] == c.fragment


# ---------------------------------------------------------------------------------------------
# The three news reports: claims written down by hand, verdicts with the fake engine
# ---------------------------------------------------------------------------------------------


def test_article_000_claims_and_verdicts(shared_dir: Path, engine: FakeEngine,
                                         china: ChinaTariffs) -> None:
    art = _news(shared_dir, NEWS_000)
    checked = check(art, engine, china)
    assert _rows(checked) == [
        ("rate", "duties of 145 percent", "US", "CN", 145.0, "supported"),
        ("rate", "145 percent tariff on Chinese imports", "US", "CN", 145.0, "supported"),
        ("rate", "125 percent tariff on U.S. imports", "CN", "US", 125.0, "supported"),
        ("exemption", "waived the tariff on a number of American-made products", "CN", "US", None,
         "not_checkable"),
        ("de_minimis", "ended tariff exemptions on Friday for goods shipped from China worth less "
                       "than $800", "US", "CN", None, "supported"),
    ]
    # later mentions of a claim already made are merged into it, not reported again
    assert [r[2] for r in checked[2].claim.repeats] == ["125% tariffs"]
    assert [r[2] for r in checked[3].claim.repeats] == [
        "exempt from its retaliatory 125% tariffs – including select pharmaceuticals, microchips "
        "and jet engines"]
    first = checked[0]
    assert first.claim.on == D(2025, 5, 2)
    assert first.explanation.startswith(
        "supported: 125% reciprocal (9903.01.63) + 20% fentanyl (9903.01.24) on products of China "
        "on 2025-05-02")
    assert "exemptions:" in first.explanation and "8517.13.00.00 Smartphones" in first.explanation
    assert "pay 20% (reciprocal exempt under 9903.01.32, U.S. note 2(v)(iii))" in first.explanation
    assert {e.heading for e in first.evidence} >= {"9903.01.63", "9903.01.24", "9903.01.32"}
    # a deterministic spread of lines from different chapters, the probes included
    assert len({c[:2] for c in first.codes_used}) >= 20
    assert "8517.13.00.00" in first.codes_used
    assert first.codes_used == check(art, FakeEngine(), china)[0].codes_used
    # "he slapped ... last month": Trump, April, already 145% by the end of April
    second = checked[1]
    assert second.claim.actor_text == "he" and second.claim.change == "impose"
    assert second.claim.when is not None and second.claim.when.text == "last month"
    assert (second.claim.when.start, second.claim.when.end) == (D(2025, 4, 1), D(2025, 4, 30))
    assert "in force since 2025-04-10 (was 104%)" in second.explanation
    # China's side, labelled as such, from the notices
    cn = checked[2]
    assert cn.side == "CN" and cn.explanation.startswith("China's side: supported")
    assert "No.6" in cn.explanation
    assert any(e.kind == "notice" and "税委会公告2025年第6号" in e.text for e in cn.evidence)
    assert any(e.kind == "wto" for e in cn.evidence)
    # China's exemptions: not checkable, with the press source (products from the merged repeat)
    ex = checked[3]
    assert ex.claim.target.products == ("pharmaceuticals", "microchips", "jet engines")
    assert "never officially published" in ex.explanation and "Reuters" in ex.explanation
    assert "3004" in " ".join(ex.codes_used) or "300490" in ex.codes_used
    # "$800 ... ended on Friday" = Friday 2025-05-02, the end of de minimis for China
    dm = checked[4]
    assert dm.claim.threshold_usd == 800.0 and dm.claim.change == "end"
    assert dm.claim.when is not None and dm.claim.when.text == "on Friday"
    assert dm.claim.on == D(2025, 5, 2)
    assert "ended on 2025-05-02" in dm.explanation and "EO 14256" in dm.explanation


def test_article_002_claims_and_verdicts(shared_dir: Path, engine: FakeEngine,
                                         china: ChinaTariffs) -> None:
    art = _news(shared_dir, NEWS_002, D(2025, 5, 2))
    checked = check(art, engine, china)
    assert _rows(checked) == [
        ("rate", "tariffs on China to a staggering 145%", "US", "CN", 145.0, "partly_supported"),
        ("rate", "tariffs on American imports to 125%", "CN", "US", 125.0, "supported"),
    ]
    hike = checked[0]
    assert hike.claim.change == "raise" and hike.claim.actor_text == "Trump"
    assert hike.claim.when is not None and hike.claim.when.text == "earlier this month"
    # the level is right on 2025-05-02 but it was reached in April, not "earlier this month"
    assert "rate right, timing wrong" in hike.explanation
    assert "since 2025-04-10" in hike.explanation
    # trade forecasts are not claims
    assert not any("20%" in c.claim.fragment or "80%" in c.claim.fragment for c in checked)


def test_article_004_claims_and_verdicts(shared_dir: Path, engine: FakeEngine,
                                         china: ChinaTariffs) -> None:
    art = _news(shared_dir, NEWS_004)
    checked = check(art, engine, china)
    assert _rows(checked) == [
        ("rate", "145% tariffs", "US", "CN", 145.0, "supported"),
        ("exemption", "easing of duties on some U.S. goods", "CN", "US", None, "not_checkable"),
        ("rate", "125% tariffs", "CN", "US", 125.0, "supported"),
    ]
    assert [r[2] for r in checked[0].claim.repeats] == ["tariffs of 145% on the U.S. side"]
    assert [r[2] for r in checked[2].claim.repeats] == ["125% on the Chinese side"]
    assert all(c.claim.on == D(2025, 5, 1) for c in checked if c.claim.when is None)
    easing = checked[1]
    assert easing.claim.when is not None and easing.claim.when.text == "last week"
    assert (easing.claim.when.start, easing.claim.when.end) == (D(2025, 4, 21), D(2025, 4, 27))
    assert checked[0].claim.actor_text == "President Donald Trump"


# ---------------------------------------------------------------------------------------------
# Texts of my own, in other phrasings
# ---------------------------------------------------------------------------------------------

OWN: dict[str, list[Row]] = {
    "01_us_china_duties.txt": [
        ("rate", "duties of 30% on Chinese goods", "US", "CN", 30.0, "contradicted"),
        ("rate", "145% tariff", "US", "CN", 145.0, "partly_supported"),
        ("rate", "tariffs on Chinese imports could rise to 50%", "US", "CN", 50.0, "not_checkable"),
    ],
    "02_steel_levy.txt": [
        ("rate", "50% levy on steel", "US", None, 50.0, "contradicted"),
        ("rate", "25% duty on steel", "US", None, 25.0, "supported"),
    ],
    "03_canada.txt": [
        ("rate", "35% tariff on goods", "US", "CA", 35.0, "contradicted"),
        ("rate", "25% counter-tariffs on U.S. cars", "other", "US", 25.0, "not_checkable"),
    ],
    "04_beijing_retaliation.txt": [
        ("rate", "slapped 34% on American goods", "CN", "US", 34.0, "partly_supported"),
        ("rate", "tariffs on U.S. imports to 84%", "CN", "US", 84.0, "supported"),
        ("rate", "tariffs on U.S. goods will rise to 125%", "CN", "US", 125.0, "supported"),
    ],
    "05_geneva_cut.txt": [
        ("rate", "Tariffs on Chinese goods were cut to 30 percent", "US", "CN", 30.0, "supported"),
        ("rate", "tariff on U.S. goods from 125% to 10%", "CN", "US", 10.0, "supported"),
        ("rate", "tariffs could go back up to 145%", "US", None, 145.0, "not_checkable"),
    ],
    "06_us_exemptions.txt": [
        ("exemption", "Smartphones and computers were exempted from the reciprocal tariffs", "US", None,
         None, "supported"),
        ("rate", "20% fentanyl duty", "US", "CN", 20.0, "supported"),
    ],
    "07_baseline_and_de_minimis.txt": [
        ("rate", "10 percent baseline tariff", "US", None, 10.0, "supported"),
        ("de_minimis", "$800 de minimis exemption for goods from China ended", "US", "CN", None,
         "supported"),
    ],
    "08_not_claims.txt": [],
    "09_stepwise_and_china_products.txt": [
        ("rate", "10% tariff on all Chinese goods", "US", "CN", 10.0, "supported"),
        ("rate", "doubled it to 20%", "US", "CN", 20.0, "supported"),
        ("rate", "26% reciprocal tariff", "US", "IN", 26.0, "not_checkable"),
        ("rate", "15% tariffs on U.S. coal and LNG", "CN", "US", 15.0, "supported"),
    ],
}


@pytest.mark.parametrize("name", sorted(OWN))
def test_own_texts(name: str, engine: FakeEngine, china: ChinaTariffs) -> None:
    art = _fixture(name, D(2025, 5, 2))
    assert _rows(check(art, engine, china)) == OWN[name]


def test_own_texts_cover_every_fixture() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.txt")) == sorted(OWN)


def test_own_text_details(engine: FakeEngine, china: ChinaTariffs) -> None:
    duties = check(_fixture("01_us_china_duties.txt"), engine, china)
    # "in March" is checked at the end of March: only the 20% fentanyl duty then
    assert duties[0].claim.on == D(2025, 3, 31)
    assert "the schedule says 20%" in duties[0].explanation
    # "All Chinese imports now face 145%": true for most, exemptions named
    assert duties[1].claim.universal and "true for most products but not all" in duties[1].explanation
    assert "forecast" in duties[2].explanation

    steel = check(_fixture("02_steel_levy.txt"), engine, china)
    assert steel[0].claim.target.products == ("steel",)
    assert "7208.51.00.30" in steel[0].codes_used
    assert "25% Section 232 (9903.81.87)" in steel[0].explanation
    assert any(e.kind == "search" and "steel" in e.text for e in steel[0].evidence)
    assert steel[1].claim.when is not None and steel[1].claim.when.start == D(2025, 3, 12)

    canada = check(_fixture("03_canada.txt", D(2025, 5, 2)), engine, china)
    # "faces ..., the office said on Thursday": a claim in the present, checked at the article's
    # date; the reporting day stays in `when`
    assert canada[0].claim.on == D(2025, 5, 2) and canada[0].claim.when is not None
    assert canada[0].claim.when.role == "report"
    assert "25% fentanyl (9903.01.10)" in canada[0].explanation
    assert "no data on tariffs imposed by Canada" in canada[1].explanation

    beijing = check(_fixture("04_beijing_retaliation.txt"), engine, china)
    assert beijing[0].claim.on == D(2025, 4, 10)
    # No.4 did set 34%, but No.5 raised it to 84% the same minute
    assert "No.4 did set 34% (effective 2025-04-10 12:01" in beijing[0].explanation
    assert "was 84% on 2025-04-10" in beijing[0].explanation
    # announced for Saturday and carried out that day: judged on the stated day
    assert beijing[2].claim.mood == "announced"
    assert (beijing[2].effective_date, beijing[2].date_source) == (D(2025, 4, 12), "stated")
    assert "No.6" in beijing[2].explanation

    geneva = check(_fixture("05_geneva_cut.txt"), engine, china)
    assert geneva[0].claim.change == "cut" and geneva[0].claim.on == D(2025, 5, 14)
    assert "in force since 2025-05-14 (was 145%)" in geneva[0].explanation
    assert geneva[1].claim.rate_from_pct == 125.0 and "No.7" in geneva[1].explanation

    ex = check(_fixture("06_us_exemptions.txt"), engine, china)
    assert ex[0].claim.target.products == ("smartphones", "computers")
    assert ex[0].claim.on == D(2025, 4, 11)
    assert {"8517.13.00.00", "8471.30.01.00"} <= set(ex[0].codes_used)
    assert ex[1].claim.target.products == ("microchips",) and ex[1].claim.measure == ("fentanyl",)

    steps = check(_fixture("09_stepwise_and_china_products.txt"), engine, china)
    assert [c.claim.on for c in steps[:2]] == [D(2025, 2, 28), D(2025, 3, 31)]  # own "in ..." each
    assert "in force since 2025-03-04 (was 10%)" in steps[1].explanation
    assert steps[2].claim.forecast and steps[2].claim.when is not None
    assert "for information, on 2025-04-09 the schedule shows: contradicted" in steps[2].explanation
    assert steps[3].claim.target.products == ("coal", "LNG")
    assert "HS6 270112" in steps[3].explanation or any("270112" in e.text for e in steps[3].evidence)

    base = check(_fixture("07_baseline_and_de_minimis.txt"), engine, china)
    assert base[0].claim.target.kind == "all"
    assert "CN 125%" in base[0].explanation and "CA 0%" in base[0].explanation
    assert base[1].claim.on == D(2025, 5, 2)            # "on Friday", article Monday


@pytest.mark.parametrize("text, expected", [
    ("Duties of 30% on Chinese goods took effect on Friday.", [("CN", 30.0, "US")]),
    ("A 50% levy on steel is now in force.", [(None, 50.0, "US")]),
    ("Canada faces a 35% tariff.", [("CA", 35.0, "US")]),
    ("Beijing slapped 34% on American goods.", [("US", 34.0, "CN")]),
    ("Tariffs on Canadian lumber were cut to 10 percent.", [("CA", 10.0, "US")]),
    ("The EU raised its tariffs on U.S. whiskey to 50%.", [("US", 50.0, "other")]),
    ("Imports fell 20% in April.", []),
    ("JP Morgan expects a 75% to 80% drop in imports from China.", []),
    ("Tariff revenue rose by 20% last month.", []),
    ("Inflation could rise to 5% this year.", []),
    ("Prices of Chinese goods jumped 30%, despite tariffs.", []),
])
def test_phrasings(text: str, expected: list[tuple[str | None, float, str]]) -> None:
    got = [(c.target.country, c.rate_pct, c.actor) for c in find_claims(read_article(text, D(2025, 5, 2)))]
    assert got == expected


def test_forecasts_are_claims_but_not_checkable(engine: FakeEngine, china: ChinaTariffs) -> None:
    art = read_article("Trump threatened a 200% tariff on European wine. Tariffs on Chinese goods "
                       "could rise to 50% next month.", D(2025, 5, 2))
    checked = check(art, engine, china)
    assert [c.claim.forecast for c in checked] == [True, True]
    assert all(c.verdict == "not_checkable" for c in checked)


def test_from_to_change_on_us_side(engine: FakeEngine, china: ChinaTariffs) -> None:
    art = read_article(" date 2025-04-12\nOn April 10, the U.S. raised the reciprocal tariff on "
                       "China from 84% to 125%.", None)
    (cc,) = check(art, engine, china)
    assert (cc.claim.rate_from_pct, cc.claim.rate_pct, cc.claim.measure) == (84.0, 125.0, ("reciprocal",))
    assert cc.verdict == "supported" and "(was 84%)" in cc.explanation
    wrong = read_article(" date 2025-04-12\nOn April 10, the U.S. raised the reciprocal tariff on "
                         "China from 54% to 125%.", None)
    (cc,) = check(wrong, engine, china)
    assert cc.verdict == "partly_supported" and "was 84%, not 54%" in cc.explanation


def test_unknown_target_is_not_checkable(engine: FakeEngine, china: ChinaTariffs) -> None:
    (cc,) = check(read_article("Washington imposed tariffs of 25% in March.", D(2025, 5, 2)),
                  engine, china)
    assert cc.verdict == "not_checkable" and "unknown target" in cc.explanation


def test_engine_errors_become_not_checkable(china: ChinaTariffs) -> None:
    class Broken(FakeEngine):
        def rate(self, code: str, origin: str, on: D, /) -> RateResult:
            raise DateOutOfRange("no data for that date")

    (cc,) = check(read_article("Canada faces a 35% tariff.", D(2025, 5, 2)), Broken(), china)
    assert cc.verdict == "not_checkable" and "could not price" in cc.explanation


def test_china_data_missing_is_not_checkable(engine: FakeEngine) -> None:
    (cc,) = check(read_article("Beijing responded with a 125 percent tariff on U.S. imports.",
                               D(2025, 5, 2)), engine, None)
    assert cc.verdict == "not_checkable" and cc.side == "CN"


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def test_to_json_has_span_verdict_and_evidence(shared_dir: Path, engine: FakeEngine,
                                               china: ChinaTariffs) -> None:
    art = _news(shared_dir, NEWS_000)
    checked = check(art, engine, china)
    data = json.loads(json.dumps([c.to_json() for c in checked]))
    first = data[0]
    assert art.text[first["start"]:first["end"]] == first["fragment"] == "duties of 145 percent"
    assert first["actor"] == "US" and first["target"]["country"] == "CN"
    assert first["rate_pct"] == 145.0 and first["date"] == "2025-05-02"
    assert first["verdict"] == "supported" and first["evidence"]
    assert {"layer", "heading", "effective_from", "text"} <= set(first["evidence"][0])
    assert data[-1]["when"]["start"] == "2025-05-02"
    assert isinstance(checked[0].claim, Claim) and checked[0].start == first["start"]


def test_render_claims_reads_at_80_columns(shared_dir: Path, engine: FakeEngine, china: ChinaTariffs) -> None:
    checked = check(_news(shared_dir, NEWS_004), engine, china)
    console = Console(width=80, record=True)
    console.print(render_claims(checked))
    out = console.export_text()
    lines = out.splitlines()
    assert all(len(x) <= 80 for x in lines), max(lines, key=len)
    assert sum(1 for x in lines if x[:1].isdigit()) == len(checked)  # one numbered block per claim
    assert "partly_supported" not in out and "not_checkable" not in out and "NOT CHECKABLE" in out
    assert "9903.01.63" in out
    flowing = " ".join(out.split())
    for c in checked:  # wrapped only between words: each explanation reads whole once re-flowed
        assert " ".join(c.explanation.split()) in flowing


def test_render_claims_without_claims() -> None:
    console = Console(width=80, record=True)
    console.print(render_claims([]))
    assert "no claims found" in console.export_text()


def test_text_without_claims_gives_empty_result(engine: FakeEngine, china: ChinaTariffs) -> None:
    assert check(_fixture("08_not_claims.txt"), engine, china) == []


# ---------------------------------------------------------------------------------------------
# The real engine on a real report
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_engine(hts_dir: Path, session_home: Path) -> EngineLike:
    """The real engine from the session's compiled model (this module's ``engine`` is a fake)."""
    from tariffstack.engine.us import Engine

    return Engine.load(hts_dir, session_home)


def test_real_engine_article_000(shared_dir: Path, real_engine: EngineLike,
                                 china: ChinaTariffs) -> None:
    checked = check(_news(shared_dir, NEWS_000), real_engine, china)
    verdicts = {c.claim.fragment: c.verdict for c in checked}
    assert verdicts["duties of 145 percent"] == "supported"
    assert verdicts["125 percent tariff on U.S. imports"] == "supported"
    first = checked[0].explanation
    assert "125% reciprocal (9903.01.63)" in first and "20% fentanyl (9903.01.24)" in first
    assert "8517.13.00.00 Smartphones" in first
    dm = checked[-1]
    assert dm.claim.kind == "de_minimis" and dm.verdict == "supported"
