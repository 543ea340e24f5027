"""Command line: ``tariffstack rate|search|revisions|countries|fetch|check-news|build|timeline|diff|export|serve|crosscheck``.

Every user error becomes one line on stderr and exit code 2 (data problems 3, download
problems 4); no traceback reaches the user.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from .config import default_data_dir, default_home
from .engine import Engine, Inputs, parse_date
from .errors import BadInput, TariffstackError
from .models import Layer, RateResult, SearchHit

F = TypeVar("F", bound=Callable[..., Any])
MAX_BATCH_LINE = 10_000
err = Console(stderr=True)
out = Console()


class State:
    def __init__(self, data_dir: Path | None, home: Path | None) -> None:
        self.data_dir = data_dir or default_data_dir()
        self.home = home or default_home()
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            with err.status("Loading the schedule (first run parses every revision)...", spinner="dots"):
                self._engine = Engine.load(self.data_dir, self.home)
        return self._engine


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="TARIFFSTACK_DATA_DIR",
              help="Folder of official HTS files (default ../shared/hts or ~/.tariffstack/hts).")
@click.option("--home", type=click.Path(path_type=Path), envvar="TARIFFSTACK_HOME",
              help="Folder for the derived store and caches (default ~/.tariffstack).")
@click.version_option(package_name="tariffstack")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, home: Path | None) -> None:
    """U.S. duty stacks, layer by layer, from the official tariff schedule."""
    ctx.obj = State(data_dir, home)


def _bool(text: str | None, field: str) -> bool:
    t = (text or "").strip().lower()
    if t in ("", "0", "false", "no", "n"):
        return False
    if t in ("1", "true", "yes", "y"):
        return True
    raise BadInput(f"{field} must be true or false, not {text!r}")


def _share(text: str | None, field: str) -> float | None:
    t = (text or "").strip()
    if not t:
        return None
    try:
        v = float(t.rstrip("%")) / (100 if t.endswith("%") else 1)
    except ValueError as exc:
        raise BadInput(f"{field} must be a number between 0 and 1, not {text!r}") from exc
    if not 0 <= v <= 1:
        raise BadInput(f"{field} must be between 0 and 1 (or 0% to 100%), not {text!r}")
    return v


def make_inputs(row: dict[str, str | None]) -> Inputs:
    """Inputs from CLI options or a batch CSV row (same names)."""
    loading = (row.get("loading_date") or "").strip()
    value = (row.get("value_usd") or "").strip()
    try:
        value_f = float(value) if value else None
    except ValueError as exc:
        raise BadInput(f"value_usd must be a number, not {value!r}") from exc
    return Inputs(
        loading_date=parse_date(loading) if loading else None,
        usmca_claimed=_bool(row.get("usmca_claimed"), "usmca_claimed"),
        metal_content_share=_share(row.get("metal_content_share"), "metal_content_share"),
        us_content_share=_share(row.get("us_content_share"), "us_content_share"),
        melt_pour_country=(row.get("melt_pour_country") or "").strip().upper() or None,
        program=(row.get("program") or "").strip() or None,
        value_usd=value_f,
    )


def _render(res: RateResult, explain: bool = False) -> None:
    """The stack as a table that stays one line per layer at 80 columns; ``explain`` adds why."""
    out.print(f"[bold]{res.hts10}[/bold]  {res.description}", overflow="ellipsis", no_wrap=not explain)
    out.print(f"{res.origin_name} ({res.origin}), entered {res.entry_date.isoformat()}, HTS {res.revision}")
    rows = [("layer", "rate", "heading", "since", "why")]
    for x in res.layers:
        since = x.in_force_since or x.effective_from
        rows.append((x.layer, _rate_text(x), x.heading or "", since.isoformat() if since else "",
                     (x.summary or x.reason) + (f" [{x.applies_to}]" if x.applies_to else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    room = max(20, out.width - sum(widths) - 4)
    for k, r in enumerate(rows):
        cells = [c.ljust(w) if i != 1 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        why = r[4] if len(r[4]) <= room else r[4][: room - 1].rsplit(" ", 1)[0] + "…"
        out.print(" ".join([*cells, why]), style="bold" if k == 0 else None, highlight=False, markup=False)
    extra = f" + {' + '.join(res.specific)}" if res.specific else ""
    out.print(f"[bold]Total: {res.total_pct:g}%{extra}[/bold] (additional duties {res.total_additional_pct:g}%)")
    if explain:
        out.print("\n[bold]Product[/bold]: " + " > ".join((*res.path, res.description)))
        for x in res.layers:
            span = f"in force since {x.in_force_since.isoformat()}; " if x.in_force_since else ""
            if x.effective_from:
                span += f"this version {x.effective_from.isoformat()} to {x.effective_to.isoformat() if x.effective_to else 'now'}"
            out.print(f"\n[bold]{x.layer} {x.heading or ''}[/bold] {span}")
            out.print(f"  {x.reason}" + (f" Applies to {x.applies_to}." if x.applies_to else ""))
            if x.source:
                out.print(f"  Source: {x.source}")
        for n in res.notes:
            out.print(f"[yellow]note:[/yellow] {n}")
    else:
        unevaluated = [n for n in res.notes if " not evaluated: " in n]
        for n in res.notes:
            if n not in unevaluated:
                out.print(f"[yellow]note:[/yellow] {n}", highlight=False)
        if unevaluated:
            heads = ", ".join(n.split(" ", 1)[0] for n in unevaluated[:4]) + (" ..." if len(unevaluated) > 4 else "")
            out.print(f"[yellow]not evaluated[/yellow] ({len(unevaluated)}): {heads}; --explain says why",
                      overflow="ellipsis", no_wrap=True)
    if res.de_minimis:
        out.print(f"de minimis: {res.de_minimis.reason} ({res.de_minimis.source})")


def _batch_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, str | None] | str]]:
    """The rows of a batch file, one query per line; a line that cannot be read (not UTF-8,
    binary, too long, malformed) comes back as its error so the others still get answers."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise BadInput(f"cannot read batch file {path}: {exc.strerror}") from exc
    with fh:
        header: list[str] | None = None
        for n, raw in enumerate(fh, start=1):
            problem, text = _batch_line(raw, n, encoding)
            if header is None:
                if problem:
                    raise BadInput(f"batch file {path}, header line: {problem}")
                header = [h.strip() for h in next(csv.reader([text]), [])]
                missing = {"hts10", "origin", "entry_date"} - set(header)
                if missing:
                    raise BadInput(f"batch file {path} lacks column(s): {', '.join(sorted(missing))}")
                continue
            if problem:
                yield n, f"line {n}: {problem}"
                continue
            if not text.strip():
                continue
            try:
                values = next(csv.reader([text]), [])
            except csv.Error as exc:
                yield n, f"line {n}: malformed CSV ({exc})"
                continue
            if len(values) > len(header):
                yield n, f"line {n}: more fields than the header has"
                continue
            yield n, dict(zip(header, [*values, *[None] * (len(header) - len(values))], strict=True))
        if header is None:
            raise BadInput(f"batch file {path} is empty: it needs a header line hts10,origin,entry_date")


