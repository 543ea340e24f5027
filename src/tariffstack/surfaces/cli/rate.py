"""``rate``: one stack, or a batch CSV of queries."""


from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from tariffstack.engine.us import parse_date
from tariffstack.errors import BadInput, TariffstackError
from tariffstack.models import Layer, RateResult
from tariffstack.service.inputs import parse_inputs
from tariffstack.surfaces.cli.app import State, cli, err, out

MAX_BATCH_LINE = 10_000


def _render(res: RateResult, explain: bool = False) -> None:
    """The stack as a table that stays one line per layer at 80 columns; ``explain`` adds why."""
    out.print(f"[bold]{res.hts10}[/bold]  {escape(res.description)}", overflow="ellipsis", no_wrap=not explain)
    out.print(f"{res.origin_name} ({res.origin}), entered {res.entry_date.isoformat()}, HTS {res.revision}", markup=False)
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
        out.print("\n[bold]Product[/bold]: " + escape(" > ".join((*res.path, res.description))))
        for x in res.layers:
            span = f"in force since {x.in_force_since.isoformat()}; " if x.in_force_since else ""
            if x.effective_from:
                span += f"this version {x.effective_from.isoformat()} to {x.effective_to.isoformat() if x.effective_to else 'now'}"
            out.print(f"\n[bold]{x.layer} {x.heading or ''}[/bold] {span}")
            out.print(f"  {x.reason}" + (f" Applies to {x.applies_to}." if x.applies_to else ""), markup=False)
            if x.source:
                out.print(f"  Source: {x.source}", markup=False)
        for n in res.notes:
            out.print(f"[yellow]note:[/yellow] {escape(n)}")
    else:
        unevaluated = [n for n in res.notes if " not evaluated: " in n]
        for n in res.notes:
            if n not in unevaluated:
                out.print(f"[yellow]note:[/yellow] {escape(n)}", highlight=False)
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
@click.option("--importer", default="US", show_default=True,
              help="Whose tariff: US, or CN for China's duty on U.S. goods (--origin US; docs/CHINA.md).")
@click.pass_obj
def rate(state: State, hts: str | None, origin: str | None, day: str | None, loading_date: str | None,
         usmca: bool, metal_content_share: str | None, us_content_share: str | None,
         melt_pour_country: str | None, program: str | None, value_usd: float | None,
         batch: Path | None, as_json: bool, encoding: str, explain: bool, assume_unchanged: bool,
         importer: str) -> None:
    """The duty stack for one product, origin and entry date (or, with --batch, for each line)."""
    from tariffstack.surfaces.cli.war import check_us_side_origin, importer_of, rate_cn

    if importer_of(importer) == "CN":
        rate_cn(state, hts, origin, day, loading_date, as_json, explain, {
            "--batch": batch, "--usmca": usmca, "--metal-content-share": metal_content_share,
            "--us-content-share": us_content_share, "--melt-pour-country": melt_pour_country,
            "--program": program, "--value": value_usd, "--assume-unchanged": assume_unchanged})
        return
    check_us_side_origin(origin)
    if batch is not None:
        try:
            "".encode(encoding)
        except (LookupError, ValueError) as exc:
            raise BadInput(f"--encoding {encoding!r} is not a text encoding Python knows") from exc
        _run_batch(state, batch, as_json, encoding, assume_unchanged)
        return
    if not hts or not origin:
        raise BadInput("give an HTS code and --origin (or --batch FILE)")
    inputs = parse_inputs({
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
                               parse_date(row.get("entry_date") or ""), parse_inputs(row),
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
