"""Both sides of the U.S.-China tariff war: one product's duty each way over time, and the averages.

The U.S. side is the U.S. engine's stack on Chinese goods (and, for averages, the effective rate on
the ``china`` partner group, ``stats/effective.py``: GTAP sector weights spread over lines). China's
side is ``engine/cn.py`` (notices + WTO rates), averaged with the WTO file's imports column. The two
averages use different weights and different calendars (U.S. entry dates in Eastern time, China's in
Beijing time); docs/CHINA.md says what each weight is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import IO, Any, cast

import pyarrow.compute as pc

from tariffstack.engine.cn import ChinaEngine
from tariffstack.engine.cn_timeline import CnSegment, CnTimeline, cn_timeline
from tariffstack.engine.timeline import Segment, Timeline, timeline
from tariffstack.engine.us import Engine, parse_date, parse_hts
from tariffstack.errors import BadInput, DateOutOfRange, UnknownProduct
from tariffstack.panel import Panel
from tariffstack.stats.effective import compute
from tariffstack.stats.weights import Weights

# The turns of 2025 marked on every chart (both sides moved within days of each other).
EVENTS: tuple[tuple[dt.date, dt.date, str], ...] = (
    (dt.date(2025, 2, 4), dt.date(2025, 2, 4), "Feb 4: first U.S. fentanyl duty; China's No.1"),
    (dt.date(2025, 3, 4), dt.date(2025, 3, 4), "Mar 4: U.S. fentanyl duty raised; China's No.2"),
    (dt.date(2025, 4, 2), dt.date(2025, 4, 12), "Apr 2-12: reciprocal tariffs and escalation"),
    (dt.date(2025, 5, 14), dt.date(2025, 5, 14), "May 14: Geneva cuts"),
    (dt.date(2025, 11, 10), dt.date(2025, 11, 10), "Nov 10: November 2025 deal"),
)
CHINA = "china"                 # the partner group of the U.S. weights
US_LABEL = "U.S. duty on Chinese goods"
CN_LABEL = "China's duty on U.S. goods"
US_WEIGHTS = ("U.S. imports from China by GTAP sector (Yale Budget Lab weights, millions of USD, year not "
              "stated), spread equally over the HTS-10 lines of each sector (docs/EFFECTIVE.md)")
CN_WEIGHTS = ("the WTO export's 'imports' column per HS6 (China's imports from the U.S.; unit not stated, "
              "values consistent with U.S. dollars; the same on every 2025 date, zero on 2026-05-01, "
              "where the 2025 column is used; year not stated)")


# ---- one product, both ways -------------------------------------------------------------------
@dataclass
class WarRow:
    """An interval over which neither side's duty on the product changed."""

    valid_from: dt.date
    valid_until: dt.date
    us_total: float | None
    us_layers: dict[str, float]
    cn_total: float | None
    cn_upper: float | None
    cn_layers: dict[str, float]
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"valid_from": self.valid_from.isoformat(), "valid_until": self.valid_until.isoformat(),
                "us_total_pct": self.us_total, "us_layers": self.us_layers, "cn_total_pct": self.cn_total,
                "cn_upper_pct": self.cn_upper, "cn_layers": self.cn_layers, "changes": self.changes}


@dataclass
class WarProduct:
    hts10: str
    description: str
    hs6: str
    cn_description: str
    start: dt.date
    end: dt.date
    rows: list[WarRow]
    us: Timeline
    cn: CnTimeline
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "hts10": self.hts10, "description": self.description, "hs6": self.hs6,
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "us": {"importer": "US", "origin": "CN", "label": US_LABEL, "calendar": "entry date (U.S. Eastern time)"},
            "cn": {"importer": "CN", "origin": "US", "label": CN_LABEL, "calendar": "Beijing time",
                   "level": self.cn.level, "several_lines": self.cn.several_lines, "follows": self.cn.follows},
            "rows": [r.to_json() for r in self.rows], "notes": self.notes,
            "us_timeline": self.us.to_json(), "cn_timeline": self.cn.to_json(),
        }


def common_range(us: Engine, cn: ChinaEngine, start: str | dt.date | None,
                 end: str | dt.date | None) -> tuple[dt.date, dt.date]:
    """The dates both sides cover, or a specific error naming the side that lacks them."""
    first = max(us.model.first_date, cn.first_date)
    last = min(us.model.last_date, cn.last_date)
    lo = parse_date(start) if start is not None else first
    hi = parse_date(end) if end is not None else last
    for day in (lo, hi):
        cn.check_when(day)
        us.check_date(day)
    if hi < lo:
        raise BadInput(f"--from {lo.isoformat()} is after --to {hi.isoformat()}")
    return lo, hi


