"""China's schedule on U.S. goods (engine/cn.py) on the real files in shared/china, plus small fixtures."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest

from tariffstack.engine.cn import ChinaEngine, CnInputs, describe_from_us, parse_when
from tariffstack.engine.cn_timeline import cn_timeline, notice_marks, plot_cn_timeline
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput, DateOutOfRange, UnknownProduct
from tariffstack.models import CnLayer, CnRateResult
from tariffstack.sources.china import ChinaTariffs

D = dt.date
T = dt.datetime
N = {i: f"税委会公告2025年第{i}号" for i in (1, 2, 4, 5, 6, 7, 9, 10, 12)}


@pytest.fixture(scope="module")
def cn(shared_dir: Path) -> ChinaEngine:
    return ChinaEngine.load(shared_dir / "china")


def _layers(res: CnRateResult, layer: str, *, exempt: bool | None = None) -> list[CnLayer]:
    return [x for x in res.layers if x.layer == layer and (exempt is None or x.exempt == exempt)]


def _wto(shared_dir: Path) -> dict[tuple[str, str], str]:
    with (shared_dir / "china" / "C156_C840.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["hs_code"].zfill(6), r["year_dt"]): r["best_avlbl"] for r in csv.DictReader(fh)}


# ---- the notices -----------------------------------------------------------------------------
def test_no1_coal_and_lng_15_from_feb_10(cn: ChinaEngine) -> None:
    before, on = cn.rate("27011210", D(2025, 2, 9)), cn.rate("27011210", D(2025, 2, 10))
    assert not _layers(before, "cn_list")
    [x] = _layers(on, "cn_list")
    assert (x.rate_pct, x.notice, x.certain, x.effective_to) == (15.0, N[1], True, None)
    assert "energynow.com" in (x.source or "") and on.total_pct == before.total_pct + 15
    # the HS6 answer is the WTO figure: 270112 (coking and other bituminous coal) 30.75 -> 45.75
    assert (cn.rate("270112", D(2025, 2, 10)).total_pct, cn.rate("270112", D(2025, 1, 1)).total_pct) == (45.75, 30.75)


def test_no1_annex2_known_only_by_its_wto_footprint(cn: ChinaEngine) -> None:
    """No.1 Annex 2 (crude oil, farm machinery, cars) is not transcribed: the WTO data place it."""
    fp = cn.footprint("No.1")
    by = {v: sorted(h for h, r in fp.items() if abs(r - v) < 0.01) for v in (15.0, 10.0)}
    assert len(by[15.0]) == 7 and all(h[:4] in ("2701", "2702", "2711") for h in by[15.0])
    assert len(by[10.0]) == 40 and "270900" in by[10.0] and "870324" in by[10.0]
    partial = sorted(h for h, r in fp.items() if r < 9.99)
    assert len(partial) == 8 and "870323" in partial and abs(fp["870323"] - 10 / 3) < 0.01
    # crude oil: every line of 270900 rose by 10, so its HS8 line pays it although no list has it
    [x] = _layers(cn.rate("27090000", D(2025, 3, 1)), "cn_list")
    assert x.rate_pct == 10.0 and x.certain and x.status.startswith("inferred from WTO data")
    # a car line in a partly covered HS6 of an untranscribed annex: uncertain, out of the total
    car = cn.rate("87032359", D(2025, 3, 1))
    [y] = _layers(car, "cn_list")
    assert not y.certain and car.upper_pct == car.total_pct + 10 and car.total_pct == 40.0


def test_no2_lists_from_mar_10_stopped_by_no9(cn: ChinaEngine) -> None:
    chicken = cn.rate("02071411", D(2025, 3, 10))
    [x] = _layers(chicken, "cn_list")
    assert (x.rate_pct, x.notice, x.effective_to) == (15.0, N[2], T(2025, 11, 10, 13, 1))
    assert not _layers(cn.rate("02071411", D(2025, 3, 9)), "cn_list")
    [soy] = _layers(cn.rate("12019011", D(2025, 6, 1)), "cn_list")
    assert soy.rate_pct == 10.0 and "chemlinked" in (soy.source or "")
    # No.9 stops No.2 from 13:01 Beijing time on Nov 10
    assert _layers(cn.rate("12019011", T(2025, 11, 10, 13, 0)), "cn_list")
    assert not _layers(cn.rate("12019011", T(2025, 11, 10, 13, 1)), "cn_list")
    assert not _layers(cn.rate("12019011", D(2025, 11, 10)), "cn_list")
    fp = cn.footprint(N[2])
    assert sum(abs(v - 10) < 0.01 for v in fp.values()) == 496 and sum(abs(v - 15) < 0.01 for v in fp.values()) == 18


@pytest.mark.parametrize("when, level, setter", [
    (T(2025, 4, 10, 12, 0), None, None),
    (T(2025, 4, 10, 12, 1), 84.0, 5),     # No.4 34% and No.5 84% took effect the same minute
    (D(2025, 4, 11), 84.0, 5),
    (D(2025, 4, 12), 125.0, 6),
    (T(2025, 5, 14, 12, 0), 125.0, 6),
    (T(2025, 5, 14, 12, 1), 10.0, 7),
    (D(2026, 3, 1), 10.0, 7),
])
def test_all_goods_tariff_by_the_minute(cn: ChinaEngine, when: dt.date, level: float | None,
                                        setter: int | None) -> None:
    paid = _layers(cn.rate("880240", when), "cn_all", exempt=False)
    if level is None:
        assert not paid
        return
    [x] = paid
    assert (x.rate_pct, x.notice) == (level, N[setter or 0])
    assert "No.4 34% from 2025-04-10 12:01" in x.reason


def test_no7_suspends_24_extended_by_no8_and_no10(cn: ChinaEngine) -> None:
    for day, notice, status in ((D(2025, 5, 20), N[7], "press translation"),
                                (D(2025, 9, 1), "(number not found; possibly 税委会公告2025年第8号)", "unverified"),
                                (D(2025, 12, 1), N[10], "notice text")):
        res = cn.rate("880240", day)
        [s] = _layers(res, "cn_all", exempt=True)
        assert (s.rate_pct, s.notice) == (24.0, notice) and s.status.startswith(status)
        assert res.total_pct == 13.0  # aircraft: 3 before 2025, plus 10; the 24 is not paid
    assert not _layers(cn.rate("880240", D(2025, 5, 13)), "cn_all", exempt=True)


def test_nov_10_changes_on_soybeans(cn: ChinaEngine) -> None:
    """No.9 removes No.2's 10% (the HS6 average: 4), No.10 keeps 10% with 24% suspended."""
    a, b = cn.rate("120190", D(2025, 11, 9)), cn.rate("120190", D(2025, 11, 10))
    assert (a.total_pct, b.total_pct) == (24.0, 20.0)
    assert [x.notice for x in _layers(b, "cn_all", exempt=True)] == [N[10]]


