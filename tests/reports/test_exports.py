"""XLSX export of daily reports: the list's scope and filters, typed cells, languages."""

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from reports.models import SalesEntry, SalesSource
from tests.agents.factories import MembershipFactory, ProductFactory, UserFactory
from tests.reports.factories import DailyReportFactory
from tests.xlsx_read import info, records, sheet_rows, workbook_of

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/orgs/acme/daily-reports/"
EXPORT = f"{REPORTS}export/"
DAY = dt.date(2026, 3, 9)


@pytest.fixture
def product(world):
    return ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00"))


def _line(report, product, quantity, amount, collected="0.00"):
    amount, collected = Decimal(amount), Decimal(collected)
    return SalesEntry.objects.create(
        organization=report.organization,
        date=report.date,
        member=report.member,
        product=product,
        quantity=quantity,
        amount=amount,
        collected=collected,
        profit=amount - quantity * product.cost,
        source=SalesSource.REPORT,
        daily_report=report,
    )


@pytest.fixture
def reports(world, product):
    made = {}
    for name in ("leader", "agent", "sub_agent", "other_agent"):
        made[name] = DailyReportFactory(
            organization=world.org,
            member=getattr(world, name),
            date=DAY,
            is_late=name == "agent",
            summary=f"Report of {name}",
            # 18:30 UTC is 02:30 the next morning in Shanghai.
            submitted_at=dt.datetime(2026, 3, 9, 18, 30, tzinfo=dt.UTC),
        )
    _line(made["agent"], product, 2, "300.00", "100.00")
    _line(made["agent"], product, 1, "150.00")
    return made


PERSONAS = ("owner", "admin", "leader", "agent", "sub_agent", "other_leader", "other_agent")


def _persona(world):
    """Display name -> persona (the factories give members made-up names)."""
    return {getattr(world, name).display_name: name for name in PERSONAS}


def _names(world, sheet):
    headers, rows = sheet_rows(sheet)
    member = headers.index("Member")
    return sorted(_persona(world)[row[member]] for row in rows)


def test_export_has_the_lists_values_in_english(client_for, world, reports):
    client = client_for(world.leader)
    listed = {row["member"]: row for row in client.get(REPORTS).data["results"]}
    workbook = workbook_of(client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="en"))
    persona = _persona(world)
    rows = {persona[row["Member"]]: row for row in records(workbook.worksheets[0])}
    assert set(rows) == {"leader", "agent", "sub_agent"}

    api = listed[world.agent.pk]
    row = rows["agent"]
    assert row["Date"].date() == dt.date.fromisoformat(api["date"])
    assert row["Agent code"] == "A-001"
    assert row["Region"] == world.agent.region.name
    for header, field in [
        ("Follow-ups", "followups"),
        ("Communication minutes", "communication_minutes"),
        ("New customers", "new_customers"),
        ("Lost customers", "lost_customers"),
        ("Orders", "orders"),
    ]:
        assert row[header] == api[field], header
    assert row["Quantity"] == api["totals"]["quantity"] == 3
    for header, key in [
        ("Sales amount", "sales_amount"),
        ("Collected amount", "collected_amount"),
        ("Profit", "profit"),
    ]:
        assert Decimal(str(row[header])) == Decimal(api["totals"][key]), header
    assert Decimal(str(row["Sales amount"])) == Decimal("450.00")
    assert row["Late"] == "Yes"
    assert rows["leader"]["Late"] == "No"
    # Local time of the organization (Asia/Shanghai), without a timezone: Excel has none.
    assert row["First submitted at"] == dt.datetime(2026, 3, 10, 2, 30)
    assert row["Summary"] == "Report of agent"
    # A report without lines has zero totals, not empty cells.
    assert rows["leader"]["Quantity"] == 0 and rows["leader"]["Sales amount"] == 0

    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    amount_cell = sheet.cell(row=2, column=headers.index("Sales amount") + 1)
    assert "¥" in amount_cell.number_format
    date_cell = sheet.cell(row=2, column=1)
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"
    about = info(workbook)
    assert about["Organization"] == "Acme"
    assert about["Currency"] == "CNY"


@override_settings(LANGUAGE_CODE="zh-hans")  # the product's default (tests run in English)
def test_headers_are_chinese_by_default(client_for, world, reports):
    workbook = workbook_of(client_for(world.admin).get(EXPORT))
    headers, rows = sheet_rows(workbook.worksheets[0])
    assert {"成员", "区域", "销售额", "回款额", "订单数"} <= set(headers)
    assert len(rows) == 4
    asked = client_for(world.admin).get(EXPORT, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "成员" in sheet_rows(workbook_of(asked).worksheets[0])[0]
    disposition = client_for(world.admin).get(EXPORT)["Content-Disposition"]
    # The Chinese file name, percent-encoded (RFC 5987), with an ASCII fallback.
    with translation.override("zh-hans"):
        name = quote(f"{gettext('Daily reports')}-acme-{world.org.local_today()}.xlsx", safe="")
    assert f"filename*=UTF-8''{name}" in disposition
    assert 'filename="daily-reports-acme-' in disposition


def test_scope_follows_the_list(client_for, world, reports):
    for persona, expected in [
        ("leader", ["agent", "leader", "sub_agent"]),
        ("agent", ["agent", "sub_agent"]),  # agents read their own downline too
        ("other_agent", ["other_agent"]),
        ("admin", ["agent", "leader", "other_agent", "sub_agent"]),
    ]:
        client = client_for(getattr(world, persona))
        workbook = workbook_of(client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="en"))
        assert _names(world, workbook.worksheets[0]) == expected, persona


