"""Headings a later revision prints with an earlier legal start also take their place among the
exceptions that later text gives them (law/apply.py ``backdated_exceptions``)."""

from __future__ import annotations

from datetime import date

from tariffstack.engine.us import Engine, Inputs


def _reciprocal(engine: Engine, hts: str, origin: str, day: date) -> list[tuple[str | None, float | None, bool]]:
    res = engine.rate(hts, origin, day, Inputs())
    return [(x.heading, x.rate_pct, x.exempt) for x in res.layers if x.layer == "ieepa_reciprocal"]


def test_japan_deal_applies_from_aug_7_on_goods_with_mfn_of_15_or_more(engine: Engine) -> None:
    """EO 14345 (Sept 4, 2025) put 9903.02.72 (MFN >= 15%: no reciprocal duty) in force from
    Aug 7, 2025; the revision in force on Aug 7 (rev 18) prints 9903.01.25 without it among its
    exceptions. Footwear at 20% MFN pays no reciprocal duty on any day from Aug 7."""
    for day in (date(2025, 8, 7), date(2025, 8, 31), date(2025, 9, 15), date(2025, 9, 16)):
        got = _reciprocal(engine, "6402.99.3290", "JP", day)
        assert got == [("9903.02.72", 0.0, True)], (day, got)
    assert engine.rate("6402.99.3290", "JP", date(2025, 8, 7), Inputs()).total_pct == 20


def test_japan_floor_and_the_day_before(engine: Engine) -> None:
    """Below 15% MFN the 15% all-in floor (9903.02.73) applies from the same day; the day
    before, the 10% baseline of 9903.01.25 (country rates started Aug 7)."""
    assert _reciprocal(engine, "9503.00.0073", "JP", date(2025, 8, 7)) == [("9903.02.73", 15.0, False)]
    before = _reciprocal(engine, "6402.99.3290", "JP", date(2025, 8, 6))
    assert before == [("9903.01.25", 10.0, False)]


def test_china_april_9_total_is_one_reciprocal_rate(engine: Engine) -> None:
    """9903.01.63 (printed later, in force from Apr 9) excepts China's goods from the 10%
    baseline that day: one reciprocal layer, not two."""
    got = _reciprocal(engine, "9503.00.0073", "CN", date(2025, 4, 9))
    assert got == [("9903.01.63", 84.0, False)], got
