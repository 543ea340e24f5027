"""The checksums of every HTS revision this package knows, shipped with it (``data/manifest.json``).

A mirror's ``REVISIONS.csv`` carries its own sha256 column, so a mirror that changed a revision
(an archive re-exported, a change record edited, a publication date moved) would pass its own
checks. The manifest pins, per revision, the sha256 of its JSON archive and of each form of its
change record, and its publication date, plus the sha256 of the Chapter 99 notes texts; ``fetch``
refuses any file or row of a pinned revision that differs. Revisions newer than the package are
not pinned: they are checked against the mirror's own sha256 and ``fetch`` says so.

Made from the reference copy in ``../shared/hts`` by ``python -m tariffstack.sources.manifest``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from tariffstack.errors import DataError

__all__ = ["Manifest", "PinnedRevision", "load_manifest", "make_manifest", "sha256_file"]

MANIFEST_NAME = "manifest.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class PinnedRevision:
    """What the package knows of one revision: its date and the sha256 of each of its files."""

    revision: str
    published: str                     # ISO date, or "" where the data has none (2026 rev 10)
    json_path: str
    json_sha256: str
    change_records: dict[str, str]     # listed path ("hts/change_records/...") -> sha256


@dataclass(frozen=True, slots=True)
class Manifest:
    """Pinned revisions by label, and pinned notes texts by path."""

    revisions: dict[str, PinnedRevision]
    notes: dict[str, str]

    def conflict(self, row: dict[str, str]) -> str | None:
        """Why a mirror's REVISIONS.csv row contradicts the manifest (None if it agrees or the
        revision is not pinned): another sha256, another publication date, or a change record
        the manifest does not know for that revision."""
        pin = self.revisions.get(row.get("revision", "").strip())
        if pin is None:
            return None
        label = pin.revision
        listed = row.get("sha256", "").strip().lower()
        if listed != pin.json_sha256:
            return (f"{label}: the mirror lists sha256 {listed[:12] or '(none)'}... for its archive, but this "
                    f"package's manifest pins {pin.json_sha256[:12]}...; a revision cannot change, so the "
                    "mirror's copy was refused")
        published = row.get("published", "").strip()
        if published != pin.published:
            return (f"{label}: the mirror says it was published {published or '(no date)'}, the manifest "
                    f"says {pin.published or '(no date)'}; the row was refused")
        record = row.get("change_record", "").strip()
        if record and record not in pin.change_records:
            known = ", ".join(sorted(pin.change_records)) or "none"
            return (f"{label}: the mirror lists change record {record}, which the manifest does not pin "
                    f"for this revision (it pins: {known}); the row was refused")
        return None

    def expected(self, revision: str, path: str) -> str | None:
        """The pinned sha256 of a file listed for ``revision`` (None: not pinned)."""
        pin = self.revisions.get(revision.strip())
        if pin is None:
            return None
        if path == pin.json_path:
            return pin.json_sha256
        return pin.change_records.get(path)

    def span(self) -> str:
        """'2025 basic to 2026 rev 10': what the manifest covers, for messages."""
        names = list(self.revisions)
        return f"{names[0]} to {names[-1]}" if names else "no revision"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse(data: Any, source: str) -> Manifest:
    """Validate the manifest's JSON; a damaged package file is a ``DataError``, not a crash."""
    try:
        if data["format"] != FORMAT:
            raise DataError(f"{source}: manifest format {data['format']!r}, this version reads {FORMAT}")
        revisions: dict[str, PinnedRevision] = {}
        for item in data["revisions"]:
            pin = PinnedRevision(
                revision=str(item["revision"]), published=str(item["published"]),
                json_path=str(item["json"]["path"]), json_sha256=str(item["json"]["sha256"]).lower(),
                change_records={str(c["path"]): str(c["sha256"]).lower() for c in item["change_records"]},
            )
            revisions[pin.revision] = pin
        notes = {str(k): str(v).lower() for k, v in data["notes"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{source}: malformed manifest ({type(exc).__name__}: {exc})") from None
    return Manifest(revisions, notes)


@lru_cache(maxsize=1)
def load_manifest() -> Manifest:
    """The manifest shipped with the package."""
    ref = resources.files("tariffstack") / "data" / MANIFEST_NAME
    try:
        data = json.loads(ref.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the package's {MANIFEST_NAME}: {exc}") from None
    return _parse(data, f"package {MANIFEST_NAME}")


def make_manifest(hts_dir: Path) -> dict[str, Any]:
    """The manifest of a reference data folder laid out like ``../shared/hts``.

    Every JSON archive must match the sha256 its REVISIONS.csv lists (a manifest made from a
    damaged copy would pin the damage); the PDF beside a listed ``.txt`` change record is
    pinned too, since USITC serves the PDF.
    """
    index = hts_dir / "REVISIONS.csv"
    with index.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    revisions: list[dict[str, Any]] = []
    for row in rows:
        json_path = row["json"].strip()
        actual = sha256_file(_local(hts_dir, json_path))
        if actual != row["sha256"].strip().lower():
            raise DataError(f"{json_path}: sha256 {actual} differs from {index}; refusing to pin it")
        records: list[dict[str, str]] = []
        listed = row["change_record"].strip()
        if listed:
            forms = [listed]
            if listed.endswith(".txt"):
                forms.append(listed.removesuffix(".txt") + ".pdf")
            for form in forms:
                local = _local(hts_dir, form)
                if local.is_file():
                    records.append({"path": form, "sha256": sha256_file(local)})
        revisions.append({"revision": row["revision"].strip(), "published": row["published"].strip(),
                          "json": {"path": json_path, "sha256": actual}, "change_records": records})
    notes_dir = hts_dir / "notes"
    notes = {f"hts/notes/{p.name}": sha256_file(p) for p in sorted(notes_dir.glob("chapter99_*.txt"))}
    return {
        "format": FORMAT,
        "about": ("sha256 of every file of every HTS revision this package knows, with its publication "
                  "date; tariffstack fetch refuses a mirror's file or row that differs. Made from the "
                  "reference copy (../shared/hts: USITC's archives, see its README) by "
                  "python -m tariffstack.sources.manifest."),
        "revisions": revisions,
        "notes": notes,
    }


def _local(hts_dir: Path, listed: str) -> Path:
    parts = Path(listed).parts
    return hts_dir.joinpath(*(parts[1:] if parts and parts[0] == "hts" else parts))


def main(argv: list[str] | None = None) -> None:
    """Write the manifest of a reference data folder (atomically)."""
    from tariffstack.files import atomic_path

    ap = argparse.ArgumentParser(description="Write the checksum manifest of an HTS data folder.")
    ap.add_argument("hts_dir", type=Path, help="folder laid out like ../shared/hts")
    ap.add_argument("-o", "--output", type=Path,
                    default=Path(str(resources.files("tariffstack") / "data" / MANIFEST_NAME)))
    args = ap.parse_args(argv)
    text = json.dumps(make_manifest(args.hts_dir), indent=1, ensure_ascii=False) + "\n"
    with atomic_path(args.output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
