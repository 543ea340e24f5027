"""Commands over the law: ``crosscheck`` with the peer and the heading ``registry``."""


from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from tariffstack.surfaces.cli.app import State, _panel, cli, err, out


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
    from tariffstack.files import atomic_path
    from tariffstack.stats import crosscheck as xc

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
    from tariffstack.law.registry import load_registry

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
    from tariffstack.law.propose import proposals

    click.echo(proposals(state.data_dir), nl=False)


@registry.command("ledger")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the CSV here (default stdout).")
@click.pass_obj
def registry_ledger(state: State, output: Path | None) -> None:
    """The scope ledger: each heading version's period, rate, lines and origins reached."""
    from tariffstack.files import atomic_path
    from tariffstack.law.ledger import rows, to_csv

    text = to_csv(rows(state.engine().model))
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    err.print(f"{text.count(chr(10)) - 1:,} ledger rows written to {output}")
