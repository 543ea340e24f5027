"""What-if scenarios: hypothetical legal events run through the law's own model, engine and panel.

A scenario file (``scenario_file.py``) lists events in the form of the package's legal data. Each
is checked against the compiled model (the heading exists and is modelled, the dates are inside
the data, no two events on one heading overlap, the event changes something) and applied to a
copy of the model with the law's own types: ``LegalEvent.apply`` for rate changes, ends and
suspensions, ``law.apply.within`` for a period of changed payers or product lists, and
``law.apply.proposed_measure`` (a registry ``Record`` read through like any printed heading) for
a new country rate or Section 232 action. The panel of the amended model is then built by the
panel's builder, continuing the law's store from the scenario's first day (``variants.py``), and
compared with the law's: effective rates side by side, the difference per partner, chapter and
layer, and the product x origin pairs whose duties change.

Nothing is written until the whole file is valid; a bad event is a ``BadInput`` naming its line.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput, DataError, TariffstackError
from tariffstack.law import countries
from tariffstack.law.apply import apply_events, first_printed, proposed_measure, within
from tariffstack.law.events import LegalEvent
from tariffstack.law.measures import Measure
from tariffstack.law.registry import load_registry, parse_row
from tariffstack.panel import ADD_LAYERS, Panel
from tariffstack.sources.schedule import Line, products
from tariffstack.stats.effective import Effective, boundaries, compute
from tariffstack.stats.scenario_diff import Changes, changes, write_changes
from tariffstack.stats.scenario_file import CountryRate, ProductsEvent, ScenarioFile, Section232
from tariffstack.stats.variants import build_variant, check_current
from tariffstack.stats.weights import Weights

__all__ = ["Changes", "Compiled", "Comparison", "Step", "changes", "compare", "compile_scenario", "run",
           "scenario_panel", "write_changes"]
FORMAT = 2  # bump when the way events are applied changes (cached scenario panels are rebuilt)


@dataclass
class Step:
    """One event as applied: its line, what it does in words, the headings it changes."""

    line: int
    action: str
    text: str
    headings: tuple[str, ...]
    first: date
    last: date | None

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "action": self.action, "text": self.text, "headings": list(self.headings),
                "effective": self.first.isoformat(), "end": self.last.isoformat() if self.last else None}


@dataclass
class Compiled:
    """A validated scenario applied to a copy of the compiled model."""

    file: ScenarioFile
    measures: dict[str, list[Measure]]
    steps: list[Step]
    since: date
    key: str
    until: date | None = None     # from this day the amended law is the law again (None: never)

    @property
    def name(self) -> str:
        return self.file.scenario.name


@dataclass
class _State:
    sf: ScenarioFile
    engine: Engine
    measures: dict[str, list[Measure]]
    printed: dict[str, str]
    periods: dict[str, list[tuple[date, date | None, int]]] = field(default_factory=dict)

    @property
    def model(self) -> Any:
        return self.engine.model

    def fail(self, loc: tuple[int | str, ...], msg: str) -> BadInput:
        return BadInput(f"{self.sf.where('events', *loc)}: {msg}", field="scenario")


# ---- checking events against the law ---------------------------------------------------------
def _fmt(lo: date, hi: date | None) -> str:
    return f"{lo} to {hi}" if hi else f"from {lo}"


def _overlap(a: tuple[date, date | None], b: tuple[date, date | None]) -> bool:
    return (a[1] is None or b[0] <= a[1]) and (b[1] is None or a[0] <= b[1])


def _claim(st: _State, i: int, heading: str, lo: date, hi: date | None) -> None:
    """Record that event ``i`` changes ``heading`` over [lo, hi]; two events on one heading with
    overlapping periods are contradictory (or one is redundant), so they are refused."""
    line = st.sf.line("events", i)
    for a, b, other in st.periods.get(heading, []):
        if _overlap((a, b), (lo, hi)):
            raise st.fail((i,), f"{heading} {_fmt(lo, hi)} overlaps the event at line {other} on the same "
                                f"heading ({_fmt(a, b)}): two events on one heading contradict each other unless "
                                "their periods are disjoint")
    st.periods.setdefault(heading, []).append((lo, hi, line))


def _dates(st: _State, i: int, lo: date, hi: date | None) -> None:
    first, last = st.model.first_date, st.model.last_date
    for name, d in (("effective", lo), ("end", hi)):
        if d is not None and not first <= d <= last:
            raise st.fail((i, name), f"{name} {d} is outside the data: the revisions on file cover {first} to "
                                     f"{last} ({st.model.revisions[-1].name})")


def _modelled(st: _State, loc: tuple[int | str, ...], heading: str) -> None:
    """A heading an event changes must be one the law on file models."""
    if heading in st.measures:
        return
    if heading in st.printed:
        records = load_registry().get(heading)
        status = records[0].status if records else "unknown"
        why = st.model.unmodelled.get(heading) or (records[0].reason if records else "")
        raise st.fail(loc, f"heading {heading} is printed (from {st.printed[heading]}) but the registry marks it "
                           f"{status}, so it never applies and changing it changes nothing" + (f": {why}" if why else ""))
    raise st.fail(loc, f"heading {heading} never existed: no revision on file ({st.model.revisions[0].name} to "
                       f"{st.model.revisions[-1].name}) prints it")


def _targets(st: _State, i: int, specs: list[str]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        lo, _, hi = spec.partition("-")
        if not hi:
            _modelled(st, (i, "headings"), lo)
            out.append(lo)
            continue
        found = sorted(h for h in st.measures if lo <= h <= hi)
        if not found:
            raise st.fail((i, "headings"), f"no heading the law on file models lies in {spec}")
        out.extend(found)
    return list(dict.fromkeys(out))


def _live(st: _State, heading: str, lo: date, hi: date | None) -> list[Measure]:
    """The active versions of a heading with days in [lo, hi]."""
    return [v for v in st.measures[heading] if v.status == "active" and (hi is None or v.start <= hi)
            and (v.end is None or v.end > lo)]


def _countries(st: _State, loc: tuple[int | str, ...], items: list[str]) -> frozenset[str] | None:
    """ISO codes of countries and groups (None for '*'), as the registry's columns take them."""
    if items == ["*"]:
        return None
    out: set[str] = set()
    for item in items:
        if item.upper() in countries.GROUPS:
            out |= countries.GROUPS[item.upper()]
            continue
        try:
            out.add(countries.resolve(item).iso2)
        except TariffstackError as exc:
            raise st.fail(loc, f"{exc}") from None
    return frozenset(out)


