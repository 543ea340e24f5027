"""Both sides of the tariff war: China's duty on U.S. goods, one product each way, the averages.

The same answers as ``tariffstack rate --importer CN``, ``timeline --importer CN`` and ``war``
(engine/cn.py, stats/war.py). China's engine is built once per app from the service's China data.
The averages (seconds: the U.S. side is an effective-rate computation over the panel) are computed
once per built store over everything both sides cover, in the background as soon as China's engine
is up, then clipped to the range asked and served from memory and by ETag.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tariffstack.engine.cn import ChinaEngine, CnInputs, describe_from_us, parse_when
from tariffstack.errors import BadInput, StoreMissing, TariffstackError, blame
from tariffstack.surfaces.api.http import cached_async, service_of
from tariffstack.surfaces.api.params import from_q, hts10_q, need, to_q
from tariffstack.surfaces.api.schemas_war import (
    WAR_ERRORS,
    CnRateOut,
    CnTimelineOut,
    WarAverageOut,
    WarProductOut,
)

router = APIRouter()
log = logging.getLogger(__name__)
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
SVG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}, "description": "The chart"}, **WAR_ERRORS}
SERIES_CACHE = 2  # built stores kept (the current one, and the one before a rebuild)

hs_q = Query(None, min_length=1, max_length=24, examples=["1201.90"],
             description="HS6 (1201.90), a Chinese 8-digit line (12019011) or a U.S. HTS-10 (required)")
when_q = Query(None, alias="date", max_length=32, examples=["2025-04-15"],
               description="Beijing-time day YYYY-MM-DD, or minute YYYY-MM-DDTHH:MM (default: newest covered)")
shipped_q = Query(None, max_length=32, examples=["2025-04-01"],
                  description="When the goods left the U.S. (in-transit rules), YYYY-MM-DD or YYYY-MM-DDTHH:MM")
origin_q = Query("US", min_length=1, max_length=64, examples=["US"],
                 description="Origin of the goods: China's side covers U.S. goods only")


class _War:
    """What the endpoints share per app: China's engine and the computed average series."""

    def __init__(self) -> None:
        self.lock = threading.Lock()          # China's engine
        self.series_lock = threading.Lock()   # the averages (a long computation: other answers do not wait)
        self.engine: ChinaEngine | None = None
        self.tag = ""
        self.series: OrderedDict[str, dict[str, Any]] = OrderedDict()


def _war(request: Request) -> _War:
    state = request.app.state
    if not hasattr(state, "war"):
        state.war = _War()
    got: _War = state.war
    return got


def china(request: Request) -> ChinaEngine:
    """China's engine over the service's China data (503 when the folder is missing)."""
    w = _war(request)
    with w.lock:
        if w.engine is None:
            svc = service_of(request)
            data = svc.china()
            if data is None:
                raise StoreMissing(f"China's data are not loaded: no folder {Path(svc.data_dir).parent / 'china'}")
            w.engine = ChinaEngine(data, describe_from_us(svc.engine.model.lines[-1]))
            threading.Thread(target=_warm, args=(svc, w.engine, w), name="war-averages", daemon=True).start()
        return w.engine


def _tag(request: Request) -> str:
    """China's files as they are on disk (names, sizes, times): a changed file changes every ETag."""
    w = _war(request)
    if not w.tag:
        folder = Path(service_of(request).data_dir).parent / "china"
        try:
            stats = sorted((f.name, f.stat().st_size, int(f.stat().st_mtime)) for f in folder.iterdir() if f.is_file())
        except OSError:
            stats = []
        w.tag = "cn:" + ";".join(f"{n}:{s}:{t}" for n, s, t in stats)
    return w.tag


@router.get("/api/war/rate", tags=["both sides"], response_model=CnRateOut, responses=WAR_ERRORS)
async def cn_rate(request: Request, hs: str | None = hs_q, day: str | None = when_q,
                  loading_date: str | None = shipped_q, origin: str = origin_q) -> Response:
    """China's duty on a U.S. good, layer by layer (``tariffstack rate CODE --importer CN --json``)."""
    code = need("hs", hs)

    def make() -> dict[str, Any]:
        cn = china(request)
        with blame("date"):
            when = parse_when(day) if day else cn.last_date
        with blame("loading_date"):
            shipped = parse_when(loading_date) if loading_date else None
        with blame("origin"):
            cn.check_origin(origin)
        with blame("hs"):
            return cn.rate(code, when, CnInputs(shipped=shipped), origin=origin).to_json()

    return await cached_async(request, make, tag=_tag(request))


def _cn_timeline(request: Request, code: str, first: str | None, last: str | None) -> Any:
    from tariffstack.engine.cn_timeline import cn_timeline

    with blame("hs"):
        return cn_timeline(china(request), code, first, last)


async def _svg(request: Request, draw: Callable[[io.BytesIO], None], tag: str) -> Response:
    """A chart route's answer: ``draw`` writes the SVG, the bytes are cached like JSON answers,
    and the chart is served under its own strict CSP."""
    def make() -> bytes:
        buf = io.BytesIO()
        draw(buf)
        return buf.getvalue()

    resp = await cached_async(request, make, media_type="image/svg+xml", tag=tag)
    resp.headers.update(SVG_HEADERS)
    return resp


@router.get("/api/war/timeline", tags=["both sides"], response_model=CnTimelineOut, responses=WAR_ERRORS)
async def cn_timeline_json(request: Request, hs: str | None = hs_q, from_: str | None = from_q,
                           to: str | None = to_q) -> Response:
    """China's duty on a U.S. good over time (``tariffstack timeline CODE --importer CN --json``)."""
    code = need("hs", hs)
    return await cached_async(request, lambda: _cn_timeline(request, code, from_, to).to_json(), tag=_tag(request))


