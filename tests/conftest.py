"""Shared fixtures: the real public data in ../shared (configurable by TARIFFSTACK_SHARED)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tariffstack.engine.us import Engine

with warnings.catch_warnings():  # Starlette nudges towards httpx2; httpx (pinned) works
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

# The CLI's rich consoles are made once, at import, and a COLUMNS set at that moment would fix
# their width for the whole process; made here, with none set, they read COLUMNS at each call
# (as a new process would), whichever test first imports the CLI.
_columns = os.environ.pop("COLUMNS", None)
import tariffstack.surfaces.cli.app  # noqa: E402,F401

if _columns is not None:
    os.environ["COLUMNS"] = _columns

# The heaviest modules first, so the two pytest-xdist workers finish together: xdist hands out
# files in collection order (with --no-loadscope-reorder; its default puts the files with most
# tests first, which left two heavy two-test files, Spark and the API fuzzer, to run last on one
# worker while the other idled ~40 s). The second and third need neither the model nor the
# panel, so the worker that gets them has work while the other compiles the model and builds
# the panel (one core) for the scenario tests. Seconds each on 2 cores, measured 2026-12-03;
# files not named keep their collection order after these.
HEAVIEST_FIRST = (
    "test_scenario.py",        # 55 s: the session panel, then scenario panels
    "test_fetch.py",           # 31 s: mirror and USITC downloads from a local server
    "test_rates.py",           # 14 s: every rate text of every revision
    "test_calc_spark.py",      # 33 s: a Spark session
    "test_fuzz_api.py",        # 25 s: schemathesis over a live server
    "test_effective.py",       # 38 s: the USMCA variant panel
    "test_cli_fuzz_files.py",  # 12 s
    "test_panel.py",           # 28 s: builds and faults of the store
    "test_faults.py",          # 26 s: damaged archives, killed processes
    "test_browser.py",         # 23 s: Chromium
    "test_war.py",             # 18 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order kept


SHARED = Path(os.environ.get("TARIFFSTACK_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}; set TARIFFSTACK_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def hts_dir(shared_dir: Path) -> Path:
    return shared_dir / "hts"


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One derived-store folder per run, so the model is parsed (~30 s) and the panel built
    (~25 s) once and then reused; the pytest-xdist workers of one run share it."""
    if worker_id == "master":
        return tmp_path_factory.mktemp("home")
    home = tmp_path_factory.getbasetemp().parent / "home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture(scope="session")
def engine(hts_dir: Path, session_home: Path) -> Engine:
    """The real engine, loaded once per run (modules may still define their own); the first
    worker compiles the model while the others wait for its cache."""
    from tariffstack.files import exclusive

    with exclusive(session_home / ".test-model.lock"):
        return Engine.load(hts_dir, session_home)


@pytest.fixture(scope="session")
def panel_home(engine: Engine, session_home: Path) -> tuple[Path, object]:
    """The rate panel built once per run (about 25 s) in the session home: (home, BuildReport)."""
    from tariffstack import panel

    return session_home, panel.build(engine, session_home)


@pytest.fixture(scope="module")
def app(engine: Engine, hts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The API over the session engine and an empty home: no panel store, so /api/diff is 503."""
    from tariffstack.surfaces.api import create_app

    return create_app(engine, data_dir=hts_dir, home=tmp_path_factory.mktemp("apihome"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