def us_line_for(us: Engine, code: str, day: dt.date) -> str:
    """The U.S. HTS-10 line for a war query; an HS6 with a single U.S. line stands for it."""
    d = parse_hts(code)
    if len(d) in (8, 10):
        return us.line(code, day).hts10
    lines = us.model.lines[us.model.revision_on(day)]
    tens = {k for k in lines if k.startswith(d) and len(k) == 10}
    eights = {k for k in lines if k.startswith(d) and len(k) == 8 and not any(t.startswith(k) for t in tens)}
    under = sorted({lines[k].hts10 for k in tens | eights})
    if len(under) == 1:
        return under[0]
    if not under:
        raise UnknownProduct(f"HS {code} has no line in the U.S. schedule in force on {day}: it exists on "
                             "China's side only")
    raise BadInput(f"HS {code} holds {len(under)} U.S. lines: give one HTS-10 code, e.g. "
                   f"{', '.join(under[:4])}{' ...' if len(under) > 4 else ''}")


def product(us: Engine, cn: ChinaEngine, code: str, start: str | dt.date | None = None,
            end: str | dt.date | None = None) -> WarProduct:
    """The U.S. stack on Chinese goods and China's duty on U.S. goods for one product, on every date."""
    lo, hi = common_range(us, cn, start, end)
    hts10 = us_line_for(us, code, hi)
    hs6 = parse_hts(hts10)[:6]
    if not cn.has_hs6(hs6):
        raise UnknownProduct(f"HTS {hts10} is on the U.S. side only: its HS6 {hs6[:4]}.{hs6[4:]} is not in China's "
                             "data (the WTO export of China's rates on U.S. goods)")
    us_tl = timeline(us, hts10, ["CN"], lo, hi)
    cn_tl = cn_timeline(cn, hs6, lo, hi)
    rows = _merge(us_tl.origins["CN"], cn_tl.segments, hi)
    notes = [f"U.S. line {hts10} and China's HS6 {hs6[:4]}.{hs6[4:]}: the first six digits are shared; China's "
             "side is its HS6 figure (the WTO average over its 8-digit lines)",
             "U.S. dates are entry dates (Eastern time), China's are Beijing time: a notice effective at 12:01 "
             "in Beijing falls on the previous evening in Washington"]
    if cn_tl.several_lines:
        notes.append(cn_tl.several_lines)
    return WarProduct(us_tl.hts10, us_tl.description, hs6, cn_tl.description, lo, hi, rows, us_tl, cn_tl, notes)


def _merge(us_segs: list[Segment], cn_segs: list[CnSegment], hi: dt.date) -> list[WarRow]:
    starts = sorted({s.valid_from for s in us_segs} | {s.valid_from for s in cn_segs})
    rows: list[WarRow] = []
    for k, day in enumerate(starts):
        until = starts[k + 1] - dt.timedelta(days=1) if k + 1 < len(starts) else hi
        u = next(s for s in us_segs if s.valid_from <= day <= s.valid_until)
        c = next(s for s in cn_segs if s.valid_from <= day <= s.valid_until)
        changes = ([f"U.S.: {x}" for x in u.changes] if u.valid_from == day and k else []) + \
                  ([f"China: {x}" for x in c.changes] if c.valid_from == day and k else [])
        rows.append(WarRow(day, until, u.total_pct, {n: v for n, v in u.layers.items() if v}, c.total_pct,
                           c.upper_pct, dict(c.layers), changes))
    return rows


# ---- the averages ------------------------------------------------------------------------------
def china_only(weights: Weights) -> Weights:
    """The weights of the ``china`` group alone: the same China figures, without computing the others.

    Each product x origin row weighs W(sector, group) / lines / countries(group), so dropping the
    other groups changes nothing for China and halves the work (tests compare both)."""
    return replace(weights, sectors=weights.sectors.filter(pc.equal(weights.sectors["partner"], CHINA)),
                   countries=weights.countries.filter(pc.equal(weights.countries["partner"], CHINA)))


def _us_rows(panel: Panel, weights: Weights, lo: dt.date, hi: dt.date | None = None) -> list[dict[str, Any]]:
    eff = compute(panel, china_only(weights), lo, hi)
    return [r for r in eff.rows("partner") if r["key"] == CHINA]


def us_average(panel: Panel, weights: Weights, day: dt.date) -> dict[str, Any]:
    """The U.S. import-weighted duty on Chinese goods on a day (the ``china`` partner group)."""
    row = _us_rows(panel, weights, day)[0]
    return {"date": day.isoformat(), "total_pct": row["total"], "additional_pct": row["additional"],
            "mfn_pct": row["mfn"], "weight_musd": row["weight_musd"]}


