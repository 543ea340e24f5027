"""The rate panel: every HTS-10 line x every origin x every day, stored as validity intervals.

Between two boundaries of the model (``Model.boundaries``) every rate is constant, so the panel is
computed per interval, not per day. Within an interval a product's additional duties depend only
on (a) the list- and footnote-scoped measures that name it (its *signature*), (b) the origin's
*class* (which measures' country terms take it in, which stacking rules bind it, column 2 or not)
and, for the few measures that look at the MFN rate (EU/Japan all-in floors), (c) the MFN rate.
Each distinct situation is evaluated once by the engine itself (``Engine.additional``), so the
panel and point queries cannot drift apart. Countries that end up paying the same stack for a
signature share one row (a *group*); rows that stay the same across intervals are merged.

The store (``<home>/panel`` -> ``panel-<id>/``, swapped atomically by renaming a symlink) holds
Parquet tables; ``docs/STORE.md`` documents their columns. ``Panel`` reads them with DuckDB.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tariffstack import __version__
from tariffstack.engine.us import Engine, Inputs, parse_date, parse_hts
from tariffstack.errors import BadInput, DataError, DateOutOfRange, UnknownProduct
from tariffstack.files import atomic_path, exclusive
from tariffstack.law import countries
from tariffstack.law.measures import Measure
from tariffstack.law.rates import Rate, parse_rate
from tariffstack.law.registry import law_fingerprint
from tariffstack.law.store import CACHE_FORMAT
from tariffstack.models import LAYER_ORDER, Layer
from tariffstack.sources.schedule import Line, dotted, products

PANEL_FORMAT = 2
ADD_LAYERS: tuple[str, ...] = tuple(x for x in LAYER_ORDER if x != "mfn")
LIST_SCOPES = ("list", "footnote")
MEMO = "memo.pickle"
PRODUCT_CONTENT = ("hts10", "description", "general", "general_pct", "other", "other_pct", "rate_line", "sig_id",
                   "mfn_key")
REGIME_CONTENT = ("sig_id", "mfn_key", "group_id", "stack_id")
PRODUCT_SCHEMA = pa.schema([
    ("hts10", pa.string()), ("valid_from", pa.date32()), ("valid_until", pa.date32()),
    ("revision", pa.string()), ("description", pa.string()), ("general", pa.string()),
    ("general_pct", pa.float64()), ("other", pa.string()), ("other_pct", pa.float64()),
    ("rate_line", pa.string()), ("sig_id", pa.int32()), ("mfn_key", pa.int32())])
REGIME_SCHEMA = pa.schema([
    ("sig_id", pa.int32()), ("mfn_key", pa.int32()), ("group_id", pa.int32()), ("stack_id", pa.int32()),
    ("valid_from", pa.date32()), ("valid_until", pa.date32())])
STACK_SCHEMA = pa.schema([
    ("stack_id", pa.int32()), *((n, pa.float64()) for n in ADD_LAYERS), ("additional_pct", pa.float64()),
    ("specific", pa.string()), ("headings", pa.list_(pa.string())), ("exempt_headings", pa.list_(pa.string())),
    ("layers_json", pa.string())])
TABLES = ("products", "regimes", "stacks", "groups", "sigs", "mfn_keys", "countries")
Progress = Callable[[str, int, int], None]
ONE_DAY = timedelta(days=1)


def _vkey(m: Measure) -> str:
    """A stable name for one version of a heading (survives rebuilds with more revisions)."""
    return f"{m.heading}@{m.start.isoformat()}#{m.revision}"


def _xkey(m: Measure) -> str:
    """The signature mark of products a version excepts from its scope."""
    return "!" + _vkey(m)


def _marks(m: Measure) -> list[str]:
    """The signature keys a version contributes: its own (list scopes) and its exceptions'."""
    return ([_vkey(m)] if m.scope in LIST_SCOPES else []) + ([_xkey(m)] if m.except_codes else [])


def _mfn_dependent(m: Measure) -> bool:
    return m.mfn_condition is not None or m.duty.kind == "floor"


@cache
def _rate(text: str) -> Rate:
    return parse_rate(text)


def _pct(text: str) -> float | None:
    r = _rate(text)
    return r.ad_valorem_pct if r.parsed else None


class _Ids:
    """Interns keys to small ints (0 is reserved when ``reserve_zero``)."""

    def __init__(self, reserve_zero: bool = False) -> None:
        self.ids: dict[Any, int] = {}
        self.keys: list[Any] = [None] if reserve_zero else []

    def get(self, key: Any) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.keys)
            self.keys.append(key)
        return found


@dataclass
class _Class:
    """Origins treated alike by every measure in force in one interval."""

    rep: str
    members: list[str]
    other: list[Measure]            # non-list measures whose country terms take the origin in
    listed: frozenset[str]          # vkeys of list/footnote measures that do
    other_key: frozenset[str]
    rules: tuple[str, ...]          # ids of the stacking rules that bind these origins
    column2: bool
    mfn_dependent: bool
    id: int = -1                    # the same id for the same terms in every interval


