"""HTTP API and web page over the in-memory engine (FastAPI, served by ``tariffstack serve``).

One process answers JSON questions (search, product, rate, timeline, diff, origins, news check)
and serves the hand-written page in ``web/``. Every error a user can cause becomes a JSON body
``{"error": {"type", "message", "field"}}`` with a 4xx status, so the page can show a sentence
instead of a stack trace. Answers depend only on the URL and the loaded revisions, so GET
answers carry an ETag derived from both and can be revalidated for free.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, countries, news
from .config import default_data_dir, default_home
from .engine import Engine, Inputs, parse_date, parse_hts
from .errors import (
    BadInput,
    DataError,
    DateOutOfRange,
    TariffstackError,
    UnknownCountry,
    UnknownProduct,
)
from .models import LAYER_ORDER, RateResult
from .timeline import MAX_ORIGINS, Timeline, plot_timeline
from .timeline import timeline as build_timeline

T = TypeVar("T")
log = logging.getLogger("tariffstack.api")

WEB_DIR = Path(__file__).resolve().parent / "web"
MAX_QUERY_STRING = 4096                  # bytes of URL query; real queries are < 300
MAX_BODY = 2 * news.MAX_BYTES + 4096     # a JSON-escaped article of news.MAX_BYTES fits
MAX_SEARCH = 50
MAX_DIFF = 1000
NEWS_EXAMPLE = ("date 2025-05-02\nChinese goods now face duties of 145 percent, while "
                "smartphones were exempted from the reciprocal tariff.")
SVG_CACHE = 64                           # charts kept in memory (about 100 kB each)
DATA_CACHE = "public, max-age=3600"      # revision data is immutable; ETag revalidates
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
PAGE_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    b"form-action 'self'"
)


# ================================================================================================
# Errors
# ================================================================================================


class ApiError(Exception):
    """An error answer: HTTP status, a stable type name, a sentence and the field at fault."""

    def __init__(self, status: int, type_: str, message: str, field: str | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.field = field
        self.extra = extra


def _error_body(status: int, type_: str, message: str, field: str | None = None,
                **extra: Any) -> Response:
    err: dict[str, Any] = {"type": type_, "message": message, "field": field, **extra}
    return JsonResponse({"error": err}, status_code=status, headers={"Cache-Control": "no-store"})


def from_tariffstack(exc: TariffstackError, field: str | None = None) -> ApiError:
    """Map the engine's error classes to HTTP: unknown things 404, bad values 422, data 503."""
    if isinstance(exc, UnknownCountry):
        msg = str(exc)
        if not exc.suggestions:  # nothing close to suggest: say where the valid names are
            msg += " (GET /api/countries lists every origin)"
        return ApiError(404, "unknown_country", msg, field or "origin",
                        suggestions=list(exc.suggestions))
    if isinstance(exc, UnknownProduct):
        return ApiError(404, "unknown_product", str(exc), field or "hts10")
    if isinstance(exc, DateOutOfRange):
        return ApiError(422, "date_out_of_range", str(exc), field or "date")
    if isinstance(exc, BadInput):
        if field is None and "program" in str(exc):
            field = "program"
        return ApiError(422, "bad_input", str(exc), field)
    if isinstance(exc, DataError):
        return ApiError(503, "data_error", str(exc), field)
    return ApiError(500, "error", str(exc), field)


