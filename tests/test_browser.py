"""The web page in a real headless Chromium: search -> product -> chart -> change origin/date.

Uses Debian's /usr/bin/chromium through the Python ``playwright`` package (no browser download).
CI installs Chromium, so a missing browser FAILS here; set TARIFFSTACK_SKIP_BROWSER=1 to skip
locally. Screenshots go to tests/output/browser/ (ignored by git) for a human look.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_api import NEWS_000, LiveServer

from tariffstack.engine.us import Engine
from tariffstack.surfaces.api import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("TARIFFSTACK_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUT = Path(__file__).resolve().parent / "output" / "browser"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if os.environ.get("TARIFFSTACK_SKIP_BROWSER") == "1":
        pytest.skip("browser tests skipped: TARIFFSTACK_SKIP_BROWSER=1")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the 'playwright' Python package is missing: pip install -e '.[dev]' "
                    "(or set TARIFFSTACK_SKIP_BROWSER=1 to skip the browser tests locally)")
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                    "(or set TARIFFSTACK_SKIP_BROWSER=1 to skip the browser tests locally)")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def server(engine: Engine, hts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(engine, data_dir=hts_dir, home=tmp_path_factory.mktemp("webhome"))
    app.state.service.warm()
    with LiveServer(app) as srv:
        yield srv.url


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page that fails the test on any uncaught script error."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("dialog", lambda d: (errors.append(f"unexpected dialog: {d.message}"), d.dismiss()))
    yield pg
    ctx.close()
    assert not errors, errors


def shot(pg: Any, name: str) -> None:
    pg.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def pct(x: float) -> str:
    return f"{x:g}%"


def wait_stack(pg: Any, code: str, origin: str, day: str) -> str:
    pg.wait_for_selector(f'#stack[data-key="{code}|{origin}|{day}"]:not([hidden])')
    return str(pg.inner_text("#s-total"))


def wait_chart(pg: Any, code: str, origins: str) -> None:
    pg.wait_for_selector(f'#chart[data-state="loaded"][data-key="{code}|{origins}"]')
    width = pg.eval_on_selector("#chart svg", "s => s.getBoundingClientRect().width")
    assert width > 100, "the chart did not render"
    assert pg.locator("#chart svg .seg title").count() > 0, "no hover values in the chart"


def overflow(pg: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return int(pg.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_search_product_chart_origin_and_date(page: Any, server: str, engine: Engine) -> None:
    pg = page
    pg.goto(server + "/")
    # (selectors, not wait_for_function: the page's CSP forbids the eval that polling needs)
    pg.wait_for_selector("#coverage:has-text('HTS 2026')")
    pg.fill("#date", "2025-05-02")
    pg.locator("#q").press_sequentially("smartphones", delay=15)
    pg.wait_for_selector('#results li[data-hts="8517.13.00.00"]')
    assert pg.get_attribute("#q", "aria-expanded") == "true"
    shot(pg, "01-search")
    pg.press("#q", "Enter")                               # the first hit is active

    total = wait_stack(pg, "8517.13.00.00", "CN", "2025-05-02")
    assert total.startswith("Total 20%")
    assert pg.inner_text("#p-desc") == "Smartphones"
    assert "Free" in pg.inner_text("#p-mfn")
    assert "Telephone sets" in pg.inner_text("#p-path")
    fentanyl = pg.inner_text('#s-table tr[data-layer="ieepa_fentanyl"]')
    assert "9903.01.24" in fentanyl and "20%" in fentanyl and "Source:" in fentanyl
    recip = pg.inner_text('#s-table tr[data-layer="ieepa_reciprocal"]')
    assert "exempt" in recip and "9903.01.32" in recip
    wait_chart(pg, "8517.13.00.00", "CN,MX,DE,VN")
    pg.wait_for_selector('#c-table[data-key="8517.13.00.00|2025-05-02"]')
    assert pg.get_attribute('#c-table tr[data-origin="CN"]', "data-total") == "20"
    assert "Pays most: 35%" in pg.inner_text("#c-summary")  # column 2 origins
    shot(pg, "02-product")

    # another origin: the stack follows, the table marks it
    pg.select_option("#origin", "MX")
    total = wait_stack(pg, "8517.13.00.00", "MX", "2025-05-02")
    assert total.startswith("Total 25%")
    assert "current" in (pg.get_attribute('#c-table tr[data-origin="MX"]', "class") or "")

    # another date: product, stack and table all follow
    pg.fill("#date", "2025-02-10")
    want = engine.rate("8517.13.0000", "MX", date(2025, 2, 10)).total_pct
    total = wait_stack(pg, "8517.13.00.00", "MX", "2025-02-10")
    assert total.startswith(f"Total {pct(want)}")
    pg.wait_for_selector('#c-table[data-key="8517.13.00.00|2025-02-10"]')
    assert pg.get_attribute('#c-table tr[data-origin="CN"]', "data-total") == "10"

    # other origins in the chart
    pg.fill("#origins", "China, VN, de")
    pg.press("#origins", "Enter")
    wait_chart(pg, "8517.13.00.00", "China,VN,de")
    tables = pg.eval_on_selector("#tl-tables", "e => e.textContent")  # inside a closed <details>
    assert "Viet" in tables and "Germany (DE)" in tables and "China (CN)" in tables
    shot(pg, "03-changed")

    # the copied link reopens exactly this view
    pg.click("#copy")
    pg.wait_for_selector("#copy[data-url]", state="attached")
    url = pg.get_attribute("#copy", "data-url")
    assert "origin=MX" in url and "date=2025-02-10" in url and "hts10=8517.13.00.00" in url
    other = pg.context.new_page()
    other.goto(url)
    assert wait_stack(other, "8517.13.00.00", "MX", "2025-02-10").startswith(f"Total {pct(want)}")
    assert other.input_value("#origin") == "MX" and other.input_value("#date") == "2025-02-10"
    wait_chart(other, "8517.13.00.00", "China,VN,de")
    other.close()


def test_keyboard_code_search_and_tabs(page: Any, server: str) -> None:
    pg = page
    pg.goto(server + "/?date=2025-06-10&origin=GB")
    pg.focus("#q")
    pg.keyboard.type("7208.51")
    pg.wait_for_selector("#results li")
    first = pg.get_attribute("#results li >> nth=0", "data-hts")
    second = pg.get_attribute("#results li >> nth=1", "data-hts")
    pg.keyboard.press("ArrowDown")
    assert pg.get_attribute("#q", "aria-activedescendant") == "opt-1"
    pg.keyboard.press("ArrowUp")
    pg.keyboard.press("ArrowDown")
    pg.keyboard.press("Enter")
    assert first != second
    total = wait_stack(pg, second, "GB", "2025-06-10")
    assert re.match(r"Total \d", total)
    # tabs switch with the arrow keys
    pg.focus("#tab-duties")
    pg.keyboard.press("ArrowRight")
    assert pg.is_visible("#view-news") and not pg.is_visible("#view-duties")
    assert pg.evaluate("document.activeElement.id") == "tab-news"
    pg.keyboard.press("ArrowLeft")
    assert pg.is_visible("#view-duties")


def test_phone_width_shared_link(browser: Any, server: str) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(server + "/?code=7208.51.0030&origin=GB&date=2025-06-10&origins=GB,DE")  # old name
    total = wait_stack(pg, "7208.51.0030", "GB", "2025-06-10")
    assert total.startswith("Total 25%")                      # the U.K. steel rate
    s232 = pg.inner_text('#s-table tr[data-layer="s232"]')
    assert "9903.81.94" in s232
    wait_chart(pg, "7208.51.0030", "GB,DE")
    assert overflow(pg) <= 1, f"the page is {overflow(pg)}px wider than a phone screen"
    shot(pg, "04-phone")
    ctx.close()


def test_bad_input_shows_a_friendly_message(page: Any, server: str) -> None:
    pg = page
    pg.goto(server + "/?code=9999.99.9999&date=2025-05-02")
    pg.wait_for_selector("#error:not([hidden])")
    assert "unknown HTS code 9999.99.99.99" in pg.inner_text("#error-text")
    pg.click("#error-close")
    pg.goto(server + "/?code=8517.13.0000&date=2031-01-01")
    pg.wait_for_selector("#error:not([hidden])")
    assert "outside the data" in pg.inner_text("#error-text")
    pg.goto(server + "/?code=8517.13.0000&date=2025-05-02")
    wait_stack(pg, "8517.13.0000", "CN", "2025-05-02")
    pg.fill("#origins", "CN, Narnia")
    pg.press("#origins", "Enter")
    pg.wait_for_selector("#error:not([hidden])")
    assert "unknown country 'Narnia'" in pg.inner_text("#error-text")
    # markup typed into the search box stays text
    pg.fill("#q", '<img src=x onerror="alert(1)">')
    pg.wait_for_selector("#search-status:not(:empty)")   # searched (a match or none)
    assert pg.locator("#results img").count() == 0
    shot(pg, "05-errors")


def test_news_claims_highlighted_with_verdicts(page: Any, server: str, shared_dir: Path) -> None:
    pg = page
    text = (shared_dir / NEWS_000).read_text("utf-8")
    pg.goto(server + "/")
    pg.click("#tab-news")
    # no date anywhere: a clear message, not a crash
    pg.fill("#news-text", text.split("\n", 1)[1])
    pg.click("#news-submit")
    pg.wait_for_selector("#error:not([hidden])")
    assert "no article date" in pg.inner_text("#error-text")
    pg.fill("#news-text", text)
    pg.click("#news-submit")
    pg.wait_for_selector("#news-result[data-claims]:not([hidden])")
    n = int(pg.get_attribute("#news-result", "data-claims"))
    assert n >= 5
    marks = pg.locator("#news-article mark")
    assert marks.count() >= 1
    hit = pg.locator("#news-article mark", has_text="duties of 145 percent")
    assert hit.get_attribute("data-verdict") == "supported"
    # the article is shown whole: the highlighted text is the pasted text
    assert pg.eval_on_selector("#news-article", "e => e.textContent") == text.replace("\r\n", "\n")
    hit.click()
    idx = hit.get_attribute("data-claim")
    assert "active" in (pg.get_attribute(f"#claim-{idx}", "class") or "")
    card = pg.inner_text(f"#claim-{idx}")
    assert "supported" in card and "145" in card
    assert f"{n} claim(s) as of 2025-05-02" in pg.inner_text("#news-summary")
    shot(pg, "06-news")


SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
TOYS = "9503.00.0073"


@pytest.mark.parametrize("width", [390, 1400])
def test_layout_table_chart_and_csv(browser: Any, server: str, width: int,
                                    tmp_path: Path) -> None:
    """At phone and desktop widths: no sideways scroll, readable chart, the origins table
    sorted by total (highest first) with the chosen origin marked, re-sortable and downloadable."""
    phone = width < 500
    ctx = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=phone,
                              has_touch=phone, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # the landing page: what the tool does and example queries, all fitting the screen
    pg.goto(server + "/")
    pg.wait_for_selector("#coverage:has-text('HTS 2026')")
    examples = pg.locator("#empty .examples a")
    assert 3 <= examples.count() <= 4
    assert overflow(pg) <= 1, f"landing page {overflow(pg)}px too wide at {width}px"
    examples.nth(1).click()                                     # toys from China
    total = wait_stack(pg, TOYS, "CN", "2025-05-02")
    assert total.startswith("Total 145%")
    wait_chart(pg, TOYS, "CN,MX,DE,VN")
    pg.wait_for_selector(f'#c-table[data-key="{TOYS}|2025-05-02"]')
    assert overflow(pg) <= 1, f"the page is {overflow(pg)}px wider than {width}px"

    # chart: drawn at the box's width (text stays 12 px), a marker on the entry date
    font = pg.eval_on_selector("#chart svg .ytick", "t => t.getBoundingClientRect().height")
    assert font >= 10, f"chart text is {font}px tall"
    marks = pg.locator("#chart svg .mtext")
    assert marks.count() == 4 and marks.first.inner_html().startswith("2025-05-02: 145%")
    pg.locator("#chart svg .seg").nth(2).hover()
    assert "China (CN)" in pg.inner_text("#chart-readout")

    # table: highest total first, the chosen origin highlighted, sortable, scrolls in its box
    rows = pg.locator("#c-table tbody tr")
    totals = [float(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.total)")]
    assert totals == sorted(totals, reverse=True) and totals[0] == 145
    assert rows.first.get_attribute("data-origin") in ("CN", "HK")
    current = pg.locator("#c-table tbody tr.current")
    assert current.count() == 1 and current.get_attribute("data-origin") == "CN"
    assert current.get_attribute("aria-current") == "true"
    box = pg.eval_on_selector("#c-box", "b => [b.scrollHeight, b.clientHeight, b.scrollWidth, b.clientWidth]")
    assert box[0] > box[1], "the table should scroll inside its own box"
    pg.click('#c-table th[data-sort="total"] button')             # now lowest first
    pg.wait_for_selector('#c-table[data-sort="total:asc"]')
    low = [float(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.total)")]
    assert low == sorted(low) and low[0] < 145
    pg.click('#c-table th[data-sort="origin"] button')            # by name
    pg.wait_for_selector('#c-table[data-sort="origin:asc"]')
    assert rows.first.get_attribute("data-origin") == "AF"       # Afghanistan
    pg.click('#c-table th[data-sort="total"] button')
    pg.wait_for_selector('#c-table[data-sort="total:desc"]')
    with pg.expect_download() as dl:
        pg.click("#c-csv")
    path = tmp_path / "origins.csv"
    dl.value.save_as(path)
    assert dl.value.suggested_filename.endswith(".csv")
    lines = path.read_text("utf-8").splitlines()
    assert lines[0].startswith("rank,origin,name,total_pct")
    assert len(lines) == 1 + len(totals)
    assert lines[1].split(",")[3] == "145" and lines[1].split(",")[1] in ("CN", "HK")

    # sources: Federal Register citations are links
    link = pg.locator('#s-table a.cite[href="https://www.federalregister.gov/citation/90-FR-15041"]')
    assert link.count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"page-{width}.png"), full_page=True)
    ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("width", [390, 1400])
def test_unknown_origin_in_a_link_is_an_error(browser: Any, server: str, width: int) -> None:
    """origin=ZZ shows what is wrong; it never silently answers for another country."""
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(server + "/?hts10=8517.13.0000&origin=ZZ&date=2025-05-02")
    pg.wait_for_selector("#error:not([hidden])")
    text = pg.inner_text("#error-text")
    assert "“ZZ”" in text and "not a country" in text and "ISO code" in text
    assert pg.is_visible("#error-text")
    assert pg.get_attribute("#origin", "aria-invalid") == "true"
    assert pg.input_value("#origin") == "ZZ"                      # not quietly CN
    pg.wait_for_selector('#c-table[data-key="8517.13.0000|2025-05-02"]')
    assert pg.is_hidden("#stack") and pg.locator("#c-table tr.current").count() == 0
    assert overflow(pg) <= 1
    # picking a real origin recovers
    pg.select_option("#origin", "MX")
    assert wait_stack(pg, "8517.13.0000", "MX", "2025-05-02").startswith("Total 25%")
    # and a link without a product says so too
    pg.goto(server + "/?origin=ZZ")
    pg.wait_for_selector("#error:not([hidden])")
    assert "“ZZ”" in pg.inner_text("#error-text")
    ctx.close()


def test_api_docs_page_tries_a_call(page: Any, server: str) -> None:
    pg = page
    pg.goto(server + "/api/docs")
    form = "form.try[data-path='/api/rate']"
    pg.wait_for_selector(form)
    assert pg.input_value(f"{form} input[name='p-hts10']") == "8517.13.0000"
    assert "deprecated" in pg.inner_text(f"{form} tr.deprecated")
    pg.click(f"{form} button[type=submit]")
    pg.wait_for_selector(f"{form} .try-out[data-status='200']")
    assert '"total_pct"' in pg.inner_text(f"{form} pre.try-body")
    pg.fill(f"{form} input[name='p-origin']", "ZZ")
    pg.click(f"{form} button[type=submit]")
    pg.wait_for_selector(f"{form} .try-out[data-status='404']")
    assert "unknown_country" in pg.inner_text(f"{form} pre.try-body")
    news = "form.try[data-path='/api/check-news']"
    pg.click(f"{news} button[type=submit]")
    pg.wait_for_selector(f"{news} .try-out[data-status='200']")
    assert '"claims"' in pg.inner_text(f"{news} pre.try-body")
