"""Statutory effective tariff rates: the import-weighted mean duty per date, from the rate panel.

For each day the panel's rates hold (one computation per panel interval: rates, and the set of
lines in the schedule, only change at interval boundaries), every product x origin row gets a
weight and the weighted sums are taken per (day, partner group, country, chapter, sector) in one
DuckDB query over the panel's compact tables. Overall, per-partner, per-chapter, per-sector and
per-layer figures are re-aggregations of those cells.

Weights are either the default sector weights (``weights.py``: ``W(sector, group) /
lines(sector, day) / countries(group)``, product and regime rows joined per *group of origins*,
never expanded to 250 countries) or the user's own imports at HTS-10 x country (``imports.py``).
The expected-value options (``expected.py``: USMCA claim shares, metal content shares) change
the figures only when asked for, and the label says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.errors import BadInput, DataError
from tariffstack.panel import ADD_LAYERS, Panel
from tariffstack.stats.imports import Imports
from tariffstack.stats.weights import PARTNERS, Weights

BY = ("overall", "partner", "chapter", "sector", "layer", "country")
MEASURES: tuple[str, ...] = ("mfn", *ADD_LAYERS, "additional", "total")
KEYS = ("day", "until", "partner", "country", "chapter", "gtap")
LABEL = ("statutory effective rate, estimate on GTAP sector x partner-group import weights "
         "(panel defaults: no USMCA or other preference claimed, whole value is 232 metal)")
STATUTORY = "panel defaults: no USMCA or other preference claimed, whole value is 232 metal"


@dataclass(frozen=True)
class MetalInputs:
    """For the metal content option: per (stack, MFN key) the layers at metal share 0, and the
    share of each line (``expected.py`` builds both)."""

    zero: pa.Table      # stack_id, mfn_key, b_steel, b_aluminum, b_copper, <layers at share 0>, additional
    shares: pa.Table    # hts10 (10 digits), steel, aluminum, copper
    label: str


@dataclass(frozen=True)
class UsmcaInputs:
    """For the USMCA option: the panel with every claim made, its MFN (program S) rates, shares."""

    panel: Panel
    mfn: pa.Table       # hts10 (dotted), valid_from, valid_until, pct
    shares: dict[str, float]  # partner group (canada, mexico) -> share of imports claiming
    label: str


@dataclass
class Effective:
    """Weighted sums per (day, until, partner, country, chapter, gtap); means are sums / weight."""

    cells: pa.Table
    days: list[tuple[date, date]]
    unmapped: dict[date, int]          # schedule lines with no sector (no weight), per day
    goods_total: dict[str, float]      # weight of the goods the weights cover, per partner group
    weights: Weights
    imports: Imports | None = None
    unmatched: dict[date, float] = field(default_factory=dict)  # import value with no line that day
    options: list[str] = field(default_factory=list)            # labels of the expected-value options

    @property
    def label(self) -> str:
        if self.imports is None:
            base = "statutory effective rate, estimate on GTAP sector x partner-group import weights"
        else:
            base = f"statutory effective rate on your {self.imports.label}"
        if not self.options:
            return f"{base} ({STATUTORY})"
        return f"{base}; EXPECTED VALUE with: " + "; ".join(self.options)

    def rows(self, by: str = "overall") -> list[dict[str, Any]]:
        """One row per day (x key): weight in millions of USD and each measure's mean, in percent."""
        if by not in BY:
            raise BadInput(f"unknown --by {by!r}: one of {', '.join(BY[1:])}")
        if by == "country" and self.imports is None:
            raise BadInput("--by country needs your own import data (--weights FILE): the sector weights "
                           "spread each group equally over its countries")
        col = {"chapter": "chapter", "sector": "gtap", "partner": "partner", "country": "country"}.get(by)
        keys = ["day", "until"] + ([col] if col else [])
        agg = self.cells.group_by(keys).aggregate([(c, "sum") for c in ("w", *MEASURES)])
        agg = agg.sort_by([(k, "ascending") for k in keys])
        out = []
        for r in agg.to_pylist():
            w = r["w_sum"]
            row: dict[str, Any] = {"date": r["day"], "until": r["until"]}
            if col:
                row["key"] = r[col]
            row["weight_musd"] = w
            for m in MEASURES:
                row[m] = r[f"{m}_sum"] / w if w else None
            out.append(row)
        if by == "partner":
            order = {p: k for k, p in enumerate(PARTNERS)}
            out.sort(key=lambda r: (r["date"], order.get(r["key"], 99)))
        if by == "country":
            out.sort(key=lambda r: (r["date"], -(r["weight_musd"] or 0)))
        return out

    def to_json(self, by: str = "overall") -> dict[str, Any]:
        def clean(r: dict[str, Any]) -> dict[str, Any]:
            return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}

        out: dict[str, Any] = {
            "label": self.label, "statutory": not self.options, "options": self.options,
            "weights": str(self.weights.folder) if self.imports is None else str(self.imports.path),
            "weights_kind": "sector" if self.imports is None else self.imports.layout,
            "by": by, "units": "percent of customs value", "goods_weight_musd": self.goods_total,
            "unmapped_lines": {d.isoformat(): n for d, n in self.unmapped.items()},
            "rows": [clean(r) for r in self.rows(by)],
        }
        if self.imports is not None:
            out["unmatched_value_musd"] = {d.isoformat(): v for d, v in self.unmatched.items()}
            out["aggregate_rows_skipped"] = self.imports.aggregates_skipped
        return out


