"""Commands over the panel: ``build``, ``timeline``, ``diff``, ``export``, ``serve``."""


from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tariffstack.engine.us import Engine, parse_date
from tariffstack.errors import BadInput
from tariffstack.surfaces.cli.app import State, _panel, _Steps, cli, err, out


@cli.command()
@click.option("--full", is_flag=True, help="Recompute every interval instead of only those that changed.")
@click.pass_obj
def build(state: State, full: bool) -> None:
    """Build or update the rate panel (every HTS-10 x origin x date) in the home folder."""
    from tariffstack.panel import build as build_panel
    from tariffstack.sources.schedule import load_revisions

    with _Steps() as steps:
        parsing = steps.stage("parsing revisions", len(load_revisions(state.data_dir)))
        engine = Engine.load(state.data_dir, state.home, progress=lambda name: parsing.advance(name))
        intervals = steps.stage("computing intervals", None)

        def progress(day: str, done: int, total: int) -> None:
            intervals.update(f"at {day}", done, total)

        report = build_panel(engine, state.home, full=full, progress=progress,
                             on_wait=lambda who: err.print(f"waiting: another build is running in {state.home} ({who})",
                                                           soft_wrap=True))
    since = f" from {report.since}" if report.since else ""
    err.print(f"panel {report.mode}{since}: {report.intervals} intervals, {report.evaluations:,} stacks evaluated, "
              f"{report.rows['products']:,} product rows, {report.rows['regimes']:,} regime rows "
              f"in {report.seconds:.1f} s -> {report.path}", soft_wrap=True)



@cli.command()
@click.argument("hts")
@click.option("--origin", "-o", "origins", multiple=True, required=True, help="Origin (repeat for several).")
@click.option("--from", "start", help="First date (default: the first date covered).")
@click.option("--to", "end", help="Last date (default: the newest date covered).")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a stacked step chart (.png or .svg).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--importer", default="US", show_default=True,
              help="Whose tariff: US, or CN for China's duty on U.S. goods (--origin US).")
@click.pass_obj
def timeline(state: State, hts: str, origins: tuple[str, ...], start: str | None, end: str | None,
             plot: Path | None, as_json: bool, importer: str) -> None:
    """Each interval of constant duties for a product, per origin, with what changed and why."""
    from tariffstack.surfaces.cli.war import check_us_side_origin, importer_of, timeline_cn

    if importer_of(importer) == "CN":
        timeline_cn(state, hts, origins, start, end, plot, as_json)
        return
    for o in origins:
        check_us_side_origin(o)
    from tariffstack.engine.timeline import plot_timeline
    from tariffstack.engine.timeline import timeline as make_timeline

    tl = make_timeline(state.engine(), hts, list(origins), start, end)
    if plot is not None:
        fmt = plot.suffix.lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise BadInput(f"--plot {plot}: the file name must end in .png or .svg")
        _atomic_write(plot, lambda fh: plot_timeline(tl, fh, fmt))
        err.print(f"chart written to {plot}")
    if as_json:
        click.echo(json.dumps(tl.to_json(), indent=1))
        return
    for iso, segs in tl.origins.items():
        table = Table(title=f"{tl.hts10} from {iso}: {tl.description[:60]}", show_lines=False)
        for col in ("from", "until", "total %", "layers", "what changed"):
            table.add_column(col)
        for seg in segs:
            layers = ", ".join(f"{k} {v:g}" for k, v in seg.layers.items() if k != "mfn" and v) or "-"
            total = "not in schedule" if seg.total_pct is None else f"{seg.total_pct:g}"
            table.add_row(seg.valid_from.isoformat(), seg.valid_until.isoformat(), total, layers,
                          "\n".join(seg.changes))
        out.print(table)


def _atomic_write(path: Path, write: Callable[[Any], None]) -> None:
    from tariffstack.files import atomic_path

    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        write(fh)


