"""Tables out as CSV or XLSX (openpyxl, write-only: rows stream to the file, memory stays flat) and
in from either (read-only: rows stream from the file). Used by the statistics downloads, the books
and the loan import; nothing here knows what the rows mean."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator


def to_csv(header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens it right), `;`-separated as Finnish Excel expects."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(sheet: str, header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append(header)
    for row in rows:
        ws.append(["" if v is None else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(path: str) -> Iterator[dict[str, str]]:
    """Each data row of a CSV (`,` or `;`, UTF-8 with or without BOM) or XLSX file (its first sheet)
    as {header: text}, one at a time. Empty rows are skipped; cells are text as written (an XLSX date
    cell becomes YYYY-MM-DD, a number its plain decimal form)."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        yield from _xlsx_rows(path)
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        f.seek(0)
        delimiter = ";" if first.count(";") > first.count(",") else ","
        for row in csv.DictReader(f, delimiter=delimiter):
            if any((v or "").strip() for v in row.values()):
                yield {(k or "").strip(): (v or "").strip() for k, v in row.items()}


def _xlsx_rows(path: str) -> Iterator[dict[str, str]]:
    import datetime as dt

    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for values in rows:
            cells = []
            for v in values:
                if isinstance(v, dt.datetime):
                    v = v.date()
                cells.append("" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v).strip())
            if any(cells):
                yield dict(zip(header, cells))
    finally:
        book.close()
