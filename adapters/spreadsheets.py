"""Tables out as CSV or XLSX (openpyxl, write-only: rows stream to the file, memory stays flat) and
in from either (read-only: rows stream from the file, an XLSX file's shared texts are kept on disk).
Used by the statistics downloads, the books and the loan import; nothing here knows what the rows mean."""
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

    book, strings = _read_only_book(path)
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
        if strings is not None:
            strings.close()


def _read_only_book(path: str):
    """openpyxl's read-only workbook (load_workbook(read_only=True, data_only=True)), but with its
    shared-strings table on disk (StringsOnDisk): read-only mode streams the rows, yet holds every
    distinct text of the workbook from the start, and in an import's file nearly every payment's
    id is one (4.9 MB of Python objects for 1,000 loans of 37 rows: R-MIG-4, memory that grows with
    the file, in every process of an import that opens it)."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    class Reader(ExcelReader):
        def read_strings(self) -> None:
            found = self.package.find(SHARED_STRINGS)
            self.shared_strings = []
            if found is not None:
                with self.archive.open(found.PartName[1:]) as src:
                    self.shared_strings = StringsOnDisk(src)

    reader = Reader(path, read_only=True, data_only=True)
    try:
        reader.read()
    except BaseException:
        if isinstance(reader.shared_strings, StringsOnDisk):
            reader.shared_strings.close()
        raise
    return reader.wb, reader.shared_strings if isinstance(reader.shared_strings, StringsOnDisk) else None


class StringsOnDisk:
    """A workbook's shared strings as openpyxl's sheet reader looks them up (strings[i]), kept in two
    temporary files: the texts one after another, and each one's end offset in 8 bytes; a lookup
    reads both with pread (no mapping, so nothing of them counts in the process's memory)."""

    def __init__(self, xml_source) -> None:
        import tempfile

        from openpyxl.cell.text import Text
        from openpyxl.xml.constants import SHEET_MAIN_NS
        from openpyxl.xml.functions import iterparse

        tag, root = f"{{{SHEET_MAIN_NS}}}si", None
        self._texts, self._ends, self._count = tempfile.TemporaryFile(), tempfile.TemporaryFile(), 0
        end = 0
        for event, node in iterparse(xml_source, events=("start", "end")):
            if root is None:
                root = node
            if event == "end" and node.tag == tag:
                raw = Text.from_tree(node).content.replace("x005F_", "").encode("utf-8")  # as openpyxl reads it
                self._texts.write(raw)
                end += len(raw)
                self._ends.write(end.to_bytes(8, "little"))
                self._count += 1
                root.clear()  # the parsed <si> elements would otherwise stay as the root's children
        self._texts.flush()
        self._ends.flush()

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self._count:
            raise IndexError(index)
        import os

        if index == 0:
            start, stop = 0, int.from_bytes(os.pread(self._ends.fileno(), 8, 0), "little")
        else:
            pair = os.pread(self._ends.fileno(), 16, (index - 1) * 8)
            start, stop = int.from_bytes(pair[:8], "little"), int.from_bytes(pair[8:], "little")
        return os.pread(self._texts.fileno(), stop - start, start).decode("utf-8")

    def close(self) -> None:
        self._texts.close()
        self._ends.close()
