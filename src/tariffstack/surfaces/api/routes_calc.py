"""Duty in dollars over HTTP: one shipment (``GET /api/calc``) and an uploaded file
(``POST /api/calc/file``), the ``tariffstack calc --json`` and ``calc-bulk`` contracts."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tariffstack.errors import BadInput, DataError
from tariffstack.surfaces.api.errors import ApiError, JsonResponse
from tariffstack.surfaces.api.http import read_body, service_of
from tariffstack.surfaces.api.params import date_q
from tariffstack.surfaces.api.schemas import ERRORS

router = APIRouter()
MAX_FILE = 32 << 20          # bytes: larger files belong to the CLI (streaming) or Spark
MAX_JSON_LINES = 5000        # a JSON answer lists at most this many lines; ask for a file beyond
BODY_LIMITS = {"/api/calc/file": MAX_FILE}
UPLOAD_TYPES = {"text/csv": "csv", "text/plain": "csv", "application/csv": "csv",
                "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}
OUTPUT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_lock = threading.Lock()
# the app's one pricer caches formulas as it meets situations (a list and the index of each
# key into it): two requests adding at once could give one key the other's formula, so the
# pricer serves one request at a time (the work is CPU-bound under the GIL anyway)
_pricing = threading.Lock()


def _serially(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with _pricing:
        return fn(*args, **kwargs)


def _pricer(request: Request) -> Any:
    """One pricer per app (its formulas are reused across requests), with the panel when current."""
    found = getattr(request.app.state, "calc_pricer", None)
    if found is not None:
        return found
    from tariffstack.calc.pricing import PanelTables, Pricer

    svc = service_of(request)
    with _lock:
        found = getattr(request.app.state, "calc_pricer", None)
        if found is None:
            panel = None
            try:
                panel = PanelTables.load(svc.home)
                if not panel.matches(svc.engine):
                    panel = None
            except DataError:
                panel = None
            found = request.app.state.calc_pricer = Pricer(svc.engine, panel)
    return found


@router.get("/api/calc", tags=["calculator"], responses=ERRORS)
async def calc(request: Request,
               hts10: str = Query(..., min_length=4, max_length=24, examples=["6403.99.9065"]),
               origin: str = Query(..., min_length=1, max_length=80, examples=["VN"]),
               day: str | None = date_q,
               value: float = Query(..., examples=[80000], description="Customs value in USD"),
               quantity: float | None = Query(None, examples=[5000]),
               unit: str | None = Query(None, max_length=40, examples=["prs"]),
               quantity_2: float | None = Query(None, examples=[12.5]),
               unit_2: str | None = Query(None, max_length=40, examples=["pf. liter"]),
               mode: str = Query("", max_length=20, examples=["ocean"]),
               entry_type: str | None = Query(None, max_length=40, examples=["formal"]),
               items: int = Query(1, ge=1, le=10**9, examples=[1]),
               postal_method: str | None = Query(None, pattern="^(ad_valorem|specific)$", examples=["ad_valorem"]),
               mpf_exempt: bool = Query(False, examples=[False]),
               loading_date: str | None = Query(None, max_length=32, examples=["2025-04-01"]),
               usmca_claimed: bool = Query(False, examples=[False]),
               metal_content_share: str | None = Query(None, max_length=12, examples=["0.4"]),
               us_content_share: str | None = Query(None, max_length=12, examples=["0.25"]),
               melt_pour_country: str | None = Query(None, max_length=80, examples=["US"]),
               program: str | None = Query(None, max_length=4, examples=["AU"])) -> Response:
    """Duty and fees in dollars for one shipment line, layer by layer (rate, base, dollars,
    citation), with MPF/HMF, de minimis and postal options (``tariffstack calc --json``)."""
    from tariffstack.calc.quote import Shipment, quote
    from tariffstack.service.inputs import parse_inputs

    pricer = _pricer(request)
    inputs = parse_inputs({"loading_date": loading_date, "usmca_claimed": usmca_claimed,
                           "metal_content_share": metal_content_share, "us_content_share": us_content_share,
                           "melt_pour_country": melt_pour_country, "program": program})
    when = day or pricer.last.isoformat()
    ship = Shipment(hts10, origin, when, value, quantity, unit, quantity_2, unit_2, mode, entry_type, items,
                    postal_method, mpf_exempt, inputs)
    q = await run_in_threadpool(_serially, quote, pricer, ship)
    return JsonResponse(q.to_json(), headers={"Cache-Control": "no-store"})


FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS, 200: {"description": "The report and priced lines (json), or the priced file", "content": {
        "application/json": {}, "text/csv": {"schema": {"type": "string"}},
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}}}}}


@router.post("/api/calc/file", tags=["calculator"], responses=FILE_RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"},
                              "example": "hts10,origin,entry_date,value,quantity,unit,mode\n"
                                         "6403.99.9065,VN,2025-09-01,80000,5000,prs,ocean\n"},
                 "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                     "schema": {"type": "string", "format": "binary"}}}}})
async def calc_file(request: Request,
                    output: str = Query("json", pattern="^(json|csv|parquet|xlsx)$", examples=["json"],
                                        description="json (report and lines), or the priced file"),
                    encoding: str = Query("utf-8", max_length=20, examples=["cp1252"]),
                    sheet: str | None = Query(None, max_length=80, examples=["entries"])) -> Response:
    """Price an uploaded shipment file (CSV, Parquet or Excel; at most 32 MiB): bad lines are
    reported with their line number and reason, the others priced (``calc-bulk``)."""
    ctype = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    kind = UPLOAD_TYPES.get(ctype)
    if kind is None:
        raise ApiError(415, "unsupported_media_type", f"content type {ctype!r} is not accepted: send text/csv, "
                       "application/vnd.apache.parquet or an .xlsx workbook", "body")
    raw = await read_body(request, MAX_FILE)
    if not raw:
        raise BadInput("the request body is empty: send the file", field="body")
    pricer = _pricer(request)

    def run() -> Response:
        from tariffstack.calc.bulk import price_file

        with tempfile.TemporaryDirectory(prefix="calc-") as tmp:
            src = Path(tmp) / f"upload.{kind}"
            src.write_bytes(raw)
            out = Path(tmp) / f"priced.{'parquet' if output == 'json' else output}"
            report = _serially(price_file, pricer, src, out, encoding=encoding, sheet=sheet, workers=1)
            if output != "json":
                return Response(out.read_bytes(), media_type=OUTPUT_TYPES[output], headers={
                    "Content-Disposition": f'attachment; filename="priced.{output}"',
                    "X-Lines": str(report.lines), "X-Bad-Lines": str(report.bad), "Cache-Control": "no-store"})
            import pyarrow.parquet as pq

            table = pq.read_table(out)
            rows = table.slice(0, MAX_JSON_LINES).to_pylist()
            for r in rows:
                r["entry_date"] = r["entry_date"].isoformat() if r["entry_date"] else None
            body = {"report": report.to_json(), "lines": rows, "truncated": table.num_rows > MAX_JSON_LINES}
            body["report"].pop("output", None)
            body["report"].pop("sources_file", None)
            return JsonResponse(body, headers={"Cache-Control": "no-store"})

    return await run_in_threadpool(run)
