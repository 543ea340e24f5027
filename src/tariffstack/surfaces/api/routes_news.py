"""The news checker: the tariff claims in a text, each checked against the law on its date."""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tariffstack.engine.us import parse_date
from tariffstack.errors import TooLarge, blame
from tariffstack.news import MAX_BYTES
from tariffstack.surfaces.api.errors import ApiError, JsonResponse
from tariffstack.surfaces.api.http import MAX_BODY, read_body, service_of
from tariffstack.surfaces.api.schemas import ERRORS, NewsOut

NEWS_EXAMPLE = ("date 2025-05-02\nChinese goods now face duties of 145 percent, while "
                "smartphones were exempted from the reciprocal tariff.")


router = APIRouter()


@router.post("/api/check-news", tags=["news"], response_model=NewsOut, responses=ERRORS,
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
    raw = await read_body(request, MAX_BODY if ctype == "application/json" else MAX_BYTES)
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
        if len(got.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise TooLarge(f"the text exceeds the limit of {MAX_BYTES:,} bytes", field="text")
        text = got
        jd = obj.get("date")
        if jd is not None and not isinstance(jd, str):
            raise ApiError(422, "validation_error", "date: a string YYYY-MM-DD is expected",
                           "date")
        day = jd or day
    when = None
    if day:
        with blame("date"):
            when = parse_date(day)
    result = await run_in_threadpool(service_of(request).check_news, text, when)
    return JsonResponse(result, headers={"Cache-Control": "no-store"})
