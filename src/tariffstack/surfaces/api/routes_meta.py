"""Liveness, the origins and the revisions loaded."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tariffstack import __version__
from tariffstack.law import countries
from tariffstack.surfaces.api.errors import JsonResponse
from tariffstack.surfaces.api.http import cached, service_of
from tariffstack.surfaces.api.schemas import ERRORS, CountriesOut, HealthOut, RevisionsOut

router = APIRouter()


@router.get("/api/health", tags=["meta"], response_model=HealthOut, responses=ERRORS)
async def health(request: Request) -> Response:
    """Liveness and what is loaded (never cached)."""
    m = service_of(request).engine.model
    return JsonResponse({
        "status": "ok", "version": __version__, "revisions": len(m.revisions),
        "newest_revision": m.revisions[-1].name,
        "coverage": {"first": m.first_date.isoformat(), "last": m.last_date.isoformat()},
        "data_age_days": (date.today() - m.last_date).days,
    }, headers={"Cache-Control": "no-store"})


@router.get("/api/countries", tags=["meta"], response_model=CountriesOut, responses=ERRORS)
async def countries_list(request: Request) -> Response:
    """Every origin the engine knows, with codes and aliases, and the named groups."""
    def make() -> dict[str, Any]:
        return {
            "countries": [{"iso2": c.iso2, "iso3": c.iso3, "name": c.name,
                           "census_code": c.census_code, "aliases": list(c.aliases)}
                          for c in countries.all_countries()],
            "groups": {k: sorted(v) for k, v in countries.GROUPS.items()},
        }
    return cached(request, make)


@router.get("/api/revisions", tags=["meta"], response_model=RevisionsOut, responses=ERRORS)
async def revisions(request: Request) -> Response:
    """The HTS revisions loaded, the date each takes effect, and coverage."""
    def make() -> dict[str, Any]:
        m = service_of(request).engine.model
        return {"coverage": {"first": m.first_date.isoformat(), "last": m.last_date.isoformat()},
                "revisions": m.revision_rows()}
    return cached(request, make)
