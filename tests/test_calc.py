"""Duty in dollars on the real schedule: each duty type, part-of-value bases, floors, fees.

Expected figures are computed from the law the engine reads (its layers, the parsed schedule
text, the measures' printed rates) and from fees.csv, never typed in; the calculator must turn
them into the same dollars by its own path (formulas, coefficients, arrays).
"""

from __future__ import annotations

from datetime import date

import pytest

from tariffstack.calc import Pricer, Shipment, quote
from tariffstack.calc import fees as feemod
from tariffstack.calc.formula import cents
from tariffstack.calc.units import factor
from tariffstack.engine.us import Engine, Inputs
from tariffstack.errors import BadInput, DataError
from tariffstack.law.rates import parse_rate, special_rate_for


@pytest.fixture(scope="module")
def pricer(engine: Engine) -> Pricer:
    return Pricer(engine)


def _mpf_formal(value: float, day: date) -> float:
    row = feemod.find("mpf", "formal", "any", day)
    assert row is not None and row.rate_pct is not None and row.min_usd is not None and row.max_usd is not None
    return cents(min(max(value * row.rate_pct / 100, row.min_usd), row.max_usd))


def test_ad_valorem_layers_in_dollars(pricer: Pricer, engine: Engine) -> None:
    day = date(2025, 9, 1)
    q = quote(pricer, Shipment("6403.99.9065", "VN", day, 80000, 5000, "prs", mode="ocean"))
    res = engine.rate("6403.99.9065", "VN", day)
    for x in res.layers:
        if not x.exempt and x.rate_pct:
            assert q.row[f"duty_{x.layer}_usd"] == cents(80000 * x.rate_pct / 100), x.layer
    assert q.row["duty_usd"] == cents(80000 * res.total_pct / 100)
    assert q.row["mpf_usd"] == _mpf_formal(80000, day)
    hmf = feemod.hmf_row("ocean", day)
    assert hmf is not None and q.row["hmf_usd"] == cents(80000 * (hmf.rate_pct or 0) / 100)
    assert q.row["total_usd"] == round(q.row["duty_usd"] + q.row["mpf_usd"] + q.row["hmf_usd"], 2)
    # each layer cites its heading and source
    rec = next(x for x in q.layers if x["layer"] == "ieepa_reciprocal")
    assert rec["heading"].startswith("9903.02") and rec["source"] and rec["base_usd"] == 80000


def test_specific_duty_per_kg_with_unit_conversion(pricer: Pricer, engine: Engine) -> None:
    day = date(2025, 10, 1)
    line = engine.line("0406.90.1200", day)
    part = parse_rate(line.general).specific[0]
    assert part.unit == "kg"
    q = quote(pricer, Shipment("0406.90.1200", "FR", day, 12000, 1500, "kg", mode="air"))
    assert q.row["duty_mfn_usd"] == cents(part.amount_usd * 1500)
    lb = 1500 / factor("lb", "kg")
    q_lb = quote(pricer, Shipment("0406.90.1200", "FR", day, 12000, lb, "lb", mode="air"))
    assert q_lb.row["duty_mfn_usd"] == q.row["duty_mfn_usd"]
    assert q.row["hmf_usd"] == 0  # air cargo pays no HMF


def test_specific_duty_errors_name_the_unit_needed(pricer: Pricer) -> None:
    with pytest.raises(BadInput, match=r"cannot convert prs \(pairs\) to kg"):
        quote(pricer, Shipment("0406.90.1200", "FR", "2025-10-01", 12000, 3, "prs"))
    with pytest.raises(BadInput, match="quantity and unit missing.*needs a quantity in kg"):
        quote(pricer, Shipment("0406.90.1200", "FR", "2025-10-01", 12000))
    with pytest.raises(BadInput, match="unknown unit 'furlongs'"):
        quote(pricer, Shipment("0406.90.1200", "FR", "2025-10-01", 12000, 3, "furlongs"))


