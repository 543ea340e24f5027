"""``calc``, ``calc-bulk``, ``refunds``: duty in dollars for a shipment, a file, past IEEPA entries."""


from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from tariffstack.errors import BadInput, DataError
from tariffstack.service.inputs import parse_inputs
from tariffstack.surfaces.cli.app import State, _Steps, cli, err, out


def _money(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def pricer_for(state: State, *, assume_unchanged: bool = False, panel: bool = True) -> Any:
    """A pricer over the engine and, when it is current, the built rate panel (faster files)."""
    from tariffstack.calc.pricing import PanelTables, Pricer

    eng = state.engine()
    tables = None
    if panel:
        try:
            tables = PanelTables.load(state.home)
        except DataError:
            err.print(f"note: no rate panel in {state.home}: each distinct situation is evaluated by the engine "
                      "(run 'tariffstack build' to price large files faster)", soft_wrap=True, highlight=False)
        else:
            if not tables.matches(eng):
                err.print("note: the rate panel was built from other law or revisions: not used "
                          "(run 'tariffstack build' to refresh it)", soft_wrap=True, highlight=False)
                tables = None
    return Pricer(eng, tables, assume_unchanged=assume_unchanged)


@cli.command()
@click.argument("hts")
@click.option("--origin", "-o", required=True, help="Country of origin: ISO code, name or Census code.")
@click.option("--date", "-d", "day", help="Entry date YYYY-MM-DD (default: the newest date covered).")
@click.option("--value", "value", required=True, type=float, help="Customs value in USD.")
@click.option("--qty", "quantity", type=float, help="Quantity (needed for specific duties such as 2.2¢/kg).")
@click.option("--unit", help="Unit of --qty: kg, lb, prs, no, doz, l, pf. liter, m2, ... (docs/CALC.md).")
@click.option("--qty2", "quantity_2", type=float, help="A second quantity (e.g. proof liters beside liters).")
@click.option("--unit2", "unit_2", help="Unit of --qty2.")
@click.option("--mode", default="", help="ocean, air, truck, rail, postal, courier or other (HMF is ocean only).")
@click.option("--entry-type", help="formal, formal_manual, informal, informal_manual, informal_cbp_prepared "
                                   "(default: informal up to $2,500, else formal).")
@click.option("--items", default=1, type=int, show_default=True, help="Postal items (packages) in the shipment.")
@click.option("--postal-method", type=click.Choice(["ad_valorem", "specific"]),
              help="The carrier's choice for postal duties (default ad valorem).")
@click.option("--mpf-exempt", is_flag=True, help="The goods are exempt from MPF (e.g. USMCA-originating).")
@click.option("--loading-date", help="Date the goods were loaded for export (in-transit rules).")
@click.option("--usmca", "usmca", is_flag=True, help="Claim USMCA preference (general note 11).")
@click.option("--metal-content-share", help="Share of value that is 232 metal (0-1); default whole value.")
@click.option("--us-content-share", help="Share of value that is U.S. content (0-1).")
@click.option("--melt-pour-country", help="Country where the steel was melted and poured.")
@click.option("--program", help="Special program code for column 1 Special (e.g. KR, AU).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--explain", is_flag=True, help="Reasons and sources of every layer and fee.")
@click.option("--assume-unchanged", is_flag=True, help="Past the newest revision: price with the newest law (flagged).")
@click.pass_obj
def calc(state: State, hts: str, origin: str, day: str | None, value: float, quantity: float | None,
         unit: str | None, quantity_2: float | None, unit_2: str | None, mode: str, entry_type: str | None,
         items: int, postal_method: str | None, mpf_exempt: bool, loading_date: str | None, usmca: bool,
         metal_content_share: str | None, us_content_share: str | None, melt_pour_country: str | None,
         program: str | None, as_json: bool, explain: bool, assume_unchanged: bool) -> None:
    """Duty and fees in dollars for one shipment line, layer by layer, with the source of each."""
    from tariffstack.calc.quote import Shipment, quote

    inputs = parse_inputs({
        "loading_date": loading_date, "usmca_claimed": "true" if usmca else "",
        "metal_content_share": metal_content_share, "us_content_share": us_content_share,
        "melt_pour_country": melt_pour_country, "program": program,
    })
    pricer = pricer_for(state, assume_unchanged=assume_unchanged, panel=False)
    when = day or pricer.last.isoformat()
    q = quote(pricer, Shipment(hts, origin, when, value, quantity, unit, quantity_2, unit_2, mode, entry_type,
                               items, postal_method, mpf_exempt, inputs))
    if as_json:
        click.echo(json.dumps(q.to_json(), ensure_ascii=False, default=str))
        return
    _render(q, explain)


def _render(q: Any, explain: bool) -> None:
    r = q.row
    out.print(f"[bold]{r['hts10']}[/bold]  {escape(q.rate.description)}", overflow="ellipsis", no_wrap=True)
    qty = f", {r['quantity']:,g} {r['unit']}" if r["quantity"] is not None else ""
    qty += f", {r['quantity_2']:,g} {r['unit_2']}" if r["quantity_2"] is not None else ""
    out.print(f"{escape(q.rate.origin_name)} ({r['origin']}), entered {r['entry_date']}, HTS {r['revision']}; "
              f"value ${r['value']:,.2f}{qty}{', ' + r['mode'] if r['mode'] else ''}", highlight=False)
    rows = [("layer", "rate", "base $", "duty $", "heading")]
    for x in q.layers:
        if x["exempt"] and not explain:
            rows.append((x["layer"], "exempt", "", "0.00", x["heading"] or ""))
            continue
        rows.append((x["layer"], x["rate"], _money(x["base_usd"]), _money(x["usd"]), x["heading"] or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for k, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1][:28].rjust(min(widths[1], 28)), row[2].rjust(widths[2]),
                 row[3].rjust(widths[3]), row[4]]
        out.print(" ".join(cells), style="bold" if k == 0 else None, highlight=False, markup=False)
    if r["postal"]:
        out.print(f"postal duty {_money(r['postal_duty_usd'])} replaces the stack above "
                  f"({escape(q.postal['chosen']['method'])})", highlight=False)
    if r["de_minimis"]:
        out.print(f"de minimis: entered free ({escape(q.de_minimis['rule'])}: {escape(q.de_minimis['source'])})", highlight=False)
    out.print(f"[bold]Duty ${_money(r['duty_usd'])}[/bold] ({r['duty_pct_of_value']:g}% of value)", highlight=False)
    for f in q.fees:
        if f["usd"] is None:
            continue
        label = "MPF" if f["fee"] == "mpf" else f["fee"].upper()
        kind = f" {r['entry_type']}" if f["fee"] == "mpf" else ""
        out.print(f"{label}{kind}: ${_money(f['usd'])} ({escape(f['basis'])})", highlight=False)
    out.print(f"[bold]Total ${_money(r['total_usd'])}[/bold] (duty and fees {r['landed_pct_of_value']:g}% of value)",
              highlight=False)
    if explain:
        for x in q.layers:
            out.print(f"\n[bold]{x['layer']} {x['heading'] or ''}[/bold]: {escape(x['rate'])} on {escape(x['base'])}", highlight=False)
            out.print(f"  {escape(x['reason'])}", highlight=False)
            if x.get("floor"):
                out.print(f"  Floor: {escape(x['floor'])}", highlight=False)
            if x["source"]:
                out.print(f"  Source: {escape(x['source'])}", highlight=False)
        for f in q.fees:
            out.print(f"\n[bold]{f['fee'].upper()}[/bold] {escape(f['basis'])}\n  Source: {escape(f['source'])}", highlight=False)
        dm = q.de_minimis
        out.print(f"\n[bold]de minimis[/bold] ({'eligible' if dm['eligible'] else 'not eligible'}): {escape(dm['reason'])}\n"
                  f"  Source: {escape(dm['source'])}", highlight=False)
        if q.postal:
            for which in ("chosen", "alternative"):
                opt = q.postal.get(which)
                if opt:
                    out.print(f"\n[bold]postal {which}[/bold] {escape(opt['method'])}: ${_money(opt['usd'])}\n"
                              f"  Source: {escape(opt['source'])}", highlight=False)
    for n in [*q.notes, *(q.rate.notes if explain else [])]:
        out.print(f"[yellow]note:[/yellow] {escape(str(n))}", highlight=False)


@cli.command("calc-bulk")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--output", "-o", "dest", required=True, type=click.Path(path_type=Path),
              help="Priced file: .csv, .parquet or .xlsx (written atomically).")
