"""China's duty on one U.S. good over time: segments of constant layers, what changed, and a chart.

China's rates change only on the days a notice takes effect or a WTO date falls
(``ChinaEngine.change_days``), so the engine is asked once per such day and equal neighbours are
merged, as the U.S. timeline does with the model's boundaries.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from tariffstack.engine.cn import ChinaEngine, parse_when
from tariffstack.errors import BadInput
from tariffstack.models import CnLayer, CnRateResult

COLOURS = {"base": "#9e9e9e", "No.1 list": "#8c564b", "No.2 list": "#bcbd22", "all goods": "#d62728",
           "WTO residual": "#17becf"}


def layer_key(x: CnLayer) -> str:
    """The band a layer is drawn in: base, each notice's list, the all-goods tariff, the residual."""
    if x.layer == "cn_list":
        return (x.summary or "list").rstrip("?").split(":")[0]
    return {"base": "base", "cn_all": "all goods", "wto_residual": "WTO residual"}.get(x.layer, x.layer)


@dataclass
class CnSegment:
    """An interval over which China's duty on the good stayed the same."""

    valid_from: dt.date
    valid_until: dt.date
    total_pct: float | None
    upper_pct: float | None
    layers: dict[str, float]            # band -> percent paid (certain, not exempt)
    uncertain: dict[str, float]         # band -> percent if an uncertain list applies
    notices: list[str]
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"valid_from": self.valid_from.isoformat(), "valid_until": self.valid_until.isoformat(),
                "total_pct": self.total_pct, "upper_pct": self.upper_pct, "layers": self.layers,
                "uncertain": self.uncertain, "notices": self.notices, "changes": self.changes}


@dataclass
class CnTimeline:
    code: str
    level: str
    hs6: str
    description: str
    start: dt.date
    end: dt.date
    segments: list[CnSegment]
    several_lines: str | None
    follows: str

    def to_json(self) -> dict[str, Any]:
        return {"importer": "CN", "origin": "US", "code": self.code, "level": self.level, "hs6": self.hs6,
                "description": self.description, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "time_zone": "Asia/Shanghai (Beijing time)", "several_lines": self.several_lines,
                "follows": self.follows, "segments": [s.to_json() for s in self.segments]}


def _state(res: CnRateResult) -> tuple[Any, ...]:
    return tuple((x.layer, x.notice, x.rate_pct, x.exempt, x.certain) for x in res.layers)


def _short(number: str | None) -> str:
    """'税委会公告2025年第6号' -> 'No.6'; WTO data have no notice."""
    if number is None:
        return "WTO data"
    m = re.search(r"第\s*(\d+)\s*号", number)
    return f"No.{m.group(1)}{'?' if 'possibly' in number or 'not found' in number else ''}" if m else number


def _describe(old: CnRateResult, new: CnRateResult) -> list[str]:
    """Plain sentences for what differs between two consecutive answers."""
    out = []
    before = {(x.layer, x.notice, x.exempt): x for x in old.layers}
    after = {(x.layer, x.notice, x.exempt): x for x in new.layers}
    old_by_band = {(layer_key(x), x.exempt): x for x in old.layers}
    for key, x in after.items():
        was = before.get(key) or old_by_band.get((layer_key(x), x.exempt))
        rate = "?" if x.rate_pct is None else f"{x.rate_pct:g}%"
        what = f"{layer_key(x)}{' suspended' if x.exempt else ''}"
        src = _short(x.notice)
        if was is None:
            out.append(f"+ {what} {rate} ({src})")
        elif was.rate_pct == x.rate_pct and was.notice != x.notice:
            out.append(f"{what} {rate}, now under {src}")
        elif (was.rate_pct, was.notice) != (x.rate_pct, x.notice):
            old_rate = "?" if was.rate_pct is None else f"{was.rate_pct:g}%"
            out.append(f"{what} {old_rate} -> {rate} ({src})")
    for key, x in before.items():
        if key not in after and (layer_key(x), x.exempt) not in {(layer_key(y), y.exempt) for y in new.layers}:
            out.append(f"- {layer_key(x)}{' suspension' if x.exempt else ''} ends")
    return out


