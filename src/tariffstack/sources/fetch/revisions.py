"""``REVISIONS.csv``, the data folder's list of archives: read (a mirror's or the local one),
update a row, keep the revisions in chronological order and rewrite it atomically."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tariffstack.errors import DataError, FetchError
from tariffstack.sources.fetch.local import _os_reason

REVISIONS_FILE = "REVISIONS.csv"
COLUMNS: tuple[str, ...] = ("revision", "json", "change_record", "published", "sha256")
_REVISION_LABEL = re.compile(r"^(\d{4}) (?:(basic)|rev (\d+))$")


def _parse_revisions(
    text: str, source: str, error: type[DataError] | type[FetchError]
) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a REVISIONS.csv; ``error`` says whose fault a malformed file is."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h for h in (reader.fieldnames or []) if h]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise error(f"{source} lacks the column(s) {', '.join(missing)}")
    rows: list[dict[str, str]] = []
    try:
        for lineno, rec in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in rec.items() if k}
            if not row.get("revision"):
                raise error(f"{source} line {lineno}: no revision name")
            rows.append(row)
    except csv.Error as exc:
        raise error(f"{source}: malformed CSV ({exc})") from None
    return header, rows


def _read_local(dest: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The local REVISIONS.csv (empty if absent); malformed is a ``DataError``."""
    path = dest / REVISIONS_FILE
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return list(COLUMNS), []
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    return _parse_revisions(text, str(path), DataError)


def _upsert(rows: list[dict[str, str]], row: dict[str, str]) -> bool:
    """Put ``row`` in place of the same revision (or add it); True if anything changed."""
    for i, old in enumerate(rows):
        if old["revision"] == row["revision"]:
            merged = {**old, **{c: row.get(c, "") for c in COLUMNS}}
            if merged == old:
                return False
            rows[i] = merged
            return True
    rows.append({c: row.get(c, "") for c in COLUMNS})
    return True


def _revision_key(row: dict[str, str]) -> tuple[int, int, int, int]:
    """Chronological order: 2025 basic, 2025 rev 1, ... 2026 basic; unknown labels last."""
    m = _REVISION_LABEL.match(row["revision"].strip().lower())
    if not m:
        return (1, 0, 0, 0)
    return (0, int(m.group(1)), 0 if m.group(2) else 1, int(m.group(3) or 0))


def _write_revisions(dest: Path, header: Sequence[str], rows: list[dict[str, str]]) -> None:
    """Rewrite REVISIONS.csv atomically (temp file + replace), keeping any extra columns."""
    fields = list(COLUMNS) + [h for h in header if h not in COLUMNS]
    rows.sort(key=_revision_key)
    target = dest / REVISIONS_FILE
    tmp: Path | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{REVISIONS_FILE}.", suffix=".tmp", dir=dest)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({f: row.get(f, "") for f in fields})
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise FetchError(_os_reason(str(target), exc)) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
