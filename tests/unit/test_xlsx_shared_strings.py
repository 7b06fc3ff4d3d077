"""An XLSX file as Excel and LibreOffice write it keeps each distinct text once, in the workbook's
shared-strings table, and its cells refer to them by number. openpyxl's read-only mode streams the
rows but holds that whole table from the start, and in an import file nearly every payment's id is a
text of its own, so every process reading the file grew with it (R-MIG-4). adapters.spreadsheets
keeps the table in temporary files instead. Measured as Python allocations, not time."""
from __future__ import annotations

import tracemalloc
import zipfile
from xml.sax.saxutils import escape

from adapters.spreadsheets import read_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def shared_strings_xlsx(path, rows: list[list[str]], *, rich: dict[str, list[str]] | None = None) -> None:
    """A minimal workbook as Excel stores it: a <dimension>, and every text cell (t="s") an index into
    xl/sharedStrings.xml. `rich`: texts stored as runs (<r><t>…</t></r>), as a partly bold cell is."""
    texts: dict[str, int] = {}
    cells = []
    for r, row in enumerate(rows, start=1):
        refs = "".join(f'<c r="{chr(65 + c)}{r}" t="s"><v>{texts.setdefault(v, len(texts))}</v></c>'
                       for c, v in enumerate(row))
        cells.append(f'<row r="{r}">{refs}</row>')
    sheet = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:{chr(64 + max(map(len, rows)))}{len(rows)}"/>'
             f'<sheetData>{"".join(cells)}</sheetData></worksheet>')

    def item(text: str) -> str:
        if rich and text in rich:
            return "<si>" + "".join(f"<r><t>{escape(part)}</t></r>" for part in rich[text]) + "</si>"
        return f"<si><t>{escape(text)}</t></si>"

    strings = f'<sst xmlns="{MAIN}" count="{len(texts)}" uniqueCount="{len(texts)}">' + "".join(
        item(t) for t in texts) + "</sst>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/>'
                   '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                                  'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="loans" '
                                      'sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" '
                   f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" '
                   'Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", strings)


def payments(loans: int) -> list[list[str]]:
    rows = [["record", "loan_id", "payment_id", "amount"]]
    for n in range(loans):
        rows.append(["loan", f"L-{n:05d}", "", "3600.00"])
        rows += [["payment", f"L-{n:05d}", f"ARCH-{n:05d}-{m:02d}", "100.00"] for m in range(36)]
    return rows


def test_shared_strings_read_as_written(tmp_path):
    path = tmp_path / "loans.xlsx"
    rows = payments(3) + [["payment", "L-00002", "Åke & Öberg <x>", "käteinen"]]
    shared_strings_xlsx(path, rows, rich={"käteinen": ["kät", "einen"]})
    read = list(read_rows(str(path)))
    assert [list(r.values()) for r in read] == rows[1:]
    assert read[1] == {"record": "payment", "loan_id": "L-00000", "payment_id": "ARCH-00000-00", "amount": "100.00"}


def first_row_peak(path) -> int:
    tracemalloc.start()
    try:
        rows = read_rows(str(path))
        next(rows)
        peak = tracemalloc.get_traced_memory()[1]
        rows.close()
        return peak
    finally:
        tracemalloc.stop()


def test_opening_the_file_does_not_hold_its_texts(tmp_path):
    shared_strings_xlsx(tmp_path / "small.xlsx", payments(10))
    shared_strings_xlsx(tmp_path / "big.xlsx", payments(1000))  # 37,000 distinct texts
    first_row_peak(tmp_path / "small.xlsx")  # warm: imports
    small, big = first_row_peak(tmp_path / "small.xlsx"), first_row_peak(tmp_path / "big.xlsx")
    assert big - small < 256 * 1024, f"the first row of the big file took {(big - small) / 1024:.0f} KiB more"
