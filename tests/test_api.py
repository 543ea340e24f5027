"""The HTTP API on the real schedule: JSON contracts, bad input, limits, caching, no escapes.

Runs the ASGI app in-process (TestClient) over the session engine, plus a real uvicorn server
on a loopback port for what only a socket shows (raw paths, the ``serve`` command).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tariffstack import news
from tariffstack.engine.us import Engine, Inputs
from tariffstack.surfaces.api import MAX_QUERY_STRING, bind, create_app, make_server

with warnings.catch_warnings():  # Starlette nudges towards httpx2; httpx (pinned) works
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

NEWS_000 = "news/000_9185287dd3d82ad3.txt"


class LiveServer:
    """uvicorn in a daemon thread on a free loopback port (shared with the browser tests)."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server(app, self.sock)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def live(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as srv:
        yield srv


def err(resp: Any) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"}, body
    e: dict[str, Any] = body["error"]
    assert {"type", "message", "field"} <= set(e)
    return e


# ---------------------------------------------------------------------------------------------
# answers
# ---------------------------------------------------------------------------------------------


def test_health_and_revisions(client: TestClient) -> None:
    h = client.get("/api/health")
    assert h.status_code == 200 and h.json()["status"] == "ok"
    assert h.json()["revisions"] == 44 and h.headers["cache-control"] == "no-store"
    last = date.fromisoformat(h.json()["coverage"]["last"])
    assert h.json()["data_age_days"] == (date.today() - last).days  # the page says how old the law is
    r = client.get("/api/revisions").json()
    assert len(r["revisions"]) == 44 and r["revisions"][0]["revision"] == "2025 basic"
    assert r["coverage"]["first"] == "2025-01-01"


def test_search_words_and_code_prefix(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "smartphones"}).json()["hits"]
    assert hits[0]["hts"] == "8517.13.00.00" and hits[0]["description"] == "Smartphones"
    hits = client.get("/api/search", params={"q": "7208.51", "limit": 50}).json()["hits"]
    assert hits and all(h["hts"].startswith("7208.51") for h in hits)
    assert "7208.51.00.30" in {h["hts"] for h in hits}


def test_product_detail(client: TestClient) -> None:
    p = client.get("/api/product/8517.13.0000", params={"date": "2025-05-02"}).json()
    assert p["hts10"] == "8517.13.00.00" and p["description"] == "Smartphones"
    assert p["path"][-1].startswith("Telephone sets, including smartphones")
    assert p["mfn"]["general"] == "Free" and p["revision"] == "2025 rev 11"
    assert p["history"] and p["history"][0]["revision"] == "2025 basic"


def test_rate_is_the_cli_json_contract(client: TestClient, engine: Engine) -> None:
    resp = client.get("/api/rate", params={"hts10": "8517.13.0000", "origin": "CN", "date": "2025-05-02"})
    assert resp.status_code == 200
    got = resp.json()
    assert got == engine.rate("8517.13.0000", "CN", date(2025, 5, 2)).to_json()
    by_layer = {(x["layer"], x["exempt"]): x for x in got["layers"]}
    assert by_layer[("ieepa_fentanyl", False)]["rate_pct"] == 20
    assert by_layer[("ieepa_fentanyl", False)]["heading"] == "9903.01.24"
    # smartphones are in Annex II: the 125% reciprocal layer shows as exempt, with its source
    recip = by_layer[("ieepa_reciprocal", True)]
    assert recip["heading"] == "9903.01.32" and "125%" in recip["reason"] and recip["source"]
    assert got["total_pct"] == 20


def test_rate_toys_pay_145_and_names_are_accepted(client: TestClient) -> None:
    got = client.get("/api/rate", params={"hts10": "9503.00.0073", "origin": "china",
                                          "date": "2025-05-02"}).json()
    layers = {x["layer"]: x for x in got["layers"] if not x["exempt"]}
    assert layers["ieepa_reciprocal"]["rate_pct"] == 125 and layers["ieepa_fentanyl"]["rate_pct"] == 20
    assert got["origin"] == "CN" and got["total_pct"] == 145


def test_rate_inputs_change_the_stack(client: TestClient, engine: Engine) -> None:
    q = {"hts10": "8517.13.0000", "origin": "MX", "date": "2025-05-02"}
    assert client.get("/api/rate", params=q).json()["total_pct"] == 25
    got = client.get("/api/rate", params={**q, "usmca": "true"}).json()
    assert got["total_pct"] == 0 and got["inputs"] == {"usmca_claimed": True}
    assert got == engine.rate("8517.13.0000", "MX", date(2025, 5, 2), Inputs(usmca_claimed=True)).to_json()


