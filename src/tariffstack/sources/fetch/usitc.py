"""Fetch USITC's current release: the release list names it, the full-schedule JSON export is
gzipped into ``json/`` and the change record PDF goes into ``change_records/`` with its text,
laid out as printed, beside it."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from tariffstack.errors import FetchError
from tariffstack.sources.fetch.http import (
    CHUNK_BYTES,
    Progress,
    _client_scope,
    _fetch_verified,
    _get_bytes,
    _normalise_base,
)
from tariffstack.sources.fetch.install import (
    _check_records,
    _install_pdf,
    _is_pdf,
    _load_json,
    _pdf_text,
)
from tariffstack.sources.fetch.local import (
    _SHA256,
    ROOT_PREFIX,
    _ensure_dir,
    _local_path,
    _local_path_or_none,
    _nonempty_file,
    _os_reason,
    _sha256,
    _write_atomic,
)
from tariffstack.sources.fetch.result import FetchResult
from tariffstack.sources.fetch.revisions import _read_local, _upsert, _write_revisions

USITC_BASE = "https://hts.usitc.gov"

# USITC "reststop" endpoints (paths below the base URL).
RELEASE_LIST_PATH = "/reststop/releaseList"
EXPORT_PATH = "/reststop/exportList"
FILE_PATH = "/reststop/file"
# The export only ever returns the current release. It answers 400 unless from/to are real
# dotted HTS numbers and styles=true; this range spans the whole schedule, Chapter 99 included.
EXPORT_PARAMS: dict[str, str] = {
    "from": "0101.21.00",
    "to": "9999.00.00",
    "format": "JSON",
    "styles": "true",
}
CHANGE_RECORD_FILENAME = "Change Record"

_RELEASE_NAME = re.compile(r"^(\d{4})HTS(?:(Basic)|Rev(\d+))$", re.IGNORECASE)
_TABLE_HEADER = re.compile(r"item\s+changed", re.IGNORECASE)


def fetch_usitc(
    dest: Path,
    *,
    base_url: str = USITC_BASE,
    progress: Progress | None = None,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Add USITC's current release (JSON export + change record PDF) to ``dest`` if it is new.

    USITC serves only the current release, so this is how the archive grows; earlier revisions
    already in ``dest`` are kept. The export is gzipped deterministically, its sha256 computed
    and a row added to ``REVISIONS.csv``. Raises ``FetchError`` when the release list or the
    schedule cannot be obtained; a missing change record is reported in ``failed`` only.
    """
    base = _normalise_base(base_url)
    list_url = f"{base}{RELEASE_LIST_PATH}"
    downloaded: list[str] = []
    skipped: list[str] = []
    failed: list[tuple[str, str]] = []
    warnings: list[str] = []
    try:
        _usitc_into(dest, base, list_url, progress, client, downloaded, skipped, failed, warnings)
    except OSError as exc:
        raise FetchError(f"cannot update {dest}: {exc.strerror or exc}") from None
    return FetchResult(tuple(downloaded), tuple(skipped), tuple(failed), tuple(warnings))


