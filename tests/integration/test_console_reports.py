"""The reports in the console (issue 22): statistics for a period with charts, small cells
suppressed and CSV/XLSX downloads (R-STAT-1 … 3), the national view for an administrator, lending
capital by source (R-CAP-1, R-CAP-2), the journal (R-BOOK-1) and the bank files reconciled (R-BOOK-2).

The known history is organiser t2's (tests/integration/test_console.build: M1 500.00 granted
2025-01-15, nothing paid), each fact recorded on its own day:
  2025-03-03  S1 … S5 granted, 1,000.00 each, purpose housing; S6 800.00, purpose vehicle (a cell of 1)
  2025-03-20  S5 written off before its first due date: 1,000.00 principal lost, nothing else owed
For March 2025: 6 loans granted, 5,800.00; housing 5 / 5,000.00 shown, vehicle suppressed (R-STAT-2);
principal outstanding on 03-31 500.00 + 5,800.00 − 1,000.00 = 5,300.00; credit loss 1,000.00 =
17.24 % of the period's grants (1,000 / 5,800) and 15.87 % of all (1,000 / 6,300).
"""
from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from domain.loan import Decision
from tests.integration.test_console import build, signed_in
from tests.support.console import csrf_of

MARCH = "from=2025-03-01&to=2025-03-31"
D = dt.date


def _app(tmp_path):
    app = build(tmp_path)
    c = app.state.container
    clock, dm = c.service.clock, Decision("dm-9", "myönnetty")
    clock.day = D(2025, 3, 3)
    for n, (principal, purpose) in enumerate([(100000, "housing")] * 5 + [(80000, "vehicle")], start=1):
        c.service.grant(tenant="t2", loan_id=f"S{n}", borrower_id=f"D{n}", purpose="vuokra", principal=principal,
                        granted_on=clock.day, first_due_date=D(2025, 4, 15), instalment_amount=10000, decision=dm,
                        purpose_class=purpose)
    clock.day = D(2025, 3, 20)
    c.service.write_off("t2", "S5", on=clock.day, decision=dm)
    clock.day = D(2025, 4, 2)
    return app


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _table(html: str, table_id: str) -> str:
    return _text(html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0])


def test_statistics_for_a_period_with_charts_suppressed_cells_and_downloads(tmp_path):
    app = _app(tmp_path)
    with signed_in(app, ["auditor"], tenant="t2", subject="au-1") as cl:
        page = cl.get(f"/console/statistics?{MARCH}")
        assert page.status_code == 200, page.text
        html = page.text
        assert "Tilastot 2025-03-01 – 2025-03-31" in html and "Myönnetyt lainat: 6 kpl, 5 800,00 €" in html
        purpose = _table(html, "by_purpose-table")
        assert "asuminen 5 5 000,00 €" in purpose and "ajoneuvo" not in purpose  # R-STAT-2: a cell of one
        assert "1 pientä solua (1–4 tapausta) jätetty" in html
        chart = html.split('id="by_purpose-chart-title"', 1)[1].split("</svg>", 1)[0]
        assert "asuminen" in chart and "5 / 5 000,00 €" in chart and "ajoneuvo" not in chart
        assert '<svg role="img" aria-labelledby="by_purpose-chart-title"' in html
        assert "tuntematon" not in purpose and "ei tiedossa 6 5 800,00 €" in _table(html, "by_age_band-table")
        assert "Pääomaa jäljellä 2025-03-31: 5 300,00 €" in html
        principal = _table(html, "principal-table")
        assert "myönnetty 5 800,00 €" in principal and "poistettu luottotappiona 1 000,00 €" in principal
        events = _table(html, "events-table")
        assert "luottotappio (pääoma) 1 000,00 €" in events
        assert "luottotappio ajanjakson myönnöistä 17,24 %" in events
        assert "luottotappio kaikista myönnöistä 15,87 %" in events
        assert "poistettu (luottotappio) 1" in events

        csv = cl.get(f"/console/statistics?{MARCH}&format=csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert 'filename="statistics-t2-2025-03-01-2025-03-31.csv"' in csv.headers["content-disposition"]
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "section;item;count_or_value;euros"
        for line in ("loans_granted;count;6;", "loans_granted;euros;5800.00;",
                     "loans_granted.by_purpose;housing;5;5000.00", "loans_granted.by_purpose;vehicle;;",
                     "totals;outstanding_principal_at_end;5300.00;"):
            assert line in lines, line
        xlsx = cl.get(f"/console/statistics?{MARCH}&format=xlsx")
        assert xlsx.status_code == 200 and 'statistics-t2-2025-03-01-2025-03-31.xlsx' in \
            xlsx.headers["content-disposition"]
        rows = [tuple(r) for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)]
        assert ("loans_granted.by_purpose", "housing", 5, "5000.00") in rows
        assert ("loans_granted.by_purpose", "vehicle", None, None) in rows or \
            ("loans_granted.by_purpose", "vehicle", "", "") in rows

        bad = cl.get("/console/statistics?from=2025-03-31&to=2025-03-01")
        assert bad.status_code == 422 and "R-STAT-1" in bad.text and "to" in bad.text
        english = cl.get(f"/console/statistics?{MARCH}", headers={"Accept-Language": "en"}).text
        assert "Loans granted: 6, 5,800.00 €" in english and "fewer than 5" not in english
        assert "1 small cells (1 to 4 cases)" in english
        swedish = cl.get(f"/console/statistics?{MARCH}", headers={"Accept-Language": "sv"}).text
        assert "Beviljade lån: 6 st., 5 800,00 €" in swedish and "boende" in swedish
        # the national view is the administrator's
        assert cl.get(f"/console/statistics/national?{MARCH}").status_code == 403


