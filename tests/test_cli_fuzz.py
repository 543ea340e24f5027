"""Generated malformed files for the commands that read a user's files: ``rate --batch``,
``check-news`` and the weights folder of ``effective-rate --weights-dir``.

Wrong encodings, BOMs, CRLF, binary junk, huge lines, missing columns, at generated places.
Whatever the bytes, the command answers with an exit code and a reason that names the line,
never a traceback (``invoke`` runs the real entry point in-process, so an escaping exception
fails the test), and a batch keeps its good lines. Examples are bounded so the file runs in
seconds; ``--hypothesis-seed`` replays a failure.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_inproc import Outcome, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffstack.engine.us import Inputs

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def warm(engine: Any, hts_dir: Path) -> Iterator[Any]:
    """Commands use the session's engine instead of loading the model each time (0.5 s)."""
    from tariffstack.surfaces.cli.app import State

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(State, "engine", lambda self: engine)
        yield engine


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------ rate --batch

GOOD = ["8517.13.0000,CN,2025-05-02", "7208.51.0030,GB,2025-06-10", '9503.00.0073,"China",2025-04-12',
        "6109.10.0012,Côte d'Ivoire,2025-05-02"]
NOT_TEXT = st.binary(min_size=1, max_size=80).filter(lambda b: b"\n" not in b and b"\r" not in b)
BAD = st.one_of(
    NOT_TEXT,                                                                   # binary junk
    st.sampled_from(GOOD[3:]).map(lambda s: s.encode("cp1252")),              # Latin-1 (Excel's CSV)
    st.integers(10_001, 40_000).map(lambda n: b"8517.13.0000,CN," + b"9" * n),  # a huge line
    st.sampled_from([b"8517.13.0000,CN", b"8517.13.0000", b",", b'"8517.13.0000,CN,2025-05-02',
                     b"8517.13.0000,CN,2025-05-02,,,,,,,,,,,,,x", b"8517.13.0000,ZZ,2025-05-02",
                     b"9999.99.9999,CN,2025-05-02", b"8517.13.0000,CN,2025-02-30", b"\x00\x00,,"]),
)
LINE = st.one_of(st.sampled_from(GOOD).map(str.encode), BAD, st.just(b""))


def _blank(raw: bytes) -> bool:
    try:
        return not raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


@pytest.fixture(scope="module")
def expected_totals(warm: Any) -> dict[str, str]:
    """The engine's own answer for each good line, as the batch CSV prints it."""
    totals = {}
    for line in GOOD:
        code, origin, day = next(csv.reader([line]))
        totals[line] = f"{warm.rate(code, origin, date.fromisoformat(day), Inputs()).total_pct:g}"
    return totals


@settings(FUZZ, max_examples=100)
@given(lines=st.lists(LINE, max_size=12), eol=st.sampled_from([b"\n", b"\r\n"]), bom=st.booleans(),
       as_json=st.booleans())
def test_batch_answers_good_lines_and_names_each_bad_one(
    tmp_path_factory: pytest.TempPathFactory, expected_totals: dict[str, str], lines: list[bytes], eol: bytes,
    bom: bool, as_json: bool
) -> None:
    head = (b"\xef\xbb\xbf" if bom else b"") + b"hts10,origin,entry_date" + eol
    path = _write(tmp_path_factory.mktemp("batch"), "q.csv", head + eol.join(lines) + (eol if lines else b""))

    got = invoke("rate", "--batch", str(path), *(["--json"] if as_json else []))

    rows = ([json.loads(x) for x in got.out.splitlines()] if as_json
            else list(csv.DictReader(io.StringIO(got.out))))
    numbered = [(n, raw) for n, raw in enumerate(lines, start=2) if not _blank(raw)]
    good = [(n, raw.decode()) for n, raw in numbered if raw.decode("utf-8", "replace") in GOOD]
    failed = [r for r in rows if r.get("error")]
    assert [int(r["line"]) for r in failed] == [n for n, _ in numbered if n not in dict(good)]
    assert all(r["error"].strip() and "Traceback" not in r["error"] for r in failed)
    answered = [r for r in rows if not r.get("error")]
    assert len(answered) == len(good)
    for row, (_, line) in zip(answered, good, strict=True):
        total = f"{row['total_pct']:g}" if as_json else row["total_pct"]
        assert total == expected_totals[line], (line, row)
    bad = len(numbered) - len(good)
    if bad:
        got.one_line_error(2, f"{bad} line(s) had errors")
    else:
        assert got.code == 0 and got.err == "", got.err


