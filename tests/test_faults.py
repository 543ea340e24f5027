"""Faults a user's machine meets: damaged, missing and extra archives, a malformed REVISIONS.csv,
kill -9 in the middle of ``export`` and ``fetch``, a full disk during both.

After each one the data on file and the store answer exactly as before, no partial file is left
where a user would take it for a result, and the user gets a message naming the problem: an
exit code and one line, never a traceback. (``build``'s own faults, its lock, kill -9 and a full
disk, are in test_panel.py.)
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_inproc import Outcome, invoke
from mirror_server import Running, serve

from tariffstack.sources.changes import load_change_records
from tariffstack.sources.fetch import fetch_mirror, verify_archives
from tariffstack.sources.fetch import http as fetch_http
from tariffstack.sources.schedule import load_revisions

EXE = [sys.executable, "-m", "tariffstack.surfaces.cli"]
LAST = "hts/json/hts_2026_rev_10.json.gz"  # the newest revision: a rebuild parses only it
QUERY = ("rate", "8517.13.0000", "--origin", "CN", "--date", "2026-05-15", "--json")


@dataclass
class Folder:
    """A private data folder (archives linked to ../shared) and home (the model cache copied)."""

    data: Path
    home: Path
    baseline: str  # `rate --json` of QUERY on the intact folder

    def ask(self, *args: str) -> Outcome:
        return invoke("--data-dir", str(self.data), "--home", str(self.home), *args)

    def revisions_csv(self) -> Path:
        return self.data / "REVISIONS.csv"


def _link_tree(src: Path, dest: Path) -> None:
    """The folder's files as symlinks, so a test can replace one of them by a damaged copy."""
    for path in src.rglob("*"):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, hts_dir: Path, session_home: Path, engine: Any) -> Folder:
    root = tmp_path_factory.mktemp("faults")
    data, home = root / "data", root / "home"
    _link_tree(hts_dir, data)
    (data / "REVISIONS.csv").unlink()
    shutil.copy2(hts_dir / "REVISIONS.csv", data / "REVISIONS.csv")
    (home / "cache").mkdir(parents=True)
    for cached in (session_home / "cache").glob("model-*.pickle"):  # a rebuild parses what changed
        shutil.copy2(cached, home / "cache" / cached.name)
    first = invoke("--data-dir", str(data), "--home", str(home), *QUERY)
    assert first.code == 0, first.err
    return Folder(data, home, first.out)


@contextlib.contextmanager
def damaged(path: Path, data: bytes | None) -> Iterator[None]:
    """Put other bytes in place of a file (None: remove it) for the block, then restore it."""
    keep = path.with_name(path.name + ".keep")
    os.rename(path, keep)
    try:
        if data is not None:
            path.write_bytes(data)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.rename(keep, path)


def _archive(folder: Folder) -> tuple[Path, bytes]:
    path = folder.data / LAST.removeprefix("hts/")
    return path, path.read_bytes()


def _flip(raw: bytes) -> bytes:
    mid = len(raw) // 2
    return raw[:mid] + bytes([raw[mid] ^ 0xFF]) + raw[mid + 1 :]


# ------------------------------------------------------------------------------------ archives


