"""The duty stack, every origin compared, timelines (JSON and chart) and diffs between dates."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tariffstack.engine.us import Inputs
from tariffstack.models import LAYER_ORDER
from tariffstack.surfaces.api.http import cached, cached_async, service_of
from tariffstack.surfaces.api.params import (
    code_q,
    date_q,
    end_q,
    first_of,
    from_q,
    hts10_q,
    inputs_d,
    need,
    origins_q,
    start_q,
    to_q,
)
from tariffstack.surfaces.api.schemas import (
    DIFF_ERRORS,
    ERRORS,
    CompareOut,
    DiffOut,
    RateOut,
    TimelineOut,
)

MAX_DIFF = 1000


router = APIRouter()


@router.get("/api/rate", tags=["duties"], response_model=RateOut, responses=ERRORS)
async def rate(request: Request, hts10: str | None = hts10_q, code: str | None = code_q,
               origin: str = Query(..., min_length=1, max_length=64, examples=["CN"],
                                   description="Country: ISO code, name or Census code"),
               day: str | None = date_q, inputs: Inputs = inputs_d) -> Response:
    """The duty stack (same JSON as ``tariffstack rate HTS10 --origin --date --json``)."""
    key = need("hts10", hts10, code)
    return cached(request, lambda: service_of(request).rate(key, origin, day, inputs).to_json())


@router.get("/api/compare", tags=["duties"], response_model=CompareOut, responses=ERRORS)
async def compare(request: Request, hts10: str | None = hts10_q, code: str | None = code_q,
                  day: str | None = date_q, inputs: Inputs = inputs_d) -> Response:
    """Every origin's total for one product on one date, cheapest first."""
    key = need("hts10", hts10, code)
    return await cached_async(request, lambda: service_of(request).compare(key, day, inputs))


@router.get("/api/timeline", tags=["duties"], response_model=TimelineOut, responses=ERRORS)
async def timeline(request: Request, hts10: str | None = hts10_q, code: str | None = code_q,
                   origins: str = origins_q, from_: str | None = from_q,
                   to: str | None = to_q, start: str | None = start_q,
                   end: str | None = end_q) -> Response:
    """Each origin's stack over time (``tariffstack timeline HTS10 --origin --from --to``)."""
    key = need("hts10", hts10, code)
    first, last = first_of(from_, start), first_of(to, end)
    return await cached_async(
        request, lambda: service_of(request).timeline(key, origins, first, last).to_json())


@router.get("/api/timeline.svg", tags=["duties"], response_class=Response,
         responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}},
                          "description": "The chart"}, **ERRORS})
async def timeline_svg(request: Request, hts10: str | None = hts10_q,
                       code: str | None = code_q, origins: str = origins_q,
                       from_: str | None = from_q, to: str | None = to_q,
                       start: str | None = start_q, end: str | None = end_q) -> Response:
    """The stacked step chart of every layer over time, one panel per origin (SVG)."""
    key = need("hts10", hts10, code)
    first, last = first_of(from_, start), first_of(to, end)
    resp = await cached_async(
        request, lambda: service_of(request).timeline_svg(key, origins, first, last),
        media_type="image/svg+xml")
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return resp


@router.get("/api/diff", tags=["duties"], response_model=DiffOut, responses=DIFF_ERRORS)
async def diff(request: Request,
               from_: str | None = Query(None, alias="from", max_length=32,
                                         examples=["2025-04-01"],
                                         description="Earlier date YYYY-MM-DD (required)"),
               to: str | None = Query(None, alias="to", max_length=32,
                                      examples=["2025-05-02"],
                                      description="Later date YYYY-MM-DD (required)"),
               start: str | None = start_q, end: str | None = end_q,
               origins: str | None = Query(None, max_length=700, examples=["CN,MX"],
                                           description="Comma-separated origins (default all)"),
               chapter: str | None = Query(None, pattern=r"^\d{1,2}$", examples=["85"],
                                           description="Only this chapter (2 digits)"),
               heading: str | None = Query(None, pattern=r"^\d{2,4}(?:\.?\d{2}){0,3}$",
                                           examples=["8517.13"],
                                           description="Only this heading or subheading "
                                                       "prefix: 8517, 8517.13"),
               prefix: str | None = Query(None, pattern=r"^\d{2,4}(?:\.?\d{2}){0,3}$",
                                          deprecated=True,
                                          description="Deprecated alias of `heading`"),
               layer: str | None = Query(None, pattern="^(" + "|".join(LAYER_ORDER) + ")$",
                                         examples=["ieepa_reciprocal"],
                                         description="Only changes in this layer"),
               limit: int = Query(100, ge=1, le=MAX_DIFF, examples=[20],
                                  description="Rows to return")) -> Response:
    """What changed between two dates across every product and origin (``tariffstack diff
    --from --to``; needs 'tariffstack build', 503 without the store)."""
    first, last = need("from", from_, start), need("to", to, end)
    scope = first_of(heading, prefix) or (chapter.zfill(2) if chapter else None)
    return await cached_async(
        request, lambda: service_of(request).diff(first, last, origins, scope, layer, limit),
        tag=service_of(request).store_tag())
