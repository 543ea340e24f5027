"""``war``: both sides of the U.S.-China tariff war; and China's side of ``rate`` / ``timeline`` (--importer CN)."""


from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tariffstack.engine.cn import ChinaEngine, CnInputs, describe_from_us, parse_when
from tariffstack.errors import BadInput
from tariffstack.law import countries
from tariffstack.models import CnLayer, CnRateResult
from tariffstack.surfaces.cli.app import State, _panel, cli, err, out

CHINA_ENV = "TARIFFSTACK_CHINA_DIR"
IMPORTERS = ("US", "CN")
_ENGINES: dict[Path, ChinaEngine] = {}


def china_dir(state: State) -> Path:
    """``$TARIFFSTACK_CHINA_DIR``, else the data folder's sibling ``china`` (../shared/hts -> ../shared/china)."""
    env = os.environ.get(CHINA_ENV)
    return Path(env).expanduser() if env else Path(state.data_dir).parent / "china"


def china_engine(state: State) -> ChinaEngine:
    """China's schedule, with HS6 descriptions from the U.S. schedule (loaded once per process)."""
    folder = china_dir(state)
    if folder not in _ENGINES:
        us = state.engine()
        _ENGINES[folder] = ChinaEngine.load(folder, describe_from_us(us.model.lines[-1]))
    return _ENGINES[folder]


def importer_of(text: str | None) -> str:
    imp = (text or "US").strip().upper()
    if imp not in IMPORTERS:
        raise BadInput(f"--importer {text!r}: one of US (the U.S. schedule) or CN (China's duty on U.S. goods)")
    return imp


def check_us_side_origin(origin: str | None) -> None:
    """The U.S. schedule taxes goods entering the U.S.: an origin of the U.S. itself is a mistake."""
    if origin and countries.resolve(origin).iso2 == "US":
        raise BadInput("origin US on the U.S. side: U.S. goods pay no U.S. import duty. For China's duty on U.S. "
                       "goods give --importer CN --origin US")


def _short(number: str | None) -> str:
    if not number:
        return "WTO"
    import re

    m = re.search(r"第\s*(\d+)\s*号", number)
    return f"No.{m.group(1)}{'?' if 'possibly' in number or 'not found' in number else ''}" if m else number[:8]


def _when(v: Any) -> str:
    if v is None:
        return ""
    text: str = v.isoformat(sep=" ", timespec="minutes") if hasattr(v, "hour") else v.isoformat()
    return text.removesuffix(" 00:00")


def _rate_text(x: CnLayer) -> str:
    pct = "?" if x.rate_pct is None else f"{x.rate_pct:g}%"
    if x.exempt:
        return f"({pct})"
    return pct if x.certain else f"{pct}?"


