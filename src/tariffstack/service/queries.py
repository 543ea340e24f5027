"""The questions every surface asks, answered once: the CLI and the API call these, so an answer
(and the field an error blames) is the same wherever it is asked."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tariffstack import __version__, news
from tariffstack.engine.timeline import MAX_ORIGINS, StateKey, Timeline, plot_timeline
from tariffstack.engine.timeline import timeline as build_timeline
from tariffstack.engine.us import Engine, Inputs, parse_date, parse_hts
from tariffstack.errors import BadInput, StoreMissing, TariffstackError, TooMany, blame
from tariffstack.law import countries
from tariffstack.models import LAYER_ORDER, RateResult
from tariffstack.sources.china import ChinaTariffs

if TYPE_CHECKING:  # the panel (DuckDB, Arrow) is imported when first asked for
    from tariffstack.panel import Panel

log = logging.getLogger(__name__)
SVG_CACHE = 64                           # charts kept in memory (about 100 kB each)


def china_dir(data_dir: Path) -> Path:
    """China's files sit beside the HTS data folder (``../shared/china`` by default)."""
    return data_dir.parent / "china"


def load_china(data_dir: Path) -> ChinaTariffs | None:
    """China's notices and WTO rates when the folder is there; None (with a log line) if not."""
    folder = china_dir(data_dir)
    if not folder.is_dir():
        return None
    try:
        return ChinaTariffs.load(folder)
    except TariffstackError as exc:
        log.warning("China data not loaded: %s", exc)
        return None