@pytest.mark.parametrize(("fault", "fragments"), [
    ("truncated", ("hts_2026_rev_10.json.gz", "fails its checksum", "tariffstack fetch")),
    ("corrupt", ("hts_2026_rev_10.json.gz", "fails its checksum", "tariffstack fetch")),
    ("missing", ("lacks 1 revision archive", "2026 rev 10", "tariffstack fetch")),
])
def test_damaged_archive_is_named_and_the_intact_folder_answers_as_before(
    folder: Folder, fault: str, fragments: tuple[str, ...]
) -> None:
    path, raw = _archive(folder)
    bad = {"truncated": raw[: len(raw) // 2], "corrupt": _flip(raw), "missing": None}[fault]
    with damaged(path, bad):
        folder.ask(*QUERY).one_line_error(3, *fragments)
        if fault == "missing":  # found before any parse, so every command says it the same way
            folder.ask("revisions").one_line_error(3, *fragments)
    again = folder.ask(*QUERY)
    assert again.code == 0 and again.out == folder.baseline


def test_corrupt_archive_without_a_listed_checksum_is_still_caught(folder: Folder) -> None:
    """No sha256 in REVISIONS.csv: the earlier parse is not reused on trust, the archive is read."""
    path, raw = _archive(folder)
    index = folder.revisions_csv()
    text = index.read_text(encoding="utf-8")
    sha = hashlib.sha256(raw).hexdigest()
    with damaged(index, text.replace(sha, "").encode()), damaged(path, _flip(raw)):
        folder.ask(*QUERY).one_line_error(3, "hts_2026_rev_10.json.gz", "corrupt or truncated")
    assert folder.ask(*QUERY).out == folder.baseline


def test_extra_archives_and_leftovers_change_nothing(folder: Folder) -> None:
    """Files REVISIONS.csv does not list (a newer archive, a partial download, a stray PDF)."""
    path, raw = _archive(folder)
    extra = [path.with_name("hts_2026_rev_11.json.gz"), path.with_name(path.name + ".part"),
             folder.data / "change_records" / "2026HTSRev11_change_record.pdf"]
    for i, p in enumerate(extra):
        p.write_bytes(raw if i == 0 else b"%PDF-1.7 junk" if i == 2 else raw[:1000])
    try:
        got = folder.ask(*QUERY)
        assert got.code == 0 and got.out == folder.baseline
    finally:
        for p in extra:
            p.unlink()


HEADER = "revision,json,change_record,published,sha256\n"


def _malformed(text: str) -> dict[str, bytes]:
    rows = text.splitlines(keepends=True)
    return {
        "latin-1 byte": (text.replace("2025 rev 2,", "2025 r\xe9v 2,")).encode("cp1252"),
        "binary junk": text.encode() + b"\x00\x01\x02PK\x03\x04\n",
        "missing column": text.replace("revision,json,", "revision,file,", 1).encode(),
        "impossible date": text.replace("2025-02-05", "2025-02-30").encode(),
        "row twice": "".join([*rows, rows[3]]).encode(),
        "unclosed quote": text.replace("2025 rev 3,", '"2025 rev 3,', 1).encode(),
        "empty": b"",
        "header only": HEADER.encode(),
        "no revision name": text.replace("2025 rev 4,", ",", 1).encode(),
    }


MALFORMED = {
    "latin-1 byte": "line 4 is not UTF-8 text",
    "binary junk": "line 46 holds binary data",
    "missing column": "line 1 lacks the revision/json columns",
    "impossible date": "bad published date '2025-02-30' for 2025 rev 1",
    "row twice": "line 46 lists 2025 rev 2 a second time",
    "unclosed quote": "line 5 opens a quote that is not closed",
    "empty": "lists no revisions",
    "header only": "lists no revisions",
    "no revision name": "line 6 has no revision name",
}


def test_malformed_revisions_csv_is_one_clear_line(folder: Folder) -> None:
    """Each kind in turn (then the intact file again): exit 3 and one line naming the line."""
    index = folder.revisions_csv()
    for kind, bad in _malformed(index.read_text(encoding="utf-8")).items():
        with damaged(index, bad):
            got = folder.ask(*QUERY)
        assert got.code == 3, (kind, got.err)
        got.one_line_error(3, "REVISIONS.csv", MALFORMED[kind])
    assert folder.ask(*QUERY).out == folder.baseline


def test_revisions_csv_saved_by_excel_still_reads_whole(folder: Folder) -> None:
    """A BOM or CRLF line ends (Excel's CSV): every revision and every change record is read.
    Before, a BOM made the change records silently vanish (their column was not found)."""
    index = folder.revisions_csv()
    text = index.read_text(encoding="utf-8")
    for raw in (("\ufeff" + text).encode(), text.replace("\n", "\r\n").encode()):
        with damaged(index, raw):
            assert len(load_revisions(folder.data)) == 44
            assert len(load_change_records(folder.data)) == 43
    with damaged(index, ("\ufeff" + text.replace("\n", "\r\n")).encode()):
        got = folder.ask(*QUERY)
    assert got.code == 0 and got.out == folder.baseline


# ------------------------------------------------------------------------------------ export


def _temps(folder: Path, name: str) -> list[Path]:
    """Our temporary beside the target, and DuckDB's own (``tmp_`` + ours) it renames onto it."""
    return sorted([*folder.glob(f".{name}.*.part"), *folder.glob(f"tmp_.{name}.*.part")])


def test_kill_9_during_export_leaves_the_old_file_and_the_store(
    panel_home: tuple[Path, object], hts_dir: Path, tmp_path: Path
) -> None:
    from tariffstack.panel import Panel

    home = panel_home[0]
    before = Panel.open(home).point("7208.51.0030", "GB", "2025-06-10")
    out = tmp_path / "panel.csv"
    out.write_text("an earlier export\n", encoding="utf-8")
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(home)}
    proc = subprocess.Popen([*EXE, "export", "--date", "2025-06-10", "--format", "csv", "-o", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sum(p.stat().st_size for p in _temps(tmp_path, out.name)) < 1_000_000:  # 5 M rows, ~580 MB
        assert proc.poll() is None, "the export ended before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    assert out.read_text(encoding="utf-8") == "an earlier export\n"  # untouched, not half replaced
    assert Panel.open(home).point("7208.51.0030", "GB", "2025-06-10") == before
    assert _temps(tmp_path, out.name)  # the dead writer's temporaries, swept by the next export
    again = invoke("--data-dir", str(hts_dir), "--home", str(home), "export", "--date", "2025-06-10",
                   "--chapter", "72", "--origin", "GB", "--format", "csv", "-o", str(out))
    assert again.code == 0, again.err
    assert _temps(tmp_path, out.name) == []
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert f"{len(rows):,} rows written" in again.err
    steel = next(r for r in rows if r["hts10"] == "7208.51.00.30")
    assert float(steel["total_pct"]) == before["total_pct"]


# ------------------------------------------------------------------------------------ fetch


@pytest.fixture
def mirror(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setattr(fetch_http, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(fetch_http, "BACKOFF_CAP_SECONDS", 0.05)
    with serve(shared_dir) as running:
        running.state.revisions = ("2025 basic", "2025 rev 1")
        yield running


REV1 = "hts/json/hts_2025_rev_1.json.gz"


def _with_basic(mirror: Running, dest: Path) -> bytes:
    """A data folder that already holds 2025 basic (the 'old data'); its REVISIONS.csv bytes."""
    mirror.state.revisions = ("2025 basic",)
    assert fetch_mirror(mirror.url, dest).failed == ()
    mirror.state.revisions = ("2025 basic", "2025 rev 1")
    mirror.state.requests.clear()
    return (dest / "REVISIONS.csv").read_bytes()


def _leftovers(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.name.endswith((".part", ".tmp")))


def test_kill_9_during_fetch_keeps_the_folder_valid_and_resumes(mirror: Running, tmp_path: Path,
                                                                  shared_dir: Path) -> None:
    dest = tmp_path / "hts"
    listing = _with_basic(mirror, dest)
    mirror.state.slow["/" + REV1] = 0.05  # about 2 s for the archive: time to kill it mid-way
    proc = subprocess.Popen([*EXE, "fetch", "--mirror", mirror.url, "--dest", str(dest)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while mirror.state.sent.get("/" + REV1, 0) < 200_000:
        assert proc.poll() is None and time.monotonic() < deadline, "fetch ended before it was killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    assert (dest / "REVISIONS.csv").read_bytes() == listing  # lists only what is whole and verified
    assert verify_archives(dest) == [] and [r.name for r in load_revisions(dest)] == ["2025 basic"]
    assert not (dest / "json" / "hts_2025_rev_1.json.gz").exists()
    assert _leftovers(dest) == ["json/hts_2025_rev_1.json.gz.part"]  # kept to resume from
    mirror.state.slow.clear()
    result = fetch_mirror(mirror.url, dest)
    assert result.failed == () and REV1 in result.downloaded
    resumed = [rng for path, rng in mirror.state.requests if path == "/" + REV1][-1]
    assert resumed is not None and resumed.startswith("bytes=")
    assert (dest / "json" / "hts_2025_rev_1.json.gz").read_bytes() == (shared_dir / REV1).read_bytes()
    assert verify_archives(dest) == [] and _leftovers(dest) == []


def test_full_disk_during_fetch_frees_the_partial_and_says_so(mirror: Running, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC simulated on the archive's writes (after 100 kB): exit 4, one line per file."""
    dest = tmp_path / "hts"
    listing = _with_basic(mirror, dest)
    real_open = open

    class Full(io.FileIO):
        def write(self, data: Any) -> int:
            if self.tell() + len(data) > 100_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    def full_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith(".part") and "b" in mode:
            return Full(file, mode.replace("b", ""))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(fetch_http, "open", full_open, raising=False)
    got = invoke("fetch", "--mirror", mirror.url, "--dest", str(dest))
    assert got.code == 4 and "Traceback" not in got.err
    failed = [ln for ln in got.err.splitlines() if ln.startswith("failed ")]
    assert failed == [f"failed {REV1}: cannot write {REV1}: No space left on device"]
    assert (dest / "REVISIONS.csv").read_bytes() == listing and verify_archives(dest) == []
    assert _leftovers(dest) == []  # the partial is removed: it would only hold the full disk
    monkeypatch.undo()
    assert fetch_mirror(mirror.url, dest).failed == ()


# ------------------------------------------------------------------------------------ a real full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a real ENOSPC where the machine lets us mount one (root, as in CI)."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}); the simulated "
                    "ENOSPC tests still run")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_real_full_disk_during_fetch(mirror: Running, small_disk: Path, shared_dir: Path) -> None:
    """2025 basic (714 kB) fits in 1 MiB, 2025 rev 1 does not."""
    dest = small_disk / "hts"
    got = invoke("fetch", "--mirror", mirror.url, "--dest", str(dest))
    assert got.code == 4 and "Traceback" not in got.err
    failed = [ln for ln in got.err.splitlines() if ln.startswith("failed ")]
    assert failed == [f"failed {REV1}: cannot write {REV1}: No space left on device"]
    assert [r.name for r in load_revisions(dest)] == ["2025 basic"] and verify_archives(dest) == []
    assert _leftovers(dest) == []


def test_real_full_disk_during_export(panel_home: tuple[Path, object], hts_dir: Path, small_disk: Path) -> None:
    out = small_disk / "panel.csv"
    out.write_text("an earlier export\n", encoding="utf-8")
    got = invoke("--data-dir", str(hts_dir), "--home", str(panel_home[0]), "export", "--date", "2025-05-02",
                 "--chapter", "84", "--format", "csv", "-o", str(out))
    got.one_line_error(2, f"cannot write {out}")
    assert out.read_text(encoding="utf-8") == "an earlier export\n"
    assert sorted(p.name for p in small_disk.iterdir()) == ["panel.csv"]
