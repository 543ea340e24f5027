"""Every command and endpoint the README shows exists and says what it does (in-process: the
click group and the served OpenAPI document, no subprocess)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.testing import CliRunner

from tariffstack.surfaces.cli import cli

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

README = Path(__file__).resolve().parents[1] / "README.md"
# "tariffstack rate ...", "tariffstack registry check": a command, optionally a subcommand
COMMAND_RE = re.compile(r"(?m)^\s*(?:\.venv/bin/)?tariffstack\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")
ENDPOINT_RE = re.compile(r"`((?:GET |POST )?/api/[A-Za-z0-9_./{}-]+)")


FENCE_RE = re.compile(r"(?ms)^```[a-z]*\n(.*?)^```")


def _readme_commands() -> set[tuple[str, str | None]]:
    """(command, subcommand) of every command line in the README's code blocks."""
    found: set[tuple[str, str | None]] = set()
    blocks = "\n".join(FENCE_RE.findall(README.read_text(encoding="utf-8")))
    for cmd, sub in COMMAND_RE.findall(blocks):
        group = cli.commands.get(cmd)
        found.add((cmd, sub if isinstance(group, click.Group) and sub else None))
    return found


def test_the_readme_names_commands() -> None:
    assert len(_readme_commands()) >= 15


def test_every_readme_command_exists_with_help() -> None:
    runner = CliRunner()
    for cmd, sub in sorted(_readme_commands(), key=lambda x: (x[0], x[1] or "")):
        assert cmd in cli.commands, f"README shows 'tariffstack {cmd}', which does not exist"
        args = [cmd, sub, "--help"] if sub else [cmd, "--help"]
        if sub:
            group = cli.commands[cmd]
            assert isinstance(group, click.Group) and sub in group.commands, f"no {cmd} {sub}"
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
        doc = (cli.commands[cmd].help if not sub else
               cli.commands[cmd].commands[sub].help)  # type: ignore[attr-defined]
        assert doc and len(doc.split()) >= 4, f"'tariffstack {' '.join(a for a in args[:-1])}' has no help text"


def test_every_command_is_in_the_readme() -> None:
    shown = {c for c, _ in _readme_commands()}
    missing = sorted(set(cli.commands) - shown)
    assert not missing, f"commands the README does not show: {missing}"


def test_every_readme_endpoint_is_served(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    paths = set(doc["paths"])
    named = {m.split(" ", 1)[-1].rstrip(".") for m in ENDPOINT_RE.findall(README.read_text("utf-8"))}
    assert len(named) >= 8
    for path in sorted(named):
        if path in ("/api/openapi.json", "/api/docs"):
            continue
        assert path in paths, f"README names {path}, which the API does not serve"
        for op in doc["paths"][path].values():
            assert op.get("summary") or op.get("description"), f"{path} has no description"
