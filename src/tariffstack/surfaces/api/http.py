"""HTTP plumbing shared by the routes: size limits and safety headers, ETag caching of answers
that depend only on the URL and the loaded data, the static page assets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tariffstack.errors import TooLarge
from tariffstack.news import MAX_BYTES as NEWS_MAX_BYTES
from tariffstack.service.queries import Service
from tariffstack.surfaces.api.errors import JsonResponse, error_body

MAX_QUERY_STRING = 4096                  # bytes of URL query; real queries are < 300
MAX_BODY = 2 * NEWS_MAX_BYTES + 4096     # a JSON-escaped article of the news limit fits
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

def service_of(request: Request) -> Service:
    """The one Service the app was made with (engine, caches, China data)."""
    svc: Service = request.app.state.service
    return svc


def cached(request: Request, make: Callable[[], Any], media_type: str | None = None,
           tag: str = "") -> Response:
    """The answer with an ETag of the loaded data and the URL; 304 when the client has it."""
    etag = _etag(service_of(request).model_tag + tag, request)
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
    etag = _etag(service_of(request).model_tag + tag, request)
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": DATA_CACHE})
    body = await run_in_threadpool(make)
    return cached(request, lambda: body, media_type, tag)


class Limits:
    """Pure ASGI middleware: refuses huge requests before they are read, adds safety headers.

    A body larger than ``MAX_BODY`` (or the path's own limit) (by Content-Length or by counting a chunked stream) gets
    413, a query string over ``MAX_QUERY_STRING`` gets 414, all as JSON error bodies.
    """

    def __init__(self, app: ASGIApp, body_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.body_limits = dict(body_limits or {})  # paths that take larger bodies (uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        qs: bytes = scope.get("query_string", b"")
        if len(qs) > MAX_QUERY_STRING:
            await error_body(414, "uri_too_long", f"the query string is {len(qs):,} bytes; the "
                             f"limit is {MAX_QUERY_STRING:,}")(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                await error_body(400, "bad_request", "Content-Length is not a number")(
                    scope, receive, send)
                return
            limit = self.body_limits.get(scope.get("path", ""), MAX_BODY)
            if n > limit:
                await error_body(413, "payload_too_large", f"the request body is {n:,} bytes; "
                                 f"the limit is {limit:,}", "body")(scope, receive, send)
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


class Static(StaticFiles):
    """Package assets, revalidated on every load (they change with the package, not the URL)."""

    def file_response(self, full_path: Any, stat_result: Any, scope: Scope,
                      status_code: int = 200) -> Response:
        resp = super().file_response(full_path, stat_result, scope, status_code)
        resp.headers["Cache-Control"] = "no-cache"
        return resp


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) more than ``limit`` bytes even without a Content-Length."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body exceeds the limit of {limit:,} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


# ================================================================================================
# The service: engine plus what the endpoints share