def test_in_transit_rules(cn: ChinaEngine) -> None:
    shipped = CnInputs(shipped=D(2025, 4, 1))
    res = cn.rate("880240", D(2025, 4, 15), shipped)
    [x] = _layers(res, "cn_all")
    assert x.exempt and "No.4's rule" in x.reason and res.total_pct == 3.0
    late = cn.rate("880240", D(2025, 5, 14), shipped)   # the window closed at 2025-05-13 24:00
    assert not _layers(late, "cn_all", exempt=False)[0].exempt
    assert not _layers(cn.rate("880240", D(2025, 4, 15), CnInputs(shipped=D(2025, 4, 11))), "cn_all")[0].exempt
    same_day = _layers(cn.rate("880240", D(2025, 4, 15), CnInputs(shipped=D(2025, 4, 10))), "cn_all")[0]
    assert not same_day.exempt and "give the minute" in same_day.reason
    assert _layers(cn.rate("880240", D(2025, 4, 15), CnInputs(shipped=T(2025, 4, 10, 12, 0))), "cn_all")[0].exempt
    # No.2: shipped before Mar 10 and imported by Apr 12 (inclusive)
    assert _layers(cn.rate("02071411", D(2025, 4, 12), CnInputs(shipped=D(2025, 3, 1))), "cn_list")[0].exempt
    assert not _layers(cn.rate("02071411", D(2025, 4, 13), CnInputs(shipped=D(2025, 3, 1))), "cn_list")[0].exempt
    with pytest.raises(BadInput, match="after the import date"):
        cn.rate("880240", D(2025, 4, 15), CnInputs(shipped=D(2025, 4, 16)))