def test_compound_duty(pricer: Pricer, engine: Engine) -> None:
    day = date(2025, 3, 1)
    line = engine.line("0402.29.5000", day)
    rate = parse_rate(line.general)
    assert rate.is_compound
    q = quote(pricer, Shipment("0402.29.5000", "NZ", day, 10000, 2000, "kg"))
    expected = 10000 * (rate.ad_valorem_pct or 0) / 100 + sum(p.amount_usd for p in rate.specific) * 2000
    assert q.row["duty_mfn_usd"] == cents(expected)


def test_all_in_floor_counts_the_specific_duty(pricer: Pricer, engine: Engine) -> None:
    """The EU 15% all-in floor: 15% of value minus the column 1 duty in dollars (its ad valorem
    equivalent), which the engine alone cannot compute for a rate per kg."""
    day = date(2025, 10, 1)
    rec = next(x for x in engine.rate("0406.90.1200", "FR", day).layers if x.layer == "ieepa_reciprocal")
    m = engine.model.measure_on(rec.heading or "", rec.effective_from or day)
    assert m is not None and m.duty.kind == "floor" and m.duty.pct
    amount = parse_rate(engine.line("0406.90.1200", day).general).specific[0].amount_usd
    for kg in (1500, 500):
        q = quote(pricer, Shipment("0406.90.1200", "FR", day, 12000, kg, "kg"))
        mfn = cents(amount * kg)
        assert q.row["duty_ieepa_reciprocal_usd"] == cents(max(0.0, m.duty.pct / 100 * 12000 - mfn)), kg
    # a purely ad valorem line: the floor equals the engine's percent
    res = engine.rate("8708.29.5160", "DE", day)
    q = quote(pricer, Shipment("8708.29.5160", "DE", day, 5000))
    for x in res.layers:
        if not x.exempt and x.rate_pct is not None:
            assert q.row[f"duty_{x.layer}_usd"] == cents(5000 * sum(
                y.rate_pct or 0 for y in res.layers if y.layer == x.layer and not y.exempt) / 100)


def test_metal_content_base(pricer: Pricer, engine: Engine) -> None:
    """Section 232 on a derivative's steel content only: the printed 50% on value x share."""
    day = date(2025, 9, 1)
    res = engine.rate("8479.90.8500", "DE", day, Inputs(metal_content_share=0.4))
    s232 = next(x for x in res.layers if x.layer == "s232" and not x.exempt)
    m = engine.model.measure_on(s232.heading or "", s232.effective_from or day)
    assert m is not None and m.duty.content_basis == "steel" and m.duty.pct
    q = quote(pricer, Shipment("8479.90.8500", "DE", day, 10000, inputs=Inputs(metal_content_share=0.4)))
    layer = next(x for x in q.layers if x["layer"] == "s232" and not x["exempt"])
    assert layer["rate_pct"] == m.duty.pct and layer["base_usd"] == 4000
    assert q.row["duty_s232_usd"] == cents(10000 * 0.4 * m.duty.pct / 100)
    whole = quote(pricer, Shipment("8479.90.8500", "DE", day, 10000))
    assert whole.row["duty_s232_usd"] == cents(10000 * m.duty.pct / 100)


def test_column_2_and_special_programs(pricer: Pricer, engine: Engine) -> None:
    day = date(2025, 3, 1)
    line = engine.line("6403.99.9065", day)
    col2 = parse_rate(line.other)
    q = quote(pricer, Shipment("6403.99.9065", "KP", day, 1000, entry_type="formal"))
    assert not col2.specific and col2.ad_valorem_pct != parse_rate(line.general).ad_valorem_pct
    assert q.row["duty_mfn_usd"] == cents(1000 * (col2.ad_valorem_pct or 0) / 100)
    assert "column 2" in q.layers[0]["summary"]
    special = special_rate_for(line.special, "AU")
    assert special is not None and special.ad_valorem_pct is not None
    au = quote(pricer, Shipment("6403.99.9065", "AU", day, 1000, inputs=Inputs(program="AU")))
    assert au.row["duty_mfn_usd"] == cents(1000 * special.ad_valorem_pct / 100) < q.row["duty_mfn_usd"]
    assert "program AU" in au.layers[0]["summary"]


