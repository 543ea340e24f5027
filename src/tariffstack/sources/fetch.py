"""Download HTS revisions into the user's data folder (``tariffstack fetch``).

USITC only serves the *current* release, so the data folder is an archive that grows: every
fetch adds what is new and keeps every revision fetched before. Two sources are supported:

* USITC itself (``fetch_usitc``): the release list names the current release, the full-schedule
  JSON export is gzipped into ``json/`` and the change record PDF goes into ``change_records/``.
* A mirror laid out like ``../shared`` (``fetch_mirror``): ``BASE/hts/REVISIONS.csv`` lists the
  files and their sha256; whatever is missing or damaged locally is downloaded again. Revisions
  the package knows are checked against its manifest (``manifest.py``), not the mirror's word:
  a mirror cannot change a revision silently.

USITC's change record is a PDF; its text, laid out as printed, is written beside it
(``..._change_record.txt``) and listed, so the build reads it as it reads a mirror's.

Every download streams into ``<name>.part`` beside its destination, resumes with an HTTP Range
request after an interruption, is verified, and only then renamed into place, so a final file is
never half written. ``REVISIONS.csv`` is rewritten atomically after each file, so it only ever
lists archives that are present and verified.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx

from tariffstack import __version__
from tariffstack.errors import DataError, FetchError
from tariffstack.sources.changes import change_record_text
from tariffstack.sources.manifest import Manifest, load_manifest

__all__ = [
    "USITC_BASE",
    "FetchResult",
    "Progress",
    "fetch_mirror",
    "fetch_usitc",
    "verify_archives",
]

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

REVISIONS_FILE = "REVISIONS.csv"
COLUMNS: tuple[str, ...] = ("revision", "json", "change_record", "published", "sha256")
ROOT_PREFIX = "hts"  # listed paths are relative to the data folder's parent: "hts/json/..."

# Network behaviour; module level so tests (and impatient users) can tune them.
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
TIMEOUT = httpx.Timeout(60.0, connect=15.0)
CHUNK_BYTES = 64 * 1024
USER_AGENT = f"tariffstack/{__version__} (HTS archive fetch; python-httpx)"
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Raw bytes, exactly as stored: checksums and Range offsets refer to the file, not an encoding.
REQUEST_HEADERS = {"Accept-Encoding": "identity"}

Progress = Callable[[str, int, int | None], None]
"""``progress(name, done_bytes, total_bytes)``; total is None when the server does not say."""

_T = TypeVar("_T")
_RELEASE_NAME = re.compile(r"^(\d{4})HTS(?:(Basic)|Rev(\d+))$", re.IGNORECASE)
_REVISION_LABEL = re.compile(r"^(\d{4}) (?:(basic)|rev (\d+))$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_TABLE_HEADER = re.compile(r"item\s+changed", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch did, file by file (paths as listed in REVISIONS.csv)."""

    downloaded: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]  # (file, reason)
    warnings: tuple[str, ...] = ()       # not a failed file, but the build will want it