def _batch_line(raw: bytes, n: int, encoding: str) -> tuple[str | None, str]:
    """(problem or None, text) for one raw line of a batch file."""
    if len(raw) > MAX_BATCH_LINE:
        return f"{len(raw):,} bytes long; the limit is {MAX_BATCH_LINE:,} per line", ""
    if b"\x00" in raw:
        return "binary data (NUL bytes), not CSV text", ""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return (f"not {encoding} text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); save the "
                "file as UTF-8 (Excel: CSV UTF-8) or give its --encoding (e.g. cp1252)"), ""
    if n == 1:
        text = text.removeprefix("\ufeff")
    text = text.rstrip("\r\n")
    if text.count('"') % 2:
        return "malformed CSV (a quote is not closed; one query per line)", ""
    return None, text


@cli.command()
@click.argument("hts", required=False)
@click.option("--origin", "-o", help="Country of origin: ISO code, name or Census code.")
@click.option("--date", "-d", "day", help="Entry date YYYY-MM-DD (default: the newest date covered).")
@click.option("--loading-date", help="Date the goods were loaded for export (in-transit rules).")
@click.option("--usmca", "usmca", is_flag=True, help="Claim USMCA preference (general note 11).")
@click.option("--metal-content-share", help="Share of value that is 232 metal (0-1); default whole value.")
@click.option("--us-content-share", help="Share of value that is U.S. content (0-1).")
@click.option("--melt-pour-country", help="Country where the steel was melted and poured.")
@click.option("--program", help="Special program code for column 1 Special (e.g. KR, AU).")
@click.option("--value", "value_usd", type=float, help="Customs value in USD (de minimis check).")
@click.option("--batch", type=click.Path(path_type=Path), help="CSV of queries: hts10,origin,entry_date[,inputs].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with --batch one object per line; else CSV).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the --batch file.")
@click.option("--explain", is_flag=True, help="The full reason and citation of each layer, and every note.")
@click.option("--assume-unchanged", is_flag=True,
              help="For a date after the newest revision on file, answer with the newest law (flagged).")
