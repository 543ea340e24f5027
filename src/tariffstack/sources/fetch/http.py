"""HTTP for fetch: the client, retries with backoff (and the server's Retry-After), the status
checks, and downloads that stream into ``<name>.part``, resume with a Range request after an
interruption and are verified before they are moved into place."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit

import httpx

from tariffstack import __version__
from tariffstack.errors import FetchError
from tariffstack.sources.fetch.local import _ensure_dir, _os_reason

# Network behaviour; module level (here, not on the package) so tests and impatient users can
# tune them.
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
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _Transient(Exception):
    """A failure worth retrying (dropped connection, timeout, 5xx, 429)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
