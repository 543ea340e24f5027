"""The scope ledger: who each heading reaches, version by version, as a reviewable table.

A change to the registry, the notes reader or the parser can move duties onto or off thousands
of product x origin pairs without any test noticing. The ledger makes that visible: for each
heading version in force it records the validity period, status, rate, how many HTS-10 lines of
the schedule then in force are in its product scope and which origins its country terms take in.
It is committed (``docs/LEDGER.csv``) and a test compares a fresh build with it, so every change
of reach shows in review as a diff. ``tariffstack registry ledger -o docs/LEDGER.csv`` rewrites it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from tariffstack.law import countries
from tariffstack.law.measures import Measure
from tariffstack.law.registry import csv_text
from tariffstack.law.store import Model
from tariffstack.sources.schedule import products

COLUMNS = ("heading", "valid_from", "valid_to", "status", "layer", "role", "rate", "lines", "origins",
           "origin_count")
MAX_LISTED = 12


class _Lines:
    """The product lines of one revision, sorted for prefix counts."""

    def __init__(self, model: Model, index: int) -> None:
        lines = list(products(model.lines[index]))
        self.digits = sorted(ln.digits for ln in lines)
        self.by_footnote: dict[str, set[str]] = {}
        for ln in lines:
            for h in ln.see:
                self.by_footnote.setdefault(h, set()).add(ln.digits)

    def matching(self, prefixes: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for p in prefixes:
            lo = bisect.bisect_left(self.digits, p)
            hi = bisect.bisect_left(self.digits, p + "\uffff")
            out.update(self.digits[lo:hi])
        return out


def _scope(m: Measure, lines: _Lines, layer_lines: dict[str, set[str]]) -> set[str]:
    if m.scope == "all":
        found = set(lines.digits)
    elif m.scope == "footnote":
        found = set(lines.by_footnote.get(m.heading, ()))
    elif m.scope == "list":
        found = lines.matching(m.codes) | (lines.by_footnote.get(m.heading, set()) if m.by_footnote else set())
    elif m.scope.startswith("layer:"):
        found = set(layer_lines.get(m.scope[6:], ()))
    else:
        found = set()
    return found - lines.matching(m.except_codes)


def _origins(m: Measure, every: list[str]) -> tuple[str, int]:
    taken = [c for c in every if (m.countries is None or c in m.countries) and c not in m.excluded_countries]
    if m.countries is None:
        left = sorted(m.excluded_countries & set(every))
        return ("*" if not left else "* except " + ";".join(left)), len(taken)
    if len(taken) <= MAX_LISTED:
        return ";".join(taken), len(taken)
    return f"{len(taken)} countries", len(taken)


def _rate(m: Measure) -> str:
    d = m.duty
    if m.exempts:
        return "exempt"
    pct = "" if d.pct is None else f"{d.pct:g}%"
    spec = " + ".join(p.text for p in d.specific)
    amount = " + ".join(x for x in (pct, spec) if x) or d.text[:40]
    basis = f" on {d.content_basis} content" if d.content_basis else ""
    return {"plus": f"+{amount}", "floor": f"{amount} all-in"}.get(d.kind, amount) + basis


def rows(model: Model) -> list[dict[str, str]]:
    """One row per heading version in force within the model's coverage."""
    every = sorted(c.iso2 for c in countries.all_countries())
    cache: dict[int, _Lines] = {}
    out: list[dict[str, str]] = []
    versions = sorted((v for vs in model.measures.values() for v in vs if v.status == "active"
                       and v.start <= model.last_date), key=lambda v: (v.start, v.heading))
    for v in sorted(versions, key=lambda v: (v.heading, v.start)):
        idx = model.revision_on(v.start)
        lines = cache.get(idx) or cache.setdefault(idx, _Lines(model, idx))
        layer_lines: dict[str, set[str]] = {}
        if v.scope.startswith("layer:"):
            layer = v.scope[6:]
            for o in (o for vs in model.measures.values() for o in vs):
                if (o.layer == layer and o.imposes and o.unevaluated is None and o.status == "active"
                        and not o.scope.startswith("layer:") and o.validity.contains(v.start)):
                    layer_lines.setdefault(layer, set()).update(_scope(o, lines, {}))
        origins, n = _origins(v, every)
        last = "" if v.validity.last is None else v.validity.last.isoformat()
        out.append({
            "heading": v.heading, "valid_from": v.start.isoformat(), "valid_to": last,
            "status": "modelled" if v.unevaluated is None else "not_evaluated", "layer": v.layer,
            "role": "exempt" if v.exempts else ("floor" if v.duty.kind == "floor" else "impose"),
            "rate": _rate(v), "lines": str(len(_scope(v, lines, layer_lines))), "origins": origins,
            "origin_count": str(n),
        })
    return out


def to_csv(table: list[dict[str, str]]) -> str:
    return csv_text(table, COLUMNS)
