"""Effective tariff rates and what-if scenarios over the built panel (``effective-rate``, ``scenario``).

The series over the whole covered period is computed once per built store (seconds) and clipped
for every range asked; one date is computed on demand. A scenario (YAML or JSON body) is checked
against the law, its panel built (once per file content: later runs reuse it) and compared with
the law's; builds run one at a time, so concurrent requests queue instead of loading the machine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tariffstack.engine.us import parse_date
from tariffstack.errors import BadInput, StoreMissing, TariffstackError, blame
from tariffstack.stats.scenario_file import MAX_BYTES as SCENARIO_MAX_BYTES
from tariffstack.surfaces.api.errors import ApiError, JsonResponse
from tariffstack.surfaces.api.http import cached_async, read_body, service_of
from tariffstack.surfaces.api.params import date_q, from_q, to_q
from tariffstack.surfaces.api.schemas_stats import STATS_ERRORS, EffectiveOut, ScenarioOut

router = APIRouter()
BODY_LIMITS = {"/api/scenario": SCENARIO_MAX_BYTES}
SERIES_CACHE = 2
SCENARIO_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain",
                  "application/json")
by_q = Query("partner", pattern="^(overall|partner|chapter|sector|layer)$", examples=["partner"],
             description="Breakdown: overall, partner (group), chapter, sector (GTAP) or layer")
EXAMPLE = """name: geneva-a-month-earlier
events:
  - action: suspend
    headings: 9903.01.63
    effective: 2025-04-14
    end: 2025-05-13
  - action: country_rate
    heading: 9903.01.25
    countries: CN; HK; MO
    effective: 2025-04-14
    end: 2025-05-13
"""


class _Stats:
    """What the endpoints share per app: the weights, the full series per store, a build lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.series_lock = threading.Lock()
        self.build_lock = threading.Lock()
        self.weights: Any = None
        self.series: OrderedDict[str, Any] = OrderedDict()


def _stats(request: Request) -> _Stats:
    state = request.app.state
    if not hasattr(state, "stats"):
        state.stats = _Stats()
    got: _Stats = state.stats
    return got


def _weights(request: Request) -> Any:
    from tariffstack.stats.weights import default_weights_dir, load

    st = _stats(request)
    with st.lock:
        if st.weights is None:
            folder = default_weights_dir(Path(service_of(request).data_dir))
            if not folder.is_dir():
                raise StoreMissing(f"no weights folder {folder}: the effective rate needs it")
            st.weights = load(folder)
        return st.weights


def _panel(request: Request) -> Any:
    from tariffstack.panel import Panel

    home = Path(service_of(request).home)
    try:
        return Panel.open(home)
    except (TariffstackError, OSError) as exc:
        raise StoreMissing(f"no rate panel in {home}: run 'tariffstack build' first") from exc


def _range(panel: Any, day: str | None, first: str | None, last: str | None) -> tuple[date, date | None]:
    if day is not None and (first is not None or last is not None):
        raise BadInput("give either date or from/to, not both", field="date")
    with blame("date"):
        if first is None and last is None:
            one = parse_date(day) if day else panel.last_date
            panel.check_date(one)
            return one, None
    with blame("from"):
        lo = parse_date(first) if first else panel.first_date
        panel.check_date(lo)
    with blame("to"):
        hi = parse_date(last) if last else panel.last_date
        panel.check_date(hi)
    if hi < lo:
        raise BadInput(f"from {lo} is after to {hi}", field="from")
    return lo, hi


def _clip(rows: list[dict[str, Any]], lo: date, hi: date) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        a, b = date.fromisoformat(r["date"]), date.fromisoformat(r["until"])
        if b < lo or a > hi:
            continue
        out.append({**r, "date": max(a, lo).isoformat(), "until": min(b, hi).isoformat()})
    return out


