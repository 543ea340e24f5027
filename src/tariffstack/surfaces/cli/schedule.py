"""Commands over the official files: ``search``, ``revisions``, ``countries``, ``fetch``."""


from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
)
from rich.table import Table
from rich.text import Text

from tariffstack.models import SearchHit
from tariffstack.surfaces.cli.app import State, cli, err, out


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", default=15, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def search(state: State, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Ranked search of products in everyday words ("laptop", "leather shoes") or an HTS prefix."""
    text = " ".join(query)
    hits = state.engine().search(text, limit=limit)
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
        return
    if not hits:
        err.print(f"no match for {text!r}: try a broader word (\"shoes\" rather than \"loafers\") "
                  "or an HTS code such as 8517.13", markup=False, highlight=False)
        return
    out.print(_search_table(hits, out.width))


def _clip(text: str, width: int, lines: int = 1) -> list[str]:
    """Wrap at spaces into at most ``lines`` lines; an ellipsis marks text cut after a whole word."""
    import textwrap

    got = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]
    if len(got) > lines:
        got = got[:lines]
        last = got[-1]
        while len(last) + 2 > width and " " in last:
            last = last.rsplit(" ", 1)[0]
        got[-1] = last.rstrip(" ,;:") + " …"
    return got


def _search_table(hits: list[SearchHit], width: int) -> Table:
    """Two lines a hit: code, short description and MFN rate; then the heading it sits under, or the
    rest of a long description.

    Text is cut at word boundaries here, so the table never wraps or folds a word at any width."""
    rate_w = 14
    desc_w = max(20, width - 13 - rate_w - 4)
    t = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False, header_style="bold")
    t.add_column("HTS code", width=13, no_wrap=True)
    t.add_column("product (heading)", width=desc_w, no_wrap=True, overflow="ellipsis")
    t.add_column("MFN rate", width=rate_w, no_wrap=True, overflow="ellipsis")
    for h in hits:
        lines = _clip(h.short or h.description, desc_w, lines=2)
        desc = Text("\n".join(lines))  # Text, not markup: descriptions hold "[...]"
        if len(lines) == 1 and h.heading and h.path:  # room left: say which heading it sits under
            desc.append("\n" + _clip(f"{h.hts[:4]} {h.heading}", desc_w)[0], style="dim")
        rate = _clip(h.general or "", rate_w, lines=len(desc.plain.splitlines()))
        t.add_row(Text(h.hts), desc, Text("\n".join(rate)))
    return t


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def revisions(state: State, as_json: bool) -> None:
    """The revisions in the data folder, with their dates and counts."""
    m = state.engine().model
    rows = m.revision_rows()
    if as_json:
        click.echo(json.dumps(rows))
        return
    t = Table("revision", "published", "lines from", "changes effective", "lines", "changes", box=None)
    for row in rows:
        eff = row["changes_effective"]
        span = "" if not isinstance(eff, list) else eff[0] if eff[0] == eff[1] else f"{eff[0]}..{eff[1]}"
        t.add_row(str(row["revision"]), str(row["published"] or "not dated"), str(row["lines_from"]), span,
                  f"{row['product_lines']:,}", "no record" if row["changes"] is None else str(row["changes"]))
    out.print(t)
    age = (date.today() - m.last_date).days
    out.print(f"Data to {m.last_date.isoformat()}, {age} days ago: answers for later dates need "
              "'tariffstack fetch' (or --assume-unchanged, flagged).", soft_wrap=False)
    out.print(f"Coverage: {m.first_date.isoformat()} to {m.last_date.isoformat()}. Product lines take over "
              "on the publication date; each change takes effect on the date its change record states. "
              "A revision published without a date or change record takes over after the one before it.",
              soft_wrap=False)


@cli.command()
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
def countries(query: tuple[str, ...], as_json: bool) -> None:
    """The countries of origin the tool knows, with their codes (QUERY: just the one it means)."""
    from tariffstack.law.countries import all_countries, resolve

    found = (resolve(" ".join(query)),) if query else all_countries()
    rows = [{"iso2": c.iso2, "iso3": c.iso3, "census_code": c.census_code, "name": c.name,
             "aliases": list(c.aliases)} for c in found]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    t = Table("ISO", "ISO3", "Census", "name", box=None)
    for c in found:
        t.add_row(c.iso2, c.iso3, c.census_code or "", c.name)
    out.print(t)


@cli.command()
@click.option("--mirror", help="Base URL of a mirror laid out like ../shared (instead of USITC).")
@click.option("--dest", type=click.Path(path_type=Path), help="Data folder to fill (default: --data-dir).")
@click.pass_obj
def fetch(state: State, mirror: str | None, dest: Path | None) -> None:
    """Download new HTS revisions (USITC or a mirror) with resume and checksums."""
    from tariffstack.sources.fetch import fetch_mirror, fetch_usitc

    target = dest or state.data_dir
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=err) as bar:
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        result = fetch_mirror(mirror, target, progress=progress) if mirror else fetch_usitc(target, progress=progress)
    out.print(f"downloaded {len(result.downloaded)}, up to date {len(result.skipped)}, failed {len(result.failed)}")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True, highlight=False)
    for name, why in result.failed:  # one line each, as a log would keep it
        err.print(f"[red]failed[/red] {escape(name)}: {escape(why)}", soft_wrap=True, highlight=False)
    if result.failed:
        sys.exit(4)