@click.option("--engine", "engine_kind", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="Price on this machine, or as an Apache Spark job (local mode unless --spark-master).")
@click.option("--spark-master", help="Spark master URL (default local[*]; docs/CALC.md for clusters).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of a CSV input (e.g. cp1252).")
@click.option("--sheet", help="Worksheet of an Excel input (default: the one sheet with the columns).")
@click.option("--assume-unchanged", is_flag=True, help="Lines past the newest revision: priced with the newest law (flagged).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def calc_bulk(state: State, src: Path, dest: Path, engine_kind: str, spark_master: str | None, encoding: str,
              sheet: str | None, assume_unchanged: bool, as_json: bool) -> None:
    """Price every line of a CSV, Parquet or Excel file; bad lines are reported, the rest priced."""
    if engine_kind == "spark":
        from tariffstack.calc.spark import price_file_spark

        with _Steps() as steps:
            stage = steps.stage("Spark job", None)
            report = price_file_spark(state.data_dir, state.home, src, dest, master=spark_master,
                                      encoding=encoding, sheet=sheet, assume_unchanged=assume_unchanged,
                                      progress=lambda what: stage.update(what, 0, None))
    else:
        from tariffstack.calc.bulk import price_file

        pricer = pricer_for(state, assume_unchanged=assume_unchanged)
        with _Steps() as steps:
            stage = steps.stage("pricing", None)

            def progress(done: int, total: int, lines: int) -> None:
                stage.update(f"{lines:,} lines", done, total or None)

            report = price_file(pricer, src, dest, encoding=encoding, sheet=sheet, progress=progress)
    _report(report, as_json)


