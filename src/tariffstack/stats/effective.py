"""Statutory effective tariff rates: the import-weighted mean duty per date, from the rate panel.

For each day the panel's rates hold (one computation per panel interval: rates, and the set of
lines in the schedule, only change at interval boundaries), every product x origin row gets the
weight ``W(sector, group) / lines(sector, day) / countries(group)`` (see ``weights.py`` and
docs/EFFECTIVE.md), and the weighted sums are taken per (day, partner group, chapter, sector) in
one DuckDB query over the panel's compact tables: product and regime rows are joined per *group
of origins*, never expanded to 250 countries, so a whole-period series takes seconds. Overall,
per-partner, per-chapter, per-sector and per-layer figures are then re-aggregations of those
cells. Results are estimates on sector weights (the weights are not HTS-10 x country data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.errors import BadInput, DataError
from tariffstack.panel.core import ADD_LAYERS, Panel
from tariffstack.stats.weights import PARTNERS, Weights

BY = ("overall", "partner", "chapter", "sector", "layer")
MEASURES: tuple[str, ...] = ("mfn", *ADD_LAYERS, "additional", "total")
LABEL = ("statutory effective rate, estimate on GTAP sector x partner-group import weights "
         "(panel defaults: no USMCA or other preference claimed, whole value is 232 metal)")


@dataclass
class Effective:
    """Weighted sums per (day, until, partner, chapter, gtap); means are sums / weight."""

    cells: pa.Table
    days: list[tuple[date, date]]
    unmapped: dict[date, int]          # schedule lines with no sector (no weight), per day
    goods_total: dict[str, float]      # source weight of sectors the crosswalk maps to lines
    weights: Weights

    def rows(self, by: str = "overall") -> list[dict[str, Any]]:
        """One row per day (x key): weight in millions of USD and each measure's mean, in percent."""
        if by not in BY:
            raise BadInput(f"unknown --by {by!r}: one of {', '.join(BY[1:])}")
        keys = ["day", "until"] + ([] if by in ("overall", "layer") else [{"chapter": "chapter", "sector": "gtap",
                                                                           "partner": "partner"}[by]])
        agg = self.cells.group_by(keys).aggregate([(c, "sum") for c in ("w", *MEASURES)])
        agg = agg.sort_by([(k, "ascending") for k in keys])
        out = []
        for r in agg.to_pylist():
            w = r["w_sum"]
            row: dict[str, Any] = {"date": r["day"], "until": r["until"]}
            if len(keys) > 2:
                row["key"] = r[keys[2]]
            row["weight_musd"] = w
            for m in MEASURES:
                row[m] = r[f"{m}_sum"] / w if w else None
            out.append(row)
        if by == "partner":
            order = {p: k for k, p in enumerate(PARTNERS)}
            out.sort(key=lambda r: (r["date"], order.get(r["key"], 99)))
        return out

    def to_json(self, by: str = "overall") -> dict[str, Any]:
        def clean(r: dict[str, Any]) -> dict[str, Any]:
            return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}

        return {
            "label": LABEL, "weights": str(self.weights.folder), "by": by, "units": "percent of customs value",
            "goods_weight_musd": self.goods_total,
            "unmapped_lines": {d.isoformat(): n for d, n in self.unmapped.items()},
            "rows": [clean(r) for r in self.rows(by)],
        }


def _boundaries(panel: Panel, lo: date, hi: date) -> list[tuple[date, date]]:
    """The days in [lo, hi] on which some panel row starts or ends, each with its last day."""
    rows = panel.db.query(f"""
        SELECT DISTINCT d FROM (
            SELECT valid_from AS d FROM products UNION ALL SELECT valid_from FROM regimes
            UNION ALL SELECT valid_until + 1 FROM products UNION ALL SELECT valid_until + 1 FROM regimes)
        WHERE d > DATE '{lo}' AND d <= DATE '{hi}' ORDER BY d""").fetchall()
    starts = [lo] + [r[0] for r in rows]
    return [(s, (starts[k + 1] - timedelta(days=1)) if k + 1 < len(starts) else hi) for k, s in enumerate(starts)]


