"""What a fetch reports back, whichever source it came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch did, file by file (paths as listed in REVISIONS.csv)."""

    downloaded: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]  # (file, reason)
    warnings: tuple[str, ...] = ()       # not a failed file, but the build will want it