def render_cn(res: CnRateResult, explain: bool = False) -> None:
    """China's duty as a table that stays one line per layer at 80 columns; ``explain`` adds why and sources."""
    what = f"HS8 {res.code}" if res.level == "HS8" else f"HS6 {res.hs6[:4]}.{res.hs6[4:]}"
    head = f" ({res.path[-1].rstrip(':')})" if res.path else ""
    out.print(f"[bold]{what}[/bold]  {res.description}{head}", overflow="ellipsis", no_wrap=not explain,
              highlight=False)
    out.print(f"China's duty on goods from the United States, {_when(res.entry_date)} Beijing time", highlight=False)
    rows = [("layer", "rate", "notice", "since", "why")]
    for x in res.layers:
        rows.append((x.layer, _rate_text(x), _short(x.notice), _when(x.effective_from)[:10],
                     (x.summary or x.reason) + (f" [{x.applies_to}]" if x.applies_to else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    room = max(20, out.width - sum(widths) - 4)
    for k, r in enumerate(rows):
        cells = [c.ljust(w) if i != 1 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        why = r[4] if len(r[4]) <= room else r[4][: room - 1].rsplit(" ", 1)[0] + "…"
        out.print(" ".join([*cells, why]), style="bold" if k == 0 else None, highlight=False, markup=False)
    if res.total_pct is None:
        out.print(f"[bold]Total: unknown[/bold] (no WTO base rate; additional duties {res.total_additional_pct:g}%)")
    else:
        extra = (f"; {res.upper_pct:g}% if the uncertain list (?) holds it" if res.upper_pct != res.total_pct else "")
        out.print(f"[bold]Total: {res.total_pct:g}%[/bold] (additional duties {res.total_additional_pct:g}%{extra})",
                  highlight=False)
    wto = res.wto
    if wto.get("best_avlbl") is not None:
        out.print(f"WTO figure for HS6 {res.hs6} on {wto['date']}: {wto['best_avlbl']:g}%", highlight=False)
    if res.several_lines:
        out.print(f"[yellow]note:[/yellow] {res.several_lines}", highlight=False)
    if explain:
        out.print(f"\n[bold]Which source the answer follows[/bold]: {res.follows}", highlight=False)
        for x in res.layers:
            span = f"from {_when(x.effective_from)}" if x.effective_from else ""
            if x.effective_to:
                span += f" until {_when(x.effective_to)}"
            out.print(f"\n[bold]{x.layer} {_short(x.notice)}[/bold] {span} ({x.status})", highlight=False)
            out.print(f"  {x.reason}" + (f" Applies to {x.applies_to}." if x.applies_to else ""), highlight=False)
            if x.source:
                out.print(f"  Source: {x.source}", highlight=False)
    for n in res.notes:
        out.print(f"[yellow]note:[/yellow] {n}", highlight=False)


def rate_cn(state: State, hts: str | None, origin: str | None, day: str | None, shipped: str | None,
            as_json: bool, explain: bool, us_only: dict[str, Any]) -> None:
    """``rate --importer CN``: China's duty on a U.S. good."""
    given = [name for name, v in us_only.items() if v]
    if given:
        raise BadInput(f"{', '.join(given)} {'belongs' if len(given) == 1 else 'belong'} to the U.S. side; with --importer CN only --origin US, --date, "
                       "--loading-date (the shipping date, for in-transit rules), --json and --explain apply")
    if not hts:
        raise BadInput("give an HS code (HS6 such as 1201.90, a Chinese 8-digit line, or a U.S. HTS-10)")
    cn = china_engine(state)
    when = parse_when(day) if day else cn.last_date
    res = cn.rate(hts, when, CnInputs(shipped=parse_when(shipped) if shipped else None), origin=origin or "US")
    if as_json:
        click.echo(json.dumps(res.to_json(), ensure_ascii=False))
    else:
        render_cn(res, explain)


def timeline_cn(state: State, hts: str, origins: tuple[str, ...], start: str | None, end: str | None,
                plot: Path | None, as_json: bool) -> None:
    """``timeline --importer CN``: China's duty on a U.S. good over time."""
    from tariffstack.engine.cn_timeline import cn_timeline, notice_marks, plot_cn_timeline
    from tariffstack.files import atomic_path

    cn = china_engine(state)
    for o in origins:
        cn.check_origin(o)
    tl = cn_timeline(cn, hts, start, end)
    if plot is not None:
        fmt = _plot_format(plot)
        with atomic_path(plot) as tmp, tmp.open("wb") as fh:
            plot_cn_timeline(tl, fh, fmt, notice_marks(cn))
        err.print(f"chart written to {plot}")
    if as_json:
        click.echo(json.dumps(tl.to_json(), indent=1, ensure_ascii=False))
        return
    what = f"HS8 {tl.code}" if tl.level == "HS8" else f"HS6 {tl.hs6[:4]}.{tl.hs6[4:]}"
    table = Table(title=f"China's duty on U.S. goods, {what}: {tl.description[:50]}")
    for col in ("from", "until", "total %", "layers", "what changed"):
        table.add_column(col)
    for s in tl.segments:
        total = "unknown" if s.total_pct is None else f"{s.total_pct:g}"
        if s.upper_pct is not None and s.upper_pct != s.total_pct:
            total += f" (or {s.upper_pct:g})"
        layers = ", ".join(f"{k} {v:g}" for k, v in s.layers.items() if v) or "-"
        table.add_row(s.valid_from.isoformat(), s.valid_until.isoformat(), total, layers, "\n".join(s.changes))
    out.print(table)
    if tl.several_lines:
        out.print(f"[yellow]note:[/yellow] {tl.several_lines}", highlight=False)


def _plot_format(plot: Path) -> str:
    fmt = plot.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise BadInput(f"--plot {plot}: the file name must end in .png or .svg")
    return fmt


def _clip(text: str, room: int = 70) -> str:
    """A change sentence cut at a word for the table (--json has it whole)."""
    return text if len(text) <= room else text[: room - 1].rsplit(" ", 1)[0] + "…"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


@cli.command()
@click.argument("hts", required=False)
@click.option("--average", is_flag=True, help="The import-weighted average each way instead of one product.")
@click.option("--from", "start", help="First date (default: the first date both sides cover, 2025-01-01).")
@click.option("--to", "end", help="Last date (default: the last date both sides cover).")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a chart with the 2025 events marked (.png/.svg).")
@click.option("--weights-dir", type=click.Path(path_type=Path), envvar="TARIFFSTACK_WEIGHTS_DIR",
              help="Folder of U.S. import weights (default: the data folder's sibling 'weights').")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def war(state: State, hts: str | None, average: bool, start: str | None, end: str | None, plot: Path | None,
        weights_dir: Path | None, as_json: bool) -> None:
    """Both sides: the U.S. duty on a Chinese product and China's on the U.S. one, or the averages (--average)."""
    from tariffstack.files import atomic_path
    from tariffstack.stats import war as both

    if hts and average:
        raise BadInput("give an HTS code (e.g. 8517.13.0000) or --average, not both")
    if not hts and not average:
        raise BadInput("give an HTS code (e.g. war 8517.13.0000) or --average")
    fmt = _plot_format(plot) if plot is not None else None
    cn = china_engine(state)
    if hts:
        wp = both.product(state.engine(), cn, hts, start, end)
        if plot is not None and fmt is not None:
            with atomic_path(plot) as tmp, tmp.open("wb") as fh:
                both.plot_product(wp, fh, fmt)
            err.print(f"chart written to {plot}")
        if as_json:
            click.echo(json.dumps(wp.to_json(), indent=1, ensure_ascii=False))
            return
        table = Table(title=f"Both sides: HTS {wp.hts10} {wp.description[:40]} / HS6 {wp.hs6}")
        for col in ("from", "until", "U.S. on CN %", "CN on U.S. %", "what changed"):
            table.add_column(col)
        for r in wp.rows:
            cn_text = _pct(r.cn_total) + (f" (or {r.cn_upper:.1f})" if r.cn_upper != r.cn_total else "")
            table.add_row(r.valid_from.isoformat(), r.valid_until.isoformat(), _pct(r.us_total), cn_text,
                          "\n".join(_clip(c) for c in r.changes))
        out.print(table)
        for n in wp.notes:
            out.print(f"[yellow]note:[/yellow] {n}", highlight=False)
        return
    from tariffstack.engine.us import parse_date
    from tariffstack.stats.weights import default_weights_dir, load

    panel = _panel(state)
    weights = load(weights_dir if weights_dir is not None else default_weights_dir(Path(state.data_dir)))
    series = None
    if plot is not None or start is not None or end is not None:
        with err.status("computing both averages over every interval...", spinner="dots"):
            rows, full = both.both_averages(cn, panel, weights)
        series = full.clip(parse_date(start) if start else None, parse_date(end) if end else None)
    else:
        rows = both.wto_date_averages(cn, panel, weights)
    if plot is not None and fmt is not None and series is not None:
        with atomic_path(plot) as tmp, tmp.open("wb") as fh:
            both.plot_averages(series, fh, fmt)
        err.print(f"chart written to {plot}")
    if as_json:
        obj: dict[str, Any] = {"wto_dates": rows, "us_weights": both.US_WEIGHTS, "cn_weights": both.CN_WEIGHTS}
        if series is not None:
            obj["series"] = series.to_json()
        click.echo(json.dumps(obj, indent=1, ensure_ascii=False))
        return
    table = Table(title="Average duty each way on the WTO dates (percent of value, import-weighted)",
                  caption=f"U.S.: {both.US_WEIGHTS}. China: {both.CN_WEIGHTS}.")
    for col in ("date", "U.S. on CN", "of which add.", "CN on U.S.", "of which add.", "WTO file"):
        table.add_column(col, justify="right" if col != "date" else "left")
    for a in rows:
        table.add_row(a["date"], _pct(a["us_total_pct"]), _pct(a["us_additional_pct"]), _pct(a["cn_total_pct"]),
                      _pct(a["cn_additional_pct"]), _pct(a["cn_wto_pct"]))
    out.print(table)
