"""China's schedule on U.S. goods: the duty of an HS6 or HS8 code on a Beijing-time day, layer by layer.

Two sources, read by ``sources/china.py``, and neither is complete. The 税委会 notice table says
what was imposed, from which minute, with which in-transit rule, but gives no base rate and its
product lists are only partly transcribed. The WTO export gives China's applied rate on nine dates,
but only per HS6 (an average over China's 8-digit lines) and only on those dates. So each layer
follows the source that knows it (docs/CHINA.md):

- ``base``: the WTO figure before the 2025 notices (MFN plus the 2018-19 retaliation still applied);
  from the 2026 schedule (No.12) on, re-read from the first WTO date of that period.
- ``cn_list`` (No.1, No.2): at HS6 the rise the WTO data show on the notice's date (a fraction of
  the rate when only some lines are listed); at HS8 the transcribed line decides, else the WTO rise
  when it is all or nothing, else the layer is uncertain (``certain=False``, not in the total).
- ``cn_all`` (No.4-No.7, No.10): the notices: level, minute, in-transit rule, the 24% suspension.
- ``wto_residual``: on each WTO date the HS6 answer adds up to the WTO figure; any part the notices
  do not explain shows as this layer (the WTO figure, the measured rate, wins at HS6).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tariffstack.engine.cn_parse import (
    CnInputs,
    Describe,
    When,
    day_of,
    describe_from_us,
    fmt_moment,
    fraction,
    load_press_entries,
    moment,
    parse_cn_code,
    parse_when,
    started,
    status_of,
)
from tariffstack.errors import BadInput, DataError, DateOutOfRange, UnknownProduct
from tariffstack.law import countries
from tariffstack.models import CnLayer, CnRateResult
from tariffstack.sources.china import Annex, AnnexLine, ChinaTariffs, Notice

__all__ = ["ChinaEngine", "CnInputs", "When", "describe_from_us", "parse_cn_code", "parse_when", "status_of"]

# The WTO export was downloaded in June 2026 (shared/china/SOURCES.md, after the repository's
# DATA_PROVENANCE.md): the rates of its last change date (2026-05-01) were still current then, so
# answers run to the first day of that month and no further.
DATA_CURRENT_TO = dt.date(2026, 6, 1)
DATA_CURRENT_WHY = "the WTO export was downloaded in June 2026; its last change date is 2026-05-01"
TOL = 0.005

_STOP_RE = re.compile(r"stop measures of (No\.\d+)", re.I)
_PER_RE = re.compile(r"^\s*per (No\.\d+)", re.I)
_SUSPENDED_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*(?:of No\.\d+\s*)?(?:stays\s+)?suspended", re.I)
_TIME = r"(\d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2})?)"
_TRANSIT_RE = re.compile(rf"shipped before {_TIME} and imported {_TIME}\.\.{_TIME} exempt", re.I)


@dataclass(frozen=True)
class _Transit:
    notice: Notice
    shipped_before: dt.datetime
    imported_from: dt.datetime
    imported_to: dt.datetime        # exclusive


@dataclass(frozen=True)
class _ListNotice:
    notice: Notice
    stop: dt.datetime | None
    stopped_by: Notice | None
    annexes: tuple[Annex, ...]
    before: dt.date                 # WTO dates around its effective date
    at: dt.date
    rise: dict[str, float]          # HS6 -> the WTO rise it accounts for
    lines: dict[str, tuple[AnnexLine, ...]]  # HS6 -> its transcribed lines


@dataclass(frozen=True)
class _Era:
    start: dt.datetime | None       # None: from the first date on
    notice: Notice | None
    wto_date: dt.date
    base: dict[str, float | None]


class ChinaEngine:
    """Answers "what does China charge on this U.S. good on this day" from :class:`ChinaTariffs`."""

    def __init__(self, china: ChinaTariffs, describe: Describe | None = None) -> None:
        self.china = china
        self._describe = describe
        self.wto_dates = china.wto_dates
        self.first_date = self.wto_dates[0]
        self.last_date = max(DATA_CURRENT_TO, self.wto_dates[-1])
        self._general = china.general_notices()
        self._by_short = {n.short.rstrip("?"): n for n in china.notices}
        self._lists = self._build_lists()
        self._eras = self._build_eras()
        self._residual = self._build_residuals()
        self._transit = {n.number: self._transit_rule(n) for n in china.notices}
        self.press = load_press_entries()

    @classmethod
    def load(cls, china_dir: Path | str, describe: Describe | None = None) -> ChinaEngine:
        return cls(ChinaTariffs.load(china_dir), describe)

    # ---- what the sources say, assembled once ------------------------------------------------
    def _wto_rows(self, hs6: str) -> dict[dt.date, tuple[float | None, float | None]]:
        return self.china.wto_table().get(hs6, {})

    def _wto_before(self, day: dt.date) -> dt.date | None:
        before = [d for d in self.wto_dates if d < day]
        return before[-1] if before else None

    def _wto_at(self, day: dt.date) -> dt.date | None:
        after = [d for d in self.wto_dates if d >= day]
        return after[0] if after else None

    def general_pct(self, when: When) -> float:
        return self.china.general_additional_pct(when)[0]

    def _build_lists(self) -> tuple[_ListNotice, ...]:
        stops = {}
        for n in self.china.notices:
            m = _STOP_RE.search(n.action)
            if m:
                stops[m.group(1)] = n
        out = []
        for n in self.china.list_notices():
            before, at = self._wto_before(n.effective.date()), self._wto_at(n.effective.date())
            if before is None or at is None:
                raise DataError(f"the WTO export has no dates around {n.short}'s effective date "
                                f"{n.effective.date()}: its product-list footprint cannot be read")
            others = [o for o in self.china.list_notices()
                      if o is not n and before < o.effective.date() <= at]
            if others:
                raise DataError(f"{n.short} and {others[0].short} took effect between the same WTO dates "
                                f"({before}, {at}): their footprints cannot be told apart")
            dg = self.general_pct(at) - self.general_pct(before)
            rise = {}
            for h, rows in self.china.wto_table().items():
                a, b = rows.get(before, (None, None))[0], rows.get(at, (None, None))[0]
                if a is not None and b is not None:
                    rise[h] = round(b - a - dg, 6)
            annexes = self.china.annexes(n)
            lines: dict[str, list[AnnexLine]] = {}
            for annex in annexes:
                for x in annex.lines:
                    lines.setdefault(x.hs8[:6], []).append(x)
            stopper = stops.get(n.short)
            out.append(_ListNotice(n, stopper.effective if stopper else None, stopper, annexes, before, at,
                                   rise, {h: tuple(v) for h, v in lines.items()}))
        return tuple(out)

    def _list_in_force(self, ln: _ListNotice, when: When) -> bool:
        return started(ln.notice.effective, when) and not (ln.stop is not None and started(ln.stop, when))

    def _known_layers(self, day: dt.date) -> Callable[[str], float]:
        """HS6 -> the sum of the notices' layers in force on a day (lists' WTO rise + all-goods level)."""
        lists = [ln for ln in self._lists if self._list_in_force(ln, day)]
        g = self.general_pct(day)
        return lambda hs6: sum(ln.rise.get(hs6, 0.0) for ln in lists) + g

    def _build_eras(self) -> tuple[_Era, ...]:
        first_notice = min((n.effective.date() for n in self.china.notices if n.general_pct is not None
                            or self.china.annexes(n)), default=self.wto_dates[-1])
        base_date = self._wto_before(first_notice) or self.wto_dates[0]
        eras = [_Era(None, None, base_date, self._bases(base_date))]
        for n in self.china.notices:
            if n.action.lower().startswith("publish mfn schedule"):
                at = self._wto_at(n.effective.date())
                if at is not None:
                    eras.append(_Era(n.effective, n, at, self._bases(at)))
        return tuple(eras)

    def _bases(self, day: dt.date) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        known = self._known_layers(day)
        for h, rows in self.china.wto_table().items():
            v = rows.get(day, (None, None))[0]
            out[h] = None if v is None else round(v - known(h), 6)
        return out

    def _era(self, when: When) -> _Era:
        era = self._eras[0]
        for e in self._eras[1:]:
            if e.start is not None and started(e.start, when):
                era = e
        return era

    def _build_residuals(self) -> dict[tuple[str, dt.date], float]:
        out = {}
        for w in self.wto_dates:
            era = self._era(w)
            known = self._known_layers(w)
            for h, rows in self.china.wto_table().items():
                v, b = rows.get(w, (None, None))[0], era.base.get(h)
                if v is None or b is None:
                    continue
                r = round(v - b - known(h), 6)
                if abs(r) > TOL:
                    out[(h, w)] = r
        return out

    def _transit_rule(self, n: Notice, depth: int = 0) -> _Transit | None:
        m = _PER_RE.match(n.in_transit_rule)
        if m and depth < 3:
            other = self._by_short.get(m.group(1))
            return self._transit_rule(other, depth + 1) if other is not None else None
        t = _TRANSIT_RE.search(n.in_transit_rule)
        if t is None:
            return None
        return _Transit(n, moment(t.group(1)), moment(t.group(2)), moment(t.group(3), end=True))

    # ---- checks -------------------------------------------------------------------------------
    def check_when(self, when: When) -> None:
        day = day_of(when)
        if day < self.first_date or day > self.last_date:
            raise DateOutOfRange(
                f"date {day.isoformat()} is outside China's data: they cover {self.first_date.isoformat()} "
                f"(the first WTO date) to {self.last_date.isoformat()} ({DATA_CURRENT_WHY})")

    @staticmethod
    def check_origin(origin: str | None) -> None:
        """China's side here is China's tariff on U.S. goods only (WTO partner C840)."""
        if origin is None:
            return
        c = countries.resolve(origin)
        if c.iso2 != "US":
            raise BadInput(f"China's schedule here covers U.S.-origin goods only (the WTO file is China's applied "
                           f"rates on U.S. goods): there is no data for goods from {c.name} ({c.iso2})")

    def has_hs6(self, hs6: str) -> bool:
        return hs6 in self.china.wto_table()

    def _check_hs6(self, hs6: str, code: str) -> None:
        if self.has_hs6(hs6):
            return
        if hs6[:2] in ("98", "99"):
            raise UnknownProduct(f"{code}: chapter {hs6[:2]} is not an HS chapter (the U.S. keeps 98 and 99 for its "
                                 "national provisions), so China has no such line")
        near = [h for h in self.china.hs6_codes() if h[:4] == hs6[:4]][:6]
        hint = f"; HS6 under {hs6[:4]}: {', '.join(near)}" if near else ""
        raise UnknownProduct(f"HS6 {hs6} is not in China's data (the WTO export of China's rates on U.S. "
                             f"goods, {len(self.china.hs6_codes()):,} HS 2022 subheadings){hint}")

    # ---- the answer ---------------------------------------------------------------------------
    def rate(self, code: str, when: When | str, inputs: CnInputs | None = None, *,
             origin: str | None = "US") -> CnRateResult:
        """China's duty on a U.S. good: HS6 (WTO average over lines) or a Chinese HS8 line."""
        self.check_origin(origin)
        digits, level, mapped = parse_cn_code(code)
        when = parse_when(when)
        self.check_when(when)
        inputs = inputs or CnInputs()
        if inputs.shipped is not None and day_of(inputs.shipped) > day_of(when):
            raise BadInput(f"shipped {inputs.shipped} is after the import date {when}")
        hs6 = digits[:6]
        self._check_hs6(hs6, code)
        day = day_of(when)
        w = self.china.wto_date_on(day)
        best, imports = self._wto_rows(hs6).get(w, (None, None))
        notes: list[str] = [mapped] if mapped else []
        era = self._era(when)
        base = era.base.get(hs6)
        layers = [self._base_layer(hs6, era, base)]
        for ln in self._lists:
            if self._list_in_force(ln, when):
                x = self._list_layer(ln, hs6, digits if level == "HS8" else None, inputs, when)
                if x is not None:
                    layers.append(x)
        layers.extend(self._all_goods_layers(when, inputs))
        res = self._residual.get((hs6, w))
        if res is not None:
            layers.append(CnLayer(
                "wto_residual", res, None, dt.datetime.combine(w, dt.time(0)), None,
                f"the WTO figure on {w} ({best:g}%) differs from the base and the notices by {res:+g}: the answer "
                "follows the WTO figure, China's measured applied rate", f"WTO export C156_C840.csv, HS6 {hs6}, {w}",
                "WTO data", applies_to="HS6 average", certain=level == "HS6", summary="WTO, unexplained"))
        paid = [x for x in layers if not x.exempt and x.certain]
        total = None if base is None else round(sum(x.rate_pct or 0.0 for x in paid), 4)
        extra = sum(x.rate_pct or 0.0 for x in layers if not x.exempt and not x.certain)
        additional = round(sum(x.rate_pct or 0.0 for x in paid if x.layer != "base"), 4)
        notes.extend(self._notes(hs6, digits, level, when))
        desc = self._describe(hs6) if self._describe else None
        return CnRateResult(
            code=digits if level == "HS8" else hs6, level=level, hs6=hs6,
            description=desc[0] if desc else f"HS6 {hs6[:4]}.{hs6[4:]} (no description on file)",
            path=desc[1] if desc else (), importer="CN", origin="US", entry_date=when, layers=tuple(layers),
            total_additional_pct=additional, total_pct=total,
            upper_pct=None if total is None else round(total + extra, 4),
            follows=_FOLLOWS[level],
            wto={"date": w.isoformat(), "best_avlbl": best, "imports": imports,
                 "file": "shared/china/C156_C840.csv"},
            several_lines=self.several_lines(hs6), notes=tuple(notes),
            inputs={"shipped": inputs.shipped.isoformat() if inputs.shipped else None},
        )

    def _base_layer(self, hs6: str, era: _Era, base: float | None) -> CnLayer:
        src = f"WTO export C156_C840.csv, HS6 {hs6}, {era.wto_date} (best_avlbl)"
        if base is None:
            return CnLayer("base", None, None, None, None,
                           f"the WTO export gives no applied rate for HS6 {hs6} (NA): the base is unknown",
                           src, "WTO data", applies_to="HS6", summary="no WTO rate")
        if era.notice is None:
            why = (f"applied before the 2025 notices (WTO 'best available' on {era.wto_date}): MFN plus the "
                   "2018-19 retaliatory tariffs still applied")
        else:
            why = (f"applied under the {era.notice.effective.year} schedule ({era.notice.short}, effective "
                   f"{era.notice.effective.date()}), read from the WTO figure of {era.wto_date} less the notices' layers")
        return CnLayer("base", base, era.notice.number if era.notice else None,
                       era.start, None, why, src, "WTO data", applies_to="HS6 average over China's lines",
                       summary="MFN + old retaliation")

    def _list_layer(self, ln: _ListNotice, hs6: str, hs8: str | None, inputs: CnInputs,
                    when: When) -> CnLayer | None:
        n = ln.notice
        rise = ln.rise.get(hs6)
        listed = [x for x in ln.lines.get(hs6, ()) if hs8 is not None and x.hs8 == hs8]
        status = status_of(n)
        common: dict[str, Any] = {"notice": n.number, "effective_from": n.effective, "effective_to": ln.stop}
        stop = f"; stopped from {ln.stop:%Y-%m-%d %H:%M} by {ln.stopped_by.short}" if ln.stopped_by and ln.stop else ""
        if hs8 is None:
            if rise is None or abs(rise) <= TOL:
                return None
            annex = self._annex_for(ln, hs6, rise)
            frac = fraction(rise / annex.rate_pct) if annex else None
            share = (f"HS6 average: +{rise:g} = {annex.rate_pct:g}% on {frac[0]} of {frac[1]} lines (if a simple "
                     "average)" if annex and frac and frac[0] != frac[1] else "every line of the HS6")
            layer = CnLayer("cn_list", rise, **common,
                            reason=(f"{n.short} product list{f' (Annex {annex.annex}, +{annex.rate_pct:g}%)' if annex else ''}: "
                                    f"the WTO rate of HS6 {hs6} rose by {rise:g} on {ln.at}{stop}"),
                            source=f"WTO export C156_C840.csv, HS6 {hs6}, {ln.before} -> {ln.at}; {'; '.join(n.sources[:2])}",
                            status=f"WTO data; {status}", applies_to=share, summary=f"{n.short} list")
        elif listed:
            x = listed[0]
            layer = CnLayer("cn_list", x.rate_pct, **common,
                            reason=f"{n.short} Annex {x.annex}: HS8 {x.hs8} ({x.category}) listed at +{x.rate_pct:g}%{stop}",
                            source=x.source_url, status=f"transcribed list (web page); {status}",
                            applies_to=f"HS8 {x.hs8}", summary=f"{n.short} list")
        else:
            if rise is None or abs(rise) <= TOL:
                return None
            open_annexes = [a for a in ln.annexes if a.transcription != "complete"]
            in_complete = any(a.transcription == "complete" and a.annex == x.annex
                              for a in ln.annexes for x in ln.lines.get(hs6, ()))
            if not open_annexes:
                return None  # every list is transcribed in full and does not hold the line
            a = max(open_annexes, key=lambda z: z.rate_pct)
            if len(open_annexes) == 1 and not in_complete and abs(rise - a.rate_pct) <= TOL:
                layer = CnLayer("cn_list", a.rate_pct, **common,
                                reason=(f"{n.short} Annex {a.annex} (+{a.rate_pct:g}%, {a.summary}): not transcribed, but "
                                        f"every line of HS6 {hs6} rose by {a.rate_pct:g} on {ln.at} in the WTO data{stop}"),
                                source=f"WTO export C156_C840.csv, HS6 {hs6}, {ln.before} -> {ln.at}",
                                status=f"inferred from WTO data; {status}", applies_to=f"HS8 {hs8}",
                                summary=f"{n.short} list")
            else:
                got = len(a.lines)
                layer = CnLayer("cn_list", a.rate_pct, **common,
                                reason=(f"{n.short} Annex {a.annex} (+{a.rate_pct:g}%) may list HS8 {hs8}: its transcription is "
                                        f"{a.transcription} ({got} lines), and the WTO rate of HS6 {hs6} rose by {rise:g} "
                                        f"on {ln.at}, so some of its lines are listed{stop}"),
                                source=f"shared/china/transcribed_annex_lines.csv; WTO export HS6 {hs6}",
                                status=f"uncertain; {status}", applies_to=f"HS8 {hs8}, if listed", certain=False,
                                summary=f"{n.short} list?")
        return self._in_transit(layer, n, inputs, when)

    def _annex_for(self, ln: _ListNotice, hs6: str, rise: float) -> Annex | None:
        """The annex an HS6's rise comes from: that of its transcribed lines, else the one not transcribed in full."""
        have = {x.annex for x in ln.lines.get(hs6, ())}
        pick = [a for a in ln.annexes if a.annex in have] or [a for a in ln.annexes if a.transcription != "complete"]
        fits = [a for a in pick if rise <= a.rate_pct + TOL]
        found = fits or pick
        return found[0] if found else None

    def _in_transit(self, layer: CnLayer, n: Notice, inputs: CnInputs, when: When) -> CnLayer:
        """The layer marked exempt when the shipment meets the notice's in-transit rule."""
        if inputs.shipped is None:
            return layer
        rule = self._transit.get(n.number)
        if rule is None:
            return _replace(layer, reason=layer.reason + f" (no in-transit rule in {n.short}'s retrieved text: not claimed)")
        at = when if isinstance(when, dt.datetime) else dt.datetime.combine(when, dt.time(23, 59))
        ship = inputs.shipped
        if isinstance(ship, dt.datetime):
            before = ship < rule.shipped_before
        else:
            before = ship < rule.shipped_before.date()
            if ship == rule.shipped_before.date() and rule.shipped_before.time() != dt.time(0):
                return _replace(layer, reason=layer.reason + f" (shipped on the cut-off day of {rule.notice.short}'s "
                                f"in-transit rule, {rule.shipped_before:%H:%M}: give the minute to claim it)")
        if before and rule.imported_from <= at < rule.imported_to:
            return _replace(layer, exempt=True, reason=(
                f"in transit: shipped before {rule.shipped_before:%Y-%m-%d %H:%M} and imported by "
                f"{rule.imported_to - dt.timedelta(minutes=1):%Y-%m-%d %H:%M}: exempt under {rule.notice.short}'s "
                f"rule ({layer.summary})"), summary=f"{layer.summary}: in transit")
        return layer

    def _all_goods_layers(self, when: When, inputs: CnInputs) -> list[CnLayer]:
        level, chain = self.china.general_additional_pct(when)
        if not chain:
            return []
        notices = [self.china.notice(c) for c in chain]
        run_start = len(notices) - 1
        while run_start > 0 and notices[run_start - 1].general_pct == level:
            run_start -= 1
        setter = notices[run_start]
        later = [n for n in self._general if not started(n.effective, when) and n.general_pct != level]
        history = ", ".join(f"{n.short} {n.general_pct:g}% from {fmt_moment(n.effective)}" for n in notices)
        out: list[CnLayer] = []
        if level > 0:
            layer = CnLayer("cn_all", level, setter.number, setter.effective, later[0].effective if later else None,
                            f"all U.S.-origin goods, on top of the applicable rate: {history}",
                            "; ".join(dict.fromkeys(u for n in notices for u in n.sources[:2])),
                            status_of(setter), summary=" -> ".join(f"{n.short} {n.general_pct:g}%" for n in notices
                                                                    if n.general_pct is not None))
            rule_notice = next((n for n in notices if self._transit.get(n.number)), setter)
            out.append(self._in_transit(layer, rule_notice, inputs, when))
        suspended = [n for n in notices[run_start:] if _SUSPENDED_RE.search(n.rate)]
        if suspended:
            m = _SUSPENDED_RE.search(suspended[-1].rate)
            assert m is not None
            out.append(CnLayer(
                "cn_all", float(m.group(1)), suspended[-1].number, suspended[0].effective, None,
                "suspended, not paid: " + "; ".join(f"{n.short} ({fmt_moment(n.effective)}): {n.rate}" for n in suspended),
                "; ".join(dict.fromkeys(u for n in suspended for u in n.sources[:2])),
                status_of(suspended[-1]), exempt=True,
                summary=f"{m.group(1)}% suspended ({', '.join(n.short for n in suspended)})"))
        return out

    # ---- what to say besides the numbers --------------------------------------------------------
    def several_lines(self, hs6: str) -> str | None:
        """Why an HS6 holds several Chinese 8-digit lines (its WTO figure is then their average), or None."""
        why = []
        listed = sorted({x.hs8 for ln in self._lists for x in ln.lines.get(hs6, ())})
        if len(listed) > 1:
            why.append(f"the transcribed lists name {len(listed)} of its lines ({', '.join(listed[:6])}"
                       f"{' ...' if len(listed) > 6 else ''})")
        for ln in self._lists:
            rise = ln.rise.get(hs6)
            annex = self._annex_for(ln, hs6, rise) if rise and abs(rise) > TOL else None
            frac = fraction(rise / annex.rate_pct) if annex and rise else None
            if annex and rise and frac and frac[0] != frac[1]:
                why.append(f"{ln.notice.short} raised its average by {rise:g} on {ln.at}, {frac[0]}/{frac[1]} of "
                           f"{annex.rate_pct:g}%: only some of its lines are listed")
        base = self._eras[0].base.get(hs6)
        if base is not None and abs(base * 10 - round(base * 10)) > 1e-6:
            why.append(f"its base rate {base:.4g}% is not a rate China prints but an average")
        return ("several Chinese lines: " + "; ".join(why) + ". The WTO figure is their average") if why else None

    def _notes(self, hs6: str, digits: str, level: str, when: When) -> list[str]:
        notes = []
        if level == "HS8":
            notes.append(f"China's 8-digit rates are not in the files: the base is the WTO average of HS6 {hs6}")
        day = day_of(when)
        if not isinstance(when, dt.datetime):
            timed: dict[dt.datetime, list[str]] = {}
            for n in self.china.notices:
                if n.effective.date() == day and n.effective.time() != dt.time(0):
                    timed.setdefault(n.effective, []).append(n.short)
            for t, shorts in timed.items():
                earlier = t - dt.timedelta(minutes=1)
                notes.append(f"{' and '.join(shorts)} took effect at {t:%H:%M} Beijing time on {day}: this answer is "
                             f"for goods declared from then on; before, give the minute (--date {earlier:%Y-%m-%dT%H:%M})")
        level_now, chain = self.china.general_additional_pct(when)
        peak = max((n.general_pct or 0.0) for n in self._general) if self._general else 0.0
        for e in self.press:
            if digits.startswith(e.prefix) or (len(e.prefix) > len(digits) and e.prefix.startswith(digits)):
                who = "an unverified circulated list names" if e.named_by == "unverified list" else "press reports name"
                when_words = ("in late April 2025, while it was in force" if level_now == peak and peak > 0
                              else "in late April 2025")
                notes.append(
                    f"not law: {who} {e.category} among the U.S. goods China exempted from its {peak:g}% tariff "
                    f"{when_words} ({e.source}; code {e.prefix}: {e.mapping}). The list was never published, so "
                    "the rate above does not apply it")
                break
        notes.append("no official government file was reachable: notices come from reproduced texts and press "
                     "translations, rates from a copy of the WTO TTD export (shared/china/SOURCES.md)")
        return notes

    # ---- fast paths for averages and timelines ---------------------------------------------------
    def hs6_pct(self, hs6: str, when: When) -> float | None:
        """The HS6 total of :meth:`rate` with default inputs, without building the result."""
        base = self._era(when).base.get(hs6)
        if base is None:
            return None
        w = self.china.wto_date_on(day_of(when))
        return (base + sum(ln.rise.get(hs6, 0.0) for ln in self._lists if self._list_in_force(ln, when))
                + self.general_pct(when) + self._residual.get((hs6, w), 0.0))

    def footprint(self, notice: str) -> dict[str, float]:
        """HS6 -> the rise a product-list notice (No.1, No.2) shows in the WTO data, for the HS6 it touches."""
        for ln in self._lists:
            if notice in (ln.notice.number, ln.notice.short):
                return {h: v for h, v in ln.rise.items() if abs(v) > TOL}
        raise BadInput(f"{notice!r} is not a product-list notice: one of "
                       f"{', '.join(ln.notice.short for ln in self._lists)}")

    def change_days(self, lo: dt.date, hi: dt.date) -> list[dt.date]:
        """Days in (lo, hi] on which some layer may change: notice effective days and WTO dates."""
        days = {n.effective.date() for n in self.china.notices} | set(self.wto_dates)
        return sorted(d for d in days if lo < d <= hi)

    def weights(self, day: dt.date) -> tuple[dict[str, float], dt.date]:
        """Import weights per HS6 (the WTO file's imports column) for a day, and the date they come from.

        The column is the same on every 2025 date and zero on 2026-05-01, so a date whose column sums
        to zero takes the latest earlier date's column (docs/CHINA.md).
        """
        table = self.china.wto_table()
        w = self.china.wto_date_on(day)
        candidates = [d for d in self.wto_dates if d <= w][::-1]
        for d in candidates:
            col = {h: (rows.get(d, (None, None))[1] or 0.0) for h, rows in table.items()}
            if sum(col.values()) > 0:
                return col, d
        raise DataError("the WTO export's imports column is zero on every date: no weights")

    def average(self, when: When) -> dict[str, Any]:
        """Import-weighted mean of China's HS6 rates on U.S. goods on a day (the WTO imports as weights)."""
        self.check_when(when)
        wts, from_date = self.weights(day_of(when))
        num = den = excl_w = base_num = 0.0
        excl = 0
        for h, wt in wts.items():
            v = self.hs6_pct(h, when)
            if v is None:
                excl += 1
                excl_w += wt
                continue
            num += wt * v
            den += wt
            base_num += wt * (self._era(when).base.get(h) or 0.0)
        return {"date": day_of(when).isoformat(), "total_pct": num / den, "additional_pct": (num - base_num) / den,
                "weight": den, "weights_from": from_date.isoformat(), "excluded_hs6": excl,
                "excluded_weight": excl_w}

    def wto_average(self, day: dt.date) -> float:
        """The same mean read straight from the WTO figures of a WTO date (a cross-check of :meth:`average`)."""
        if day not in self.wto_dates:
            raise BadInput(f"{day} is not a WTO date: {', '.join(d.isoformat() for d in self.wto_dates)}")
        wts, _ = self.weights(day)
        pairs = [(wt, self._wto_rows(h).get(day, (None, None))[0]) for h, wt in wts.items()]
        den = sum(wt for wt, v in pairs if v is not None)
        return sum(wt * v for wt, v in pairs if v is not None) / den


_FOLLOWS = {
    "HS6": ("HS6: the base and the product lists' footprint follow the WTO export (China's applied rate, an "
            "average over its 8-digit lines; the notices give no base rate and their lists are only partly "
            "transcribed); the all-goods tariff, its Beijing time, suspension and in-transit rule follow the "
            "notices. On each WTO date the layers add up to the WTO figure; a 'wto_residual' layer would show "
            "any part the notices do not explain"),
    "HS8": ("HS8: the product lists follow the notices' transcribed lines (the WTO data only say how much of "
            "the HS6 rose); where the transcription is partial and the WTO rise is neither all nor nothing "
            "the list layer is uncertain and left out of the total (see upper_pct); the base is the WTO HS6 "
            "average, China's 8-digit rates not being in the files; the all-goods tariff follows the notices"),
}


def _replace(layer: CnLayer, **kw: Any) -> CnLayer:
    from dataclasses import replace

    return replace(layer, **kw)