def test_compare_all_origins(client: TestClient, engine: Engine) -> None:
    c = client.get("/api/compare", params={"hts10": "9503.00.0073", "date": "2025-05-02"}).json()
    totals = [r["total_pct"] for r in c["rows"]]
    assert totals == sorted(totals) and len(c["rows"]) + len(c["errors"]) == 250
    assert c["most"] == {"total_pct": 145, "origins": ["CN", "HK"]}  # Hong Kong is named with China
    assert c["least"]["total_pct"] == totals[0]
    row = {r["origin"]: r for r in c["rows"]}
    assert row["CN"]["layers"] == {"mfn": 0, "ieepa_fentanyl": 20, "ieepa_reciprocal": 125}
    for iso in ("DE", "VN", "GB"):
        assert row[iso]["total_pct"] == engine.rate("9503.00.0073", iso, date(2025, 5, 2)).total_pct


def test_countries(client: TestClient) -> None:
    got = client.get("/api/countries").json()
    assert len(got["countries"]) == 250 and len(got["groups"]["EU"]) == 27
    cn = next(c for c in got["countries"] if c["iso2"] == "CN")
    assert cn["name"] == "China" and cn["iso3"] == "CHN"


def test_timeline_json_and_svg(client: TestClient) -> None:
    q = {"hts10": "8517.13.0000", "origins": "CN,mexico"}
    tl = client.get("/api/timeline", params=q)
    assert tl.status_code == 200, tl.text
    body = tl.json()
    assert body["hts10"] == "8517.13.00.00" and set(body["origins"]) == {"CN", "MX"}
    cn = body["origins"]["CN"]
    on_may_2 = next(p for p in cn if p["valid_from"] <= "2025-05-02"
                    and (p["valid_until"] is None or p["valid_until"] >= "2025-05-02"))
    assert on_may_2["total_pct"] == 20 and on_may_2["layers"].get("ieepa_fentanyl") == 20
    assert max(p["total_pct"] for p in cn) >= 20
    svg = client.get("/api/timeline.svg", params=q)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content[:2000] and svg.headers["etag"]


def test_check_news_json_and_text(client: TestClient, shared_dir: Path) -> None:
    text = (shared_dir / NEWS_000).read_text("utf-8")
    got = client.post("/api/check-news", json={"text": text})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["date"] == "2025-05-02" and body["date_source"] == "header"
    verdicts = {c["fragment"]: c["verdict"] for c in body["claims"]}
    assert verdicts["duties of 145 percent"] == "supported"
    for c in body["claims"]:  # spans are code-point offsets into the text as sent
        assert text[c["start"]:c["end"]] == c["fragment"]
        assert c["evidence"] is not None and c["explanation"]
        assert c["date_source"] in ("article", "stated", "implementing_measure")
        assert c["effective_date"][:4] == "2025"    # the day the verdict speaks of
    plain = client.post("/api/check-news", content=text.encode(), headers={"Content-Type": "text/plain"})
    assert plain.status_code == 200 and plain.json()["summary"] == body["summary"]
    # without a date line the date comes from the body or the query string
    body_only = text.split("\n", 1)[1]
    dated = client.post("/api/check-news", params={"date": "2025-05-02"}, content=body_only.encode(),
                        headers={"Content-Type": "text/plain; charset=utf-8"})
    assert dated.status_code == 200 and dated.json()["date_source"] == "argument"


# ---------------------------------------------------------------------------------------------
# bad input: a JSON error naming the field, the right status, never a crash
# ---------------------------------------------------------------------------------------------

RATE = {"hts10": "8517.13.0000", "origin": "CN", "date": "2025-05-02"}


