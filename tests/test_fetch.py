"""``tariffstack.fetch`` against a real HTTP server on 127.0.0.1 serving ../shared.

The server (``mirror_server.py``) serves the shared files with Range support and has switches to
inject the failures fetch must survive (cut connections, altered bytes, 404, 503, a mirror that
changed a revision) plus an emulation of USITC's reststop endpoints. Nothing here touches the
network.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from mirror_server import Running, serve

from tariffstack.errors import DataError, FetchError
from tariffstack.sources import fetch
from tariffstack.sources.changes import change_record_text, parse_change_record
from tariffstack.sources.fetch import FetchResult, fetch_mirror, fetch_usitc, verify_archives
from tariffstack.sources.fetch import http as fetch_http
from tariffstack.sources.manifest import load_manifest, make_manifest

# A few revisions keep the tests fast; 2026 rev 10 has no change record in the shared data.
PICKED = ("2025 basic", "2025 rev 1", "2026 rev 10")
BOTH = ("2025 basic", "2025 rev 1")
BASIC_JSON = "hts/json/hts_2025_basic.json.gz"
REV1_JSON = "hts/json/hts_2025_rev_1.json.gz"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_http, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(fetch_http, "BACKOFF_CAP_SECONDS", 0.05)


@pytest.fixture
def server(shared_dir: Path) -> Iterator[Running]:
    with serve(shared_dir) as running:
        yield running


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
    assert BASIC_JSON in reason and "sha256 mismatch (this package's manifest pins ac2660b1c54b" in reason
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


def test_usitc_adds_current_release(usitc: Running, tmp_path: Path, shared_dir: Path) -> None:
    dest = tmp_path / "hts"
    usitc.state.revisions = ("2025 basic",)
    fetch_mirror(usitc.url, dest)  # an archive built earlier

    result = fetch_usitc(dest, base_url=usitc.url)

    json_name = "hts/json/hts_2026_rev_6.json.gz"
    record_name = "hts/change_records/2026HTSRev6_change_record.pdf"
    text_name = "hts/change_records/2026HTSRev6_change_record.txt"
    assert result == FetchResult((json_name, record_name), (), ())
    rows = _local_rows(dest)
    assert list(rows) == ["2025 basic", "2026 rev 6"]
    assert rows["2026 rev 6"]["json"] == json_name
    assert rows["2026 rev 6"]["change_record"] == text_name  # the PDF's text, which the build reads
    assert rows["2026 rev 6"]["published"] == "2026-04-08"
    with gzip.open(_local(dest, json_name), "rb") as fh:
        assert fh.read() == usitc.state.export_json
    assert _local(dest, record_name).read_bytes().startswith(b"%PDF")
    assert _entries(_local(dest, text_name).read_text(encoding="utf-8"), "2026 rev 6") == _shared_entries(
        shared_dir, "2026HTSRev6")
    assert verify_archives(dest) == []
    assert _leftovers(dest) == []
    export_calls = [p for p in usitc.state.paths_requested() if p == "/reststop/exportList"]
    assert len(export_calls) == 1

    usitc.state.requests.clear()
    again = fetch_usitc(dest, base_url=usitc.url)
    assert again == FetchResult((), (json_name, text_name), ())
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


def _entries(text: str, revision: str) -> list[tuple[tuple[str, ...], str | None, date | None]]:
    """What the model takes from a change record: per entry, its codes, note and date."""
    return [(e.codes, e.note_ref, e.effective) for e in parse_change_record(text, revision).entries]


def _shared_entries(shared_dir: Path, stem: str) -> list[tuple[tuple[str, ...], str | None, date | None]]:
    text = (shared_dir / "hts" / "change_records" / f"{stem}_change_record.txt").read_text(encoding="utf-8")
    label = re.sub(r"(\d{4})HTSRev(\d+)", r"\1 rev \2", stem).replace("HTSBasic", " basic")
    return _entries(text, label)


@pytest.mark.parametrize("stem", ["2025HTSRev18", "2025HTSRev29", "2026HTSRev9"])
def test_change_record_pdfs_read_like_pdftotext(shared_dir: Path, stem: str) -> None:
    """USITC's own PDFs (a four-page table; two with a split "2(" bracket in pypdf's layout)
    give the entries and publication date of the shared ``pdftotext -layout`` text."""
    folder = shared_dir / "hts" / "change_records"
    label = re.sub(r"(\d{4})HTSRev(\d+)", r"\1 rev \2", stem)
    from_pdf = change_record_text(folder / f"{stem}_change_record.pdf")
    from_txt = (folder / f"{stem}_change_record.txt").read_text(encoding="utf-8")
    assert _entries(from_pdf, label) == _entries(from_txt, label) and len(_entries(from_pdf, label)) > 10
    assert parse_change_record(from_pdf, label).published == parse_change_record(from_txt, label).published


def _pdf_of(text: str) -> bytes:
    """A change record PDF made the way USITC's look to a reader: the table's lines set in a
    fixed-pitch font at their columns, several pages (reportlab, pinned in the dev extra)."""
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=landscape(letter), invariant=True)
    width, height = landscape(letter)
    lines = text.encode("latin-1", "replace").decode("latin-1").splitlines()
    for start in range(0, len(lines), 45):
        pdf.setFont("Courier", 8)
        for k, line in enumerate(lines[start : start + 45]):
            pdf.drawString(30, height - 40 - 11 * k, line)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def test_usitc_change_record_that_is_no_readable_pdf(usitc: Running, tmp_path: Path) -> None:
    dest = tmp_path / "hts"
    usitc.state.record_pdf = b"%PDF-1.7\n% a truncated download\n1 0 obj <<"

    result = fetch_usitc(dest, base_url=usitc.url)

    record_name = "hts/change_records/2026HTSRev6_change_record.pdf"
    assert [name for name, _ in result.failed] == [record_name]
    assert "not a readable PDF" in result.failed[0][1]
    assert _local_rows(dest)["2026 rev 6"]["change_record"] == ""
    assert not _local(dest, record_name).exists() and _leftovers(dest) == []


def test_usitc_pdf_listed_by_an_older_fetch_becomes_text(usitc: Running, tmp_path: Path, shared_dir: Path) -> None:
    """A folder from the fetch that listed the PDF itself: the text is made, no download."""
    dest = tmp_path / "hts"
    fetch_usitc(dest, base_url=usitc.url)
    rows = _local_rows(dest)
    text_name = rows["2026 rev 6"]["change_record"]
    _local(dest, text_name).unlink()
    rows["2026 rev 6"]["change_record"] = text_name.removesuffix(".txt") + ".pdf"
    with open(dest / "REVISIONS.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows["2026 rev 6"]))
        writer.writeheader()
        writer.writerows(rows.values())
    usitc.state.requests.clear()

    result = fetch_usitc(dest, base_url=usitc.url)

    assert result.failed == () and "/reststop/file" not in usitc.state.paths_requested()
    assert _local_rows(dest)["2026 rev 6"]["change_record"] == text_name
    assert _entries(_local(dest, text_name).read_text(encoding="utf-8"), "2026 rev 6") == _shared_entries(
        shared_dir, "2026HTSRev6")


def test_fetch_then_build_reads_usitcs_pdf_change_record(
    usitc: Running, tmp_path: Path, hts_dir: Path, shared_dir: Path, engine: Any, session_home: Path
) -> None:
    """End to end: a data folder whose 2026 rev 9 came without its change record; USITC serves
    that record as a PDF (made here from the published text); fetch, then build, then rate.

    The record dates the 2026 rev 9 changes from May 1, 2026 (e.g. 9903.76.24, Added, effective
    May 1, 2026, "Notice"), four weeks before the revision's publication on May 28, 2026; the
    built model must carry those dates, so its answers equal the reference build's.
    """
    from tariffstack.engine.us import Engine, Inputs

    dest = tmp_path / "tariff-data"
    (dest / "json").mkdir(parents=True)
    (dest / "change_records").mkdir()
    shutil.copytree(hts_dir / "notes", dest / "notes")
    with open(hts_dir / "REVISIONS.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        shutil.copy2(hts_dir.parent / row["json"], dest / "json")
        if row["revision"] == "2026 rev 9":
            row["change_record"] = ""  # the archive came, its record did not
        elif row["change_record"]:
            shutil.copy2(hts_dir.parent / row["change_record"], dest / "change_records")
    with open(dest / "REVISIONS.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = (hts_dir / "change_records" / "2026HTSRev9_change_record.txt").read_text(encoding="utf-8")
    usitc.state.record_pdf = _pdf_of(text)
    usitc.state.releases = [[_release("2026HTSRev9", "current", "05/28/2026")]]

    result = fetch_usitc(dest, base_url=usitc.url)

    assert result.failed == () and result.warnings == ()
    assert result.downloaded == ("hts/change_records/2026HTSRev9_change_record.pdf",)
    assert _local_rows(dest)["2026 rev 9"]["change_record"] == "hts/change_records/2026HTSRev9_change_record.txt"
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    for cached in (session_home / "cache").glob("model-*.pickle"):  # so only what changed is parsed
        shutil.copy2(cached, home / "cache" / cached.name)
    built = Engine.load(dest, home)
    ref = engine.model
    assert _entries(text, "2026 rev 9") == [(e.codes, e.note_ref, e.effective)
                                            for e in built.model.records["2026 rev 9"].entries]
    named = {c for e in ref.records["2026 rev 9"].entries for c in e.codes}
    assert "9903.76.24" in named
    for heading in sorted(named & set(ref.measures)):
        assert [(v.start, v.end) for v in built.model.measures[heading]] == \
            [(v.start, v.end) for v in ref.measures[heading]], heading
    assert built.model.measures["9903.76.24"][0].start == date(2026, 5, 1)  # not May 28
    for code, origin in (("8407.31.0040", "CN"), ("8703.22.0110", "GB"), ("8706.00.0520", "GB")):
        day = date(2026, 5, 15)
        assert built.rate(code, origin, day, Inputs()).to_json() == engine.rate(code, origin, day, Inputs()).to_json()


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


# ---------------------------------------------------------------------------------- manifest


def test_shipped_manifest_pins_the_shared_data(hts_dir: Path) -> None:
    """The package's manifest is the reference copy's, file for file (remake it with
    ``python -m tariffstack.sources.manifest ../shared/hts`` when a revision is added)."""
    shipped = json.loads((Path(fetch.__file__).parents[2] / "data" / "manifest.json").read_text(encoding="utf-8"))
    assert shipped == make_manifest(hts_dir)
    manifest = load_manifest()
    with open(hts_dir / "REVISIONS.csv", encoding="utf-8", newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert list(manifest.revisions) == [r["revision"] for r in listed]
    assert all(manifest.conflict(r) is None for r in listed)
    pdfs = [p for pin in manifest.revisions.values() for p in pin.change_records if p.endswith(".pdf")]
    assert len(pdfs) == 43  # every revision but 2026 rev 10, which has no change record
    assert list(manifest.notes) == ["hts/notes/chapter99_2026_rev_6.txt"]


def _mirror_csv(shared_dir: Path, edit: dict[str, dict[str, str]]) -> str:
    """The shared REVISIONS.csv, cut to 2025 basic and rev 1, with some cells changed."""
    with open(shared_dir / "hts" / "REVISIONS.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["revision"] in BOTH]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, **edit.get(row["revision"], {})})
    return buf.getvalue()


def test_mirror_that_changed_a_revision_is_refused(server: Running, tmp_path: Path, shared_dir: Path) -> None:
    """A mirror serves another 2025 rev 1 and lists its sha256, so its own checks pass: the
    manifest refuses the row before anything is downloaded, and names the revision."""
    forged = (shared_dir / REV1_JSON).read_bytes()[:-8] + b"\0" * 8  # whatever it changed
    server.state.files[REV1_JSON] = forged
    server.state.csv_override = _mirror_csv(shared_dir, {"2025 rev 1": {"sha256": hashlib.sha256(forged).hexdigest()}})
    dest = tmp_path / "hts"

    result = fetch_mirror(server.url, dest)

    assert [name for name, _ in result.failed] == [REV1_JSON]
    assert "manifest pins 4525bec7e46b" in result.failed[0][1] and "refused" in result.failed[0][1]
    assert "/" + REV1_JSON not in server.state.paths_requested()  # refused before downloading
    assert list(_local_rows(dest)) == ["2025 basic"] and not _local(dest, REV1_JSON).exists()
    assert _leftovers(dest) == []


def test_mirror_that_moved_a_publication_date_is_refused(server: Running, tmp_path: Path, shared_dir: Path) -> None:
    server.state.csv_override = _mirror_csv(shared_dir, {"2025 rev 1": {"published": "2025-01-20"}})
    result = fetch_mirror(server.url, tmp_path / "hts")
    assert result.failed == ((REV1_JSON, "2025 rev 1: the mirror says it was published 2025-01-20, the manifest "
                                         "says 2025-02-05; the row was refused"),)


def test_mirror_that_edited_a_change_record_or_the_notes_is_refused(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    record = "hts/change_records/2025HTSRev1_change_record.txt"
    notes = "hts/notes/chapter99_2026_rev_6.txt"
    text = (shared_dir / record).read_text(encoding="utf-8")
    server.state.files[record] = text.replace("February 4, 2025", "February 1, 2025").encode()
    server.state.files[notes] = (shared_dir / notes).read_bytes() + b"\n(ccc) an extra note\n"
    server.state.revisions = ("2025 rev 1", "2026 rev 6")
    dest = tmp_path / "hts"

    result = fetch_mirror(server.url, dest)

    reasons = dict(result.failed)
    assert set(reasons) == {record, notes}
    assert "manifest pins" in reasons[record] and "manifest" in reasons[notes] and "refused" in reasons[notes]
    assert not _local(dest, record).exists() and not _local(dest, notes).exists()
    assert _local(dest, REV1_JSON).is_file()  # the archive itself was fine
    server.state.files.clear()  # the mirror is repaired: the next fetch completes
    again = fetch_mirror(server.url, dest)
    assert again.failed == () and {record, notes} <= set(again.downloaded)


def test_local_change_record_edited_by_hand_is_fetched_again(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    record = "hts/change_records/2025HTSRev1_change_record.txt"
    server.state.revisions = ("2025 rev 1",)
    dest = tmp_path / "hts"
    fetch_mirror(server.url, dest)
    _local(dest, record).write_text("edited", encoding="utf-8")
    result = fetch_mirror(server.url, dest)
    assert record in result.downloaded
    assert _local(dest, record).read_bytes() == (shared_dir / record).read_bytes()


def test_revision_newer_than_the_manifest_is_taken_on_the_mirrors_word(
    server: Running, tmp_path: Path, shared_dir: Path
) -> None:
    archive = (shared_dir / "hts" / "json" / "hts_2026_rev_10.json.gz").read_bytes()
    server.state.files["hts/json/hts_2027_basic.json.gz"] = archive
    server.state.csv_override = ("revision,json,change_record,published,sha256\n"
                                 f"2027 basic,hts/json/hts_2027_basic.json.gz,,2027-01-01,"
                                 f"{hashlib.sha256(archive).hexdigest()}\n")
    result = fetch_mirror(server.url, tmp_path / "hts")
    assert result.failed == () and result.downloaded == ("hts/json/hts_2027_basic.json.gz",)
    assert any("2027 basic: not in this package's manifest (it pins 2025 basic to 2026 rev 10)" in w
               for w in result.warnings)
