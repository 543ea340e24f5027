"""Queries over a built panel store with DuckDB: point lookups, snapshots, series and diffs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from tariffstack.engine.us import parse_date, parse_hts
from tariffstack.errors import BadInput, DataError, DateOutOfRange, UnknownProduct
from tariffstack.files import atomic_path
from tariffstack.law import countries
from tariffstack.models import LAYER_ORDER
from tariffstack.panel.diff import Diff, one
from tariffstack.panel.store import read_meta, store_path
from tariffstack.panel.tables import ADD_LAYERS, PANEL_FORMAT, TABLES
from tariffstack.sources.schedule import dotted


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
        meta = read_meta(link) if link.exists() else None
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
    def warm(self) -> None:
        """Build the in-memory point index now (a server does it once, before its threads ask)."""
        if self._index is None:
            self._index = _PointIndex(self)

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
                n = one(self.db.query(f"SELECT count(*) FROM read_{fmt}('{tmp}')"))
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
