"""The HTTP API and web page over the in-memory engine (FastAPI, served by ``tariffstack serve``).

One process answers JSON questions (search, product, rate, timeline, diff, origins, news check)
and serves the hand-written page in ``web/``. Each room's endpoints are a router module
(``routes_*.py``) over the shared :class:`~tariffstack.service.queries.Service`; this module
puts them together with the error handlers, the size limits and the page.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from starlette.middleware.gzip import GZipMiddleware

from tariffstack import __version__
from tariffstack.config import default_data_dir, default_home
from tariffstack.engine.us import Engine
from tariffstack.errors import BadInput
from tariffstack.service.queries import Service
from tariffstack.surfaces.api import (
    errors,
    routes_calc,
    routes_duties,
    routes_meta,
    routes_news,
    routes_products,
    routes_stats,
    routes_war,
)
from tariffstack.surfaces.api.errors import JsonResponse
from tariffstack.surfaces.api.http import Limits, Static

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# every router of the API, in the order the OpenAPI document lists them; a module may declare
# BODY_LIMITS = {path: bytes} for endpoints that take more than the default body (uploads)
ROUTERS: list[ModuleType] = [routes_meta, routes_products, routes_duties, routes_news, routes_war, routes_stats,
                             routes_calc]


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
    body_limits: dict[str, int] = {}
    for module in ROUTERS:
        app.include_router(module.router)
        body_limits.update(getattr(module, "BODY_LIMITS", {}))
    app.add_middleware(GZipMiddleware, minimum_size=4096)   # charts and tables shrink ~8x
    app.add_middleware(Limits, body_limits=body_limits)
    errors.install(app)
    _page(app)
    return app


def _page(app: FastAPI) -> None:
    """The single page, the API docs page and the static assets (local files only)."""

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

    app.mount("/static", Static(directory=WEB_DIR), name="static")


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