class _Transient(Exception):
    """A failure worth retrying (dropped connection, timeout, 5xx, 429)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def fetch_mirror(
    base_url: str,
    dest: Path,
    *,
    progress: Progress | None = None,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Bring ``dest`` up to date with a mirror laid out like ``../shared``.

    Fetches ``BASE/hts/REVISIONS.csv``, then every listed file that is missing locally or whose
    sha256 is wrong. A row or file of a revision the package's manifest pins must match it. A
    failed file is reported in ``failed`` and the others still proceed; only a mirror that cannot
    be read at all raises ``FetchError``.
    """
    base = _normalise_base(base_url)
    csv_url = f"{base}/{ROOT_PREFIX}/{REVISIONS_FILE}"
    manifest = load_manifest()
    downloaded: list[str] = []
    skipped: list[str] = []
    failed: list[tuple[str, str]] = []
    unpinned: list[str] = []
    with _client_scope(client) as http:
        raw = _get_bytes(http, csv_url, f"mirror {REVISIONS_FILE}")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FetchError(f"mirror {REVISIONS_FILE} at {csv_url} is not UTF-8 text") from exc
        _, remote_rows = _parse_revisions(text, csv_url, FetchError)
        _ensure_dir(dest)
        header, local_rows = _read_local(dest)

        for row in remote_rows:
            json_name = row["json"]
            if not json_name:
                failed.append((f"{REVISIONS_FILE} row {row['revision']!r}", "no JSON file listed"))
                continue
            conflict = manifest.conflict(row)
            if conflict is not None:
                failed.append((json_name, conflict))
                continue
            if row["revision"] not in manifest.revisions:
                unpinned.append(row["revision"])
            try:
                json_path = _local_path(dest, json_name)
                expected = row["sha256"].strip().lower()
                if not _SHA256.match(expected):
                    raise FetchError(
                        f"{json_name}: mirror {REVISIONS_FILE} gives no valid sha256 for it"
                    )
                if json_path.is_file() and _sha256(json_path) == expected:
                    skipped.append(json_name)
                    json_path.with_name(json_path.name + ".part").unlink(missing_ok=True)
                else:
                    _fetch_verified(
                        http,
                        _join_url(base, json_name),
                        json_path,
                        json_name,
                        progress,
                        _install_checked(json_name, expected, row["revision"] in manifest.revisions),
                    )
                    downloaded.append(json_name)
                if _upsert(local_rows, row):
                    _write_revisions(dest, header, local_rows)
            except FetchError as exc:
                failed.append((json_name, str(exc)))
                continue
            except OSError as exc:
                failed.append((json_name, _os_reason(json_name, exc)))
                continue

            record_name = row["change_record"]
            if not record_name:
                continue
            try:
                record_path = _local_path(dest, record_name)
                pinned = manifest.expected(row["revision"], record_name)
                if _nonempty_file(record_path) and (pinned is None or _sha256(record_path) == pinned):
                    skipped.append(record_name)
                    continue
                _fetch_verified(
                    http,
                    _join_url(base, record_name),
                    record_path,
                    record_name,
                    progress,
                    _install_nonempty(record_name) if pinned is None else _install_checked(record_name, pinned, True),
                )
                downloaded.append(record_name)
            except FetchError as exc:
                failed.append((record_name, str(exc)))
            except OSError as exc:
                failed.append((record_name, _os_reason(record_name, exc)))
        warnings = _fetch_notes(http, base, dest, [r["revision"] for r in remote_rows],
                                downloaded, skipped, failed, manifest)
    if unpinned:
        warnings.append(f"{', '.join(unpinned)}: not in this package's manifest (it pins {manifest.span()}); "
                        "checked against the mirror's own sha256 only")
    return FetchResult(tuple(downloaded), tuple(skipped), tuple(failed), tuple(warnings))


def notes_names(revisions: list[str]) -> list[str]:
    """Where a mirror keeps the Chapter 99 notes text: ``hts/notes/chapter99_<revision>.txt``
    (``2026 rev 6`` -> ``chapter99_2026_rev_6.txt``), newest revision first."""
    return [f"{ROOT_PREFIX}/notes/chapter99_{'_'.join(r.lower().split())}.txt" for r in reversed(revisions)]


