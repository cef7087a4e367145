"""The plan lifecycle, freezing at closing, and the rules for setting targets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.models import PlanStatus, SalesPlan, Target
from tests.agents.factories import ProductFactory
from tests.plans.conftest import P
from tests.plans.factories import (
    BudgetLineFactory,
    ExpenseFactory,
    PlanTaskFactory,
    QualitativeGoalFactory,
    SalesPlanFactory,
    TargetFactory,
)
from tests.reports.factories import SalesEntryFactory

D = Decimal


def test_plan_lifecycle_draft_active_closed(world, client_for, clock):
    clock.set("2026-03-10 09:00")
    client = client_for(world.admin)
    response = client.post(
        f"{P}plans/",
        {"name": "Q2", "period_kind": "quarter", "start": "2026-04-01", "end": "2026-06-30"},
    )
    assert response.status_code == 201, response.data
    assert response.data["status"] == "draft"
    assert response.data["owner"] == world.admin.pk
    plan = response.data["id"]
    assert client.post(f"{P}plans/{plan}/close/").status_code == 409
    response = client.post(f"{P}plans/{plan}/activate/")
    assert response.status_code == 200 and response.data["status"] == "active"
    assert client.post(f"{P}plans/{plan}/activate/").status_code == 409
    assert client.delete(f"{P}plans/{plan}/").status_code == 409
    response = client.post(f"{P}plans/{plan}/close/")
    assert response.status_code == 200 and response.data["status"] == "closed"
    assert response.data["closed_at"]
    assert client.post(f"{P}plans/{plan}/close/").status_code == 409
    assert client.post(f"{P}plans/{plan}/activate/").status_code == 409
    assert client.patch(f"{P}plans/{plan}/", {"name": "Q2 bis"}).status_code == 409


def test_plan_validation(world, client_for):
    client = client_for(world.owner)
    SalesPlanFactory(organization=world.org, name="Taken")
    for body, field in (
        (
            {"name": "Taken", "period_kind": "month", "start": "2026-01-01", "end": "2026-01-31"},
            "name",
        ),
        ({"name": "A", "period_kind": "month", "start": "2026-01-01", "end": "2026-03-31"}, "end"),
        ({"name": "B", "period_kind": "year", "start": "2026-02-01", "end": "2026-01-01"}, "end"),
        (
            {"name": "C", "period_kind": "decade", "start": "2026-01-01", "end": "2026-01-31"},
            "period_kind",
        ),
        (
            {
                "name": "D",
                "period_kind": "month",
                "start": "2026-01-01",
                "end": "2026-01-31",
                "owner": world.outsider.pk,
            },
            "owner",
        ),
    ):
        response = client.post(f"{P}plans/", body)
        assert response.status_code == 400 and field in response.data, (body, response.data)
    assert SalesPlan.objects.filter(organization=world.org).count() == 1


def test_a_plan_cannot_shrink_away_from_its_targets(world, client_for, plan_2026):
    TargetFactory(plan=plan_2026, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31))
    response = client_for(world.admin).patch(f"{P}plans/{plan_2026.pk}/", {"end": "2026-11-30"})
    assert response.status_code == 400 and "start" in response.data


def test_closing_freezes_the_figures(world, client_for, plan_2026, clock):
    clock.set("2026-12-31 20:00")
    target = TargetFactory(plan=plan_2026, member=world.agent, value=D("10000.00"))
    product_target = TargetFactory(
        plan=plan_2026, product=ProductFactory(organization=world.org), value=D("100.00")
    )
    entry = SalesEntryFactory(
        organization=world.org,
        member=world.agent,
        product=product_target.product,
        date=dt.date(2026, 6, 1),
        amount=D("2500.00"),
    )
    client = client_for(world.admin)
    live = client.get(f"{P}targets/{target.pk}/progress/").data
    assert live["actual"] == "2500.00" and live["frozen"] is False
    assert client.post(f"{P}plans/{plan_2026.pk}/close/").status_code == 200

    # Facts are corrected after closing: the closed plan's figures stay what they were.
    entry.amount = D("9000.00")
    entry.save()
    SalesEntryFactory(
        organization=world.org, member=world.agent, date=dt.date(2026, 7, 1), amount=D("1")
    )
    frozen = client.get(f"{P}targets/{target.pk}/progress/").data
    assert frozen["frozen"] is True
    assert frozen["actual"] == "2500.00"
    assert frozen["attainment"] == "0.2500"
    assert frozen["daily"] == live["daily"]
    assert client.get(f"{P}targets/{target.pk}/progress/?date=2026-05-31").data["actual"] == "0.00"
    rows = client.get(
        f"{P}attainment/",
        {"plan": plan_2026.pk, "metric": "sales_amount", "group_by": "member"},
    ).data
    assert [(row["key"], row["actual"]) for row in rows] == [(world.agent.pk, "2500.00")]
    rows = client.get(
        f"{P}attainment/",
        {"plan": plan_2026.pk, "metric": "sales_amount", "group_by": "product"},
    ).data
    assert [row["actual"] for row in rows] == ["2500.00"]


def test_a_closed_plan_is_read_only(world, client_for, plan_2026):
    target = TargetFactory(plan=plan_2026, member=world.agent)
    budget = BudgetLineFactory(plan=plan_2026, member=world.agent)
    expense = ExpenseFactory(budget=budget)
    task = PlanTaskFactory(plan=plan_2026, owner=world.agent)
    goal = QualitativeGoalFactory(plan=plan_2026, owner=world.agent)
    admin = client_for(world.admin)
    assert admin.post(f"{P}plans/{plan_2026.pk}/close/").status_code == 200
    writes = [
        admin.patch(f"{P}targets/{target.pk}/", {"value": "1.00"}),
        admin.delete(f"{P}targets/{target.pk}/"),
        admin.post(
            f"{P}targets/{target.pk}/breakdown/",
            {"dimension": "period", "method": "even", "period_unit": "month"},
        ),
        admin.post(
            f"{P}targets/",
            {
                "parent": target.pk,
                "product": ProductFactory(organization=world.org).pk,
                "value": "1.00",
            },
        ),
        admin.patch(f"{P}budgets/{budget.pk}/", {"amount": "5.00"}),
        admin.post(
            f"{P}budgets/",
            {"plan": plan_2026.pk, "category": "travel", "member": world.agent.pk, "amount": "1"},
        ),
        admin.post(f"{P}expenses/", {"budget": budget.pk, "amount": "1.00", "date": "2026-05-01"}),
        admin.delete(f"{P}expenses/{expense.pk}/"),
        admin.patch(f"{P}tasks/{task.pk}/", {"title": "x"}),
        client_for(world.agent).patch(f"{P}tasks/{task.pk}/", {"status": "done"}),
        admin.patch(f"{P}goals/{goal.pk}/", {"status": "achieved"}),
    ]
    assert [response.status_code for response in writes] == [409] * len(writes)
    assert Target.objects.filter(plan=plan_2026).count() == 1


def test_only_draft_plans_are_deleted(world, client_for):
    draft = SalesPlanFactory(organization=world.org, status=PlanStatus.DRAFT)
    TargetFactory(plan=draft)
    ExpenseFactory(budget=BudgetLineFactory(plan=draft, member=world.agent))
    assert client_for(world.owner).delete(f"{P}plans/{draft.pk}/").status_code == 204
    assert not Target.objects.filter(plan_id=draft.pk).exists()


# --- Targets ----------------------------------------------------------------------------------


def target_body(plan, **kwargs):
    return {
        "plan": plan.pk,
        "metric": "sales_amount",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "value": "1000.00",
        **kwargs,
    }


def test_leaders_set_targets_below_them_but_never_their_own(world, client_for, plan_2026):
    leader = client_for(world.leader)
    assert (
        leader.post(f"{P}targets/", target_body(plan_2026, member=world.agent.pk)).status_code
        == 201
    )
    assert (
        leader.post(f"{P}targets/", target_body(plan_2026, member=world.sub_agent.pk)).status_code
        == 201
    )
    assert (
        leader.post(f"{P}targets/", target_body(plan_2026, member=world.leader.pk)).status_code
        == 403
    )
    assert leader.post(f"{P}targets/", target_body(plan_2026)).status_code == 403
    own = TargetFactory(plan=plan_2026, member=world.leader, value=D("100.00"))
    assert leader.patch(f"{P}targets/{own.pk}/", {"value": "999.00"}).status_code == 403
    assert leader.delete(f"{P}targets/{own.pk}/").status_code == 403
    # A piece of their own target (bounded by it) is theirs to shape.
    piece = leader.post(
        f"{P}targets/", {"parent": own.pk, "member": world.agent.pk, "value": "60.00"}
    )
    assert piece.status_code == 201, piece.data
    assert piece.data["plan"] == plan_2026.pk and piece.data["breakdown_dimension"] == "member"
    assert leader.patch(f"{P}targets/{piece.data['id']}/", {"value": "100.00"}).status_code == 200
    response = leader.patch(f"{P}targets/{piece.data['id']}/", {"value": "100.01"})
    assert response.status_code == 400 and "value" in response.data


def test_children_never_sum_above_their_parent(world, client_for, plan_2026):
    admin = client_for(world.admin)
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=D("100.00"))
    first = admin.post(
        f"{P}targets/", {"parent": parent.pk, "member": world.agent.pk, "value": "70.00"}
    )
    assert first.status_code == 201
    second = admin.post(
        f"{P}targets/",
        {
            "parent": parent.pk,
            "member": world.leader.pk,
            "include_downline": False,
            "value": "30.01",
        },
    )
    assert second.status_code == 400 and "value" in second.data
    # The parent cannot drop below what its children take, nor change its scope while it has
    # children.
    response = admin.patch(f"{P}targets/{parent.pk}/", {"value": "69.99"})
    assert response.status_code == 400 and "value" in response.data
    response = admin.patch(f"{P}targets/{parent.pk}/", {"end": "2026-06-30"})
    assert response.status_code == 400 and "end" in response.data
    assert admin.patch(f"{P}targets/{parent.pk}/", {"value": "70.00"}).status_code == 200
    # Deleting the parent deletes its breakdown.
    assert admin.delete(f"{P}targets/{parent.pk}/").status_code == 204
    assert not Target.objects.filter(plan=plan_2026).exists()


def test_child_targets_stay_inside_their_parent(world, client_for, plan_2026):
    admin = client_for(world.admin)
    parent = TargetFactory(
        plan=plan_2026, member=world.agent, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31)
    )
    for body, field in (
        ({"member": world.other_agent.pk}, "member"),
        ({"start": "2026-02-28"}, "start"),
        ({"metric": "orders"}, "metric"),
        ({"tier": "stretch"}, "tier"),
        ({"plan": SalesPlanFactory(organization=world.org).pk}, "parent"),
    ):
        response = admin.post(f"{P}targets/", {"parent": parent.pk, "value": "1.00", **body})
        assert response.status_code == 400 and field in response.data, (body, response.data)


def test_target_validation(world, client_for, plan_2026):
    admin = client_for(world.admin)
    product = ProductFactory(organization=world.org)
    for body, field in (
        (target_body(plan_2026, metric="orders", value="10.50"), "value"),
        (target_body(plan_2026, metric="report_compliance", value="1.20"), "value"),
        (target_body(plan_2026, metric="followups", value="10", product=product.pk), "product"),
        (target_body(plan_2026, start="2025-12-31"), "start"),
        (target_body(plan_2026, end="2025-12-31", start="2026-01-02"), "end"),
        (target_body(plan_2026, value="-1"), "value"),
        (target_body(plan_2026, metric="happiness"), "metric"),
        ({"value": "1.00"}, "plan"),
    ):
        response = admin.post(f"{P}targets/", body)
        assert response.status_code == 400 and field in response.data, (body, response.data)


def test_agents_read_their_own_and_their_downlines_targets(world, client_for, plan_2026):
    own = TargetFactory(plan=plan_2026, member=world.agent)
    downline = TargetFactory(plan=plan_2026, member=world.sub_agent)
    organization = TargetFactory(plan=plan_2026)
    TargetFactory(plan=plan_2026, member=world.leader)
    TargetFactory(plan=plan_2026, member=world.other_agent)
    response = client_for(world.agent).get(f"{P}targets/")
    assert {row["id"] for row in response.data["results"]} == {own.pk, downline.pk, organization.pk}
    response = client_for(world.agent).get(f"{P}targets/?member={world.sub_agent.pk}")
    assert [row["id"] for row in response.data["results"]] == [downline.pk]
    assert (
        client_for(world.agent)
        .post(f"{P}targets/", target_body(plan_2026, member=world.agent.pk))
        .status_code
        == 403
    )


def test_target_filters(world, client_for, plan_2026):
    parent = TargetFactory(plan=plan_2026, member=world.agent)
    child = TargetFactory(plan=plan_2026, parent=parent, member=world.agent, value=D("1"))
    TargetFactory(plan=SalesPlanFactory(organization=world.org), metric="orders", value=D("5"))
    client = client_for(world.admin)
    assert [r["id"] for r in client.get(f"{P}targets/?parent={parent.pk}").data["results"]] == [
        child.pk
    ]
    assert client.get(f"{P}targets/?plan={plan_2026.pk}").data["count"] == 2
    assert client.get(f"{P}targets/?metric=orders").data["count"] == 1
    assert client.get(f"{P}targets/?top_level=true").data["count"] == 2


@pytest.mark.parametrize("size", [10, 100])
def test_target_list_query_count_is_constant(world, client_for, plan_2026, size):
    TargetFactory.create_batch(120, plan=plan_2026, member=world.agent)
    client = client_for(world.leader)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{P}targets/?page_size={size}")
    assert len(response.data["results"]) == size
    assert len(ctx.captured_queries) <= 4


def test_agents_shape_the_pieces_of_their_personal_plan(world, client_for, plan_2026):
    own = TargetFactory(plan=plan_2026, member=world.agent, value=D("1000.00"))
    agent = client_for(world.agent)
    product = ProductFactory(organization=world.org)
    piece = agent.post(f"{P}targets/", {"parent": own.pk, "product": product.pk, "value": "400"})
    assert piece.status_code == 201, piece.data
    assert piece.data["member"] == world.agent.pk and piece.data["breakdown_dimension"] == "product"
    url = f"{P}targets/{piece.data['id']}/"
    assert agent.patch(url, {"value": "1000.00"}).status_code == 200
    assert agent.patch(url, {"value": "1000.01"}).status_code == 400
    # Their own target itself was set by their leader: not theirs to raise or remove.
    assert agent.patch(f"{P}targets/{own.pk}/", {"value": "1.00"}).status_code == 403
    assert agent.delete(f"{P}targets/{own.pk}/").status_code == 403
    assert agent.delete(url).status_code == 204


def test_messages_follow_the_callers_language(world, client_for):
    draft = SalesPlanFactory(organization=world.org, status=PlanStatus.DRAFT)
    client = client_for(world.admin)
    response = client.post(f"{P}plans/{draft.pk}/close/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 409
    assert response.data["detail"] == "只能关闭进行中的计划。"
    response = client.post(f"{P}plans/{draft.pk}/close/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.data["detail"] == "Only an active plan can be closed."
