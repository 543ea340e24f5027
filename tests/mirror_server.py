"""A mirror and USITC emulation on 127.0.0.1 for the fetch and fault tests.

The handler serves ../shared with Range support and has switches to inject the failures fetch
must survive (cut connections, altered bytes, 404, 503, a slow link, files replaced by other
bytes) plus an emulation of USITC's reststop endpoints. Nothing here touches the network.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class ServerState:
    """Switches the test flips and what the handler saw."""

    root: Path
    revisions: tuple[str, ...] | None = ("2025 basic",)
    csv_override: str | None = None
    ranges: bool = True
    cut_once: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    fail_once: dict[str, int] = field(default_factory=dict)
    releases: list[list[dict[str, Any]]] = field(default_factory=list)
    export_json: bytes = b""
    record_pdf: bytes | None = None         # served as USITC's change record instead of the shared PDF
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes served instead of the file
    slow: dict[str, float] = field(default_factory=dict)   # path -> seconds to wait per 16 KiB sent
    sent: dict[str, int] = field(default_factory=dict)     # path -> bytes sent so far
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
            if name == "Change Record" and state.record_pdf is not None:
                self._send(path, state.record_pdf, "application/pdf")
            elif name != "Change Record" or not pdf.is_file():
                self._plain(404, b"no such file")
            else:
                self._send(path, pdf.read_bytes(), "application/pdf")
        elif path.lstrip("/") in state.files:
            self._send(path, state.files[path.lstrip("/")])
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
        delay = state.slow.get(path)
        if delay is None:
            self.wfile.write(body)
            return
        for i in range(0, len(body), 16384):  # a slow link: the client can be killed mid-transfer
            self.wfile.write(body[i : i + 16384])
            self.wfile.flush()
            with state.lock:
                state.sent[path] = state.sent.get(path, 0) + len(body[i : i + 16384])
            time.sleep(delay)


@dataclass
class Running:
    state: ServerState
    url: str


@contextmanager
def serve(root: Path) -> Iterator[Running]:
    """The server on a free loopback port, in a thread, for the duration of the block."""
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.state = ServerState(root=root)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Running(httpd.state, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