def checked(field: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` and blame ``field`` for any tariffstack error it raises."""
    try:
        return fn()
    except TariffstackError as exc:
        raise from_tariffstack(exc, field) from exc


# ================================================================================================
# Response models: what each endpoint answers, declared so the OpenAPI document is the contract
# ================================================================================================
# Endpoints return ready-made JSON (cached bytes with an ETag); these models only describe it.
# tests/test_openapi.py validates real answers against the served document, so drift fails CI.


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


class JsonResponse(JSONResponse):
    """Compact UTF-8 JSON; NaN is refused (it is not JSON). A JSONResponse subclass, so the
    OpenAPI document shows the declared response models as application/json."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")


def _etag(model_tag: str, request: Request) -> str:
    key = f"{model_tag}\n{request.url.path}\n{request.url.query}".encode()
    return 'W/"' + hashlib.sha256(key).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag.removeprefix("W/") in tags


class Limits:
    """Pure ASGI middleware: refuses huge requests before they are read, adds safety headers.

    A body larger than ``MAX_BODY`` (by Content-Length or by counting a chunked stream) gets
    413, a query string over ``MAX_QUERY_STRING`` gets 414, all as JSON error bodies.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        qs: bytes = scope.get("query_string", b"")
        if len(qs) > MAX_QUERY_STRING:
            await _error_body(414, "uri_too_long", f"the query string is {len(qs):,} bytes; the "
                              f"limit is {MAX_QUERY_STRING:,}")(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                await _error_body(400, "bad_request", "Content-Length is not a number")(
                    scope, receive, send)
                return
            if n > MAX_BODY:
                await _error_body(413, "payload_too_large", f"the request body is {n:,} bytes; "
                                  f"the limit is {MAX_BODY:,}", "body")(scope, receive, send)
                return
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html"):
                    headers.append((b"content-security-policy", PAGE_CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Static(StaticFiles):
    """Package assets, revalidated on every load (they change with the package, not the URL)."""

    def file_response(self, full_path: Any, stat_result: Any, scope: Scope,
                      status_code: int = 200) -> Response:
        resp = super().file_response(full_path, stat_result, scope, status_code)
        resp.headers["Cache-Control"] = "no-cache"
        return resp


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) more than ``limit`` bytes even without a Content-Length."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large",
                           f"the request body exceeds the limit of {limit:,} bytes", "body")
        chunks.append(chunk)
    return b"".join(chunks)


# ================================================================================================
# The service: engine plus what the endpoints share
# ================================================================================================


@dataclass
class Service:
    """The engine and the resources endpoints share (China data, chart lock, model tag)."""

    engine: Engine
    data_dir: Path
    home: Path
    model_tag: str = ""
    plot_lock: threading.Lock = field(default_factory=threading.Lock)
    _svg_cache: OrderedDict[tuple[Any, ...], bytes] = field(default_factory=OrderedDict)
    _china: Any = None
    _china_loaded: bool = False
    _china_lock: threading.Lock = field(default_factory=threading.Lock)

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
        day = checked(field, lambda: parse_date(text))
        checked(field, lambda: self.engine.check_date(day))
        return day

    def origin(self, text: str, field: str = "origin") -> countries.Country:
        return checked(field, lambda: countries.resolve(text))

    def origins(self, text: str, field: str = "origins") -> list[str]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        if not items:
            raise ApiError(422, "bad_input", "give at least one origin, e.g. CN,MX,DE", field)
        if len(items) > MAX_ORIGINS:
            raise ApiError(422, "too_many", f"{len(items)} origins given; the limit is "
                           f"{MAX_ORIGINS}", field)
        out: list[str] = []
        for item in items:
            iso = self.origin(item, field).iso2
            if iso not in out:
                out.append(iso)
        return out

    def code(self, text: str, field: str = "hts10") -> str:
        return checked(field, lambda: parse_hts(text))

    # -- answers -------------------------------------------------------------------------------
    def rate(self, code: str, origin: str, day: str | None, inputs: Inputs) -> RateResult:
        self.code(code)
        when = self.day(day)
        iso = self.origin(origin).iso2
        try:
            return self.engine.rate(code, iso, when, inputs)
        except TariffstackError as exc:
            raise from_tariffstack(exc) from exc

    def product(self, code: str, day: str | None) -> dict[str, Any]:
        self.code(code)
        when = self.day(day)
        model = self.engine.model
        line = checked("hts10", lambda: self.engine.line(code, when))
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
        line = checked("hts10", lambda: self.engine.line(code, when))
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
            raise ApiError(422, "bad_input", f"from {first} is after to {last}", "from")
        try:
            return build_timeline(self.engine, code, isos, first, last)
        except TariffstackError as exc:
            raise from_tariffstack(exc) from exc

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
            raise ApiError(422, "bad_input", f"from {first} is after to {last}", "from")
        isos = self.origins(origins) if origins else None
        try:
            from . import panel
        except ImportError as exc:
            raise ApiError(503, "store_missing", "the diff needs the rate panel, which this "
                           f"installation cannot read ({exc}); run 'tariffstack build'") from exc
        try:
            p = panel.Panel.open(self.home)
        except (TariffstackError, OSError) as exc:
            raise ApiError(503, "store_missing", f"no rate panel in {self.home}: run "
                           "'tariffstack build' first") from exc
        try:
            return p.diff(first, last, origins=isos, prefix=prefix, layer=layer).to_json(limit=limit)
        except TariffstackError as exc:
            raise from_tariffstack(exc, "heading" if "prefix" in str(exc) else None) from exc
        finally:
            p.db.close()

    def store_tag(self) -> str:
        """Which built store is current: a rebuild must not be served from a stale ETag."""
        link = self.home / "panel"
        try:
            return str(link.resolve(strict=True).name)
        except OSError:
            return "no-store"

    def china(self) -> Any:
        """China's notices for news checks (optional data, loaded once)."""
        with self._china_lock:
            if not self._china_loaded:
                from .china import ChinaTariffs

                folder = self.data_dir.parent / "china"
                try:
                    self._china = ChinaTariffs.load(folder) if folder.is_dir() else None
                except TariffstackError as exc:
                    log.warning("China data not loaded: %s", exc)
                    self._china = None
                self._china_loaded = True
            return self._china

    def check_news(self, text: str | bytes, day: date | None) -> dict[str, Any]:
        try:
            article = news.read_article(text, day)
        except BadInput as exc:
            msg = str(exc)
            fld = "date" if "date" in msg.split(":")[0] else "text"
            status = 413 if "too large" in msg else 422
            raise ApiError(status, "payload_too_large" if status == 413 else "bad_input", msg,
                           fld) from exc
        claims = news.check(article, self.engine, self.china())
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


# ================================================================================================
# The application
# ================================================================================================


def _inputs(loading_date: str | None, usmca: bool, metal_content_share: float | None,
            us_content_share: float | None, melt_pour_country: str | None, program: str | None,
            value_usd: float | None) -> Inputs:
    loading = checked("loading_date", lambda: parse_date(loading_date)) if loading_date else None
    melt = None
    if melt_pour_country:
        melt = checked("melt_pour_country", lambda: countries.resolve(melt_pour_country)).iso2
    return Inputs(loading_date=loading, usmca_claimed=usmca,
                  metal_content_share=metal_content_share, us_content_share=us_content_share,
                  melt_pour_country=melt, program=(program or "").strip() or None,
                  value_usd=value_usd)


def create_app(engine: Engine | None = None, *, data_dir: Path | None = None,
               home: Path | None = None) -> FastAPI:
    """The ASGI app over one loaded engine (loaded here when not given)."""
    data_dir = data_dir or default_data_dir()
    home = home or default_home()
    svc = Service(engine or Engine.load(data_dir, home), data_dir, home)
    app = FastAPI(
        title="tariffstack",
        version=__version__,
        summary="U.S. tariff duty stacks per HTS-10 product, origin and date, with legal sources.",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
        default_response_class=JsonResponse,
    )
    app.state.service = svc
    app.add_middleware(GZipMiddleware, minimum_size=4096)   # charts and tables shrink ~8x
    app.add_middleware(Limits)

    # -- error handlers -----------------------------------------------------------------------
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error_body(exc.status, exc.type, exc.message, exc.field, **exc.extra)

    async def on_tariffstack(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TariffstackError)
        e = from_tariffstack(exc)
        return _error_body(e.status, e.type, e.message, e.field, **e.extra)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errs = list(exc.errors())
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        loc = [str(x) for x in first.get("loc", ())]
        fld = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else None)
        msg = str(first.get("msg", "invalid value"))
        return _error_body(422, "validation_error", f"{fld}: {msg}" if fld else msg, fld,
                           details=[{"field": ".".join(str(x) for x in e.get("loc", ())[1:]),
                                     "message": str(e.get("msg", ""))} for e in errs[:10]])

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kinds = {404: "not_found", 405: "method_not_allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"no such page or endpoint: {request.url.path[:200]}"
        resp = _error_body(exc.status_code, kinds.get(exc.status_code, "http_error"), detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return _error_body(500, "internal_error",
                           f"internal error ({type(exc).__name__}); the server keeps running")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(TariffstackError, on_tariffstack)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)

    def cached(request: Request, make: Callable[[], Any], media_type: str | None = None,
               tag: str = "") -> Response:
        etag = _etag(svc.model_tag + tag, request)
        headers = {"ETag": etag, "Cache-Control": DATA_CACHE}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        body = make()
        if media_type is not None:
            return Response(body, media_type=media_type, headers=headers)
        return JsonResponse(body, headers=headers)

    async def cached_async(request: Request, make: Callable[[], Any],
                           media_type: str | None = None, tag: str = "") -> Response:
        """``cached`` with the work in a thread: for answers that take tens of milliseconds."""
        etag = _etag(svc.model_tag + tag, request)
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": DATA_CACHE})
        body = await run_in_threadpool(make)
        return cached(request, lambda: body, media_type, tag)

    # -- shared parameter declarations --------------------------------------------------------
    # One naming scheme with the CLI and the JSON answers: hts10, origin(s), date, from, to,
    # chapter, heading, layer. The names used before (code, start, end, prefix) still work as
    # deprecated aliases, so links already shared keep their meaning (see docs/API.md).
    hts10_q = Query(None, min_length=1, max_length=24,
                    description="HTS code: 10, 8 or 6 digits, dots optional (required)",
                    examples=["8517.13.0000"])
    code_q = Query(None, min_length=1, max_length=24, deprecated=True,
                   description="Deprecated alias of `hts10`", examples=["8517.13.0000"])
    date_q = Query(None, alias="date", max_length=32, examples=["2025-05-02"],
                   description="Entry date YYYY-MM-DD (default: newest date covered)")
    origins_q = Query("CN", max_length=700, examples=["CN,MX,DE"],
                      description="Comma-separated origins (codes or names), up to "
                                  f"{MAX_ORIGINS}")
    from_q = Query(None, alias="from", max_length=32, examples=["2025-01-01"],
                   description="First date YYYY-MM-DD (default: first date covered)")
    to_q = Query(None, alias="to", max_length=32, examples=["2025-12-31"],
                 description="Last date YYYY-MM-DD (default: newest date covered)")
    start_q = Query(None, max_length=32, deprecated=True, description="Deprecated alias of `from`")
    end_q = Query(None, max_length=32, deprecated=True, description="Deprecated alias of `to`")

    def need(name: str, *values: str | None) -> str:
        """The first given of a parameter and its aliases; 422 naming it when none is."""
        for v in values:
            if v is not None and v.strip():
                return v
        raise ApiError(422, "validation_error", f"{name}: Field required", name)

    def first_of(*values: str | None) -> str | None:
        return next((v for v in values if v is not None and v.strip()), None)

    def inputs_dep(
        loading_date: str | None = Query(None, max_length=32, examples=["2025-04-01"],
                                         description="Date loaded for export (in-transit rules)"),
        usmca: bool = Query(False, description="Claim USMCA preference (general note 11)",
                            examples=[False]),
        metal_content_share: float | None = Query(
            None, ge=0, le=1, allow_inf_nan=False, examples=[0.6],
            description="Share of value that is Section 232 metal (0-1)"),
        us_content_share: float | None = Query(None, ge=0, le=1, allow_inf_nan=False,
                                               examples=[0.2],
                                               description="Share of value that is U.S. content"),
        melt_pour_country: str | None = Query(None, max_length=64, examples=["DE"],
                                              description="Where the steel was melted and poured"),
        program: str | None = Query(None, max_length=8, pattern=r"^[A-Za-z+]{1,8}$",
                                    examples=["KR"],
                                    description="Special program code (column 1 Special)"),
        value_usd: float | None = Query(None, ge=0, le=1e12, allow_inf_nan=False,
                                        examples=[650],
                                        description="Customs value in USD (de minimis check)"),
    ) -> Inputs:
        return _inputs(loading_date, usmca, metal_content_share, us_content_share,
                       melt_pour_country, program, value_usd)

    inputs_d = Depends(inputs_dep)

    # -- endpoints ----------------------------------------------------------------------------
    @app.get("/api/health", tags=["meta"], response_model=HealthOut, responses=ERRORS)
    async def health() -> Response:
        """Liveness and what is loaded (never cached)."""
        m = svc.engine.model
        return JsonResponse({
            "status": "ok", "version": __version__, "revisions": len(m.revisions),
            "newest_revision": m.revisions[-1].name,
            "coverage": {"first": m.first_date.isoformat(), "last": m.last_date.isoformat()},
            "data_age_days": (date.today() - m.last_date).days,
        }, headers={"Cache-Control": "no-store"})

    @app.get("/api/search", tags=["products"], response_model=SearchOut, responses=ERRORS)
    async def search(request: Request,
                     q: str = Query(..., min_length=1, max_length=200, examples=["smartphones"],
                                    description="Words ('smartphones') or an HTS prefix ('7208.51')"),
                     limit: int = Query(20, ge=1, le=MAX_SEARCH, examples=[5],
                                        description="Most hits to return")) -> Response:
        """Ranked full-text search of product descriptions, or the lines under a code prefix."""
        def make() -> dict[str, Any]:
            hits = svc.engine.search(q, limit=limit)
            return {"query": q, "hits": [h.to_json() for h in hits]}
        return cached(request, make)

    @app.get("/api/product/{hts10}", tags=["products"], response_model=ProductOut,
             responses=ERRORS)
    async def product(request: Request,
                      hts10: str = PathParam(..., min_length=1, max_length=24,
                                             description="HTS code, e.g. 8517.13.0000",
                                             examples=["8517.13.0000"]),
                      day: str | None = date_q) -> Response:
        """One product line: description path, MFN rate columns, footnotes and MFN history."""
        return cached(request, lambda: svc.product(hts10, day))

    @app.get("/api/rate", tags=["duties"], response_model=RateOut, responses=ERRORS)
    async def rate(request: Request, hts10: str | None = hts10_q, code: str | None = code_q,
                   origin: str = Query(..., min_length=1, max_length=64, examples=["CN"],
                                       description="Country: ISO code, name or Census code"),
                   day: str | None = date_q, inputs: Inputs = inputs_d) -> Response:
        """The duty stack (same JSON as ``tariffstack rate HTS10 --origin --date --json``)."""
        key = need("hts10", hts10, code)
        return cached(request, lambda: svc.rate(key, origin, day, inputs).to_json())

    @app.get("/api/compare", tags=["duties"], response_model=CompareOut, responses=ERRORS)
    async def compare(request: Request, hts10: str | None = hts10_q, code: str | None = code_q,
                      day: str | None = date_q, inputs: Inputs = inputs_d) -> Response:
        """Every origin's total for one product on one date, cheapest first."""
        key = need("hts10", hts10, code)
        return await cached_async(request, lambda: svc.compare(key, day, inputs))

    @app.get("/api/timeline", tags=["duties"], response_model=TimelineOut, responses=ERRORS)
    async def timeline(request: Request, hts10: str | None = hts10_q, code: str | None = code_q,
                       origins: str = origins_q, from_: str | None = from_q,
                       to: str | None = to_q, start: str | None = start_q,
                       end: str | None = end_q) -> Response:
        """Each origin's stack over time (``tariffstack timeline HTS10 --origin --from --to``)."""
        key = need("hts10", hts10, code)
        first, last = first_of(from_, start), first_of(to, end)
        return await cached_async(
            request, lambda: svc.timeline(key, origins, first, last).to_json())

    @app.get("/api/timeline.svg", tags=["duties"], response_class=Response,
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
            request, lambda: svc.timeline_svg(key, origins, first, last),
            media_type="image/svg+xml")
        resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return resp

    @app.get("/api/diff", tags=["duties"], response_model=DiffOut, responses=DIFF_ERRORS)
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
            request, lambda: svc.diff(first, last, origins, scope, layer, limit),
            tag=svc.store_tag())

    @app.get("/api/countries", tags=["meta"], response_model=CountriesOut, responses=ERRORS)
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

    @app.get("/api/revisions", tags=["meta"], response_model=RevisionsOut, responses=ERRORS)
    async def revisions(request: Request) -> Response:
        """The HTS revisions loaded, the date each takes effect, and coverage."""
        def make() -> dict[str, Any]:
            m = svc.engine.model
            return {"coverage": {"first": m.first_date.isoformat(), "last": m.last_date.isoformat()},
                    "revisions": m.revision_rows()}
        return cached(request, make)

    @app.post("/api/check-news", tags=["news"], response_model=NewsOut, responses=ERRORS,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "text/plain": {"schema": {"type": "string"}, "example": NEWS_EXAMPLE},
                  "application/json": {
                      "schema": {"type": "object", "required": ["text"],
                                 "properties": {"text": {"type": "string"},
                                                "date": {"type": "string"}}},
                      "example": {"text": NEWS_EXAMPLE.split("\n", 1)[1],
                                  "date": "2025-05-02"}}}}})
    async def check_news(request: Request,
                         day: str | None = Query(None, alias="date", max_length=32,
                                                 examples=["2025-05-02"],
                                                 description="Article date YYYY-MM-DD (when the "
                                                             "text has no date line)")
                         ) -> Response:
        """Find the tariff claims in a news text and check each against the law on its date.

        Body: the article as ``text/plain`` (date in ``?date=`` or a leading ``date YYYY-MM-DD``
        line), or JSON ``{"text": ..., "date": ...}``. Spans are code-point offsets.
        """
        ctype = request.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
        if ctype not in ("text/plain", "application/json"):
            raise ApiError(415, "unsupported_media_type", f"content type {ctype!r} is not "
                           "accepted: send text/plain or application/json", "body")
        raw = await _read_body(request, MAX_BODY if ctype == "application/json" else news.MAX_BYTES)
        text: str | bytes = raw
        if ctype == "application/json":
            try:
                obj = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}", "body") from exc
            if not isinstance(obj, dict):
                raise ApiError(422, "validation_error", "the JSON body must be an object "
                               '{"text": ..., "date": ...}', "body")
            got = obj.get("text")
            if not isinstance(got, str):
                raise ApiError(422, "validation_error", "text: a string is required", "text")
            if len(got.encode("utf-8", "surrogatepass")) > news.MAX_BYTES:
                raise ApiError(413, "payload_too_large", f"the text exceeds the limit of "
                               f"{news.MAX_BYTES:,} bytes", "text")
            text = got
            jd = obj.get("date")
            if jd is not None and not isinstance(jd, str):
                raise ApiError(422, "validation_error", "date: a string YYYY-MM-DD is expected",
                               "date")
            day = jd or day
        when = checked("date", lambda: parse_date(day)) if day else None
        result = await run_in_threadpool(svc.check_news, text, when)
        return JsonResponse(result, headers={"Cache-Control": "no-store"})

    # -- the page -----------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> Response:
        return FileResponse(WEB_DIR / "docs.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return FileResponse(WEB_DIR / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", _Static(directory=WEB_DIR), name="static")
    return app


# ================================================================================================
# Serving
# ================================================================================================


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0 picks a free one), so the URL printed is real."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, _type, proto, _name, addr = infos[0]
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets, and without it
    # small responses wait ~40 ms for delayed ACKs
    sock = socket.socket(family, socket.SOCK_STREAM, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_for(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def make_server(app: FastAPI, sock: socket.socket) -> Any:
    """A single-worker uvicorn server for ``app`` on ``sock`` (quiet: no access log)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_keep_alive=30, limit_concurrency=1000)
    return uvicorn.Server(config)


def serve(engine: Engine, *, host: str = "127.0.0.1", port: int = 8000,
          data_dir: Path | None = None, home: Path | None = None,
          echo: Callable[[str], None] = print) -> None:
    """Serve the API and page until interrupted; prints the URL once it is listening."""
    app = create_app(engine, data_dir=data_dir, home=home)
    app.state.service.warm()
    # the model is millions of long-lived objects: keep the cyclic GC from rescanning them
    # (a full collection over them stalls every request in flight for tens of milliseconds)
    gc.collect()
    gc.freeze()
    sock = bind(host, port)
    server = make_server(app, sock)
    url = url_for(sock, host)
    echo(f"tariffstack serving on {url}  (API docs {url}api/docs; Ctrl-C stops)")
    server.run(sockets=[sock])


__all__ = ["ApiError", "Service", "create_app", "serve"]
