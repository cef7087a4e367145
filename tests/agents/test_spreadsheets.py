"""The shared spreadsheet reading (agents/spreadsheets.py): files, headers, cells."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from agents import spreadsheets as sheets
from agents.models import MemberStatus


def test_csv_dialects_and_encodings():
    for text in ("a;b\n1;2\n", "a\tb\n1\t2\n", "a,b\n1,2\n"):
        assert list(sheets.read_spreadsheet(data=text.encode(), filename="x.CSV")) == [
            ["a", "b"],
            ["1", "2"],
        ]
    rows = sheets.read_spreadsheet(data="姓名\n张三\n".encode("gbk"), filename="x.csv")
    assert list(rows) == [["姓名"], ["张三"]]
    with pytest.raises(sheets.ImportFileError):
        list(sheets.read_spreadsheet(data=b"\xff\xfe\x00", filename="x.csv"))
    with pytest.raises(sheets.ImportFileError):
        sheets.read_spreadsheet(data=b"a", filename="x.pdf")
    with pytest.raises(sheets.ImportFileError):
        list(sheets.read_spreadsheet(data=b"not a zip", filename="x.xlsx"))


def test_xlsx_cells_keep_their_types():
    workbook = openpyxl.Workbook()
    workbook.active.append(["date", "code", "month"])
    workbook.active.append([dt.datetime(2026, 3, 1), 1001, dt.date(2026, 11, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    header, *rows = sheets.read_spreadsheet(data=buffer.getvalue(), filename="x.xlsx")
    date, code, month = rows[0]
    assert sheets.parse_date(date) == dt.date(2026, 3, 1)
    assert sheets.text(code) == "1001"
    assert sheets.parse_month(month) == (2026, 11)


def test_header_aliases_and_missing_columns():
    columns = {"code": ("agent code", "代理编号"), "name": ("name",)}
    positions, errors = sheets.header_map(["Remark", "Agent_Code", " NAME "], columns, ["code"])
    assert positions == {"code": 1, "name": 2} and errors == []
    positions, errors = sheets.header_map(["代理编号"], columns, ["code", "name"])
    assert errors == [{"row": 1, "field": "name", "message": "The column is missing."}]


def test_cells():
    assert sheets.parse_money("1,280.5") == Decimal("1280.50")
    for bad in ("-1", "1.234", "abc", "NaN", True):
        with pytest.raises(ValueError):
            sheets.parse_money(bad)
    assert sheets.parse_int(3.0) == 3
    assert sheets.parse_bool("是") is True and sheets.parse_bool("no") is False
    assert sheets.parse_month("2026年1月") == (2026, 1)
    assert sheets.parse_month("2026/12") == (2026, 12)
    assert sheets.parse_month("2026-13") is None and sheets.parse_month("Nov") is None
    lookup = sheets.choice_lookup(MemberStatus.choices)
    assert sheets.parse_choice("On probation", lookup, MemberStatus.choices) == "probation"
    assert sheets.parse_choice("ACTIVE", lookup, MemberStatus.choices) == "active"
    with pytest.raises(ValueError, match="probation, active"):
        sheets.parse_choice("gone", lookup, MemberStatus.choices)


def test_row_errors_are_sorted_by_row_and_blank_rows_skipped():
    errors = sheets.RowErrors()
    rows = list(sheets.data_rows(iter([["a"], ["", None], ["b"]]), errors=errors))
    assert rows == [(2, ["a"]), (4, ["b"])]
    errors.add(5, "x", "late")
    errors.add(2, "y", "early")
    with pytest.raises(sheets.ImportRowsError) as caught:
        errors.raise_if_any()
    assert [error["row"] for error in caught.value.errors] == [2, 5]
