"""XLSX export of attainment: the same rows as `P/attainment/`, typed, in the caller's scope."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.agents.factories import MembershipFactory, ProductFactory
from tests.plans.conftest import P
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import SalesEntryFactory
from tests.xlsx_read import info, records, sheet_rows, workbook_of

pytestmark = pytest.mark.django_db

D = Decimal
EXPORT = f"{P}attainment/export/"


def sale(world, member, day, amount, **kwargs):
    return SalesEntryFactory(
        organization=world.org, member=member, date=day, amount=D(amount), **kwargs
    )


@pytest.fixture
def targets(world, plan_2026):
    """leader 50000 (team), agent 20000 (team; a piece of the leader's), other_leader 30000;
    sales: leader 1000, agent 3000, sub_agent 4000, other_agent 5000 (all 2 March)."""
    leaders = TargetFactory(
        plan=plan_2026, member=world.leader, include_downline=True, value=D("50000.00")
    )
    TargetFactory(
        plan=plan_2026,
        parent=leaders,
        member=world.agent,
        include_downline=True,
        value=D("20000.00"),
    )
    TargetFactory(plan=plan_2026, member=world.other_leader, value=D("30000.00"))
    day = dt.date(2026, 3, 2)
    for member, amount in [
        (world.leader, "1000"),
        (world.agent, "3000"),
        (world.sub_agent, "4000"),
        (world.other_agent, "5000"),
    ]:
        sale(world, member, day, amount)


def query(plan, group_by="member", **params):
    return {"plan": plan.pk, "metric": "sales_amount", "group_by": group_by, **params}


def test_rows_equal_the_json_answer(world, client_for, plan_2026, targets):
    client = client_for(world.admin)
    params = query(plan_2026, date="2026-06-30")
    listed = client.get(f"{P}attainment/", params).data
    assert len(listed) == 3
    workbook = workbook_of(client.get(EXPORT, params, HTTP_ACCEPT_LANGUAGE="en"))
    rows = records(workbook.worksheets[0])
    assert [row["Key"] for row in rows] == [row["key"] for row in listed]
    for row, api in zip(rows, listed, strict=True):
        assert row["Member"] == api["label"]
        assert D(str(row["Target"])) == D(api["target"])
        assert D(str(row["Actual"])) == D(api["actual"])
        assert D(str(row["Attainment"])).quantize(D("0.0001")) == D(api["attainment"])
    by_key = {row["Key"]: row for row in rows}
    assert D(str(by_key[world.agent.pk]["Actual"])) == D("7000.00")
    assert by_key[world.agent.pk]["Attainment"] == pytest.approx(0.35)

    sheet = workbook.worksheets[0]
    assert sheet.cell(row=2, column=3).number_format == '"¥"#,##0.00'
    assert sheet.cell(row=2, column=5).number_format == "0.00%"
    about = info(workbook)
    assert about["Plan"] == "2026"
    assert about["Metric"] == "Sales amount"
    assert about["As of"] == "2026-06-30"
    assert "2026" in about["Export"] and "Sales amount" in about["Export"]


def test_count_metrics_are_integers_and_other_groupings(world, client_for, plan_2026):
    serum = ProductFactory(organization=world.org, name="Serum")
    TargetFactory(plan=plan_2026, product=serum, metric="quantity", value=D("10"))
    sale(world, world.agent, dt.date(2026, 3, 2), "100", product=serum, quantity=4)
    params = query(plan_2026, group_by="product", date="2026-06-30") | {"metric": "quantity"}
    workbook = workbook_of(client_for(world.admin).get(EXPORT, params, HTTP_ACCEPT_LANGUAGE="en"))
    headers, rows = sheet_rows(workbook.worksheets[0])
    assert headers == ["Key", "Product", "Target", "Actual", "Attainment"]
    assert rows == [[serum.pk, "Serum", 10, 4, pytest.approx(0.4)]]
    assert workbook.worksheets[0].cell(row=2, column=3).number_format == "#,##0"


@override_settings(LANGUAGE_CODE="zh-hans")
def test_headers_are_chinese_by_default(world, client_for, plan_2026, targets):
    response = client_for(world.admin).get(EXPORT, query(plan_2026))
    headers, _rows = sheet_rows(workbook_of(response).worksheets[0])
    assert headers[1] == "成员"


def test_scope_follows_the_json_answer(world, client_for, plan_2026, targets):
    for persona in ("leader", "agent", "other_leader", "owner"):
        client = client_for(getattr(world, persona))
        listed = {row["key"] for row in client.get(f"{P}attainment/", query(plan_2026)).data}
        workbook = workbook_of(client.get(EXPORT, query(plan_2026), HTTP_ACCEPT_LANGUAGE="en"))
        exported = {row["Key"] for row in records(workbook.worksheets[0])}
        assert exported == listed, persona
    leader = workbook_of(client_for(world.leader).get(EXPORT, query(plan_2026)))
    assert {row["Key"] for row in records(leader.worksheets[0])} == {
        world.leader.pk,
        world.agent.pk,
    }


def test_bad_queries_are_400_and_other_orgs_404(world, client_for, plan_2026):
    client = client_for(world.admin)
    rival_plan = SalesPlanFactory(organization=world.rival)
    for params, field in [
        ({}, "plan"),
        (query(plan_2026) | {"metric": "nope"}, "metric"),
        (query(plan_2026, group_by="day"), "group_by"),
        (query(rival_plan), "plan"),
        (query(plan_2026, group_by="product") | {"metric": "followups"}, "group_by"),
        (query(plan_2026, date="31/03/2026"), "date"),
    ]:
        response = client.get(EXPORT, params)
        assert response.status_code == 400, params
        assert field in response.json(), params
    assert client_for(world.outsider).get(EXPORT, query(plan_2026)).status_code == 404
    assert client_for(None).get(EXPORT, query(plan_2026)).status_code == 401


def test_formula_injection_in_labels_is_neutralised(world, client_for, plan_2026):
    product = ProductFactory(organization=world.org, name="=cmd|' /C calc'!A0")
    TargetFactory(plan=plan_2026, product=product)
    params = query(plan_2026, group_by="product")
    sheet = workbook_of(client_for(world.admin).get(EXPORT, params)).worksheets[0]
    cell = sheet.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value == "=cmd|' /C calc'!A0"


def test_row_cap(world, client_for, plan_2026, targets):
    with override_settings(EXPORT_MAX_ROWS=2):
        response = client_for(world.admin).get(EXPORT, query(plan_2026))
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_query_count_does_not_grow_with_rows(world, client_for, plan_2026):
    client = client_for(world.admin)
    counts = []
    for total in (3, 30):
        while plan_2026.targets.count() < total:
            member = MembershipFactory(organization=world.org, upline=world.leader)
            TargetFactory(plan=plan_2026, member=member)
            sale(world, member, dt.date(2026, 2, 2), "10")
        with CaptureQueriesContext(connection) as ctx:
            workbook = workbook_of(client.get(EXPORT, query(plan_2026)))
        assert len(sheet_rows(workbook.worksheets[0])[1]) == total
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# --- Admin ---------------------------------------------------------------------------------------


def test_admin_exports_attainment_of_the_selected_plan(world, client_for, plan_2026, targets):
    world.owner.user.is_staff = True
    world.owner.user.save(update_fields=["is_staff"])
    admin_client = Client()
    admin_client.force_login(world.owner.user)
    rival_plan = SalesPlanFactory(organization=world.rival)
    response = admin_client.post(
        reverse("admin:plans_salesplan_changelist"),
        {"action": "export_attainment_xlsx", "_selected_action": [plan_2026.pk, rival_plan.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    workbook = workbook_of(response)
    # One sheet per metric and grouping with targets (here sales by member), then the info.
    assert workbook.sheetnames[0] == "Sales amount · Member"
    assert len(workbook.worksheets) == 2
    exported = {row["Key"]: row for row in records(workbook.worksheets[0])}
    listed = client_for(world.owner).get(f"{P}attainment/", query(plan_2026)).data
    assert set(exported) == {row["key"] for row in listed}
    for api in listed:
        assert D(str(exported[api["key"]]["Target"])) == D(api["target"])
        assert D(str(exported[api["key"]]["Actual"])) == D(api["actual"])
