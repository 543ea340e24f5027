"""De minimis and the postal duties, on the first and last day of every rule in the data files."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from tariffstack.calc import Pricer, Shipment, quote
from tariffstack.calc.formula import cents
from tariffstack.calc.lowvalue import BANDS, de_minimis, postal_rows, read_postal
from tariffstack.engine.us import Engine
from tariffstack.errors import DataError
from tariffstack.law.events import load_de_minimis

PRODUCT = "6109.10.0012"  # cotton T-shirts: plain ad valorem rates, no Annex II exemption


@pytest.fixture(scope="module")
def pricer(engine: Engine) -> Pricer:
    return Pricer(engine, assume_unchanged=True)


def _in_data(engine: Engine, day: date | None) -> bool:
    return day is not None and engine.model.first_date <= day <= engine.model.last_date


def test_de_minimis_on_every_rules_first_and_last_day(pricer: Pricer, engine: Engine) -> None:
    rules = load_de_minimis()
    named = {c for r in rules if r.countries for c in r.countries}
    checked = 0
    for r in rules:
        origin = sorted(r.countries)[0] if r.countries else "DE"
        assert r.countries or origin not in named
        for day in (r.effective, r.last):
            if not _in_data(engine, day):
                continue
            q = quote(pricer, Shipment(PRODUCT, origin, day, 100, mode="air"))
            assert q.de_minimis["rule"] == r.id and q.row["de_minimis"] is r.eligible, (r.id, day)
            if r.eligible:
                assert q.row["duty_usd"] == 0 and q.row["mpf_usd"] == 0
            else:
                assert q.row["duty_usd"] > 0
            # above the threshold the exemption never holds
            assert quote(pricer, Shipment(PRODUCT, origin, day, r.threshold_usd + 1, mode="air")).row["de_minimis"] is False
            checked += 1
        if r.last is not None and _in_data(engine, r.last + timedelta(days=1)):
            after = quote(pricer, Shipment(PRODUCT, origin, r.last + timedelta(days=1), 100, mode="air"))
            assert after.de_minimis["rule"] != r.id, r.id
    assert checked >= 8


def test_vectorised_de_minimis_agrees_with_the_engine(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    origins = np.array(["CN", "HK", "DE", "MX", "VN", "BR"], dtype=object)[rng.integers(0, 6, 400)]
    first = np.datetime64(engine.model.first_date, "D")
    days = first + rng.integers(0, (engine.model.last_date - engine.model.first_date).days + 1, 400)
    values = rng.choice([50.0, 799.0, 800.0, 801.0, 5000.0], 400)
    got = de_minimis(origins, days, values)
    for o, d, v, e in zip(origins, days, values, got.eligible, strict=True):
        assert bool(engine.de_minimis(o, str(d), float(v)).eligible) is bool(e), (o, d, v)


def _ieepa_pct(engine: Engine, origin: str, day: date) -> float:
    res = engine.rate(PRODUCT, origin, day)
    return sum(x.rate_pct or 0 for x in res.layers
               if x.layer in ("ieepa_fentanyl", "ieepa_reciprocal", "ieepa_other") and not x.exempt)


def test_postal_options_on_every_rows_first_and_last_day(pricer: Pricer, engine: Engine) -> None:
    checked = 0
    for r in postal_rows():
        origin = sorted(r.origins)[0] if r.origins else "VN"
        for day in (r.first, r.last):
            if not _in_data(engine, day) or r.method == "unconfirmed":
                continue
            assert day is not None
            method = "specific" if r.method.startswith("specific") else "ad_valorem"
            q = quote(pricer, Shipment(PRODUCT, origin, day, 300, mode="postal", items=2, postal_method=method))
            ieepa = _ieepa_pct(engine, origin, day)
            if r.method in BANDS:
                band_rate = next((x.rate_pct for x in postal_rows() if x.method == "ad_valorem_ieepa"
                                  and x.origins and origin in x.origins and x.first <= day <= (x.last or day)
                                  and x.rate_pct is not None), ieepa)
                want = BANDS[0 if band_rate < 16 else 1 if band_rate <= 25 else 2]
                if r.method != want:
                    continue
            assert q.row["postal"] is True and q.row["de_minimis"] is False, (r.key, day)
            if method == "specific":
                assert q.row["postal_duty_usd"] == cents((r.amount_usd or 0) * 2), (r.key, day)
            else:
                rate = r.rate_pct if r.rate_pct is not None else ieepa
                assert q.row["postal_duty_usd"] == cents(300 * rate / 100), (r.key, day)
            # the postal duty replaces the stack; the other option is shown beside it
            assert q.row["duty_usd"] == q.row["postal_duty_usd"] and q.postal is not None
            assert q.postal["chosen"]["source"] == r.source
            checked += 1
    assert checked >= 10


def test_postal_edges(pricer: Pricer) -> None:
    # the day before China lost de minimis: free; the day it did: the postal duty
    before = quote(pricer, Shipment(PRODUCT, "CN", "2025-05-01", 300, mode="postal"))
    assert before.row["de_minimis"] is True and before.row["duty_usd"] == 0
    # an item above $800 is not a postal item of the orders: a normal entry with every duty
    big = quote(pricer, Shipment(PRODUCT, "CN", "2025-06-01", 900, mode="postal"))
    assert big.row["postal"] is False and big.row["duty_usd"] > 0
    # the Section 122 postal rate has no per-item option: asking for it falls back, said so
    s122 = quote(pricer, Shipment(PRODUCT, "VN", "2026-02-24", 300, mode="postal", postal_method="specific"))
    assert s122.row["postal"] and s122.row["postal_duty_usd"] == 30.0
    assert any("no per-item option" in n for n in s122.notes)
    # past Jul 23, 2026 the postal basis is unconfirmed: priced with all duties, flagged
    late = quote(pricer, Shipment(PRODUCT, "VN", "2026-08-01", 300, mode="postal"))
    assert late.row["postal"] is False and any("not confirmed" in n for n in late.notes)


def test_postal_file_validation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert len(read_postal()) >= 10
    head = "origin,first,last,method,amount_usd,rate_pct,source,note\n"
    for body, message in (("CN,2025-05-02,,specific_per_item,,,src,\n", "needs amount_usd"),
                          ("CN,2025-05-02,,weird,,,src,\n", "unknown method"),
                          ("CN,2025-05-02,2025-01-01,ad_valorem,,5,src,\n", "before first"),
                          ("CN,2025-05-02,,ad_valorem,,5,,\n", "no source"),
                          ("Narnia,2025-05-02,,ad_valorem,,5,src,\n", "origin")):
        p = tmp_path / "postal.csv"
        p.write_text(head + body, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            read_postal(p)
