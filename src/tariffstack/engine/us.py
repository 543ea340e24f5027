"""The rate engine: every duty layer for one product, origin and entry date, with its source.

For a date it takes the product line in force, then walks every Chapter 99 measure in force and
asks: does it name this origin, does its scope hold this product, does any heading it excepts
apply, do the inputs it depends on (loading date, USMCA claim...) hold? Imposing measures give
layers; exempting measures that block them are shown as exemptions, so each number can be traced
to the text that imposes or removes it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tariffstack.config import default_data_dir, default_home
from tariffstack.errors import BadInput, DateOutOfRange, UnknownProduct
from tariffstack.law import countries
from tariffstack.law.events import StackingRule, load_de_minimis, load_stacking
from tariffstack.law.measures import Measure
from tariffstack.law.rates import Rate, parse_rate, special_rate_for
from tariffstack.law.store import Model, load_model
from tariffstack.models import LAYER_ORDER, DeMinimis, Layer, LayerName, RateResult, SearchHit
from tariffstack.sources.schedule import Line, digits, dotted

HTS_INPUT_RE = re.compile(r"^\d{4}(?:\.?\d{2}){0,3}$")
SUM_LAYERS_MAX: frozenset[LayerName] = frozenset({"s232"})


USMCA_PARTNERS = countries.GROUPS["USMCA"] - {"US"}  # the partners whose goods can claim it


@dataclass(frozen=True, slots=True)
class Inputs:
    """Facts about a shipment that the law's scope depends on; defaults are documented."""

    loading_date: date | None = None          # None: not in transit before any cut-off
    usmca_claimed: bool = False               # claim of USMCA preference (general note 11)
    metal_content_share: float | None = None  # share of value that is 232 metal; None: whole value
    us_content_share: float | None = None     # share of value of U.S. content; None: none
    melt_pour_country: str | None = None
    program: str | None = None                # special program code for column 1 Special
    donation: bool = False
    informational: bool = False
    value_usd: float | None = None


@dataclass
class _Ctx:
    line: Line
    origin: str
    day: date
    inputs: Inputs
    mfn_pct: float | None
    memo: dict[str, bool] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)   # heading -> the heading that excepted it
    measures: list[Measure] | None = None   # the measures that can apply (None: all in force)
    headings: frozenset[str] | None = None  # their headings: an exception outside them cannot apply
    imposing: dict[str, list[str]] = field(default_factory=dict)  # layer -> headings imposing it here


_NO_LINE = Line("", "", 0, "", (), (), "", "", "", "", ())  # conditions never read the line


def parse_hts(code: str) -> str:
    """Digits of a user-typed HTS code, or a specific error."""
    text = (code or "").strip()
    if not HTS_INPUT_RE.match(text):
        raise BadInput(
            f"malformed HTS code {code!r}: expected 4 to 10 digits such as 8517.13.0000 or 85171300"
        )
    d = digits(text)
    if len(d) not in (4, 6, 8, 10):
        raise BadInput(f"malformed HTS code {code!r}: it has {len(d)} digits (expected 8 or 10)")
    return d


def parse_date(text: str | date) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise BadInput(f"bad date {text!r}: expected YYYY-MM-DD, e.g. 2025-05-02") from exc


