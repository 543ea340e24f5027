"""The data folder as fetch sees it: where a listed path lives, checksums, small atomic writes
and the one line that says why a write failed."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path, PurePosixPath

from tariffstack.errors import FetchError

ROOT_PREFIX = "hts"  # listed paths are relative to the data folder's parent: "hts/json/..."
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def _local_path_or_none(dest: Path, listed: str) -> Path | None:
    """Where a REVISIONS.csv path lives under ``dest``; None if it would escape the folder."""
    pure = PurePosixPath(listed.replace("\\", "/"))
    parts = pure.parts
    if not parts or pure.is_absolute() or any(p in ("..", "") for p in parts):
        return None
    if parts[0] == ROOT_PREFIX:
        parts = parts[1:]
    if not parts or ":" in parts[0]:
        return None
    return dest.joinpath(*parts)


def _local_path(dest: Path, listed: str) -> Path:
    path = _local_path_or_none(dest, listed)
    if path is None:
        raise FetchError(f"{listed}: refusing a path outside the data folder")
    return path


def _nonempty_file(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _ensure_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(_os_reason(str(path), exc)) from None


def _os_reason(what: str, exc: OSError) -> str:
    return f"cannot write {what}: {exc.strerror or exc}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(target: Path, data: bytes) -> None:
    """Write a small file through a temporary beside it, so it is whole or absent."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