def test_the_administrator_downloads_the_organisers_and_the_national_statistics(tmp_path):
    app = _app(tmp_path)
    with signed_in(app, ["admin"], tenant="t2", subject="ad-1") as cl:
        own = cl.get(f"/console/statistics?{MARCH}&format=csv")
        assert own.status_code == 200 and "loans_granted;count;6;" in own.content.decode("utf-8-sig")
        page = cl.get(f"/console/statistics/national?{MARCH}")
        assert page.status_code == 200 and "Valtakunnalliset tilastot 2025-03-01 – 2025-03-31" in page.text
        assert "Kaikki järjestäjät yhdessä (2 järjestäjää)" in page.text
        assert "Myönnetyt lainat: 6 kpl, 5 800,00 €" in page.text  # t1 granted nothing in March
        for name in ("t1", "t2", "S1", "M1", "D1"):
            assert f">{name}<" not in page.text.split('<main id="main">', 1)[1]
        csv = cl.get(f"/console/statistics/national?{MARCH}&format=csv")
        assert 'filename="statistics-national-2025-03-01-2025-03-31.csv"' in csv.headers["content-disposition"]
        assert "period;scope;national;" in csv.content.decode("utf-8-sig").splitlines()
        assert cl.get("/console/books").status_code == 403


def test_capital_by_source_recorded_by_finance_and_shared_by_the_report(tmp_path):
    """Own funds 10,000.00 and a state grant 5,000.00 (STM/7/2025), both 2025-01-01: shares 2/3 and
    1/3 of t2's figures to 2025-03-31 (lent out 6,300.00, nothing returned, 1,000.00 lost):
      lent out 4,200.00 / 2,100.00; lost 666.67 / 333.33 (the state grant, last by name, the remainder)
      outstanding 4,200.00 − 666.67 = 3,533.33 / 2,100.00 − 333.33 = 1,766.67
      available 10,000.00 − 3,533.33 − 666.67 = 5,800.00 / 5,000.00 − 1,766.67 − 333.33 = 2,900.00
      in March: lent out 5,800.00 → 3,866.67 / 1,933.33"""
    app = _app(tmp_path)
    c = app.state.container
    with signed_in(app, ["caseworker"], tenant="t2") as cl:
        page = cl.get("/console/capital")
        assert page.status_code == 200 and 'id="capital-form"' not in page.text
        assert "Lainapääomaa ei ole kirjattu" in page.text
    with signed_in(app, ["finance"], tenant="t2", subject="fi-1") as cl:
        page = cl.get("/console/capital").text
        csrf = csrf_of(page)
        for form in ({"source": "own_funds", "amount": "10000.00", "on": "2025-01-01"},
                     {"source": "state_grant", "amount": "5000.00", "on": "2025-01-01", "decision_number": "STM/7/2025"}):
            done = cl.post("/console/capital", data={"csrf": csrf, **form}, follow_redirects=False)
            assert done.status_code == 303 and done.headers["location"] == "/console/capital?done=capital"
        count = c.service.recorder.max_notification_id()
        missing = cl.post("/console/capital", data={"csrf": csrf, "source": "state_grant", "amount": "1.00",
                                                    "on": "2025-01-01"})
        assert missing.status_code == 422 and "R-CAP-1" in missing.text and "decision_number" in missing.text
        forged = cl.post("/console/capital", data={"csrf": "x", "source": "own_funds", "amount": "1.00",
                                                   "on": "2025-01-01"})
        assert forged.status_code == 403 and "R-WEB-1" in forged.text
        assert c.service.recorder.max_notification_id() == count
        html = cl.get(f"/console/capital?{MARCH}&done=capital").text
        assert "Lainapääoma kirjattu." in html
        sources = _table(html, "sources-table")
        assert ("omat varat 10 000,00 € 4 200,00 € 0,00 € 666,67 € 3 533,33 € 5 800,00 € 3 866,67 € 0,00 € "
                "666,67 € 66,67") in sources
        assert ("valtionavustus, päätös STM/7/2025 5 000,00 € 2 100,00 € 0,00 € 333,33 € 1 766,67 € 2 900,00 € "
                "1 933,33 € 0,00 € 333,33 € 33,33") in sources
        chart = html.split('id="capital-chart-title"', 1)[1].split("</svg>", 1)[0]
        assert "omat varat: käytettävissä" in chart and "2 900,00 €" in chart
        entries = _table(html, "entries-table")
        assert "2025-01-01 valtionavustus, päätös STM/7/2025 5 000,00 € fi-1" in entries


