"""Installers: each checks a finished ``.part`` download and only then moves it into place
(sha256 against the mirror or the manifest, a non-empty body, a real PDF whose text can be read,
an HTS export that is a JSON list of records)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tariffstack.errors import DataError, FetchError
from tariffstack.sources.changes import change_record_text
from tariffstack.sources.fetch.local import _sha256


def _install_checked(name: str, expected: str, pinned: bool = False) -> Callable[[Path, Path], None]:
    """Installer for mirror files: sha256 must match (the manifest's where ``pinned``), and
    .json.gz must be gzip JSON."""

    def install(part: Path, target: Path) -> None:
        actual = _sha256(part)
        if actual != expected:
            whose = "this package's manifest pins" if pinned else "expected"
            raise FetchError(
                f"{name}: sha256 mismatch ({whose} {expected}, got {actual}); "
                "the download was discarded"
            )
        if name.endswith(".json.gz"):
            _check_records(_load_json(part, name, compressed=True), name)
        os.replace(part, target)

    return install


def _install_nonempty(name: str) -> Callable[[Path, Path], None]:
    """Installer for files without a checksum: just refuse an empty body."""

    def install(part: Path, target: Path) -> None:
        if part.stat().st_size == 0:
            raise FetchError(f"{name}: the server sent an empty file")
        os.replace(part, target)

    return install


def _install_pdf(name: str, texts: dict[str, str]) -> Callable[[Path, Path], None]:
    """Installer for the change record: must really be a PDF (not an HTML error page) whose
    text can be read; the text is kept in ``texts["text"]``."""

    def install(part: Path, target: Path) -> None:
        if not _is_pdf(part):
            raise FetchError(f"{name}: the server did not send a PDF")
        texts["text"] = _pdf_text(part, name)
        os.replace(part, target)

    return install


def _is_pdf(path: Path) -> bool:
    with open(path, "rb") as fh:
        return b"%PDF" in fh.read(1024)


def _pdf_text(path: Path, name: str) -> str:
    """The change record's text laid out as printed; an unreadable PDF is a ``FetchError``."""
    try:
        return change_record_text(path, name)
    except DataError as exc:
        raise FetchError(str(exc)) from None


def _load_json(path: Path, name: str, *, compressed: bool) -> Any:
    """Parse a (possibly gzipped) JSON file, turning any decoding problem into FetchError."""
    try:
        if compressed:
            with gzip.open(path, "rb") as fh:
                return json.load(fh)
        with open(path, "rb") as fh:
            return json.load(fh)
    except (OSError, EOFError) as exc:
        kind = "gzip file" if compressed else "file"
        raise FetchError(f"{name}: not a readable {kind} ({exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"{name}: not valid JSON ({exc})") from None


def _check_records(data: Any, name: str) -> None:
    """The HTS export is a non-empty JSON list of record objects."""
    if not isinstance(data, list) or not data:
        raise FetchError(f"{name}: expected a JSON list of HTS records")
    if not all(isinstance(item, dict) for item in data):
        raise FetchError(f"{name}: the JSON list holds something other than records")
