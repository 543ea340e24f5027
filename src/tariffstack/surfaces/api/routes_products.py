"""Finding products: search in everyday words or by code prefix, one line with its MFN history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from tariffstack.surfaces.api.http import cached, service_of
from tariffstack.surfaces.api.params import date_q
from tariffstack.surfaces.api.schemas import ERRORS, ProductOut, SearchOut

MAX_SEARCH = 50


router = APIRouter()


@router.get("/api/search", tags=["products"], response_model=SearchOut, responses=ERRORS)
async def search(request: Request,
                 q: str = Query(..., min_length=1, max_length=200, examples=["smartphones"],
                                description="Words ('smartphones') or an HTS prefix ('7208.51')"),
                 limit: int = Query(20, ge=1, le=MAX_SEARCH, examples=[5],
                                    description="Most hits to return")) -> Response:
    """Ranked full-text search of product descriptions, or the lines under a code prefix."""
    def make() -> dict[str, Any]:
        hits = service_of(request).engine.search(q, limit=limit)
        return {"query": q, "hits": [h.to_json() for h in hits]}
    return cached(request, make)


@router.get("/api/product/{hts10}", tags=["products"], response_model=ProductOut,
         responses=ERRORS)
async def product(request: Request,
                  hts10: str = PathParam(..., min_length=1, max_length=24,
                                         description="HTS code, e.g. 8517.13.0000",
                                         examples=["8517.13.0000"]),
                  day: str | None = date_q) -> Response:
    """One product line: description path, MFN rate columns, footnotes and MFN history."""
    return cached(request, lambda: service_of(request).product(hts10, day))
