"""``scenario``: what-if legal events (a YAML file) run through the law's engine and panel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tariffstack.errors import BadInput
from tariffstack.surfaces.cli.app import State, _panel, _Steps, cli, err, out
from tariffstack.surfaces.cli.stats import (
    BY_CHOICES,
    PARTNER_SHORT,
    SHORT,
    chart_path,
    compute_options,
    f1,
    notes,
    range_of,
    table,
    weight_options,
)

TOP_LINES = 15


def _d(v: float | None) -> str:
    if v is None:
        return "-"
    return "0" if abs(v) < 0.05 else f"{v:+.1f}"


def _header(cmp: Any) -> None:
    sc = cmp.compiled.file.scenario
    out.print(f"[bold]Scenario {sc.name}[/bold]: {sc.title or ''} (hypothetical events, not the law)",
              highlight=False)
    for s in cmp.compiled.steps:
        out.print(f"  line {s.line}: {s.text}", highlight=False)


def _one_date(cmp: Any, by: str | None) -> list[Any]:
    from tariffstack.panel import ADD_LAYERS

    day = cmp.law.days[0][0].isoformat()
    caption = "percent of customs value; diff = scenario - law; " + cmp.law.label
    overall = cmp.difference("overall")[0]
    if by == "layer":
        body = [[SHORT[n], f1(overall[f"law_{n}"]), f1(overall[f"scenario_{n}"]), _d(overall[f"diff_{n}"])]
                for n in ("mfn", *ADD_LAYERS, "additional", "total")
                if overall[f"law_{n}"] or overall[f"scenario_{n}"]]
        return [table(f"Law and scenario on {day}, by layer", ["layer", "law", "scen.", "diff"], body, caption)]
    key = by or "partner"
    rows = cmp.difference(key)
    if key == "country":
        rows = rows[:40]
    elif key in ("chapter", "sector"):
        rows = sorted(rows, key=lambda r: -abs(r["diff_additional"] or 0))[:30]

    def line(name: str, r: dict[str, Any]) -> list[str]:
        return [name, f"{r['weight_musd'] / 1000:,.0f}", f1(r["law_additional"]), f1(r["scenario_additional"]),
                _d(r["diff_additional"]), f1(r["law_total"]), f1(r["scenario_total"]), _d(r["diff_total"])]

    body = [line("all", overall)] + [line(PARTNER_SHORT.get(r["key"], str(r["key"])) if key == "partner"
                                          else str(r["key"]), r) for r in rows]
    heads = ["" if key == "partner" else key, "imp $bn", "add law", "scen.", "diff", "total law", "scen.", "diff"]
    return [table(f"Law and scenario on {day}, by {'partner group' if key == 'partner' else key}", heads, body,
                  caption)]


def _series(cmp: Any, by: str | None) -> list[Any]:
    from tariffstack.stats.weights import PARTNERS

    first, last = cmp.law.days[0][0], cmp.law.days[-1][1]
    parts = {(r["date"], r["key"]): r for r in cmp.difference("partner")}
    heads = ["from", "law", "scen", "diff", *(PARTNER_SHORT[p] for p in PARTNERS)]
    body = []
    for r in cmp.difference("overall"):
        body.append([r["date"].isoformat(), f1(r["law_additional"]), f1(r["scenario_additional"]),
                     _d(r["diff_additional"]),
                     *(_d(parts[(r["date"], p)]["diff_additional"]) if (r["date"], p) in parts else "-"
                       for p in PARTNERS)])
    merged: list[list[str]] = []
    for row in body:
        if not (merged and merged[-1][1:] == row[1:]):
            merged.append(row)
    caption = ("additional duty, percent; one row per change; partner columns: scenario - law; "
               + cmp.law.label)
    return [table(f"Law and scenario {first} to {last}", heads, merged, caption)]


def _changes(ch: Any) -> list[Any]:
    out.print(f"\n{ch.pairs:,} product x origin pairs change on {ch.day} ({ch.rate_pairs:,} of them in rate), "
              f"on {ch.lines:,} product lines", highlight=False)
    if not ch.pairs:
        return []
    tables = [table("By partner group", ["group", "origins", "lines", "pairs", "mean diff"],
                    [[str(r["partner"]), f"{r['origins']:,}", f"{r['lines']:,}", f"{r['pairs']:,}",
                      _d(r["mean_change"])] for r in ch.by_partner])]
    rows = []
    for r in ch.top[:TOP_LINES]:
        law = f1(r["law_min"]) if r["law_min"] == r["law_max"] else f"{f1(r['law_min'])}-{f1(r['law_max'])}"
        new = (f1(r["scenario_min"]) if r["scenario_min"] == r["scenario_max"]
               else f"{f1(r['scenario_min'])}-{f1(r['scenario_max'])}")
        heads = " ".join([*("+" + h for h in r["added"][:2]), *("-" + h for h in r["removed"][:2])])
        rows.append([r["hts10"], str(r["origins"]), law, new, heads])
    more = f"first {len(rows)} of {ch.lines:,} lines; --changes FILE writes every pair" if ch.lines > len(rows) else None
    tables.append(table("Product lines that change (additional duty, law -> scenario)",
                        ["line", "orig.", "law", "scen.", "headings"], rows, more))
    return tables


@cli.command("scenario")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--date", "-d", "day", help="One date to compare (default: the scenario's first day).")
@click.option("--from", "start", help="First date of a series (with --to; default: the first day of the data).")
@click.option("--to", "end", help="Last date of a series (default: the newest date covered).")
@click.option("--by", type=click.Choice(BY_CHOICES), help="Breakdown of the comparison (default: partner group).")
@weight_options
@click.option("--plot", type=click.Path(path_type=Path), help="Chart of the series, scenario beside law (.png/.svg).")
@click.option("--changes", "changes_out", type=click.Path(path_type=Path),
              help="Write every product x origin pair that changes on the date (CSV).")
@click.option("--check", is_flag=True, help="Only check the file against the law on file (builds nothing).")
@click.option("--schema", is_flag=True, help="Print the JSON schema of scenario files and exit.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def scenario(state: State, file: Path | None, day: str | None, start: str | None, end: str | None,
             by: str | None, weights_file: Path | None, weights_year: int | None, weights_dir: Path | None,
             usmca_share: tuple[str, ...], metal_shares: bool, plot: Path | None, changes_out: Path | None,
             check: bool, schema: bool, as_json: bool) -> None:
    """Compare a what-if scenario (hypothetical legal events, YAML) with the law (docs/SCENARIOS.md)."""
    from tariffstack.files import atomic_path
    from tariffstack.stats import scenario as sc
    from tariffstack.stats.charts import plot_compare
    from tariffstack.stats.scenario_file import parse
    from tariffstack.stats.scenario_file import schema as file_schema

    if schema:
        click.echo(json.dumps(file_schema(), indent=1))
        return
    if file is None:
        raise BadInput("give a scenario file (docs/examples/scenarios/ has examples), or --schema")
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {file}: {exc.strerror or exc}") from exc
    sf = parse(text, file.name)
    panel = _panel(state)
    engine = state.engine()
    compiled = sc.compile_scenario(sf, engine, panel)
    if check:
        err.print(f"{file.name}: {len(compiled.steps)} events checked against the law on file; the scenario "
                  f"can differ from the law from {compiled.since}", highlight=False, markup=False)  # a name is text
        return
    if day is None and start is None and end is None:
        day = min(s.first for s in compiled.steps).isoformat()
    lo, hi = range_of(panel, day, start, end)
    fmt = chart_path(plot, hi is not None)
    if changes_out is not None and hi is not None:
        raise BadInput("--changes writes the pairs of one date: give --date")
    if by == "country" and weights_file is None:
        raise BadInput("--by country needs your own import data (--weights FILE)")
    w, kw = compute_options(state, panel, weights_file, weights_year, weights_dir, usmca_share, metal_shares)
    with _Steps() as steps:
        stage = steps.stage(f"scenario panel from {compiled.since}", None)
        scen = sc.scenario_panel(engine, panel, state.home, compiled,
                                 progress=lambda d, n, t: stage.update(f"at {d}", n, t))
    cmp = sc.compare(panel, scen, compiled, w, lo, hi, **kw)
    if plot is not None and fmt is not None:
        with atomic_path(plot) as tmp, tmp.open("wb") as fh:
            plot_compare(cmp.law, cmp.scenario, sf.scenario.name, [s.first for s in compiled.steps], by, fh, fmt)
        err.print(f"chart written to {plot}")
    if changes_out is not None and cmp.changes:
        n = sc.write_changes(cmp.changes[0], changes_out)
        err.print(f"{n:,} changed pairs written to {changes_out}")
    notes(cmp.law)
    if as_json:
        click.echo(json.dumps(cmp.to_json(by or "partner"), indent=1))
        return
    _header(cmp)
    for t in (_series(cmp, by) if hi is not None else _one_date(cmp, by)):
        out.print(t)
    for ch in cmp.changes:
        for t in _changes(ch):
            out.print(t)