@cli.command()
@click.option("--from", "start", required=True, help="Earlier date.")
@click.option("--to", "end", required=True, help="Later date.")
@click.option("--origin", "-o", "origins", multiple=True, help="Only these origins (repeatable).")
@click.option("--chapter", help="Only this chapter (2 digits).")
@click.option("--heading", help="Only this HTS heading or subheading prefix (e.g. 7208 or 8517.13).")
@click.option("--layer", help="Only changes in this layer (mfn, s301, s232, ieepa_fentanyl, ...).")
@click.option("--limit", "-n", default=30, show_default=True, type=click.IntRange(0, 100_000), help="Rows to show.")
@click.option("--output", "-O", type=click.Path(path_type=Path), help="Write every changed pair to .csv or .parquet.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def diff(state: State, start: str, end: str, origins: tuple[str, ...], chapter: str | None, heading: str | None,
         layer: str | None, limit: int, output: Path | None, as_json: bool) -> None:
    """What changed between two dates: every product x origin whose duties moved, and why."""
    if chapter and not (chapter.isdigit() and len(chapter) <= 2):
        raise BadInput(f"--chapter must be a chapter number such as 72, not {chapter!r}")
    prefix = heading or (chapter.zfill(2) if chapter else None)
    result = _panel(state).diff(parse_date(start), parse_date(end), origins=list(origins), prefix=prefix, layer=layer)
    if output is not None:
        fmt = output.suffix.lower().lstrip(".")
        if fmt not in ("csv", "parquet"):
            raise BadInput(f"--output {output}: the file name must end in .csv or .parquet")
        n = result.write(output, fmt)
        err.print(f"{n:,} changed pairs written to {output}")
    if as_json:
        click.echo(json.dumps(result.to_json(limit), indent=1, default=str))
        return
    kinds = result.by_kind()
    out.print(f"[bold]{result.count():,}[/bold] product x origin pairs changed between {result.start} and "
              f"{result.end}: " + ", ".join(f"{n:,} {k}" for k, n in kinds.items() if n))
    summary = Table(title="by layer")
    for col in ("layer", "pairs", "mean before %", "mean after %"):
        summary.add_column(col)
    for name, n, old, new in result.by_layer():
        summary.add_row(name, f"{n:,}", "-" if old is None else f"{old:.2f}", "-" if new is None else f"{new:.2f}")
    out.print(summary)
    causes = Table(title="headings in or out")
    for col in ("", "heading", "pairs"):
        causes.add_column(col)
    for kind, h, n in result.causes():
        causes.add_row(kind, h, f"{n:,}")
    out.print(causes)
    chapters = Table(title="by chapter")
    chapters.add_column("chapter")
    chapters.add_column("pairs")
    for c, n in result.by_chapter():
        chapters.add_row(c, f"{n:,}")
    out.print(chapters)
    if limit:
        rows = Table(title=f"first {limit} changes")
        for col in ("hts10", "origin", "total before", "total after", "added", "removed"):
            rows.add_column(col)
        for r in result.rows(limit):
            rows.add_row(r["hts10"], r["origin"], _fmt(r["old_total_pct"]), _fmt(r["new_total_pct"]),
                         ", ".join(r["added"] or []), ", ".join(r["removed"] or []))
        out.print(rows)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


@cli.command()
@click.option("--date", "-d", "day", help="One date: every HTS-10 x every origin in force that day.")
@click.option("--series", is_flag=True, help="Every interval instead of one date.")
@click.option("--from", "start", help="With --series: first date.")
@click.option("--to", "end", help="With --series: last date.")
@click.option("--chapter", help="Only this chapter (2 digits).")
@click.option("--heading", help="Only this HTS prefix (e.g. 7208 or 8517.13).")
@click.option("--origin", "origins", multiple=True, help="Only these origins (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), required=True, help="File to write.")
@click.pass_obj
def export(state: State, day: str | None, series: bool, start: str | None, end: str | None, chapter: str | None,
           heading: str | None, origins: tuple[str, ...], fmt: str, output: Path) -> None:
    """Export the panel (schema in docs/STORE.md) to Parquet or CSV; no partial file on failure."""
    if series == bool(day):
        raise BadInput("give either --date YYYY-MM-DD or --series")
    if chapter and not (chapter.isdigit() and len(chapter) <= 2):
        raise BadInput(f"--chapter must be a chapter number such as 72, not {chapter!r}")
    prefix = heading or (chapter.zfill(2) if chapter else None)
    with err.status("exporting...", spinner="dots"):
        n = _panel(state).export(
            output, fmt=fmt, on=parse_date(day) if day else None, series=series, prefix=prefix,
            origins=list(origins), start=parse_date(start) if start else None, end=parse_date(end) if end else None,
        )
    err.print(f"{n:,} rows written to {output}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one).")
@click.pass_obj
def serve(state: State, host: str, port: int) -> None:
    """Serve the HTTP API and the web page (one process, engine in memory); prints the URL."""
    from tariffstack.surfaces.api import serve as run_server

    run_server(state.engine(), host=host, port=port, data_dir=state.data_dir, home=state.home,
               echo=lambda s: click.echo(s))
