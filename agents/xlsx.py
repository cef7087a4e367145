"""A small XLSX writer for exports: typed columns, the organization's currency and timezone.

The exports of each app (reports/exports.py, plans/exports.py, appraisals/exports.py) describe
their columns with `Column` and hand rows (sequences of plain values, in column order) to
`write_workbook`, which streams them into a write-only openpyxl workbook (rows go to a temporary
file as they come: a big export holds little in memory) and answers a seekable file.

What a cell becomes follows its column's kind: money is a number whose format shows the
organization's currency (`"¥"#,##0.00` for CNY), percent a ratio shown as a percentage, dates
real Excel dates, datetimes real Excel datetimes in the organization's local time (tz-naive:
Excel has no timezones). Text is always text: a value starting with = + - @ (or a tab or
carriage return) is stored as a string with Excel's quote prefix, never as a formula, so a
member's summary such as `=HYPERLINK(...)` cannot run in a leader's spreadsheet (formula
injection); characters that XML cannot hold are dropped.
"""

import datetime as dt
import enum
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .models import Organization

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# More rows than this is refused (400) with a request to narrow the filters: a spreadsheet of
# that size is no longer read by a person, and building it holds a worker for long. Settings may
# lower or raise it (EXPORT_MAX_ROWS).
DEFAULT_MAX_ROWS = 100_000

# In memory up to this size, then on disk.
_SPOOL_BYTES = 8 * 1024 * 1024

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class Kind(enum.StrEnum):
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    MONEY = "money"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"


_FORMATS = {
    Kind.INT: "#,##0",
    Kind.DECIMAL: "#,##0.00",
    Kind.PERCENT: "0.00%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm:ss",
}
# Default widths (characters) by kind; a header wider than this widens its column.
_WIDTHS = {
    Kind.TEXT: 16,
    Kind.INT: 10,
    Kind.DECIMAL: 12,
    Kind.MONEY: 16,
    Kind.PERCENT: 10,
    Kind.DATE: 12,
    Kind.DATETIME: 20,
    Kind.BOOL: 8,
}