def cn_timeline(engine: ChinaEngine, code: str, start: dt.date | str | None = None,
                end: dt.date | str | None = None) -> CnTimeline:
    """Segments of constant duties for a U.S. good entering China between two Beijing-time days."""
    lo = parse_when(start) if start is not None else engine.first_date
    hi = parse_when(end) if end is not None else engine.last_date
    if isinstance(lo, dt.datetime) or isinstance(hi, dt.datetime):
        raise BadInput("a timeline runs over days: give --from and --to as YYYY-MM-DD")
    engine.check_when(lo)
    engine.check_when(hi)
    if hi < lo:
        raise BadInput(f"--from {lo.isoformat()} is after --to {hi.isoformat()}")
    days = [lo, *engine.change_days(lo, hi)]
    segs: list[CnSegment] = []
    prev: CnRateResult | None = None
    first: CnRateResult | None = None
    for k, day in enumerate(days):
        until = days[k + 1] - dt.timedelta(days=1) if k + 1 < len(days) else hi
        res = engine.rate(code, day)
        first = first or res
        if prev is not None and _state(res) == _state(prev):
            segs[-1].valid_until = until
            continue
        paid: dict[str, float] = {}
        unsure: dict[str, float] = {}
        for x in res.layers:
            if x.exempt or x.rate_pct is None:
                continue
            bucket = paid if x.certain else unsure
            bucket[layer_key(x)] = round(bucket.get(layer_key(x), 0.0) + x.rate_pct, 4)
        notices = list(dict.fromkeys(x.notice for x in res.layers if x.notice))
        segs.append(CnSegment(day, until, res.total_pct, res.upper_pct, paid, unsure, notices,
                              _describe(prev, res) if prev is not None else []))
        prev = res
    assert first is not None
    return CnTimeline(first.code, first.level, first.hs6, first.description, lo, hi, segs, first.several_lines,
                      first.follows)


def plot_cn_timeline(tl: CnTimeline, out: Path | IO[bytes], fmt: str = "png",
                     marks: list[tuple[dt.date, str]] | None = None) -> None:
    """A stacked step chart of the layers (matplotlib, no display); dashed: the total if uncertain lists apply."""
    if fmt not in ("png", "svg"):
        raise BadInput(f"unknown plot format {fmt!r}: use png or svg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.xaxis_date()
    segs = tl.segments
    days = [s.valid_from for s in segs] + [segs[-1].valid_until + dt.timedelta(days=1)]
    xs = [_num(d) for d in days]
    used = list(dict.fromkeys(k for s in segs for k in s.layers))
    base = [0.0] * len(xs)
    for name in used:
        vals = [s.layers.get(name, 0.0) for s in segs]
        vals.append(vals[-1])
        upper = [b + v for b, v in zip(base, vals, strict=True)]
        ax.fill_between(xs, base, upper, step="post", color=COLOURS.get(name, "#1f77b4"), label=name, linewidth=0)
        base = upper
    ax.step(xs, base, where="post", color="black", linewidth=0.8)
    if any(s.uncertain for s in segs):
        ups = [s.upper_pct if s.upper_pct is not None else float("nan") for s in segs]
        ax.step(xs, [*ups, ups[-1]], where="post", color="black", linestyle="--", linewidth=0.8,
                label="if the uncertain list applies")
    top = max([s.upper_pct or 0.0 for s in segs] + [1.0])
    for day, label in marks or []:
        if days[0] <= day <= days[-1]:
            ax.axvline(_num(day), color="#555555", linestyle=":", linewidth=0.8)
            ax.annotate(label, (_num(day), top * 1.12), fontsize=7, rotation=90, va="top", ha="right", color="#333333")
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("China's duty, % of value")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), fontsize=8, ncols=min(len(used) + 1, 5), frameon=False)
    what = f"HS8 {tl.code}" if tl.level == "HS8" else f"HS6 {tl.hs6[:4]}.{tl.hs6[4:]}"
    ax.set_title(f"China's duty on U.S. goods, {what}: {tl.description[:70]}", loc="left", fontsize=10)
    fig.savefig(out, format=fmt)


def _num(day: dt.date) -> float:
    """A day as matplotlib's date number (its dates module has no type hints)."""
    from matplotlib import dates

    return float(cast(Any, dates).date2num(day))


def notice_marks(engine: ChinaEngine) -> list[tuple[dt.date, str]]:
    """One mark per notice day (the notices that took effect that day), for charts."""
    days: dict[dt.date, list[str]] = {}
    for n in engine.china.notices:
        days.setdefault(n.effective.date(), []).append(n.short)
    return [(d, "/".join(v)) for d, v in sorted(days.items())]
