"""The report as a CSV file and as a spreadsheet. A cell that a spreadsheet would read
as a formula (=, +, - or @ first) is written as text: a report is never a way to run
something on the reader's computer."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from portal.reports.annual import AnnualReport, Cell, as_rows

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def as_csv(report: AnnualReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in as_rows(report):
        writer.writerow([safe(cell) for cell in row])
    return out.getvalue()


def as_xlsx(report: AnnualReport) -> bytes:
    """One sheet for each table, its title above its columns."""
    book = Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(title=table.key[:31])
        rows: Sequence[list[Cell]] = [[table.title], [], list(table.columns), *table.rows]
        for row in rows:
            sheet.append([safe(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