@pytest.mark.parametrize(("head", "fragment"), [
    (b"hts10,origin\n8517.13.0000,CN\n", "lacks column(s): entry_date"),
    (b"", "is empty"),
    (b"\x00\x01\x02\x03\n8517.13.0000,CN,2025-05-02\n", "header line: binary data"),
    (b"hts10,orig\xefne,entry_date\n", "header line: not utf-8 text (byte 0xef at column 11)"),
    (b"x" * 20_000 + b"\n", "header line: 20,001 bytes long"),
])
def test_batch_with_an_unusable_header_is_one_line(tmp_path: Path, warm: Any, head: bytes, fragment: str) -> None:
    got = invoke("rate", "--batch", str(_write(tmp_path, "q.csv", head)))
    got.one_line_error(2, "batch file", fragment)


def test_batch_in_cp1252_with_its_encoding_is_answered(tmp_path: Path, expected_totals: dict[str, str]) -> None:
    """Excel's plain "CSV" on Windows: with --encoding cp1252 every line is answered."""
    text = "hts10,origin,entry_date\r\n" + "\r\n".join(GOOD) + "\r\n"
    path = _write(tmp_path, "q.csv", text.encode("cp1252"))
    got = invoke("rate", "--batch", str(path), "--encoding", "cp1252")
    assert got.code == 0, got.err
    assert [r["total_pct"] for r in csv.DictReader(io.StringIO(got.out))] == [expected_totals[g] for g in GOOD]
    invoke("rate", "--batch", str(path), "--encoding", "latin-9x").one_line_error(2, "not a text encoding")


# ------------------------------------------------------------------------------------ check-news

ARTICLE = "000_9185287dd3d82ad3.txt"  # begins with " date 2025-05-02"


