"""Charts of effective rates (PNG or SVG files): the series, and a scenario beside the law."""

from __future__ import annotations

from datetime import date
from typing import IO, Any

from tariffstack.stats.effective import Effective
from tariffstack.stats.weights import PARTNERS


def _axes() -> tuple[Any, Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    return plt, fig, ax


def _step(ax: Any, xs: list[date], values: list[float | None], label: str, **kw: Any) -> None:
    ys = [v if v is not None else float("nan") for v in values]
    ax.step(xs, ys + ys[-1:], where="post", label=label, **kw)


def _finish(plt: Any, fig: Any, ax: Any, title: str, fh: IO[bytes], fmt: str) -> None:
    ax.set_ylabel("percent of customs value (import-weighted)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(fh, format=fmt)
    plt.close(fig)


def plot_series(eff: Effective, by: str | None, fh: IO[bytes], fmt: str) -> None:
    """A step chart of the additional and total rate over time (and per partner with --by partner)."""
    plt, fig, ax = _axes()
    overall = eff.rows("overall")
    xs = [r["date"] for r in overall] + [eff.days[-1][1]]
    _step(ax, xs, [r["total"] for r in overall], "all: total duty", linewidth=2.5, color="black")
    _step(ax, xs, [r["additional"] for r in overall], "all: additional duties", linewidth=2, color="grey")
    if by == "partner":
        parts = {(r["date"], r["key"]): r["additional"] for r in eff.rows("partner")}
        for p in PARTNERS:
            _step(ax, xs, [parts.get((r["date"], p)) for r in overall], f"{p}: additional", linewidth=1)
    kind = "expected value" if eff.options else "statutory"
    what = "your import data" if eff.imports is not None else "sector weights"
    _finish(plt, fig, ax, f"Effective U.S. tariff rate ({kind}, estimate on {what})", fh, fmt)


def plot_compare(law: Effective, scen: Effective, name: str, event_days: list[date], by: str | None,
                 fh: IO[bytes], fmt: str) -> None:
    """The scenario's additional duty (solid) beside the law's (dashed), with its events marked."""
    plt, fig, ax = _axes()
    rows_l, rows_s = law.rows("overall"), scen.rows("overall")
    xs = [r["date"] for r in rows_l] + [law.days[-1][1]]
    _step(ax, xs, [r["additional"] for r in rows_l], "law: all", linewidth=2, color="black", linestyle="--")
    _step(ax, xs, [r["additional"] for r in rows_s], f"{name}: all", linewidth=2.5, color="black")
    if by == "partner":
        pl = {(r["date"], r["key"]): r["additional"] for r in law.rows("partner")}
        ps = {(r["date"], r["key"]): r["additional"] for r in scen.rows("partner")}
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, p in enumerate(PARTNERS):
            a = [pl.get((r["date"], p)) for r in rows_l]
            b = [ps.get((r["date"], p)) for r in rows_l]
            if a == b:
                continue  # only the partners the scenario moves
            c = colours[k % len(colours)]
            _step(ax, xs, a, f"law: {p}", linewidth=1, color=c, linestyle="--")
            _step(ax, xs, b, f"{name}: {p}", linewidth=1.5, color=c)
    for d in event_days:
        ax.axvline(d, color="tab:red", alpha=0.4, linewidth=1)
    _finish(plt, fig, ax, f"Additional duty: what-if scenario '{name}' (solid) and the law (dashed)", fh, fmt)