class Engine:
    """Answers rate questions from a compiled :class:`Model`."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._search: Any = None
        self._active_cache: dict[date, list[Measure]] = {}
        self._by_heading: dict[date, dict[str, Measure]] = {}
        self._rules: dict[tuple[str, date], list[StackingRule]] = {}
        # between two boundaries (every version start and end, among others) the same versions hold
        self._versions_change = model.boundaries()
        self._last_date = model.last_date  # asked on every point query: computed once

    @classmethod
    def load(cls, data_dir: Path | None = None, home: Path | None = None, *, progress: object | None = None) -> Engine:
        return cls(load_model(data_dir or default_data_dir(), home or default_home(), progress=progress))

    # ---- coverage -------------------------------------------------------------------------
    def newest(self) -> tuple[str, date | None]:
        """The newest revision on file and its publication date (None when it has none)."""
        rev = self.model.revisions[-1]
        return rev.name, rev.published

    def staleness(self, asked: date) -> str:
        """The warning an answer past the data carries: which law answered, and how old it is."""
        name, published = self.newest()
        last = self.model.last_date
        return (f"{asked.isoformat()} is after the newest law on file ({name}, data to {last.isoformat()}, "
                f"{(asked - last).days} days earlier): answered as if nothing changed since "
                "(--assume-unchanged); run 'tariffstack fetch' for newer revisions")

    def check_date(self, day: date) -> None:
        first, last = self.model.first_date, self.model.last_date
        if day < first:
            raise DateOutOfRange(
                f"date {day.isoformat()} is outside the data: revisions cover "
                f"{first.isoformat()} to {last.isoformat()}"
            )
        if day > last:
            name, published = self.newest()
            when = f"published {published.isoformat()}" if published else "no publication date on file"
            raise DateOutOfRange(
                f"date {day.isoformat()} is outside the data, after it: the newest revision on file is {name} "
                f"({when}; rates known to {last.isoformat()}). Run 'tariffstack fetch' for newer "
                "revisions, or pass --assume-unchanged to answer with the newest law on file (flagged)"
            )

    def line(self, code: str, day: date) -> Line:
        """The product line in force on a day, or a specific error saying when it existed."""
        d = parse_hts(code)
        self.check_date(day)
        idx = self.model.revision_on(day)
        lines = self.model.lines[idx]
        found = lines.get(d) or (lines.get(d[:8]) if len(d) == 10 and d.endswith("00") else None)
        if found is not None and (len(d) == 10 or len(found.digits) == len(d)):
            return found
        if found is not None:
            raise UnknownProduct(f"{dotted(d)} is a heading or subheading, not a product line: give 10 digits")
        seen = [k for k, ls in enumerate(self.model.lines) if d in ls]
        if seen:
            dated = (f"HTS {dotted(d)} is not in the schedule in force on {{day}} "
                     f"({self.model.revisions[idx].name}); it is in {self._runs(seen)}")
            raise UnknownProduct(dated.format(day=day.isoformat()), dated=dated)
        near = sorted(k for k in lines if k.startswith(d[:6]) and len(k) == 10)[:5]
        hint = f"; lines under {dotted(d[:6])}: {', '.join(dotted(k) for k in near)}" if near else ""
        raise UnknownProduct(f"unknown HTS code {dotted(d)}{hint}")

    def _runs(self, revisions: list[int]) -> str:
        """Revisions (sorted indices) as runs: "2025 basic to 2026 rev 1 and 2026 rev 3 to 2026 rev 10"."""
        names = [r.name for r in self.model.revisions]
        runs: list[list[int]] = []
        for k in revisions:
            if runs and k == runs[-1][-1] + 1:
                runs[-1].append(k)
            else:
                runs.append([k])
        return " and ".join(names[r[0]] if len(r) == 1 else f"{names[r[0]]} to {names[r[-1]]}" for r in runs)

    # ---- the stack ------------------------------------------------------------------------
    def _span(self, day: date) -> date:
        """The first day of the span of days on which the same heading versions are in force."""
        k = bisect.bisect_right(self._versions_change, day)
        return self._versions_change[k - 1] if k and day <= self._last_date else day

    def active(self, day: date) -> list[Measure]:
        """The heading versions in force on a day (cached per span of identical days)."""
        key = self._span(day)
        found = self._active_cache.get(key)
        if found is None:
            found = []
            for h in self.model.measures:
                m = self.model.measure_on(h, day)
                if m is not None:
                    found.append(m)
            if len(self._active_cache) > 512:
                self._active_cache.clear()
                self._by_heading.clear()
            self._active_cache[key] = found
            self._by_heading[key] = {m.heading: m for m in found}
        return found

    def on(self, heading: str, day: date) -> Measure | None:
        """The version of a heading in force on a day (``Model.measure_on``, cached per day)."""
        found = self._by_heading.get(self._span(day))
        if found is None:  # not built yet, or cleared by another thread meanwhile
            found = {m.heading: m for m in self.active(day)}
        return found.get(heading)

    def rules_for(self, origin: str, day: date) -> list[StackingRule]:
        """The 'does not apply together' stacking rules binding an origin on a day (cached)."""
        key = (origin, day)
        found = self._rules.get(key)
        if found is None:
            if len(self._rules) > 65536:
                self._rules.clear()
            found = self._rules[key] = [
                r for r in load_stacking()
                if (r.effect == "not_applied" or (r.effect == "applies_to_remainder"
                                                  and r.share_input == "metal_content_share"))
                and r.in_force(origin, day)
            ]
        return found

    def rate(self, code: str, origin: str, on: date | str, inputs: Inputs | None = None, *,
             assume_unchanged: bool = False, detail: bool = True, **kw: Any) -> RateResult:
        """The duty stack for one product, origin and entry date.

        A date after the newest revision on file is an error unless ``assume_unchanged``: then
        the law on file's last day answers, and the result says so in its notes. Without
        ``detail`` the layers lack ``in_force_since`` and the notes the headings not evaluated
        (a timeline asks on every boundary and shows neither)."""
        asked = parse_date(on)
        day = asked
        stale: list[str] = []
        if assume_unchanged and asked > self.model.last_date:
            day = self.model.last_date
            stale.append(self.staleness(asked))
        inputs = inputs or Inputs(**kw)
        country = countries.resolve(origin)
        line = self.line(code, day)
        rev = self.model.revisions[self.model.revision_on(day)]
        mfn_layer, mfn_rate = self._mfn(line, country.iso2, rev.name, inputs)
        notes: list[str] = stale
        layers = [mfn_layer, *self.additional(line, country.iso2, day, inputs, mfn_rate, notes)]
        if detail:
            layers = [self._with_since(x, code, country.iso2, inputs) for x in layers]
        layers.sort(key=lambda x: (LAYER_ORDER.index(x.layer), x.exempt, x.heading or ""))
        additional = sum(x.rate_pct or 0.0 for x in layers if x.layer != "mfn" and not x.exempt)
        base = mfn_layer.rate_pct or 0.0
        specific = tuple(x.specific for x in layers if x.specific and not x.exempt)
        if mfn_layer.rate_pct is None:
            notes.append(f"MFN rate text {mfn_rate.text!r} could not be computed as a percent")
        if detail:
            notes.extend(self.not_evaluated(line, country.iso2, day, inputs))
        return RateResult(
            hts10=line.hts10,
            description=line.description,
            path=line.path,
            origin=country.iso2,
            origin_name=country.name,
            entry_date=asked,
            revision=rev.name,
            layers=tuple(layers),
            total_additional_pct=round(additional, 4),
            total_pct=round(base + additional, 4),
            specific=specific,
            notes=tuple(notes),
            de_minimis=self.de_minimis(country.iso2, day, inputs.value_usd) if inputs.value_usd is not None else None,
            inputs=_inputs_json(inputs),
        )

    def _with_since(self, layer: Layer, code: str, origin: str, inputs: Inputs) -> Layer:
        """The layer with the first day of its heading's uninterrupted run on this product.

        A heading's current version may have started recently (its text changed, a revision
        restated it) although the duty applied before: walk back version by version while the
        same heading applied the day before.
        """
        if layer.exempt or layer.layer == "mfn" or layer.effective_from is None:
            return layer
        day = layer.effective_from
        while day > self.model.first_date:
            prev = day - timedelta(days=1)
            try:
                line = self.line(code, prev)
            except UnknownProduct:
                break
            _, rate = self.mfn(line, origin, prev, inputs)
            same = next((x for x in self.additional(line, origin, prev, inputs, rate, [])
                         if x.heading == layer.heading and not x.exempt), None)
            if same is None or same.effective_from is None or same.effective_from >= day:
                break
            day = same.effective_from
        return replace(layer, in_force_since=day)

    def not_evaluated(self, line: Line, origin: str, day: date, inputs: Inputs) -> list[str]:
        """One note per heading in force that could concern this product and origin but that the
        registry does not model (its reach or condition cannot be established)."""
        ctx = _Ctx(line, origin, day, inputs, None)
        out = []
        for m in self.active(day):
            if m.unevaluated is None or not self.country_ok(m, origin):
                continue
            if m.scope != "unknown" and not self._product_in(m, ctx):
                continue
            out.append(f"{m.heading} not evaluated: {m.unevaluated}")
        return sorted(set(out))

    def additional(self, line: Line, origin: str, day: date, inputs: Inputs, mfn_rate: Rate,
                   notes: list[str], measures: Iterable[Measure] | None = None) -> list[Layer]:
        """Every layer beyond MFN (imposed, exempted or stacked out) for one line, origin and day.

        ``measures`` narrows the walk to the measures that can touch this line and origin; the
        panel passes them to evaluate each distinct situation once. Default: all in force.
        """
        narrowed = None if measures is None else list(measures)
        ctx = _Ctx(line, origin, day, inputs, mfn_rate.ad_valorem_pct if mfn_rate.parsed else None,
                   measures=narrowed,
                   headings=None if narrowed is None else frozenset(m.heading for m in narrowed))
        layers: list[Layer] = []
        by_layer: dict[LayerName, list[tuple[Measure, float | None, str | None, str | None]]] = {}
        for m in self.active(day) if narrowed is None else narrowed:
            if not m.imposes:
                continue
            if not self._applies(m, ctx):
                continue
            pct, spec, applies_to = self._amount(m, ctx)
            by_layer.setdefault(m.layer, []).append((m, pct, spec, applies_to))
        stacked_out = self._stack(by_layer, ctx)
        for name, items in by_layer.items():
            named = [x for x in items if x[0].countries is not None]
            if named and len(named) < len(items):
                items = named  # a country-specific heading displaces the any-country one
            if name in SUM_LAYERS_MAX and len(items) > 1:
                items = [max(items, key=lambda x: x[1] or 0.0)]
            for m, pct, spec, applies_to in items:
                layers.append(self._layer(m, pct, spec, applies_to))
        layers.extend(self._exemptions(ctx))
        layers.extend(stacked_out)
        self._apply_us_content(layers, inputs, notes)
        return layers

    def mfn(self, line: Line, origin: str, day: date, inputs: Inputs | None = None) -> tuple[Layer, Rate]:
        """The MFN layer (column 1 General, column 2 or a Special program) and its parsed rate."""
        rev = self.model.revisions[self.model.revision_on(day)]
        return self._mfn(line, origin, rev.name, inputs or Inputs())

    def _stack(self, by_layer: dict[LayerName, list[tuple[Measure, float | None, str | None, str | None]]],
               ctx: _Ctx) -> list[Layer]:
        """Drop layers that a stacking rule (data/stacking.csv) says do not apply together.

        A rule that lets the other duty apply only to the value beyond the metal content drops
        it when the whole value is metal (the default) and scales it by the rest otherwise.
        """
        removed: list[Layer] = []
        for rule in self.rules_for(ctx.origin, ctx.day):
            when = [m for m, *_ in by_layer.get(rule.when_layer, []) if rule.matches_when(m.layer, m.heading)]  # type: ignore[call-overload]
            if not when:
                continue
            then_items = by_layer.get(rule.then_layer, [])  # type: ignore[call-overload]
            share = ctx.inputs.metal_content_share if rule.effect == "applies_to_remainder" else None
            if share is not None:
                # the other duty applies to the value that is not metal content
                by_layer[rule.then_layer] = [  # type: ignore[index]
                    (m, None if pct is None else round(pct * (1 - share), 4), spec,
                     f"non-metal content ({1 - share:.0%} of value; {rule.citation})")
                    if rule.matches_then(m.layer, m.heading) and m not in when else (m, pct, spec, to)
                    for m, pct, spec, to in then_items
                ]
                continue
            keep = [x for x in then_items if not rule.matches_then(x[0].layer, x[0].heading) or x[0] in when]
            for m, *_ in (x for x in then_items if x not in keep):
                removed.append(Layer(
                    layer=m.layer, rate_pct=0.0, specific=None, heading=m.heading, revision=m.revision,
                    effective_from=m.start, effective_to=m.validity.last, exempt=True,
                    reason=f"{m.heading} does not apply to an article subject to {when[0].heading} "
                           f"({rule.citation}: \"{rule.quote}\").",
                    source=rule.citation, summary=f"{m.heading} not applied with {when[0].heading}",
                ))
            if rule.then_layer in by_layer:
                by_layer[rule.then_layer] = keep
        return removed

    def _mfn(self, line: Line, origin: str, rev: str, inputs: Inputs) -> tuple[Layer, Rate]:
        column, text = "column 1 General", line.general
        if origin in countries.GROUPS.get("GN3B", frozenset()):
            column, text = "column 2 (general note 3(b))", line.other
        rate = parse_rate(text)
        program = inputs.program
        if program is None and inputs.usmca_claimed and origin in USMCA_PARTNERS:
            # a USMCA claim is a claim of program S (general note 11) for the ordinary duty too
            usmca = special_rate_for(line.special, "S")
            if usmca is not None:
                column, rate = "column 1 Special, program S (USMCA claimed)", usmca
        if program and origin not in countries.GROUPS.get("GN3B", frozenset()):
            special = special_rate_for(line.special, program)
            if special is None:
                raise BadInput(
                    f"program {program!r} gives no special rate for {line.hts} "
                    f"(column 1 Special: {line.special or 'none'})", field="program"
                )
            column, rate = f"column 1 Special, program {program}", special
        spec = " + ".join(p.text for p in rate.specific) or None
        pct = rate.ad_valorem_pct if rate.parsed else None
        return (
            Layer(
                layer="mfn", rate_pct=pct, specific=spec, heading=line.rate_line, revision=rev,
                effective_from=None, effective_to=None,
                reason=f"{column} rate of {line.rate_line}: {rate.text or 'none printed'}",
                source=f"HTS {rev}, {line.rate_line}", summary=f"{column} rate",
            ),
            rate,
        )

    @staticmethod
    def country_ok(m: Measure | None, origin: str) -> bool:
        """Whether a measure's country terms (named, any, excluded) take in this origin."""
        if m is None:
            return False
        if m.countries is not None and origin not in m.countries:
            return False
        return origin not in m.excluded_countries

    def _in_scope(self, m: Measure, ctx: _Ctx) -> bool:
        """Whether the product is in the heading's scope and the heading's condition holds."""
        return self._product_in(m, ctx) and (m.condition is None or self._condition(m, ctx))

    def _product_in(self, m: Measure, ctx: _Ctx) -> bool:
        s, d = m.scope, ctx.line.digits
        if m.except_codes and any(d[:k] in m.except_codes for k in range(1, len(d) + 1)):
            return False
        if s == "all":
            return True
        if s == "footnote":
            return m.heading in ctx.line.see
        if s == "list":
            return any(d[:k] in m.codes for k in range(1, len(d) + 1)) or (
                m.by_footnote and m.heading in ctx.line.see)
        if s.startswith("layer:"):
            layer = s.split(":", 1)[1]
            found = ctx.imposing.get(layer)
            if found is None:  # once per query: many headings are scoped "the goods that pay layer X"
                ctx.imposing[layer] = found = []
                found.extend(
                    o.heading for o in (self.active(ctx.day) if ctx.measures is None else ctx.measures)
                    if o.layer == layer and o.imposes and not o.scope.startswith("layer:") and self._applies(o, ctx))
            return any(h != m.heading for h in found)
        return False

    def inert(self, m: Measure, inputs: Inputs, day: date) -> bool:
        """Whether a measure can apply to no product at all with these inputs on this day.

        Headings the registry does not model never apply; conditions (donation, USMCA claim,
        in transit...) depend only on the inputs and the day, not on the product or origin.
        """
        if m.unevaluated is not None or m.scope == "unknown":
            return True
        return m.condition is not None and not self._condition(m, _Ctx(_NO_LINE, "", day, inputs, None))

    def _condition(self, m: Measure, ctx: _Ctx) -> bool:
        c, inp = m.condition, ctx.inputs
        if c == "donation":
            return inp.donation
        if c == "informational":
            return inp.informational
        if c == "usmca":
            return inp.usmca_claimed
        if c == "us_content":
            return inp.us_content_share is not None and inp.us_content_share >= 0.2
        if c == "usmca_us_content":  # the declared share stands for Commerce's approval (note 33(d), 38(d))
            return inp.usmca_claimed and inp.us_content_share is not None
        if c == "in_transit":
            return self._in_transit(m, ctx)
        if c == "us_melt":
            return inp.melt_pour_country == "US"
        return False

    def _in_transit(self, m: Measure, ctx: _Ctx) -> bool:
        lb, inp = m.loaded_before, ctx.inputs
        if lb is None or inp.loading_date is None or inp.loading_date >= lb:
            return False
        return m.entered_before is None or ctx.day < m.entered_before

    def _applies(self, m: Measure, ctx: _Ctx) -> bool:
        key = m.heading
        if key in ctx.memo:
            return ctx.memo[key]
        ctx.memo[key] = False  # guards against cycles of mutual exceptions
        if m.unevaluated is not None:
            return False
        ok = self.country_ok(m, ctx.origin) and self._in_scope(m, ctx) and self._mfn_ok(m, ctx)
        if ok and m.imposes and m.condition != "in_transit" and self._in_transit(m, ctx):
            ctx.blocked[m.heading] = "in-transit"
            ok = False
        if ok:
            for e in m.exceptions:
                if ctx.headings is not None and e not in ctx.headings:
                    continue
                other = self.on(e, ctx.day)
                if other is not None and self._applies(other, ctx) and not self._content_split(m, other, ctx):
                    ctx.blocked.setdefault(m.heading, e)
                    ok = False
                    break
        ctx.memo[key] = ok
        return ok

    def _content_split(self, m: Measure, exception: Measure, ctx: _Ctx) -> bool:
        """Whether an exception for "articles subject to layer X" only splits the value.

        Heading 9903.01.33 (and Brazil's 9903.01.83) exempt the articles that pay Section 232,
        but from June 4, 2025 note 2(v)(vi)-(ix) charges the reciprocal duty on the non-metal
        content of a steel or aluminum derivative. When the importer declares the metal content,
        the exception leaves ``m`` in place and the ``applies_to_remainder`` stacking rule
        charges it on the rest of the value; without a share the whole value is metal (CBP's
        rule) and the exception blocks ``m`` entirely.
        """
        if ctx.inputs.metal_content_share is None or not exception.exempts or not exception.scope.startswith("layer:"):
            return False
        layer = exception.scope.split(":", 1)[1]
        imposing = ctx.imposing.get(layer, [])
        return any(
            r.effect == "applies_to_remainder" and r.share_input == "metal_content_share"
            and r.matches_then(m.layer, m.heading) and any(r.matches_when(layer, h) for h in imposing)
            for r in self.rules_for(ctx.origin, ctx.day)
        )

    def _mfn_ok(self, m: Measure, ctx: _Ctx) -> bool:
        if m.mfn_condition is None:
            return True
        op, threshold = m.mfn_condition
        mfn = ctx.mfn_pct or 0.0
        return mfn >= threshold if op == "ge" else mfn < threshold

    def _amount(self, m: Measure, ctx: _Ctx) -> tuple[float | None, str | None, str | None]:
        d = m.duty
        spec = " + ".join(p.text for p in d.specific) or None
        if d.kind == "floor":
            return max(0.0, (d.pct or 0.0) - (ctx.mfn_pct or 0.0)), spec, None
        pct = d.pct
        applies_to = None
        if d.content_basis == "non-U.S." and pct is not None:
            us = ctx.inputs.us_content_share or 0.0
            return pct * (1 - us), spec, f"non-U.S. content ({1 - us:.0%} of value)"
        if d.content_basis and pct is not None:
            share = ctx.inputs.metal_content_share
            if share is not None:
                applies_to = f"{d.content_basis} content ({share:.0%} of value)"
                pct = pct * share
            else:
                applies_to = f"{d.content_basis} content (assumed 100% of value; give metal_content_share)"
        return pct, spec, applies_to

    def _layer(self, m: Measure, pct: float | None, spec: str | None, applies_to: str | None) -> Layer:
        return Layer(
            layer=m.layer, rate_pct=None if pct is None else round(pct, 4), specific=spec,
            heading=m.heading, revision=m.revision, effective_from=m.start,
            effective_to=m.validity.last, reason=self._reason(m, pct), source=m.family.citation,
            applies_to=applies_to, summary=m.family.summary,
        )

    def _reason(self, m: Measure, pct: float | None) -> str:
        who = "products of " + ", ".join(sorted(m.countries)) if m.countries is not None and len(m.countries) <= 4 else (
            "products of the named countries" if m.countries is not None else "products of any country"
        )
        how = {
            "all": "",
            "footnote": f" whose product line footnote cites {m.heading}",
            "list": " listed in " + (", ".join(f"U.S. note {r}" for r in m.note_refs) or "the heading text"),
        }.get(m.scope, "")
        amount = f"{pct:g}%" if pct is not None else m.duty.text
        if m.duty.kind == "floor":
            amount = f"{pct:g}% (raises the total to {m.duty.pct:g}%)"
        return f"{m.family.summary}: {amount} on {who}{how} ({m.start_source})."

    def _exemptions(self, ctx: _Ctx) -> list[Layer]:
        """Exempting headings that blocked an imposing one, shown at rate 0."""
        out: list[Layer] = []
        for blocked, by in ctx.blocked.items():
            m = self.on(blocked, ctx.day)
            if m is None or not m.imposes:
                continue
            if by == "in-transit":
                out.append(Layer(
                    layer=m.layer, rate_pct=0.0, specific=None, heading=m.heading, revision=m.revision,
                    effective_from=m.start, effective_to=m.validity.last, exempt=True,
                    reason=f"{m.heading} does not apply: goods loaded before {m.loaded_before} and in transit",
                    source=m.family.citation, summary=f"{m.heading} not applied: in transit",
                ))
                continue
            e = self.on(by, ctx.day)
            if e is None or not e.exempts:
                continue
            out.append(Layer(
                layer=m.layer, rate_pct=0.0, specific=None, heading=e.heading, revision=e.revision,
                effective_from=e.start, effective_to=e.validity.last, exempt=True,
                reason=f"Exempt from {m.heading} ({m.duty.text}) under {e.heading}: {e.family.summary} ({e.start_source}).",
                source=e.family.citation, summary=f"exempt from {m.heading}: {e.family.summary}",
            ))
        # one exemption line per (layer, exempting heading)
        seen: set[tuple[str, str | None]] = set()
        uniq = []
        for x in out:
            if (x.layer, x.heading) not in seen:
                seen.add((x.layer, x.heading))
                uniq.append(x)
        return uniq

    def _apply_us_content(self, layers: list[Layer], inputs: Inputs, notes: list[str]) -> None:
        share = inputs.us_content_share
        if share is None or share < 0.2:
            return
        for i, x in enumerate(layers):
            if x.layer in ("ieepa_reciprocal",) and not x.exempt and x.rate_pct:
                layers[i] = Layer(**{**{k: getattr(x, k) for k in x.__slots__},
                                     "rate_pct": round(x.rate_pct * (1 - share), 4),
                                     "applies_to": f"non-U.S. content ({1 - share:.0%} of value)"})
        notes.append("U.S. content of at least 20% is outside the reciprocal duty (heading 9903.01.34)")

    # ---- other questions ------------------------------------------------------------------
    def de_minimis(self, origin: str, on: date | str, value_usd: float | None = None) -> DeMinimis:
        day = parse_date(on)
        iso = countries.resolve(origin).iso2
        rules = [r for r in load_de_minimis() if r.covers(iso, day)]
        # the most specific rule (named countries) and the latest start wins
        rules.sort(key=lambda r: (r.countries is not None, r.effective))
        if not rules:
            return DeMinimis(
                eligible=None if value_usd is None else value_usd <= 800.0, threshold_usd=800.0,
                reason="$800 administrative exemption of 19 U.S.C. 1321", source="19 U.S.C. 1321(a)(2)(C)",
            )
        r = rules[-1]
        eligible: bool | None
        if not r.eligible:
            eligible = False if value_usd is not None else False
        else:
            eligible = None if value_usd is None else value_usd <= r.threshold_usd
        return DeMinimis(eligible=eligible, threshold_usd=r.threshold_usd, reason=r.summary, source=r.citation)

    def products(self, on: date | str) -> list[str]:
        day = parse_date(on)
        self.check_date(day)
        from tariffstack.sources.schedule import products

        return [ln.hts10 for ln in products(self.model.lines[self.model.revision_on(day)])]

    def search(self, query: str, limit: int = 20, on: date | str | None = None) -> list[SearchHit]:
        from tariffstack.engine.search import SearchIndex

        if self._search is None:
            self._search = SearchIndex(self.model)
        return self._search.search(query, limit=limit)  # type: ignore[no-any-return]


def _inputs_json(inputs: Inputs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in Inputs.__slots__:
        v = getattr(inputs, k)
        if v is None or v is False:
            continue
        out[k] = v.isoformat() if isinstance(v, date) else v
    return out