@pytest.mark.parametrize(
    "query,expected",
    [
        ("member={agent}", ["agent"]),
        ("subtree_of={agent}", ["agent", "sub_agent"]),
        ("is_late=true", ["agent"]),
        ("date_after=2026-03-09&date_before=2026-03-09", ["agent", "leader", "sub_agent"]),
        ("date_after=2026-03-10", []),
        ("region={east}", ["agent", "leader", "sub_agent"]),
    ],
)
def test_filters_follow_the_list(client_for, world, reports, query, expected):
    query = query.format(agent=world.agent.pk, east=world.agent.region_id)
    response = client_for(world.leader).get(f"{EXPORT}?{query}", HTTP_ACCEPT_LANGUAGE="en")
    workbook = workbook_of(response)
    assert _names(world, workbook.worksheets[0]) == expected


def test_filters_are_described(client_for, world, reports):
    query = f"member={world.agent.pk}&date_after=2026-03-01&date_before=2026-03-31"
    response = client_for(world.leader).get(f"{EXPORT}?{query}", HTTP_ACCEPT_LANGUAGE="en")
    about = info(workbook_of(response))
    assert about["Member"] == world.agent.display_name
    assert about["Date"] == "2026-03-01 – 2026-03-31"


@pytest.mark.parametrize(
    "query,field",
    [
        ("is_late=banana", "is_late"),
        ("date_after=yesterday", "date_after"),
        ("member=abc", "member"),
        ("ordering=nope", "ordering"),
    ],
)
def test_bad_filters_are_400(client_for, world, reports, query, field):
    response = client_for(world.leader).get(f"{EXPORT}?{query}")
    assert response.status_code == 400
    assert field in response.json() or "date" in response.json()


def test_another_organizations_ids_and_slug(client_for, world, reports):
    rival_member = MembershipFactory(organization=world.rival)
    response = client_for(world.admin).get(f"{EXPORT}?member={rival_member.pk}")
    assert response.status_code == 400 and "member" in response.json()
    assert client_for(world.outsider).get(EXPORT).status_code == 404
    assert client_for(None).get(EXPORT).status_code == 401


def test_formula_injection_is_neutralised(client_for, world):
    DailyReportFactory(
        organization=world.org, member=world.agent, date=DAY, summary='=HYPERLINK("http://x","y")'
    )
    workbook = workbook_of(client_for(world.agent).get(EXPORT, HTTP_ACCEPT_LANGUAGE="en"))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=headers.index("Summary") + 1)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")'


def test_accept_header_asking_for_the_spreadsheet_is_served(client_for, world, reports):
    response = client_for(world.leader).get(
        EXPORT, HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook_of(response)
    bad = client_for(world.leader).get(
        f"{EXPORT}?is_late=banana",
        HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/json")


def test_too_many_rows_is_400(client_for, world, reports):
    with override_settings(EXPORT_MAX_ROWS=3):
        response = client_for(world.admin).get(EXPORT)
        assert response.status_code == 400
        assert "non_field_errors" in response.json()
        assert workbook_of(client_for(world.admin).get(f"{EXPORT}?member={world.agent.pk}"))


def test_query_count_does_not_grow_with_rows(client_for, world, product):
    client = client_for(world.leader)
    start = dt.date(2025, 1, 1)
    counts = []
    for total in (5, 60):
        existing = world.agent.daily_reports.count()
        for offset in range(existing, total):
            report = DailyReportFactory(
                organization=world.org, member=world.agent, date=start + dt.timedelta(offset)
            )
            _line(report, product, 1, "5.00")
        with CaptureQueriesContext(connection) as ctx:
            workbook = workbook_of(client.get(EXPORT))
        assert len(sheet_rows(workbook.worksheets[0])[1]) == total
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# --- Admin ---------------------------------------------------------------------------------------


@pytest.fixture
def staff_owner(world):
    world.owner.user.is_staff = True
    world.owner.user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(world.owner.user)
    return client


def test_admin_exports_the_selected_reports(world, reports, staff_owner):
    rival_report = DailyReportFactory(organization=world.rival, member=world.outsider, date=DAY)
    selected = [reports["agent"].pk, reports["leader"].pk, rival_report.pk]
    response = staff_owner.post(
        reverse("admin:reports_dailyreport_changelist"),
        {"action": "export_xlsx", "_selected_action": selected},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    persona = _persona(world)
    rows = {persona[row["Member"]]: row for row in records(workbook_of(response).worksheets[0])}
    # The other organization's report is not the owner's to export: only acme's two.
    assert sorted(rows) == ["agent", "leader"]
    assert Decimal(str(rows["agent"]["Sales amount"])) == Decimal("450.00")


def test_admin_refuses_a_selection_across_organizations(world, reports):
    root = Client()
    root.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    rival_report = DailyReportFactory(organization=world.rival, member=world.outsider, date=DAY)
    response = root.post(
        reverse("admin:reports_dailyreport_changelist"),
        {"action": "export_xlsx", "_selected_action": [reports["agent"].pk, rival_report.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.status_code == 200
    assert "Select rows of one organization" in response.content.decode()