def boundaries(panel: Panel, lo: date, hi: date) -> list[date]:
    """The days in (lo, hi] on which some panel row starts or ends."""
    rows = panel.db.query(f"""
        SELECT DISTINCT d FROM (
            SELECT valid_from AS d FROM products UNION ALL SELECT valid_from FROM regimes
            UNION ALL SELECT valid_until + 1 FROM products UNION ALL SELECT valid_until + 1 FROM regimes)
        WHERE d > DATE '{lo}' AND d <= DATE '{hi}' ORDER BY d""").fetchall()
    return [r[0] for r in rows]


def spans(lo: date, hi: date, cuts: list[date]) -> list[tuple[date, date]]:
    """[lo, hi] cut at each day of ``cuts`` (each a first day), as (first, last) pairs."""
    starts = [lo] + sorted({d for d in cuts if lo < d <= hi})
    return [(s, (starts[k + 1] - timedelta(days=1)) if k + 1 < len(starts) else hi) for k, s in enumerate(starts)]


def _layer_sql(metal: bool) -> tuple[str, str]:
    """(per-row layer columns, additional) as SQL; with ``metal``, at the line's metal share.

    The engine's result is linear in the share for every layer but 232, where the highest
    applicable duty is kept: there it is ``max(at share 0, share x at share 1)``, since only the
    content-based duty scales. The additional duty is the sum of the layers so found."""
    if not metal:
        return ", ".join(f"s.{n}" for n in ADD_LAYERS), "s.additional_pct"
    share = ("least(1.0, coalesce(m0.b_steel * sh.steel + m0.b_aluminum * sh.aluminum "
             "+ m0.b_copper * sh.copper, 1.0))")

    def col(name: str) -> str:
        mixed = (f"greatest(m0.{name}, {share} * s.{name})" if name == "s232"
                 else f"m0.{name} + {share} * (s.{name} - m0.{name})")
        return f"CASE WHEN m0.stack_id IS NULL THEN s.{name} ELSE {mixed} END"

    additional = ("CASE WHEN m0.stack_id IS NULL THEN s.additional_pct ELSE "
                  + " + ".join(f"coalesce({col(n)}, 0)" for n in ADD_LAYERS) + " END")
    return ", ".join(f"{col(n)} AS {n}" for n in ADD_LAYERS), additional


