"""The ``tariffstack`` command run in-process, as a user's shell would run it, but fast.

``main()`` is the entry point that turns errors into one line and an exit code; it runs inside
click's CliRunner isolation (stdin/stdout/stderr captured, environment overridden), so a fuzz
test can afford hundreds of invocations. An exception that escapes ``main()`` is exactly what a
user would see as a traceback, so it is left to fail the test.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from click.testing import CliRunner

from tariffstack.surfaces.cli import main


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

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
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
        return Outcome(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))
