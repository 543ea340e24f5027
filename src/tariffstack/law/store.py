"""The compiled model: all revisions, change records, notes and measures, cached on disk.

Parsing 44 revisions takes seconds; answering a query should not. The model is built once from
the official files and pickled into the home folder, keyed by the archives' checksums and the
package version, then reused until the data changes. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tariffstack import __version__
from tariffstack.errors import DataError
from tariffstack.law.apply import apply_registry, backdated_exceptions, first_printed
from tariffstack.law.events import LegalEvent, load_events, load_stacking
from tariffstack.law.measures import Measure, build_measures
from tariffstack.law.registry import law_fingerprint, load_registry
from tariffstack.sources.changes import ChangeRecord, load_change_records
from tariffstack.sources.manifest import load_manifest
from tariffstack.sources.notes import NotesIndex
from tariffstack.sources.schedule import (
    Interner,
    Line,
    Revision,
    TextCleaner,
    load_revisions,
    parse_records,
    read_records,
)

CACHE_FORMAT = 11  # bump when parsing changes what a model holds
PARSE_BATCH = 8  # revisions per worker task: larger shares more, smaller reports progress sooner


@dataclass
class Model:
    """Everything the engine needs, in memory."""

    revisions: list[Revision]
    lines: list[dict[str, Line]]             # per revision, product lines keyed by digits
    headings: list[dict[str, Line]]          # per revision, the 9903 heading lines
    starts: list[date]                        # date each revision's product lines take over
    measures: dict[str, list[Measure]]        # heading -> versions
    records: dict[str, ChangeRecord]
    events: list[LegalEvent]
    unmodelled: dict[str, str]                # heading -> why its scope is not computed
    built_with: str = f"{__version__}:{CACHE_FORMAT}"
    notes: NotesIndex | None = None           # the Chapter 99 notes index the scopes came from
    notes_key: str = ""                       # which notes file (path, size, mtime) it was read from

    @property
    def first_date(self) -> date:
        return self.starts[0]

    @property
    def last_date(self) -> date:
        """Coverage ends at the newest dated revision (its publication date)."""
        dated = [r.published for r in self.revisions if r.published]
        return max([*dated, *self.starts])

    def boundaries(self) -> list[date]:
        """Every date on which some rate can change, within the data's coverage.

        Revision take-overs, each heading version's start and end, and the dates of the
        stacking rules: between two consecutive boundaries every rate is constant.
        """
        found = set(self.starts)
        for versions in self.measures.values():
            for v in versions:
                found.update(v.validity.boundaries())
        for rule in load_stacking():
            found.update(rule.validity.boundaries())
        first, last = self.first_date, self.last_date
        return sorted(d for d in found if first <= d <= last)

    def revision_rows(self) -> list[dict[str, object]]:
        """Each revision as users list it: published, when its lines take over, the span of
        the legal effective dates its change record states, and its size."""
        rows: list[dict[str, object]] = []
        for r, start, lines in zip(self.revisions, self.starts, self.lines, strict=True):
            cr = self.records.get(r.name)
            dated = sorted({e.effective for e in cr.entries if e.effective}) if cr else []
            rows.append({
                "revision": r.name, "published": r.published.isoformat() if r.published else None,
                "lines_from": start.isoformat(),
                "changes_effective": [dated[0].isoformat(), dated[-1].isoformat()] if dated else None,
                "product_lines": len(lines), "changes": len(cr.entries) if cr else None,
            })
        return rows

    def revision_on(self, day: date) -> int:
        """Index of the revision whose product lines are in force on ``day``."""
        return max(0, bisect.bisect_right(self.starts, day) - 1)

    def measure_on(self, heading: str, day: date) -> Measure | None:
        """The version of a heading in force on a day (the latest revision's word wins)."""
        best: Measure | None = None
        for v in self.measures.get(heading, ()):
            if v.validity.contains(day) and (
                best is None or v.revision_index > best.revision_index
            ):
                best = v
        if best is None or best.status != "active":
            return None
        return best


def _fingerprint(hts_dir: Path, revisions: list[Revision]) -> str:
    h = hashlib.sha256(f"{__version__}:{CACHE_FORMAT}:{hts_dir.resolve()}:{law_fingerprint()}".encode())
    for r in revisions:
        st = r.json_path.stat()
        h.update(f"{r.name}:{r.sha256}:{st.st_size}:{st.st_mtime_ns}".encode())
    notes = _notes_path(hts_dir)
    if notes:
        h.update(str(notes.stat().st_mtime_ns).encode())
    return h.hexdigest()[:24]


def _file_key(path: Path | None) -> str:
    if path is None:
        return ""
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def _notes_path(hts_dir: Path) -> Path | None:
    folder = hts_dir / "notes"
    found = sorted(folder.glob("chapter99_*.txt")) if folder.is_dir() else []
    return found[-1] if found else None


def build_model(
    hts_dir: Path, *, verify: bool = True, progress: object | None = None, base: Model | None = None,
    law: bool = True,
) -> Model:
    """Parse the official files into a Model (no cache).

    With ``base`` (an earlier model), revisions it already parsed from the same archives are
    reused, so a new revision costs one parse instead of all of them.
    """
    revisions = load_revisions(hts_dir)
    notes_file = _notes_path(hts_dir)
    if notes_file is None and law:
        raise DataError(
            f"data folder {hts_dir} has no Chapter 99 notes text (notes/chapter99_*.txt): the "
            "product lists of Sections 232 and 301 and the IEEPA exemptions are read from it, so "
            "without it those duties would silently drop. Run 'tariffstack fetch --mirror URL' "
            "(it brings the notes) or copy the notes file into that folder."
        )
    interner = Interner()
    lines: list[dict[str, Line]] = []
    headings: list[dict[str, Line]] = []
    reuse = _reusable(base, revisions, verify)
    if base is not None and reuse:
        # new revisions share unchanged lines with the newest reused one (seeding all is slow)
        for ln in (*base.lines[reuse - 1].values(), *base.headings[reuse - 1].values()):
            interner.get(ln)
        lines.extend(base.lines[:reuse])
        headings.extend(base.headings[:reuse])
    notes_key = _file_key(notes_file)
    reuse_notes = base is not None and vars(base).get("notes_key") == notes_key
    notes_job: Future[NotesIndex] | None = None
    with gc_paused(), ThreadPoolExecutor(max_workers=1) as side:
        for rev, raw in zip(revisions[reuse:], _parse_all(revisions[reuse:], verify), strict=True):
            if notes_job is None and notes_file and not reuse_notes:
                # the notes are read meanwhile, in this process's idle time while the parse
                # processes work; started only now that they are forked (a fork while a thread
                # runs can leave a child holding a lock that thread held)
                notes_job = side.submit(NotesIndex.load, notes_file)
            parsed = {k: interner.get(v) for k, v in raw.items()}
            lines.append({k: v for k, v in parsed.items() if not k.startswith("99")})
            headings.append({k: v for k, v in parsed.items() if k.startswith("9903")})
            if callable(progress):
                progress(rev.name)
    records = load_change_records(hts_dir)
    starts = _starts(revisions)
    measures = build_measures(revisions, headings, records)
    if base is not None and reuse_notes:
        notes = base.notes  # the same notes text: reuse its parsed index
    elif notes_job is not None:
        notes = notes_job.result()
    else:
        notes = NotesIndex.load(notes_file) if notes_file else None
    events = load_events()
    measures = {h: [p for v in versions for p in _apply_events(v, events)] for h, versions in measures.items()}
    printed = first_printed((r.name, hs) for r, hs in zip(revisions, headings, strict=True))
    unmodelled: dict[str, str] = {}
    if law:  # without it (proposing records for new headings) the parser's reading stays
        covered = max([*(r.published for r in revisions if r.published), *starts])
        measures, unmodelled = apply_registry(measures, load_registry(), notes, printed, covered,
                                              whole_history=_whole_history(revisions))
        measures = backdated_exceptions(measures)
    return Model(revisions, lines, headings, starts, measures, records, events, unmodelled,
                 notes=notes, notes_key=notes_key)


def _whole_history(revisions: list[Revision]) -> bool:
    """Whether every revision the package's manifest pins, up to the newest on file, is on file.

    A folder made by a plain ``tariffstack fetch`` holds only USITC's current release; the
    registry's records of headings deleted before it then have nothing to read through."""
    have = {r.name for r in revisions}
    pinned = list(load_manifest().revisions)
    newest = max((k for k, name in enumerate(pinned) if name in have), default=len(pinned) - 1)
    return all(name in have for name in pinned[: newest + 1])


def _starts(revisions: list[Revision]) -> list[date]:
    """The day each revision's product lines take over: Jan 1 for a basic edition, else the
    publication date (also for the oldest on file, when only part of the history is there). A revision listed without a date (2026 rev 10) cannot be placed, so it
    takes over with the one before it, after it in order: the dates stay sorted for bisect."""
    starts: list[date] = []
    for i, r in enumerate(revisions):
        if "basic" in r.name:
            starts.append(date(r.year, 1, 1))
        elif i == 0:  # the oldest on file is not a basic edition: the history before it is not here
            starts.append(r.published or date(r.year, 1, 1))
        else:
            starts.append(max(r.published or starts[-1], starts[-1]))
    return starts


def _parse_batch(revs: list[Revision], verify: bool) -> list[dict[str, Line]]:
    """Several successive revisions parsed together: they share their unchanged lines, so the
    batch pickles back to the parent at little more than the size of one revision."""
    interner, cleaner = Interner(), TextCleaner()
    with gc_paused():
        return [parse_records(read_records(rev, verify=verify), interner, cleaner) for rev in revs]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Millions of acyclic records make the cyclic collector rescan the heap again and again
    (it doubled the parse time); the build frees nothing cyclic, so pause it meanwhile."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _parse_all(revisions: list[Revision], verify: bool) -> Iterator[dict[str, Line]]:
    """Each revision's lines, in order; batches of revisions are read in parallel processes.

    Reading and parsing an archive is CPU-bound (gzip, JSON, text), so a process per core
    halves a full build on two cores. A single revision (an update) is parsed in-process.
    """
    workers = min(os.cpu_count() or 1, len(revisions), 4)
    if workers < 2:
        yield from _parse_batch(revisions, verify)
        return
    size = max(1, min(PARSE_BATCH, -(-len(revisions) // workers)))
    batches = [revisions[i : i + size] for i in range(0, len(revisions), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for parsed in pool.map(_parse_batch, batches, [verify] * len(batches)):
            yield from parsed


def _reusable(base: Model | None, revisions: list[Revision], verify: bool = True) -> int:
    """How many leading revisions of ``base`` match the archives at hand (name and sha256)."""
    if base is None:
        return 0
    n = 0
    for old, new in zip(base.revisions, revisions, strict=False):
        if not new.sha256 or (old.name, old.sha256) != (new.name, new.sha256):
            break  # no checksum listed: nothing says the archive is the one parsed before
        if verify and not _matches(new.json_path, new.sha256):
            break  # damaged or replaced under the same listing: parse it, which names the damage
        n += 1
    return n


def _matches(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def _apply_events(m: Measure, events: list[LegalEvent]) -> list[Measure]:
    """A version as the legal events leave it: possibly cut into pieces (a rate for a period)."""
    pieces = [m]
    for e in events:
        pieces = [q for p in pieces for q in e.apply(p)]
    return pieces


def _previous(folder: Path) -> Model | None:
    """The newest cached model of this cache format, if any, to build incrementally from."""
    found = sorted(folder.glob("model-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    for path in found:
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
        except Exception:  # noqa: BLE001 - an unreadable old cache just means a full build
            continue
        if isinstance(model, Model) and vars(model).get("built_with") == f"{__version__}:{CACHE_FORMAT}":
            return model
    return None


def load_model(hts_dir: Path, home: Path, *, verify: bool = True, progress: object | None = None) -> Model:
    """The cached model for this data folder, rebuilt when the data or the code changed."""
    revisions = load_revisions(hts_dir)
    cache = home / "cache" / f"model-{_fingerprint(hts_dir, revisions)}.pickle"
    if cache.is_file():
        try:
            with cache.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, Model):
                return model
        except Exception:  # noqa: BLE001 - a stale or broken cache is rebuilt, never fatal
            pass
    model = build_model(hts_dir, verify=verify, progress=progress, base=_previous(cache.parent))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".model-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
        for old in cache.parent.glob("model-*.pickle"):
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError as exc:
        if "tmp" in locals():
            Path(tmp).unlink(missing_ok=True)
        if not os.access(home, os.W_OK) and home.exists():
            raise DataError(f"cannot write the cache in {home}: {exc.strerror}") from exc
    return model
