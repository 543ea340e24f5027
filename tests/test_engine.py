"""The rate engine on the real schedule (../shared/hts): each layer, the public examples, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from tariffstack.engine.us import Engine, Inputs
from tariffstack.errors import BadInput, DateOutOfRange, UnknownCountry, UnknownProduct
from tariffstack.models import RateResult


def headings(res: RateResult, layer: str, *, exempt: bool = False) -> set[str | None]:
    return {x.heading for x in res.layers if x.layer == layer and x.exempt == exempt}


def pct(res: RateResult, layer: str) -> float:
    return sum(x.rate_pct or 0.0 for x in res.layers if x.layer == layer and not x.exempt)


def test_china_145_on_2025_05_02(engine: Engine) -> None:
    # toys are on no Section 301 list and not in Annex II: 125% reciprocal + 20% fentanyl
    res = engine.rate("9503.00.0073", "CN", date(2025, 5, 2))
    assert pct(res, "ieepa_reciprocal") == 125
    assert headings(res, "ieepa_reciprocal") == {"9903.01.63"}
    assert pct(res, "ieepa_fentanyl") == 20
    assert headings(res, "ieepa_fentanyl") == {"9903.01.24"}
    assert res.total_additional_pct == 145
    assert res.total_pct == 145  # MFN free


def test_china_145_stacks_on_mfn_and_301(engine: Engine) -> None:
    res = engine.rate("6109.10.0012", "China", date(2025, 5, 2))
    assert pct(res, "mfn") == 16.5
    assert pct(res, "s301") == 7.5 and headings(res, "s301") == {"9903.88.15"}
    assert res.total_additional_pct == 152.5
    assert res.total_pct == 169


def test_smartphones_exempt_from_reciprocal(engine: Engine) -> None:
    res = engine.rate("8517.13.0000", "CN", date(2025, 5, 2))
    assert pct(res, "ieepa_reciprocal") == 0
    assert "9903.01.32" in headings(res, "ieepa_reciprocal", exempt=True)
    assert pct(res, "ieepa_fentanyl") == 20
    assert res.total_pct == 20


def test_electronics_exemption_is_retroactive_to_april_5(engine: Engine) -> None:
    # published in rev 10 on Apr 15 with effect from Apr 5: an Apr 12 entry is already exempt
    res = engine.rate("8517.13.0000", "CN", date(2025, 4, 12))
    assert pct(res, "ieepa_reciprocal") == 0
    exempt = [x for x in res.layers if x.heading == "9903.01.32"]
    assert exempt and exempt[0].effective_from is not None
    assert exempt[0].effective_from <= date(2025, 4, 5)


def test_geneva_truce_china_10_percent(engine: Engine) -> None:
    res = engine.rate("9503.00.0073", "CN", date(2025, 5, 14))
    assert headings(res, "ieepa_reciprocal") == {"9903.01.25"}
    assert pct(res, "ieepa_reciprocal") == 10
    assert engine.model.measure_on("9903.01.63", date(2025, 5, 14)) is None  # suspended
    assert engine.model.measure_on("9903.01.63", date(2025, 5, 13)) is not None


def test_steel_uk_25_germany_50_no_reciprocal(engine: Engine) -> None:
    uk = engine.rate("7208.51.0030", "united kingdom", date(2025, 6, 10))
    de = engine.rate("7208.51.0030", "Germany", date(2025, 6, 10))
    assert pct(uk, "s232") == 25 and headings(uk, "s232") == {"9903.81.94"}
    assert pct(de, "s232") == 50 and headings(de, "s232") == {"9903.81.87"}
    for res in (uk, de):
        assert pct(res, "ieepa_reciprocal") == 0
        assert "9903.01.33" in headings(res, "ieepa_reciprocal", exempt=True)


def test_country_rates_from_august_7(engine: Engine) -> None:
    vn = engine.rate("6109.10.0012", "VN", date(2025, 9, 1))
    assert headings(vn, "ieepa_reciprocal") == {"9903.02.69"} and pct(vn, "ieepa_reciprocal") == 20
    before = engine.rate("6109.10.0012", "VN", date(2025, 8, 6))
    assert pct(before, "ieepa_reciprocal") == 10


def test_eu_fifteen_percent_all_in(engine: Engine) -> None:
    low = engine.rate("9403.60.8093", "DE", date(2025, 9, 1))  # MFN free: raised to 15%
    assert headings(low, "ieepa_reciprocal") == {"9903.02.20"}
    assert low.total_pct == 15
    high = engine.rate("6109.10.0012", "FR", date(2025, 9, 1))  # MFN 16.5% >= 15: nothing added
    assert pct(high, "ieepa_reciprocal") == 0
    assert high.total_pct == 16.5


def test_ieepa_ends_feb_24_2026_and_section_122_starts(engine: Engine) -> None:
    before = engine.rate("9503.00.0073", "CN", date(2026, 2, 23))
    assert pct(before, "ieepa_fentanyl") == 10  # cut to 10% on Nov 10, 2025
    after = engine.rate("9503.00.0073", "CN", date(2026, 2, 24))
    assert not [x for x in after.layers if x.layer.startswith("ieepa") and not x.exempt]
    assert pct(after, "s122") == 10 and headings(after, "s122") == {"9903.03.01"}
    s122 = next(x for x in after.layers if x.layer == "s122")
    assert s122.source and "11012" in s122.source


def test_in_transit_loading_date(engine: Engine) -> None:
    loaded = engine.rate("9503.00.0073", "CN", date(2025, 4, 12), Inputs(loading_date=date(2025, 4, 1)))
    assert "9903.01.63" not in headings(loaded, "ieepa_reciprocal")
    plain = engine.rate("9503.00.0073", "CN", date(2025, 4, 12))
    assert "9903.01.63" in headings(plain, "ieepa_reciprocal")


def test_usmca_claim_exempts_canada_fentanyl(engine: Engine) -> None:
    plain = engine.rate("9503.00.0073", "CA", date(2025, 5, 2))
    assert pct(plain, "ieepa_fentanyl") == 25
    assert pct(plain, "ieepa_reciprocal") == 0  # Canada is outside the reciprocal duties
    claimed = engine.rate("9503.00.0073", "CA", date(2025, 5, 2), Inputs(usmca_claimed=True))
    assert pct(claimed, "ieepa_fentanyl") == 0
    assert "9903.01.14" in headings(claimed, "ieepa_fentanyl", exempt=True)


def test_usmca_claim_takes_the_program_s_rate(engine: Engine) -> None:
    """A USMCA claim is a claim of column 1 Special program S, not only of the IEEPA exemption."""
    day = date(2025, 6, 15)
    line = engine.line("8708.29.5160", day)
    plain = engine.rate("8708.29.5160", "MX", day)
    claimed = engine.rate("8708.29.5160", "MX", day, Inputs(usmca_claimed=True))
    assert "S" in line.special and pct(plain, "mfn") > 0
    assert pct(claimed, "mfn") == 0 and "program S" in next(x.reason for x in claimed.layers if x.layer == "mfn")
    assert pct(engine.rate("8708.29.5160", "DE", day, Inputs(usmca_claimed=True)), "mfn") == pct(plain, "mfn")


def test_a_date_past_the_data_says_how_old_the_law_is(engine: Engine) -> None:
    last = engine.model.last_date
    later = date(last.year + 1, 1, 15)
    with pytest.raises(DateOutOfRange, match="newest revision on file is 2026 rev 10") as info:
        engine.rate("9503.00.0073", "CN", later)
    assert "--assume-unchanged" in str(info.value) and "tariffstack fetch" in str(info.value)
    res = engine.rate("9503.00.0073", "CN", later, assume_unchanged=True)
    same = engine.rate("9503.00.0073", "CN", last)
    assert res.entry_date == later and res.total_pct == same.total_pct
    assert "newest law on file" in res.notes[0] and str((later - last).days) in res.notes[0]


def test_column_2_for_general_note_3b_countries(engine: Engine) -> None:
    res = engine.rate("6109.10.0012", "Russia", date(2025, 6, 1))
    mfn = next(x for x in res.layers if x.layer == "mfn")
    assert "column 2" in mfn.reason and mfn.rate_pct == 90
    assert pct(res, "ieepa_reciprocal") == 0


def test_every_layer_has_a_source(engine: Engine) -> None:
    res = engine.rate("6109.10.0012", "CN", date(2025, 5, 2))
    for x in res.layers:
        assert x.heading and x.revision and x.reason
        if x.layer != "mfn":
            assert x.effective_from is not None and x.source


def test_de_minimis(engine: Engine) -> None:
    assert engine.de_minimis("CN", date(2025, 5, 2), 500).eligible is False
    assert engine.de_minimis("CN", date(2025, 5, 1), 500).eligible is True
    assert engine.de_minimis("DE", date(2025, 6, 1), 500).eligible is True
    assert engine.de_minimis("DE", date(2025, 9, 1), 500).eligible is False


def test_de_minimis_holds_on_every_rules_first_and_last_day(engine: Engine) -> None:
    """de_minimis.csv writes the last day in force: the answer must not flip on that day."""
    from datetime import timedelta

    from tariffstack.law.events import load_de_minimis

    rules = load_de_minimis()
    named = {c for r in rules if r.countries for c in r.countries}
    checked = 0
    for r in rules:
        origin = sorted(r.countries)[0] if r.countries else next(c for c in ("DE", "JP", "BR") if c not in named)
        for day in (r.effective, r.last):
            if day is None or not engine.model.first_date <= day <= engine.model.last_date:
                continue
            got = engine.de_minimis(origin, day, 100)
            assert got.eligible is r.eligible and got.source == r.citation, (r.id, day)
            checked += 1
        if r.last is not None and r.last + timedelta(days=1) <= engine.model.last_date:
            assert engine.de_minimis(origin, r.last + timedelta(days=1), 100).source != r.citation, r.id
    assert checked >= 10


def test_search_ranks_smartphones_first(engine: Engine) -> None:
    hits = engine.search("smartphones", limit=5)
    assert hits and hits[0].hts == "8517.13.00.00"
    assert [h.hts for h in engine.search("7208.51", limit=3)][0].startswith("7208.51")
    assert engine.search("", limit=3) == []


@pytest.mark.parametrize(
    ("code", "origin", "day", "error", "fragment"),
    [
        ("85A7.13", "CN", "2025-05-02", BadInput, "malformed HTS code"),
        ("8517.13.00.0", "CN", "2025-05-02", BadInput, "digits"),
        ("0000.00.0000", "CN", "2025-05-02", UnknownProduct, "unknown HTS code"),
        ("8517.13.0000", "Chna", "2025-05-02", UnknownCountry, "China (CN)"),
        ("8517.13.0000", "CN", "2024-12-31", DateOutOfRange, "outside the data"),
        ("8517.13.0000", "CN", "2031-01-01", DateOutOfRange, "fetch"),
        ("8517.13.0000", "CN", "2025-13-01", BadInput, "YYYY-MM-DD"),
    ],
)
def test_bad_input(engine: Engine, code: str, origin: str, day: str, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=None) as info:
        engine.rate(code, origin, day)
    assert fragment in str(info.value)


def test_renumbered_statistical_suffix_says_when_it_existed(engine: Engine) -> None:
    # a 10-digit line present in an early revision but not later gets a dated message
    first, last = engine.model.lines[0], engine.model.lines[-1]
    gone = sorted(k for k in first if len(k) == 10 and k not in last and not k.startswith("99"))
    assert gone
    with pytest.raises(UnknownProduct, match=r"on 2026-05-01 \(2026 rev \d+\); it is in 2025 basic to "):
        engine.rate(gone[0], "DE", date(2026, 5, 1))


def test_a_line_missing_from_one_revision_says_which_it_is_in(engine: Engine) -> None:
    """A line printed before and after a revision that lacks it: the message gives both runs
    (not "basic to rev 10", which would say it was in force on the date asked)."""
    model = engine.model
    gaps = [(d, k) for k in range(1, len(model.lines) - 1) for d in model.lines[k - 1]
            if len(d) == 10 and d not in model.lines[k] and d in model.lines[k + 1]]
    assert gaps
    d, k = gaps[0]
    day = model.starts[k]                       # the first day revision k's lines are in force
    names = [r.name for r in model.revisions]
    with pytest.raises(UnknownProduct) as info:
        engine.line(d, day)
    msg = str(info.value)
    assert f"on {day.isoformat()} ({names[k]}); it is in " in msg, msg
    assert f" to {names[k - 1]} and {names[k + 1]}" in msg or f"in {names[k - 1]} and {names[k + 1]}" in msg, msg
    assert info.value.on("2030-01-01") == msg.replace(day.isoformat(), "2030-01-01")


def test_autos_232_displaces_metals_232(engine: Engine) -> None:
    # EO 14289: an article paying the 232 auto duty does not also pay the 232 aluminum/steel duty
    res = engine.rate("8703.23.0160", "DE", date(2025, 6, 1))
    assert headings(res, "s232") == {"9903.94.01"} and pct(res, "s232") == 25
    # the aluminum derivative lists (note 19) name no vehicles: no metals heading reaches the car
    assert not any(x.heading and x.heading.startswith(("9903.85", "9903.80", "9903.81")) for x in res.layers)
    assert res.total_pct == 27.5


def test_steel_25_percent_before_june_2025(engine: Engine) -> None:
    # 9903.81.87 (2025 rev 4, effective Mar 12, 2025) at 25% until the Jun 4 increase to 50%
    for code in ("7208.51.0030", "7217.90.1000"):
        res = engine.rate(code, "CN", date(2025, 5, 2))
        assert headings(res, "s232") == {"9903.81.87"} and pct(res, "s232") == 25
        assert pct(res, "ieepa_reciprocal") == 0


def test_certified_parts_headings_do_not_reach_steel_mill_products(engine: Engine) -> None:
    # notes 33(p)/(q)/(r) and 38(j) cover parts an importer certifies for U.S. vehicle production
    # and "do not apply to ... articles classifiable in HTSUS chapters 72, 73 or 76": plate stays
    # under the steel duties after Nov 1, 2025, not under the auto/truck parts rates
    for iso, heading, rate in (("GB", "9903.81.94", 25.0), ("CN", "9903.81.87", 50.0), ("DE", "9903.81.87", 50.0)):
        res = engine.rate("7208.51.0030", iso, date(2025, 12, 1))
        assert headings(res, "s232") == {heading}, iso
        assert pct(res, "s232") == rate
        assert not any(x.heading and x.heading.startswith(("9903.74", "9903.94")) for x in res.layers)
    # goods outside the parts lists from the EU: the certified-parts floor (9903.94.45) could
    # concern them, so it is listed, once, as not evaluated; a listed part it excepts is not
    notes = [n for n in engine.rate("8716.80.5090", "DE", date(2025, 12, 1)).notes if n.startswith("9903.94.45")]
    assert len(notes) == 1 and " not evaluated: " in notes[0] and "certif" in notes[0]
    assert not [n for n in engine.rate("8708.29.2140", "DE", date(2025, 12, 1)).notes if n.startswith("9903.94.45")]
