"""Tables as files people open in Excel or WPS: XLSX (openpyxl, write-only, so 100,000 rows stay
small in memory) and CSV (UTF-8 with a BOM, without which Excel reads Chinese as mojibake).

XLSX: the header row bold and frozen, column widths fitted to Chinese text (a CJK character is two
columns wide), dates as dates, hours as numbers shown with their places. Text is always text: a name
or a title typed as ``=HYPERLINK(…)`` is never a formula (CSV injection, in both formats)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from core.ports import Cell, Sheet, SheetFormat

WIDTH_MIN, WIDTH_MAX = 6, 50
WIDTH_SAMPLE = 1000  # rows measured for the column widths: enough to fit, cheap on 100,000 rows
DATE_FORMAT = "yyyy-mm-dd"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
TITLE_MAX = 31  # Excel's limit on a sheet's name
_BOLD = Font(bold=True)


def render(sheet: Sheet, form: SheetFormat) -> bytes:
    return to_xlsx(sheet) if form is SheetFormat.XLSX else to_csv(sheet)


# ---- CSV ------------------------------------------------------------------------------------------


def to_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_text(h) for h in sheet.headers])
    writer.writerows([_csv(cell) for cell in row] for row in _all_rows(sheet))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return _csv_text(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def _csv_text(text: str) -> str:
    """OWASP's advice against formula injection: a leading apostrophe makes the cell plain text."""
    return "'" + text if text.startswith(_FORMULA_START) else text


# ---- XLSX -----------------------------------------------------------------------------------------


def to_xlsx(sheet: Sheet) -> bytes:
    return workbook([sheet])


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Several tables in one XLSX file, a sheet each (a statistics report: its summary, the ratings,
    the activities), each laid out as ``to_xlsx`` lays out one."""
    book = Workbook(write_only=True)
    for sheet in sheets:
        ws = book.create_sheet(_title(sheet.title))
        for index, width in enumerate(_widths(sheet), 1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        ws.append([_cell(ws, header, bold=True) for header in sheet.headers])
        for row in sheet.rows:
            ws.append([_cell(ws, value) for value in row])
        if sheet.totals is not None:
            ws.append([_cell(ws, value, bold=True) for value in sheet.totals])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(ws: WriteOnlyWorksheet, value: Cell, *, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(ws, value=float(value))
        places = max(0, -int(value.as_tuple().exponent))
        cell.number_format = "0." + "0" * places if places else "0"
    elif isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
    else:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl takes a text starting with "=" for a formula
    if bold:
        cell.font = _BOLD
    return cell


def _title(title: str) -> str:
    return _TITLE_FORBIDDEN.sub(" ", title).strip()[:TITLE_MAX] or "Sheet1"


def _widths(sheet: Sheet) -> list[float]:
    widths = [_width(header) for header in sheet.headers]
    for row in _sample(sheet):
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _width(value))
    return [min(max(width + 2, WIDTH_MIN), WIDTH_MAX) for width in widths]


def _sample(sheet: Sheet) -> Iterable[Sequence[Cell]]:
    yield from sheet.rows[:WIDTH_SAMPLE]
    if sheet.totals is not None:
        yield sheet.totals


def _width(value: Cell) -> int:
    """Columns a value takes on screen: a CJK (wide or full-width) character takes two."""
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    text = value if isinstance(value, str) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _all_rows(sheet: Sheet) -> Iterable[Sequence[Cell]]:
    yield from sheet.rows
    if sheet.totals is not None:
        yield sheet.totals
