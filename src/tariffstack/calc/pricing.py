"""Pricing many lines at once: each distinct situation is evaluated once, then arrays do the rest.

A situation is (product, origin, span of days on which the law is constant, shipment inputs).
Lines with the default inputs find their stack in the rate panel (one DuckDB join per batch
over the distinct situations); lines with other inputs (a metal share, a USMCA claim, a
program...) are evaluated by the engine, once per distinct situation. Either way the stack
becomes a :class:`~tariffstack.calc.formula.Formula`, and the formula, for the declared units,
becomes coefficients: the dollars of every line are then a few array operations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tariffstack.calc.formula import (
    LAYERS,
    Coefficients,
    Formula,
    build_formula,
    coefficients,
    layers_from_json,
)
from tariffstack.calc.lines import isin
from tariffstack.engine.us import USMCA_PARTNERS, Engine, Inputs
from tariffstack.errors import DataError, TariffstackError, UnknownProduct
from tariffstack.law import countries
from tariffstack.law.rates import parse_rate
from tariffstack.models import Layer

PANEL_TABLES = ("products", "regimes", "groups", "countries", "stacks")


@dataclass
class PanelTables:
    """The parts of a built rate panel that pricing needs, as Arrow tables (small: ~4 MB)."""

    tables: dict[str, pa.Table]
    meta: dict[str, Any]

    @classmethod
    def load(cls, home: Path) -> PanelTables:
        link = home / "panel"
        try:
            meta = json.loads((link / "meta.json").read_text(encoding="utf-8"))
            tables = {n: pq.read_table(link / f"{n}.parquet") for n in PANEL_TABLES}
        except (OSError, ValueError, pa.ArrowInvalid) as exc:
            raise DataError(f"no usable rate panel in {home}: run 'tariffstack build'") from exc
        return cls(tables, meta)

    def matches(self, engine: Engine) -> bool:
        """Whether the panel was built from the same law as the engine (else its rows could differ)."""
        from tariffstack.panel import code_fingerprint

        m = engine.model
        return (self.meta.get("code") == code_fingerprint()
                and self.meta.get("revisions") == [r.name for r in m.revisions]
                and self.meta.get("last_date") == m.last_date.isoformat())


class PanelIndex:
    """The panel's products and regimes as sorted integer keys, for interval lookups by binary
    search: which product row holds a code on a day, which stack an origin pays for it."""

    def __init__(self, panel: PanelTables) -> None:
        t = panel.tables
        prod = t["products"]
        self.p_code = np.asarray(pc.cast(pc.replace_substring(prod.column("hts10"), ".", ""), pa.int64())
                                 .to_numpy(zero_copy_only=False), dtype=np.int64)
        self.p_from = _days(prod.column("valid_from"))
        self.p_until = _days(prod.column("valid_until"))
        order = np.lexsort((self.p_from, self.p_code))
        self.p_code, self.p_from, self.p_until = self.p_code[order], self.p_from[order], self.p_until[order]
        self.p_key = self.p_code * DAY_SPAN + self.p_from
        self.p_sig = _ints(prod.column("sig_id"))[order]
        self.p_mk = _ints(prod.column("mfn_key"))[order]
        self.p_general = _objs(prod.column("general"))[order]
        self.p_other = _objs(prod.column("other"))[order]
        self.p_line = _objs(prod.column("rate_line"))[order]
        ctry = t["countries"]
        self.isos = {iso: k for k, iso in enumerate(ctry.column("iso2").to_pylist())}
        self.column2 = np.array(ctry.column("column2").to_pylist() + [False], dtype=bool)
        groups = t["groups"]
        reg = t["regimes"]
        members: dict[int, list[int]] = {}
        for gid, iso in zip(groups.column("group_id").to_pylist(), groups.column("iso2").to_pylist(), strict=True):
            members.setdefault(gid, []).append(self.isos[iso])
        gid = _ints(reg.column("group_id"))
        sizes = np.array([len(members.get(g, ())) for g in range(int(gid.max()) + 1 if len(gid) else 0)], dtype=np.int64)
        flat = [np.array(members.get(g, []), dtype=np.int64) for g in range(len(sizes))]
        rep = sizes[gid] if len(gid) else np.zeros(0, dtype=np.int64)
        r_iso = np.concatenate([flat[g] for g in gid]) if len(gid) else np.zeros(0, dtype=np.int64)
        def expand(col: str) -> npt.NDArray[np.int64]:
            return np.repeat(_ints(reg.column(col)), rep)
        r_sig, r_mk, r_stack = expand("sig_id"), expand("mfn_key"), expand("stack_id")
        r_from, r_until = np.repeat(_days(reg.column("valid_from")), rep), np.repeat(_days(reg.column("valid_until")), rep)
        self.n_iso = len(self.isos) + 1
        self.n_mk = int(max(r_mk.max(initial=0), self.p_mk.max(initial=0))) + 1
        key = self._rkey(r_sig, r_iso, r_mk, r_from)
        order = np.argsort(key, kind="stable")
        self.r_key, self.r_until, self.r_stack = key[order], r_until[order], r_stack[order]
        self.r_head = self._rkey(r_sig, r_iso, r_mk, np.zeros_like(r_from))[order]

    def _rkey(self, sig: npt.NDArray[np.int64], iso: npt.NDArray[np.int64], mk: npt.NDArray[np.int64],
              day: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return ((sig * self.n_iso + iso) * self.n_mk + mk) * DAY_SPAN + day

    def _regime(self, sig: npt.NDArray[np.int64], iso: npt.NDArray[np.int64], mk: npt.NDArray[np.int64],
                day: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        key = self._rkey(sig, iso, mk, day)
        at = np.searchsorted(self.r_key, key, side="right") - 1
        safe = np.maximum(at, 0)
        ok = (at >= 0) & (self.r_head[safe] == self._rkey(sig, iso, mk, np.zeros_like(day))) & (self.r_until[safe] >= day)
        return np.where(ok, self.r_stack[safe], -1)

    def lookup(self, codes: pa.ChunkedArray, isos: pa.ChunkedArray, days: npt.NDArray[np.datetime64]) -> pa.Table:
        """Per situation: MFN text, column 2 flag, rate line and stack id (rows not found are left out)."""
        code = np.asarray(pc.cast(codes, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
        found = pc.index_in(isos, value_set=pa.array(list(self.isos), pa.string()))
        iso = np.asarray(pc.fill_null(found, self.n_iso - 1).to_numpy(zero_copy_only=False), dtype=np.int64)
        day = (days - EPOCH).astype(np.int64)
        at = np.searchsorted(self.p_key, code * DAY_SPAN + day, side="right") - 1
        safe = np.maximum(at, 0)
        ok = (at >= 0) & (self.p_code[safe] == code) & (self.p_until[safe] >= day)
        sig, mk = self.p_sig[safe], self.p_mk[safe]
        stack = self._regime(sig, iso, np.zeros_like(mk), day)
        stack = np.where(stack >= 0, stack, self._regime(sig, iso, mk, day))
        ok &= stack >= 0
        col2 = self.column2[iso]
        rows = np.flatnonzero(ok)
        mfn = np.where(col2, self.p_other[safe], self.p_general[safe])
        return pa.table({"k": pa.array(rows, pa.int64()), "mfn": pa.array(mfn[rows], pa.string()),
                         "col2": pa.array(col2[rows], pa.bool_()), "rate_line": pa.array(self.p_line[safe][rows], pa.string()),
                         "stack_id": pa.array(stack[rows], pa.int64())})


EPOCH = np.datetime64("2000-01-01", "D")
DAY_SPAN = 1 << 17   # days after 2000-01-01 that a key can hold (about 358 years)


def _days(col: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return (np.asarray(col.to_numpy(), dtype="datetime64[D]") - EPOCH).astype(np.int64)


def _ints(col: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return np.asarray(col.to_numpy(), dtype=np.int64)


def _objs(col: pa.ChunkedArray) -> npt.NDArray[np.object_]:
    return np.asarray(col.fill_null("").to_numpy(zero_copy_only=False), dtype=object)


@dataclass
class Situations:
    """Per line: the formula index (-1 when the situation failed), the failure message, the
    span of constant law and the product line whose rate applies (``6403.99.90``)."""

    fid: npt.NDArray[np.int64]
    error: npt.NDArray[np.object_]
    span: npt.NDArray[np.datetime64]
    rate_line: npt.NDArray[np.object_]


def _inputs_of(lines: Any, i: int) -> Inputs:
    inp = lines.inputs
    loading = inp["loading_date"][i]
    share = inp["metal_content_share"][i]
    us = inp["us_content_share"][i]
    return Inputs(
        loading_date=None if np.isnat(loading) else date.fromisoformat(str(loading)),
        usmca_claimed=bool(inp["usmca_claimed"][i]),
        metal_content_share=None if np.isnan(share) else float(share),
        us_content_share=None if np.isnan(us) else float(us),
        melt_pour_country=inp["melt_pour_country"][i] or None,
        program=inp["program"][i] or None,
        donation=bool(inp["donation"][i]),
        informational=bool(inp["informational"][i]),
    )


@dataclass
class Pricer:
    """Holds the engine, the panel (optional) and every formula and coefficient seen so far."""

    engine: Engine
    panel: PanelTables | None = None
    assume_unchanged: bool = False
    formulas: list[Formula] = field(default_factory=list)
    coefs: list[Coefficients] = field(default_factory=list)
    _fkeys: dict[Any, int] = field(default_factory=dict)
    _ckeys: dict[tuple[int, str, str], int] = field(default_factory=dict)
    _index: PanelIndex | None = None
    _stacks: dict[int, str] = field(default_factory=dict)
    _failed: dict[tuple[str, int], TariffstackError] = field(default_factory=dict)
    _s232: dict[int, bool] = field(default_factory=dict)
    _arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    _lines: dict[int, str] = field(default_factory=dict)
    _bounds: npt.NDArray[np.datetime64] | None = None
    _starts: npt.NDArray[np.datetime64] | None = None
    evaluations: int = 0

    def __post_init__(self) -> None:
        m = self.engine.model
        self._bounds = np.array([np.datetime64(d, "D") for d in m.boundaries()], dtype="datetime64[D]")
        self._starts = np.array([np.datetime64(d, "D") for d in m.starts], dtype="datetime64[D]")
        if self.panel is not None:
            self._index = PanelIndex(self.panel)
            stacks = self.panel.tables["stacks"]
            self._stacks = dict(zip(stacks.column("stack_id").to_pylist(), stacks.column("layers_json").to_pylist(),
                                    strict=True))

    # ---- days -----------------------------------------------------------------------------
    @property
    def first(self) -> date:
        return self.engine.model.first_date

    @property
    def last(self) -> date:
        return self.engine.model.last_date

    def spans(self, day: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
        """The first day of the span of constant law holding each day (past the data: the last span)."""
        assert self._bounds is not None
        last = np.datetime64(self.last, "D")
        d = np.where(day > last, last, day)
        k = np.searchsorted(self._bounds, d, side="right") - 1
        return np.where(k >= 0, self._bounds[np.maximum(k, 0)], d)

    def revision_name(self, day: date) -> str:
        m = self.engine.model
        return m.revisions[m.revision_on(day)].name

    def revision_names(self, day: npt.NDArray[np.datetime64]) -> npt.NDArray[np.object_]:
        """The revision whose product lines are in force on each day (past the data: the last)."""
        assert self._starts is not None
        names = np.array([r.name for r in self.engine.model.revisions], dtype=object)
        d = np.minimum(day, np.datetime64(self.last, "D"))
        k = np.maximum(np.searchsorted(self._starts, d, side="right") - 1, 0)
        return names[k]

    # ---- situations -----------------------------------------------------------------------
    def situations(self, lines: Any, good: npt.NDArray[np.bool_]) -> Situations:
        """The formula of every good line: panel for default inputs, engine for the rest."""
        n = len(lines)
        fid = np.full(n, -1, dtype=np.int64)
        error = np.full(n, None, dtype=object)
        rate_line = np.full(n, "", dtype=object)
        span = self.spans(lines.day)
        # a loading date is compared with the entry date itself, not only with the span's law
        exact = ~np.isnat(lines.inputs["loading_date"])
        key_day = np.where(exact, np.minimum(lines.day, np.datetime64(self.last, "D")), span)
        inp = lines.inputs
        # lines whose only inputs are a metal share or a USMCA claim pay the default stack
        # unless it has a Section 232 duty (the share scales it and what stacks with it) or the
        # origin is one a USMCA claim can change (the engine then evaluates them)
        only = (np.isnat(inp["loading_date"]) & ~inp["donation"] & ~inp["informational"]
                & np.isnan(inp["us_content_share"]) & (inp["melt_pour_country"] == "") & (inp["program"] == ""))
        default = good & ((lines.ikey == "") | only)
        if self._index is not None and default.any():
            idx = np.flatnonzero(default)
            stack = self._from_panel(lines, idx, span, fid, rate_line)
            metal = ~np.isnan(inp["metal_content_share"][idx]) & self._has_s232(stack)
            usmca = inp["usmca_claimed"][idx] & isin(lines.origin[idx], self._usmca_origins())
            relevant = (lines.ikey[idx] != "") & (metal | usmca)
            fid[idx[relevant]] = -1
            rate_line[idx[relevant]] = ""
        rest = good & (fid < 0)
        if rest.any():
            self._from_engine(lines, np.flatnonzero(rest), key_day, fid, error, rate_line)
        return Situations(fid, error, span, rate_line)

    def _distinct(self, cols: list[npt.NDArray[Any]]) -> tuple[pa.Table, npt.NDArray[np.int64]]:
        """Distinct rows of some columns (a table ``c0..``, ``row_min`` its first line, ``k``) and
        each line's ``k``: the columns are coded as integers (hashing texts) and combined."""
        n = len(cols[0])
        key = np.zeros(n, dtype=np.int64)
        for c in cols:
            if c.dtype == object:
                code = np.asarray(pc.dictionary_encode(pa.array(c, pa.string())).indices.to_numpy(zero_copy_only=False),
                                  dtype=np.int64)
            else:
                code = np.unique(c.astype("int64") if c.dtype.kind != "M" else c.astype("datetime64[D]").astype("int64"),
                                 return_inverse=True)[1].astype(np.int64)
            key = np.unique(key * (int(code.max(initial=0)) + 1) + code, return_inverse=True)[1].astype(np.int64)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        table = {f"c{j}": pa.array(c[first]) for j, c in enumerate(cols)}
        table["row_min"] = pa.array(first.astype(np.int64))
        table["k"] = pa.array(np.arange(len(first), dtype=np.int64))
        return pa.table(table), inverse.astype(np.int64)

    def _has_s232(self, stack: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Whether each stored stack imposes a Section 232 duty (-1, no stack: False)."""
        if not self._s232:
            for sid, text in self._stacks.items():
                self._s232[sid] = any(x["layer"] == "s232" and not x["exempt"] for x in json.loads(text))
        table = np.zeros(max(self._s232, default=0) + 2, dtype=bool)
        for sid, v in self._s232.items():
            table[sid] = v
        return table[np.where(stack >= 0, stack, len(table) - 1)]

    def _usmca_origins(self) -> npt.NDArray[np.object_]:
        """Origins a USMCA claim can change: the partners (program S) and any origin a heading
        conditioned on the claim names."""
        found = set(USMCA_PARTNERS)
        for versions in self.engine.model.measures.values():
            for v in versions:
                if v.condition == "usmca":
                    if v.countries is None:
                        return np.array(sorted(c.iso2 for c in countries.all_countries()), dtype=object)
                    found |= v.countries
        return np.array(sorted(found), dtype=object)

    def _from_panel(self, lines: Any, idx: npt.NDArray[np.int64], span: npt.NDArray[np.datetime64],
                    fid: npt.NDArray[np.int64], rate_line: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
        """Each distinct (product, origin, span) looked up in the panel by one join; each
        distinct (MFN text, stack) becomes a formula once. Lines the panel lacks stay -1."""
        assert self._index is not None
        uniq, k = self._distinct([lines.hts10[idx], lines.origin[idx], span[idx]])
        found = self._index.lookup(uniq.column("c0"), uniq.column("c1"),
                                   uniq.column("c2").to_numpy(zero_copy_only=False).astype("datetime64[D]"))
        per_k = np.full(uniq.num_rows, -1, dtype=np.int64)
        stack_k = np.full(uniq.num_rows, -1, dtype=np.int64)
        line_k = np.full(uniq.num_rows, "", dtype=object)
        if found.num_rows:
            mfn = np.asarray(found.column("mfn").fill_null("").to_numpy(zero_copy_only=False), dtype=object)
            col2 = np.asarray(found.column("col2").to_numpy(zero_copy_only=False), dtype=bool)
            stack = np.asarray(found.column("stack_id").to_numpy(zero_copy_only=False), dtype=np.int64)
            keys, kk = self._distinct([mfn, col2, stack])
            fids = np.array([self._panel_formula(m, bool(c), int(st)) for m, c, st in zip(
                keys.column("c0").to_pylist(), keys.column("c1").to_pylist(), keys.column("c2").to_pylist(),
                strict=True)], dtype=np.int64)
            at = np.asarray(found.column("k").to_numpy(zero_copy_only=False), dtype=np.int64)
            per_k[at] = fids[kk]
            stack_k[at] = stack
            line_k[at] = np.asarray(found.column("rate_line").to_numpy(zero_copy_only=False), dtype=object)
        fid[idx] = per_k[k]
        rate_line[idx] = line_k[k]
        return stack_k[k]

    def _panel_formula(self, mfn_text: str, column2: bool, stack_id: int) -> int:
        key = ("panel", mfn_text, column2, stack_id)
        found = self._fkeys.get(key)
        if found is not None:
            return found
        column = "column 2 (general note 3(b))" if column2 else "column 1 General"
        rate = parse_rate(mfn_text)
        mfn = Layer(layer="mfn", rate_pct=rate.ad_valorem_pct if rate.parsed else None, specific=None,
                    heading=None, revision="", effective_from=None, effective_to=None,
                    reason=f"{column} rate: {rate.text or 'none printed'}", source=None, summary=f"{column} rate")
        f = build_formula(self.engine.model, "", mfn, rate, layers_from_json(self._stacks[stack_id]))
        return self._add(key, f)

    def _add(self, key: Any, f: Formula) -> int:
        self._fkeys[key] = len(self.formulas)
        self.formulas.append(f)
        return self._fkeys[key]

    def _from_engine(self, lines: Any, idx: npt.NDArray[np.int64], key_day: npt.NDArray[np.datetime64],
                     fid: npt.NDArray[np.int64], error: npt.NDArray[np.object_],
                     rate_line: npt.NDArray[np.object_]) -> None:
        uniq, k = self._distinct([lines.hts10[idx], lines.origin[idx], key_day[idx], lines.ikey[idx]])
        first_rows = uniq.column("row_min").to_numpy()
        per_k = np.full(uniq.num_rows, -1, dtype=np.int64)
        why = np.full(uniq.num_rows, None, dtype=object)
        dated = np.full(uniq.num_rows, None, dtype=object)   # an error to word for each line's day
        line_k = np.full(uniq.num_rows, "", dtype=object)
        days = uniq.column("c2").to_numpy(zero_copy_only=False).astype("datetime64[D]")
        m = self.engine.model
        for kk in range(uniq.num_rows):
            i = int(idx[first_rows[kk]])
            hts, iso, ikey = lines.hts10[i], lines.origin[i], lines.ikey[i]
            day = date.fromisoformat(str(days[kk]))
            rev = m.revision_on(day)
            failed = self._failed.get((hts, rev))
            key = ("engine", hts, iso, day, ikey)
            found = None if failed is not None else self._fkeys.get(key)
            line = None
            if failed is None and found is None:
                try:
                    line = self.engine.line(hts, day)
                except TariffstackError as exc:
                    failed = self._failed[(hts, rev)] = exc
            if failed is not None:  # an unknown code: the engine's message once per revision
                why[kk] = str(failed)
                dated[kk] = failed if isinstance(failed, UnknownProduct) and failed.dated else None
                continue
            if found is None:
                assert line is not None
                try:
                    found = self._add(key, self.evaluate(hts, iso, day, _inputs_of(lines, i)))
                except TariffstackError as exc:
                    why[kk] = str(exc)
                    continue
                self._lines[found] = line.rate_line
            per_k[kk] = found
            line_k[kk] = self._lines.get(found, "")
        fid[idx] = per_k[k]
        error[idx] = why[k]
        rate_line[idx] = line_k[k]
        own = np.flatnonzero(dated[k] != None)  # noqa: E711 - elementwise over an object array
        if own.size:  # the group's day is its span's first: name each line's own entry date
            own_days = lines.day[idx[own]].astype("datetime64[D]").astype(str)
            error[idx[own]] = [e.on(d) for e, d in zip(dated[k[own]], own_days, strict=True)]

    def evaluate(self, hts: str, iso: str, day: date, inputs: Inputs) -> Formula:
        """The formula of one situation, from the engine (the composition ``Engine.rate`` uses)."""
        eng = self.engine
        self.evaluations += 1
        line = eng.line(hts, day)
        mfn_layer, rate = eng.mfn(line, iso, day, inputs)
        notes: list[str] = []
        layers = eng.additional(line, iso, day, inputs, rate, notes)
        return build_formula(eng.model, self.revision_name(day), mfn_layer, rate, layers, notes)

    # ---- coefficients ---------------------------------------------------------------------
    def coefficient_ids(self, fid: npt.NDArray[np.int64], unit1: npt.NDArray[np.object_],
                        unit2: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
        """Per line, the index of its formula's coefficients for its declared units (-1: none)."""
        out = np.full(len(fid), -1, dtype=np.int64)
        ok = fid >= 0
        if not ok.any():
            return out
        idx = np.flatnonzero(ok)
        uniq, k = self._distinct([fid[idx], unit1[idx], unit2[idx]])
        per_k = np.empty(uniq.num_rows, dtype=np.int64)
        for kk, (f, u1, u2) in enumerate(zip(uniq.column("c0").to_pylist(), uniq.column("c1").to_pylist(),
                                             uniq.column("c2").to_pylist(), strict=True)):
            key = (int(f), u1 or "", u2 or "")
            found = self._ckeys.get(key)
            if found is None:
                found = self._ckeys[key] = len(self.coefs)
                self.coefs.append(coefficients(self.formulas[int(f)], u1 or None, u2 or None))
            per_k[kk] = found
        out[idx] = per_k[k]
        return out

    def coefficient_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Every coefficient set so far as arrays indexed by coefficient id (grown, not rebuilt)."""
        cs = self.coefs
        n = len(LAYERS)
        have = self._arrays
        done = len(have["floor_layer"]) if have else 0
        if have and done == len(cs):
            return have
        new = cs[done:]
        add = {
            "av": np.array([c.av for c in new], dtype=np.float64).reshape(-1, n),
            "q1": np.array([c.q1 for c in new], dtype=np.float64).reshape(-1, n),
            "q2": np.array([c.q2 for c in new], dtype=np.float64).reshape(-1, n),
            "floor_layer": np.array([c.floor_layer for c in new], dtype=np.int64),
            "floor_frac": np.array([c.floor_frac for c in new], dtype=np.float64),
            "floor_scale": np.array([c.floor_scale for c in new], dtype=np.float64),
        }
        self._arrays = {k: np.concatenate([have[k], v]) if have else v for k, v in add.items()}
        return self._arrays