# ---- the product lists -----------------------------------------------------------------------
def _annex_rows(shared_dir: Path) -> list[dict[str, str]]:
    with (shared_dir / "china" / "transcribed_annex_lines.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_transcribed_line_pays_its_annex_rate_from_its_date(cn: ChinaEngine, shared_dir: Path) -> None:
    rows = _annex_rows(shared_dir)
    assert len(rows) == 83
    for r in rows:
        day = D.fromisoformat(r["effective_date"])
        [x] = _layers(cn.rate(r["hs8_normalized"], day), "cn_list")
        assert (x.rate_pct, x.notice, x.certain) == (float(r["additional_rate_pct"]), r["announcement"], True), r
        assert not _layers(cn.rate(r["hs8_normalized"], day - dt.timedelta(days=1)), "cn_list")
        # and its HS6 rose on that date in the WTO data
        assert cn.footprint(r["announcement"]).get(r["hs8_normalized"][:6], 0) > 0


def test_annex_transcription_states(shared_dir: Path) -> None:
    china = ChinaTariffs.load(shared_dir / "china")
    states = {(n.short, a.annex): (a.rate_pct, a.transcription, len(a.lines))
              for n in china.list_notices() for a in china.annexes(n)}
    assert states == {("No.1", 1): (15.0, "complete", 8), ("No.1", 2): (10.0, "missing", 0),
                      ("No.2", 1): (15.0, "complete", 29), ("No.2", 2): (10.0, "partial", 46)}


def test_an_hs6_split_over_several_chinese_lines(cn: ChinaEngine) -> None:
    """Soybeans 120190: No.2 lists 2 of its lines, so its WTO average rose by 4, not 10."""
    hs6 = cn.rate("1201.90", D(2025, 4, 15))
    [x] = _layers(hs6, "cn_list")
    assert x.rate_pct == 4.0 and "2 of 5 lines" in (x.applies_to or "")
    assert hs6.total_pct == hs6.wto["best_avlbl"] == 139.0
    assert hs6.several_lines and "12019011, 12019019" in hs6.several_lines and "2/5 of 10%" in hs6.several_lines
    listed, unknown = cn.rate("12019011", D(2025, 4, 15)), cn.rate("12019020", D(2025, 4, 15))
    assert (listed.total_pct, listed.upper_pct) == (145.0, 145.0)
    assert (unknown.total_pct, unknown.upper_pct) == (135.0, 145.0)
    assert not _layers(unknown, "cn_list")[0].certain
    # half of 110320 (one line of No.2 Annex 1, 15%), a third of 841933 (No.1 Annex 2, 10%)
    assert "1/2 of 15%" in (cn.several_lines("110320") or "")
    assert "1/3 of 10%" in (cn.several_lines("841933") or "") and "not a rate China prints" in (cn.several_lines("841933") or "")
    assert cn.several_lines("880240") is None


# ---- the WTO data as the check of the whole --------------------------------------------------
def test_hs6_answers_equal_the_wto_figure_on_every_date(cn: ChinaEngine, shared_dir: Path) -> None:
    wto = _wto(shared_dir)
    checked = 0
    for (h, day), text in wto.items():
        got = cn.hs6_pct(h, D.fromisoformat(day))
        if text in ("", "NA"):
            assert got is None
            continue
        assert got is not None and abs(got - float(text)) < 1e-6, (h, day)
        checked += 1
    assert checked == 50_400  # 5,600 HS6 with data x 9 dates
    r = cn.rate("851713", D(2025, 5, 14))
    assert r.total_pct == 35.0 and not _layers(r, "wto_residual")


def test_residual_and_2026_base_from_a_changed_wto_file(tmp_path: Path, shared_dir: Path) -> None:
    """A WTO figure the notices do not explain shows as a residual; a 2026 change moves the base."""
    src = shared_dir / "china"
    for name in ("announcements_2025.csv", "transcribed_annex_lines.csv", "SOURCES.md"):
        shutil.copy(src / name, tmp_path / name)
    with (src / "C156_C840.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader if r["hs_code"] in ("880240", "120190", "270900")]
    for r in rows:
        if r["hs_code"] == "880240" and r["year_dt"] == "2025-05-14":
            r["best_avlbl"] = str(float(r["best_avlbl"]) + 3)
        if r["hs_code"] == "120190" and r["year_dt"] == "2026-05-01":
            r["best_avlbl"] = str(float(r["best_avlbl"]) - 2)
    with (tmp_path / "C156_C840.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        w.writerows(rows)
    e = ChinaEngine.load(tmp_path)
    res = e.rate("880240", D(2025, 6, 1))
    [x] = _layers(res, "wto_residual")
    assert x.rate_pct == 3.0 and "follows the WTO figure" in x.reason and res.total_pct == 16.0
    assert not _layers(e.rate("880240", D(2025, 11, 10)), "wto_residual")
    soy = e.rate("120190", D(2026, 1, 1))
    assert soy.total_pct == 18.0 and _layers(soy, "base")[0].notice == N[12]
    assert e.rate("120190", D(2025, 12, 31)).total_pct == 20.0


def test_no_wto_rate_means_no_total(cn: ChinaEngine) -> None:
    res = cn.rate("370241", D(2025, 4, 15))
    assert res.total_pct is None and res.total_additional_pct == 125.0
    assert _layers(res, "base")[0].rate_pct is None


# ---- what is press, what is law --------------------------------------------------------------
def test_press_exemptions_are_noted_never_applied(cn: ChinaEngine) -> None:
    res = cn.rate("300490", D(2025, 4, 20))
    assert res.total_pct == 127.0  # the 125% stays: the exemption list was never published
    [note] = [n for n in res.notes if n.startswith("not law")]
    assert "pharmaceuticals" in note and "never published" in note and "Reuters" in note
    ethylene = cn.rate("39011000", D(2025, 4, 20))
    assert any("unverified circulated list" in n for n in ethylene.notes)
    assert not any(n.startswith("not law") for n in cn.rate("120190", D(2025, 4, 20)).notes)
    assert all("official" not in x.status or "no official" in x.status for x in res.layers)
    assert any("no official government file" in n for n in res.notes)


def test_minute_of_a_notice_is_said(cn: ChinaEngine) -> None:
    res = cn.rate("880240", D(2025, 4, 10))
    assert any("No.4 and No.5 took effect at 12:01" in n and "2025-04-10T12:00" in n for n in res.notes)
    assert parse_when("2025-04-10T12:00") == T(2025, 4, 10, 12, 0) and parse_when("2025-04-10") == D(2025, 4, 10)
    with pytest.raises(BadInput, match="Beijing"):
        parse_when("10/04/2025")


# ---- product mapping and bad input -----------------------------------------------------------
def test_us_hts10_maps_to_its_hs6_with_description(engine: Engine, shared_dir: Path) -> None:
    e = ChinaEngine.load(shared_dir / "china", describe_from_us(engine.model.lines[-1]))
    res = e.rate("8517.13.0000", D(2025, 5, 2))
    assert (res.code, res.level, res.hs6, res.description) == ("851713", "HS6", "851713", "Smartphones")
    assert any("maps to HS6 8517.13" in n for n in res.notes)
    soy = e.rate("12019011", D(2025, 5, 2))
    assert soy.level == "HS8" and soy.path == ("Soybeans, whether or not broken:",)


@pytest.mark.parametrize("code, when, origin, error, text", [
    ("1201.90", D(2025, 4, 15), "CN", BadInput, "U.S.-origin goods only"),
    ("1201.90", D(2025, 4, 15), "Germany", BadInput, "Germany"),
    ("1201.90", D(2024, 12, 31), "US", DateOutOfRange, "outside China's data"),
    ("1201.90", D(2026, 6, 2), "US", DateOutOfRange, "downloaded in June 2026"),
    ("9801.00.1012", D(2025, 4, 15), "US", UnknownProduct, "not an HS chapter"),
    ("010110", D(2025, 4, 15), "US", UnknownProduct, "not in China's data"),
    ("1201", D(2025, 4, 15), "US", BadInput, "heading"),
    ("1201901", D(2025, 4, 15), "US", BadInput, "7 digits"),
    ("soy", D(2025, 4, 15), "US", BadInput, "malformed"),
])
def test_bad_input(cn: ChinaEngine, code: str, when: dt.date, origin: str, error: type[Exception],
                   text: str) -> None:
    with pytest.raises(error, match=text):
        cn.rate(code, when, origin=origin)


# ---- timelines ---------------------------------------------------------------------------------
def test_timeline_of_aircraft(cn: ChinaEngine, tmp_path: Path) -> None:
    tl = cn_timeline(cn, "8802.40", "2025-01-01", "2026-05-01")
    got = [(s.valid_from, s.total_pct) for s in tl.segments]
    assert got[:4] == [(D(2025, 1, 1), 3.0), (D(2025, 4, 10), 87.0), (D(2025, 4, 12), 128.0), (D(2025, 5, 14), 13.0)]
    assert tl.segments[-1].valid_until == D(2026, 5, 1)
    assert any("now under No.10" in c for s in tl.segments for c in s.changes)
    for a, b in zip(tl.segments, tl.segments[1:], strict=False):
        assert a.valid_until + dt.timedelta(days=1) == b.valid_from
    png = tmp_path / "a.png"
    plot_cn_timeline(tl, png, "png", notice_marks(cn))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(BadInput, match="over days"):
        cn_timeline(cn, "8802.40", "2025-04-10T12:00")
    with pytest.raises(BadInput, match="after"):
        cn_timeline(cn, "8802.40", "2025-05-01", "2025-04-01")


def test_timeline_shows_uncertain_lists(cn: ChinaEngine) -> None:
    tl = cn_timeline(cn, "12019020", "2025-03-01", "2025-04-30")
    s = next(s for s in tl.segments if s.valid_from == D(2025, 3, 10))
    assert (s.total_pct, s.upper_pct, s.uncertain) == (10.0, 20.0, {"No.2 list": 10.0})