def _edit(st: _State, heading: str, lo: date, hi: date | None, change: Callable[[Measure], Measure | None]) -> None:
    pieces: list[Measure] = []
    for v in st.measures[heading]:
        pieces.extend(within(v, lo, hi, change) if v.status == "active" else [v])
    st.measures[heading] = pieces


def _legal(st: _State, i: int, action: str, heads: list[str], lo: date, hi: date | None,
           rate: float | None, cite: str) -> None:
    event = LegalEvent(id=f"scenario-{st.sf.scenario.name}-{i + 1}", headings=";".join(heads), layer="",
                       action=action, effective=lo, end=hi, rate_pct=rate, countries=None, citation=cite,
                       summary="")
    amended = apply_events({h: st.measures[h] for h in heads}, [event])
    st.measures.update(amended)


def _in_list(m: Measure, line: Line) -> bool:
    """Whether a list, footnote or all-products scope takes in a line (to detect an edit that
    changes nothing; the rates themselves come from the engine)."""
    d = line.digits
    if m.except_codes and any(d[:k] in m.except_codes for k in range(1, len(d) + 1)):
        return False
    if m.scope == "all":
        return True
    listed = any(d[:k] in m.codes for k in range(1, len(d) + 1)) if m.scope == "list" else False
    return listed or ((m.scope == "footnote" or m.by_footnote) and m.heading in line.see)


