"""One validity convention for every rule kind: the first and the last day in force of each rule,
as the package's data files state them, and the day after (law/validity.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tariffstack.engine.us import Engine
from tariffstack.law.events import load_de_minimis, load_events, load_stacking
from tariffstack.law.registry import load_registry
from tariffstack.law.validity import Validity

ONE = timedelta(days=1)


def test_validity_from_last_day_and_back() -> None:
    v = Validity.from_last(date(2025, 5, 2), date(2025, 5, 13))
    assert (v.start, v.end, v.last) == (date(2025, 5, 2), date(2025, 5, 14), date(2025, 5, 13))
    assert v.contains(date(2025, 5, 2)) and v.contains(date(2025, 5, 13))
    assert not v.contains(date(2025, 5, 1)) and not v.contains(date(2025, 5, 14))
    assert Validity(None, None).contains(date(1900, 1, 1))
    with pytest.raises(ValueError, match="cannot end"):
        Validity(date(2025, 5, 2), date(2025, 5, 1))


def test_intersect_is_half_open() -> None:
    a = Validity(date(2025, 1, 1), date(2025, 3, 1))
    assert a.intersect(Validity(date(2025, 3, 1), None)) is None           # touching, no shared day
    assert a.intersect(Validity(date(2025, 2, 28), None)) == Validity(date(2025, 2, 28), date(2025, 3, 1))
    assert a.intersect(Validity(None, None)) == a


def _rule_days(first: date | None, last: date | None) -> list[tuple[date, bool]]:
    days = []
    if first is not None:
        days += [(first, True), (first - ONE, False)]
    if last is not None:
        days += [(last, True), (last + ONE, False)]
    return days


@pytest.mark.parametrize("rule", load_de_minimis(), ids=lambda r: r.id)
def test_de_minimis_rule_first_and_last_day(rule, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """On its first and last day a rule decides the answer; the day after, it does not."""
    origin = "CN" if rule.countries is None or "CN" in rule.countries else sorted(rule.countries)[0]
    for day, inside in _rule_days(rule.effective, rule.last):
        assert rule.covers(origin, day) is inside, (rule.id, day)
        if inside and engine.model.first_date <= day:
            got = engine.de_minimis(origin, day, value_usd=100.0)
            winners = [r for r in load_de_minimis() if r.covers(origin, day)]
            winners.sort(key=lambda r: (r.countries is not None, r.effective))
            if winners[-1] is rule:
                assert got.source == rule.citation, (rule.id, day)
                assert got.eligible is rule.eligible, (rule.id, day)


def test_the_de_minimis_answer_changes_the_day_after_the_last_day(engine: Engine) -> None:
    """The bug this convention fixed: CN/HK de minimis ended on May 2, 2025 and stayed ended."""
    ended = next(r for r in load_de_minimis() if r.id == "dm-cn-hk-ended")
    assert ended.last is not None
    for day in (ended.effective, ended.last, ended.last + ONE):
        assert engine.de_minimis("CN", day, value_usd=100.0).eligible is False, day
    before = engine.de_minimis("CN", ended.effective - ONE, value_usd=100.0)
    assert before.eligible is True


@pytest.mark.parametrize("rule", load_stacking(), ids=lambda r: r.id)
def test_stacking_rule_first_and_last_day(rule) -> None:  # type: ignore[no-untyped-def]
    origin = "CN" if rule.countries is None or "CN" in rule.countries else sorted(rule.countries)[0]
    for day, inside in _rule_days(rule.validity.start, rule.validity.last):
        assert rule.in_force(origin, day) is inside, (rule.id, day)


@pytest.mark.parametrize("event", [e for e in load_events() if e.action == "terminate"],
                         ids=lambda e: e.id)
def test_terminated_heading_is_in_force_the_day_before_only(event, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """A terminate event ends every version of its headings on its day: the day before is the
    last day in force."""
    model = engine.model
    if not model.first_date < event.effective <= model.last_date:
        pytest.skip("outside the data")
    ended = [v for vs in model.measures.values() for v in vs
             if v.validity.end == event.effective and v.status == "active"]
    assert ended, event.id
    for v in ended:
        assert v.active_on(event.effective - ONE) and not v.active_on(event.effective)


def test_registry_records_cover_first_to_last_day() -> None:
    records = [r for rs in load_registry().by_heading.values() for r in rs if r.first or r.last]
    assert records
    for r in records:
        wide_lo = (r.first or r.last or date(2025, 1, 1)) - 30 * ONE
        wide_hi = None if r.last is None else r.last + 30 * ONE
        assert r.covers(wide_lo, wide_hi) == (r.first or wide_lo, r.validity.end)
        if r.last is not None:   # a period starting the day after the last day shares none
            assert r.covers(r.last + ONE, None) is None
            assert r.covers(r.last, None) == (r.last, r.last + ONE)


def test_layers_show_the_last_day_in_force(engine: Engine) -> None:
    """A layer's effective_to is the last day its heading version is in force (inclusive)."""
    from tariffstack.engine.us import Inputs

    res = engine.rate("8517.13.0000", "CN", date(2025, 5, 2), Inputs())
    recip = next(x for x in res.layers if x.layer == "ieepa_reciprocal")
    assert recip.effective_to is not None
    v = engine.model.measure_on(recip.heading, date(2025, 5, 2))
    assert v is not None and v.validity.last == recip.effective_to
    assert v.active_on(recip.effective_to) and not v.active_on(recip.effective_to + ONE)
