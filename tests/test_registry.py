"""The heading registry: schema checks, closed by default, and the law's answers it restores."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tariffstack.engine.us import Engine, Inputs
from tariffstack.errors import DataError
from tariffstack.law import apply as law_apply
from tariffstack.law import ledger
from tariffstack.law.registry import COLUMNS, Registry, load_registry, parse_row, read_file
from tariffstack.models import RateResult

ROOT = Path(__file__).resolve().parents[1]
GOOD = {
    "heading": "9903.01.25", "valid_from": "", "valid_to": "", "status": "modelled",
    "layer": "ieepa_reciprocal", "role": "impose", "countries": "*", "except_countries": "",
    "products": "all", "except_products": "code:98", "condition": "", "citation": "U.S. note 2(v)",
    "reason": "",
}


def pct(res: RateResult, layer: str) -> float:
    return sum(x.rate_pct or 0.0 for x in res.layers if x.layer == layer and not x.exempt)


def heads(res: RateResult, layer: str) -> set[str | None]:
    return {x.heading for x in res.layers if x.layer == layer and not x.exempt}


# ---- the schema -----------------------------------------------------------------------------
def test_packaged_registry_is_valid_and_reviewed() -> None:
    reg = load_registry()
    assert len(reg.by_heading) >= 743
    for recs in reg.by_heading.values():
        for r in recs:
            assert r.reason != "PROPOSED", f"{r.where}: not reviewed yet"
            assert r.citation


@pytest.mark.parametrize(("change", "fragment"), [
    ({"extra": "x"}, "unknown field 'extra'"),
    ({"valid_from": "2025-13-01"}, "valid_from: bad date '2025-13-01'"),
    ({"citation": ""}, "citation: missing"),
    ({"countries": "Narnia"}, "unknown country or group 'Narnia'"),
    ({"products": "chapter:72"}, "bad term 'chapter:72'"),
    ({"products": "code:123"}, "not a 2-10 digit HTS prefix"),
    ({"products": "note:U.S. note 2(v)(iii)"}, "not one note subdivision in canonical form (write note:2(v)(iii))"),
    ({"products": "note:III:16(c)"}, "(write note:16(c))"),
    ({"except_products": "note:2(v)(i)-(iii)"}, "'note:2(v)(i)-(iii)' is not one note subdivision"),
    ({"products": "note:2(v"}, "'note:2(v' is not one note subdivision"),
    ({"status": "maybe"}, "status: 'maybe'"),
    ({"status": "not_evaluated"}, "reason: a not_evaluated record says why"),
    ({"condition": "ftz"}, "cannot be modelled"),
    ({"heading": "9903.1.25"}, "is not a 9903.xx.xx heading"),
    ({"valid_from": "2025-05-01", "valid_to": "2025-04-01"}, "is before valid_from"),
])
def test_bad_records_name_file_line_and_field(change: dict[str, str], fragment: str) -> None:
    with pytest.raises(DataError, match="x.csv:7") as exc:
        parse_row({**GOOD, **change}, "x.csv:7")
    assert fragment in str(exc.value)


def test_bad_header_and_overlapping_periods() -> None:
    with pytest.raises(DataError, match="t.csv:1: header must be"):
        read_file("t.csv", "heading,status\n9903.01.25,modelled\n")
    rows = [",".join(GOOD[c] for c in COLUMNS).replace("U.S. note 2(v)", "n")]
    text = ",".join(COLUMNS) + "\n" + rows[0].replace(",,,modelled", ",2025-01-01,2025-06-30,modelled") + "\n" \
        + rows[0].replace(",,,modelled", ",2025-06-01,,modelled") + "\n"
    with pytest.raises(DataError, match="t.csv:3: 9903.01.25: period overlaps the record at t.csv:2"):
        Registry(read_file("t.csv", text))


def test_build_stops_on_a_heading_without_record_or_a_record_without_heading(engine: Engine) -> None:
    reg = load_registry()
    measures = engine.model.measures
    printed = {h: "2025 basic" for h in reg.by_heading}
    fewer = Registry(r for h, rs in reg.by_heading.items() if h != "9903.01.25" for r in rs)
    with pytest.raises(DataError, match=r"no record in the heading registry .*9903\.01\.25 \(first in 2025 basic\)"):
        law_apply.apply_registry(measures, fewer, engine.model.notes, printed)
    del printed["9903.96.01"]
    with pytest.raises(DataError, match=r"heading 9903\.96\.01 appears in no revision"):
        law_apply.apply_registry(measures, reg, engine.model.notes, printed)


def test_role_must_match_the_printed_rate(engine: Engine) -> None:
    m = engine.model.measure_on("9903.01.25", date(2025, 5, 2))
    assert m is not None
    rec = parse_row({**GOOD, "role": "exempt"}, "x.csv:2")
    with pytest.raises(DataError, match="role 'exempt' contradicts the rate printed"):
        law_apply.read_through(m, [rec], engine.model.notes)


# ---- closed by default ------------------------------------------------------------------------
def test_not_evaluated_never_applies_and_is_listed_once(engine: Engine) -> None:
    day = date(2025, 5, 2)
    model = copy.copy(engine.model)
    rec = parse_row({**GOOD, "heading": "9903.01.63", "countries": "CN", "status": "not_evaluated",
                     "reason": "test: reach unknown"}, "x.csv:2")
    model.measures = dict(model.measures)
    model.measures["9903.01.63"] = [p for v in model.measures["9903.01.63"]
                                    for p in law_apply.read_through(v, [rec], model.notes)]
    closed = Engine(model)
    res = closed.rate("9503.00.0073", "CN", day)
    assert "9903.01.63" not in heads(res, "ieepa_reciprocal")
    assert [n for n in res.notes if n.startswith("9903.01.63")] == ["9903.01.63 not evaluated: test: reach unknown"]
    # another origin is not concerned: no note
    assert not [n for n in closed.rate("9503.00.0073", "VN", day).notes if n.startswith("9903.01.63")]


def test_registry_periods_narrow_a_heading(engine: Engine) -> None:
    m = engine.model.measure_on("9903.01.24", date(2025, 5, 2))
    assert m is not None
    rec = parse_row({**GOOD, "heading": "9903.01.24", "layer": "ieepa_fentanyl", "countries": "CN;HK",
                     "valid_from": "2025-04-01", "valid_to": "2025-04-30"}, "x.csv:2")
    pieces = law_apply.read_through(replace(m, start=date(2025, 3, 4), end=None), [rec], engine.model.notes)
    assert [(p.start, p.end) for p in pieces] == [(date(2025, 4, 1), date(2025, 5, 1))]
    assert pieces[0].countries == frozenset({"CN", "HK"}) and pieces[0].record == "x.csv:2"


# ---- the law's answers (cases of the registry issue) ------------------------------------------
def test_old_japanese_quota_headings_bind_no_one_in_2025(engine: Engine) -> None:
    shoes = engine.rate("6403.99.9065", "VN", date(2025, 9, 1))
    assert not heads(shoes, "s201") and not heads(shoes, "s301")
    assert pct(shoes, "ieepa_reciprocal") == 20
    laptops = engine.rate("8471.30.0100", "CN", date(2025, 4, 20))
    assert not heads(laptops, "s201") and pct(laptops, "s201") == 0


@pytest.mark.parametrize("origin", ["MX", "BR", "CH", "HK", "JP"])
def test_large_civil_aircraft_301_does_not_reach_other_countries(engine: Engine, origin: str) -> None:
    res = engine.rate("0406.90.1200", origin, date(2025, 8, 10))
    assert not heads(res, "s301")


def test_chinese_car_pays_the_autos_duty_not_aluminum(engine: Engine) -> None:
    res = engine.rate("8703.23.0140", "CN", date(2025, 6, 15))
    assert heads(res, "s232") == {"9903.94.01"} and pct(res, "s232") == 25


@pytest.mark.parametrize(("origin", "day"), [("DE", "2025-09-15"), ("JP", "2025-10-01"), ("KR", "2025-12-01")])
def test_deal_cars_pay_15_percent_all_in(engine: Engine, origin: str, day: str) -> None:
    res = engine.rate("8703.23.0140", origin, date.fromisoformat(day))
    assert res.total_pct == 15


def test_canadian_aluminum_pays_50_and_no_canada_duty(engine: Engine) -> None:
    res = engine.rate("7601.10.6000", "CA", date(2025, 12, 10))
    assert pct(res, "s232") == 50 and pct(res, "ieepa_fentanyl") == 0
    # with 60% aluminum content the Canada duty applies to the other 40%
    part = engine.rate("7601.10.6000", "CA", date(2025, 12, 10), Inputs(metal_content_share=0.6))
    assert pct(part, "ieepa_fentanyl") == pytest.approx(35 * 0.4)


@pytest.mark.parametrize(("origin", "layer"), [("DE", "ieepa_reciprocal"), ("VN", "ieepa_reciprocal"),
                                             ("CN", "ieepa_reciprocal"), ("BR", "ieepa_other")])
def test_a_derivative_with_declared_steel_pays_ieepa_on_the_rest(engine: Engine, origin: str, layer: str) -> None:
    """Note 2(v)(vi)-(ix) (and 2(x) for Brazil) from Jun 4, 2025: the IEEPA duty is off the steel
    content only; 9903.01.33 / 9903.01.83 must not take it off the whole declared article."""
    derivative, plain = "8479.90.8500", "9503.00.0073"  # both MFN free; only the first pays 232
    day = date(2025, 9, 1)
    full = pct(engine.rate(plain, origin, day), layer)
    assert full > 0
    whole = engine.rate(derivative, origin, day)
    assert pct(whole, layer) == 0 and pct(whole, "s232") > 0  # CBP: no share given, all metal
    split = engine.rate(derivative, origin, day, Inputs(metal_content_share=0.4))
    assert pct(split, layer) == pytest.approx(full * 0.6)
    hit = next(x for x in split.layers if x.layer == layer and not x.exempt)
    assert hit.applies_to is not None and "non-metal content (60% of value" in hit.applies_to
    assert pct(split, "s232") == pytest.approx(pct(whole, "s232") * 0.4)


def test_before_june_2025_the_232_exemption_covers_the_whole_derivative(engine: Engine) -> None:
    """Until Jun 3, 2025 the 9903.01.33 exemption was claimed on the metal and non-metal lines."""
    res = engine.rate("8479.90.8500", "DE", date(2025, 5, 1), Inputs(metal_content_share=0.4))
    assert pct(res, "s232") > 0 and pct(res, "ieepa_reciprocal") == 0
    assert "9903.01.33" in {x.heading for x in res.layers if x.exempt}


@pytest.mark.parametrize(("code", "origin", "day", "full_heading", "usmca_heading"), [
    ("8703.23.0190", "MX", date(2025, 9, 1), "9903.94.01", "9903.94.03"),     # note 33(d)
    ("8701.21.0000", "CA", date(2025, 12, 1), "9903.74.01", "9903.74.03"),    # note 38(d)
])
def test_usmca_vehicles_with_approved_us_content_pay_232_on_the_rest(
        engine: Engine, code: str, origin: str, day: date, full_heading: str, usmca_heading: str) -> None:
    full = engine.on(full_heading, day)
    assert full is not None and full.duty.pct
    for inputs in (Inputs(), Inputs(usmca_claimed=True), Inputs(us_content_share=0.4)):
        res = engine.rate(code, origin, day, inputs)  # no approval declared: full value
        assert heads(res, "s232") == {full_heading} and pct(res, "s232") == full.duty.pct
    res = engine.rate(code, origin, day, Inputs(usmca_claimed=True, us_content_share=0.4))
    assert heads(res, "s232") == {usmca_heading}
    assert pct(res, "s232") == pytest.approx(full.duty.pct * 0.6)
    layer = next(x for x in res.layers if x.heading == usmca_heading)
    assert layer.applies_to == "non-U.S. content (60% of value)"
    # not a USMCA country: the heading's country terms keep it out
    assert heads(engine.rate(code, "DE", day, Inputs(usmca_claimed=True, us_content_share=0.4)), "s232") != {usmca_heading}


def test_canadian_energy_pays_10_percent_in_april_2025(engine: Engine) -> None:
    res = engine.rate("2709.00.2000", "CA", date(2025, 4, 10))
    assert pct(res, "ieepa_fentanyl") == 10


def test_section_122_without_usmca_claim(engine: Engine) -> None:
    day = date(2026, 3, 10)
    res = engine.rate("9503.00.0073", "MX", day)
    assert pct(res, "s122") == 10
    claimed = engine.rate("9503.00.0073", "MX", day, Inputs(usmca_claimed=True))
    assert pct(claimed, "s122") == 0


def test_chapter_98_goods_bear_no_ieepa_or_section_122(engine: Engine) -> None:
    res = engine.rate("9801.00.1015", "CN", date(2025, 5, 2))
    assert pct(res, "ieepa_reciprocal") == 0
    assert pct(engine.rate("9801.00.1015", "DE", date(2026, 3, 10)), "s122") == 0


def test_solar_safeguard_rate_from_note_18_and_its_end(engine: Engine) -> None:
    module = "8541.43.0010"
    assert pct(engine.rate(module, "CN", date(2025, 6, 1)), "s201") == 14
    assert pct(engine.rate(module, "CN", date(2025, 1, 15)), "s201") == 14.25
    assert pct(engine.rate(module, "CN", date(2026, 3, 1)), "s201") == 0
    # a developing country named in note 18(b) is outside the safeguard
    assert pct(engine.rate(module, "ID", date(2025, 6, 1)), "s201") == 0


def test_copper_232_from_august_2025(engine: Engine) -> None:
    res = engine.rate("7408.11.6000", "DE", date(2025, 9, 1))
    assert heads(res, "s232") == {"9903.78.01"} and pct(res, "s232") == 50


def test_japan_all_in_floor_is_retroactive_to_august_7(engine: Engine) -> None:
    res = engine.rate("9503.00.0073", "JP", date(2025, 8, 20))  # toys: MFN free
    assert res.total_pct == 15
    assert heads(res, "ieepa_reciprocal") == {"9903.02.73"}


def test_in_force_since_spans_versions(engine: Engine) -> None:
    res = engine.rate("8517.13.0000", "CN", date(2025, 5, 2))
    fent = next(x for x in res.layers if x.heading == "9903.01.24")
    assert fent.effective_from == date(2025, 5, 2)   # this version (2025 rev 11)
    assert fent.in_force_since == date(2025, 3, 4)   # the 20% since EO 14228


# ---- the ledger ---------------------------------------------------------------------------------
def test_scope_ledger_matches_the_build(engine: Engine) -> None:
    committed = (ROOT / "docs" / "LEDGER.csv").read_text(encoding="utf-8")
    fresh = ledger.to_csv(ledger.rows(engine.model))
    if fresh != committed:
        old, new = set(committed.splitlines()), set(fresh.splitlines())
        gone, added = sorted(old - new)[:5], sorted(new - old)[:5]
        pytest.fail(f"who pays what changed; review and run 'tariffstack registry ledger -o docs/LEDGER.csv'. "
                    f"removed: {gone} added: {added}")


def test_proposals_are_valid_rows_to_review(engine: Engine) -> None:
    from tariffstack.law.propose import bare, proposal

    m = engine.model.measure_on("9903.01.24", date(2025, 5, 2))
    assert m is not None
    row = proposal(m)
    assert row["reason"] == "PROPOSED" and row["countries"] == "CN;HK" and row["role"] == "impose"
    rec = parse_row(row, "proposed:2")
    assert rec.status == "modelled" and rec.products == ("all",)
    assert parse_row(bare("9903.99.01"), "proposed:3").status == "not_evaluated"