def _fetch_notes(http: httpx.Client, base: str, dest: Path, revisions: list[str], downloaded: list[str],
                 skipped: list[str], failed: list[tuple[str, str]], manifest: Manifest) -> list[str]:
    """Bring the newest notes text the mirror has (the build reads the product lists from it);
    a warning, not a failure, when the mirror has none for the revisions it lists. A notes text
    the manifest pins must have its sha256, here and when it is downloaded."""
    names = notes_names(revisions)

    def intact(name: str) -> bool:
        path = _local_path(dest, name)
        pinned = manifest.notes.get(name)
        return _nonempty_file(path) and (pinned is None or _sha256(path) == pinned)

    have = [n for n in names if intact(n)]
    for name in names:
        if have and name == have[0]:
            skipped.append(name)
            return []
        url = _join_url(base, name)

        def once(u: str = url, n: str = name) -> httpx.Response | None:
            resp = http.get(u, headers=REQUEST_HEADERS)
            if resp.status_code == 404:
                return None
            _check_status(resp, n, u)
            return resp

        try:
            resp = _with_retries(name, url, once)
            if resp is None:
                continue
            if not resp.content.strip():
                raise FetchError(f"{name}: the mirror sent an empty file")
            pinned = manifest.notes.get(name)
            actual = hashlib.sha256(resp.content).hexdigest()
            if pinned is not None and actual != pinned:
                raise FetchError(f"{name}: sha256 {actual[:12]}... differs from this package's manifest "
                                 f"({pinned[:12]}...); the mirror changed it, so it was refused")
            target = _local_path(dest, name)
            _ensure_dir(target.parent)
            _write_atomic(target, resp.content)
            downloaded.append(name)
            return []
        except FetchError as exc:
            failed.append((name, str(exc)))
            return []
        except OSError as exc:
            failed.append((name, _os_reason(name, exc)))
            return []
    if have:
        return []
    return [f"the mirror has no Chapter 99 notes text ({ROOT_PREFIX}/notes/chapter99_<revision>.txt) for the "
            "revisions it lists; 'tariffstack build' needs one: copy it into the data folder's notes/"]


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


# --------------------------------------------------------------------------------------------
# HTTP with retries
# --------------------------------------------------------------------------------------------


@contextmanager
def _client_scope(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """Use the caller's client as is, or a private one that is closed afterwards."""
    if client is not None:
        yield client
        return
    own = httpx.Client(
        timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )
    try:
        yield own
    finally:
        own.close()


def _with_retries(what: str, url: str, attempt_once: Callable[[], _T]) -> _T:
    """Run ``attempt_once`` until it succeeds, retrying transient failures with backoff."""
    last = ""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return attempt_once()
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FetchError(f"{what}: invalid URL {url!r} ({exc})") from None
        except httpx.TransportError as exc:
            last = _describe_transport(url, exc)
            retry_after = None
        except httpx.HTTPError as exc:  # e.g. too many redirects: retrying will not help
            raise FetchError(f"{what}: {exc} ({url})") from None
        except _Transient as exc:
            last = str(exc)
            retry_after = exc.retry_after
        if attempt + 1 < MAX_ATTEMPTS:
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2**attempt)
            delay *= 1 + random.random() / 4
            if retry_after is not None:
                delay = max(delay, min(retry_after, BACKOFF_CAP_SECONDS))
            time.sleep(delay)
    raise FetchError(f"{what}: {last} (gave up after {MAX_ATTEMPTS} attempts)")


def _describe_transport(url: str, exc: httpx.TransportError) -> str:
    """A one-line, user-facing account of a network failure."""
    origin = _origin(url)
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting to {origin}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {origin} ({detail}); is the server up and the URL right?"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out waiting for {origin}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection to {origin} dropped mid-transfer ({detail})"
    return f"network error talking to {origin} ({detail})"


def _check_status(resp: httpx.Response, what: str, url: str) -> None:
    """Raise ``_Transient`` for retryable statuses and ``FetchError`` for other failures."""
    code = resp.status_code
    if code in TRANSIENT_STATUS:
        raise _Transient(f"HTTP {code} {resp.reason_phrase} from {url}", _retry_after(resp))
    if code >= 400:
        raise FetchError(f"{what}: HTTP {code} {resp.reason_phrase} from {url}")


def _retry_after(resp: httpx.Response) -> float | None:
    """Seconds the server asked us to wait, if it said so in plain seconds."""
    value = resp.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