def _report(report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        t = report.totals
        rate = report.lines / report.seconds * 60 if report.seconds else 0
        out.print(f"{report.priced:,} lines priced, {report.bad:,} bad, in {report.seconds:.1f} s "
                  f"({rate:,.0f} lines/min, {report.engine}) -> {report.output}", highlight=False)
        out.print(f"value ${_money(t.get('value'))}; duty ${_money(t.get('duty_usd'))}; fees "
                  f"${_money(t.get('fees_usd'))}; total ${_money(t.get('total_usd'))}", highlight=False)
        if report.sources_file:
            out.print(f"sources of every figure: {report.sources_file}", highlight=False)
    if report.bad:
        for n, e in report.errors:
            err.print(f"line {n}: {e}", highlight=False, soft_wrap=True, markup=False)  # a value is text
        more = report.bad - len(report.errors)
        err.print(f"{report.bad:,} line(s) had errors{f' ({more:,} more not shown)' if more > 0 else ''}: "
                  "see the 'error' column; the other lines were priced", soft_wrap=True)
        sys.exit(2)


@cli.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--output", "-o", "dest", required=True, type=click.Path(path_type=Path),
              help="Refund estimate per line: .csv, .parquet or .xlsx (Excel adds totals and the rules).")
@click.option("--as-of", help="Date the status is judged on (default today).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of a CSV input.")
@click.option("--sheet", help="Worksheet of an Excel input.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def refunds(state: State, src: Path, dest: Path, as_of: str | None, encoding: str, sheet: str | None,
            as_json: bool) -> None:
    """IEEPA duties per past entry line (computed from the law on its date), against what was paid,
    with the status a broker acts on (liquidation, CAPE, protest window) and totals."""
    from tariffstack.calc.refunds import refund_file
    from tariffstack.engine.us import parse_date

    day = parse_date(as_of) if as_of else date.today()
    pricer = pricer_for(state)
    with _Steps() as steps:
        stage = steps.stage("estimating", None)
        report = refund_file(pricer, src, dest, as_of=day, encoding=encoding, sheet=sheet,
                             progress=lambda done, total, lines: stage.update(f"{lines:,} lines", done, total or None))
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, default=str))
    else:
        for row in report.summary_lines():
            out.print(row, highlight=False)
    if report.bad:
        for n, e in report.errors:
            err.print(f"line {n}: {e}", highlight=False, soft_wrap=True, markup=False)  # a value is text
        err.print(f"{report.bad:,} line(s) had errors: see the 'error' column; the others were estimated",
                  soft_wrap=True)
        sys.exit(2)
    if not report.lines:
        raise BadInput(f"{src} has no entry lines")
