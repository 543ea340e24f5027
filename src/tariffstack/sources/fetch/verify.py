"""Check the data folder against its ``REVISIONS.csv`` (``tariffstack verify``)."""

from __future__ import annotations

from pathlib import Path

from tariffstack.errors import DataError
from tariffstack.sources.fetch.local import _SHA256, _local_path_or_none, _sha256
from tariffstack.sources.fetch.revisions import REVISIONS_FILE, _read_local


def verify_archives(hts_dir: Path) -> list[tuple[str, str]]:
    """List ``(file, problem)`` for every file REVISIONS.csv names that is missing or damaged.

    JSON archives are checked against their sha256; change records (which carry no checksum)
    only for presence. Raises ``DataError`` if REVISIONS.csv itself is missing or malformed.
    """
    csv_path = hts_dir / REVISIONS_FILE
    if not csv_path.is_file():
        raise DataError(f"no {REVISIONS_FILE} in {hts_dir}; run `tariffstack fetch` first")
    _, rows = _read_local(hts_dir)
    problems: list[tuple[str, str]] = []
    for row in rows:
        json_name = row["json"]
        if not json_name:
            problems.append((f"{REVISIONS_FILE} row {row['revision']!r}", "no JSON file listed"))
        else:
            path = _local_path_or_none(hts_dir, json_name)
            expected = row["sha256"].strip().lower()
            if path is None:
                problems.append((json_name, "path is not inside the data folder"))
            elif not path.is_file():
                problems.append((json_name, "missing"))
            elif not _SHA256.match(expected):
                problems.append((json_name, f"no valid sha256 listed in {REVISIONS_FILE}"))
            else:
                try:
                    actual = _sha256(path)
                except OSError as exc:
                    problems.append((json_name, f"unreadable ({exc.strerror or exc})"))
                else:
                    if actual != expected:
                        problems.append(
                            (json_name, f"sha256 mismatch: expected {expected}, got {actual}")
                        )
        record_name = row["change_record"]
        if record_name:
            path = _local_path_or_none(hts_dir, record_name)
            if path is None:
                problems.append((record_name, "path is not inside the data folder"))
            elif not path.is_file():
                problems.append((record_name, "missing"))
    return problems