def _get_bytes(http: httpx.Client, url: str, what: str) -> bytes:
    """GET a small document (a listing) into memory, with retries."""

    def once() -> bytes:
        resp = http.get(url, headers=REQUEST_HEADERS)
        _check_status(resp, what, url)
        return resp.content

    return _with_retries(what, url, once)


def _download_part(
    http: httpx.Client, url: str, part: Path, name: str, progress: Progress | None
) -> bool:
    """Stream ``url`` into ``part``, resuming it with Range; True if any bytes were reused."""
    resumed = False

    def once() -> None:
        nonlocal resumed
        offset = part.stat().st_size if part.is_file() else 0
        headers = dict(REQUEST_HEADERS)
        if offset:
            headers["Range"] = f"bytes={offset}-"
        with http.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 416 and offset:
                # The partial is as long as (or longer than) the file: start it over.
                part.unlink(missing_ok=True)
                raise _Transient(f"{name}: stale partial download discarded", 0.0)
            _check_status(resp, name, url)
            total = _int_header(resp, "Content-Length")
            mode = "wb"
            if resp.status_code == 206 and offset:
                start, full = _parse_content_range(resp)
                if start != offset:
                    part.unlink(missing_ok=True)
                    raise _Transient(f"{name}: server resumed at the wrong offset", 0.0)
                mode = "ab"
                resumed = True
                total = full if full is not None else (offset + total if total else None)
            else:
                offset = 0  # 200: the server ignored Range, so the file comes whole
            done = offset
            try:
                with open(part, mode) as fh:
                    if progress:
                        progress(name, done, total)
                    for chunk in resp.iter_raw(CHUNK_BYTES):
                        fh.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(name, done, total)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:  # a full disk: free what the partial took, say so
                part.unlink(missing_ok=True)
                raise FetchError(_os_reason(name, exc)) from None
            if total is not None and done < total:
                raise _Transient(f"{name}: transfer ended early ({done} of {total} bytes)")

    _with_retries(name, url, once)
    return resumed


def _fetch_verified(
    http: httpx.Client,
    url: str,
    target: Path,
    name: str,
    progress: Progress | None,
    install: Callable[[Path, Path], None],
) -> None:
    """Download ``url`` via ``<target>.part`` and let ``install`` verify and move it into place.

    A partial that fails verification is deleted; if it had been resumed from an earlier
    attempt, the file is fetched once more from scratch before giving up.
    """
    part = target.with_name(target.name + ".part")
    _ensure_dir(target.parent)
    for fresh_start in (False, True):
        resumed = _download_part(http, url, part, name, progress)
        try:
            install(part, target)
            return
        except FetchError:
            part.unlink(missing_ok=True)
            if resumed and not fresh_start:
                continue
            raise
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise FetchError(_os_reason(str(target), exc)) from None


def _int_header(resp: httpx.Response, key: str) -> int | None:
    value = resp.headers.get(key, "").strip()
    return int(value) if value.isdigit() else None


def _parse_content_range(resp: httpx.Response) -> tuple[int | None, int | None]:
    """(first byte, full length) from a 206 response's Content-Range, if well formed."""
    m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", "").strip())
    if not m:
        return None, None
    full = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), full


# --------------------------------------------------------------------------------------------
# verification and installation
# --------------------------------------------------------------------------------------------


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


# --------------------------------------------------------------------------------------------
# REVISIONS.csv
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# paths and URLs
# --------------------------------------------------------------------------------------------


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


def _normalise_base(base_url: str) -> str:
    base = base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"not an http(s) base URL: {base_url!r}")
    return base


def _join_url(base: str, listed: str) -> str:
    return f"{base}/{quote(listed.replace(chr(92), '/'))}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _nonempty_file(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _ensure_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(_os_reason(str(path), exc)) from None


def _os_reason(what: str, exc: OSError) -> str:
    return f"cannot write {what}: {exc.strerror or exc}"
