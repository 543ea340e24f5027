"""Real answers of every endpoint, success and error, validated against the served OpenAPI document.

The API returns pre-rendered JSON (for ETags and speed), so FastAPI never checks it against the
declared response models: this test is what keeps the document and the answers in step. The
document itself is checked with openapi-spec-validator; each answer with jsonschema, against the
schema the document declares for that path, method, status and content type.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from tariffstack.engine.us import Engine
from tariffstack.surfaces.api import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

NEWS = ("date 2025-05-02\nChinese goods now face duties of 145 percent, while smartphones "
        "were exempted from the reciprocal tariff.")
RATE = {"hts10": "8517.13.0000", "origin": "CN", "date": "2025-05-02"}
SCENARIO = (b"name: x\nevents:\n  - action: rate\n    headings: 9903.01.24\n    rate_pct: 30\n"
            b"    effective: 2025-12-01\n")

# (method, path template, concrete URL, query, body kwargs, expected status)
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any], int]] = [
    ("get", "/api/health", "/api/health", {}, {}, 200),
    ("get", "/api/search", "/api/search", {"q": "smartphones", "limit": 5}, {}, 200),
    ("get", "/api/search", "/api/search", {"q": ""}, {}, 422),
    ("get", "/api/search", "/api/search", {"q": "x" * 5000}, {}, 414),
    ("get", "/api/product/{hts10}", "/api/product/8517.13.0000", {"date": "2025-05-02"}, {}, 200),
    ("get", "/api/product/{hts10}", "/api/product/9999.99.9999", {}, {}, 404),
    ("get", "/api/rate", "/api/rate", RATE, {}, 200),
    ("get", "/api/rate", "/api/rate", {**RATE, "origin": "MX", "usmca": "true",
                                       "value_usd": 500}, {}, 200),
    ("get", "/api/rate", "/api/rate", {**RATE, "hts10": "7208.51.0030", "origin": "GB",
                                       "date": "2025-06-10", "metal_content_share": 0.5}, {}, 200),
    ("get", "/api/rate", "/api/rate", {**RATE, "origin": "ZZ"}, {}, 404),
    ("get", "/api/rate", "/api/rate", {**RATE, "origin": "Chna"}, {}, 404),
    ("get", "/api/rate", "/api/rate", {**RATE, "date": "2031-01-01"}, {}, 422),
    ("get", "/api/rate", "/api/rate", {"origin": "CN"}, {}, 422),
    ("get", "/api/compare", "/api/compare", {"hts10": "9503.00.0073", "date": "2025-05-02"},
     {}, 200),
    ("get", "/api/compare", "/api/compare", {"hts10": "0101.99.9999"}, {}, 404),
    ("get", "/api/timeline", "/api/timeline", {"hts10": "8517.13.0000", "origins": "CN,MX"},
     {}, 200),
    ("get", "/api/timeline", "/api/timeline", {"hts10": "8517.13.0000", "origins": "Narnia"},
     {}, 404),
    ("get", "/api/timeline", "/api/timeline", {"hts10": "8517.13.0000", "from": "2026-01-01",
                                               "to": "2025-01-01"}, {}, 422),
    ("get", "/api/timeline.svg", "/api/timeline.svg", {"hts10": "8517.13.0000", "origins": "CN"},
     {}, 200),
    ("get", "/api/timeline.svg", "/api/timeline.svg", {"hts10": "9999.99.9999"}, {}, 404),
    ("get", "/api/diff", "/api/diff", {"from": "2025-04-01", "to": "2025-05-02"}, {}, 503),
    ("get", "/api/diff", "/api/diff", {"from": "2025-04-01"}, {}, 422),
    ("get", "/api/countries", "/api/countries", {}, {}, 200),
    ("get", "/api/revisions", "/api/revisions", {}, {}, 200),
    ("post", "/api/check-news", "/api/check-news", {}, {"json": {"text": NEWS}}, 200),
    ("post", "/api/check-news", "/api/check-news", {},
     {"content": NEWS.encode(), "headers": {"Content-Type": "text/plain"}}, 200),
    ("post", "/api/check-news", "/api/check-news", {},
     {"content": b"{nope", "headers": {"Content-Type": "application/json"}}, 400),
    ("post", "/api/check-news", "/api/check-news", {},
     {"content": b"x" * (5 * 2**20), "headers": {"Content-Type": "text/plain"}}, 413),
    ("post", "/api/check-news", "/api/check-news", {},
     {"content": b"<a/>", "headers": {"Content-Type": "application/xml"}}, 415),
    ("post", "/api/check-news", "/api/check-news", {}, {"json": {"text": 3}}, 422),
    # both sides (routes_war.py): China's duty on U.S. goods, one product each way, the averages
    ("get", "/api/war/rate", "/api/war/rate", {"hs": "1201.90", "date": "2025-04-15"}, {}, 200),
    ("get", "/api/war/rate", "/api/war/rate", {"hs": "12019020", "date": "2025-04-10T12:00",
                                               "loading_date": "2025-04-01"}, {}, 200),
    ("get", "/api/war/rate", "/api/war/rate", {"hs": "1201.90", "origin": "CN"}, {}, 422),
    ("get", "/api/war/rate", "/api/war/rate", {"hs": "010110"}, {}, 404),
    ("get", "/api/war/timeline", "/api/war/timeline", {"hs": "8802.40", "from": "2025-01-01"}, {}, 200),
    ("get", "/api/war/timeline", "/api/war/timeline", {"hs": "8802.40", "from": "2026-01-01",
                                                       "to": "2025-01-01"}, {}, 422),
    ("get", "/api/war/timeline.svg", "/api/war/timeline.svg", {"hs": "8802.40"}, {}, 200),
    ("get", "/api/war/product", "/api/war/product", {"hts10": "8517.13.0000", "from": "2025-01-01"}, {}, 200),
    ("get", "/api/war/product", "/api/war/product", {"hts10": "9801.00.1012"}, {}, 404),
    ("get", "/api/war/product.svg", "/api/war/product.svg", {"hts10": "8517.13.0000"}, {}, 200),
    ("get", "/api/war/average", "/api/war/average", {}, {}, 503),
    ("get", "/api/war/average.svg", "/api/war/average.svg", {}, {}, 503),
    # effective rates and scenarios (routes_stats.py); this app has no built panel: 503 (200s: test_scenario.py)
    ("get", "/api/effective-rate", "/api/effective-rate", {"date": "2025-05-02"}, {}, 503),
    ("get", "/api/scenario/schema", "/api/scenario/schema", {}, {}, 200),
    ("post", "/api/scenario", "/api/scenario", {"date": "2025-05-02"},
     {"content": SCENARIO, "headers": {"Content-Type": "application/yaml"}}, 503),
    ("post", "/api/scenario", "/api/scenario", {},
     {"content": b"name: x\nevents: []\n", "headers": {"Content-Type": "application/yaml"}}, 422),
    ("post", "/api/scenario", "/api/scenario", {}, {"content": b"<a/>", "headers": {"Content-Type": "application/xml"}}, 415),
    ("post", "/api/scenario", "/api/scenario", {},
     {"content": b"x" * 300_000, "headers": {"Content-Type": "application/yaml"}}, 413),
    # the calculator (routes_calc.py)
    ("get", "/api/calc", "/api/calc", {"hts10": "6403.99.9065", "origin": "VN", "date": "2025-09-01",
                                       "value": 80000, "quantity": 5000, "unit": "prs", "mode": "ocean"}, {}, 200),
    ("get", "/api/calc", "/api/calc", {"hts10": "0406.90.1200", "origin": "FR", "date": "2025-10-01",
                                       "value": 1000, "quantity": 2, "unit": "prs"}, {}, 422),
    ("post", "/api/calc/file", "/api/calc/file", {},
     {"content": b"hts10,origin,entry_date,value\n8517.13.0000,CN,2025-05-02,100\n",
      "headers": {"Content-Type": "text/csv"}}, 200),
    ("post", "/api/calc/file", "/api/calc/file", {"output": "csv"},
     {"content": b"hts10,origin,entry_date,value\n8517.13.0000,CN,2025-05-02,100\n",
      "headers": {"Content-Type": "text/csv"}}, 200),
    ("post", "/api/calc/file", "/api/calc/file", {}, {"content": b"{}", "headers": {"Content-Type": "application/json"}}, 415),
]


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    got: dict[str, Any] = client.get("/api/openapi.json").json()
    return got


def schema_for(spec: dict[str, Any], method: str, path: str, status: int,
               ctype: str) -> dict[str, Any]:
    """The declared schema, made self-contained so '#/components/...' references resolve."""
    op = spec["paths"][path][method]
    assert str(status) in op["responses"], f"{method.upper()} {path}: {status} not declared"
    content = op["responses"][str(status)].get("content", {})
    assert ctype in content, f"{method.upper()} {path} {status}: {ctype} not declared"
    schema: dict[str, Any] = content[ctype]["schema"]
    return {**schema, "components": spec["components"]}


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate_spec(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_endpoint_is_exercised(spec: dict[str, Any]) -> None:
    covered = {(m, p) for m, p, *_ in CASES}
    declared = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert declared <= covered, declared - covered


def test_every_operation_declares_the_error_shape_and_examples(spec: dict[str, Any]) -> None:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status in ("400", "404", "413", "414", "415", "422"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorOut", (path, method, status)
            for p in op.get("parameters", []):
                if p.get("deprecated"):
                    continue
                ex = p.get("examples") or p["schema"].get("examples")
                assert ex, f"{method.upper()} {path}: parameter {p['name']} has no example"
    err = spec["components"]["schemas"]["ErrorDetail"]
    assert {"type", "message", "field"} <= set(err["required"])


@pytest.mark.parametrize(("method", "path", "url", "query", "body", "status"), CASES,
                         ids=[f"{c[0]} {c[2]} {c[5]}" for c in CASES])
def test_answers_match_the_document(client: TestClient, spec: dict[str, Any], method: str,
                                    path: str, url: str, query: dict[str, Any],
                                    body: dict[str, Any], status: int) -> None:
    resp = client.request(method.upper(), url, params=query, **body)
    assert resp.status_code == status, resp.text[:500]
    ctype = resp.headers["content-type"].split(";")[0]
    schema = schema_for(spec, method, path, status, ctype)
    if ctype == "application/json":
        errors = sorted(Draft202012Validator(schema).iter_errors(resp.json()), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    else:
        assert resp.content


def test_a_drifted_answer_would_fail(client: TestClient, spec: dict[str, Any]) -> None:
    """The check has teeth: a rate answer missing a declared field does not validate."""
    got = client.get("/api/rate", params=RATE).json()
    del got["layers"][0]["reason"]
    schema = schema_for(spec, "get", "/api/rate", 200, "application/json")
    assert not Draft202012Validator(schema).is_valid(got)


def test_diff_answer_over_a_built_store(engine: Engine, hts_dir: Path, spec: dict[str, Any],
                                        panel_home: tuple[Path, object]) -> None:
    app = create_app(engine, data_dir=hts_dir, home=panel_home[0])
    with TestClient(app) as c:
        resp = c.get("/api/diff", params={"from": "2025-04-01", "to": "2025-05-02",
                                          "origins": "CN", "heading": "8517", "limit": 20})
    assert resp.status_code == 200, resp.text[:500]
    schema = schema_for(spec, "get", "/api/diff", 200, "application/json")
    errors = list(Draft202012Validator(schema).iter_errors(resp.json()))
    assert not errors, errors[:3]
