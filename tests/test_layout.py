"""The package layout is a pipeline: no room imports a room above it (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tariffstack"

# rank of each room; a module may import its own room and rooms of a lower rank only
RANKS = {
    "": 0,  # the base: errors, config, files, models, words
    "sources": 1,
    "law": 2,
    "engine": 3,
    "panel": 4,
    "stats": 5,
    "calc": 5,
    "news": 6,
    "service": 7,
    "surfaces": 8,
}
BASE_MODULES = {"__init__", "__version__", "errors", "config", "files", "models", "words"}


def _room(module: str) -> str:
    """The room of a dotted module under tariffstack ('' for the base modules)."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in BASE_MODULES:
        return ""
    if parts[0] not in RANKS:
        raise AssertionError(f"tariffstack.{parts[0]} is in no room of the layout")
    return parts[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return _imports_of_text(path.read_text(encoding="utf-8"), package)


def _imports_of_text(src: str, package: list[str]) -> list[tuple[int, str]]:
    """Every tariffstack module the text imports, with its line, relative imports resolved."""
    tree = ast.parse(src)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("tariffstack")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("tariffstack"):
                # "from tariffstack.law import countries" imports the module tariffstack.law.countries
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_sits_in_a_room() -> None:
    for path in SOURCES:
        _room(_module_name(path))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_room_imports_a_room_above_it(path: Path) -> None:
    here = _room(_module_name(path))
    for line, target in _imports(path):
        there = _room(target)
        if there == here:
            continue
        assert RANKS[there] < RANKS[here], (
            f"{path.relative_to(PACKAGE)}:{line} imports {target}: room {there or 'base'!r} "
            f"is not below {here or 'base'!r}"
        )


def test_the_rule_catches_an_upward_import() -> None:
    """The checker itself: a law module importing the engine and the panel is reported."""
    src = "from tariffstack.engine.us import Engine\nfrom ..panel import core\nfrom . import rates\n"
    targets = [t for _, t in _imports_of_text(src, ["tariffstack", "law"])]
    assert targets == ["tariffstack.engine.us.Engine", "tariffstack.panel.core", "tariffstack.law.rates"]
    assert [RANKS[_room(t)] > RANKS["law"] for t in targets] == [True, True, False]
