"""The panel builder: every HTS-10 line x every origin x every day, as validity intervals.

Between two boundaries of the model (``Model.boundaries``) every rate is constant, so the panel is
computed per interval, not per day. Within an interval a product's additional duties depend only
on (a) the list- and footnote-scoped measures that name it (its *signature*), (b) the origin's
*class* (which measures' country terms take it in, which stacking rules bind it, column 2 or not)
and, for the few measures that look at the MFN rate (EU/Japan all-in floors), (c) the MFN rate.
Each distinct situation is evaluated once by the engine itself (``Engine.additional``), so the
panel and point queries cannot drift apart. Countries that end up paying the same stack for a
signature share one row (a *group*); rows that stay the same across intervals are merged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tariffstack.engine.us import Engine, Inputs
from tariffstack.errors import DataError
from tariffstack.law import countries
from tariffstack.law.measures import Measure
from tariffstack.law.rates import Rate, parse_rate
from tariffstack.models import LAYER_ORDER, Layer
from tariffstack.panel.tables import (
    ADD_LAYERS,
    LIST_SCOPES,
    ONE_DAY,
    PRODUCT_CONTENT,
    PRODUCT_SCHEMA,
    REGIME_CONTENT,
    REGIME_SCHEMA,
    STACK_SCHEMA,
    Progress,
)
from tariffstack.sources.schedule import Line, products


def vkey(m: Measure) -> str:
    """A stable name for one version of a heading (survives rebuilds with more revisions)."""
    return f"{m.heading}@{m.start.isoformat()}#{m.revision}"


def _xkey(m: Measure) -> str:
    """The signature mark of products a version excepts from its scope."""
    return "!" + vkey(m)


def _marks(m: Measure) -> list[str]:
    """The signature keys a version contributes: its own (list scopes) and its exceptions'."""
    return ([vkey(m)] if m.scope in LIST_SCOPES else []) + ([_xkey(m)] if m.except_codes else [])


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


