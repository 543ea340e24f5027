"""``check-news``: the claims of an article, checked."""


from __future__ import annotations

import json
from pathlib import Path

import click

from tariffstack.engine.us import parse_date
from tariffstack.errors import BadInput
from tariffstack.surfaces.cli.app import State, cli, out


@cli.command("check-news")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--date", "-d", "day", help="Article date when the text has no ' date YYYY-MM-DD' line.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def check_news(state: State, path: Path, day: str | None, as_json: bool) -> None:
    """Check the tariff claims in a news text against the schedule."""
    from tariffstack.news import MAX_BYTES, check, load_extras, read_article, render_claims
    from tariffstack.service.queries import china_dir
    from tariffstack.sources.china import ChinaTariffs

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_BYTES:
        raise BadInput(f"{path} is {len(raw):,} bytes; the limit is {MAX_BYTES:,}")
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise BadInput(f"{path} looks binary (NUL bytes on line {line}); give a plain-text article")
    try:
        text = raw.decode("utf-8-sig")  # a BOM must not hide the " date YYYY-MM-DD" line
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BadInput(f"{path} line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                       f"{column}); save the article as UTF-8") from None
    article = read_article(text, parse_date(day) if day else None)
    folder = china_dir(state.data_dir)
    china = ChinaTariffs.load(folder) if folder.is_dir() else None
    panel, weights = load_extras(state.home, state.data_dir)   # composite totals: all lines
    checked = check(article, state.engine(), china, panel=panel, weights=weights)
    if as_json:
        click.echo(json.dumps({"date": article.date.isoformat() if article.date else None,
                               "claims": [c.to_json() for c in checked]}, ensure_ascii=False))
    else:
        out.print(render_claims(checked))