def test_the_journal_and_the_bank_files_reconciled(tmp_path):
    app = _app(tmp_path)
    with signed_in(app, ["caseworker"], tenant="t2") as cl:
        assert cl.get("/console/books").status_code == 403
        assert cl.get(f"/console/books/journal?{MARCH}").status_code == 403
    with signed_in(app, ["auditor"], tenant="t2") as cl:
        html = cl.get(f"/console/books?{MARCH}").text
        journal = _table(html, "journal-table")
        assert ("2025-03-03 2025-03-03 loans_receivable 5 800,00 lainat maksettu 2025-03-03 2025-03-03 bank "
                "5 800,00 lainat maksettu 2025-03-20 2025-03-20 credit_losses 1 000,00 pääoma poistettu "
                "luottotappiona 2025-03-20 2025-03-20 loans_receivable 1 000,00 pääoma poistettu luottotappiona"
                ) in journal
        assert "Pankkitiedostoja ei ole luettu." in html
        csv = cl.get(f"/console/books/journal?{MARCH}")
        assert csv.status_code == 200 and 'filename="journal-t2-2025-03-01-2025-03-31.csv"' in \
            csv.headers["content-disposition"]
        assert csv.content.decode("utf-8-sig").splitlines() == [
            "date;value_date;account;debit;credit;what",
            "2025-03-03;2025-03-03;loans_receivable;5800.00;;loans paid out",
            "2025-03-03;2025-03-03;bank;;5800.00;loans paid out",
            "2025-03-20;2025-03-20;credit_losses;1000.00;;principal written off",
            "2025-03-20;2025-03-20;loans_receivable;;1000.00;principal written off"]
        bad = cl.get("/console/books?from=2025-03-31&to=2025-03-01")
        assert bad.status_code == 422 and "R-BOOK-1" in bad.text


def test_a_bank_file_imported_in_the_console_is_reconciled_on_the_books_page(tmp_path):
    """tests/fixtures/bankfiles/ktl_payments.txt for t1 (only L1, reference 10016, exists here): 9
    entries, 206.00 = matched 1 (L1 40.00) + unmatched 3 (L2 35.00, L3 20.00, unknown 12.00) +
    duplicate 1 (40.00) + refused 3 (15.00, 0.00, 9.00) + reversed 1 (the correction, 35.00): difference 0."""
    from pathlib import Path

    app = build(tmp_path)
    app.state.container.service.clock.day = D(2025, 3, 31)
    body = (Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles" / "ktl_payments.txt").read_bytes()
    with signed_in(app, ["finance"]) as cl:
        csrf = csrf_of(cl.get("/console/payments").text)
        assert cl.post("/console/payments/files", data={"csrf": csrf},
                       files={"file": ("ktl.txt", body, "text/plain")}).status_code == 200
    with signed_in(app, ["auditor"]) as cl:
        files = _table(cl.get("/console/books").text, "bank-files-table")
        assert ("ktl 5d574e5b553e6942… 2025-03-31 9 206,00 € 1 40,00 € 3 67,00 € 1 40,00 € 3 24,00 € 1 35,00 € "
                "0 0,00 € 0,00 €") in files and "Ei täsmää" not in files
        csv = cl.get("/console/books/bank-files")
        assert 'filename="bank-files-t1.csv"' in csv.headers["content-disposition"]
        assert csv.content.decode("utf-8-sig").splitlines()[1].endswith(";ktl;2025-03-31;9;206.00;1;40.00;3;67.00;"
                                                                         "1;40.00;3;24.00;1;35.00;0;0.00;9;206.00;0.00")


def test_every_counted_class_has_words():
    """The report's cells are shown in words (a stored code would leak into the page otherwise)."""
    from api.web import i18n
    from domain.bank_files import OUTCOMES
    from domain.case_state import COMPUTED_GROUNDS, JUDGED_GROUNDS, RELIEF_KINDS
    from domain.statistics import PURPOSE_CLASSES

    households = ("single", "single_parent", "couple", "couple_with_children", "other", "unknown")
    wanted = ([f"stat.ground.{g}" for g in COMPUTED_GROUNDS + JUDGED_GROUNDS]
              + [f"stat.purpose.{p}" for p in (*PURPOSE_CLASSES, "unknown")]
              + [f"stat.household.{h}" for h in households] + [f"stat.relief.{k}" for k in RELIEF_KINDS]
              + [f"books.outcome.{o}" for o in OUTCOMES])
    assert [key for key in wanted if key not in i18n.M] == []
