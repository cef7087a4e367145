import datetime as dt
import io
import time
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import imports
from reports.models import SalesEntry, SalesSource
from tests.agents.factories import CustomerFactory, MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/orgs/acme/sales/import/"


@pytest.fixture
def catalog(world):
    ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00"))
    ProductFactory(organization=world.org, sku="MASK", cost=Decimal("5.00"))
    ProductFactory(organization=world.rival, sku="RIVAL")
    return {
        "li": CustomerFactory(organization=world.org, name="Ms Li", owner=world.agent),
        "wang": CustomerFactory(organization=world.org, name="Mr Wang", owner=world.other_agent),
    }


def csv_file(text: str, name="sales.csv", encoding="utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), "text/csv")


def xlsx_file(rows: list[list]) -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        "sales.xlsx",
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def upload(client, file):
    return client.post(IMPORT, {"file": file}, format="multipart")


def test_csv_happy_path(client_for, world, catalog):
    text = (
        "Date,Member,Product,Customer,Quantity,Amount,Collected,Remark\n"
        "2026-03-02,A-001,SERUM,Ms Li,2,300.00,100,first\n"
        f'2026-03-03,other_agent,mask,{catalog["wang"].pk},10,"1,500.00",,\n'
        "2026/03/04,agent,MASK,,1,5,5,\n"
        ",,,,,,,\n"
    )
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 201, response.data
    assert response.data == {"created": 3}
    entries = list(SalesEntry.objects.order_by("date"))
    assert [e.member_id for e in entries] == [world.agent.pk, world.other_agent.pk, world.agent.pk]
    first = entries[0]
    assert (first.quantity, first.amount, first.collected, first.profit) == (
        2,
        Decimal("300.00"),
        Decimal("100.00"),
        Decimal("220.00"),
    )
    assert first.customer == catalog["li"]
    assert first.source == SalesSource.IMPORT
    assert first.region_id == world.agent.region_id
    assert first.recorded_by_id == world.admin.pk
    assert entries[1].amount == Decimal("1500.00")
    assert entries[1].collected == Decimal("0.00")


def test_xlsx_happy_path_with_chinese_headers(client_for, world, catalog):
    rows = [
        ["日期", "代理", "产品", "客户", "数量", "金额", "回款"],
        [dt.datetime(2026, 3, 2), "A-001", "SERUM", "Ms Li", 2, 300.5, 300.5],
        [dt.date(2026, 3, 3), "agent", "MASK", None, 3.0, 15, None],
    ]
    response = upload(client_for(world.leader), xlsx_file(rows))
    assert response.status_code == 201, response.data
    assert response.data == {"created": 2}
    amounts = sorted(SalesEntry.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("15.00"), Decimal("300.50")]


def test_gbk_csv_from_excel(client_for, world, catalog):
    text = "日期,代理,产品,数量,金额\n2026-03-02,A-001,SERUM,1,10\n"
    response = upload(client_for(world.admin), csv_file(text, encoding="gb18030"))
    assert response.status_code == 201, response.data


def test_every_bad_row_is_reported_and_nothing_is_written(client_for, world, catalog):
    future = (world.org.local_today() + dt.timedelta(days=2)).isoformat()
    text = (
        "date,member,product,customer,quantity,amount,collected\n"
        "2026-03-02,A-001,SERUM,,1,10,\n"  # good
        "2026-13-02,nobody,RIVAL,,-1,-5,x\n"  # row 3: five bad fields
        f"{future},A-001,SERUM,Mr Wang,1.5,12.345,\n"  # row 4
        ",A-001,,,,,\n"  # row 5: required values missing
        "2026-03-02,agent,SERUM,Nobody Known,1,99999999999999,\n"  # row 6
        "2026-03-02,agent,SERUM,,0,0,0\n"  # row 7: an empty line
    )
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 400
    errors = {(e["row"], e["field"]) for e in response.data["errors"]}
    assert errors == {
        (3, "date"),
        (3, "member"),
        (3, "product"),
        (3, "quantity"),
        (3, "amount"),
        (3, "collected"),
        (4, "date"),
        (4, "customer"),  # not the agent's customer
        (4, "quantity"),
        (4, "amount"),
        (5, "date"),
        (5, "product"),
        (5, "quantity"),
        (5, "amount"),
        (6, "customer"),
        (6, "amount"),
        (7, "quantity"),
    }
    assert all(e["message"] for e in response.data["errors"])
    assert SalesEntry.objects.count() == 0


def test_missing_columns_are_reported_on_the_header_row(client_for, world, catalog):
    response = upload(client_for(world.admin), csv_file("date,who,product,amount\n"))
    assert response.status_code == 400
    assert response.data["errors"] == [
        {"row": 1, "field": "member", "message": "The column is missing."},
        {"row": 1, "field": "quantity", "message": "The column is missing."},
    ]


def test_a_leader_imports_only_for_the_subtree(client_for, world, catalog):
    text = "date,member,product,quantity,amount\n2026-03-02,other_agent,SERUM,1,10\n"
    response = upload(client_for(world.leader), csv_file(text))
    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "member"


def test_ambiguous_customer_names_ask_for_the_id(client_for, world, catalog):
    CustomerFactory(organization=world.org, name="Ms Li", owner=world.agent)
    text = "date,member,product,customer,quantity,amount\n2026-03-02,A-001,SERUM,ms li,1,10\n"
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "customer"


@pytest.mark.parametrize(
    "file",
    [
        SimpleUploadedFile("sales.pdf", b"%PDF-1.4", "application/pdf"),
        SimpleUploadedFile("sales.xlsx", b"not a zip", "application/octet-stream"),
        SimpleUploadedFile("sales.csv", b"\xff\xfe\x00\x81\x00", "text/csv"),
    ],
)
def test_unreadable_files_are_400_on_the_file(client_for, world, catalog, file):
    response = upload(client_for(world.admin), file)
    assert response.status_code == 400
    assert "file" in response.data


def test_empty_upload_is_400(client_for, world):
    response = upload(client_for(world.admin), SimpleUploadedFile("sales.csv", b"", "text/csv"))
    assert response.status_code == 400
    response = client_for(world.admin).post(IMPORT, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.data


def test_a_large_import_uses_bulk_writes_and_a_few_queries(world):
    """50,000 rows: a handful of queries (lookups once, inserts in batches), no query per row."""
    for index in range(20):
        MembershipFactory(organization=world.org, code=f"C-{index}", upline=world.leader)
    ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00"))
    count = 50_000
    header = ["date", "member", "product", "quantity", "amount", "collected"]
    rows = [header] + [
        ["2026-03-02", f"C-{index % 20}", "SERUM", 1 + index % 3, "100.00", "50.00"]
        for index in range(count)
    ]
    started = time.monotonic()
    with CaptureQueriesContext(connection) as ctx:
        created = imports.sales_import(organization=world.org, actor=None, rows=iter(rows))
    elapsed = time.monotonic() - started
    assert created == count
    assert SalesEntry.objects.filter(source=SalesSource.IMPORT).count() == count
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(ctx.captured_queries) - len(inserts) <= 6  # lookups, savepoint
    assert len(inserts) <= count // imports.BATCH_SIZE * 40  # batches (SQLite splits them)
    assert elapsed < 60


# --- The management command -----------------------------------------------------------------


def test_the_command_imports_a_file(world, catalog, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("date,member,product,quantity,amount\n2026-03-02,A-001,SERUM,1,10\n")
    call_command("import_sales", "--org", "acme", str(path), verbosity=0)
    assert SalesEntry.objects.get().recorded_by_id is None
    assert "Imported 1 sales" in capsys.readouterr().out


def test_the_command_reports_errors_and_writes_nothing(world, catalog, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("date,member,product,quantity,amount\n2026-03-02,A-001,NOPE,1,10\n")
    with pytest.raises(CommandError, match="1 errors in 1 rows"):
        call_command("import_sales", "--org", "acme", str(path), verbosity=0)
    assert "row 2, product" in capsys.readouterr().err
    assert SalesEntry.objects.count() == 0


def test_the_command_can_act_as_a_leader(world, catalog, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("date,member,product,quantity,amount\n2026-03-02,other_agent,SERUM,1,10\n")
    with pytest.raises(CommandError):
        call_command("import_sales", "--org", "acme", "--as", "leader", str(path), verbosity=0)
    with pytest.raises(CommandError, match="No organization"):
        call_command("import_sales", "--org", "nope", str(path), verbosity=0)