@dataclass(frozen=True, slots=True)
class _Product:
    """A product line as the walk needs it: the measure versions that name it, its MFN key and
    its row's content but for the signature (all the same in every interval it is in force)."""

    line: Line
    hts10: str
    hits: frozenset[str]
    mk: int
    content: tuple[Any, ...]


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
                    self.code_index.setdefault(c, []).append(vkey(v))
            if v.scope == "footnote" or v.by_footnote:
                self.foot_index.setdefault(v.heading, []).append(vkey(v))
            # products a heading takes out of its scope are part of their signature too
            for c in v.except_codes:
                self.code_index.setdefault(c, []).append(_xkey(v))
        self._matches: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
        self._line_info: dict[int, _Product] = {}
        self._hit_sets: dict[frozenset[str], frozenset[str]] = {}
        self.pos: dict[int, int] = {}
        self._product_lists: dict[int, tuple[list[_Product], set[str]]] = {}
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
    def run(self, progress: Progress | None = None, *, until: date | None = None) -> dict[str, pa.Table]:
        """Walk the intervals from ``since`` (or the first day) and return the tables.

        With ``until``, the walk stops the day before it: a variant that is the law again from
        ``until`` appends the law's own rows from there (``stats.variants``)."""
        bounds = self.model.boundaries()
        last = self.model.last_date
        todo = [i for i, b in enumerate(bounds)
                if (self.since is None or b >= self.since) and (until is None or b < until)]
        for n, i in enumerate(todo, start=1):
            start = bounds[i]
            end = bounds[i + 1] - ONE_DAY if i + 1 < len(bounds) else last
            self._interval(start, end if until is None else min(end, until - ONE_DAY))
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
                other_key=frozenset(vkey(m) for m in other), rules=rules, column2=col2,
                mfn_dependent=any(_mfn_dependent(m) for m in ms),
            )
            cls.id = self.class_ids.get((cls.other_key, cls.listed, rules, col2))
            out.append(cls)
        return out

    def _products(self, rev_index: int) -> tuple[list[_Product], set[str]]:
        """A revision's product lines with what they contribute apart from the measures in force
        (worked out once per line object: revisions share unchanged lines), and their codes."""
        found = self._product_lists.get(rev_index)
        if found is None:
            rows = []
            for ln in products(self.model.lines[rev_index]):
                known = self._line_info.get(id(ln))  # the model keeps its lines alive meanwhile
                if known is None:
                    gp, op = _pct(ln.general), _pct(ln.other)
                    known = self._line_info[id(ln)] = _Product(
                        ln, ln.hts10, self._hits(ln), self.mfn_keys.get((gp, op)),
                        (ln.hts10, ln.description, ln.general, gp, ln.other, op, ln.rate_line))
                rows.append(known)
            found = self._product_lists[rev_index] = (rows, {r.hts10 for r in rows})
        return found

    def _hits(self, line: Line) -> frozenset[str]:
        """Every list or footnote measure version that names the line (in force or not): its
        signature on a day is this set cut to the versions in force. Equal sets are one object,
        so an interval cuts each distinct set once."""
        key = (line.digits, line.see)
        found = self._matches.get(key)
        if found is None:
            d, hits = line.digits, set[str]()
            for k in range(2, len(d) + 1):
                hits.update(self.code_index.get(d[:k], ()))
            for h in line.see:
                hits.update(self.foot_index.get(h, ()))
            frozen = frozenset(hits)
            found = self._matches[key] = self._hit_sets.setdefault(frozen, frozen)
        return found

    def _interval(self, start: date, until: date) -> None:
        model, engine = self.model, self.engine
        active = engine.active(start)
        self.pos = {id(m): k for k, m in enumerate(active)}  # order of the engine's walk
        by_vkey = {vkey(m): m for m in active if m.scope in LIST_SCOPES}
        active_listed = frozenset(k for m in active for k in _marks(m))
        rev = model.revisions[model.revision_on(start)].name
        classes = self._classes(start, active)
        # products: signature and MFN key; a representative line per (signature, MFN key)
        same_products = (model.revision_on(start), active_listed)
        if self._last_products is not None and self._last_products[0] == same_products:
            sig_products = self._last_products[1]  # same lines, same list measures: rows go on
            for row in self.open.products.values():
                row[2] = until
        else:
            sig_products = {}
            rows, seen_products = self._products(model.revision_on(start))
            sig_id, open_rows, done = self.sigs.get, self.open.products, self.done_products
            sig_of: dict[int, int] = {}  # id of a hits set -> its signature in this interval
            for p in rows:
                sig = sig_of.get(id(p.hits))
                if sig is None:
                    sig = sig_of[id(p.hits)] = sig_id(p.hits & active_listed)
                sig_products.setdefault(sig, {}).setdefault(p.mk, p.line)
                content = (*p.content, sig, p.mk)
                cur = open_rows.get(p.hts10)  # _extend, inlined for the hot loop
                if cur is not None and cur[0] == content and cur[2] + ONE_DAY == start:
                    cur[2] = until
                else:
                    if cur is not None:
                        done.append(cur)
                    open_rows[p.hts10] = [content, start, until, rev]
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
        memo, mfn_of = self.memo, self.mfn_keys.keys
        any_line = [(0, next(iter(by_mk.values())))]
        for cls in classes:
            # the memo lookup inlined (hundreds of thousands of calls a build, nearly all hits)
            listed = sig_set & cls.listed
            for mk, line in (by_mk.items() if cls.mfn_dependent else any_line):
                key = (cls.other_key, listed, mfn_of[mk] if mk else None, cls.rules, cls.column2)
                stack = memo.get(key)
                if stack is None:
                    stack = self._evaluate(day, cls, listed, by_vkey, line, key)
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

    def _evaluate(self, day: date, cls: _Class, listed: frozenset[str], by_vkey: dict[str, Measure],
                  line: Line, key: tuple[Any, ...]) -> int:
        """The stack a class pays for the list measures ``listed`` (the signature's that take the
        class in), evaluated by the engine and remembered under ``key`` (_regimes looked it up)."""
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
