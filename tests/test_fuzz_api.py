"""Property-based fuzzing of every endpoint from the served OpenAPI document (schemathesis).

Generated requests (valid and invalid parameters, odd strings, out-of-range numbers) go to a
real uvicorn server on loopback. Every answer must be a non-5xx response that matches the
schema the document declares for its status (the error shape included). The number of cases
is bounded here; ``benchmarks/bench_fuzz.py`` runs many more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_api import LiveServer

from tariffstack.engine.us import Engine
from tariffstack.surfaces.api import create_app

MAX_EXAMPLES = int(os.environ.get("TARIFFSTACK_FUZZ_EXAMPLES", "12"))
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_app(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object]) -> FastAPI:
    """Over the built panel, so that /api/diff answers too."""
    return create_app(engine, data_dir=hts_dir, home=panel_home[0])


@pytest.fixture(scope="module")
def fuzz_server(fuzz_app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(fuzz_app) as srv:
        yield srv


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LiveServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/api/openapi.json")


def _operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_documented_answers(api_schema: schemathesis.BaseSchema, fuzz_server: LiveServer,
                                                  mode: GenerationMode) -> None:
    """Valid (positive) and schema-violating (negative) requests for every operation."""
    failures: list[str] = []
    ran = 0
    for op in _operations(api_schema):

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None, derandomize=True)
        def check(case: schemathesis.Case) -> None:
            nonlocal ran
            ran += 1
            response = case.call(base_url=fuzz_server.url, timeout=30)
            where = f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.text[:200]}")
                return
            if mode is GenerationMode.POSITIVE or response.status_code < 400:
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as exc:  # noqa: BLE001 - collect every failure, report them together
                    failures.append(f"{where}: {str(exc)[:300]}")
            elif "error" not in response.json():
                failures.append(f"{where}: an error without the error shape: {response.text[:200]}")

        try:
            check()
        except Unsatisfiable:  # an operation without parameters has no invalid request to make
            assert mode is GenerationMode.NEGATIVE
    assert ran >= 10 * len(_operations(api_schema)) // 2
    assert not failures, "\n".join(failures[:15])