def _product_codes(st: _State, i: int, ev: ProductsEvent) -> frozenset[str]:
    model = st.model
    lines = [ln for ln in products(model.lines[model.revision_on(ev.effective)])]
    out: set[str] = set()
    for term in ev.products:
        if term.startswith("note:"):
            try:
                codes = model.notes.codes(term[5:]) if model.notes is not None else frozenset()
            except KeyError:
                raise st.fail((i, "products"), f"{term}: no such U.S. note subdivision in the notes text") from None
            if not codes:
                raise st.fail((i, "products"), f"{term} lists no product codes")
            out |= codes
            continue
        code = term[5:].replace(".", "")
        if not code.isdigit() or len(code) not in (2, 4, 6, 8, 10):
            raise st.fail((i, "products"), f"{term}: a code is 2 to 10 digits (8517.13.00)")
        if not any(ln.digits.startswith(code) for ln in lines):
            raise st.fail((i, "products"), f"{term} matches no product line of the schedule in force on "
                                           f"{ev.effective} ({model.revisions[model.revision_on(ev.effective)].name})")
        out.add(code)
    return frozenset(out)


def _products(st: _State, i: int, ev: ProductsEvent, cite: str) -> tuple[str, ...]:
    heads = _targets(st, i, ev.headings)
    if len(heads) != 1:
        raise st.fail((i, "headings"), "add_products and remove_products change one heading's list")
    h = heads[0]
    live = _live(st, h, ev.effective, ev.end)
    if not live:
        raise st.fail((i, "headings"), f"{h} is not in force {_fmt(ev.effective, ev.end)}")
    codes = _product_codes(st, i, ev)
    model = st.model
    lines = [ln for ln in products(model.lines[model.revision_on(max(ev.effective, live[0].start))])
             if any(ln.digits.startswith(c) for c in codes)]
    adding = ev.action == "add_products"
    for v in live:
        if v.scope not in ("list", "footnote", "all"):
            raise st.fail((i, "headings"), f"{h} has no product list (its scope is {v.scope!r})")
        if adding and v.scope == "all":
            raise st.fail((i, "headings"), f"{h} already covers every product")
    if adding and all(_in_list(live[0], ln) for ln in lines):
        raise st.fail((i, "products"), f"every product line named is already in {h}'s list")
    if not adding and not any(_in_list(live[0], ln) for ln in lines):
        raise st.fail((i, "products"), f"none of the product lines named is in {h}'s list")
    note = f"; {'+' if adding else '-'}{len(lines)} lines ({cite})"

    def change(p: Measure) -> Measure:
        if adding:
            return replace(p, codes=p.codes | codes, scope="list", by_footnote=p.by_footnote or p.scope == "footnote",
                           except_codes=p.except_codes - codes, start_source=p.start_source + note)
        return replace(p, except_codes=p.except_codes | codes, codes=p.codes - codes,
                       start_source=p.start_source + note)

    _edit(st, h, ev.effective, ev.end, change)
    return (h,)


def _payers(st: _State, i: int, ev: CountryRate, cite: str) -> tuple[str, ...]:
    """More (or fewer) payers of a printed heading for a period."""
    only_new = [f for f in ("rate_pct", "products", "except_products", "except_headings", "layer")
                if f in ev.model_fields_set]
    if only_new:
        raise st.fail((i, only_new[0]), f"{only_new[0]} is only for a heading no revision prints; "
                                        f"{ev.heading} keeps its own (use action: rate to change its rate)")
    h = ev.heading
    live = _live(st, h, ev.effective, ev.end)
    if not live:
        raise st.fail((i, "heading"), f"{h} is not in force {_fmt(ev.effective, ev.end)}")
    add = _countries(st, (i, "countries"), ev.countries) or frozenset()
    remove = _countries(st, (i, "except_countries"), ev.except_countries) or frozenset()
    if all((v.countries is None or add <= v.countries) and not (add & v.excluded_countries)
           and not (remove - v.excluded_countries) for v in live):
        raise st.fail((i, "countries"), f"{h} already takes in these countries {_fmt(ev.effective, ev.end)}")
    note = f"; payers changed ({cite})"

    def change(p: Measure) -> Measure:
        named = None if p.countries is None else p.countries | add
        return replace(p, countries=named, excluded_countries=(p.excluded_countries - add) | remove,
                       start_source=p.start_source + note)

    _edit(st, h, ev.effective, ev.end, change)
    return (h,)


