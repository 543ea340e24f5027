"""Data folders made from the real one with some revisions left out (the archives are linked)."""

from __future__ import annotations

import csv
from pathlib import Path


def with_revisions(hts_dir: Path, dest: Path, keep: slice) -> Path:
    """``dest/hts``: like ``hts_dir`` but REVISIONS.csv lists only the rows ``keep`` selects."""
    folder = dest / "hts"
    folder.mkdir(parents=True)
    for name in ("json", "change_records", "notes"):
        if (hts_dir / name).exists():
            (folder / name).symlink_to(hts_dir / name)
    with (hts_dir / "REVISIONS.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (folder / "REVISIONS.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows[keep])
    return folder
