"""Fetch from a mirror laid out like ``../shared``: whatever ``REVISIONS.csv`` lists that is
missing or damaged locally, checked against the package's manifest where it pins the revision,
and the newest Chapter 99 notes text."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from tariffstack.errors import FetchError
from tariffstack.sources.fetch.http import (
    REQUEST_HEADERS,
    Progress,
    _check_status,
    _client_scope,
    _fetch_verified,
    _get_bytes,
    _join_url,
    _normalise_base,
    _with_retries,
)
from tariffstack.sources.fetch.install import _install_checked, _install_nonempty
from tariffstack.sources.fetch.local import (
    _SHA256,
    ROOT_PREFIX,
    _ensure_dir,
    _local_path,
    _nonempty_file,
    _os_reason,
    _sha256,
    _write_atomic,
)
from tariffstack.sources.fetch.result import FetchResult
from tariffstack.sources.fetch.revisions import (
    REVISIONS_FILE,
    _parse_revisions,
    _read_local,
    _upsert,
    _write_revisions,
)
from tariffstack.sources.manifest import Manifest, load_manifest


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