def _new_heading(st: _State, i: int, ev: CountryRate | Section232, cite: str) -> tuple[str, ...]:
    """A heading no revision prints, as a registry record reads it."""
    h = ev.heading
    if h in load_registry():
        raise st.fail((i, "heading"), f"{h} is in the heading registry: give a number no revision prints")
    rate = ev.rate_pct
    if rate is None:
        raise st.fail((i, "rate_pct"), f"a new heading ({h} is printed in no revision) needs rate_pct")
    layer = "s232" if isinstance(ev, Section232) else ev.layer
    payers = _countries(st, (i, "countries"), ev.countries)
    excluded = _countries(st, (i, "except_countries"), ev.except_countries) or frozenset()
    exceptions = tuple(_targets(st, i, ev.except_headings)) if ev.except_headings else ()
    where = st.sf.where("events", i)
    row = {"heading": h, "valid_from": ev.effective.isoformat(), "valid_to": ev.end.isoformat() if ev.end else "",
           "status": "modelled", "layer": layer, "role": "impose",
           "countries": "*" if payers is None else ";".join(sorted(payers)),
           "except_countries": ";".join(sorted(excluded)), "products": ";".join(ev.products),
           "except_products": ";".join(ev.except_products), "condition": "", "citation": cite, "reason": "",
           "basis": getattr(ev, "basis", None) or ""}
    try:
        record = parse_row(row, where)
        who = "any country" if payers is None else ", ".join(sorted(payers)[:6]) + ("..." if len(payers) > 6 else "")
        text = ev.summary or f"Scenario {st.sf.scenario.name}: {rate:g}% on products of {who}"
        pieces = proposed_measure(record, f"The duty provided in the applicable subheading + {rate:g}%", text,
                                  st.model.notes, revision=f"scenario {st.sf.scenario.name}",
                                  revision_index=len(st.model.revisions), exceptions=exceptions)
    except DataError as exc:
        raise BadInput(str(exc), field="scenario") from None
    st.measures[h] = sorted([*st.measures.get(h, []), *pieces], key=lambda v: v.start)
    return (h,)


def _apply(st: _State, i: int, ev: Any) -> Step:
    sc = st.sf.scenario
    lo: date = ev.effective
    hi: date | None = getattr(ev, "end", None)
    _dates(st, i, lo, hi)
    line = st.sf.line("events", i)
    cite = f"scenario {sc.name}, {st.sf.source} line {line}" + (f"; {ev.citation}" if ev.citation else "")
    if ev.action in ("rate", "terminate", "suspend"):
        heads = _targets(st, i, ev.headings)
        for h in heads:  # an earlier event on the heading may be why it is no longer in force
            if any(_overlap((a, b), (lo, hi)) for a, b, _ in st.periods.get(h, [])):
                _claim(st, i, h, lo, hi)
        live = [h for h in heads if _live(st, h, lo, hi)]
        if not live:
            raise st.fail((i, "headings"), f"{', '.join(heads[:4])} not in force {_fmt(lo, hi)}: the event changes nothing")
        if ev.action == "rate":
            live = [h for h in live if any(v.imposes for v in _live(st, h, lo, hi))]
            if not live:
                raise st.fail((i, "headings"), f"{', '.join(heads[:4])} impose no duty (exempting headings have no rate)")
        for h in live:
            _claim(st, i, h, lo, hi if ev.action != "terminate" else None)
        if ev.action == "suspend" and hi is not None:
            note = f"; suspended {_fmt(lo, hi)} ({cite})"

            def suspended(p: Measure) -> Measure:
                return replace(p, status="suspended", start_source=p.start_source + note)

            for h in live:
                _edit(st, h, lo, hi, suspended)
        else:
            _legal(st, i, ev.action, live, lo, hi, getattr(ev, "rate_pct", None), cite)
        touched = tuple(live)
        what = {"rate": f"rate {getattr(ev, 'rate_pct', 0):g}%", "terminate": "ends", "suspend": "suspended"}[ev.action]
    elif isinstance(ev, ProductsEvent):
        touched = _products(st, i, ev, cite)
        for h in touched:
            _claim(st, i, h, lo, hi)
        what = f"{'adds' if ev.action == 'add_products' else 'removes'} {'; '.join(ev.products[:3])}"
    elif isinstance(ev, CountryRate) and ev.heading in st.printed:
        _modelled(st, (i, "heading"), ev.heading)
        _claim(st, i, ev.heading, lo, hi)
        touched = _payers(st, i, ev, cite)
        what = f"payers + {';'.join(ev.countries)}" + (f" - {';'.join(ev.except_countries)}" if ev.except_countries else "")
    else:
        _claim(st, i, ev.heading, lo, hi)
        touched = _new_heading(st, i, ev, cite)
        what = f"new {'Section 232 action' if isinstance(ev, Section232) else 'country rate'} {ev.rate_pct:g}%"
    text = f"{', '.join(touched[:3])}{' ...' if len(touched) > 3 else ''}: {what}, {_fmt(lo, hi)}"
    return Step(line, ev.action, text, touched, lo, hi)


