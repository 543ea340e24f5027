"""Dated rows of the calculator's packaged tables (``data/calc/*.csv``): the fee figures and the
postal duties are both rows in force from a first to a last day (inclusive), read from a file
shipped with the package or one a test or user names. One reader, so both find the file, number
its lines and check a row's period the same way."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

from tariffstack.errors import DataError


def csv_rows(name: str, path: Path | None, missing: str) -> Iterator[tuple[int, str, dict[str, str]]]:
    """``(line number, "<name> line N", row)`` for each row of ``data/calc/<name>``, or of ``path``.

    The file is read now (an absent packaged file is a DataError ending in ``missing``: what
    cannot be done without it); its rows are parsed as they are taken, so a caller's check of
    one row comes before any problem further down.
    """
    if path is None:
        res = resources.files("tariffstack").joinpath(f"data/calc/{name}")
        if not res.is_file():
            raise DataError(f"data/calc/{name} is missing: {missing}")
        text = res.read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return ((n, f"{name} line {n}", row) for n, row in enumerate(csv.DictReader(text.splitlines()), start=2))


def check_period(first: date, last: date | None, where: str) -> None:
    """A row's period is inclusive at both ends, so its last day may not come before its first."""
    if last is not None and last < first:
        raise DataError(f"{where}: last {last} is before first {first}")
