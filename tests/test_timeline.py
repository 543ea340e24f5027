"""Timelines guided by the built panel: the same segments as asking the engine on every boundary."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tariffstack.engine.timeline import timeline
from tariffstack.engine.us import Engine
from tariffstack.service.queries import Service
from tariffstack.sources.schedule import products

ORIGINS = ["CN", "MX", "CA", "DE", "JP", "GB", "BR", "IN", "VN", "CH", "KP", "RU"]


@pytest.fixture(scope="module")
def service(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object]) -> Service:
    return Service(engine, hts_dir, panel_home[0])


def _sample(engine: Engine, n: int) -> list[str]:
    """Lines of the newest revision, spread over the chapters (with those that paid 232 and 301)."""
    codes = sorted(ln.hts10 for ln in products(engine.model.lines[-1]))
    rng = random.Random(7)
    return ["7208.51.0030", "8517.13.0000", "0406.90.1200", "6403.99.9065", *rng.sample(codes, n)]


def test_panel_guided_timelines_equal_the_engines(service: Service, engine: Engine) -> None:
    assert service.current_panel() is not None  # the session's store is the law on file's
    calls = {"n": 0}
    real = engine.rate

    def counted(*a: object, **k: object) -> object:
        calls["n"] += 1
        return real(*a, **k)  # type: ignore[arg-type]

    rng = random.Random(3)
    guided_calls = full_calls = 0
    for code in _sample(engine, 25):
        origins = rng.sample(ORIGINS, 3)
        engine.rate = counted  # type: ignore[method-assign]
        try:
            calls["n"] = 0
            guided = service.timeline(code, ",".join(origins), None, None)
            guided_calls += calls["n"]
            calls["n"] = 0
            full = timeline(engine, code, origins)
            full_calls += calls["n"]
        finally:
            del engine.rate
        assert guided.to_json() == full.to_json(), code
    assert guided_calls * 3 < full_calls  # most boundaries touch other products


def test_a_stale_store_is_not_used(service: Service, engine: Engine, hts_dir: Path, tmp_path: Path,
                                   panel_home: tuple[Path, object]) -> None:
    import json
    import shutil

    home = tmp_path / "home"
    shutil.copytree(panel_home[0], home, symlinks=True)
    meta_path = (home / "panel").resolve() / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["intervals"][-1][1] = "0" * 16  # as if the law changed since the build
    meta_path.write_text(json.dumps(meta))
    stale = Service(engine, hts_dir, home)
    assert stale.current_panel() is None
    code, origins = "7208.51.0030", ["GB", "MX"]
    assert stale.timeline(code, ",".join(origins), None, None).to_json() == timeline(engine, code, origins).to_json()
