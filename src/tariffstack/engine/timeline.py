"""Timelines: how one product's duty stack moved over time for some origins, and why.

Rates only change on the model's boundaries (``Model.boundaries``), so the engine is asked once
per boundary and equal neighbours are merged. Each segment says what changed at its start: which
headings came in or went out (with their revision and the text's effective date) and MFN moves.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from tariffstack.engine.us import Engine, parse_date
from tariffstack.errors import BadInput, UnknownProduct
from tariffstack.law import countries
from tariffstack.models import LAYER_ORDER, LAYER_TITLES, RateResult

MAX_ORIGINS = 12
# one colour per layer, chosen to stay distinguishable when stacked
LAYER_COLOURS = {
    "mfn": "#9e9e9e", "s301": "#d62728", "s232": "#1f77b4", "ieepa_fentanyl": "#9467bd",
    "ieepa_reciprocal": "#ff7f0e", "ieepa_other": "#8c564b", "s122": "#2ca02c", "s201": "#e377c2",
    "other": "#17becf",
}


@dataclass
class Segment:
    """An interval over which the product's duties from one origin stayed the same."""

    valid_from: date
    valid_until: date
    total_pct: float | None                     # None: the line is not in the schedule
    layers: dict[str, float]                    # layer -> summed ad valorem percent
    headings: list[str]                         # imposing headings (and the MFN rate line)
    revision: str | None
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid_from": self.valid_from.isoformat(), "valid_until": self.valid_until.isoformat(),
            "total_pct": self.total_pct, "layers": self.layers, "headings": self.headings,
            "revision": self.revision, "changes": self.changes,
        }


@dataclass
class Timeline:
    hts10: str
    description: str
    start: date
    end: date
    origins: dict[str, list[Segment]]

    def to_json(self) -> dict[str, Any]:
        return {
            "hts10": self.hts10, "description": self.description,
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "origins": {iso: [s.to_json() for s in segs] for iso, segs in self.origins.items()},
        }


def _state(res: RateResult | None) -> tuple[Any, ...]:
    if res is None:
        return ()
    # the legal content only: a heading or line merely restated in a new revision is no change
    return tuple((x.layer, x.heading, x.rate_pct, x.specific, x.exempt) for x in res.layers)


def _describe(old: RateResult | None, new: RateResult | None) -> list[str]:
    """Plain sentences for what differs between two consecutive stacks."""
    if old is None and new is None:
        return []
    if new is None:
        return ["the line is no longer in the schedule"]
    if old is None:
        return [f"line {new.hts10} in force ({new.revision})"]
    out = []
    before = {(x.layer, x.heading): x for x in old.layers if not x.exempt}
    after = {(x.layer, x.heading): x for x in new.layers if not x.exempt}
    for key, x in after.items():
        was = before.get(key)
        rate = f"{x.rate_pct:g}%" if x.rate_pct is not None else (x.specific or "?")
        if was is None:
            since = f", effective {x.effective_from.isoformat()}" if x.effective_from else ""
            out.append(f"+ {x.heading} {x.layer} {rate} ({x.revision}{since})")
        elif (was.rate_pct, was.specific) != (x.rate_pct, x.specific):
            old_rate = f"{was.rate_pct:g}%" if was.rate_pct is not None else (was.specific or "?")
            out.append(f"{x.heading} {x.layer} {old_rate} -> {rate} ({x.revision})")
    for key, x in before.items():
        if key not in after:
            out.append(f"- {x.heading} {x.layer} ends")
    for x in new.layers:
        if x.exempt and (x.layer, x.heading) not in {(y.layer, y.heading) for y in old.layers if y.exempt}:
            out.append(f"exempt: {x.reason}")
    return out


# (origin, day) -> a key equal on two days only if the product's duties from that origin are the
# same on both (None: not known, ask the engine); the built panel gives one (service.queries)
StateKey = Callable[[str, date], Hashable | None]