@click.pass_obj
def rate(state: State, hts: str | None, origin: str | None, day: str | None, loading_date: str | None,
         usmca: bool, metal_content_share: str | None, us_content_share: str | None,
         melt_pour_country: str | None, program: str | None, value_usd: float | None,
         batch: Path | None, as_json: bool, encoding: str, explain: bool, assume_unchanged: bool) -> None:
    """The duty stack for one product, origin and entry date (or, with --batch, for each line)."""
    if batch is not None:
        try:
            "".encode(encoding)
        except LookupError as exc:
            raise BadInput(f"--encoding {encoding!r} is not a text encoding Python knows") from exc
        _run_batch(state, batch, as_json, encoding, assume_unchanged)
        return
    if not hts or not origin:
        raise BadInput("give an HTS code and --origin (or --batch FILE)")
    inputs = make_inputs({
        "loading_date": loading_date, "usmca_claimed": "true" if usmca else "",
        "metal_content_share": metal_content_share, "us_content_share": us_content_share,
        "melt_pour_country": melt_pour_country, "program": program,
        "value_usd": None if value_usd is None else str(value_usd),
    })
    eng = state.engine()
    when = parse_date(day) if day else eng.model.last_date
    res = eng.rate(hts, origin, when, inputs, assume_unchanged=assume_unchanged)
    if as_json:
        click.echo(json.dumps(res.to_json(), ensure_ascii=False))
    else:
        _render(res, explain)


BATCH_COLUMNS = ("line", "hts10", "origin", "entry_date", "revision", "total_pct", "additional_pct",
                 "specific", "layers", "not_evaluated", "error")


def _rate_text(x: Layer) -> str:
    """A layer's rate as people read it: "25%", "exempt", "2.2¢/kg" or "6.4% + 2.2¢/kg"."""
    rate = "exempt" if x.exempt else (f"{x.rate_pct:g}%" if x.rate_pct is not None else "")
    if x.specific:
        rate = f"{rate} + {x.specific}" if rate else x.specific
    return rate


def _batch_csv_row(n: int, res: RateResult) -> dict[str, Any]:
    """One answer as a flat CSV row: totals, then the layers as "layer rate heading" items."""
    def item(x: Layer) -> str:
        return f"{x.layer} {_rate_text(x)} {x.heading or ''}".strip()

    return {
        "line": n, "hts10": res.hts10, "origin": res.origin, "entry_date": res.entry_date.isoformat(),
        "revision": res.revision, "total_pct": f"{res.total_pct:g}",
        "additional_pct": f"{res.total_additional_pct:g}", "specific": " + ".join(res.specific),
        "layers": "; ".join(item(x) for x in res.layers if x.layer != "mfn" or x.rate_pct or x.specific),
        "not_evaluated": " ".join(n.split(" ", 1)[0] for n in res.notes if " not evaluated: " in n),
        "error": "",
    }


def _run_batch(state: State, path: Path, as_json: bool, encoding: str, assume_unchanged: bool) -> None:
    """Answer every line; bad lines are reported in place and the good ones still answered."""
    eng = state.engine()
    bad = 0
    writer = None if as_json else csv.DictWriter(sys.stdout, BATCH_COLUMNS, lineterminator="\n")
    if writer is not None:
        writer.writeheader()
    for n, row in _batch_rows(path, encoding):
        res: RateResult | None = None
        if isinstance(row, str):
            failed: dict[str, Any] = {"line": n, "error": row}
        else:
            try:
                res = eng.rate(row.get("hts10") or "", row.get("origin") or "",
                               parse_date(row.get("entry_date") or ""), make_inputs(row),
                               assume_unchanged=assume_unchanged)
            except TariffstackError as exc:
                failed = {"line": n, "hts10": row.get("hts10"), "origin": row.get("origin"),
                          "entry_date": row.get("entry_date"), "error": str(exc)}
        bad += res is None
        if writer is not None:
            writer.writerow(_batch_csv_row(n, res) if res is not None else failed)
        else:
            click.echo(json.dumps(res.to_json() if res is not None else failed, ensure_ascii=False))
    sys.stdout.flush()
    if bad:
        err.print(f"{bad} line(s) had errors (see the 'error' {'fields' if as_json else 'column'}); "
                  "the other lines were answered", soft_wrap=True)
        sys.exit(2)


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
    from .countries import all_countries, resolve

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
    from .fetch import fetch_mirror, fetch_usitc

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
        err.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
    for name, why in result.failed:
        err.print(f"[red]failed[/red] {name}: {why}")
    if result.failed:
        sys.exit(4)


