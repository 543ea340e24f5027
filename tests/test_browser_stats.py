"""The "Average rate" view in a real headless Chromium: the effective-rate chart with the legal
events marked, and a what-if scenario drawn beside the law.

Same browser set-up as tests/test_browser.py (Debian's /usr/bin/chromium through playwright;
TARIFFSTACK_SKIP_BROWSER=1 skips locally). The server runs over the session's built panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_api import LiveServer
from test_browser import browser, page, shot  # noqa: F401 - fixtures shared with the page tests

from tariffstack.engine.us import Engine
from tariffstack.surfaces.api import create_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
SCENARIO_MS = 240_000   # a first scenario run builds its panel (tens of seconds on 2 cores)


@pytest.fixture(scope="module")
def server(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object]) -> Iterator[str]:
    app = create_app(engine, data_dir=hts_dir, home=panel_home[0])
    with LiveServer(app) as srv:
        yield srv.url


def test_effective_rate_chart_with_marks(server: str, page: Any) -> None:  # noqa: F811
    page.goto(f"{server}/?view=stats")
    page.wait_for_selector("#etr-chart[data-state='ready']", timeout=180_000)
    assert page.get_attribute("#tab-stats", "aria-selected") == "true"
    assert page.is_hidden("#view-duties")
    # one line per series shown (all imports + the four partner groups ticked by default)
    series = page.eval_on_selector_all("#etr-chart path.line", "ps => ps.map(p => p.dataset.series)")
    assert series == ["all", "china", "canada", "mexico", "eu"]
    marks = page.eval_on_selector_all("#etr-chart g.mark", "gs => gs.map(g => g.dataset.date)")
    assert "2025-04-09" in marks and "2025-05-14" in marks
    listed = page.eval_on_selector_all("#etr-marks li", "ls => ls.map(l => l.textContent)")
    assert len(listed) == len(marks) and any("May 14, 2025" in t and "ieepa_reciprocal" in t for t in listed)
    assert "estimate" in page.inner_text("#etr-label")
    # the table has China's peak
    china = page.eval_on_selector_all("#etr-table tbody tr", "rs => rs.map(r => r.children[1 + 1].textContent)")
    assert max(float(x.rstrip("%")) for x in china if x != "—") > 140
    # ticking a group adds its line
    page.check("#etr .etr-series input[value='japan']")
    series = page.eval_on_selector_all("#etr-chart path.line", "ps => ps.map(p => p.dataset.series)")
    assert "japan" in series
    page.hover("#etr-chart rect.hit")
    assert "all" in page.inner_text("#etr-readout")
    shot(page, "stats-chart")


def test_scenario_beside_the_law(server: str, page: Any) -> None:  # noqa: F811
    page.goto(f"{server}/?view=stats")
    page.wait_for_selector("#etr-chart[data-state='ready']", timeout=180_000)
    page.fill("#etr-from", "2025-03-01")
    page.fill("#etr-to", "2025-06-30")
    text = (ROOT / "docs" / "examples" / "scenarios" / "geneva-a-month-earlier.yaml").read_text(encoding="utf-8")
    page.fill("#scn-text", text)
    page.click("#scn-run")
    page.wait_for_selector("#scn-result:not([hidden])", timeout=SCENARIO_MS)
    rows = {r[0]: r[1:] for r in page.eval_on_selector_all(
        "#scn-table tbody tr", "rs => rs.map(r => [r.dataset.key, ...[...r.children].slice(1).map(c => c.textContent)])")}
    law, scen, diff = rows["china"]
    assert float(diff) < -10 and float(law.rstrip("%")) > float(scen.rstrip("%"))
    assert rows["canada"][2] == "0.0"
    series = page.eval_on_selector_all("#etr-chart path.line", "ps => ps.map(p => p.dataset.series)")
    assert {"law-all", "scn-all", "law-china", "scn-china"} <= set(series)
    assert "law-canada" not in series   # only the groups the scenario moves
    assert page.eval_on_selector_all("#etr-chart g.mark", "gs => gs.map(g => g.dataset.date)") == ["2025-04-14"]
    assert "hypothetical" in page.inner_text("#scn-label")
    assert "pairs change" in page.inner_text("#scn-changes")
    shot(page, "stats-scenario")
    # a bad scenario: the message names the line, nothing is drawn over the result
    page.fill("#scn-text", "name: bad\nevents:\n  - action: rate\n    headings: 9903.77.77\n    rate_pct: 5\n"
                           "    effective: 2025-05-01\n")
    page.click("#scn-run")
    page.wait_for_selector("#scn-error:not([hidden])", timeout=60_000)
    assert "line 4" in page.inner_text("#scn-error") and "never existed" in page.inner_text("#scn-error")


def test_tabs_keep_working(server: str, page: Any) -> None:  # noqa: F811
    page.goto(f"{server}/")
    page.click("#tab-stats")
    assert "view=stats" in page.url and not page.is_hidden("#view-stats")
    page.click("#tab-duties")
    assert page.is_hidden("#view-stats") and not page.is_hidden("#view-duties")
    page.focus("#tab-duties")
    page.keyboard.press("ArrowLeft")   # wraps round to the last tab
    assert page.get_attribute("#tab-stats", "aria-selected") == "true"
