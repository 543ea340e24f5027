"""The page's importer switch and both-sides view in a real headless Chromium (war.js).

Same browser set-up as tests/test_browser.py (Debian's chromium through playwright; set
TARIFFSTACK_SKIP_BROWSER=1 to skip locally). The server has a built panel, because the U.S.
average needs it; the averages are computed once before the page asks (they take seconds).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_api import LiveServer
from test_browser import ARGS, CHROMIUM, SCREENSHOTS, TIMEOUT_MS, overflow  # noqa: F401 - shared set-up
from test_browser import browser as browser  # noqa: PLC0414 - the module-scoped fixture, reused

from tariffstack.engine.us import Engine
from tariffstack.surfaces.api import create_app

pytestmark = pytest.mark.browser
SOY = "1201.90.0010"


def _get(url: str, timeout: float = 900) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own loopback server
        body: bytes = resp.read()
        return body


@pytest.fixture(scope="module")
def server(engine: Engine, hts_dir: Path, panel_home: tuple[Path, object]) -> Iterator[str]:
    app = create_app(engine, data_dir=hts_dir, home=panel_home[0])
    app.state.service.warm()
    with LiveServer(app) as srv:
        _get(srv.url + "/api/war/average.svg")        # the series, computed once and kept
        yield srv.url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS * 4)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    ctx.close()
    assert not errors, errors


def test_importer_switch_and_both_sides(page: Any, server: str) -> None:
    pg = page
    pg.goto(f"{server}/?hts10={SOY}&origin=CN&date=2025-04-15&importer=CN")
    pg.wait_for_selector(f'#cn-stack[data-key="{SOY}|2025-04-15"]:not([hidden])')
    api = json.loads(_get(f"{server}/api/war/rate?hs={SOY}&date=2025-04-15"))
    assert pg.inner_text("#cn-total").startswith(f"Total {api['total_pct']:g}%")
    assert api["total_pct"] == 139
    row = pg.inner_text('#cn-table tr[data-layer="cn_all"]')
    assert "125%" in row and "No.6" in row and "Status:" in row
    assert "2 of 5 lines" in pg.inner_text('#cn-table tr[data-layer="cn_list"]')
    assert "several Chinese lines" in pg.inner_text("#cn-notes")
    assert "Which source the answer follows" in pg.inner_text("#cn-follows")
    pg.wait_for_selector('#cn-chart[data-state="loaded"]')
    assert pg.get_attribute("#importer", "value") is None or pg.input_value("#importer") == "CN"
    assert not pg.is_visible("#stack") and not pg.is_visible("#war")

    # the both-sides view: one chart for the product, one for the averages, the nine WTO dates
    pg.select_option("#importer", "both")
    pg.wait_for_selector(f'#war-product[data-key="{SOY}"]:not([hidden])')
    assert "importer=both" in pg.url
    pg.wait_for_selector('#war-p-chart[data-state="loaded"]')
    pg.wait_for_selector('#war-a-table[data-state="loaded"]')
    pg.wait_for_selector('#war-a-chart[data-state="loaded"]')
    avg = json.loads(_get(f"{server}/api/war/average"))["wto_dates"]
    rows = pg.locator("#war-a-table tbody tr")
    assert rows.count() == 9
    for i, r in enumerate(avg):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == r["date"]
        assert cells[1] == f"{round(r['us_total_pct'], 2):g}%" and cells[3] == f"{round(r['cn_total_pct'], 2):g}%"
    assert "WTO" in pg.inner_text("#war-a-caption") and "GTAP" in pg.inner_text("#war-a-caption")
    width = pg.eval_on_selector("#war-a-chart", "i => i.naturalWidth")
    assert width > 300
    pg.click("#war-product summary")
    first = pg.locator("#war-p-table tbody tr").first.locator("td").all_inner_texts()
    assert first[:2] == ["2025-01-01", "2025-02-03"]
    assert not pg.is_visible("#cn-stack") and not pg.is_visible("#stack")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / "war-both-sides-1400.png"), full_page=True)

    # back to the U.S. side: its stack again, the switch gone from the URL
    pg.select_option("#importer", "US")
    pg.wait_for_selector(f'#stack[data-key="{SOY}|CN|2025-04-15"]')
    assert pg.is_visible("#stack") and not pg.is_visible("#war") and "importer=" not in pg.url


def test_china_side_says_when_a_code_has_no_chinese_line(page: Any, server: str) -> None:
    pg = page
    pg.goto(f"{server}/?hts10=9801.00.1012&origin=CN&date=2025-04-15&importer=CN")
    pg.wait_for_selector("#cn-error:not([hidden])")
    assert "not an HS chapter" in pg.inner_text("#cn-error")


def test_both_sides_fit_a_phone(browser: Any, server: str) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 900}, is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS * 4)
    pg.goto(f"{server}/?hts10=8517.13.0000&origin=CN&date=2025-05-02&importer=both")
    pg.wait_for_selector('#war-p-chart[data-state="loaded"]')
    pg.wait_for_selector('#war-a-chart[data-state="loaded"]')
    assert overflow(pg) <= 1, f"the both-sides view is {overflow(pg)}px wider than 390px"
    pg.screenshot(path=str(SCREENSHOTS / "war-both-sides-390.png"), full_page=True)
    ctx.close()