@pytest.mark.parametrize(("params", "status", "type_", "field", "words"), [
    ({"hts10": "9999.99.9999"}, 404, "unknown_product", "hts10", "9999.99.99.99"),
    ({"hts10": "8517.13.99.99"}, 404, "unknown_product", "hts10", "8517.13.99.99"),
    ({"hts10": "85x7"}, 422, "bad_input", "hts10", "malformed HTS code"),
    ({"origin": "Chna"}, 404, "unknown_country", "origin", "China (CN)"),
    ({"origin": "United States"}, 422, "bad_input", "origin", "U.S. goods pay no U.S. import duty"),
    ({"date": "2025-02-30"}, 422, "bad_input", "date", "expected YYYY-MM-DD"),
    ({"date": "yesterday"}, 422, "bad_input", "date", "expected YYYY-MM-DD"),
    ({"date": "2031-01-01"}, 422, "date_out_of_range", "date", "outside the data"),
    ({"loading_date": "2025-99-01"}, 422, "bad_input", "loading_date", "bad date"),
    ({"metal_content_share": "1.5"}, 422, "validation_error", "metal_content_share", "less than or equal"),
    ({"value_usd": "nan"}, 422, "validation_error", "value_usd", ""),
    ({"usmca": "perhaps"}, 422, "validation_error", "usmca", "boolean"),
    ({"program": "../x"}, 422, "validation_error", "program", ""),
    ({"program": "ZZ"}, 422, "bad_input", "program", "no special rate"),
    ({"hts10": "1" * 25}, 422, "validation_error", "hts10", "at most 24"),
])
def test_rate_errors(client: TestClient, params: dict[str, str], status: int, type_: str,
                     field: str, words: str) -> None:
    resp = client.get("/api/rate", params={**RATE, **params})
    assert resp.status_code == status, resp.text
    e = err(resp)
    assert (e["type"], e["field"]) == (type_, field)
    assert words in e["message"]
    assert resp.headers["cache-control"] == "no-store"


def test_unknown_country_carries_suggestions(client: TestClient) -> None:
    e = err(client.get("/api/rate", params={**RATE, "origin": "Germny"}))
    assert "Germany (DE)" in e["suggestions"]


def test_unknown_two_letter_origin_is_an_error_not_another_country(client: TestClient) -> None:
    """A link with origin=ZZ must not fall back to some default country."""
    resp = client.get("/api/rate", params={**RATE, "origin": "ZZ"})
    assert resp.status_code == 404
    e = err(resp)
    assert (e["type"], e["field"]) == ("unknown_country", "origin")
    assert "'ZZ'" in e["message"] and "ISO code" in e["message"]   # says what to give instead
    assert "/api/countries" in e["message"]


# the names used before the CLI/API/JSON naming was unified: still accepted, deprecated
ALIASES = [
    ("/api/rate", {"code": "8517.13.0000", "origin": "CN", "date": "2025-05-02"},
     {"hts10": "8517.13.0000", "origin": "CN", "date": "2025-05-02"}),
    ("/api/compare", {"code": "8517.13.0000", "date": "2025-05-02"},
     {"hts10": "8517.13.0000", "date": "2025-05-02"}),
    ("/api/timeline", {"code": "8517.13.0000", "origins": "CN", "start": "2025-03-01",
                       "end": "2025-06-01"},
     {"hts10": "8517.13.0000", "origins": "CN", "from": "2025-03-01", "to": "2025-06-01"}),
]


@pytest.mark.parametrize(("path", "old", "new"), ALIASES)
def test_deprecated_parameter_names_still_work(client: TestClient, path: str,
                                               old: dict[str, str], new: dict[str, str]) -> None:
    got_old, got_new = client.get(path, params=old), client.get(path, params=new)
    assert got_old.status_code == got_new.status_code == 200, (got_old.text, got_new.text)
    assert got_old.json() == got_new.json()


def test_deprecated_names_are_marked_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path, old_names in (("/api/rate", {"code"}), ("/api/timeline", {"code", "start", "end"}),
                            ("/api/diff", {"start", "end", "prefix"})):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        for name in old_names:
            assert params[name].get("deprecated") is True, (path, name)
        assert {"hts10", "from", "to", "heading", "chapter"} & set(params)
        assert not any(p.get("deprecated") for n, p in params.items() if n not in old_names)


def test_missing_fields_and_routes(client: TestClient) -> None:
    e = err(client.get("/api/rate", params={"hts10": "8517.13.0000"}))
    assert e["field"] == "origin" and "required" in e["message"].lower()
    e = err(client.get("/api/search", params={"q": ""}))
    assert e["field"] == "q"
    e = err(client.get("/api/search", params={"q": "steel", "limit": "lots"}))
    assert e["field"] == "limit"
    resp = client.get("/api/nope")
    assert resp.status_code == 404 and err(resp)["type"] == "not_found"
    resp = client.post("/api/rate", params=RATE)
    assert resp.status_code == 405 and err(resp)["type"] == "method_not_allowed"
    resp = client.get("/api/product/9999.99.9999", params={"date": "2025-05-02"})
    assert resp.status_code == 404 and "9999.99.99.99" in err(resp)["message"]
    resp = client.get("/api/compare", params={"hts10": "0101.99.9999"})
    assert resp.status_code == 404 and err(resp)["field"] == "hts10"


