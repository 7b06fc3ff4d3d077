"""The console's reports in a real browser (issue 22): an organiser's administrator downloads the
statistics (CSV and XLSX, saved by Chromium and read back), the national view; finance records
lending capital and reads the books. axe-core on every report page, no serious or critical violation.
One `luotto serve` for the module (tests/e2e/console_support.py: t1's L1 … L3, 1,200.00 each,
granted 2025-01-15)."""
from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.console_support import (ARTIFACTS, check, ConsoleServer, seed, serving, sign_in)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("console-reports")
    url = f"sqlite:///{folder / 'luotto.sqlite'}"
    yield from serving(ConsoleServer(url, folder), seed(folder, url))



def _download(page, selector: str, name: str) -> Path:
    with page.expect_download() as download:
        page.click(selector)
    saved = ARTIFACTS / name
    download.value.save_as(str(saved))
    assert download.value.suggested_filename == name
    return saved


def test_an_organisers_administrator_downloads_the_statistics(server, page):
    base = server.base_url
    sign_in(page, base, "ad-1", "t1", ["admin"])
    page.goto(f"{base}/console/statistics")
    page.fill("#from", "2025-01-01")
    page.fill("#to", "2025-12-31")
    page.click("form.period button")
    assert page.locator("h1").inner_text() == "Tilastot 2025-01-01 – 2025-12-31"
    assert "Myönnetyt lainat: 3 kpl, 3 600,00 €" in page.locator("#loans").inner_text()
    assert page.locator("svg[role=img]").count() == 2  # applications and principal; 3 loans: cells suppressed
    check(page, "statistics")
    lines = _download(page, "#download-csv", "statistics-t1-2025-01-01-2025-12-31.csv").read_bytes() \
        .decode("utf-8-sig").splitlines()
    assert lines[0] == "section;item;count_or_value;euros"
    for line in ("loans_granted;count;3;", "loans_granted;euros;3600.00;", "loans_granted.by_purpose;unknown;;"):
        assert line in lines, line
    book = load_workbook(_download(page, "#download-xlsx", "statistics-t1-2025-01-01-2025-12-31.xlsx"))
    rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0] == ("section", "item", "count_or_value", "euros") and ("loans_granted", "count", 3, None) in \
        [(a, b, c, d or None) for a, b, c, d in rows]
    page.click("nav >> text=Valtakunnalliset tilastot")
    assert "Kaikki järjestäjät yhdessä" in page.locator("main").inner_text()
    check(page, "statistics-national")
    national = _download(page, "#download-csv", f"statistics-national-{page.locator('#from').input_value()}-"
                                                f"{page.locator('#to').input_value()}.csv")
    assert "period;scope;national;" in national.read_bytes().decode("utf-8-sig").splitlines()
    assert not page.csp_violations, page.csp_violations


def test_finance_records_capital_and_reads_the_books(server, page):
    base = server.base_url
    sign_in(page, base, "fi-1", "t1", ["finance"])
    page.goto(f"{base}/console/capital")
    check(page, "capital")
    page.select_option("#source", "state_grant")
    page.fill("#amount", "5000.00")
    page.fill("#on", "2025-01-01")
    page.fill("#decision_number", "STM/9/2024")
    page.click("#capital-form button")
    assert "Lainapääoma kirjattu." in page.locator("main").inner_text()
    entries = page.locator("#entries-table").inner_text()
    assert "valtionavustus, päätös STM/9/2024" in entries and "5 000,00 €" in entries and "fi-1" in entries
    page.fill("#from", "2025-01-01")
    page.fill("#to", "2025-12-31")
    page.click("form.period button")
    sources = page.locator("#sources-table").inner_text()
    assert "3 600,00 €" in sources, sources  # lent out: all three loans, the only source
    check(page, "capital-recorded")
    page.click("nav >> text=Kirjanpito")  # the seed recorded the grants of 2025-01-15 today (R-BOOK-1)
    today = str(server.facts["today"])
    page.fill("#from", today)
    page.fill("#to", today)
    page.click("form.period button")
    journal = page.locator("#journal-table").inner_text()
    assert "loans_receivable" in journal and "3 600,00" in journal and "lainat maksettu" in journal
    check(page, "books")
    lines = _download(page, "#journal-csv", f"journal-t1-{today}-{today}.csv").read_bytes() \
        .decode("utf-8-sig").splitlines()
    assert lines == ["date;value_date;account;debit;credit;what",
                     f"{today};2025-01-15;loans_receivable;3600.00;;loans paid out",
                     f"{today};2025-01-15;bank;;3600.00;loans paid out"]
    assert not page.csp_violations, page.csp_violations