def _full_series(request: Request, panel: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The effective rate on every interval of the data and its marks, once per built store."""
    from tariffstack.stats.effective import compute, marks

    svc = service_of(request)
    st = _stats(request)
    key = svc.store_tag()
    with st.series_lock:  # one computation (seconds); other requests for it wait and reuse it
        got = st.series.get(key)
        if got is None:
            eff = compute(panel, _weights(request), panel.first_date, panel.last_date)
            got = st.series[key] = (eff, marks(svc.engine.model, eff))
            while len(st.series) > SERIES_CACHE:
                st.series.popitem(last=False)
        return got


@router.get("/api/effective-rate", tags=["effective rate"], response_model=EffectiveOut, responses=STATS_ERRORS)
async def effective_rate(request: Request, day: str | None = date_q, from_: str | None = from_q,
                         to: str | None = to_q, by: str = by_q) -> Response:
    """Import-weighted statutory effective tariff rate (``tariffstack effective-rate --json``).

    One date (``date``), or a series over ``from``-``to`` (one row per interval of constant rates),
    overall or by partner group, chapter, GTAP sector or layer; an estimate on the default sector
    weights. ``marks``: the days the overall rate moves, with the headings behind the move. Needs
    'tariffstack build' (503 without the store)."""
    def make() -> dict[str, Any]:
        from tariffstack.stats.effective import compute

        panel = _panel(request)
        try:
            lo, hi = _range(panel, day, from_, to)
            if hi is None:
                out: dict[str, Any] = compute(panel, _weights(request), lo).to_json(by)
                out["marks"] = []
                return out
            eff, found = _full_series(request, panel)
            out = eff.to_json(by)
            out["rows"] = _clip(out["rows"], lo, hi)
            out["marks"] = [m for m in found if lo < date.fromisoformat(m["date"]) <= hi]
            return out
        finally:
            panel.db.close()

    return await cached_async(request, make, tag=service_of(request).store_tag())


@router.get("/api/scenario/schema", tags=["effective rate"], responses=STATS_ERRORS)
async def scenario_schema(request: Request) -> Response:
    """The JSON schema of scenario files (docs/scenario.schema.json; docs/SCENARIOS.md)."""
    from tariffstack.stats.scenario_file import schema

    return await cached_async(request, schema)


@router.post("/api/scenario", tags=["effective rate"], response_model=ScenarioOut, responses=STATS_ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/yaml": {"schema": {"type": "string"}, "example": EXAMPLE},
                 "application/json": {"schema": {"type": "object", "description": "A scenario (see "
                                                 "/api/scenario/schema)"}}}}})
async def scenario(request: Request, day: str | None = date_q, from_: str | None = from_q,
                   to: str | None = to_q, by: str = by_q) -> Response:
    """Run a what-if scenario (hypothetical legal events) and compare it with the law
    (``tariffstack scenario FILE --json``).

    Body: the scenario as YAML or JSON (docs/SCENARIOS.md; at most 256 KiB). A bad file is a 422
    whose message names the line. The scenario's panel is built on the first run (seconds to a
    minute, from its first day on) and reused afterwards. Default: the scenario's first day."""
    ctype = request.headers.get("content-type", "application/yaml").split(";")[0].strip().lower()
    if ctype not in SCENARIO_TYPES:
        raise ApiError(415, "unsupported_media_type", f"content type {ctype!r} is not accepted: send "
                       "application/yaml or application/json", "body")
    raw = await read_body(request, SCENARIO_MAX_BYTES)
    svc = service_of(request)
    st = _stats(request)

    def make() -> dict[str, Any]:
        from tariffstack.stats import scenario as sc
        from tariffstack.stats.effective import marks
        from tariffstack.stats.scenario_file import parse

        with blame("body"):
            sf = parse(raw, "scenario")
        panel = _panel(request)
        try:
            with blame("body"):
                compiled = sc.compile_scenario(sf, svc.engine, panel)
            first = min(s.first for s in compiled.steps)
            lo, hi = _range(panel, day if day or from_ or to else first.isoformat(), from_, to)
            weights = _weights(request)
            with st.build_lock:
                scen = sc.scenario_panel(svc.engine, panel, Path(svc.home), compiled)
            try:
                cmp = sc.compare(panel, scen, compiled, weights, lo, hi)
                out = cmp.to_json(by)
                out["marks"] = marks(svc.engine.model, cmp.law) if hi is not None else []
                return out
            finally:
                scen.db.close()
        finally:
            panel.db.close()

    result = await run_in_threadpool(make)
    return JsonResponse(result, headers={"Cache-Control": "no-store"})
