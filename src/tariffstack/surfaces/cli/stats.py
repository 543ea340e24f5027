"""``effective-rate``: import-weighted average duty; the tables and options ``scenario`` shares."""


from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from tariffstack.errors import BadInput
from tariffstack.surfaces.cli.app import State, _panel, cli, err, out

SHORT = {"mfn": "MFN", "s301": "301", "s232": "232", "ieepa_fentanyl": "fent", "ieepa_reciprocal": "recip",
         "ieepa_other": "ieepa+", "s122": "122", "s201": "201", "other": "other", "additional": "add",
         "total": "total"}
PARTNER_SHORT = {"china": "CN", "canada": "CA", "mexico": "MX", "japan": "JP", "eu": "EU", "uk": "UK",
                 "ftrow": "FTA", "row": "ROW"}
TABLE_LAYERS = ("mfn", "s301", "s232", "ieepa_fentanyl", "ieepa_reciprocal", "s122", "additional", "total")
BY_CHOICES = ["partner", "chapter", "sector", "layer", "country"]


# ---- inputs shared by effective-rate and scenario ---------------------------------------------
def weight_options(f: Any) -> Any:
    """The weights and expected-value options of both commands."""
    for opt in reversed([
        click.option("--weights", "weights_file", type=click.Path(path_type=Path),
                     help="Your own imports at HTS-10 x country: a Census IMDB detail file (IMP_DETL.TXT), "
                          "a USITC DataWeb CSV export, or CSV hts10,origin,value_usd (docs/EFFECTIVE.md)."),
        click.option("--weights-year", type=int, help="Year column of a DataWeb export (default: the newest)."),
        click.option("--weights-dir", type=click.Path(path_type=Path), envvar="TARIFFSTACK_WEIGHTS_DIR",
                     help="Folder of the default sector weights (default: the data folder's sibling 'weights')."),
        click.option("--usmca-share", multiple=True, metavar="CA=0.9,MX=0.85",
                     help="Expected value: share of imports from Canada/Mexico claiming USMCA (off by default)."),
        click.option("--metal-shares", is_flag=True,
                     help="Expected value: 232 duties on metal content at the BEA metal shares (off by default)."),
    ]):
        f = opt(f)
    return f


def compute_options(state: State, panel: Any, weights_file: Path | None, weights_year: int | None,
                    weights_dir: Path | None, usmca_share: tuple[str, ...], metal_shares: bool) -> tuple[Any, dict[str, Any]]:
    """(sector weights, keyword arguments of ``compute``) from the options."""
    from tariffstack.stats import expected, imports
    from tariffstack.stats.weights import default_weights_dir, load

    folder = weights_dir if weights_dir is not None else default_weights_dir(Path(state.data_dir))
    if weights_year is not None and weights_file is None:
        raise BadInput("--weights-year goes with --weights FILE (a DataWeb export)")
    w = load(folder)
    kw: dict[str, Any] = {}
    if weights_file is not None:
        kw["imports"] = imports.load(weights_file, w, year=weights_year)
    shares = expected.parse_shares(list(usmca_share)) if usmca_share else None
    if metal_shares or shares:
        engine = state.engine()
        if metal_shares:
            kw["metal"] = expected.metal_inputs(panel, engine, folder)
        if shares:
            with err.status("Computing the all-claimed USMCA variant (first time only)...", spinner="dots"):
                kw["usmca"] = expected.usmca_inputs(engine, panel, Path(state.home), shares)
    return w, kw


def range_of(panel: Any, day: str | None, start: str | None, end: str | None) -> tuple[date, date | None]:
    """(first day, last day or None for one date) from --date or --from/--to."""
    from tariffstack.engine.us import parse_date

    if day is not None and (start is not None or end is not None):
        raise BadInput("give either --date or --from/--to, not both")
    if start is not None or end is not None:
        lo = parse_date(start) if start is not None else panel.first_date
        return lo, parse_date(end) if end is not None else panel.last_date
    return (parse_date(day) if day is not None else panel.last_date), None


def chart_path(plot: Path | None, series: bool) -> str | None:
    """The chart format (png/svg), checked before anything is computed."""
    if plot is None:
        return None
    fmt = plot.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise BadInput(f"--plot {plot}: the file name must end in .png or .svg")
    if not series:
        raise BadInput("--plot needs a series: give --from and/or --to")
    return fmt