def compute(panel: Panel, weights: Weights, start: date, end: date | None = None) -> Effective:
    """Effective rates on ``start``, or on every interval of [start, end] (one row per interval)."""
    hi = end or start
    panel.check_date(start)
    panel.check_date(hi)
    if hi < start:
        raise BadInput(f"--from {start} is after --to {hi}")
    days = _boundaries(panel, start, hi)
    db = panel.db
    db.register("w_days", pa.table({"day": pa.array([d for d, _ in days], pa.date32()),
                                    "until": pa.array([u for _, u in days], pa.date32())}))
    db.register("w_sectors", weights.sectors)
    db.register("w_crosswalk", weights.crosswalk)
    db.register("w_countries", weights.countries)
    layer_sums = ", ".join(f"sum(w * {n}) AS {n}" for n in ADD_LAYERS)
    layer_cols = ", ".join(f"s.{n}" for n in ADD_LAYERS)
    pd_sql = """
        WITH hs6map AS (
            SELECT hs6, gtap FROM (
                SELECT hs6, gtap, row_number() OVER (PARTITION BY hs6 ORDER BY count(*) DESC, gtap) AS rk
                FROM w_crosswalk GROUP BY hs6, gtap) WHERE rk = 1)
        SELECT d.day, d.until, p.hts10, p.sig_id, p.mfn_key, p.general_pct, p.other_pct,
               coalesce(x.gtap, h.gtap) AS gtap
        FROM products p JOIN w_days d ON p.valid_from <= d.day AND d.day <= p.valid_until
        LEFT JOIN w_crosswalk x ON x.hts10 = replace(p.hts10, '.', '')
        LEFT JOIN hs6map h ON h.hs6 = substr(replace(p.hts10, '.', ''), 1, 6)
    """
    try:
        db.execute(f"CREATE OR REPLACE TEMP TABLE w_pd AS {pd_sql}")
        # regimes per day first, so the big join below is on equal keys, not on date ranges
        db.execute("""CREATE OR REPLACE TEMP TABLE w_rd AS
                      SELECT d.day, r.sig_id, r.mfn_key, r.group_id, r.stack_id FROM regimes r
                      JOIN w_days d ON r.valid_from <= d.day AND d.day <= r.valid_until""")
        cells = db.query(f"""
            WITH nl AS (SELECT day, gtap, count(*) AS n FROM w_pd WHERE gtap IS NOT NULL GROUP BY day, gtap),
            gp AS (SELECT g.group_id, w.partner, c.column2, count(*) AS n
                   FROM groups g JOIN countries c ON c.iso2 = g.iso2 JOIN w_countries w ON w.iso2 = g.iso2
                   GROUP BY g.group_id, w.partner, c.column2),
            np AS (SELECT w.partner, count(*) AS n FROM w_countries w JOIN countries c ON c.iso2 = w.iso2
                   GROUP BY w.partner),
            base AS (
                SELECT pd.day, pd.until, pd.hts10, pd.gtap, gp.partner,
                       ws.value / nl.n * gp.n / np.n AS w,
                       coalesce(CASE WHEN gp.column2 THEN pd.other_pct ELSE pd.general_pct END, 0) AS mfn,
                       {layer_cols}, s.additional_pct AS additional
                FROM w_pd pd
                JOIN w_rd r ON r.day = pd.day AND r.sig_id = pd.sig_id
                               AND (r.mfn_key = 0 OR r.mfn_key = pd.mfn_key)
                JOIN gp ON gp.group_id = r.group_id
                JOIN np ON np.partner = gp.partner
                JOIN nl ON nl.day = pd.day AND nl.gtap = pd.gtap
                JOIN w_sectors ws ON ws.gtap = pd.gtap AND ws.partner = gp.partner
                JOIN stacks s ON s.stack_id = r.stack_id)
            SELECT day, until, partner, substr(hts10, 1, 2) AS chapter, gtap, sum(w) AS w,
                   sum(w * mfn) AS mfn, {layer_sums}, sum(w * additional) AS additional,
                   sum(w * (mfn + additional)) AS total
            FROM base GROUP BY day, until, partner, chapter, gtap
        """).to_arrow_table()
        unmapped = {d: int(n) for d, n in db.query(
            "SELECT day, count(*) FILTER (WHERE gtap IS NULL) FROM w_pd GROUP BY day").fetchall()}
    except Exception as exc:  # duckdb raises its own hierarchy; a broken store is a data problem
        if isinstance(exc, (BadInput, DataError)):
            raise
        raise DataError(f"cannot compute effective rates from the panel in {panel.path}: {exc}") from exc
    finally:
        for name in ("w_days", "w_sectors", "w_crosswalk", "w_countries"):
            db.unregister(name)
        db.execute("DROP TABLE IF EXISTS w_pd")
        db.execute("DROP TABLE IF EXISTS w_rd")
    mapped = set(weights.crosswalk.column("gtap").to_pylist())
    sec = weights.sectors.filter(pc.is_in(weights.sectors["gtap"], pa.array(sorted(mapped))))
    goods = {p: 0.0 for p in PARTNERS}
    for r in sec.to_pylist():
        goods[r["partner"]] += r["value"]
    return Effective(cells, days, unmapped, goods, weights)