@dataclass
class _Open:
    """Rows still growing while intervals are walked in order."""

    products: dict[Any, list[Any]] = field(default_factory=dict)   # hts10 -> row
    regimes: dict[Any, list[Any]] = field(default_factory=dict)    # content -> row


class Builder:
    """Computes the panel tables from an engine, optionally continuing an earlier store."""

    def __init__(self, engine: Engine, seed: dict[str, pa.Table] | None = None, since: date | None = None,
                 memo: dict[tuple[Any, ...], int] | None = None) -> None:
        self.engine = engine
        self.model = engine.model
        self.since = since
        self.stacks = _Ids()
        self.stack_rows: list[dict[str, Any]] = []
        self.kept: dict[str, pa.Table] = {}   # rows of an earlier store that need no change
        self.groups = _Ids()
        self.sigs = _Ids()
        self.mfn_keys = _Ids(reserve_zero=True)
        # situation -> stack id; kept with the store so an update re-evaluates only what changed
        self.memo: dict[tuple[Any, ...], int] = memo if memo is not None and seed is not None else {}
        self.sig_rows: dict[tuple[Any, ...], list[tuple[int, int, int, int]]] = {}
        self.class_ids = _Ids()
        self.done_products: list[list[Any]] = []
        self.done_regimes: list[list[Any]] = []
        self.open = _Open()
        self.evaluations = 0
        self.countries = [c.iso2 for c in countries.all_countries()]
        self.column2 = countries.GROUPS.get("GN3B", frozenset())
        self.code_index: dict[str, list[str]] = {}
        self.foot_index: dict[str, list[str]] = {}
        for v in (v for vs in self.model.measures.values() for v in vs):
            if v.scope == "list":
                for c in v.codes:
                    self.code_index.setdefault(c, []).append(_vkey(v))
            if v.scope == "footnote" or v.by_footnote:
                self.foot_index.setdefault(v.heading, []).append(_vkey(v))
            # products a heading takes out of its scope are part of their signature too
            for c in v.except_codes:
                self.code_index.setdefault(c, []).append(_xkey(v))
        self._matches: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
        self.pos: dict[int, int] = {}
        self._product_lists: dict[int, list[Line]] = {}
        self._last_products: tuple[tuple[int, frozenset[str]], dict[int, dict[int, Line]]] | None = None
        if seed is not None and since is not None:
            self._seed(seed, since)

    # ---- continuing an earlier store ----------------------------------------------------
    def _seed(self, seed: dict[str, pa.Table], since: date) -> None:
        """Keep rows before ``since``; rows reaching ``since - 1`` stay open to be extended."""
        for detail in seed["stacks"].column("layers_json").to_pylist():
            self.stacks.get(detail)
        self.kept["stacks"] = seed["stacks"]
        for row in seed["sigs"].to_pylist():
            self.sigs.get(frozenset(x for x in row["measures"].split(";") if x))
        for row in seed["mfn_keys"].to_pylist():
            if row["mfn_key"]:
                self.mfn_keys.get((row["general_pct"], row["other_pct"]))
        members: dict[int, list[str]] = {}
        for row in seed["groups"].to_pylist():
            members.setdefault(row["group_id"], []).append(row["iso2"])
        for gid in sorted(members):
            if self.groups.get(tuple(sorted(members[gid]))) != gid:
                raise DataError("the panel's groups table is not dense: run 'tariffstack build --full'")
        edge = since - ONE_DAY
        for name, open_rows, content_cols in (
            ("products", self.open.products, PRODUCT_CONTENT),
            ("regimes", self.open.regimes, REGIME_CONTENT),
        ):
            # rows closed before the edge stay as they are (in Arrow); rows reaching it are cut
            # there and kept open, in Python, for the walk to extend
            table = seed[name].filter(pc.less(seed[name]["valid_from"], pa.scalar(since, pa.date32())))
            ends = table["valid_until"]
            self.kept[name] = table.filter(pc.less(ends, pa.scalar(edge, pa.date32())))
            cols = table.filter(pc.greater_equal(ends, pa.scalar(edge, pa.date32()))).to_pydict()
            contents = zip(*(cols[c] for c in content_cols), strict=True)
            extras = cols["revision"] if name == "products" else [None] * len(cols["valid_from"])
            for content, vf, extra in zip(contents, cols["valid_from"], extras, strict=True):
                open_rows[content[0] if name == "products" else content] = [content, vf, edge, extra]

    # ---- the walk -------------------------------------------------------------------------
    def run(self, progress: Progress | None = None) -> dict[str, pa.Table]:
        bounds = self.model.boundaries()
        last = self.model.last_date
        todo = [i for i, b in enumerate(bounds) if self.since is None or b >= self.since]
        for n, i in enumerate(todo, start=1):
            start = bounds[i]
            until = bounds[i + 1] - ONE_DAY if i + 1 < len(bounds) else last
            self._interval(start, until)
            if progress is not None:
                progress(start.isoformat(), n, len(todo))
        self.done_products.extend(self.open.products.values())
        self.done_regimes.extend(self.open.regimes.values())
        return self._tables()

    def _classes(self, day: date, active: list[Measure]) -> list[_Class]:
        terms: dict[tuple[frozenset[str] | None, frozenset[str]], list[Measure]] = {}
        for m in active:
            terms.setdefault((m.countries, m.excluded_countries), []).append(m)
        term_list = list(terms.items())
        # measures no product can meet with the panel's default inputs leave the classes alone
        inert = {id(m) for m in active if self.engine.inert(m, Inputs(), day)}
        by_key: dict[tuple[Any, ...], list[str]] = {}
        for iso in self.countries:
            passing = tuple(
                k for k, ((named, excluded), _) in enumerate(term_list)
                if (named is None or iso in named) and iso not in excluded
            )
            rules = tuple(r.id for r in self.engine.rules_for(iso, day))
            by_key.setdefault((passing, rules, iso in self.column2), []).append(iso)
        out: list[_Class] = []
        for (passing, rules, col2), members in by_key.items():
            ms = [m for k in passing for m in term_list[k][1] if id(m) not in inert]
            other = sorted((m for m in ms if m.scope not in LIST_SCOPES), key=lambda m: self.pos[id(m)])
            listed = frozenset(k for m in ms for k in _marks(m))
            cls = _Class(
                rep=members[0], members=members, other=other, listed=listed,
                other_key=frozenset(_vkey(m) for m in other), rules=rules, column2=col2,
                mfn_dependent=any(_mfn_dependent(m) for m in ms),
            )
            cls.id = self.class_ids.get((cls.other_key, cls.listed, rules, col2))
            out.append(cls)
        return out

    def _products(self, rev_index: int, lines: dict[str, Line]) -> list[Line]:
        found = self._product_lists.get(rev_index)
        if found is None:
            found = self._product_lists[rev_index] = list(products(lines))
        return found

    def _signature(self, line: Line, active_listed: frozenset[str]) -> frozenset[str]:
        key = (line.digits, line.see)
        found = self._matches.get(key)
        if found is None:
            d, hits = line.digits, set[str]()
            for k in range(2, len(d) + 1):
                hits.update(self.code_index.get(d[:k], ()))
            for h in line.see:
                hits.update(self.foot_index.get(h, ()))
            found = self._matches[key] = frozenset(hits)
        return found & active_listed

    def _interval(self, start: date, until: date) -> None:
        model, engine = self.model, self.engine
        active = engine.active(start)
        self.pos = {id(m): k for k, m in enumerate(active)}  # order of the engine's walk
        by_vkey = {_vkey(m): m for m in active if m.scope in LIST_SCOPES}
        active_listed = frozenset(k for m in active for k in _marks(m))
        rev = model.revisions[model.revision_on(start)].name
        lines = model.lines[model.revision_on(start)]
        classes = self._classes(start, active)
        # products: signature and MFN key; a representative line per (signature, MFN key)
        same_products = (model.revision_on(start), active_listed)
        if self._last_products is not None and self._last_products[0] == same_products:
            sig_products = self._last_products[1]  # same lines, same list measures: rows go on
            for row in self.open.products.values():
                row[2] = until
        else:
            seen_products: set[str] = set()
            sig_products = {}
            for ln in self._products(model.revision_on(start), lines):
                hts10 = ln.hts10
                sig = self.sigs.get(self._signature(ln, active_listed))
                gp, op = _pct(ln.general), _pct(ln.other)
                mk = self.mfn_keys.get((gp, op))
                sig_products.setdefault(sig, {}).setdefault(mk, ln)
                content = (hts10, ln.description, ln.general, gp, ln.other, op, ln.rate_line, sig, mk)
                self._extend(self.open.products, self.done_products, hts10, content, start, until, rev)
                seen_products.add(hts10)
            self._close(self.open.products, self.done_products, seen_products)
            self._last_products = (same_products, sig_products)
        # regimes: the stack each class pays, per signature (and MFN key where it matters)
        seen_regimes: set[tuple[int, int, int, int]] = set()
        layout = tuple(c.id for c in classes)
        any_dep = any(c.mfn_dependent for c in classes)
        for sig, by_mk in sig_products.items():
            # the same classes and signature as in an earlier interval give the same rows
            cache_key = (sig, layout, tuple(by_mk) if any_dep else None)
            found = self.sig_rows.get(cache_key)
            if found is None:
                found = self.sig_rows[cache_key] = self._regimes(start, classes, sig, by_mk, by_vkey)
            for key in found:
                self._extend(self.open.regimes, self.done_regimes, key, key, start, until, None)
                seen_regimes.add(key)
        self._close(self.open.regimes, self.done_regimes, seen_regimes)

    def _regimes(self, day: date, classes: list[_Class], sig: int, by_mk: dict[int, Line],
                 by_vkey: dict[str, Measure]) -> list[tuple[int, int, int, int]]:
        """(signature, MFN key, group, stack) rows: the stack each class pays for a signature."""
        sig_set: frozenset[str] = self.sigs.keys[sig]
        rows: dict[tuple[int, int], list[str]] = {}
        for cls in classes:
            keys = by_mk.items() if cls.mfn_dependent else [(0, next(iter(by_mk.values())))]
            for mk, line in keys:
                stack = self._evaluate(day, cls, sig_set, by_vkey, line, mk)
                rows.setdefault((mk, stack), []).extend(cls.members)
        return [(sig, mk, self.groups.get(tuple(sorted(members))), stack) for (mk, stack), members in rows.items()]

    @staticmethod
    def _extend(open_rows: dict[Any, list[Any]], done: list[list[Any]], key: Any, content: tuple[Any, ...],
                start: date, until: date, extra: Any) -> None:
        """Lengthen the open row for ``key`` if its content is unchanged, else start a new one.

        Rows are ``[content, valid_from, valid_until, extra]``; ``extra`` (the revision of a
        product row) is kept from the row's first interval.
        """
        cur = open_rows.get(key)
        if cur is not None:
            if cur[0] == content and cur[2] + ONE_DAY == start:
                cur[2] = until
                return
            done.append(cur)
        open_rows[key] = [content, start, until, extra]

    @staticmethod
    def _close(open_rows: dict[Any, list[Any]], done: list[list[Any]], seen: set[Any]) -> None:
        for key in [k for k in open_rows if k not in seen]:
            done.append(open_rows.pop(key))

    def _evaluate(self, day: date, cls: _Class, sig: frozenset[str], by_vkey: dict[str, Measure],
                  line: Line, mk: int) -> int:
        listed = sig & cls.listed
        mfn = self.mfn_keys.keys[mk] if mk else None
        key = (cls.other_key, listed, mfn, cls.rules, cls.column2)
        found = self.memo.get(key)
        if found is not None:
            return found
        self.evaluations += 1
        cands = sorted([*cls.other, *(by_vkey[v] for v in listed if v in by_vkey)], key=lambda m: self.pos[id(m)])
        _, rate = self.engine.mfn(line, cls.rep, day)
        layers = self.engine.additional(line, cls.rep, day, Inputs(), rate, [], measures=cands)
        found = self.memo[key] = self._stack_id(layers)
        return found

    def _stack_id(self, layers: list[Layer]) -> int:
        layers = sorted(layers, key=lambda x: (LAYER_ORDER.index(x.layer), x.exempt, x.heading or ""))
        detail = json.dumps([x.to_json() for x in layers], sort_keys=True)
        sid = self.stacks.get(detail)
        if sid == len(self.stack_rows) + self._kept_stacks:
            row: dict[str, Any] = {"stack_id": sid}
            for name in ADD_LAYERS:
                vals = [x.rate_pct for x in layers if x.layer == name and not x.exempt]
                row[name] = None if any(v is None for v in vals) else round(sum(v or 0.0 for v in vals), 4)
            row["additional_pct"] = round(sum(x.rate_pct or 0.0 for x in layers if not x.exempt), 4)
            row["specific"] = " + ".join(x.specific for x in layers if x.specific and not x.exempt) or None
            row["headings"] = [x.heading for x in layers if not x.exempt and x.heading]
            row["exempt_headings"] = [x.heading for x in layers if x.exempt and x.heading]
            row["layers_json"] = detail
            self.stack_rows.append(row)
        return sid

    # ---- output ---------------------------------------------------------------------------
    @property
    def _kept_stacks(self) -> int:
        return self.kept["stacks"].num_rows if "stacks" in self.kept else 0

    def _merged(self, name: str, rows: list[list[Any]], schema: pa.Schema, order: list[str]) -> pa.Table:
        new = pa.table({c: [r[k] for r in rows] for k, c in enumerate(schema.names)}).cast(schema)
        if name in self.kept:
            new = pa.concat_tables([self.kept[name].cast(schema), new])
        return new.sort_by([(c, "ascending") for c in order])

    def _tables(self) -> dict[str, pa.Table]:
        prod = [[c[0], vf, vu, rev, *c[1:]] for c, vf, vu, rev in self.done_products]
        reg = [[*c, vf, vu] for c, vf, vu, _ in self.done_regimes]
        stacks = pa.Table.from_pylist(self.stack_rows, schema=STACK_SCHEMA)
        if "stacks" in self.kept:
            stacks = pa.concat_tables([self.kept["stacks"].cast(STACK_SCHEMA), stacks])
        groups = [(gid, iso) for gid, members in enumerate(self.groups.keys) for iso in members]
        by_iso = {c.iso2: c for c in countries.all_countries()}
        return {
            "products": self._merged("products", prod, PRODUCT_SCHEMA, ["hts10", "valid_from"]),
            "regimes": self._merged("regimes", reg, REGIME_SCHEMA, ["sig_id", "mfn_key", "valid_from", "group_id"]),
            "stacks": stacks,
            "groups": pa.table({"group_id": pa.array([g for g, _ in groups], pa.int32()),
                                "iso2": [i for _, i in groups]}),
            "sigs": pa.table({"sig_id": pa.array(range(len(self.sigs.keys)), pa.int32()),
                              "measures": [";".join(sorted(k)) for k in self.sigs.keys]}),
            "mfn_keys": pa.table({
                "mfn_key": pa.array(range(1, len(self.mfn_keys.keys)), pa.int32()),
                "general_pct": pa.array([k[0] for k in self.mfn_keys.keys[1:]], pa.float64()),
                "other_pct": pa.array([k[1] for k in self.mfn_keys.keys[1:]], pa.float64())}),
            "countries": pa.table({
                "iso2": self.countries,
                "name": [by_iso[i].name for i in self.countries],
                "census_code": [by_iso[i].census_code for i in self.countries],
                "column2": [i in self.column2 for i in self.countries]}),
        }