def _cells_sql(imports: bool, metal: bool, mfn_override: bool) -> str:
    layers, additional = _layer_sql(metal)
    column2 = "c.column2" if imports else "gp.column2"
    mfn = f"CASE WHEN {column2} THEN pd.other_pct ELSE pd.general_pct END"
    if mfn_override:
        mfn = f"CASE WHEN {column2} THEN pd.other_pct ELSE coalesce(ov.pct, pd.general_pct) END"
    joins = ""
    if metal:
        joins += (" LEFT JOIN w_metal0 m0 ON m0.stack_id = r.stack_id AND m0.mfn_key = r.mfn_key"
                  " LEFT JOIN w_shares sh ON sh.hts10 = pd.digits")
    if mfn_override:
        joins += " LEFT JOIN w_mfn ov ON ov.hts10 = pd.hts10 AND ov.valid_from <= pd.day AND pd.day <= ov.valid_until"
    if imports:
        base = f"""
            SELECT pd.day, pd.until, pd.hts10, pd.gtap, u.partner, u.iso2 AS country, u.value AS w,
                   coalesce({mfn}, 0) AS mfn, {layers}, {additional} AS additional
            FROM w_pdk pd JOIN w_imports u ON u.hts10 = pd.digits
            JOIN w_rd r ON r.day = pd.day AND r.sig_id = pd.sig_id AND r.mfn_key = pd.rmk
            JOIN groups g ON g.group_id = r.group_id AND g.iso2 = u.iso2
            JOIN countries c ON c.iso2 = u.iso2
            JOIN stacks s ON s.stack_id = r.stack_id {joins}"""
        ctes = ""
    else:
        ctes = """
            nl AS (SELECT day, gtap, count(*) AS n FROM w_pd WHERE gtap IS NOT NULL GROUP BY day, gtap),
            gp AS (SELECT g.group_id, w.partner, c.column2, count(*) AS n
                   FROM groups g JOIN countries c ON c.iso2 = g.iso2 JOIN w_countries w ON w.iso2 = g.iso2
                   GROUP BY g.group_id, w.partner, c.column2),
            np AS (SELECT w.partner, count(*) AS n FROM w_countries w JOIN countries c ON c.iso2 = w.iso2
                   GROUP BY w.partner),"""
        base = f"""
            SELECT pd.day, pd.until, pd.hts10, pd.gtap, gp.partner, ws.value / nl.n * gp.n / np.n AS w,
                   coalesce({mfn}, 0) AS mfn, {layers}, {additional} AS additional
            FROM w_pdk pd
            JOIN w_rd r ON r.day = pd.day AND r.sig_id = pd.sig_id AND r.mfn_key = pd.rmk
            JOIN gp ON gp.group_id = r.group_id
            JOIN np ON np.partner = gp.partner
            JOIN nl ON nl.day = pd.day AND nl.gtap = pd.gtap
            JOIN w_sectors ws ON ws.gtap = pd.gtap AND ws.partner = gp.partner
            JOIN stacks s ON s.stack_id = r.stack_id {joins}"""
    sums = ", ".join(f"sum(w * {n}) AS {n}" for n in ADD_LAYERS)
    # the sector weights have no country dimension: grouping by an all-null key would only cost
    country = "country" if imports else "CAST(NULL AS VARCHAR) AS country"
    group = "day, until, partner, country, chapter, gtap" if imports else "day, until, partner, chapter, gtap"
    # a product meets the regime rows for any MFN key (0) and those for its own: two equal keys
    # joined, not an OR, which would join every regime row of the signature first
    ctes += " w_pdk AS (SELECT *, unnest([0, mfn_key]) AS rmk FROM w_pd),"
    return f"""
        WITH {ctes} base AS ({base}),
        cells AS (SELECT day, until, partner, {'country, ' if imports else ''}substr(hts10, 1, 2) AS chapter, gtap,
                         sum(w) AS w, sum(w * mfn) AS mfn, {sums}, sum(w * additional) AS additional,
                         sum(w * (mfn + additional)) AS total
                  FROM base GROUP BY {group})
        SELECT day, until, partner, {country}, chapter, gtap, w, mfn, {", ".join(ADD_LAYERS)}, additional, total
        FROM cells"""