def test_timeline_errors(client: TestClient) -> None:
    base = {"hts10": "8517.13.0000", "origins": "CN"}
    resp = client.get("/api/timeline", params={**base, "origins": "CN,Narnia"})
    assert resp.status_code == 404 and err(resp)["field"] == "origins"
    resp = client.get("/api/timeline", params={**base, "origins": ",".join(["CN"] * 13)})
    assert resp.status_code == 422 and "limit is 12" in err(resp)["message"]
    resp = client.get("/api/timeline.svg", params={**base, "hts10": "9999.99.9999"})
    assert resp.status_code == 404 and "9999.99.99.99" in err(resp)["message"]
    resp = client.get("/api/timeline", params={**base, "from": "2026-01-01", "to": "2025-01-01"})
    assert resp.status_code == 422 and err(resp)["field"] == "from"


def test_diff_without_a_store_says_how_to_build(client: TestClient) -> None:
    resp = client.get("/api/diff", params={"from": "2025-04-01", "to": "2025-05-02"})
    assert resp.status_code == 503
    assert "tariffstack build" in err(resp)["message"]
    resp = client.get("/api/diff", params={"from": "2025-04-01", "to": "2025-05-02", "layer": "x"})
    assert resp.status_code == 422 and err(resp)["field"] == "layer"


def test_diff_over_the_built_store(engine: Engine, hts_dir: Path,
                                   panel_home: tuple[Path, object]) -> None:
    app = create_app(engine, data_dir=hts_dir, home=panel_home[0])
    with TestClient(app) as c:
        q = {"from": "2025-04-01", "to": "2025-05-02", "origins": "china", "heading": "8517"}
        resp = c.get("/api/diff", params=q)
        assert resp.status_code == 200, resp.text
        d = resp.json()
        assert d["origins"] == ["CN"] and d["changed"] > 0
        assert {"kind": "added", "heading": "9903.01.63"} in [
            {k: x[k] for k in ("kind", "heading")} for x in d["causes"]]
        row = next(r for r in d["rows"] if r["hts10"] == "8517.11.00.00")
        assert (row["old_ieepa_reciprocal"], row["new_ieepa_reciprocal"]) == (0, 125)
        again = c.get("/api/diff", params=q, headers={"If-None-Match": resp.headers["etag"]})
        assert again.status_code == 304
        old = {"start": "2025-04-01", "end": "2025-05-02", "origins": "china", "prefix": "8517"}
        assert c.get("/api/diff", params=old).json() == d           # deprecated names
        by_chapter = c.get("/api/diff", params={"from": "2025-04-01", "to": "2025-05-02",
                                                "origins": "CN", "chapter": "85", "limit": 5})
        assert by_chapter.status_code == 200 and by_chapter.json()["prefix"] == "85"


