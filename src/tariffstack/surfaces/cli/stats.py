"""``effective-rate``: import-weighted average duty."""


from __future__ import annotations

from pathlib import Path

import click

from tariffstack.surfaces.cli.app import State, _panel, cli, err, out


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
    from tariffstack.stats.effective import run_cli

    run_cli(state.data_dir, _panel(state), day=day, start=start, end=end, by=by,
            weights_dir=weights_dir, plot=plot, as_json=as_json, out=out, err=err)