def test_mpf_minimum_maximum_informal_and_fiscal_year(pricer: Pricer) -> None:
    last_fy25, first_fy26 = date(2025, 9, 30), date(2025, 10, 1)
    for day in (last_fy25, first_fy26):
        row = feemod.find("mpf", "formal", "any", day)
        assert row is not None and feemod.fiscal_year(day) == (2025 if day.month == 9 else 2026)
        low = quote(pricer, Shipment("8517.13.0000", "KR", day, 3000))
        high = quote(pricer, Shipment("8517.13.0000", "KR", day, 5_000_000))
        assert low.row["mpf_usd"] == row.min_usd and high.row["mpf_usd"] == row.max_usd
        inf = feemod.find("mpf", "informal_automated", "any", day)
        small = quote(pricer, Shipment("8517.13.0000", "KR", day, 2000))
        assert inf is not None and small.row["mpf_usd"] == inf.flat_usd and small.row["entry_type"] == "informal_automated"
        manual = quote(pricer, Shipment("8517.13.0000", "KR", day, 3000, entry_type="formal_manual"))
        sur = feemod.find("mpf_manual_surcharge", "formal", "any", day)
        assert sur is not None and manual.row["mpf_usd"] == round((row.min_usd or 0) + (sur.flat_usd or 0), 2)
    assert feemod.find("mpf", "formal", "any", last_fy25) != feemod.find("mpf", "formal", "any", first_fy26)
    exempt = quote(pricer, Shipment("8517.13.0000", "KR", first_fy26, 5000, mpf_exempt=True))
    assert exempt.row["mpf_usd"] == 0
    # every fee figure shows its source
    q = quote(pricer, Shipment("8517.13.0000", "KR", first_fy26, 5000, mode="ocean"))
    assert {f["fee"] for f in q.fees} == {"mpf", "hmf"} and all(f["source"] for f in q.fees)


def test_fee_file_validation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = feemod.read_fees()
    assert {r.fee for r in good} == {"mpf", "mpf_manual_surcharge", "hmf"}
    head = "fee,entry_type,mode,first,last,rate_pct,min_usd,max_usd,flat_usd,source,note\n"
    cases = {
        "mpf,formal,any,2025-10-01,2026-09-30,0.3464,40,30,,src,\n": "min_usd is above max_usd",
        "mpf,formal,any,2025-10-01,2026-09-30,0.3464,1,2,,,\n": "no source",
        "fee,formal,any,2025-10-01,,0.3,,,,src,\n": "unknown fee",
        "mpf,formal,any,2025-10-01,2025-01-01,0.3,,,,src,\n": "before first",
        "mpf,formal,any,2025-10-01,,,,,,src,\n": "exactly one of rate_pct and flat_usd",
        ("mpf,formal,any,2025-10-01,2026-09-30,0.3,,,,src,\n"
         "mpf,formal,any,2026-09-01,2027-09-30,0.3,,,,src,\n"): "overlap",
    }
    for body, message in cases.items():
        p = tmp_path / "fees.csv"
        p.write_text(head + body, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            feemod.read_fees(p)


def test_bad_values_are_specific(pricer: Pricer) -> None:
    for value, message in ((-5, "negative"), (5e12, "implausible")):
        with pytest.raises(BadInput, match=message):
            quote(pricer, Shipment("8517.13.0000", "KR", "2025-10-01", value))
    with pytest.raises(BadInput, match="outside the data"):
        quote(pricer, Shipment("8517.13.0000", "KR", "2024-06-01", 100))
    with pytest.raises(BadInput, match="after the newest law"):
        quote(pricer, Shipment("8517.13.0000", "KR", "2030-01-01", 100))
    with pytest.raises(BadInput, match="must be a positive number"):
        quote(pricer, Shipment("0406.90.1200", "FR", "2025-10-01", 12000, -1, "kg"))