@pytest.fixture(scope="module")
def article(shared_dir: Path, warm: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    raw = (shared_dir / "news" / ARTICLE).read_bytes()
    got = invoke("check-news", str(_write(tmp_path_factory.mktemp("news"), "a.txt", raw)), "--json")
    assert got.code == 0, got.err
    assert json.loads(got.out)["date"] == "2025-05-02" and json.loads(got.out)["claims"]
    return raw, got.out


@pytest.mark.parametrize(("crlf", "bom"), [(True, False), (False, True), (True, True)])
def test_check_news_reads_bom_and_crlf_as_the_plain_text(
    tmp_path_factory: pytest.TempPathFactory, article: tuple[bytes, str], crlf: bool, bom: bool
) -> None:
    """The same article saved by another editor gets the same verdicts, and keeps its date
    line (before, a BOM hid it, so the claims were checked against another date)."""
    raw, plain = article
    data = (b"\xef\xbb\xbf" if bom else b"") + (raw.replace(b"\n", b"\r\n") if crlf else raw)
    got = invoke("check-news", str(_write(tmp_path_factory.mktemp("news"), "a.txt", data)), "--json")
    assert got.code == 0, got.err
    norm = json.loads(got.out)
    assert norm["date"] == "2025-05-02"
    def verdicts(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(c["verdict"], " ".join(c["fragment"].split()), c["rate_pct"], c["date"]) for c in doc["claims"]]

    assert verdicts(norm) == verdicts(json.loads(plain))


JUNK = st.sampled_from([
    ("nul", b"tariffs \x00\x00 of 145%", "NUL bytes on line {n}"),
    ("latin-1", "C\u00f4te d'Ivoire pays 21%".encode("cp1252"), "line {n} is not UTF-8 text"),
    ("binary", b"\x89PNG\r\x1a\xff\xfe\x00", "NUL bytes on line {n}"),
    ("invalid", b"\xff\xfe tariffs", "line {n} is not UTF-8 text (byte 0xff at column 1)"),
])


@FUZZ
@given(junk=JUNK, where=st.integers(0, 30))
def test_check_news_names_the_line_of_the_junk(
    tmp_path_factory: pytest.TempPathFactory, article: tuple[bytes, str], junk: tuple[str, bytes, str], where: int
) -> None:
    raw = article[0]
    lines = raw.split(b"\n")
    k = min(where, len(lines))
    data = b"\n".join([*lines[:k], junk[1], *lines[k:]])
    path = _write(tmp_path_factory.mktemp("news"), "a.txt", data)
    invoke("check-news", str(path)).one_line_error(2, str(path), junk[2].format(n=k + 1))


def test_check_news_refuses_a_huge_file(tmp_path: Path, article: tuple[bytes, str]) -> None:
    from tariffstack.news import MAX_BYTES

    path = _write(tmp_path, "a.txt", article[0] * (MAX_BYTES // len(article[0]) + 1))
    invoke("check-news", str(path)).one_line_error(2, f"the limit is {MAX_BYTES:,}")


def test_error_text_with_brackets_is_printed_not_parsed_as_markup(tmp_path: Path, warm: Any) -> None:
    """A path holding "[/b]" made rich raise MarkupError (a traceback) instead of the message,
    and "[bold]" vanished from it."""
    (tmp_path / "x[").mkdir()
    path = _write(tmp_path / "x[", "b] [bold].txt", b"\x00")
    invoke("check-news", str(path)).one_line_error(2, "x[/b] [bold].txt looks binary")


# ------------------------------------------------------------------------------------ weights

FILES = ("gtap_import_weights.csv", "hs10_gtap_crosswalk.csv", "country_partner_mapping.csv", "census_to_iso3.csv")


@pytest.fixture(scope="module")
def weights(shared_dir: Path, panel_home: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, Path, str]:
    """(the real weights copied, the home with the session panel, the intact folder's answer)."""
    folder = tmp_path_factory.mktemp("weights")
    for name in FILES:
        shutil.copy2(shared_dir / "weights" / name, folder / name)
    got = _effective(panel_home[0], folder)
    assert got.code == 0, got.err
    return folder, panel_home[0], got.out


def _effective(home: Path, folder: Path) -> Outcome:
    return invoke("--home", str(home), "effective-rate", "--date", "2025-05-02", "--weights-dir", str(folder),
                  "--json")


BROKEN = st.sampled_from([  # (what, how the line is broken, the reason given)
    ("nul", lambda line: line + b"\x00", "binary data (NUL bytes)"),
    ("latin-1", lambda line: line.replace(b",", b"\xe9,", 1), "not UTF-8 text (byte 0xe9"),
    ("huge", lambda line: line + b"," + b"9" * 200_000, "unreadable: field larger than field limit"),
    ("fewer", lambda line: line.split(b",", 1)[1], "fields, the header has"),  # the first column gone
])


@settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(name=st.sampled_from(FILES), where=st.integers(2, 60), broken=BROKEN)
def test_weights_file_with_a_broken_line_is_named(
    weights: tuple[Path, Path, str], name: str, where: int, broken: Any
) -> None:
    folder, home, _ = weights
    path = folder / name
    original = path.read_bytes()
    lines = original.split(b"\n")
    n = min(where, len(lines) - 1)
    lines[n - 1] = broken[1](lines[n - 1].rstrip(b"\r"))
    try:
        path.write_bytes(b"\n".join(lines))
        got = _effective(home, folder)
    finally:
        path.write_bytes(original)
    got.one_line_error(3, f"{name} line {n}: ", broken[2])


@pytest.mark.parametrize("form", ["bom", "crlf"])
def test_weights_saved_with_bom_or_crlf_give_the_same_rate(weights: tuple[Path, Path, str], form: str) -> None:
    folder, home, baseline = weights
    kept = {name: (folder / name).read_bytes() for name in FILES}
    try:
        for name, raw in kept.items():
            body = raw.removeprefix(b"\xef\xbb\xbf")
            (folder / name).write_bytes(b"\xef\xbb\xbf" + body if form == "bom" else body.replace(b"\n", b"\r\n"))
        got = _effective(home, folder)
    finally:
        for name, raw in kept.items():
            (folder / name).write_bytes(raw)
    assert got.code == 0, got.err
    assert _same(json.loads(got.out), json.loads(baseline))


def _same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 (DuckDB's parallel sums may differ in the last digit run to run)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