@cli.command("check-news")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--date", "-d", "day", help="Article date when the text has no ' date YYYY-MM-DD' line.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def check_news(state: State, path: Path, day: str | None, as_json: bool) -> None:
    """Check the tariff claims in a news text against the schedule."""
    from .china import ChinaTariffs
    from .news import MAX_BYTES, check, read_article, render_claims

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_BYTES:
        raise BadInput(f"{path} is {len(raw):,} bytes; the limit is {MAX_BYTES:,}")
    if b"\x00" in raw:
        raise BadInput(f"{path} looks binary (it contains NUL bytes); give a plain-text article")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text") from exc
    article = read_article(text, parse_date(day) if day else None)
    china_dir = state.data_dir.parent / "china"
    china = ChinaTariffs.load(china_dir) if china_dir.is_dir() else None
    checked = check(article, state.engine(), china)
    if as_json:
        click.echo(json.dumps({"date": article.date.isoformat() if article.date else None,
                               "claims": [c.to_json() for c in checked]}, ensure_ascii=False))
    else:
        out.print(render_claims(checked))


@cli.command()
@click.option("--full", is_flag=True, help="Recompute every interval instead of only those that changed.")
@click.pass_obj
def build(state: State, full: bool) -> None:
    """Build or update the rate panel (every HTS-10 x origin x date) in the home folder."""
    from .panel import build as build_panel
    from .schedule import load_revisions

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


class _Stage:
    """One counted step of a long job: a bar on a terminal, a line per tenth when piped."""

    def __init__(self, steps: _Steps, name: str, total: int | None) -> None:
        self.steps, self.name, self.total, self.done, self.said = steps, name, total, 0, -1
        self.task = steps.bar.add_task(name, total=total) if steps.bar is not None else None

    def advance(self, what: str) -> None:
        self.update(what, self.done + 1, self.total)

    def update(self, what: str, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        if self.steps.bar is not None and self.task is not None:
            self.steps.bar.update(self.task, description=f"{self.name}: {what}", completed=done, total=total)
            return
        tenth = done * 10 // total if total else 0
        if tenth > self.said:  # piped: at most eleven lines per stage
            self.said = tenth
            err.print(f"{self.name}: {done}/{total} ({what})" if total else f"{self.name}: {what}",
                      soft_wrap=True, highlight=False)


class _Steps:
    """Progress that shows on a terminal and still says something in a log or a pipe."""

    def __init__(self) -> None:
        self.bar = (Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=err, transient=True) if err.is_terminal else None)

    def __enter__(self) -> _Steps:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def stage(self, name: str, total: int | None) -> _Stage:
        return _Stage(self, name, total)


def _panel(state: State) -> Any:
    from .panel import Panel

    return Panel.open(state.home)


@cli.command()
@click.argument("hts")
@click.option("--origin", "-o", "origins", multiple=True, required=True, help="Origin (repeat for several).")
@click.option("--from", "start", help="First date (default: the first date covered).")
@click.option("--to", "end", help="Last date (default: the newest date covered).")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a stacked step chart (.png or .svg).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def timeline(state: State, hts: str, origins: tuple[str, ...], start: str | None, end: str | None,
             plot: Path | None, as_json: bool) -> None:
    """Each interval of constant duties for a product, per origin, with what changed and why."""
    from .timeline import plot_timeline
    from .timeline import timeline as make_timeline

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
    from .files import atomic_path

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
    from .api import serve as run_server

    run_server(state.engine(), host=host, port=port, data_dir=state.data_dir, home=state.home,
               echo=lambda s: click.echo(s))


@cli.command()
@click.option("--revision", "-r", "revisions", multiple=True,
              help="Peer revision to compare (rev_17, 2026_rev_4 or '2025 rev 17'; repeatable; default all).")
@click.option("--date", "-d", "day", help="Compare on this date instead of the one chosen per revision.")
@click.option("--peer-dir", type=click.Path(path_type=Path),
              help="Folder of the peer's yale_*.csv.gz (default ../shared/peer/yale next to the data folder).")