def timeline(engine: Engine, code: str, origins: list[str], start: date | str | None = None,
             end: date | str | None = None, *, state_key: StateKey | None = None) -> Timeline:
    """Segments of constant duties for a product from each origin between two dates.

    The engine is asked on every boundary of the model, except where ``state_key`` says the
    duties are those of the boundary before (most boundaries touch other products)."""
    model = engine.model
    lo = parse_date(start) if start is not None else model.first_date
    hi = parse_date(end) if end is not None else model.last_date
    engine.check_date(lo)
    engine.check_date(hi)
    if hi < lo:
        raise BadInput(f"--from {lo.isoformat()} is after --to {hi.isoformat()}")
    if not origins:
        raise BadInput("give at least one origin")
    if len(origins) > MAX_ORIGINS:
        raise BadInput(f"at most {MAX_ORIGINS} origins in one timeline, not {len(origins)}")
    isos = list(dict.fromkeys(countries.resolve(o).iso2 for o in origins))
    days = [lo, *(d for d in model.boundaries() if lo < d <= hi)]
    found_any: RateResult | None = None
    out: dict[str, list[Segment]] = {}
    for iso in isos:
        segs: list[Segment] = []
        prev: RateResult | None = None
        prev_key: Hashable | None = None
        for k, day in enumerate(days):
            until = days[k + 1] - timedelta(days=1) if k + 1 < len(days) else hi
            key = state_key(iso, day) if state_key is not None else None
            if segs and key is not None and key == prev_key:
                segs[-1].valid_until = until
                continue
            prev_key = key
            try:
                res: RateResult | None = engine.rate(code, iso, day, detail=False)
            except UnknownProduct:
                res = None
            found_any = found_any or res
            if segs and _state(res) == _state(prev):
                segs[-1].valid_until = until
                continue
            segs.append(_segment(res, day, until, _describe(prev, res) if segs or res is None else []))
            prev = res
        out[iso] = segs
    if found_any is None:
        engine.line(code, hi)  # raises the specific "unknown / not in force" error
        raise UnknownProduct(f"HTS {code} is not in the schedule between {lo} and {hi}")
    return Timeline(found_any.hts10, found_any.description, lo, hi, out)


def _segment(res: RateResult | None, day: date, until: date, changes: list[str]) -> Segment:
    if res is None:
        return Segment(day, until, None, {}, [], None, changes or ["not in the schedule"])
    layers = res.layer_totals()
    heads = [x.heading for x in res.layers if not x.exempt and x.heading]
    return Segment(day, until, res.total_pct, layers, heads, res.revision, changes)


def plot_timeline(tl: Timeline, out: Path | IO[bytes], fmt: str = "png") -> None:
    """A step chart per origin with one stacked band per layer (matplotlib, no display)."""
    if fmt not in ("png", "svg"):
        raise BadInput(f"unknown plot format {fmt!r}: use png or svg")
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in server threads

    n = len(tl.origins)
    fig = Figure(figsize=(10, 1.0 + 2.4 * n), layout="constrained")
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    used = [name for name in LAYER_ORDER if any(name in s.layers for segs in tl.origins.values() for s in segs)]
    top = max([s.total_pct or 0.0 for segs in tl.origins.values() for s in segs] + [1.0])
    for ax, (iso, segs) in zip(axes, tl.origins.items(), strict=True):
        xs = [s.valid_from for s in segs] + [segs[-1].valid_until + timedelta(days=1)]
        base = [0.0] * len(xs)
        for name in used:
            vals = [s.layers.get(name, 0.0) for s in segs]
            vals.append(vals[-1])
            upper = [b + v for b, v in zip(base, vals, strict=True)]
            ax.fill_between(xs, base, upper, step="post", color=LAYER_COLOURS[name], label=LAYER_TITLES.get(name, name),
                            linewidth=0)
            base = upper
        ax.step(xs, base, where="post", color="black", linewidth=0.8)
        ax.set_ylim(0, top * 1.1)
        ax.set_ylabel("duty, % of value")
        ax.set_title(f"{countries.get(iso).name} ({iso})", loc="left", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=8, ncols=min(len(used), 5))
    fig.suptitle(f"HTS {tl.hts10}: {tl.description[:80]}", fontsize=11)
    fig.savefig(out, format=fmt)