def _sector_cells_sql(mfn_override: bool) -> str:
    """The sector-weight cells summed in two halves: products per (day, chapter, sector, signature,
    MFN key), regimes per (day, signature, MFN key, partner), then joined.

    With sector weights a row's weight is ``W(sector, partner) / lines(sector, day)`` times
    ``countries(group, partner) / countries(partner)``: a product factor times a group factor,
    and a layer's rate depends on the group only. So each weighted sum over product x group rows
    factors into (sum over products) x (sum over groups), and the big join is on a few thousand
    signature rows a day instead of every product x group (20 M rows for a year's series). The
    MFN rate is the product's own except for column 2 groups, hence the two MFN sums. Nulls are
    skipped as the row-level sum skips them. ``_cells_sql`` is the row-level form, kept for the
    import and metal options, where a row's weight or layers are its own."""
    general = "coalesce(ov.pct, pd.general_pct)" if mfn_override else "pd.general_pct"
    override = (" LEFT JOIN w_mfn ov ON ov.hts10 = pd.hts10 AND ov.valid_from <= pd.day AND pd.day <= ov.valid_until"
                if mfn_override else "")
    gw = "gp.n / np.n"
    layer_sums = ", ".join(f"sum({gw} * s.{n}) AS {n}" for n in ADD_LAYERS)
    layer_cells = ", ".join(f"sum(f * k * {n}) AS {n}" for n in ADD_LAYERS)
    mfn = "(wg - wc2) * g + wc2 * o"
    return f"""
        WITH nl AS (SELECT day, gtap, count(*) AS n FROM w_pd WHERE gtap IS NOT NULL GROUP BY day, gtap),
        gp AS (SELECT g.group_id, w.partner, c.column2, count(*) AS n
               FROM groups g JOIN countries c ON c.iso2 = g.iso2 JOIN w_countries w ON w.iso2 = g.iso2
               GROUP BY g.group_id, w.partner, c.column2),
        np AS (SELECT w.partner, count(*) AS n FROM w_countries w JOIN countries c ON c.iso2 = w.iso2
               GROUP BY w.partner),
        pa AS (SELECT pd.day, pd.until, substr(pd.hts10, 1, 2) AS chapter, pd.gtap, pd.sig_id, pd.mfn_key,
                      count(*) AS k, sum(coalesce({general}, 0)) AS g, sum(coalesce(pd.other_pct, 0)) AS o
               FROM w_pd pd{override} WHERE pd.gtap IS NOT NULL
               GROUP BY pd.day, pd.until, chapter, pd.gtap, pd.sig_id, pd.mfn_key),
        ra AS (SELECT r.day, r.sig_id, r.mfn_key, gp.partner, sum({gw}) AS wg,
                      sum(CASE WHEN gp.column2 THEN {gw} ELSE 0 END) AS wc2, {layer_sums},
                      sum({gw} * s.additional_pct) AS additional
               FROM w_rd r JOIN gp ON gp.group_id = r.group_id JOIN np ON np.partner = gp.partner
               JOIN stacks s ON s.stack_id = r.stack_id
               GROUP BY r.day, r.sig_id, r.mfn_key, gp.partner),
        cells AS (SELECT pa.day, pa.until, ra.partner, pa.chapter, pa.gtap, ws.value / nl.n AS f, pa.k, pa.g, pa.o,
                         ra.wg, ra.wc2, {", ".join(f"ra.{n}" for n in ADD_LAYERS)}, ra.additional
                  FROM (SELECT *, unnest([0, mfn_key]) AS rmk FROM pa) pa   -- regime rows for any MFN key, or its own
                  JOIN ra ON ra.day = pa.day AND ra.sig_id = pa.sig_id AND ra.mfn_key = pa.rmk
                  JOIN nl ON nl.day = pa.day AND nl.gtap = pa.gtap
                  JOIN w_sectors ws ON ws.gtap = pa.gtap AND ws.partner = ra.partner)
        SELECT day, until, partner, CAST(NULL AS VARCHAR) AS country, chapter, gtap,
               sum(f * k * wg) AS w, sum(f * ({mfn})) AS mfn, {layer_cells},
               sum(f * k * additional) AS additional, sum(f * ({mfn} + k * additional)) AS total
        FROM cells GROUP BY day, until, partner, chapter, gtap"""


