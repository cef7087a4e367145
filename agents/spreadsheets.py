"""Reading spreadsheets for imports, independent of what is imported.

Every import (sales in reports, members/products/customers in agents, targets in plans) works the
same way: the first sheet of an .xlsx workbook or a .csv file (UTF-8 or GBK, as Excel in China
saves it; comma, semicolon or tab), a header row whose columns are found by name (English or
Chinese aliases, any order, any case; other columns are ignored), then the data rows. Every row is
checked before anything is written; bad rows are collected as `{"row", "field", "message"}` with
the spreadsheet's row number (the header is row 1), and if there is any, nothing is written.

This module has no models: the apps build their imports on top of it.
"""

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
BATCH_SIZE = 2000
CENT = Decimal("0.01")
# Money columns of the catalogs (max_digits=12, decimal_places=2).
MONEY_LIMIT = Decimal("10000000000")

Progress = Callable[[int], None] | None


class ImportFileError(Exception):
    """The file itself cannot be read (400 on the `file` field)."""


class ImportRowsError(Exception):
    """Some rows are bad: `errors` lists them all; nothing was written."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


class RowErrors:
    """The bad rows of one import, in the order they were found."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, row: int, field: str, message) -> None:
        self.items.append({"row": row, "field": field, "message": str(message)})

    def add_all(self, row: int, errors: dict) -> None:
        for field, message in errors.items():
            self.add(row, field, message)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportRowsError(sorted(self.items, key=lambda error: error["row"]))


# --- Reading --------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK text."))


def _csv_rows(data: bytes) -> Iterator[list]:
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc


def _xlsx_rows(data: bytes) -> Iterator[list]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_spreadsheet(*, data: bytes, filename: str) -> Iterator[list]:
    """The rows of the first sheet (CSV: the file), header first, as lists of cell values."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is too large."))
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _csv_rows(data)
    raise ImportFileError(_("Upload a .csv or .xlsx file."))


def normalize_header(cell) -> str:
    return " ".join(str(cell or "").replace("_", " ").split()).lower()


def header_map(
    header: list, columns: dict[str, Iterable[str]], required: Iterable[str] = ()
) -> tuple[dict[str, int], list[dict]]:
    """Where each known column is (first match wins), and a row-1 error per missing column."""
    aliases = {normalize_header(alias): key for key, names in columns.items() for alias in names}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = aliases.get(normalize_header(cell))
        if key is not None and key not in positions:
            positions[key] = index
    errors = [
        {"row": 1, "field": key, "message": _("The column is missing.")}
        for key in required
        if key not in positions
    ]
    return positions, errors


def split_header(rows: Iterable[list]) -> tuple[list, Iterator[list]]:
    """The header row and an iterator over the rest; an empty file is a row error."""
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        raise ImportRowsError([{"row": 1, "field": "file", "message": _("The file is empty.")}])
    return list(header), iterator


def data_rows(
    rows: Iterator[list], *, errors: RowErrors, progress: Progress = None
) -> Iterator[tuple[int, list]]:
    """(row number, cells) of each non-blank data row after the header; past MAX_ROWS a file
    error is recorded and reading stops."""
    for row_number, cells in enumerate(rows, start=2):
        if progress is not None:
            progress(1)
        if all(text(value) == "" for value in cells):
            continue  # blank lines at the end of a sheet
        if row_number - 1 > MAX_ROWS:
            errors.add(
                row_number,
                "file",
                _("A file can hold at most %(count)d rows.") % {"count": MAX_ROWS},
            )
            return
        yield row_number, list(cells)


def cell_reader(cells: list, positions: dict[str, int]) -> Callable[[str], object]:
    def cell(key: str):
        index = positions.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    return cell


# --- Cell parsing: each raises ValueError with a message for the user ----------------------


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # XLSX numbers: 1001.0 is the code "1001"
    return str(value).strip()


def parse_text(value, *, max_length: int) -> str:
    result = text(value)
    if len(result) > max_length:
        raise ValueError(_("At most %(count)d characters.") % {"count": max_length})
    return result


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value).replace("/", "-")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("Use a date like 2026-03-31.")) from None


def parse_int(value, *, maximum: int = 1_000_000) -> int:
    if isinstance(value, bool):
        raise ValueError(_("Enter a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raw = text(value).replace(",", "")
        if not raw.lstrip("-").isdigit():
            raise ValueError(_("Enter a whole number."))
        number = int(raw)
    if number < 0:
        raise ValueError(_("Must not be negative."))
    if number > maximum:
        raise ValueError(_("This number is too large."))
    return number


def parse_decimal(value, *, limit: Decimal = MONEY_LIMIT, places: int = 2) -> Decimal:
    """A non-negative decimal below `limit` with at most `places` decimal places."""
    if isinstance(value, bool):
        raise ValueError(_("Enter an amount such as 1280.00."))
    raw = repr(value) if isinstance(value, float) else text(value).replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_("Enter an amount such as 1280.00.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter an amount such as 1280.00."))
    if number < 0:
        raise ValueError(_("Must not be negative."))
    if number >= limit:
        raise ValueError(_("This amount is too large."))
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum):
        raise ValueError(_("Use at most two decimal places."))
    return number.quantize(quantum)


def parse_money(value, *, limit: Decimal = MONEY_LIMIT) -> Decimal:
    return parse_decimal(value, limit=limit, places=2)


_TRUE = {"1", "true", "yes", "y", "x", "是", "对", "✓"}
_FALSE = {"", "0", "false", "no", "n", "否", "不"}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(_("Enter yes or no."))


def choice_lookup(choices) -> dict[str, str]:
    """A TextChoices' values and labels (English and Simplified Chinese), lower-cased -> value."""
    lookup: dict[str, str] = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for value, label in choices:
                lookup.setdefault(str(label).strip().lower(), value)
    for value, _label in choices:
        lookup[str(value).lower()] = value
    return lookup


def parse_choice(value, lookup: dict[str, str], choices) -> str:
    found = lookup.get(text(value).lower())
    if found is None:
        raise ValueError(
            _("Use one of: %(choices)s.") % {"choices": ", ".join(key for key, _label in choices)}
        )
    return found


_MONTH_RE = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?\s*$")


def parse_month(value) -> tuple[int, int] | None:
    """(year, month) from a header like 2026-11, 2026/11, 2026年11月 or a date cell; None when
    it is not a month."""
    if isinstance(value, dt.datetime | dt.date):
        return value.year, value.month
    match = _MONTH_RE.match(text(value))
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        return None
    return year, month