# ISO 4217 code -> (symbol, decimal places). Others show the code after the number.
_CURRENCIES = {
    "CNY": ("¥", 2),
    "JPY": ("¥", 0),
    "USD": ("$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
    "HKD": ("HK$", 2),
    "MOP": ("MOP$", 2),
    "TWD": ("NT$", 2),
    "SGD": ("S$", 2),
    "AUD": ("A$", 2),
    "CAD": ("C$", 2),
    "NZD": ("NZ$", 2),
    "KRW": ("₩", 0),
    "INR": ("₹", 2),
    "THB": ("฿", 2),
    "VND": ("₫", 0),
    "PHP": ("₱", 2),
    "RUB": ("₽", 2),
    "CHF": ("CHF ", 2),
}


def money_format(currency: str) -> str:
    """The Excel number format of an amount in `currency` (an ISO 4217 code)."""
    code = (currency or "").upper()
    symbol, places = _CURRENCIES.get(code, (None, 2))
    number = "#,##0" + ("." + "0" * places if places else "")
    if symbol is None:
        return f'{number} "{code}"' if code else number
    return f'"{symbol}"{number}'


@dataclass(frozen=True)
class Column:
    """One column of an export: its header (lazily translated: it is rendered in the language
    active when the file is written) and the kind of its values."""

    header: Any
    kind: Kind = Kind.TEXT
    width: int | None = None


@dataclass
class Sheet:
    title: Any
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


@dataclass(frozen=True)
class ExportFile:
    file: IO[bytes]
    filename: str  # may hold any characters (Chinese names work)
    ascii_filename: str  # the fallback for clients that do not read RFC 5987 names
    rows: int


class ExportTooLarge(Exception):
    def __init__(self, count: int, limit: int):
        self.count = count
        self.limit = limit
        super().__init__(
            _(
                "This export has %(count)d rows, more than the %(limit)d allowed: "
                "narrow the filters (for example a shorter date range)."
            )
            % {"count": count, "limit": limit}
        )


def max_rows() -> int:
    return int(getattr(settings, "EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def ensure_within_cap(count: int) -> None:
    limit = max_rows()
    if count > limit:
        raise ExportTooLarge(count, limit)


# --- Cells ---------------------------------------------------------------------------------------


def clean_text(value) -> str:
    """A string a cell can hold: XML-illegal control characters are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _text_cell(sheet, value) -> WriteOnlyCell:
    text = clean_text(value)
    cell = WriteOnlyCell(sheet)
    # Assigned through `_value`/`data_type` rather than `value`: openpyxl reads a string that
    # starts with "=" as a formula.
    cell._value = text
    cell.data_type = "s"
    if text.startswith(_FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


class _CellMaker:
    def __init__(self, sheet, organization: Organization):
        self.sheet = sheet
        self.tz = organization.tzinfo
        self.money = money_format(organization.currency)
        self.yes = _("Yes")
        self.no = _("No")

    def make(self, column: Column, value) -> WriteOnlyCell:
        if value is None or value == "":
            return WriteOnlyCell(self.sheet)
        kind = column.kind
        if kind == Kind.TEXT:
            return _text_cell(self.sheet, value)
        if kind == Kind.BOOL:
            return _text_cell(self.sheet, self.yes if value else self.no)
        if kind == Kind.DATETIME:
            if isinstance(value, dt.datetime):
                if timezone.is_aware(value):
                    value = value.astimezone(self.tz)
                value = value.replace(tzinfo=None)
        elif kind == Kind.DATE:
            if isinstance(value, dt.datetime):
                if timezone.is_aware(value):
                    value = value.astimezone(self.tz)
                value = value.date()
        elif kind == Kind.INT:
            value = int(value)
        elif not isinstance(value, (int, float, Decimal)):
            value = Decimal(str(value))
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = self.money if kind == Kind.MONEY else _FORMATS[kind]
        return cell


def _display_width(text: str) -> int:
    # East Asian wide characters take two columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def sheet_title(value, used: set[str]) -> str:
    """A valid, unique worksheet name: at most 31 characters, none of []:*?/\\."""
    base = _SHEET_TITLE_FORBIDDEN.sub(" ", clean_text(value)).strip().strip("'")[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)


def _write_sheet(workbook: Workbook, sheet: Sheet, organization: Organization, used) -> int:
    ws = workbook.create_sheet(sheet_title(sheet.title, used))
    headers = [str(column.header) for column in sheet.columns]
    # Column widths and the frozen header must be set before the first row is written.
    for index, (column, header) in enumerate(zip(sheet.columns, headers, strict=True), start=1):
        width = column.width or max(_WIDTHS[column.kind], min(_display_width(header) + 2, 40))
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    header_cells = []
    for header in headers:
        cell = _text_cell(ws, header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGNMENT
        header_cells.append(cell)
    ws.append(header_cells)
    maker = _CellMaker(ws, organization)
    count = 0
    for row in sheet.rows:
        ws.append(
            [maker.make(column, value) for column, value in zip(sheet.columns, row, strict=True)]
        )
        count += 1
    return count


def write_workbook(
    *,
    organization: Organization,
    title,
    sheets: Sequence[Sheet],
    filters: Sequence[tuple[Any, Any]] = (),
    basename,
    ascii_basename: str,
) -> ExportFile:
    """The sheets, then an information sheet (organization, what was exported with which
    filters, when, currency and timezone), as an .xlsx file named after `basename`, the
    organization and the local date."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    count = sum(_write_sheet(workbook, sheet, organization, used) for sheet in sheets)
    now = organization.local_now()
    info = Sheet(
        title=_("About this export"),
        columns=[Column(_("Item"), width=24), Column(_("Value"), width=48)],
        rows=[
            (_("Organization"), organization.name),
            (_("Export"), str(title)),
            *((str(label), "" if value is None else str(value)) for label, value in filters),
            (_("Generated at"), now.strftime("%Y-%m-%d %H:%M:%S")),
            (_("Time zone"), organization.timezone),
            (_("Currency"), organization.currency),
            (_("Rows"), str(count)),
        ],
    )
    _write_sheet(workbook, info, organization, used)
    file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    workbook.save(file)
    file.seek(0)
    stamp = now.date().isoformat()
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", f"{basename}-{organization.slug}-{stamp}")
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{ascii_basename}-{organization.slug}-{stamp}")
    return ExportFile(
        file=file, filename=f"{name}.xlsx", ascii_filename=f"{ascii_name}.xlsx", rows=count
    )


def content_disposition(export: ExportFile) -> str:
    """`attachment` with an ASCII fallback and the real (UTF-8, RFC 5987) name."""
    return (
        f'attachment; filename="{export.ascii_filename}"; '
        f"filename*=UTF-8''{quote(export.filename, safe='')}"
    )


def xlsx_response(export: ExportFile) -> FileResponse:
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(export)
    response["X-Export-Rows"] = str(export.rows)
    response["Cache-Control"] = "private, no-store"
    return response
