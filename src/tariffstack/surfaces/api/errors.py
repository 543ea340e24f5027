"""One error shape for every answer: ``{"error": {"type", "message", "field", ...}}`` with a 4xx
status (5xx only for data problems or a crash), mapped from the tool's error classes, so the page
can show a sentence and point at the field instead of a stack trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tariffstack.errors import (
    BadInput,
    DataError,
    DateOutOfRange,
    StoreMissing,
    TariffstackError,
    TooLarge,
    TooMany,
    UnknownCountry,
    UnknownProduct,
)

log = logging.getLogger(__name__)


class JsonResponse(JSONResponse):
    """Compact UTF-8 JSON; NaN is refused (it is not JSON). A JSONResponse subclass, so the
    OpenAPI document shows the declared response models as application/json."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")


class ApiError(Exception):
    """An error only HTTP has (bad media type, malformed body): status, type, sentence, field."""

    def __init__(self, status: int, type_: str, message: str, field: str | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.field = field
        self.extra = extra


def error_body(status: int, type_: str, message: str, field: str | None = None,
               **extra: Any) -> Response:
    err: dict[str, Any] = {"type": type_, "message": message, "field": field, **extra}
    return JsonResponse({"error": err}, status_code=status, headers={"Cache-Control": "no-store"})


# most specific first: the first class an error is an instance of gives its status and type
_STATUS: list[tuple[type[TariffstackError], int, str, str | None]] = [
    (UnknownCountry, 404, "unknown_country", "origin"),
    (UnknownProduct, 404, "unknown_product", "hts10"),
    (DateOutOfRange, 422, "date_out_of_range", "date"),
    (TooLarge, 413, "payload_too_large", None),
    (TooMany, 422, "too_many", None),
    (BadInput, 422, "bad_input", None),
    (StoreMissing, 503, "store_missing", None),
    (DataError, 503, "data_error", None),
    (TariffstackError, 500, "error", None),
]


def from_tariffstack(exc: TariffstackError) -> ApiError:
    """The HTTP answer for one of the tool's errors: its class gives status and type, the error
    itself names the field (a class default when it does not)."""
    status, type_, default_field = next((s, t, f) for cls, s, t, f in _STATUS if isinstance(exc, cls))
    field = exc.field or default_field
    if isinstance(exc, UnknownCountry):
        msg = str(exc)
        if not exc.suggestions:  # nothing close to suggest: say where the valid names are
            msg += " (GET /api/countries lists every origin)"
        return ApiError(status, type_, msg, field, suggestions=list(exc.suggestions))
    return ApiError(status, type_, str(exc), field)


def install(app: FastAPI) -> None:
    """Every exception becomes the one error shape; a crash is logged and answered 500."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_body(exc.status, exc.type, exc.message, exc.field, **exc.extra)

    async def on_tariffstack(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TariffstackError)
        e = from_tariffstack(exc)
        return error_body(e.status, e.type, e.message, e.field, **e.extra)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errs = list(exc.errors())
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        loc = [str(x) for x in first.get("loc", ())]
        fld = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else None)
        msg = str(first.get("msg", "invalid value"))
        return error_body(422, "validation_error", f"{fld}: {msg}" if fld else msg, fld,
                          details=[{"field": ".".join(str(x) for x in e.get("loc", ())[1:]),
                                    "message": str(e.get("msg", ""))} for e in errs[:10]])

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kinds = {404: "not_found", 405: "method_not_allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"no such page or endpoint: {request.url.path[:200]}"
        resp = error_body(exc.status_code, kinds.get(exc.status_code, "http_error"), detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_body(500, "internal_error",
                          f"internal error ({type(exc).__name__}); the server keeps running")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(TariffstackError, on_tariffstack)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