@click.option("--verdicts", type=click.Path(path_type=Path), help="Verdicts CSV (default the packaged one).")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the Markdown report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@click.pass_obj
def crosscheck(state: State, revisions: tuple[str, ...], day: str | None, peer_dir: Path | None,
               verdicts: Path | None, output: Path | None, as_json: bool) -> None:
    """Compare the panel with the Yale Budget Lab tracker's statutory rates, per layer (needs build)."""
    from . import crosscheck as xc
    from .files import atomic_path

    folder = peer_dir or state.data_dir.parent / "peer" / "yale"
    rules = xc.load_verdicts(verdicts)
    eng, pan = state.engine(), _panel(state)
    with err.status("comparing with the peer...", spinner="dots"):
        rep = xc.run(eng, pan, folder, revisions=list(revisions) or None, day=day, verdicts=rules)
    if output is not None:
        with atomic_path(output) as tmp:
            tmp.write_text(rep.to_markdown(), encoding="utf-8")
        err.print(f"report written to {output}")
    if as_json:
        click.echo(xc.write_json(rep))
        return
    t = Table(title=f"agreement with the peer (tolerance {xc.TOLERANCE_PP} pp)")
    for col in ("revision", "date", "pairs", *xc.LAYERS, "all"):
        t.add_column(col, justify="right" if col not in ("revision", "date") else "left")
    for r in rep.revisions:
        t.add_row(r.choice.revision, r.choice.day.isoformat(), f"{r.pairs:,}",
                  *(xc.share_text(x.share) for x in r.layers), xc.share_text(r.all_share))
    out.print(t)
    top = Table(title="largest disagreement clusters")
    for col in ("layer", "our heading(s)", "origins", "ours", "theirs", "pairs", "verdict"):
        top.add_column(col, overflow="fold")
    for c in rep.clusters[:15]:
        top.add_row(c.layer, c.key, c.origin_label, f"{c.ours_pct:g}", f"{c.theirs_pct:g}", f"{c.pairs:,}", c.status)
    out.print(top)
    err.print(f"{len(rep.clusters):,} clusters; {rep.seconds:.1f} s")


@cli.group()
def registry() -> None:
    """The heading registry: every Chapter 99 heading as a reviewed, cited record."""


@registry.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def registry_check(state: State, as_json: bool) -> None:
    """Validate the registry against the schedule and count records by status and layer."""
    from .law.registry import load_registry

    reg = load_registry()
    state.engine()  # the build checks that every printed heading has a record
    counts: dict[str, dict[str, int]] = {}
    for recs in reg.by_heading.values():
        for r in recs:
            counts.setdefault(r.status, {}).setdefault(r.layer, 0)
            counts[r.status][r.layer] += 1
    if as_json:
        click.echo(json.dumps({"headings": len(reg.by_heading), "records": len(reg), "by_status": counts}))
        return
    t = Table(title=f"{len(reg.by_heading)} headings, {len(reg)} records")
    statuses = sorted(counts)
    t.add_column("layer")
    for status in statuses:
        t.add_column(status, justify="right")
    for layer in sorted({layer for c in counts.values() for layer in c}):
        t.add_row(layer, *(str(counts[s].get(layer, "")) for s in statuses))
    out.print(t)


@registry.command("propose")
@click.pass_obj
def registry_propose(state: State) -> None:
    """Print proposed rows (the parser's reading) for printed headings that have no record."""
    from .law.propose import proposals

    click.echo(proposals(state.data_dir), nl=False)


@registry.command("ledger")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the CSV here (default stdout).")
@click.pass_obj
def registry_ledger(state: State, output: Path | None) -> None:
    """The scope ledger: each heading version's period, rate, lines and origins reached."""
    from .files import atomic_path
    from .law.ledger import rows, to_csv

    text = to_csv(rows(state.engine().model))
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    err.print(f"{text.count(chr(10)) - 1:,} ledger rows written to {output}")


@cli.command("effective-rate")
@click.option("--date", "-d", "day", help="One date (default: the newest date covered, unless --from/--to).")
@click.option("--from", "start", help="First date of a series (one row per interval of constant rates).")
@click.option("--to", "end", help="Last date of a series (default: the newest date covered).")
@click.option("--by", type=click.Choice(["partner", "chapter", "sector", "layer"]),
              help="Breakdown (default: overall and by partner group).")
@click.option("--weights-dir", type=click.Path(path_type=Path), envvar="TARIFFSTACK_WEIGHTS_DIR",
              help="Folder of import weights (default: the data folder's sibling 'weights').")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a chart of the series (.png or .svg).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def effective_rate(state: State, day: str | None, start: str | None, end: str | None, by: str | None,
                   weights_dir: Path | None, plot: Path | None, as_json: bool) -> None:
    """Import-weighted (statutory effective) tariff rate: overall, by partner, chapter or layer."""
    from .stats.effective import run_cli

    run_cli(state.data_dir, _panel(state), day=day, start=start, end=end, by=by,
            weights_dir=weights_dir, plot=plot, as_json=as_json, out=out, err=err)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except TariffstackError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