def _cells(panel: Panel, weights: Weights, days: list[tuple[date, date]], imports: Imports | None,
           metal: MetalInputs | None, mfn: pa.Table | None, *,
           factored: bool = True) -> tuple[pa.Table, dict[date, int], dict[date, float]]:
    """The weighted sums of one panel per cell, with the per-day counts of what got no weight."""
    db = panel.db
    tables: dict[str, pa.Table] = {
        "w_days": pa.table({"day": pa.array([d for d, _ in days], pa.date32()),
                            "until": pa.array([u for _, u in days], pa.date32())}),
        "w_sectors": weights.sectors, "w_crosswalk": weights.crosswalk, "w_countries": weights.countries,
    }
    if imports is not None:
        tables["w_imports"] = imports.table
    if metal is not None:
        tables["w_metal0"] = metal.zero
        tables["w_shares"] = metal.shares
    if mfn is not None:
        tables["w_mfn"] = mfn
    db.execute("SET enable_progress_bar = false")  # a long query must not draw on the user's terminal
    for name, table in tables.items():
        db.register(name, table)
    pd_sql = """
        WITH hs6map AS (
            SELECT hs6, gtap FROM (
                SELECT hs6, gtap, row_number() OVER (PARTITION BY hs6 ORDER BY count(*) DESC, gtap) AS rk
                FROM w_crosswalk GROUP BY hs6, gtap) WHERE rk = 1)
        , lines AS (  -- each product row's sector once, before it is repeated for every day it covers
            SELECT p.*, coalesce(x.gtap, h.gtap) AS gtap FROM (
                SELECT hts10, replace(hts10, '.', '') AS digits, sig_id, mfn_key, general_pct, other_pct,
                       valid_from, valid_until FROM products) p
            LEFT JOIN w_crosswalk x ON x.hts10 = p.digits
            LEFT JOIN hs6map h ON h.hs6 = substr(p.digits, 1, 6))
        SELECT d.day, d.until, p.hts10, p.digits, p.sig_id, p.mfn_key, p.general_pct, p.other_pct, p.gtap
        FROM lines p JOIN w_days d ON p.valid_from <= d.day AND d.day <= p.valid_until
    """
    try:
        db.execute(f"CREATE OR REPLACE TEMP TABLE w_pd AS {pd_sql}")
        # regimes per day first, so the big join below is on equal keys, not on date ranges
        db.execute("""CREATE OR REPLACE TEMP TABLE w_rd AS
                      SELECT d.day, r.sig_id, r.mfn_key, r.group_id, r.stack_id FROM regimes r
                      JOIN w_days d ON r.valid_from <= d.day AND d.day <= r.valid_until""")
        if factored and imports is None and metal is None:
            sql = _sector_cells_sql(mfn is not None)
        else:
            sql = _cells_sql(imports is not None, metal is not None, mfn is not None)
        cells = db.query(sql).to_arrow_table()
        unmapped = {d: int(n) for d, n in db.query(
            "SELECT day, count(*) FILTER (WHERE gtap IS NULL) FROM w_pd GROUP BY day").fetchall()}
        unmatched: dict[date, float] = {}
        if imports is not None:
            unmatched = {d: float(v or 0.0) for d, v in db.query("""
                SELECT d.day, sum(u.value) FILTER (WHERE pd.digits IS NULL)
                FROM w_days d CROSS JOIN w_imports u
                LEFT JOIN (SELECT DISTINCT day, digits FROM w_pd) pd ON pd.day = d.day AND pd.digits = u.hts10
                GROUP BY d.day""").fetchall()}
    except Exception as exc:  # duckdb raises its own hierarchy; a broken store is a data problem
        if isinstance(exc, (BadInput, DataError)):
            raise
        raise DataError(f"cannot compute effective rates from the panel in {panel.path}: {exc}") from exc
    finally:
        for name in tables:
            db.unregister(name)
        db.execute("DROP TABLE IF EXISTS w_pd")
        db.execute("DROP TABLE IF EXISTS w_rd")
    return cells, unmapped, unmatched


def _mix(law: pa.Table, claimed: pa.Table, shares: dict[str, float]) -> pa.Table:
    """Cells of the partner groups in ``shares`` as (1 - share) x law + share x all-claimed."""
    import duckdb

    con = duckdb.connect()
    con.register("l", law)
    con.register("v", claimed)
    con.register("sh", pa.table({"partner": list(shares), "u": pa.array(list(shares.values()), pa.float64())}))
    cols = ", ".join(f"CASE WHEN sh.u IS NULL OR v.w IS NULL THEN l.{m} ELSE (1 - sh.u) * l.{m} + sh.u * v.{m} END AS {m}"
                     for m in MEASURES)
    on = " AND ".join(f"l.{k} IS NOT DISTINCT FROM v.{k}" for k in KEYS)
    out = con.query(f"""SELECT {", ".join(f"l.{k}" for k in KEYS)}, l.w, {cols}
                        FROM l LEFT JOIN v ON {on} LEFT JOIN sh ON sh.partner = l.partner""").to_arrow_table()
    con.close()
    return out


