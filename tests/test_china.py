"""China's side: notices -> across-the-board level, WTO applied rates, exemption facts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tariffstack.errors import BadInput, DataError, DateOutOfRange
from tariffstack.sources.china import ChinaTariffs, general_level

D = dt.date
N4, N5, N6, N7 = (f"税委会公告2025年第{i}号" for i in (4, 5, 6, 7))


@pytest.fixture(scope="module")
def china(shared_dir: Path) -> ChinaTariffs:
    return ChinaTariffs.load(shared_dir / "china")


def test_notices_are_read_in_effective_order(china: ChinaTariffs) -> None:
    shorts = [n.short for n in china.notices]
    assert shorts == ["No.1", "No.2", "No.4", "No.5", "No.6", "No.7", "No.8?", "No.9", "No.10",
                      "No.12"]
    n6 = china.notice("No.6")
    assert n6.number == N6 and n6.published == D(2025, 4, 11)
    assert n6.effective == dt.datetime(2025, 4, 12) and n6.general_pct == 125.0
    assert n6.sources and all(u.startswith("http") and not u.endswith(";") for u in n6.sources)
    assert china.notice(N7).effective == dt.datetime(2025, 5, 14, 12, 1)
    # only all-goods notices set the general level; product lists and the MFN schedule do not
    assert [n.short for n in china.general_notices()] == ["No.4", "No.5", "No.6", "No.7", "No.8?",
                                                          "No.10"]


@pytest.mark.parametrize("on, pct, chain", [
    (D(2025, 2, 10), 0.0, ()),
    (D(2025, 4, 9), 0.0, ()),
    (D(2025, 4, 10), 84.0, (N4, N5)),          # No.4 34% and No.5 84%, same minute
    (D(2025, 4, 11), 84.0, (N4, N5)),
    (D(2025, 4, 12), 125.0, (N4, N5, N6)),
    (D(2025, 5, 2), 125.0, (N4, N5, N6)),
    (D(2025, 5, 13), 125.0, (N4, N5, N6)),
    (D(2025, 5, 14), 10.0, (N4, N5, N6, N7)),
])
def test_general_additional_pct(china: ChinaTariffs, on: D, pct: float, chain: tuple[str, ...]) -> None:
    assert china.general_additional_pct(on) == (pct, chain)


def test_general_additional_pct_later_and_to_the_minute(china: ChinaTariffs) -> None:
    pct, chain = china.general_additional_pct(D(2026, 1, 15))
    assert pct == 10.0 and chain[-1] == "税委会公告2025年第10号"
    assert china.general_additional_pct(dt.datetime(2025, 4, 10, 12, 0))[0] == 0.0
    assert china.general_additional_pct(dt.datetime(2025, 4, 10, 12, 1))[0] == 84.0
    assert china.general_additional_pct(dt.datetime(2025, 5, 14, 12, 0))[0] == 125.0
    with pytest.raises(BadInput):
        china.general_additional_pct("2025-05-02")  # type: ignore[arg-type]


def test_general_history(china: ChinaTariffs) -> None:
    hist = [(d, v, n.short) for d, v, n in china.general_history()]
    assert hist[:3] == [(D(2025, 4, 10), 84.0, "No.5"), (D(2025, 4, 12), 125.0, "No.6"),
                        (D(2025, 5, 14), 10.0, "No.7")]


@pytest.mark.parametrize("rate, scope, level", [
    ("+34%", "all goods originating in the US, on top of ...", 34.0),
    ("34% -> 84%", "all US-origin goods (other matters per No.4)", 84.0),
    ("84% -> 125%; states China will not respond", "all US-origin goods", 125.0),
    ("No.4 rate 34% -> 10%, with 24% suspended for 90 days", "all US-origin goods", 10.0),
    ("24% of No.4 stays suspended for one year; 10% retained", "all US-origin goods", 10.0),
    ("+15% (Annex 1: coal, LNG); +10% (Annex 2: ...)", "listed HS8 lines", None),
    ("removes the +15%/+10% farm-goods tariffs of No.2", "No.2 annex lines", None),
    ("Customs Import and Export Tariff of the PRC (2026)", "whole schedule", None),
])
def test_general_level_parser(rate: str, scope: str, level: float | None) -> None:
    assert general_level(rate, scope) == level


def test_levels_come_from_the_csv_not_code(tmp_path: Path) -> None:
    header = ("number,published,effective_beijing_time,action,rate,scope,in_transit_rule,"
              "later_status,number_confidence,sources\n")
    rows = ("X第1号,2025-01-01,2025-01-02 12:01,impose,+20%,all US-origin goods,,,printed,"
            "https://example.org/1\n"
            "X第2号,2025-01-05,2025-01-06,raise,20% -> 50%,all US-origin goods,,,printed,\n")
    (tmp_path / "announcements_2025.csv").write_text(header + rows, encoding="utf-8")
    c = ChinaTariffs.load(tmp_path)
    assert c.general_additional_pct(D(2025, 1, 1)) == (0.0, ())
    assert c.general_additional_pct(D(2025, 1, 3)) == (20.0, ("X第1号",))
    assert c.general_additional_pct(D(2025, 1, 6))[0] == 50.0
    assert c.exemptions.source == "press reports (built in)" and not c.exemptions.officially_published
    with pytest.raises(DataError, match="C156_C840.csv"):
        c.applied_rate("300490", D(2025, 5, 2))


def test_bad_data_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        ChinaTariffs.load(tmp_path / "missing")
    (tmp_path / "announcements_2025.csv").write_text("number,rate\nx,y\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing columns"):
        ChinaTariffs.load(tmp_path)


def test_applied_rate_nearest_date_on_or_before(china: ChinaTariffs) -> None:
    r = china.applied_rate("300490", D(2025, 5, 2))
    assert (r.hs6, r.data_date, r.best_avlbl_pct) == ("300490", D(2025, 4, 12), 127.0)
    assert r.imports is not None and r.imports > 0
    before = china.applied_rate("3004.90", D(2025, 3, 25))
    assert (before.data_date, before.best_avlbl_pct) == (D(2025, 3, 20), 2.0)
    assert china.applied_rate("30049090", D(2025, 4, 12)).hs6 == "300490"   # HS8 -> HS6
    assert china.wto_dates[0] == D(2025, 1, 1) and len(china.wto_dates) == 9


@pytest.mark.parametrize("code", ["30", "abc123", ""])
def test_applied_rate_rejects_bad_codes(china: ChinaTariffs, code: str) -> None:
    with pytest.raises(BadInput, match="HS6"):
        china.applied_rate(code, D(2025, 5, 2))


def test_applied_rate_unknown_code_and_early_date(china: ChinaTariffs) -> None:
    with pytest.raises(BadInput, match="not in the WTO"):
        china.applied_rate("999999", D(2025, 5, 2))
    with pytest.raises(DateOutOfRange, match="starts 2025-01-01"):
        china.applied_rate("300490", D(2024, 12, 31))


def test_wto_data_corroborates_the_notices(china: ChinaTariffs) -> None:
    base = china.base_date_for_general()
    assert base == D(2025, 3, 20)
    hits, total = china.count_rises(125.0, base, D(2025, 4, 12))
    assert total > 5000 and hits / total > 0.99
    hits, _ = china.count_rises(84.0, base, D(2025, 4, 10))
    assert hits / total > 0.99


def test_exemption_facts(china: ChinaTariffs) -> None:
    facts = china.exemptions
    assert not facts.officially_published
    assert "never published" in facts.summary and "Reuters" in facts.summary
    assert "29011010" in facts.unverified_hs8
    assert "pharmaceuticals" in facts.reported_categories
    assert facts.source.startswith("china/SOURCES.md")
