"""The calculator form in a real headless Chromium: a shipment in, dollars per layer with sources out."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_browser import browser, page, server, shot  # noqa: F401 - the fixtures of the page tests

from tariffstack.calc.formula import cents
from tariffstack.engine.us import Engine
from tariffstack.law.rates import parse_rate

pytestmark = pytest.mark.browser


def test_calculator_form(page: Any, server: str, engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    page.goto(server)
    page.click("#tab-calc")
    assert page.is_visible("#calc-form") and not page.is_visible("#view-duties")
    page.fill("#calc-hts", "0406.90.1200")
    page.fill("#calc-origin", "France")
    page.fill("#calc-date", "2025-10-01")
    page.fill("#calc-value", "12000")
    page.fill("#calc-qty", "1500")
    page.fill("#calc-unit", "kg")
    page.select_option("#calc-mode", "ocean")
    page.click("#calc-go")
    page.wait_for_selector("#calc-result:not([hidden])")
    amount = parse_rate(engine.line("0406.90.1200", date(2025, 10, 1)).general).specific[0].amount_usd
    mfn = page.locator("#calc-layers tbody tr").first
    assert f"{cents(amount * 1500):,.2f}" in mfn.inner_text()
    assert "HTS" in mfn.inner_text()  # the product line's source
    assert page.locator(".calc-fee").count() == 2 and "CBP" in page.inner_text("#calc-result")
    assert "Total $" in page.inner_text("#calc-total")
    shot(page, "calc")
    # a unit that cannot convert: the reason, not a crash
    page.fill("#calc-unit", "prs")
    page.click("#calc-go")
    page.wait_for_selector("#calc-error:not([hidden])")
    assert "cannot convert prs" in page.inner_text("#calc-error")
    # a file with a bad line
    src = tmp_path / "entries.csv"
    src.write_text("hts10,origin,entry_date,value,mode\n6403.99.9065,VN,2025-09-01,80000,ocean\nbad,CN,2025-05-02,1,air\n")
    page.set_input_files("#calc-file", str(src))
    page.click("#calc-upload-go")
    page.wait_for_selector("#calc-upload-summary")
    assert "1 lines priced, 1 bad" in page.inner_text("#calc-upload-summary")
    assert "line 3: malformed HTS code" in page.inner_text("#calc-upload-result")
    # another tab hides the calculator
    page.click("#tab-duties")
    assert not page.is_visible("#view-calc") and page.is_visible("#view-duties")