def _back_to_law(law: dict[str, list[Measure]], amended: dict[str, list[Measure]]) -> date | None:
    """The first day from which every version differing from the law's has ended: the latest
    end of the versions either side has and the other has not (None: one never ends)."""
    until: date | None = None
    for h, versions in amended.items():
        old = law.get(h, [])
        if versions is old:
            continue
        mine, theirs = {id(v) for v in versions}, {id(v) for v in old}
        for v in (*(v for v in versions if id(v) not in theirs), *(v for v in old if id(v) not in mine)):
            if v.end is None:
                return None
            until = v.end if until is None else max(until, v.end)
    return until


def compile_scenario(sf: ScenarioFile, engine: Engine, law: Panel | None = None) -> Compiled:
    """Check every event against the law on file and apply them all to a copy of the model."""
    model = engine.model
    printed = first_printed((r.name, hs) for r, hs in zip(model.revisions, model.headings, strict=True))
    st = _State(sf, engine, dict(model.measures), printed)
    ids: dict[str, int] = {}
    steps = []
    for i, ev in enumerate(sf.scenario.events):
        if ev.id is not None:
            if ev.id in ids:
                raise st.fail((i, "id"), f"id {ev.id!r} is used already at line {ids[ev.id]}")
            ids[ev.id] = sf.line("events", i)
        steps.append(_apply(st, i, ev))
    tag = f" [scenario {sf.scenario.name}]"
    for h, versions in st.measures.items():
        old = model.measures.get(h)
        if versions is old:
            continue
        originals = {id(v) for v in old or ()}
        st.measures[h] = [v if id(v) in originals or v.revision.startswith("scenario ")
                          else replace(v, revision=v.revision + tag) for v in versions]
    first = min(s.first for s in steps)
    amended = replace(model, measures=st.measures)
    since = max(b for b in amended.boundaries() if b <= first)
    until = _back_to_law(model.measures, st.measures)
    law_key = [law.meta.get("code"), law.meta.get("intervals")] if law is not None else None
    key = hashlib.sha256(json.dumps([FORMAT, sf.scenario.model_dump(mode="json"), law_key], sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    return Compiled(sf, st.measures, steps, since, key, until)


# ---- building and comparing ----------------------------------------------------------------
def scenario_panel(engine: Engine, law: Panel, home: Path, compiled: Compiled, progress: Any = None) -> Panel:
    """The scenario's panel (built from its first day on, or reused from an earlier run)."""
    check_current(engine, law)
    amended = Engine(replace(engine.model, measures=compiled.measures))
    sc = compiled.file.scenario
    describe = {"scenario": {"name": sc.name, "title": sc.title, "source": compiled.file.source,
                             "events": [s.to_json() for s in compiled.steps]}}
    folder = home / "scenarios" / f"{sc.name}-{compiled.key[:10]}"
    panel = build_variant(amended, law, folder, compiled.key, describe, since=compiled.since, until=compiled.until,
                          progress=progress)
    for old in folder.parent.glob(f"{sc.name}-*"):  # earlier versions of the file, or of the law
        if old != folder and old.is_dir() and re.fullmatch(rf"{re.escape(sc.name)}-[0-9a-f]{{10}}", old.name):
            shutil.rmtree(old, ignore_errors=True)
    return panel


@dataclass
class Comparison:
    """The scenario's effective rates beside the law's, and what changes."""

    compiled: Compiled
    law: Effective
    scenario: Effective
    changes: list[Changes]

    def difference(self, by: str = "overall") -> list[dict[str, Any]]:
        """Law, scenario and difference (scenario - law) per date (x key) for each measure."""
        law = {(r["date"], r.get("key")): r for r in self.law.rows(by)}
        out = []
        for r in self.scenario.rows(by):
            old = law.get((r["date"], r.get("key")))
            row: dict[str, Any] = {"date": r["date"], "until": r["until"], "key": r.get("key"),
                                   "weight_musd": r["weight_musd"]}
            for m in ("mfn", *ADD_LAYERS, "additional", "total"):
                a = old[m] if old else None
                b = r[m]
                row[f"law_{m}"], row[f"scenario_{m}"] = a, b
                row[f"diff_{m}"] = None if a is None or b is None else b - a
            out.append(row)
        return out

    def to_json(self, by: str = "partner") -> dict[str, Any]:
        def clean(v: Any) -> Any:
            return v.isoformat() if isinstance(v, date) else v

        sc = self.compiled.file.scenario
        return {
            "scenario": {"name": sc.name, "title": sc.title, "citation": sc.citation, "source": self.compiled.file.source,
                         "events": [s.to_json() for s in self.compiled.steps],
                         "first_day": self.compiled.since.isoformat()},
            "label": f"what-if scenario '{sc.name}' (hypothetical events, not the law) beside the law on file; "
                     + self.law.label,
            "by": by, "units": "percent of customs value",
            "overall": [{k: clean(v) for k, v in r.items()} for r in self.difference("overall")],
            "rows": [{k: clean(v) for k, v in r.items()} for r in self.difference(by)] if by != "overall" else [],
            "changes": [c.to_json() for c in self.changes],
        }


def compare(law: Panel, scen: Panel, compiled: Compiled, weights: Weights, start: date, end: date | None = None,
            **options: Any) -> Comparison:
    """Effective rates of both panels on the same days, and the changed pairs on the asked date
    (or, for a series, on each event's first day inside it)."""
    hi = end or start
    cuts_l = boundaries(scen, start, hi) if end is not None else None
    cuts_s = boundaries(law, start, hi) if end is not None else None
    a = compute(law, weights, start, end, cuts=cuts_l, **options)
    b = compute(scen, weights, start, end, cuts=cuts_s, **options)
    days = [start] if end is None else sorted({s.first for s in compiled.steps if start <= s.first <= hi})[:5]
    return Comparison(compiled, a, b, [changes(law, scen, weights, d) for d in days])


def run(text: str | bytes, source: str, engine: Engine, law: Panel, home: Path, weights: Weights,
        start: date | None, end: date | None, *, progress: Any = None, **options: Any) -> Comparison:
    """Read, check, build and compare one scenario (the CLI's and the API's use case)."""
    from tariffstack.stats.scenario_file import parse

    sf = parse(text, source)
    compiled = compile_scenario(sf, engine, law)
    first = min(s.first for s in compiled.steps)
    lo = (start or first) if end is None else (start or law.first_date)
    for d in (lo, end):
        if d is not None:
            law.check_date(d)
    scen = scenario_panel(engine, law, home, compiled, progress)
    return compare(law, scen, compiled, weights, lo, end, **options)