@dataclass
class Service:
    """The engine and what the answers share (China data, chart cache, model tag)."""

    engine: Engine
    data_dir: Path
    home: Path
    model_tag: str = ""
    plot_lock: threading.Lock = field(default_factory=threading.Lock)
    _svg_cache: OrderedDict[tuple[Any, ...], bytes] = field(default_factory=OrderedDict)
    _china: ChinaTariffs | None = None
    _china_loaded: bool = False
    _china_lock: threading.Lock = field(default_factory=threading.Lock)
    _panel: tuple[str, Panel | None] | None = None
    _panel_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        h = hashlib.sha256(f"tariffstack {__version__}".encode())
        for r in self.engine.model.revisions:
            h.update(f"{r.name}:{r.sha256}".encode())
        self.model_tag = h.hexdigest()[:24]

    # -- parameters ----------------------------------------------------------------------------
    def day(self, text: str | None, field: str = "date") -> date:
        """A date inside the data's coverage; default the newest covered date."""
        if text is None or not text.strip():
            return self.engine.model.last_date
        with blame(field):
            day = parse_date(text)
            self.engine.check_date(day)
        return day

    def origin(self, text: str, field: str = "origin") -> countries.Country:
        """A country of origin for the U.S. schedule: the U.S. itself is refused, not answered."""
        with blame(field):
            found = countries.resolve(text)
        if found.iso2 == "US":
            raise BadInput("origin US: the U.S. schedule taxes goods entering the U.S., and U.S. goods pay no "
                           "U.S. import duty; for China's duty on U.S. goods ask /api/war/rate", field=field)
        return found

    def origins(self, text: str, field: str = "origins") -> list[str]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        if not items:
            raise BadInput("give at least one origin, e.g. CN,MX,DE", field=field)
        if len(items) > MAX_ORIGINS:
            raise TooMany(f"{len(items)} origins given; the limit is {MAX_ORIGINS}", field=field)
        out: list[str] = []
        for item in items:
            iso = self.origin(item, field).iso2
            if iso not in out:
                out.append(iso)
        return out

    def code(self, text: str, field: str = "hts10") -> str:
        with blame(field):
            return parse_hts(text)

    # -- answers -------------------------------------------------------------------------------
    def rate(self, code: str, origin: str, day: str | None, inputs: Inputs) -> RateResult:
        self.code(code)
        when = self.day(day)
        iso = self.origin(origin).iso2
        return self.engine.rate(code, iso, when, inputs)

    def product(self, code: str, day: str | None) -> dict[str, Any]:
        self.code(code)
        when = self.day(day)
        model = self.engine.model
        with blame("hts10"):
            line = self.engine.line(code, when)
        rev = model.revisions[model.revision_on(when)]
        history: list[dict[str, Any]] = []
        for r, start, lines in zip(model.revisions, model.starts, model.lines, strict=True):
            ln = lines.get(line.digits)
            if ln is None:
                continue
            cols = {"general": ln.general, "special": ln.special, "other": ln.other}
            if history and {k: history[-1][k] for k in cols} == cols:
                history[-1]["until_revision"] = r.name
                continue
            history.append({"revision": r.name, "until_revision": r.name,
                            "in_force_from": start.isoformat(), **cols})
        return {
            "hts10": line.hts10,
            "hts": line.hts,
            "description": line.description,
            "path": list(line.path),
            "units": list(line.units),
            "mfn": {"general": line.general, "special": line.special, "other": line.other,
                    "rate_line": line.rate_line},
            "footnotes": list(line.footnotes),
            "chapter99": list(line.see),
            "date": when.isoformat(),
            "revision": rev.name,
            "history": history,
        }

    def compare(self, code: str, day: str | None, inputs: Inputs) -> dict[str, Any]:
        """Every origin's total for one product and date, cheapest first; per-country errors
        are reported, not fatal."""
        self.code(code)
        when = self.day(day)
        with blame("hts10"):
            line = self.engine.line(code, when)
        rows: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        for c in countries.all_countries():
            try:
                res = self.engine.rate(code, c.iso2, when, inputs)
            except TariffstackError as exc:
                errors.append({"origin": c.iso2, "name": c.name, "message": str(exc)})
                continue
            layers = res.layer_totals()
            rows.append({
                "origin": c.iso2, "name": c.name, "total_pct": res.total_pct,
                "total_additional_pct": res.total_additional_pct, "specific": list(res.specific),
                "layers": layers,
                "headings": sorted({x.heading for x in res.layers
                                    if x.layer != "mfn" and not x.exempt and x.heading}),
            })
        rows.sort(key=lambda r: (r["total_pct"], r["name"]))
        totals = [r["total_pct"] for r in rows]
        lo, hi = (min(totals), max(totals)) if totals else (None, None)
        return {
            "hts10": line.hts10,
            "description": line.description,
            "date": when.isoformat(),
            "layers": [n for n in LAYER_ORDER if any(n in r["layers"] for r in rows)],
            "least": {"total_pct": lo, "origins": [r["origin"] for r in rows if r["total_pct"] == lo]},
            "most": {"total_pct": hi, "origins": [r["origin"] for r in rows if r["total_pct"] == hi]},
            "rows": rows,
            "errors": errors,
        }

    def timeline(self, code: str, origins: str, start: str | None, end: str | None) -> Timeline:
        """:func:`tariffstack.timeline.timeline`, with each input checked first so an error names
        its field."""
        self.code(code)
        isos = self.origins(origins)
        first = self.day(start, "from") if start else None
        last = self.day(end, "to") if end else None
        if first and last and first > last:
            raise BadInput(f"from {first} is after to {last}", field="from")
        return build_timeline(self.engine, code, isos, first, last, state_key=self._panel_key(code))

    def _panel_key(self, code: str) -> StateKey | None:
        """The built panel's (stack, MFN text) per origin and day, when the store is the one the
        law on file gives: the timeline then asks the engine only where that changes."""
        panel = self.current_panel()
        if panel is None:
            return None

        def key(iso: str, day: date) -> tuple[Any, ...] | None:
            try:
                row = panel.point(code, iso, day)
            except TariffstackError:  # not in the panel's schedule that day: the engine says why
                return None
            return (row["hts10"], row["stack_id"], row["mfn_text"])
        return key

    def current_panel(self) -> Panel | None:
        """The built store, opened once per build, or None when there is none or it is stale."""
        from tariffstack.panel import Panel, code_fingerprint, interval_hashes

        tag = self.store_tag()
        with self._panel_lock:
            if self._panel is not None and self._panel[0] == tag:
                return self._panel[1]
            found: Panel | None = None
            try:
                found = Panel.open(self.home)
                if found.meta.get("intervals") != [list(x) for x in interval_hashes(self.engine)] or \
                        found.meta.get("code") != code_fingerprint():
                    found = None
                else:
                    found.warm()  # the point index, built here once rather than by two threads
            except (TariffstackError, OSError):
                found = None
            self._panel = (tag, found)
            return found

    def timeline_svg(self, code: str, origins: str, start: str | None, end: str | None) -> bytes:
        """The chart as SVG; drawing takes 0.3-1 s, so recent charts are kept (same inputs,
        spelled any way, give the same bytes)."""
        tl = self.timeline(code, origins, start, end)
        key = (parse_hts(code), tuple(tl.origins), tl.start, tl.end)
        with self.plot_lock:  # charts take 0.3-1 s of CPU: draw one at a time
            got = self._svg_cache.get(key)
            if got is None:
                buf = io.BytesIO()
                plot_timeline(tl, buf, fmt="svg")
                got = buf.getvalue()
                self._svg_cache[key] = got
                while len(self._svg_cache) > SVG_CACHE:
                    self._svg_cache.popitem(last=False)
            else:
                self._svg_cache.move_to_end(key)
        return got

    def diff(self, start: str, end: str, origins: str | None, prefix: str | None,
             layer: str | None, limit: int) -> dict[str, Any]:
        """The lead's :meth:`tariffstack.panel.Panel.diff` over the built store (503 without)."""
        first, last = self.day(start, "from"), self.day(end, "to")
        if first > last:
            raise BadInput(f"from {first} is after to {last}", field="from")
        isos = self.origins(origins) if origins else None
        from tariffstack.panel import Panel

        try:
            p = Panel.open(self.home)
        except (TariffstackError, OSError) as exc:
            raise StoreMissing(f"no rate panel in {self.home}: run 'tariffstack build' first"
                               ) from exc
        try:
            with blame("heading"):
                return p.diff(first, last, origins=isos, prefix=prefix, layer=layer
                              ).to_json(limit=limit)
        finally:
            p.db.close()

    def store_tag(self) -> str:
        """Which built store is current: a rebuild must not be served from a stale ETag."""
        link = self.home / "panel"
        try:
            return str(link.resolve(strict=True).name)
        except OSError:
            return "no-store"

    def china(self) -> ChinaTariffs | None:
        """China's notices for news checks (optional data, loaded once)."""
        with self._china_lock:
            if not self._china_loaded:
                self._china = load_china(self.data_dir)
                self._china_loaded = True
            return self._china

    def check_news(self, text: str | bytes, day: date | None) -> dict[str, Any]:
        with blame("text"):
            article = news.read_article(text, day)
        panel, weights = news.load_extras(self.home, self.data_dir)  # composite totals: all lines
        try:
            claims = news.check(article, self.engine, self.china(), panel=panel, weights=weights)
        finally:
            db = getattr(panel, "db", None)
            if db is not None:
                db.close()
        counts: dict[str, int] = {}
        for c in claims:
            counts[c.verdict] = counts.get(c.verdict, 0) + 1
        return {
            "date": article.date.isoformat(),
            "date_source": article.date_source,
            "length": len(article.text),
            "claims": [c.to_json() for c in claims],
            "summary": counts,
            "removed": [{"start": s, "end": e, "why": why} for s, e, why in article.removed],
            "notes": list(article.notes),
        }

    def warm(self) -> None:
        """Build the search index and the newest date's measure list before serving."""
        self.engine.search("smartphones", limit=1)
        self.engine.active(self.engine.model.last_date)