def _usitc_into(
    dest: Path,
    base: str,
    list_url: str,
    progress: Progress | None,
    client: httpx.Client | None,
    downloaded: list[str],
    skipped: list[str],
    failed: list[tuple[str, str]],
    warnings: list[str],
) -> None:
    """Body of ``fetch_usitc``; fills the result lists as it goes."""
    with _client_scope(client) as http:
        release = _current_release(http, list_url)
        name = str(release["name"])
        label, json_file = _release_files(name)
        published = _published_date(release)
        json_name = f"{ROOT_PREFIX}/json/{json_file}"
        record_name = f"{ROOT_PREFIX}/change_records/{name}_change_record.pdf"
        json_path = _local_path(dest, json_name)
        record_path = _local_path(dest, record_name)
        _ensure_dir(dest)
        header, local_rows = _read_local(dest)

        existing = next((r for r in local_rows if r["revision"] == label), None)
        if (
            existing is not None
            and _local_path_or_none(dest, existing["json"]) == json_path
            and json_path.is_file()
            and _SHA256.match(existing["sha256"].strip())
            and _sha256(json_path) == existing["sha256"].strip().lower()
        ):
            skipped.append(json_name)
            row = dict(existing)
        else:
            export_url = f"{base}{EXPORT_PATH}?{urlencode(EXPORT_PARAMS)}"
            raw_path = json_path.with_name(json_path.name.removesuffix(".gz"))
            _fetch_verified(
                http,
                export_url,
                raw_path,
                json_name,
                progress,
                _install_export(json_name, json_path, http, list_url, name),
            )
            downloaded.append(json_name)
            row = {
                "revision": label,
                "json": json_name,
                "change_record": existing["change_record"] if existing else "",
                "published": existing["published"] if existing else published,
                "sha256": _sha256(json_path),
            }
        # The JSON row is listed first: a change record that fails to come costs only itself.
        # A change record listed and present as text (e.g. a mirror's .txt) is kept as is; a PDF
        # (downloaded now, or listed by an earlier version of fetch) is turned into its text.
        listed_record = row.get("change_record", "")
        listed_path = _local_path_or_none(dest, listed_record) if listed_record else None
        text_name = record_name.removesuffix(".pdf") + ".txt"
        text_path = _local_path(dest, text_name)
        pdf: Path | None = None
        if listed_path is not None and _nonempty_file(listed_path) and not _is_pdf(listed_path):
            skipped.append(listed_record)
        elif _nonempty_file(text_path):
            skipped.append(text_name)
            row["change_record"] = text_name
        else:
            row["change_record"] = ""
            pdf = listed_path if listed_path is not None and _nonempty_file(listed_path) else record_path
        if _upsert(local_rows, row):
            _write_revisions(dest, header, local_rows)
        if pdf is None:
            return
        texts: dict[str, str] = {}
        if not _nonempty_file(pdf):
            record_url = f"{base}{FILE_PATH}?" + urlencode(
                {"release": name, "filename": CHANGE_RECORD_FILENAME}, quote_via=quote
            )
            try:
                _fetch_verified(
                    http, record_url, record_path, record_name, progress, _install_pdf(record_name, texts)
                )
            except FetchError as exc:
                failed.append((record_name, str(exc)))
                return
            downloaded.append(record_name)
        try:
            text = texts.get("text") or _pdf_text(pdf, record_name)
            _write_atomic(text_path, text.encode("utf-8"))
        except FetchError as exc:
            if "text" not in texts:  # a damaged PDF left by an earlier run: the next fetch gets it anew
                pdf.unlink(missing_ok=True)
            failed.append((text_name, str(exc)))
            return
        except OSError as exc:
            failed.append((text_name, _os_reason(text_name, exc)))
            return
        if not _TABLE_HEADER.search(text):
            warnings.append(f"{record_name}: no table of changes found in its text, so the changes of "
                            f"{label} are dated by its publication date; check {text_name}")
        row["change_record"] = text_name
        if _upsert(local_rows, row):
            _write_revisions(dest, header, local_rows)


def _install_export(
    name: str, final: Path, http: httpx.Client, list_url: str, release: str
) -> Callable[[Path, Path], None]:
    """Installer for the USITC export: validate, confirm the release, gzip to ``final``."""

    def install(part: Path, raw_target: Path) -> None:
        with open(part, "rb") as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
        _check_records(_load_json(part, name, compressed=compressed), name)
        # The export has no release parameter: make sure it did not change under us.
        now = str(_current_release(http, list_url)["name"])
        if now != release:
            raise FetchError(
                f"{name}: USITC switched its current release from {release} to {now} during "
                "the download; run the fetch again"
            )
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                with (
                    gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz,
                    open(part, "rb") as raw_in,
                ):
                    if compressed:
                        with gzip.GzipFile(fileobj=raw_in, mode="rb") as unzipped:
                            shutil.copyfileobj(unzipped, gz, CHUNK_BYTES)
                    else:
                        shutil.copyfileobj(raw_in, gz, CHUNK_BYTES)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        part.unlink(missing_ok=True)

    return install


# --------------------------------------------------------------------------------------------
# USITC release list
# --------------------------------------------------------------------------------------------


def _current_release(http: httpx.Client, list_url: str) -> dict[str, Any]:
    """The release USITC marks ``status: current`` (else the one that started last)."""
    raw = _get_bytes(http, list_url, "USITC release list")
    try:
        data = json.loads(raw)
    except ValueError:
        raise FetchError(f"USITC release list at {list_url} is not JSON") from None
    items: list[Any] = data if isinstance(data, list) else []
    releases = [r for r in items if isinstance(r, dict) and r.get("name")]
    if not releases:
        raise FetchError(f"USITC release list at {list_url} lists no releases")
    current = [r for r in releases if str(r.get("status", "")).lower() == "current"]
    if current:
        return current[0]
    dated = [(d, r) for r in releases if (d := _parse_us_date(r.get("releaseStartDate")))]
    if not dated:
        raise FetchError(f"USITC release list at {list_url} does not say which release is current")
    return max(dated, key=lambda pair: pair[0])[1]


def _release_files(name: str) -> tuple[str, str]:
    """("2026 rev 6", "hts_2026_rev_6.json.gz") for USITC's "2026HTSRev6"."""
    m = _RELEASE_NAME.match(name.strip())
    if not m:
        raise FetchError(f"unrecognised USITC release name {name!r} (expected e.g. 2026HTSRev6)")
    year = m.group(1)
    if m.group(2):
        return f"{year} basic", f"hts_{year}_basic.json.gz"
    rev = int(m.group(3))
    return f"{year} rev {rev}", f"hts_{year}_rev_{rev}.json.gz"


def _published_date(release: dict[str, Any]) -> str:
    """ISO date the release started (USITC writes MM/DD/YYYY); today if it does not say."""
    for key in ("releaseStartDate", "date", "target"):
        parsed = _parse_us_date(release.get(key))
        if parsed:
            return parsed.isoformat()
    return date.today().isoformat()


def _parse_us_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None