# ---- the store on disk ----------------------------------------------------------------------
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
            h.update(f"{_vkey(m)}|{m.end}|{m.text}|{m.status}".encode())
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
    old_meta = _read_meta(link) if link.exists() and not full else None
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
            seed = {name: pq.read_table(link / f"{name}.parquet") for name in TABLES}
            with (link / MEMO).open("rb") as fh:
                memo = pickle.load(fh)
            mode = "incremental"
        except (OSError, pa.ArrowInvalid, pickle.UnpicklingError, EOFError):
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
    _write_store(home, tables, meta, _recent_memo(builder.memo, tables["regimes"], hashes))
    todo = sum(1 for d, _ in hashes if since is None or date.fromisoformat(d) >= since)
    return BuildReport(mode, since, todo, builder.evaluations, {k: v.num_rows for k, v in tables.items()},
                       time.perf_counter() - t0, link.resolve())


def _recent_memo(memo: dict[tuple[Any, ...], int], regimes: pa.Table,
                 hashes: list[tuple[str, str]]) -> dict[tuple[Any, ...], int]:
    """The evaluations worth keeping: those whose stack is in force in the newest quarter.

    New revisions mostly change recent dates; keeping every evaluation would make each update
    load and save a memo several times larger for little gain (a miss is only re-evaluated).
    """
    if len(hashes) < 8:
        return memo
    cutoff = date.fromisoformat(hashes[-max(8, len(hashes) // 4)][0])
    recent = regimes.filter(pc.greater_equal(regimes["valid_until"], pa.scalar(cutoff, pa.date32())))
    keep = set(recent["stack_id"].to_pylist())
    return {k: v for k, v in memo.items() if v in keep}


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / "meta.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def _row_counts(path: Path) -> dict[str, int]:
    return {name: pq.ParquetFile(path / f"{name}.parquet").metadata.num_rows for name in TABLES}


def _write_store(home: Path, tables: dict[str, pa.Table], meta: dict[str, Any],
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


# ---- reading ---------------------------------------------------------------------------------
class Panel:
    """Queries over a built store: point lookups, one-date snapshots, series and diffs."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = meta
        self.first_date = date.fromisoformat(meta["first_date"])
        self.last_date = date.fromisoformat(meta["last_date"])
        self.db = duckdb.connect()
        for name in TABLES:
            self.db.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path / (name + '.parquet')}')")
        self._index: _PointIndex | None = None

    @classmethod
    def open(cls, home: Path) -> Panel:
        link = store_path(home)
        meta = _read_meta(link) if link.exists() else None
        if meta is None:
            raise DataError(f"no rate panel in {home}: run 'tariffstack build' first")
        if meta.get("format") != PANEL_FORMAT:
            raise DataError(f"the rate panel in {home} has an old format: run 'tariffstack build --full'")
        return cls(link.resolve(), meta)

    def check_date(self, day: date) -> None:
        if day < self.first_date or day > self.last_date:
            raise DateOutOfRange(
                f"date {day.isoformat()} is outside the panel: it covers {self.first_date.isoformat()} "
                f"to {self.last_date.isoformat()}"
            )

    # ---- point lookups ------------------------------------------------------------------
    def point(self, code: str, origin: str, on: date | str) -> dict[str, Any]:
        """The panel's row for one product, origin and date (same totals as ``Engine.rate``)."""
        day = parse_date(on)
        self.check_date(day)
        iso = countries.resolve(origin).iso2
        if self._index is None:
            self._index = _PointIndex(self)
        return self._index.lookup(parse_hts(code), iso, day)

    # ---- snapshots and series -----------------------------------------------------------
    @staticmethod
    def _filters(prefix: str | None, origins: Iterable[str] | None) -> str:
        """SQL conditions; values are checked digits and resolved ISO codes, so safe to inline."""
        sql = []
        if prefix:
            d = "".join(ch for ch in prefix if ch != ".")
            if not d.isdigit() or len(d) > 10:
                raise BadInput(f"bad HTS prefix {prefix!r}: give digits such as 72 or 8517.13")
            sql.append(f"replace(p.hts10, '.', '') LIKE '{d}%'")
        if origins:
            isos = sorted({countries.resolve(o).iso2 for o in origins})
            sql.append("g.iso2 IN (" + ", ".join(f"'{i}'" for i in isos) + ")")
        return (" AND " + " AND ".join(sql)) if sql else ""

    def _select(self, where_p: str, where_r: str, extra: str) -> duckdb.DuckDBPyRelation:
        layer_cols = ", ".join(f"s.{n}" for n in ADD_LAYERS)
        q = f"""
            SELECT p.hts10, g.iso2 AS origin,
                   CASE WHEN c.column2 THEN p.other ELSE p.general END AS mfn_text,
                   CASE WHEN c.column2 THEN p.other_pct ELSE p.general_pct END AS mfn,
                   {layer_cols}, s.additional_pct,
                   coalesce(CASE WHEN c.column2 THEN p.other_pct ELSE p.general_pct END, 0) + s.additional_pct AS total_pct,
                   s.specific, s.headings,
                   greatest(p.valid_from, r.valid_from) AS valid_from,
                   least(p.valid_until, r.valid_until) AS valid_until,
                   p.revision, s.stack_id
            FROM (SELECT * FROM products WHERE {where_p}) p
            JOIN (SELECT * FROM regimes WHERE {where_r}) r
              ON r.sig_id = p.sig_id AND (r.mfn_key = 0 OR r.mfn_key = p.mfn_key)
                 AND r.valid_from <= p.valid_until AND p.valid_from <= r.valid_until
            JOIN groups g ON g.group_id = r.group_id
            JOIN countries c ON c.iso2 = g.iso2
            JOIN stacks s ON s.stack_id = r.stack_id
            WHERE TRUE {extra}
        """
        return self.db.query(q)

    def snapshot(self, on: date | str, *, prefix: str | None = None,
                 origins: Iterable[str] | None = None) -> duckdb.DuckDBPyRelation:
        """Every product x origin on one date (optionally an HTS prefix and some origins)."""
        day = parse_date(on)
        self.check_date(day)
        d = f"DATE '{day.isoformat()}'"
        where = f"valid_from <= {d} AND {d} <= valid_until"
        return self._select(where, where, self._filters(prefix, origins))

    def series(self, *, prefix: str | None = None, origins: Iterable[str] | None = None,
               start: date | None = None, end: date | None = None) -> duckdb.DuckDBPyRelation:
        """Every product x origin over time, one row per interval of constant duties."""
        lo, hi = start or self.first_date, end or self.last_date
        self.check_date(lo)
        self.check_date(hi)
        if hi < lo:
            raise BadInput(f"--from {lo} is after --to {hi}")
        win = f"valid_from <= DATE '{hi}' AND DATE '{lo}' <= valid_until"
        base = self._select(win, win, self._filters(prefix, origins))
        # merge adjacent pieces that carry the same duties (gaps-and-islands)
        return self.db.query(f"""
            WITH b AS (SELECT *, row(mfn_text, mfn, {", ".join(ADD_LAYERS)}, specific, headings) AS k
                       FROM ({base.sql_query()})),
            m AS (SELECT *, CASE WHEN lag(k) OVER w IS NOT DISTINCT FROM k
                                  AND lag(valid_until) OVER w + 1 = valid_from THEN 0 ELSE 1 END AS brk
                  FROM b WINDOW w AS (PARTITION BY hts10, origin ORDER BY valid_from)),
            k AS (SELECT *, sum(brk) OVER (PARTITION BY hts10, origin ORDER BY valid_from) AS island FROM m)
            SELECT hts10, origin, any_value(mfn_text) AS mfn_text, any_value(mfn) AS mfn,
                   {", ".join(f"any_value({n}) AS {n}" for n in ADD_LAYERS)},
                   any_value(additional_pct) AS additional_pct, any_value(total_pct) AS total_pct,
                   any_value(specific) AS specific, any_value(headings) AS headings,
                   greatest(min(valid_from), DATE '{lo}') AS valid_from,
                   least(max(valid_until), DATE '{hi}') AS valid_until,
                   arg_min(revision, valid_from) AS revision
            FROM k GROUP BY hts10, origin, island ORDER BY hts10, origin, valid_from
        """)

    def export(self, out: Path, *, fmt: str, on: date | None = None, series: bool = False,
               prefix: str | None = None, origins: Iterable[str] | None = None,
               start: date | None = None, end: date | None = None) -> int:
        """Write a snapshot or a series to Parquet or CSV; never leaves a partial file."""
        if fmt not in ("parquet", "csv"):
            raise BadInput(f"unknown format {fmt!r}: use parquet or csv")
        if series:
            rel = self.series(prefix=prefix, origins=origins, start=start, end=end)
        else:
            if on is None:
                raise BadInput("give --date for a one-date export, or --series")
            rel = self.snapshot(on, prefix=prefix, origins=origins)
        cols = ["hts10", "origin", "mfn_text", "mfn", *ADD_LAYERS, "additional_pct", "total_pct", "specific",
                "headings", "valid_from", "valid_until", "revision"]
        proj = ", ".join(c if c != "headings" or fmt == "parquet" else "array_to_string(headings, ';') AS headings"
                         for c in cols)
        return self.copy(rel.project(proj), out, fmt)

    def copy(self, rel: duckdb.DuckDBPyRelation, out: Path, fmt: str) -> int:
        """Write a relation to a file through a temp file; the target appears only when complete."""
        opts = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER true)"
        with atomic_path(out) as tmp:
            try:
                self.db.execute(f"COPY ({rel.sql_query()}) TO '{tmp}' {opts}")
                n = _one(self.db.query(f"SELECT count(*) FROM read_{fmt}('{tmp}')"))
            except duckdb.Error as exc:
                raise BadInput(f"cannot write {out}: {exc}") from exc
        return int(n[0]) if n else 0

    # ---- diffs --------------------------------------------------------------------------
    def diff(self, start: date | str, end: date | str, *, origins: Iterable[str] | None = None,
             prefix: str | None = None, layer: str | None = None) -> Diff:
        """Every product x origin whose duties differ between two dates, with the cause."""
        d1, d2 = parse_date(start), parse_date(end)
        if layer is not None and layer not in LAYER_ORDER:
            raise BadInput(f"unknown layer {layer!r}: one of {', '.join(LAYER_ORDER)}")
        origins = list(origins or [])
        a = self.snapshot(d1, prefix=prefix, origins=origins)
        b = self.snapshot(d2, prefix=prefix, origins=origins)
        cols = ["mfn", *ADD_LAYERS, "total_pct"]
        changed = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in (*cols, "stack_id", "mfn_text"))
        if layer is not None:
            changed = f"a.{layer} IS DISTINCT FROM b.{layer}"
        rel = self.db.query(f"""
            SELECT coalesce(a.hts10, b.hts10) AS hts10, coalesce(a.origin, b.origin) AS origin,
                   {", ".join(f"a.{c} AS old_{c}, b.{c} AS new_{c}" for c in cols)},
                   list_filter(coalesce(b.headings, []), lambda x: NOT list_contains(coalesce(a.headings, []), x)) AS added,
                   list_filter(coalesce(a.headings, []), lambda x: NOT list_contains(coalesce(b.headings, []), x)) AS removed,
                   a.mfn_text AS old_mfn_text, b.mfn_text AS new_mfn_text,
                   b.revision AS new_revision,
                   CASE WHEN a.hts10 IS NULL THEN 'new line' WHEN b.hts10 IS NULL THEN 'line removed' ELSE 'changed' END AS kind
            FROM ({a.sql_query()}) a FULL OUTER JOIN ({b.sql_query()}) b ON a.hts10 = b.hts10 AND a.origin = b.origin
            WHERE a.hts10 IS NULL OR b.hts10 IS NULL OR {changed}
        """)
        return Diff(self, d1, d2, rel, origins, prefix, layer)


@dataclass
class Diff:
    """The changed product x origin pairs between two dates, with summaries."""

    panel: Panel
    start: date
    end: date
    rel: duckdb.DuckDBPyRelation
    origins: list[str]
    prefix: str | None
    layer: str | None

    def count(self) -> int:
        row = _one(self.rel.aggregate("count(*)"))
        return int(row[0]) if row else 0

    def by_kind(self) -> dict[str, int]:
        """How the changed pairs add up: the total rate moved; the same total under other
        headings or texts; a line new in the schedule; a line gone from it."""
        row = _one(self.panel.db.query(f"""
            SELECT count(*) FILTER (WHERE kind = 'changed' AND old_total_pct IS DISTINCT FROM new_total_pct),
                   count(*) FILTER (WHERE kind = 'changed' AND old_total_pct IS NOT DISTINCT FROM new_total_pct),
                   count(*) FILTER (WHERE kind = 'new line'), count(*) FILTER (WHERE kind = 'line removed')
            FROM ({self.rel.sql_query()})""")) or (0, 0, 0, 0)
        keys = ("total changed", "same total, other headings or texts", "new lines", "lines removed")
        return {k: int(n or 0) for k, n in zip(keys, row, strict=True)}

    def by_layer(self) -> list[tuple[str, int, float | None, float | None]]:
        """(layer, pairs changed, mean old rate, mean new rate) for each layer that moved.

        Only pairs on both dates count: a new or removed line is not a change of every layer."""
        names = ("mfn", *ADD_LAYERS, "total_pct")
        parts = ", ".join(
            f"count(*) FILTER (WHERE old_{n} IS DISTINCT FROM new_{n}), "
            f"avg(old_{n}) FILTER (WHERE old_{n} IS DISTINCT FROM new_{n}), "
            f"avg(new_{n}) FILTER (WHERE old_{n} IS DISTINCT FROM new_{n})" for n in names)
        row = _one(self.panel.db.query(
            f"SELECT {parts} FROM ({self.rel.sql_query()}) WHERE kind = 'changed'")) or ()
        out = []
        for k, name in enumerate(names):
            n, old, new = row[3 * k: 3 * k + 3]
            if n:
                out.append((name, int(n), old, new))
        return out

    def by_chapter(self, limit: int = 20) -> list[tuple[str, int]]:
        rows = self.rel.aggregate("substr(hts10, 1, 2) AS chapter, count(*) AS n", "chapter").order(
            "n DESC, chapter").limit(limit).fetchall()
        return [(str(c), int(n)) for c, n in rows]

    def causes(self, limit: int = 20) -> list[tuple[str, str, int]]:
        """(added or removed, heading, pairs) - which headings explain the changes."""
        rows = self.panel.db.query(f"""
            SELECT kind, h, count(*) AS n FROM (
              SELECT 'added' AS kind, unnest(added) AS h FROM ({self.rel.sql_query()})
              UNION ALL SELECT 'removed' AS kind, unnest(removed) AS h FROM ({self.rel.sql_query()}))
            GROUP BY kind, h ORDER BY n DESC, h LIMIT {int(limit)}""").fetchall()
        return [(str(k), str(h), int(n)) for k, h, n in rows]

    def rows(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        rel = self.rel.order("hts10, origin").limit(limit, offset)
        names = rel.columns
        return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]

    def write(self, out: Path, fmt: str) -> int:
        rel = self.rel
        if fmt == "csv":
            rel = rel.project("* REPLACE (array_to_string(added, ';') AS added, array_to_string(removed, ';') AS removed)")
        return self.panel.copy(rel.order("hts10, origin"), out, fmt)

    def to_json(self, limit: int = 100) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            return v.isoformat() if isinstance(v, date) else v

        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(), "origins": self.origins,
            "prefix": self.prefix, "layer": self.layer, "changed": self.count(), "by_kind": self.by_kind(),
            "by_layer": [{"layer": n, "pairs": c, "mean_old": o, "mean_new": w} for n, c, o, w in self.by_layer()],
            "by_chapter": [{"chapter": c, "pairs": n} for c, n in self.by_chapter()],
            "causes": [{"kind": k, "heading": h, "pairs": n} for k, h, n in self.causes()],
            "rows": [{k: clean(v) for k, v in r.items()} for r in self.rows(limit)],
        }


def _one(rel: duckdb.DuckDBPyRelation) -> tuple[Any, ...] | None:
    rows = rel.limit(1).fetchall()
    return rows[0] if rows else None


class _PointIndex:
    """In-memory index of the store for sub-millisecond point lookups."""

    def __init__(self, panel: Panel) -> None:
        db = panel.db
        self.products: dict[str, list[tuple[date, date, int, int, str | None, float | None, str | None, float | None]]] = {}
        for h, vf, vu, sig, mk, g, gp, o, op in db.query(
                "SELECT hts10, valid_from, valid_until, sig_id, mfn_key, general, general_pct, other, other_pct "
                "FROM products").fetchall():
            self.products.setdefault(h.replace(".", ""), []).append((vf, vu, sig, mk, g, gp, o, op))
        self.regimes: dict[int, list[tuple[date, date, int, int, int]]] = {}
        for sig, mk, gid, sid, vf, vu in db.query("SELECT sig_id, mfn_key, group_id, stack_id, valid_from, valid_until FROM regimes").fetchall():
            self.regimes.setdefault(sig, []).append((vf, vu, mk, gid, sid))
        self.members: dict[int, frozenset[str]] = {}
        for gid, isos in db.query("SELECT group_id, list(iso2) FROM groups GROUP BY group_id").fetchall():
            self.members[gid] = frozenset(isos)
        self.column2 = {iso for (iso,) in db.query("SELECT iso2 FROM countries WHERE column2").fetchall()}
        names = ["stack_id", *ADD_LAYERS, "additional_pct", "specific", "headings"]
        self.stacks = {r[0]: dict(zip(names, r, strict=True)) for r in db.query(f"SELECT {', '.join(names)} FROM stacks").fetchall()}

    def lookup(self, d: str, iso: str, day: date) -> dict[str, Any]:
        rows = self.products.get(d) or (self.products.get(d + "00") if len(d) == 8 else None)
        if not rows:
            raise UnknownProduct(f"unknown HTS code {dotted(d)}")
        prod = next((r for r in rows if r[0] <= day <= r[1]), None)
        if prod is None:
            raise UnknownProduct(f"HTS {dotted(d)} is not in the schedule in force on {day.isoformat()}")
        vf, vu, sig, mk, g, gp, o, op = prod
        for rf, ru, rmk, gid, sid in self.regimes.get(sig, ()):
            if rf <= day <= ru and rmk in (0, mk) and iso in self.members[gid]:
                stack = self.stacks[sid]
                col2 = iso in self.column2
                mfn = op if col2 else gp
                return {
                    "hts10": dotted(d if len(d) == 10 else d + "00"), "origin": iso, "date": day.isoformat(),
                    "mfn_text": o if col2 else g, "mfn": mfn, **{n: stack[n] for n in ADD_LAYERS},
                    "additional_pct": stack["additional_pct"],
                    "total_pct": round((mfn or 0.0) + stack["additional_pct"], 4),
                    "headings": list(stack["headings"]), "stack_id": sid,
                    "valid_from": max(vf, rf).isoformat(), "valid_until": min(vu, ru).isoformat(),
                }
        raise DataError(f"the panel has no row for {dotted(d)} from {iso} on {day}: rebuild it")