def compute(panel: Panel, weights: Weights, start: date, end: date | None = None, *,
            imports: Imports | None = None, metal: MetalInputs | None = None,
            usmca: UsmcaInputs | None = None, cuts: list[date] | None = None) -> Effective:
    """Effective rates on ``start``, or on every interval of [start, end] (one row per interval).

    ``cuts``: further first days of intervals (another panel's boundaries, for a comparison)."""
    hi = end or start
    panel.check_date(start)
    panel.check_date(hi)
    if hi < start:
        raise BadInput(f"--from {start} is after --to {hi}")
    found = boundaries(panel, start, hi) + list(cuts or [])
    if usmca is not None:
        found += boundaries(usmca.panel, start, hi)
    days = spans(start, hi, found) if end is not None else [(start, start)]
    cells, unmapped, unmatched = _cells(panel, weights, days, imports, metal, None)
    options: list[str] = []
    if usmca is not None:
        claimed, _, _ = _cells(usmca.panel, weights, days, imports, metal, usmca.mfn)
        cells = _mix(cells, claimed, usmca.shares)
        options.append(usmca.label)
    if metal is not None:
        options.append(metal.label)
    if imports is not None:
        goods = {p: 0.0 for p in PARTNERS}
        for p, v in zip(imports.table["partner"].to_pylist(), imports.table["value"].to_pylist(), strict=True):
            goods[p] = goods.get(p, 0.0) + v
    else:
        mapped = set(weights.crosswalk.column("gtap").to_pylist())
        sec = weights.sectors.filter(pc.is_in(weights.sectors["gtap"], pa.array(sorted(mapped))))
        goods = {p: 0.0 for p in PARTNERS}
        for r in sec.to_pylist():
            goods[r["partner"]] += r["value"]
    return Effective(cells, days, unmapped, goods, weights, imports, unmatched, options)


def marks(model: Any, eff: Effective, min_move: float = 0.5) -> list[dict[str, Any]]:
    """The legal events behind the series: each day the overall rate moves by ``min_move``
    points or more, with the headings whose rate, payers or status changed that day (in force
    the day before and not now, or the other way round, or at another rate) and the source of
    the first one, so a chart can mark and label them."""
    rows = eff.rows("overall")
    out: list[dict[str, Any]] = []
    for prev, cur in zip(rows, rows[1:], strict=False):
        a, b = prev["additional"], cur["additional"]
        if a is None or b is None or abs(b - a) < min_move:
            continue
        day: date = cur["date"]
        came: list[str] = []
        went: list[str] = []
        moved: list[str] = []
        sources: list[str] = []
        for h in model.measures:
            old, new = model.measure_on(h, day - timedelta(days=1)), model.measure_on(h, day)
            if old is None and new is None:
                continue
            if old is None:
                came.append(h)
            elif new is None:
                went.append(h)
            elif (old.duty.pct, old.countries, old.excluded_countries, old.codes, old.except_codes) != (
                    new.duty.pct, new.countries, new.excluded_countries, new.codes, new.except_codes):
                moved.append(h)
            else:
                continue
            m = new or old
            if m is not None and len(sources) < 3:
                sources.append(f"{h}: {m.start_source if new is not None else 'ended'}")
        layers = sorted({(model.measure_on(h, day) or model.measure_on(h, day - timedelta(days=1))).layer
                         for h in (*came, *went, *moved)})
        parts = [f"+{len(came)} in force" if came else "", f"{len(went)} ended" if went else "",
                 f"{len(moved)} changed" if moved else ""]
        out.append({"date": day.isoformat(), "move_pct": b - a, "layers": layers, "came": came[:12],
                    "ended": went[:12], "changed": moved[:12], "sources": sources,
                    "label": f"{day:%b %-d, %Y}: {b - a:+.1f} pts; headings " + ", ".join(p for p in parts if p)
                             + (f" ({', '.join(layers)})" if layers else "")})
    return out