@router.get("/api/war/timeline.svg", tags=["both sides"], response_class=Response, responses=SVG_RESPONSES)
async def cn_timeline_svg(request: Request, hs: str | None = hs_q, from_: str | None = from_q,
                          to: str | None = to_q) -> Response:
    """China's layers over time as a stacked step chart (SVG), the notice days marked."""
    from tariffstack.engine.cn_timeline import notice_marks, plot_cn_timeline

    code = need("hs", hs)
    return await _svg(request, lambda buf: plot_cn_timeline(_cn_timeline(request, code, from_, to), buf, "svg",
                                                            notice_marks(china(request))), _tag(request))


def _product(request: Request, code: str, first: str | None, last: str | None) -> Any:
    from tariffstack.stats import war

    with blame("hts10"):
        return war.product(service_of(request).engine, china(request), code, first, last)


@router.get("/api/war/product", tags=["both sides"], response_model=WarProductOut, responses=WAR_ERRORS)
async def war_product(request: Request, hts10: str | None = hts10_q, from_: str | None = from_q,
                      to: str | None = to_q) -> Response:
    """The U.S. duty on the Chinese product and China's on the U.S. one, on every date (``war HTS10``)."""
    code = need("hts10", hts10)
    return await cached_async(request, lambda: _product(request, code, from_, to).to_json(), tag=_tag(request))


@router.get("/api/war/product.svg", tags=["both sides"], response_class=Response, responses=SVG_RESPONSES)
async def war_product_svg(request: Request, hts10: str | None = hts10_q, from_: str | None = from_q,
                          to: str | None = to_q) -> Response:
    """Both sides of one product over time, the 2025 events marked (SVG)."""
    from tariffstack.stats import war

    code = need("hts10", hts10)
    return await _svg(request, lambda buf: war.plot_product(_product(request, code, from_, to), buf, "svg"),
                      _tag(request))


def _averages(request: Request, first: str | None, last: str | None, with_series: bool) -> dict[str, Any]:
    """Both averages on the WTO dates (and the series over a range), computed once per built store.

    The series is computed once over everything both sides cover and clipped for other ranges,
    so no request pays for the seconds of the U.S. effective-rate computation twice.
    """
    from tariffstack.engine.us import parse_date

    with blame("from"):
        lo = parse_date(first) if first else None
    with blame("to"):
        hi = parse_date(last) if last else None
    if lo is not None and hi is not None and hi < lo:
        raise BadInput(f"from {lo} is after to {hi}", field="from")
    full = _full(service_of(request), china(request), _war(request))
    out = {"wto_dates": full["wto_dates"], "us_weights": full["us_weights"], "cn_weights": full["cn_weights"],
           "series": None}
    if with_series:
        with blame("from"):
            out["series"] = full["series"].clip(lo, hi)
    return out


def _full(svc: Any, cn: ChinaEngine, w: _War) -> dict[str, Any]:
    """Both averages (nine WTO dates and the series) for the current store, computed once."""
    from tariffstack.panel import Panel
    from tariffstack.stats import war
    from tariffstack.stats.weights import default_weights_dir, load

    key = svc.store_tag()
    with w.series_lock:
        got = w.series.get(key)
        if got is not None:
            return got
        try:
            panel = Panel.open(Path(svc.home))
        except (TariffstackError, OSError) as exc:
            raise StoreMissing(f"no rate panel in {svc.home}: run 'tariffstack build' first (the U.S. average "
                               "needs it)") from exc
        try:
            rows, series = war.both_averages(cn, panel, load(default_weights_dir(Path(svc.data_dir))))
        finally:
            panel.db.close()
        out: dict[str, Any] = {"wto_dates": rows, "us_weights": war.US_WEIGHTS, "cn_weights": war.CN_WEIGHTS,
                               "series": series}
        w.series[key] = out
        while len(w.series) > SERIES_CACHE:
            w.series.popitem(last=False)
        return out


def _warm(svc: Any, cn: ChinaEngine, w: _War) -> None:
    """Compute the averages in the background once China's engine is up (they take seconds)."""
    try:
        _full(svc, cn, w)
    except Exception as exc:  # noqa: BLE001 - a missing store or bad weights answer later, per request
        log.info("both-sides averages not precomputed: %s", exc)


@router.get("/api/war/average", tags=["both sides"], response_model=WarAverageOut, responses=WAR_ERRORS)
async def war_average(request: Request, from_: str | None = from_q, to: str | None = to_q,
                      series: bool = Query(False, examples=[False],
                                           description="Add both step series over the range (seconds)")) -> Response:
    """Import-weighted average duty each way on the WTO dates (``tariffstack war --average --json``).

    Needs 'tariffstack build' (503 without the store)."""
    def make() -> dict[str, Any]:
        got = _averages(request, from_, to, series)
        return {**got, "series": got["series"].to_json() if got["series"] is not None else None}

    return await cached_async(request, make, tag=_tag(request) + service_of(request).store_tag())


@router.get("/api/war/average.svg", tags=["both sides"], response_class=Response, responses=SVG_RESPONSES)
async def war_average_svg(request: Request, from_: str | None = from_q, to: str | None = to_q) -> Response:
    """Both averages over 2025-2026 as step series, the 2025 events marked (SVG)."""
    from tariffstack.stats import war

    return await _svg(request, lambda buf: war.plot_averages(_averages(request, from_, to, True)["series"], buf, "svg"),
                      _tag(request) + service_of(request).store_tag())
