"""Shared fixtures: the real public data in ../shared (configurable by TARIFFSTACK_SHARED)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("TARIFFSTACK_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}; set TARIFFSTACK_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def hts_dir(shared_dir: Path) -> Path:
    return shared_dir / "hts"
