"""The panel store on disk: ``<home>/panel`` -> ``panel-<id>/``, swapped by renaming a symlink.

A build writes a fresh folder and points the link at it in one rename, so a reader never sees a
half-written store; an update continues the previous store from the first interval whose inputs
changed (``interval_hashes``), reusing its evaluations (the memo).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tariffstack import __version__
from tariffstack.engine.us import Engine
from tariffstack.errors import DataError
from tariffstack.files import exclusive
from tariffstack.law.registry import law_fingerprint
from tariffstack.law.store import CACHE_FORMAT
from tariffstack.panel.builder import Builder, vkey
from tariffstack.panel.tables import MEMO, PANEL_FORMAT, TABLES, Progress


@cache
def code_fingerprint() -> str:
    """Package version, model and panel formats, the legal data: a change means a full rebuild."""
    return hashlib.sha256(f"{__version__}:{PANEL_FORMAT}:{CACHE_FORMAT}:{law_fingerprint()}".encode()).hexdigest()[:16]


def interval_hashes(engine: Engine) -> list[tuple[str, str]]:
    """(start date, hash of everything the interval's rates depend on), for incremental builds."""
    model = engine.model
    out = []
    for day in model.boundaries():
        idx = model.revision_on(day)
        h = hashlib.sha256(f"{code_fingerprint()}:{model.revisions[idx].sha256}".encode())
        for m in engine.active(day):
            h.update(f"{vkey(m)}|{m.end}|{m.text}|{m.status}".encode())
        out.append((day.isoformat(), h.hexdigest()[:16]))
    return out


def store_path(home: Path) -> Path:
    return home / "panel"


@dataclass
class BuildReport:
    mode: str                       # full | incremental | up-to-date
    since: date | None
    intervals: int
    evaluations: int
    rows: dict[str, int]
    seconds: float
    path: Path


def build(engine: Engine, home: Path, *, full: bool = False, progress: Progress | None = None,
          on_wait: Callable[[str], None] | None = None) -> BuildReport:
    """Build or update the panel store in ``home``; the previous store stays until the swap.

    One build at a time per home: a second one waits for the first, then finds the store up
    to date (or updates it from what the first one built)."""
    with exclusive(home / ".build.lock", on_wait):
        return _build(engine, home, full=full, progress=progress)


def _build(engine: Engine, home: Path, *, full: bool, progress: Progress | None) -> BuildReport:
    t0 = time.perf_counter()
    hashes = interval_hashes(engine)
    link = store_path(home)
    old_meta = read_meta(link) if link.exists() and not full else None
    since: date | None = None
    seed = None
    mode = "full"
    memo = None
    if old_meta is not None and old_meta.get("code") == code_fingerprint():
        old = dict(map(tuple, old_meta.get("intervals", [])))
        changed = [d for d, h in hashes if old.get(d) != h]
        # coverage grew: the old store's last interval ended early and must be redone too
        if old_meta.get("last_date") != engine.model.last_date.isoformat() and old:
            changed.append(max(old))
        if not changed:
            return BuildReport("up-to-date", None, 0, 0, _row_counts(link), time.perf_counter() - t0, link.resolve())
        since = date.fromisoformat(min(changed))
        try:
            seed, memo = load_seed(link)
            mode = "incremental"
        except DataError:  # an unreadable store is rebuilt in full
            seed, since, memo = None, None, None
    builder = Builder(engine, seed, since, memo)
    tables = builder.run(progress)
    meta = {
        "format": PANEL_FORMAT, "version": __version__, "code": code_fingerprint(),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "first_date": engine.model.first_date.isoformat(), "last_date": engine.model.last_date.isoformat(),
        "revisions": [r.name for r in engine.model.revisions], "intervals": hashes,
        "inputs": "defaults: no special program, no USMCA claim, not in transit, whole value is metal",
    }
    write_store(home, tables, meta, _live_memo(builder.memo, tables["regimes"]))
    todo = sum(1 for d, _ in hashes if since is None or date.fromisoformat(d) >= since)
    return BuildReport(mode, since, todo, builder.evaluations, {k: v.num_rows for k, v in tables.items()},
                       time.perf_counter() - t0, link.resolve())


def _live_memo(memo: dict[tuple[Any, ...], int], regimes: pa.Table) -> dict[tuple[Any, ...], int]:
    """The evaluations whose stack some regime row still pays (all of them after a full build).

    Kept whole, not only the newest dates': a scenario or variant continues the law's store from
    its own first day, often a year back, and re-evaluating there cost it a third of its time
    (pharma-232: 24,934 evaluations with the newest quarter's memo, 1,467 with all; the memo is
    3.9 MB, read in 0.1 s). Rows an update replaced drop their stale situations here.
    """
    keep = set(regimes["stack_id"].unique().to_pylist())
    return {k: v for k, v in memo.items() if v in keep}


def load_seed(path: Path) -> tuple[dict[str, pa.Table], dict[tuple[Any, ...], int]]:
    """A store's tables and memo, to continue it (an update, or a variant of the law)."""
    try:
        seed = {name: pq.read_table(path / f"{name}.parquet") for name in TABLES}
        with (path / MEMO).open("rb") as fh:
            memo = pickle.load(fh)
    except (OSError, pa.ArrowInvalid, pickle.UnpicklingError, EOFError) as exc:
        raise DataError(f"cannot read the rate panel in {path}: {exc}; run 'tariffstack build --full'") from exc
    return seed, memo


def read_meta(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / "meta.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def _row_counts(path: Path) -> dict[str, int]:
    return {name: pq.ParquetFile(path / f"{name}.parquet").metadata.num_rows for name in TABLES}


def write_store(home: Path, tables: dict[str, pa.Table], meta: dict[str, Any],
                 memo: dict[tuple[Any, ...], int]) -> None:
    """Write into a fresh folder, then point the ``panel`` symlink at it in one rename."""
    home.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=home, prefix="panel-"))
    try:
        for name, table in tables.items():
            pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
        with (folder / MEMO).open("wb") as fh:
            pickle.dump(memo, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        link = store_path(home)
        previous = link.resolve() if link.is_symlink() else None
        tmp_link = home / f".panel-link-{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(folder.name)
        os.replace(tmp_link, link)
    except OSError as exc:  # a full disk, a read-only home: say so; the previous store answers
        shutil.rmtree(folder, ignore_errors=True)
        raise DataError(f"cannot write the rate panel in {home}: {exc.strerror or exc}; "
                        "the previous store (if any) still answers") from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # folders an interrupted build left, and stores older than the previous one, are not linked;
    # the previous store stays one build longer for a server that opened it before the swap
    for stale in home.glob("panel-*"):
        if stale.is_dir() and stale not in (folder, previous):
            shutil.rmtree(stale, ignore_errors=True)
