"""``tariffstack.fetch`` against a real HTTP server on 127.0.0.1 serving ../shared.

The handler serves the shared files with Range support and has switches to inject the failures
fetch must survive (cut connections, altered bytes, 404, 503) plus an emulation of USITC's
reststop endpoints. Nothing here touches the network.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from tariffstack.errors import DataError, FetchError
from tariffstack.sources import fetch
from tariffstack.sources.fetch import FetchResult, fetch_mirror, fetch_usitc, verify_archives

# A few revisions keep the tests fast; 2026 rev 10 has no change record in the shared data.
PICKED = ("2025 basic", "2025 rev 1", "2026 rev 10")
DEFAULT = ("2025 basic",)
BOTH = ("2025 basic", "2025 rev 1")
BASIC_JSON = "hts/json/hts_2025_basic.json.gz"
REV1_JSON = "hts/json/hts_2025_rev_1.json.gz"


@dataclass
class ServerState:
    """Switches the test flips and what the handler saw."""

    root: Path
    revisions: tuple[str, ...] | None = DEFAULT
    csv_override: str | None = None
    ranges: bool = True
    cut_once: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    fail_once: dict[str, int] = field(default_factory=dict)
    releases: list[list[dict[str, Any]]] = field(default_factory=list)
    export_json: bytes = b""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths_requested(self) -> list[str]:
        return [p for p, _ in self.requests]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ServerState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections we cut on purpose are not errors worth printing."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output clean."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        state = self.server.state
        url = urlsplit(self.path)
        path = unquote(url.path)
        with state.lock:
            state.requests.append((path, self.headers.get("Range")))
            status = state.fail_once.pop(path, None)
        if status is not None:
            self._plain(status, b"try later", {"Retry-After": "0"})
            return
        if path in state.missing:
            self._plain(404, b"not here")
            return
        if path == "/hts/REVISIONS.csv":
            self._send(path, self._revisions_csv(state))
        elif path == "/reststop/releaseList":
            with state.lock:
                listing = state.releases.pop(0) if len(state.releases) > 1 else state.releases[0]
            self._send(path, json.dumps(listing).encode(), "application/json")
        elif path == "/reststop/exportList":
            self._send(path, state.export_json, "application/json")
        elif path == "/reststop/file":
            query = parse_qs(url.query)
            release = query.get("release", [""])[0]
            name = query.get("filename", [""])[0]
            pdf = state.root / "hts" / "change_records" / f"{release}_change_record.pdf"
            if name != "Change Record" or not pdf.is_file():
                self._plain(404, b"no such file")
            else:
                self._send(path, pdf.read_bytes(), "application/pdf")
        else:
            file = (state.root / path.lstrip("/")).resolve()
            if state.root.resolve() not in file.parents or not file.is_file():
                self._plain(404, b"not found")
            else:
                self._send(path, file.read_bytes())

    def _revisions_csv(self, state: ServerState) -> bytes:
        if state.csv_override is not None:
            return state.csv_override.encode()
        text = (state.root / "hts" / "REVISIONS.csv").read_text(encoding="utf-8")
        if state.revisions is None:
            return text.encode()
        lines = text.splitlines(keepends=True)
        keep = [ln for ln in lines[1:] if ln.split(",", 1)[0] in state.revisions]
        return "".join(lines[:1] + keep).encode()

    def _plain(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, path: str, data: bytes, ctype: str = "application/octet-stream") -> None:
        state = self.server.state
        if path in state.corrupt:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        status, body, extra = 200, data, {"Accept-Ranges": "bytes"} if state.ranges else {}
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if state.ranges and m:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            if start >= len(data):
                self._plain(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
            status, body = 206, data[start : end + 1]
            extra["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        with state.lock:
            cut = path in state.cut_once
            state.cut_once.discard(path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if cut:  # promise the whole body, deliver a third, hang up
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)


@dataclass
class Running:
    state: ServerState
    url: str


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(fetch, "BACKOFF_CAP_SECONDS", 0.05)


@pytest.fixture
def server(shared_dir: Path) -> Iterator[Running]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.state = ServerState(root=shared_dir)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Running(httpd.state, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def shared_rows(shared_dir: Path) -> dict[str, dict[str, str]]:
    with open(shared_dir / "hts" / "REVISIONS.csv", encoding="utf-8", newline="") as fh:
        return {row["revision"]: row for row in csv.DictReader(fh)}


def _local_rows(dest: Path) -> dict[str, dict[str, str]]:
    with open(dest / "REVISIONS.csv", encoding="utf-8", newline="") as fh:
        return {row["revision"]: row for row in csv.DictReader(fh)}


def _leftovers(dest: Path) -> list[str]:
    return sorted(
        str(p.relative_to(dest)) for p in dest.rglob("*") if p.name.endswith((".part", ".tmp"))
    )


def _local(dest: Path, listed: str) -> Path:
    return dest / listed.removeprefix("hts/")


# ---------------------------------------------------------------------------------- mirror


def test_mirror_fetch_downloads_and_verifies(
    server: Running, tmp_path: Path, shared_dir: Path, shared_rows: dict[str, dict[str, str]]
) -> None:
    dest = tmp_path / "hts"
    server.state.revisions = PICKED
    seen: dict[str, tuple[int, int | None]] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        seen[name] = (done, total)

    result = fetch_mirror(server.url, dest, progress=progress)

    jsons = [shared_rows[r]["json"] for r in PICKED]
    records = [shared_rows[r]["change_record"] for r in PICKED if shared_rows[r]["change_record"]]
    assert result.failed == ()
    assert sorted(result.downloaded) == sorted(jsons + records)
    assert result.skipped == ()
    for name in jsons + records:
        assert _local(dest, name).read_bytes() == (shared_dir / name).read_bytes()
        size = (shared_dir / name).stat().st_size
        assert seen[name] == (size, size)
    assert _local_rows(dest) == {r: shared_rows[r] for r in PICKED}
    assert verify_archives(dest) == []
    assert _leftovers(dest) == []


def test_mirror_brings_the_notes_and_any_folder_name_builds(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    """A folder made by fetch --mirror, whatever its name, has the notes the build needs."""
    from tariffstack.law.store import build_model
    from tariffstack.sources.schedule import load_revisions, read_records

    dest = tmp_path / "tariff-data"
    server.state.revisions = ("2026 rev 6",)
    result = fetch_mirror(server.url, dest)
    notes = "hts/notes/chapter99_2026_rev_6.txt"
    assert result.failed == () and result.warnings == () and notes in result.downloaded
    assert _local(dest, notes).read_bytes() == (shared_dir / notes).read_bytes()
    revs = load_revisions(dest)
    assert revs[0].json_path.parent == dest / "json" and len(read_records(revs[0])) > 30000
    again = fetch_mirror(server.url, dest)
    assert notes in again.skipped and again.downloaded == ()
    _local(dest, notes).unlink()
    with pytest.raises(DataError, match="no Chapter 99 notes"):
        build_model(dest)


def test_second_run_skips_everything(server: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    server.state.revisions = BOTH
    first = fetch_mirror(server.url, dest)
    before = (dest / "REVISIONS.csv").read_bytes()
    server.state.requests.clear()

    second = fetch_mirror(server.url, dest)

    assert second == FetchResult(downloaded=(), skipped=second.skipped, failed=(), warnings=second.warnings)
    assert sorted(second.skipped) == sorted(first.downloaded)
    assert [p for p in server.state.paths_requested() if "/notes/" not in p] == ["/hts/REVISIONS.csv"]
    assert second.warnings and "notes" in second.warnings[0]  # this subset lists no revision with notes
    assert (dest / "REVISIONS.csv").read_bytes() == before


def test_existing_rows_are_kept_and_damaged_file_refetched(
    server: Running, tmp_path: Path, shared_dir: Path, shared_rows: dict[str, dict[str, str]]
) -> None:
    dest = tmp_path / "hts"
    server.state.revisions = ("2025 rev 3",)
    fetch_mirror(server.url, dest)
    server.state.revisions = BOTH
    fetch_mirror(server.url, dest)
    _local(dest, BASIC_JSON).write_bytes(b"damaged")

    result = fetch_mirror(server.url, dest)

    assert result.downloaded == (BASIC_JSON,)
    assert _local(dest, BASIC_JSON).read_bytes() == (shared_dir / BASIC_JSON).read_bytes()
    assert list(_local_rows(dest)) == ["2025 basic", "2025 rev 1", "2025 rev 3"]
    assert _local_rows(dest)["2025 rev 3"] == shared_rows["2025 rev 3"]


def test_resume_after_connection_cut(server: Running, tmp_path: Path, shared_dir: Path) -> None:
    dest = tmp_path / "hts"
    server.state.cut_once.add("/" + BASIC_JSON)

    result = fetch_mirror(server.url, dest)

    assert result.failed == ()
    assert BASIC_JSON in result.downloaded
    assert _local(dest, BASIC_JSON).read_bytes() == (shared_dir / BASIC_JSON).read_bytes()
    ranges = [rng for path, rng in server.state.requests if path == "/" + BASIC_JSON]
    assert ranges[0] is None
    assert ranges[1] is not None and re.fullmatch(r"bytes=[1-9]\d*-", ranges[1])
    assert _leftovers(dest) == []


def test_resume_of_partial_left_by_earlier_run(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    dest = tmp_path / "hts"
    original = (shared_dir / BASIC_JSON).read_bytes()
    part = _local(dest, BASIC_JSON + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(original[:100_000])

    fetch_mirror(server.url, dest)

    assert _local(dest, BASIC_JSON).read_bytes() == original
    assert ("/" + BASIC_JSON, "bytes=100000-") in server.state.requests
    assert not part.exists()


def test_stale_partial_is_refetched_from_scratch(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    dest = tmp_path / "hts"
    part = _local(dest, BASIC_JSON + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 5000)  # bytes from some other file: the resumed result is wrong

    result = fetch_mirror(server.url, dest)

    assert result.failed == ()
    assert _local(dest, BASIC_JSON).read_bytes() == (shared_dir / BASIC_JSON).read_bytes()
    ranges = [rng for path, rng in server.state.requests if path == "/" + BASIC_JSON]
    assert ranges == ["bytes=5000-", None]


def test_server_without_range_support(server: Running, tmp_path: Path, shared_dir: Path) -> None:
    dest = tmp_path / "hts"
    server.state.ranges = False
    server.state.cut_once.add("/" + BASIC_JSON)

    result = fetch_mirror(server.url, dest)

    assert result.failed == ()
    assert _local(dest, BASIC_JSON).read_bytes() == (shared_dir / BASIC_JSON).read_bytes()


def test_corrupt_file_fails_and_leaves_nothing(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    dest = tmp_path / "hts"
    server.state.revisions = BOTH
    server.state.corrupt.add("/" + BASIC_JSON)

    result = fetch_mirror(server.url, dest)

    assert [name for name, _ in result.failed] == [BASIC_JSON]
    reason = result.failed[0][1]
    assert BASIC_JSON in reason and "sha256 mismatch" in reason
    assert not _local(dest, BASIC_JSON).exists()
    assert _leftovers(dest) == []
    assert "2025 basic" not in _local_rows(dest)
    assert _local(dest, REV1_JSON).read_bytes() == (shared_dir / REV1_JSON).read_bytes()


def test_missing_file_is_a_clear_failure(server: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    server.state.revisions = BOTH
    server.state.missing.add("/" + REV1_JSON)

    result = fetch_mirror(server.url, dest)

    assert [name for name, _ in result.failed] == [REV1_JSON]
    assert "HTTP 404" in result.failed[0][1]
    assert not _local(dest, REV1_JSON).exists()
    assert BASIC_JSON in result.downloaded


def test_transient_error_is_retried(server: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    server.state.revisions = ("2025 rev 1",)
    server.state.fail_once["/" + REV1_JSON] = 503

    result = fetch_mirror(server.url, dest)

    assert result.failed == ()
    assert server.state.paths_requested().count("/" + REV1_JSON) == 2


def test_mirror_without_revisions_csv(server: Running, tmp_path: Path) -> None:
    server.state.missing.add("/hts/REVISIONS.csv")
    with pytest.raises(FetchError, match=r"REVISIONS\.csv.*HTTP 404"):
        fetch_mirror(server.url, tmp_path / "hts")


def test_mirror_path_outside_data_folder_is_refused(server: Running, tmp_path: Path) -> None:
    server.state.csv_override = (
        "revision,json,change_record,published,sha256\n"
        f"2027 basic,hts/../../evil.json.gz,,2027-01-01,{'0' * 64}\n"
        "2027 rev 1,,,,\n"
    )
    result = fetch_mirror(server.url, tmp_path / "hts")
    assert "outside the data folder" in result.failed[0][1]
    assert result.failed[1] == ("REVISIONS.csv row '2027 rev 1'", "no JSON file listed")
    assert not (tmp_path / "evil.json.gz").exists()


def test_server_down_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match=rf"cannot connect to http://127\.0\.0\.1:{port}"):
        fetch_mirror(f"http://127.0.0.1:{port}", tmp_path / "hts")


def test_caller_supplied_client_is_used_and_left_open(server: Running, tmp_path: Path) -> None:
    with httpx.Client(timeout=5.0) as client:
        result = fetch_mirror(server.url, tmp_path / "hts", client=client)
        assert not client.is_closed
    assert result.failed == ()


# ---------------------------------------------------------------------------------- USITC


def _release(name: str, status: str, start: str) -> dict[str, Any]:
    return {"name": name, "description": name, "status": status, "releaseStartDate": start}


@pytest.fixture
def usitc(server: Running, shared_dir: Path) -> Running:
    """USITC emulation: 2026 rev 6 is current; its export is the shared JSON, uncompressed."""
    with gzip.open(shared_dir / "hts" / "json" / "hts_2026_rev_6.json.gz", "rb") as fh:
        server.state.export_json = fh.read()
    server.state.releases = [
        [
            _release("2026HTSRev6", "current", "04/08/2026"),
            _release("2026HTSRev5", "archived", "03/27/2026"),
        ]
    ]
    return server


def test_usitc_adds_current_release(usitc: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    usitc.state.revisions = ("2025 basic",)
    fetch_mirror(usitc.url, dest)  # an archive built earlier

    result = fetch_usitc(dest, base_url=usitc.url)

    json_name = "hts/json/hts_2026_rev_6.json.gz"
    record_name = "hts/change_records/2026HTSRev6_change_record.pdf"
    assert result == FetchResult((json_name, record_name), (), ())
    rows = _local_rows(dest)
    assert list(rows) == ["2025 basic", "2026 rev 6"]
    assert rows["2026 rev 6"]["json"] == json_name
    assert rows["2026 rev 6"]["change_record"] == record_name
    assert rows["2026 rev 6"]["published"] == "2026-04-08"
    with gzip.open(_local(dest, json_name), "rb") as fh:
        assert fh.read() == usitc.state.export_json
    assert _local(dest, record_name).read_bytes().startswith(b"%PDF")
    assert verify_archives(dest) == []
    assert _leftovers(dest) == []
    export_calls = [p for p in usitc.state.paths_requested() if p == "/reststop/exportList"]
    assert len(export_calls) == 1

    usitc.state.requests.clear()
    again = fetch_usitc(dest, base_url=usitc.url)
    assert again == FetchResult((), (json_name, record_name), ())
    assert "/reststop/exportList" not in usitc.state.paths_requested()


def test_usitc_release_already_in_archive(usitc: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    usitc.state.revisions = ("2025 rev 1",)
    fetch_mirror(usitc.url, dest)
    usitc.state.releases = [[_release("2025HTSRev1", "current", "02/05/2025")]]
    before = (dest / "REVISIONS.csv").read_bytes()
    usitc.state.requests.clear()

    result = fetch_usitc(dest, base_url=usitc.url)

    assert result == FetchResult(
        (), (REV1_JSON, "hts/change_records/2025HTSRev1_change_record.txt"), ()
    )
    assert usitc.state.paths_requested() == ["/reststop/releaseList"]
    assert (dest / "REVISIONS.csv").read_bytes() == before


def test_usitc_without_change_record(usitc: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    usitc.state.missing.add("/reststop/file")

    result = fetch_usitc(dest, base_url=usitc.url)

    assert result.downloaded == ("hts/json/hts_2026_rev_6.json.gz",)
    assert [name for name, _ in result.failed] == [
        "hts/change_records/2026HTSRev6_change_record.pdf"
    ]
    assert "HTTP 404" in result.failed[0][1]
    assert _local_rows(dest)["2026 rev 6"]["change_record"] == ""


def test_usitc_release_switch_during_download(usitc: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    usitc.state.releases = [
        [_release("2026HTSRev6", "current", "04/08/2026")],
        [_release("2026HTSRev7", "current", "04/29/2026")],
    ]
    with pytest.raises(FetchError, match="switched its current release"):
        fetch_usitc(dest, base_url=usitc.url)
    assert not (dest / "json" / "hts_2026_rev_6.json.gz").exists()
    assert _leftovers(dest) == []


def test_usitc_export_that_is_not_a_record_list(usitc: Running, tmp_path: Path) -> None:
    usitc.state.export_json = b"<html>Service unavailable</html>"
    with pytest.raises(FetchError, match="not valid JSON"):
        fetch_usitc(tmp_path / "hts", base_url=usitc.url)
    assert _leftovers(tmp_path / "hts") == []


def test_usitc_unreachable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="USITC release list: cannot connect"):
        fetch_usitc(tmp_path / "hts", base_url=f"http://127.0.0.1:{port}")


def test_usitc_default_base_is_official() -> None:
    assert fetch.USITC_BASE == "https://hts.usitc.gov"


# ---------------------------------------------------------------------------------- verify


def test_verify_shared_archives_are_intact(hts_dir: Path) -> None:
    assert verify_archives(hts_dir) == []


def test_verify_reports_missing_and_damaged(tmp_path: Path) -> None:
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "a.json.gz").write_bytes(b"not what was listed")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["revision", "json", "change_record", "published", "sha256"])
    writer.writerow(["2025 basic", "hts/json/a.json.gz", "", "2025-01-01", "0" * 64])
    writer.writerow(["2025 rev 1", "hts/json/b.json.gz", "hts/change_records/b.txt", "", "1" * 64])
    (tmp_path / "REVISIONS.csv").write_text(buf.getvalue(), encoding="utf-8")

    problems = dict(verify_archives(tmp_path))

    assert problems["hts/json/a.json.gz"].startswith("sha256 mismatch")
    assert problems["hts/json/b.json.gz"] == "missing"
    assert problems["hts/change_records/b.txt"] == "missing"


def test_verify_without_revisions_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="REVISIONS.csv"):
        verify_archives(tmp_path)


def test_verify_malformed_revisions_csv(tmp_path: Path) -> None:
    (tmp_path / "REVISIONS.csv").write_text("revision,json\n2025 basic,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="lacks the column"):
        verify_archives(tmp_path)