# ---- command line ------------------------------------------------------------------------
SHORT = {"mfn": "MFN", "s301": "301", "s232": "232", "ieepa_fentanyl": "fent", "ieepa_reciprocal": "recip",
         "ieepa_other": "ieepa+", "s122": "122", "s201": "201", "other": "other", "additional": "add",
         "total": "total"}
PARTNER_SHORT = {"china": "CN", "canada": "CA", "mexico": "MX", "japan": "JP", "eu": "EU", "uk": "UK",
                 "ftrow": "FTA", "row": "ROW"}
TABLE_LAYERS = ("mfn", "s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "s122", "additional", "total")


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _rest(r: dict[str, Any]) -> float | None:
    """Layers without a column of their own (IEEPA other, 201, other), so columns add up."""
    if r["additional"] is None:
        return None
    return float(sum(r[n] for n in ADD_LAYERS if n not in TABLE_LAYERS))


def _table(title: str, headers: list[str], rows: list[list[str]], caption: str | None = None) -> Any:
    from rich.box import SIMPLE_HEAD
    from rich.table import Table

    t = Table(title=title, caption=caption, box=SIMPLE_HEAD, padding=(0, 0, 0, 1), show_edge=False)
    for k, h in enumerate(headers):
        t.add_column(h, justify="left" if k == 0 else "right", no_wrap=True)
    for r in rows:
        t.add_row(*r)
    return t


def _merge(rows: list[list[str]]) -> list[list[str]]:
    """Adjacent intervals that print the same figures become one row (the earlier date)."""
    out: list[list[str]] = []
    for r in rows:
        if out and out[-1][1:] == r[1:]:
            continue
        out.append(r)
    return out


def _one_date(eff: Effective, by: str | None) -> list[Any]:
    caption = "percent of customs value; " + LABEL
    day = eff.days[0][0].isoformat()
    if by == "layer":
        overall = eff.rows("overall")[0]
        parts = {r["key"]: r for r in eff.rows("partner")}
        heads = ["layer", "all", *(PARTNER_SHORT[p] for p in PARTNERS)]
        names = [n for n in ("mfn", *ADD_LAYERS) if overall[n]] + ["additional", "total"]
        body = [[SHORT[n], _f(overall[n]), *(_f(parts[p][n]) if p in parts else "-" for p in PARTNERS)]
                for n in names]
        return [_table(f"Effective tariff rate by layer on {day}", heads, body, caption)]
    heads = ["", "imp $bn", "MFN", "301", "232", "fent", "recip", "122", "rest", "add", "total"]

    def line(key: str, r: dict[str, Any]) -> list[str]:
        return [key, f"{r['weight_musd'] / 1000:,.0f}", *(_f(r[n]) for n in TABLE_LAYERS[:6]), _f(_rest(r)),
                _f(r["additional"]), _f(r["total"])]

    overall = eff.rows("overall")[0]
    tables = []
    if by in (None, "partner"):
        body = [line("all", overall)] + [line(r["key"], r) for r in eff.rows("partner")]
        tables.append(_table(f"Effective tariff rate on {day}, by partner group", heads, body, caption))
    else:
        body = [line("all", overall)] + [line(r["key"], r) for r in eff.rows(by)]
        heads[0] = by
        tables.append(_table(f"Effective tariff rate on {day}, by {by}", heads, body, caption))
    return tables


def _series(eff: Effective, by: str | None) -> list[Any]:
    caption = ("one row per change (each holds until the next row's date); additional duty, percent; "
               + LABEL)
    first, last = eff.days[0][0], eff.days[-1][1]
    title = f"Effective tariff rate {first} to {last}"
    overall = eff.rows("overall")
    if by in (None, "partner"):
        parts: dict[tuple[date, str], dict[str, Any]] = {(r["date"], r["key"]): r for r in eff.rows("partner")}
        heads = ["from", "total", "add", *(PARTNER_SHORT[p] for p in PARTNERS)]
        body = [[r["date"].isoformat(), _f(r["total"]), _f(r["additional"]),
                 *(_f(parts[(r["date"], p)]["additional"]) if (r["date"], p) in parts else "-" for p in PARTNERS)]
                for r in overall]
        return [_table(title + ", by partner group", heads, _merge(body), caption)]
    if by == "layer":
        heads = ["from", *(SHORT[n] for n in TABLE_LAYERS[:6]), "rest", "add", "total"]
        body = [[r["date"].isoformat(), *(_f(r[n]) for n in TABLE_LAYERS[:6]), _f(_rest(r)),
                 _f(r["additional"]), _f(r["total"])] for r in overall]
        return [_table(title + ", by layer", heads, _merge(body), caption)]
    body = [[r["date"].isoformat(), str(r["key"]), f"{r['weight_musd'] / 1000:,.0f}", _f(r["additional"]),
             _f(r["total"])] for r in eff.rows(by)]
    return [_table(f"{title}, by {by}", ["from", by, "imp $bn", "add", "total"], body, caption)]


def plot_series(eff: Effective, by: str | None, fh: Any, fmt: str) -> None:
    """A step chart of the additional and total rate over time (and per partner with --by partner)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    overall = eff.rows("overall")
    xs = [r["date"] for r in overall] + [eff.days[-1][1]]

    def step(values: list[float | None], label: str, **kw: Any) -> None:
        ys = [v if v is not None else float("nan") for v in values]
        ax.step(xs, ys + ys[-1:], where="post", label=label, **kw)

    step([r["total"] for r in overall], "all: total duty", linewidth=2.5, color="black")
    step([r["additional"] for r in overall], "all: additional duties", linewidth=2, color="grey")
    if by == "partner":
        parts = {(r["date"], r["key"]): r["additional"] for r in eff.rows("partner")}
        for p in PARTNERS:
            step([parts.get((r["date"], p)) for r in overall], f"{p}: additional", linewidth=1)
    ax.set_ylabel("percent of customs value (import-weighted)")
    ax.set_title("Statutory effective U.S. tariff rate (estimate on sector weights)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(fh, format=fmt)
    plt.close(fig)


def run_cli(data_dir: Any, panel: Panel, *, day: str | None, start: str | None, end: str | None,
            by: str | None, weights_dir: Any, plot: Any, as_json: bool, out: Any, err: Any) -> None:
    """The ``effective-rate`` command: compute, then print a table (80 columns) or JSON."""
    import json
    from pathlib import Path

    import click

    from tariffstack.engine.us import parse_date
    from tariffstack.files import atomic_path
    from tariffstack.stats.weights import default_weights_dir, load

    if day is not None and (start is not None or end is not None):
        raise BadInput("give either --date or --from/--to, not both")
    folder = Path(weights_dir) if weights_dir is not None else default_weights_dir(Path(data_dir))
    w = load(folder)
    if start is not None or end is not None:
        lo = parse_date(start) if start is not None else panel.first_date
        hi = parse_date(end) if end is not None else panel.last_date
        eff = compute(panel, w, lo, hi)
        series = True
    else:
        eff = compute(panel, w, parse_date(day) if day is not None else panel.last_date)
        series = False
    if plot is not None:
        plot = Path(plot)
        fmt = plot.suffix.lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise BadInput(f"--plot {plot}: the file name must end in .png or .svg")
        if not series:
            raise BadInput("--plot needs a series: give --from and/or --to")
        with atomic_path(plot) as tmp, tmp.open("wb") as fh:
            plot_series(eff, by, fh, fmt)
        err.print(f"chart written to {plot}")
    if as_json:
        click.echo(json.dumps(eff.to_json(by or "partner"), indent=1))
        return
    for t in (_series(eff, by) if series else _one_date(eff, by)):
        out.print(t)
