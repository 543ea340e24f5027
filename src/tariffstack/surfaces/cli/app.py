"""The command group, its shared state, progress display, and the entry point that turns errors into exit codes."""


from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from tariffstack.config import default_data_dir, default_home
from tariffstack.engine.us import Engine
from tariffstack.errors import TariffstackError

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
    from tariffstack.panel import Panel

    return Panel.open(state.home)



def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except TariffstackError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)  # "[/x]" is text
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
