"""A data folder with only the newest revisions (what a plain USITC fetch gives) builds and answers
the law for the days it covers, and refuses the days before it."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from datafolders import with_revisions

from tariffstack.engine.us import Engine
from tariffstack.errors import DateOutOfRange
from tariffstack.law.store import build_model
from tariffstack.sources.schedule import products

KEEP = 3


@pytest.fixture(scope="module")
def newest_only(hts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_revisions(hts_dir, tmp_path_factory.mktemp("partial"), slice(-KEEP, None))


def test_newest_revisions_alone_build_and_match_the_whole_history(newest_only: Path, engine: Engine) -> None:
    part = Engine(build_model(newest_only))
    m = part.model
    assert [r.name for r in m.revisions] == [r.name for r in engine.model.revisions[-KEEP:]]
    oldest = m.revisions[0]
    assert oldest.published is not None and m.first_date == oldest.published  # not Jan 1 of its year
    assert m.last_date == engine.model.last_date
    with pytest.raises(DateOutOfRange):
        part.rate("8517.13.0000", "CN", m.first_date - timedelta(days=1))
    rng = random.Random(5)
    codes = ["7217.10.1000", "8517.13.0000", "8703.23.0190", "0406.90.1200",
             *rng.sample(sorted(ln.hts10 for ln in products(m.lines[-1])), 40)]
    for day in (m.first_date, m.last_date):
        for code in codes:
            for origin in ("CN", "DE", "MX", "JP", "BR"):
                want = engine.rate(code, origin, day)
                got = part.rate(code, origin, day)
                assert got.total_pct == want.total_pct, (code, origin, day)
                assert {x.heading for x in got.layers if not x.exempt} == {
                    x.heading for x in want.layers if not x.exempt}, (code, origin, day)
