"""The XLSX writer: typed cells, the organization's currency and timezone, formula injection."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.test import override_settings
from django.utils import translation

from agents.xlsx import (
    Column,
    ExportTooLarge,
    Kind,
    Sheet,
    content_disposition,
    ensure_within_cap,
    money_format,
    sheet_title,
    write_workbook,
)
from tests.agents.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

COLUMNS = [
    Column("Text"),
    Column("Count", Kind.INT),
    Column("Amount", Kind.MONEY),
    Column("Share", Kind.PERCENT),
    Column("Day", Kind.DATE),
    Column("At", Kind.DATETIME),
    Column("Flag", Kind.BOOL),
    Column("Score", Kind.DECIMAL),
]


def build(organization, rows, columns=COLUMNS, **kwargs):
    export = write_workbook(
        organization=organization,
        title="Test export",
        sheets=[Sheet(title="Data", columns=columns, rows=rows)],
        filters=kwargs.pop("filters", [("Member", "Li Lei")]),
        basename=kwargs.pop("basename", "日报"),
        ascii_basename="daily-reports",
    )
    workbook = openpyxl.load_workbook(io.BytesIO(export.file.read()))
    return export, workbook


def test_cells_are_typed_with_currency_and_local_time():
    org = OrganizationFactory(slug="shop", currency="CNY", timezone="Asia/Shanghai")
    submitted = dt.datetime(2026, 3, 10, 18, 30, tzinfo=dt.UTC)  # 02:30 on the 11th in Shanghai
    export, workbook = build(
        org,
        [
            (
                "Li",
                3,
                Decimal("1280.50"),
                Decimal("0.8523"),
                dt.date(2026, 3, 10),
                submitted,
                True,
                Decimal("87.5"),
            )
        ],
    )
    sheet = workbook["Data"]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert sheet.freeze_panes == "A2"
    text, count, amount, share, day, at, flag, score = sheet[2]
    assert (text.value, count.value) == ("Li", 3)
    assert amount.value == pytest.approx(1280.5)
    assert amount.number_format == '"¥"#,##0.00'
    assert share.value == pytest.approx(0.8523) and share.number_format == "0.00%"
    assert day.is_date and day.value.date() == dt.date(2026, 3, 10)
    assert at.is_date and at.value == dt.datetime(2026, 3, 11, 2, 30)
    assert flag.value in ("是", "Yes")
    assert score.value == pytest.approx(87.5)
    assert export.rows == 1


def test_other_currencies_and_timezones():
    org = OrganizationFactory(slug="us", currency="USD", timezone="America/New_York")
    at = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)  # 23:00 on the 9th in New York
    _export, workbook = build(org, [("x", 1, Decimal("5"), None, at, at, False, None)])
    row = workbook["Data"][2]
    assert row[2].number_format == '"$"#,##0.00'
    assert row[4].value.date() == dt.date(2026, 3, 9)  # a datetime in a date column: local day
    assert row[5].value == dt.datetime(2026, 3, 9, 23, 0)
    assert row[3].value is None
    assert money_format("JPY") == '"¥"#,##0'
    assert money_format("XAF") == '#,##0.00 "XAF"'


@pytest.mark.parametrize(
    "dangerous",
    ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "=1+1", "\t=1"],
)
def test_formula_injection_is_written_as_text(dangerous):
    org = OrganizationFactory()
    _export, workbook = build(org, [(dangerous, 1, 0, 0, None, None, None, None)])
    cell = workbook["Data"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == dangerous
    assert cell.quotePrefix


def test_control_characters_are_dropped_not_a_crash():
    org = OrganizationFactory()
    _export, workbook = build(org, [("bad\x00\x07text", 1, 0, 0, None, None, None, None)])
    assert workbook["Data"]["A2"].value == "badtext"


def test_info_sheet_and_file_names():
    org = OrganizationFactory(slug="acme", name="Acme 公司")
    export, workbook = build(org, [], filters=[("Member", "Li Lei")])
    assert workbook.sheetnames[0] == "Data"
    about = dict(row for row in workbook.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert "Acme 公司" in about.values()
    assert "Test export" in about.values()
    assert ("Li Lei" in about.values()) and about.get("Member") == "Li Lei"
    assert export.filename.startswith("日报-acme-") and export.filename.endswith(".xlsx")
    header = content_disposition(export)
    assert f'filename="{export.ascii_filename}"' in header
    assert "filename*=UTF-8''%E6%97%A5%E6%8A%A5-acme-" in header
    assert export.ascii_filename.startswith("daily-reports-acme-")


def test_headers_follow_the_active_language():
    from django.utils.translation import gettext_lazy

    org = OrganizationFactory()
    columns = [Column(gettext_lazy("Member")), Column(gettext_lazy("Region"))]
    with translation.override("zh-hans"):
        _export, workbook = build(org, [("a", "b")], columns=columns)
    assert [c.value for c in workbook["Data"][1]] == ["成员", "区域"]
    with translation.override("en"):
        _export, workbook = build(org, [("a", "b")], columns=columns)
    assert [c.value for c in workbook["Data"][1]] == ["Member", "Region"]


def test_row_cap():
    ensure_within_cap(100_000)
    with pytest.raises(ExportTooLarge):
        ensure_within_cap(100_001)
    with override_settings(EXPORT_MAX_ROWS=2):
        ensure_within_cap(2)
        with pytest.raises(ExportTooLarge):
            ensure_within_cap(3)


def test_sheet_titles_are_valid_and_unique():
    used = set()
    assert sheet_title("a/b:c", used) == "a b c"
    assert sheet_title("a/b:c", used) == "a b c (2)"
    assert len(sheet_title("x" * 50, used)) == 31
