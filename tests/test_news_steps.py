"""The news checker's steps one at a time: dating, moods and repeats, announcements, composite
totals and China's product lists, each on small texts (the fake engine of test_news.py for the
U.S. side, the real notice table and WTO file in ../shared/china for China's)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_news import FakeEngine

from tariffstack.news import check, find_claims, read_article
from tariffstack.news.dating import check_day, pick_time, time_spans
from tariffstack.news.repeats import is_repeat
from tariffstack.sources.china import ChinaTariffs

D = dt.date


@pytest.fixture(scope="module")
def china(shared_dir: Path) -> ChinaTariffs:
    return ChinaTariffs.load(shared_dir / "china")


def _times(text: str, base: D) -> dict[str, tuple[D, D, str]]:
    return {w.text: (w.start, w.end, w.role) for _a, _b, w in time_spans(text, base)}


# ---------------------------------------------------------------------------------------------
# Dating
# ---------------------------------------------------------------------------------------------


def test_time_roles_and_weekday_dates() -> None:
    got = _times("China said on Friday it will raise tariffs to 125 per cent, effective Saturday, "
                 "April 12, and keep them until Nov. 10.", D(2025, 4, 11))
    assert got["on Friday"] == (D(2025, 4, 11), D(2025, 4, 11), "report")
    assert got["effective Saturday, April 12"] == (D(2025, 4, 12), D(2025, 4, 12), "start")
    assert got["until Nov. 10"][2] == "end"
    # a clock time belongs to the day after it; a month before a noun is no time
    got = _times("Beijing will retain a 10% tariff from 12:01 p.m. on Tuesday under its July deal.",
                 D(2025, 8, 12))
    assert list(got) == ["from 12:01 p.m. on Tuesday"]
    assert got["from 12:01 p.m. on Tuesday"][:2] == (D(2025, 8, 12), D(2025, 8, 12))


def test_same_day_refers_to_the_day_stated_before() -> None:
    (_a, _b, w), = time_spans("Goods from Canada began paying 25 percent at the same hour.",
                              D(2025, 3, 4), last=D(2025, 3, 4))
    assert (w.start, w.role) == (D(2025, 3, 4), "plain")
    art = read_article(" date 2025-05-31\nHe said the tariff on steel would rise to 50% on "
                       "Wednesday, June 4. "
                       "He said aluminum would also rise to 50 per cent on the same date.", None)
    assert [c.on for c in find_claims(art)] == [D(2025, 6, 4), D(2025, 6, 4)]


def test_dateline_and_end_dates_do_not_date_a_claim() -> None:
    s = "NEW YORK, March 12 – A 25% tariff on steel took effect on Wednesday."
    times = time_spans(s, D(2025, 3, 13))
    w = pick_time(times, s, s.index("25%"), s.index(" took"), set())
    assert w is not None and w.text == "on Wednesday"
    s = "Washington leaves most Chinese goods at 30% until Nov. 10, when the pause runs out."
    assert pick_time(time_spans(s, D(2025, 8, 12)), s, s.index("30%"), s.index("30%") + 3,
                     set()) is None


def test_check_day_present_past_and_future() -> None:
    (_a, _b, since), = time_spans("the rate since March 12", D(2025, 5, 31))
    assert check_day(since, D(2025, 5, 31)) == (D(2025, 3, 12), "stated")
    assert check_day(since, D(2025, 5, 31), present=True) == (D(2025, 5, 31), "article")
    (_a, _b, said), = time_spans("officials said on Thursday", D(2025, 5, 2))
    assert check_day(said, D(2025, 5, 2)) == (D(2025, 5, 2), "article")
    assert check_day(said, D(2025, 5, 2), past=True) == (D(2025, 5, 1), "stated")
    assert check_day(None, D(2025, 5, 2)) == (D(2025, 5, 2), "article")


# ---------------------------------------------------------------------------------------------
# Finding claims: moods, repeats, what is not a claim
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, mood", [
    ("Trump said he would impose an additional tariff of 100% on Chinese imports.", "announced"),
    ("Tariffs on Chinese goods could rise to 50% if talks fail.", "conditional"),
    ("Analysts expect tariffs on Chinese goods to stay at 30%.", "conditional"),
    ("The new levy would come on top of the roughly 30 percent that most Chinese goods already "
     "pay.", "fact"),
    ("The levy would come on top of 30%, lifting the total to about 130 percent.", "announced"),
    ("The U.K. deal cuts the tariff on British cars to 10%.", "announced"),
    ("Chinese goods now pay an extra 10 percent at U.S. ports.", "fact"),
])
def test_mood(text: str, mood: str) -> None:
    claims = find_claims(read_article(text, D(2025, 10, 11)))
    assert claims and claims[-1].mood == mood


def test_repeats_are_merged_into_the_first_mention() -> None:
    art = read_article("An additional 10% tariff on all goods imported from China took effect on "
                       "Tuesday.\n\nA White House official said the 10% duty would remain until "
                       "Beijing acts.", D(2025, 2, 4))
    (claim,) = find_claims(art)
    assert [r[2] for r in claim.repeats] == ["10% duty"]
    art = read_article("A White House order halves the fentanyl tariff on Chinese goods from 20% to "
                       "10% effective Nov. 10, a 10-percentage-point cut.", D(2025, 11, 5))
    (claim,) = find_claims(art)
    assert claim.rate_from_pct == 20.0 and claim.change == "cut"
    # a mention with a day of its own is another claim
    art = read_article("Chinese goods pay 145%. Trump slapped a 145% tariff on Chinese imports last "
                       "month.", D(2025, 5, 2))
    first, second = find_claims(art)
    assert not is_repeat(first, second)


@pytest.mark.parametrize("text", [
    "Economists estimated the average effective U.S. tariff rate would jump to about 22%.",
    "Mortgage rates rose to 7% as the tariff debate went on.",
    "The extension spares markets a return to triple-digit duties.",
    "The levy ended the exemptions and quotas that had covered Canada.",
    "Freight forwarders expect bookings to jump 50% or more, despite the tariffs.",
])
def test_not_claims(text: str) -> None:
    assert find_claims(read_article(text, D(2025, 5, 2))) == []


def test_products_listed_after_on_and_owner_targets() -> None:
    (c,) = find_claims(read_article("From March 10, China will add 15% to its tariffs on U.S. "
                                    "chicken, wheat, corn and cotton.", D(2025, 3, 4)))
    assert c.target.products == ("chicken", "wheat", "corn", "cotton") and c.actor == "CN"
    vn, india = find_claims(read_article("New tariff rates take effect next week. Vietnam's rate "
                                         "will be 20% and India's 25%.", D(2025, 8, 1)))
    assert (vn.target.country, india.target.country, vn.actor) == ("VN", "IN", "US")


# ---------------------------------------------------------------------------------------------
# Verdicts: announcements, threats, composite totals (fake engine)
# ---------------------------------------------------------------------------------------------


def test_announcement_is_judged_on_its_implementing_measure(china: ChinaTariffs) -> None:
    (cc,) = check(read_article("Washington will raise the tariffs on Chinese goods to 145%.",
                               D(2025, 4, 8)), FakeEngine(), china)
    assert cc.verdict == "supported" and cc.date_source == "implementing_measure"
    assert cc.effective_date == D(2025, 4, 10)


def test_threats_open_or_past(china: ChinaTariffs) -> None:
    ahead, = check(read_article("Trump threatened a 200% tariff on Chinese goods from June 1.",
                                D(2025, 5, 2)), FakeEngine(), china)
    assert ahead.verdict == "not_checkable" and ahead.effective_date == D(2025, 6, 1)
    passed, = check(read_article("Trump had threatened a 200% tariff on Chinese goods from "
                                 "April 15.", D(2025, 4, 20)), FakeEngine(), china)
    assert passed.verdict == "contradicted" and "never carried out" in passed.explanation


def test_composite_total_counts_lines_without_a_panel(china: ChinaTariffs) -> None:
    """45% on China on 2025-05-02 in the fake law: chips, cars, steel, aluminum (25% + 20%)."""
    total, = check(read_article("Chinese goods face a combined 45% in tariffs.", D(2025, 5, 2)),
                   FakeEngine(), china)
    assert total.verdict == "partly_supported"
    assert "is reached by 4 of 26 lines" in total.explanation
    top, = check(read_article("Some Chinese products face tariffs of up to 170%.", D(2025, 5, 2)),
                 FakeEngine(), china)
    assert top.verdict == "partly_supported" and "8411.12.40.00" in top.explanation
    wrong, = check(read_article("Chinese goods face a total of 300% in tariffs.", D(2025, 5, 2)),
                   FakeEngine(), china)
    assert wrong.verdict == "contradicted" and "the highest is 170%" in wrong.explanation


# ---------------------------------------------------------------------------------------------
# China's side: product lists, their end, suspensions, totals with the MFN rate
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("date, text, verdict, words", [
    ("2025-03-12", "China's 15 percent tariff on American chicken applies.", "supported", "No.2 Annex 1"),
    ("2025-11-20", "China's 15 percent tariff on American chicken remains in place.", "contradicted",
     "stopped from 2025-11-10 13:01 by No.9"),
    ("2025-03-12", "U.S. soybeans face a 15% Chinese tariff.", "contradicted", "No.2 Annex 2 (+10%"),
    ("2025-11-11", "In China, U.S. soybeans pay 13%, including the most-favoured-nation duty.",
     "partly_supported", "excused from the 2018-19 retaliation"),
    ("2025-11-06", "From Nov. 10, China will no longer charge the 15% levy on U.S. wheat.",
     "supported", "ended"),
    ("2025-12-01", "China keeps 24% of its tariff on U.S. goods suspended.", "supported", "No.10"),
])
def test_china_products(date: str, text: str, verdict: str, words: str, china: ChinaTariffs) -> None:
    cc = check(read_article(text, D.fromisoformat(date)), FakeEngine(), china)[0]
    assert cc.side == "CN" and cc.verdict == verdict, cc.explanation
    assert words in cc.explanation


def test_json_says_which_day_was_checked(china: ChinaTariffs) -> None:
    (cc,) = check(read_article("China will raise tariffs on all American goods to 125 per cent, "
                               "effective Saturday, April 12.", D(2025, 4, 11)), FakeEngine(), china)
    j = cc.to_json()
    assert (j["effective_date"], j["date_source"], j["verdict"]) == ("2025-04-12", "stated", "supported")
    assert j["mood"] == "announced" and j["repeats"] == []
