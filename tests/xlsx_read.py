"""Reading the workbooks the exports answer, as a user's spreadsheet program would."""

import io

import openpyxl

from agents.xlsx import XLSX_CONTENT_TYPE


def workbook_of(response):
    assert response.status_code == 200, getattr(response, "data", response)
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content)
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_rows(sheet) -> tuple[list, list[list]]:
    """(headers, data rows) of a data sheet: the first row holds the headers."""
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def records(sheet) -> list[dict]:
    headers, rows = sheet_rows(sheet)
    return [dict(zip(headers, row, strict=True)) for row in rows]


def info(workbook) -> dict:
    """The information sheet (the last one) as {label: value}."""
    _headers, rows = sheet_rows(workbook.worksheets[-1])
    return {label: value for label, value in rows}
