"""The ``tariffstack`` command run in-process, as a user's shell would run it, but fast.

``main()`` is the entry point that turns errors into one line and an exit code; it runs inside
click's CliRunner isolation (stdin/stdout/stderr captured, environment overridden), so a fuzz
test can afford hundreds of invocations. An exception that escapes ``main()`` is exactly what a
user would see as a traceback, so it is left to fail the test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tariffstack.engine.us import Engine
from tariffstack.surfaces.cli import app, main
from tariffstack.surfaces.cli.app import State


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    # the names of subprocess.CompletedProcess, so a test written for a child process reads the same
    @property
    def returncode(self) -> int:
        return self.code

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err

    def one_line_error(self, code: int, *fragments: str) -> str:
        """Assert the user got exit ``code`` and one line on stderr naming the problem."""
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        assert self.code == code, (self.code, self.err[-2000:])
        assert "Traceback" not in self.err, self.err[-2000:]
        assert len(lines) == 1, self.err[-2000:]
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        return lines[0]


def invoke(*args: str, env: dict[str, str | None] | None = None, stdin: bytes | None = None) -> Outcome:
    """Run ``tariffstack ARGS`` through ``main()``; returns the exit code and both streams."""
    runner = CliRunner()
    with runner.isolation(input=stdin, env=env) as (out, err, _):
        code = 0
        argv = sys.argv
        sys.argv = ["tariffstack", *args]
        # rich chose colours when the CLI was imported, for the streams pytest had then (a terminal
        # under `pytest -s`); choose again for these captured streams, as a piped process would
        consoles = (app.out, app.err)
        colours = [c._color_system for c in consoles]
        for c in consoles:
            c._color_system = c._detect_color_system()
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
            for c, colour in zip(consoles, colours, strict=True):
                c._color_system = colour
        return Outcome(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))


@contextmanager
def warm_engine(engine: Engine, data_dir: Path, home: Path) -> Iterator[None]:
    """Commands over this data folder and home use ``engine``, already loaded from them, instead
    of unpickling the model again on each call (0.7-0.9 s); any other pair of folders loads its
    own, as a fresh process would, so a test with another home or data folder sees its own law."""
    from tariffstack.surfaces.cli import calc as cli_calc

    real, real_pricer = State.engine, cli_calc.pricer_for
    key = (data_dir.resolve(), home.resolve())
    pricers: dict[tuple[bool, bool], Any] = {}

    def ours(state: State) -> bool:
        return (Path(state.data_dir).resolve(), Path(state.home).resolve()) == key

    def engine_for(state: State) -> Engine:
        return engine if ours(state) else real(state)

    def pricer_for(state: State, *, assume_unchanged: bool = False, panel: bool = True) -> Any:
        # the pricer (and its panel index, ~0.3 s to build) as a long-lived process keeps it;
        # any other home builds its own, as a fresh process would
        if not ours(state):
            return real_pricer(state, assume_unchanged=assume_unchanged, panel=panel)
        found = pricers.get((assume_unchanged, panel))
        if found is None:
            found = pricers[(assume_unchanged, panel)] = real_pricer(state, assume_unchanged=assume_unchanged,
                                                                     panel=panel)
        return found

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(State, "engine", engine_for)
        mp.setattr(cli_calc, "pricer_for", pricer_for)
        yield
