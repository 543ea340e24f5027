"""What each endpoint answers, declared so the OpenAPI document is the contract.

Endpoints return ready-made JSON (cached bytes with an ETag); these models only describe it.
tests/test_openapi.py validates real answers against the served document, so drift fails CI.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    """Base of the documented shapes: extra keys are allowed (new fields must not break clients)."""

    model_config = ConfigDict(populate_by_name=True)


class ErrorDetail(_Out):
    """Why a request failed: a stable ``type``, a sentence, and the parameter at fault."""

    type: str = Field(examples=["unknown_country"])
    message: str = Field(examples=["unknown country 'Chna'. Did you mean: China (CN), Chad (TD)?"])
    field: str | None = Field(examples=["origin"])
    suggestions: list[str] | None = Field(None, description="Close names (unknown_country)")
    details: list[dict[str, str]] | None = Field(None, description="Every validation problem")


class ErrorOut(_Out):
    """The one error shape every 4xx/5xx answer has."""

    error: ErrorDetail


def _err(why: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": why}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _err("Malformed request (bad Content-Length, invalid JSON body)"),
    404: _err("Unknown product, country, page or endpoint"),
    413: _err("Request body too large"),
    414: _err("Query string too long"),
    415: _err("Unsupported body content type"),
    422: _err("A parameter is missing or invalid; `field` names it"),
}
DIFF_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 503: _err("The rate panel is not built: run 'tariffstack build'")}


class Coverage(_Out):
    first: str = Field(description="First date covered (YYYY-MM-DD)")
    last: str = Field(description="Newest date covered (YYYY-MM-DD)")


class HealthOut(_Out):
    status: str
    version: str
    revisions: int
    newest_revision: str
    coverage: Coverage
    data_age_days: int = Field(description="Days from the last date the law on file covers to today")


class SearchHitOut(_Out):
    hts: str = Field(description="Dotted code as printed (heading, 8 or 10 digits)")
    description: str
    path: list[str]
    score: float
    short: str | None = Field(None, description="Own description, led by the nearest "
                                                "informative ancestor when it is 'Other'")
    heading: str | None = Field(None, description="The 4-digit heading's description")
    general: str | None = Field(None, description="Column 1 General (MFN) rate text")


class SearchOut(_Out):
    query: str
    hits: list[SearchHitOut]


class Mfn(_Out):
    general: str | None
    special: str | None
    other: str | None
    rate_line: str | None = Field(description="The line whose rate texts these are")


class MfnHistory(_Out):
    revision: str
    until_revision: str
    in_force_from: str
    general: str | None
    special: str | None
    other: str | None


class ProductOut(_Out):
    hts10: str
    hts: str
    description: str
    path: list[str]
    units: list[str]
    mfn: Mfn
    footnotes: list[str]
    chapter99: list[str]
    date: str
    revision: str
    history: list[MfnHistory]


class LayerOut(_Out):
    layer: str = Field(examples=["ieepa_fentanyl"])
    rate_pct: float | None
    specific: str | None
    heading: str | None
    revision: str | None
    effective_from: str | None
    effective_to: str | None
    reason: str
    source: str | None = Field(description="Legal citation, e.g. '90 FR 15041' or a CSMS number")
    applies_to: str | None
    exempt: bool
    summary: str | None
    in_force_since: str | None


class DeMinimisOut(_Out):
    eligible: bool | None
    threshold_usd: float
    reason: str
    source: str | None


class RateOut(_Out):
    """Same JSON as ``tariffstack rate --json``."""

    hts10: str
    description: str
    path: list[str]
    origin: str
    origin_name: str
    entry_date: str
    revision: str
    layers: list[LayerOut]
    total_additional_pct: float
    total_pct: float
    specific: list[str]
    notes: list[str]
    de_minimis: DeMinimisOut | None
    inputs: dict[str, Any]


class Extreme(_Out):
    total_pct: float | None
    origins: list[str]


class CompareRow(_Out):
    origin: str
    name: str
    total_pct: float
    total_additional_pct: float
    specific: list[str]
    layers: dict[str, float]
    headings: list[str]


class CompareError(_Out):
    origin: str
    name: str
    message: str


class CompareOut(_Out):
    hts10: str
    description: str
    date: str
    layers: list[str]
    least: Extreme
    most: Extreme
    rows: list[CompareRow] = Field(description="Every origin, cheapest first")
    errors: list[CompareError]


class SegmentOut(_Out):
    valid_from: str
    valid_until: str
    total_pct: float | None
    layers: dict[str, float]
    headings: list[str]
    revision: str | None
    changes: list[str]


class TimelineOut(_Out):
    hts10: str
    description: str
    from_: str = Field(alias="from")
    to: str
    origins: dict[str, list[SegmentOut]]


class DiffLayer(_Out):
    layer: str
    pairs: int
    mean_old: float | None
    mean_new: float | None


class DiffChapter(_Out):
    chapter: str
    pairs: int


class DiffCause(_Out):
    kind: str
    heading: str
    pairs: int


class DiffOut(_Out):
    from_: str = Field(alias="from")
    to: str
    origins: list[str] | None
    prefix: str | None
    layer: str | None
    changed: int
    by_kind: dict[str, int]
    by_layer: list[DiffLayer]
    by_chapter: list[DiffChapter]
    causes: list[DiffCause]
    rows: list[dict[str, Any]]


class CountryOut(_Out):
    iso2: str
    iso3: str
    name: str
    census_code: str | None
    aliases: list[str]


class CountriesOut(_Out):
    countries: list[CountryOut]
    groups: dict[str, list[str]]


class RevisionOut(_Out):
    revision: str
    published: str | None
    lines_from: str                        # the day its product lines take over
    changes_effective: list[str] | None    # first and last legal effective date in its change record
    product_lines: int
    changes: int | None                    # None: no change record on file


class RevisionsOut(_Out):
    coverage: Coverage
    revisions: list[RevisionOut]


class NewsTarget(_Out):
    kind: str
    text: str
    country: str | None
    products: list[str]


class NewsEvidence(_Out):
    kind: str
    text: str
    heading: str | None
    rate_pct: float | None
    source: str | None


class NewsClaim(_Out):
    kind: str
    start: int = Field(description="Code-point offset of the claim in the text")
    end: int
    fragment: str
    sentence: str
    actor: str
    actor_text: str
    actor_country: str | None
    target: NewsTarget
    rate_pct: float | None
    date: str
    verdict: str
    explanation: str
    evidence: list[NewsEvidence]
    effective_date: str = Field(description="The day the verdict speaks of (YYYY-MM-DD)")
    date_source: str = Field(description="Where that day comes from: 'article' (the article's "
                             "date), 'stated' (a day the claim's words give) or "
                             "'implementing_measure' (the legal effective date of the measure "
                             "that carried an announcement out)")


class NewsRemoved(_Out):
    start: int
    end: int
    why: str


class NewsOut(_Out):
    date: str
    date_source: str
    length: int
    claims: list[NewsClaim]
    summary: dict[str, int]
    removed: list[NewsRemoved]
    notes: list[str]


# ================================================================================================
# Responses, caching, limits
# ================================================================================================