def wto_date_averages(cn: ChinaEngine, panel: Panel, weights: Weights,
                      us_rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Both averages on each WTO date (the days China's applied rates are measured).

    ``us_rows``: the U.S. series already computed (``both_averages``), read instead of recomputing."""
    out = []
    for day in cn.wto_dates:
        c = cn.average(day)
        row: dict[str, Any] = {"date": day.isoformat(), "cn_total_pct": c["total_pct"],
                               "cn_additional_pct": c["additional_pct"], "cn_wto_pct": cn.wto_average(day),
                               "cn_weights_from": c["weights_from"], "cn_excluded_hs6": c["excluded_hs6"]}
        try:
            if us_rows is not None:
                u = next((r for r in us_rows if r["date"] <= day <= r["until"]), None)
                if u is None:
                    panel.check_date(day)
                    raise BadInput(f"{day} is outside the U.S. series")
                us = {"total_pct": u["total"], "additional_pct": u["additional"], "mfn_pct": u["mfn"]}
            else:
                us = us_average(panel, weights, day)
            row.update(us_total_pct=us["total_pct"], us_additional_pct=us["additional_pct"],
                       us_mfn_pct=us["mfn_pct"])
        except BadInput as exc:  # a date outside the U.S. panel
            row.update(us_total_pct=None, us_additional_pct=None, us_mfn_pct=None, us_note=str(exc))
        out.append(row)
    return out


def both_averages(cn: ChinaEngine, panel: Panel, weights: Weights) -> tuple[list[dict[str, Any]], Series]:
    """The nine WTO dates and the whole series, with one U.S. computation over the common range."""
    lo, hi = max(panel.first_date, cn.first_date), min(panel.last_date, cn.last_date)
    us_rows = _us_rows(panel, weights, lo, hi)
    return wto_date_averages(cn, panel, weights, us_rows), average_series(cn, panel, weights, lo, hi, us_rows)


@dataclass
class Series:
    """Step series of both averages: (first day, last day, percent) per interval."""

    us: list[tuple[dt.date, dt.date, float]]
    cn: list[tuple[dt.date, dt.date, float]]
    start: dt.date
    end: dt.date

    def clip(self, lo: dt.date | None, hi: dt.date | None) -> Series:
        """The same steps over a sub-range (a step series clipped is the series of the sub-range)."""
        a, b = lo or self.start, hi or self.end
        if a < self.start or b > self.end:
            raise DateOutOfRange(f"both averages are known from {self.start} to {self.end} (the dates both "
                                 f"sides' data cover), not {a} to {b}")
        if b < a:
            raise BadInput(f"--from {a.isoformat()} is after --to {b.isoformat()}")

        def cut(rows: list[tuple[dt.date, dt.date, float]]) -> list[tuple[dt.date, dt.date, float]]:
            return [(max(x, a), min(y, b), v) for x, y, v in rows if y >= a and x <= b]

        return Series(cut(self.us), cut(self.cn), a, b)

    def to_json(self) -> dict[str, Any]:
        def rows(s: list[tuple[dt.date, dt.date, float]]) -> list[dict[str, Any]]:
            return [{"from": a.isoformat(), "until": b.isoformat(), "pct": v} for a, b, v in s]

        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "us": {"label": US_LABEL, "weights": US_WEIGHTS, "rows": rows(self.us)},
                "cn": {"label": CN_LABEL, "weights": CN_WEIGHTS, "rows": rows(self.cn)}}


def average_series(cn: ChinaEngine, panel: Panel, weights: Weights, start: dt.date | None = None,
                   end: dt.date | None = None, us_rows: list[dict[str, Any]] | None = None) -> Series:
    """Both averages over every interval of constant rates between two dates (both sides' data)."""
    lo = start or max(panel.first_date, cn.first_date)
    hi = end or min(panel.last_date, cn.last_date)
    for day in (lo, hi):
        cn.check_when(day)
        panel.check_date(day)
    if hi < lo:
        raise BadInput(f"--from {lo.isoformat()} is after --to {hi.isoformat()}")
    rows = us_rows if us_rows is not None else _us_rows(panel, weights, lo, hi)
    us = [(max(r["date"], lo), min(r["until"], hi), r["total"]) for r in rows if r["until"] >= lo and r["date"] <= hi]
    days = [lo, *cn.change_days(lo, hi)]
    cn_rows: list[tuple[dt.date, dt.date, float]] = []
    for k, day in enumerate(days):
        until = days[k + 1] - dt.timedelta(days=1) if k + 1 < len(days) else hi
        v = cn.average(day)["total_pct"]
        if cn_rows and abs(cn_rows[-1][2] - v) < 1e-9:
            cn_rows[-1] = (cn_rows[-1][0], until, v)
        else:
            cn_rows.append((day, until, v))
    return Series(_squash(us), cn_rows, lo, hi)


def _squash(rows: list[tuple[dt.date, dt.date, float]]) -> list[tuple[dt.date, dt.date, float]]:
    out: list[tuple[dt.date, dt.date, float]] = []
    for a, b, v in rows:
        if out and abs(out[-1][2] - v) < 1e-9:
            out[-1] = (out[-1][0], b, v)
        else:
            out.append((a, b, v))
    return out


# ---- charts ------------------------------------------------------------------------------------
def _num(day: dt.date) -> float:
    from matplotlib import dates

    return float(cast(Any, dates).date2num(day))


def _mark_events(ax: Any, lo: dt.date, hi: dt.date, top: float) -> None:
    for a, b, label in EVENTS:
        if b < lo or a > hi:
            continue
        if a == b:
            ax.axvline(_num(a), color="#555555", linestyle=":", linewidth=0.9)
        else:
            ax.axvspan(_num(a), _num(b + dt.timedelta(days=1)), color="#999999", alpha=0.18, linewidth=0)
        ax.annotate(label, (_num(a), top), fontsize=7, rotation=90, va="top", ha="right", color="#333333")


def _steps(ax: Any, rows: list[tuple[dt.date, dt.date, float | None]], **kw: Any) -> None:
    if not rows:
        return
    xs = [_num(a) for a, _, _ in rows] + [_num(rows[-1][1] + dt.timedelta(days=1))]
    ys = [float("nan") if v is None else v for _, _, v in rows]
    ax.step(xs, [*ys, ys[-1]], where="post", **kw)


def plot_product(wp: WarProduct, out: IO[bytes] | Any, fmt: str = "png") -> None:
    """Both sides' duty on one product over time, with the events marked."""
    if fmt not in ("png", "svg"):
        raise BadInput(f"unknown plot format {fmt!r}: use png or svg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.xaxis_date()
    us = [(r.valid_from, r.valid_until, r.us_total) for r in wp.rows]
    cn = [(r.valid_from, r.valid_until, r.cn_total) for r in wp.rows]
    top = max([v or 0.0 for _, _, v in us + cn] + [1.0]) * 1.18
    _mark_events(ax, wp.start, wp.end, top * 0.98)
    _steps(ax, us, color="#1f4e9c", linewidth=2.2, label=f"{US_LABEL} (HTS {wp.hts10})")
    _steps(ax, cn, color="#c62828", linewidth=2.2, label=f"{CN_LABEL} (HS6 {wp.hs6[:4]}.{wp.hs6[4:]})")
    if any(r.cn_upper != r.cn_total for r in wp.rows):
        _steps(ax, [(r.valid_from, r.valid_until, r.cn_upper) for r in wp.rows], color="#c62828",
               linestyle="--", linewidth=1, label="China, if uncertain lists apply")
    ax.set_ylim(0, top)
    ax.set_ylabel("duty, % of value")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), fontsize=8, ncols=2, frameon=False)
    ax.set_title(f"Both sides: {wp.description[:60]} (HTS {wp.hts10})", loc="left", fontsize=10)
    fig.savefig(out, format=fmt)


def plot_averages(series: Series, out: IO[bytes] | Any, fmt: str = "png") -> None:
    """The two import-weighted averages over time, with the events marked."""
    if fmt not in ("png", "svg"):
        raise BadInput(f"unknown plot format {fmt!r}: use png or svg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.xaxis_date()
    top = max([v for _, _, v in series.us + series.cn] + [1.0]) * 1.18
    _mark_events(ax, series.start, series.end, top * 0.98)
    _steps(ax, cast(list[tuple[dt.date, dt.date, float | None]], series.us), color="#1f4e9c", linewidth=2.2,
           label=f"{US_LABEL} (import-weighted, GTAP sector weights)")
    _steps(ax, cast(list[tuple[dt.date, dt.date, float | None]], series.cn), color="#c62828", linewidth=2.2,
           label=f"{CN_LABEL} (import-weighted, WTO imports column)")
    ax.set_ylim(0, top)
    ax.set_ylabel("average duty, % of value")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), fontsize=8, ncols=2, frameon=False)
    ax.set_title("Average tariff each way: U.S. on China, China on the U.S.", loc="left", fontsize=10)
    fig.savefig(out, format=fmt)