# ---- tables -----------------------------------------------------------------------------
def f1(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _rest(r: dict[str, Any]) -> float | None:
    """Layers without a column of their own (IEEPA other, 201, other), so columns add up."""
    from tariffstack.panel import ADD_LAYERS

    if r["additional"] is None:
        return None
    return float(sum(r[n] or 0.0 for n in ADD_LAYERS if n not in TABLE_LAYERS))


def table(title: str, headers: list[str], rows: list[list[str]], caption: str | None = None) -> Any:
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
    merged: list[list[str]] = []
    for r in rows:
        if merged and merged[-1][1:] == r[1:]:
            continue
        merged.append(r)
    return merged


def _key(by: str, key: Any) -> str:
    return PARTNER_SHORT.get(key, str(key)) if by == "partner" else str(key)


def one_date(eff: Any, by: str | None) -> list[Any]:
    from tariffstack.panel import ADD_LAYERS
    from tariffstack.stats.weights import PARTNERS

    caption = "percent of customs value; " + eff.label
    day = eff.days[0][0].isoformat()
    if by == "layer":
        overall = eff.rows("overall")[0]
        parts = {r["key"]: r for r in eff.rows("partner")}
        heads = ["layer", "all", *(PARTNER_SHORT[p] for p in PARTNERS)]
        names = [n for n in ("mfn", *ADD_LAYERS) if overall[n]] + ["additional", "total"]
        body = [[SHORT[n], f1(overall[n]), *(f1(parts[p][n]) if p in parts else "-" for p in PARTNERS)]
                for n in names]
        return [table(f"Effective tariff rate by layer on {day}", heads, body, caption)]
    heads = ["", "imp $bn", "MFN", "301", "232", "fent", "recip", "122", "rest", "add", "total"]

    def line(key: str, r: dict[str, Any]) -> list[str]:
        return [key, f"{r['weight_musd'] / 1000:,.0f}", *(f1(r[n]) for n in TABLE_LAYERS[:6]), f1(_rest(r)),
                f1(r["additional"]), f1(r["total"])]

    overall = eff.rows("overall")[0]
    key = by or "partner"
    rows = eff.rows(key)[:40] if key == "country" else eff.rows(key)
    body = [line("all", overall)] + [line(str(r["key"]), r) for r in rows]
    heads[0] = "" if key == "partner" else key
    return [table(f"Effective tariff rate on {day}, by {'partner group' if key == 'partner' else key}",
                  heads, body, caption)]


def series(eff: Any, by: str | None) -> list[Any]:
    from tariffstack.stats.weights import PARTNERS

    caption = ("one row per change (each holds until the next row's date); additional duty, percent; "
               + eff.label)
    first, last = eff.days[0][0], eff.days[-1][1]
    title = f"Effective tariff rate {first} to {last}"
    overall = eff.rows("overall")
    if by in (None, "partner"):
        parts: dict[tuple[date, str], dict[str, Any]] = {(r["date"], r["key"]): r for r in eff.rows("partner")}
        heads = ["from", "total", "add", *(PARTNER_SHORT[p] for p in PARTNERS)]
        body = [[r["date"].isoformat(), f1(r["total"]), f1(r["additional"]),
                 *(f1(parts[(r["date"], p)]["additional"]) if (r["date"], p) in parts else "-" for p in PARTNERS)]
                for r in overall]
        return [table(title + ", by partner group", heads, _merge(body), caption)]
    if by == "layer":
        heads = ["from", *(SHORT[n] for n in TABLE_LAYERS[:6]), "rest", "add", "total"]
        body = [[r["date"].isoformat(), *(f1(r[n]) for n in TABLE_LAYERS[:6]), f1(_rest(r)),
                 f1(r["additional"]), f1(r["total"])] for r in overall]
        return [table(title + ", by layer", heads, _merge(body), caption)]
    body = [[r["date"].isoformat(), str(r["key"]), f"{r['weight_musd'] / 1000:,.0f}", f1(r["additional"]),
             f1(r["total"])] for r in eff.rows(by)]
    return [table(f"{title}, by {by}", ["from", by, "imp $bn", "add", "total"], body, caption)]


def notes(eff: Any) -> None:
    """What got no weight: lines without a sector, or import rows without a line that day."""
    if eff.imports is not None:
        lost = max(eff.unmatched.values(), default=0.0)
        total = eff.imports.total_musd()
        if lost:
            err.print(f"note: up to ${lost:,.1f} million of {total:,.1f} million in {eff.imports.path.name} has "
                      "no product line in the schedule on a date asked (renumbered or ended lines): left out",
                      soft_wrap=True, highlight=False)
        if eff.imports.aggregates_skipped:
            err.print(f"note: {eff.imports.aggregates_skipped:,} aggregate rows (country groups, totals) left out",
                      highlight=False)


@cli.command("effective-rate")
@click.option("--date", "-d", "day", help="One date (default: the newest date covered, unless --from/--to).")
@click.option("--from", "start", help="First date of a series (one row per interval of constant rates).")
@click.option("--to", "end", help="Last date of a series (default: the newest date covered).")
@click.option("--by", type=click.Choice(BY_CHOICES),
              help="Breakdown (default: overall and by partner group; country needs --weights).")
@weight_options
@click.option("--plot", type=click.Path(path_type=Path), help="Write a chart of the series (.png or .svg).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def effective_rate(state: State, day: str | None, start: str | None, end: str | None, by: str | None,
                   weights_file: Path | None, weights_year: int | None, weights_dir: Path | None,
                   usmca_share: tuple[str, ...], metal_shares: bool, plot: Path | None, as_json: bool) -> None:
    """Import-weighted (statutory effective) tariff rate: overall, by partner, chapter or layer."""
    from tariffstack.files import atomic_path
    from tariffstack.stats.charts import plot_series
    from tariffstack.stats.effective import compute

    panel = _panel(state)
    lo, hi = range_of(panel, day, start, end)
    fmt = chart_path(plot, hi is not None)
    if by == "country" and weights_file is None:
        raise BadInput("--by country needs your own import data (--weights FILE)")
    w, kw = compute_options(state, panel, weights_file, weights_year, weights_dir, usmca_share, metal_shares)
    eff = compute(panel, w, lo, hi, **kw)
    if plot is not None and fmt is not None:
        with atomic_path(plot) as tmp, tmp.open("wb") as fh:
            plot_series(eff, by, fh, fmt)
        err.print(f"chart written to {plot}")
    notes(eff)
    if as_json:
        click.echo(json.dumps(eff.to_json(by or "partner"), indent=1))
        return
    for t in (series(eff, by) if hi is not None else one_date(eff, by)):
        out.print(t)