def test_news_bad_input(client: TestClient) -> None:
    post = client.post
    resp = post("/api/check-news", json={"text": "Tariffs on Chinese goods rose to 145 percent."})
    assert resp.status_code == 422 and err(resp)["field"] == "date"
    resp = post("/api/check-news", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and err(resp)["type"] == "bad_json"
    resp = post("/api/check-news", json=["a list"])
    assert resp.status_code == 422 and err(resp)["field"] == "body"
    resp = post("/api/check-news", json={"text": 42})
    assert resp.status_code == 422 and err(resp)["field"] == "text"
    resp = post("/api/check-news", json={"text": "x", "date": "2025-13-01"})
    assert resp.status_code == 422 and err(resp)["field"] == "date"
    resp = post("/api/check-news", content=b"\x00\x01binary" * 10, params={"date": "2025-05-02"},
                headers={"Content-Type": "text/plain"})
    assert resp.status_code == 422 and "binary" in err(resp)["message"]
    resp = post("/api/check-news", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    assert resp.status_code == 415
    big = "a" * (news.MAX_BYTES + 1)
    resp = post("/api/check-news", json={"text": big, "date": "2025-05-02"})
    assert resp.status_code == 413 and err(resp)["field"] == "text"
    resp = post("/api/check-news", content=big.encode(), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 413


def test_request_size_limits(client: TestClient) -> None:
    resp = client.get("/api/search", params={"q": "x" * (MAX_QUERY_STRING + 10)})
    assert resp.status_code == 414 and err(resp)["type"] == "uri_too_long"
    resp = client.post("/api/check-news", content=b"x" * (5 * 2**20), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 413 and err(resp)["field"] == "body"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(40):
            yield b"y" * 2**17

    resp = client.post("/api/check-news", content=chunks(), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 413
    assert client.get("/api/health").status_code == 200


def test_internal_errors_are_json_and_the_server_survives(engine: Engine, hts_dir: Path,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(engine, data_dir=hts_dir, home=tmp_path)
    svc = app.state.service

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(svc, "rate", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        resp = c.get("/api/rate", params=RATE)
        assert resp.status_code == 500 and err(resp)["type"] == "internal_error"
        assert "Traceback" not in resp.text
        assert c.get("/api/health").status_code == 200


# ---------------------------------------------------------------------------------------------
# caching, docs, static files
# ---------------------------------------------------------------------------------------------


def test_etag_and_cache_control(client: TestClient) -> None:
    first = client.get("/api/rate", params=RATE)
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = client.get("/api/rate", params=RATE, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    other = client.get("/api/rate", params={**RATE, "origin": "MX"})
    assert other.headers["etag"] != etag
    svg_q = {"hts10": "8517.13.0000", "origins": "CN"}
    svg = client.get("/api/timeline.svg", params=svg_q)
    assert client.get("/api/timeline.svg", params=svg_q,
                      headers={"If-None-Match": svg.headers["etag"]}).status_code == 304


def test_openapi_docs_and_page(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert {"/api/search", "/api/product/{hts10}", "/api/rate", "/api/timeline", "/api/timeline.svg",
            "/api/diff", "/api/compare", "/api/countries", "/api/revisions", "/api/health",
            "/api/check-news"} <= set(spec["paths"])
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/static/docs.js" in docs.text
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    page = client.get("/")
    assert page.status_code == 200 and "content-security-policy" in page.headers
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    for asset in ("app.js", "app.css", "docs.js", "favicon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200


TRAVERSALS = [
    "/static/../api.py", "/static/%2e%2e/api.py", "/static/..%2fapi.py", "/static/%2e%2e%2fapi.py",
    "/static/..%2f..%2f..%2fpyproject.toml", "/static/....//api.py", "/static/..\\api.py",
    "/static/%2e%2e%5capi.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
    "/static/web/../../api.py", "/static/../../../../../../etc/passwd", "/api/product/..%2f..%2fetc%2fpasswd",
    "/api/product/%2e%2e", "/api/rate?code=../../etc/passwd&origin=CN",
    "/api/rate?code=8517.13.0000&origin=../../etc/passwd", "/static/%00", "/static/app.js%00.png",
]


def test_no_file_outside_static_can_be_read(live: LiveServer) -> None:
    """Raw request targets (no client-side normalisation) against the real server."""
    secrets = (b"def create_app", b"root:x:", b"[project]", b"import ")
    for target in TRAVERSALS:
        conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status in (400, 404, 422), (target, resp.status)
        assert not any(s in body for s in secrets), target
    # and the server is still answering
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    conn.request("GET", "/api/health")
    assert conn.getresponse().status == 200


def test_malformed_http_does_not_kill_the_server(live: LiveServer) -> None:
    for raw in (b"GARBAGE\r\n\r\n", b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as s:
            s.sendall(raw)
            with contextlib.suppress(OSError):
                s.recv(4096)
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    conn.request("GET", "/api/rate?code=8517.13.0000&origin=CN&date=2025-05-02")
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["total_pct"] == 20


def test_serve_command_prints_the_url(hts_dir: Path, session_home: Path, engine: Engine) -> None:
    env = {**os.environ, "TARIFFSTACK_DATA_DIR": str(hts_dir), "TARIFFSTACK_HOME": str(session_home)}
    proc = subprocess.Popen([sys.executable, "-m", "tariffstack.surfaces.cli", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
        url = line.split()[line.split().index("on") + 1]
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/health")
        assert json.loads(conn.getresponse().read())["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
