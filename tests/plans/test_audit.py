"""The audit trail of plans and targets: every change through the API leaves one entry (a
breakdown one per child plus one on the parent, in one INSERT), a refused change none."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import AuditEntry
from plans.models import SalesPlan, Target
from tests.agents.factories import MembershipFactory
from tests.agents.test_admin import form_data, staff_client
from tests.plans.conftest import P
from tests.plans.factories import SalesPlanFactory, TargetFactory

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_the_plan_lifecycle_is_recorded(world, client_for, clock):
    clock.set("2026-03-10 09:00")
    client = client_for(world.admin)
    response = client.post(
        f"{P}plans/",
        {"name": "Q2", "period_kind": "quarter", "start": "2026-04-01", "end": "2026-06-30"},
    )
    assert response.status_code == 201, response.data
    plan = response.data["id"]
    assert client.patch(f"{P}plans/{plan}/", {"name": "Q2 push"}).status_code == 200
    assert client.post(f"{P}plans/{plan}/activate/").status_code == 200
    assert client.post(f"{P}plans/{plan}/close/").status_code == 200
    assert actions() == ["plan.create", "plan.update", "plan.activate", "plan.close"]
    create, update, activate, close = AuditEntry.objects.order_by("id")
    assert all(entry.actor_id == world.admin.pk for entry in (create, update, activate, close))
    assert all(entry.object_id == str(plan) for entry in (create, update, activate, close))
    assert create.object_type == "plans.salesplan"
    assert create.changes["name"] == [None, "Q2"]
    assert create.changes["start"] == [None, "2026-04-01"]
    assert create.changes["owner"] == [None, world.admin.pk]
    assert update.changes == {"name": ["Q2", "Q2 push"]}
    assert activate.changes == {"status": ["draft", "active"]}
    assert close.changes == {"status": ["active", "closed"]}
    assert close.context == {"as_of": "2026-03-10"}


def test_refused_plan_changes_record_nothing(world, client_for):
    plan = SalesPlanFactory(organization=world.org, name="Taken")
    client = client_for(world.owner)
    assert client.post(f"{P}plans/{plan.pk}/activate/").status_code == 409  # already active
    assert client.delete(f"{P}plans/{plan.pk}/").status_code == 409
    response = client.patch(f"{P}plans/{plan.pk}/", {"end": "2025-01-01"})
    assert response.status_code == 400
    response = client.post(
        f"{P}plans/",
        {"name": "Taken", "period_kind": "month", "start": "2026-01-01", "end": "2026-01-31"},
    )
    assert response.status_code == 400
    assert client_for(world.leader).patch(f"{P}plans/{plan.pk}/", {"name": "x"}).status_code in (
        403,
        404,
    )
    assert actions() == []


def test_deleting_a_draft_plan_is_recorded(world, client_for):
    plan = SalesPlanFactory(organization=world.org, name="Draft", status="draft")
    assert client_for(world.owner).delete(f"{P}plans/{plan.pk}/").status_code == 204
    [entry] = AuditEntry.objects.all()
    assert (entry.action, entry.object_id, entry.object_repr) == (
        "plan.delete",
        str(plan.pk),
        "Draft",
    )
    assert entry.changes["name"] == ["Draft", None]
    assert entry.changes["status"] == ["draft", None]


def test_target_changes_are_recorded(world, client_for, plan_2026):
    client = client_for(world.leader)
    response = client.post(
        f"{P}targets/",
        {
            "plan": plan_2026.pk,
            "metric": "sales_amount",
            "member": world.agent.pk,
            "start": "2026-03-01",
            "end": "2026-03-31",
            "value": "5000.00",
        },
    )
    assert response.status_code == 201, response.data
    target = response.data["id"]
    response = client.patch(f"{P}targets/{target}/", {"value": "6000.00"})
    assert response.status_code == 200, response.data
    too_big = client.patch(f"{P}targets/{target}/", {"value": "-1"})
    assert too_big.status_code == 400
    assert client.delete(f"{P}targets/{target}/").status_code == 204
    create, update, delete = AuditEntry.objects.order_by("id")
    assert [create.action, update.action, delete.action] == [
        "target.create",
        "target.update",
        "target.delete",
    ]
    assert {create.actor_id, update.actor_id, delete.actor_id} == {world.leader.pk}
    assert create.changes["value"] == [None, "5000.00"]
    assert create.changes["member"] == [None, world.agent.pk]
    assert create.changes["plan"] == [None, plan_2026.pk]
    assert update.changes == {"value": ["5000.00", "6000.00"]}
    assert delete.object_id == str(target)
    assert delete.changes["value"] == ["6000.00", None]


def test_a_breakdown_records_the_parent_and_each_child_in_one_insert(world, client_for, plan_2026):
    team = [world.agent] + [
        MembershipFactory(organization=world.org, upline=world.leader) for _ in range(4)
    ]
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=Decimal("100000.00"))
    body = {
        "dimension": "member",
        "method": "even",
        "allocations": [{"member": member.pk} for member in team],
    }
    with CaptureQueriesContext(connection) as queries:
        response = client_for(world.leader).post(
            f"{P}targets/{parent.pk}/breakdown/", body, format="json"
        )
    assert response.status_code == 201, response.data
    audit_inserts = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("INSERT") and "agents_auditentry" in query["sql"]
    ]
    assert len(audit_inserts) == 1
    children = list(Target.objects.filter(parent=parent).order_by("id"))
    breakdown = AuditEntry.objects.get(action="target.breakdown")
    assert breakdown.object_id == str(parent.pk)
    assert breakdown.actor_id == world.leader.pk
    assert breakdown.changes == {"children": [None, [child.pk for child in children]]}
    assert breakdown.context["dimension"] == "member" and breakdown.context["method"] == "even"
    created = AuditEntry.objects.filter(action="target.create").order_by("id")
    assert [entry.object_id for entry in created] == [str(child.pk) for child in children]
    assert created[0].changes["value"] == [None, "20000.00"]
    assert created[0].changes["parent"] == [None, parent.pk]
    assert created[0].context["breakdown_of"] == parent.pk


def test_a_refused_breakdown_records_nothing(world, client_for, plan_2026):
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=Decimal("100.00"))
    response = client_for(world.leader).post(
        f"{P}targets/{parent.pk}/breakdown/",
        {
            "dimension": "member",
            "method": "manual",
            "allocations": [{"member": world.agent.pk, "value": "500.00"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert actions() == []


def test_a_plan_edited_in_the_admin_is_recorded(client, world, plan_2026):
    owner = staff_client(client, world.owner)
    url = admin_url_for(plan_2026)
    response = owner.post(url, form_data(owner.get(url), name="2026 revised"))
    assert response.status_code == 302
    [entry] = AuditEntry.objects.all()
    assert (entry.action, entry.actor_id) == ("plan.update", world.owner.pk)
    assert entry.changes == {"name": ["2026", "2026 revised"]}
    assert entry.context == {"via": "admin"}
    page = owner.get(url)
    assert "audit_history_url" in page.context


def admin_url_for(plan: SalesPlan) -> str:
    from django.urls import reverse

    return reverse("admin:plans_salesplan_change", args=[plan.pk])


def test_budget_lines_are_recorded(world, client_for, plan_2026):
    leader = client_for(world.leader)
    body = {"plan": plan_2026.pk, "category": "travel", "amount": "1000.00"}
    response = leader.post(f"{P}budgets/", {**body, "member": world.agent.pk})
    assert response.status_code == 201, response.data
    line = response.data["id"]
    assert leader.post(f"{P}budgets/", body).status_code == 403  # for nobody below: refused
    assert leader.patch(f"{P}budgets/{line}/", {"amount": "1500.00"}).status_code == 200
    assert leader.delete(f"{P}budgets/{line}/").status_code == 204
    create, update, delete = AuditEntry.objects.order_by("id")
    assert [create.action, update.action, delete.action] == [
        "budget.create",
        "budget.update",
        "budget.delete",
    ]
    assert {create.object_id, update.object_id, delete.object_id} == {str(line)}
    assert create.changes["amount"] == [None, "1000.00"]
    assert create.changes["member"] == [None, world.agent.pk]
    assert update.changes == {"amount": ["1000.00", "1500.00"]}
    assert delete.changes["amount"] == ["1500.00", None]
    assert update.actor_id == world.leader.pk


def test_expenses_are_recorded(world, client_for, plan_2026):
    from tests.plans.factories import BudgetLineFactory

    line = BudgetLineFactory(plan=plan_2026, member=world.agent, amount=Decimal("100.00"))
    other = BudgetLineFactory(plan=plan_2026, member=world.agent, amount=Decimal("500.00"))
    agent = client_for(world.agent)
    body = {"budget": line.pk, "amount": "60.00", "date": "2026-03-01", "note": "Taxi"}
    created = agent.post(f"{P}expenses/", body)
    assert created.status_code == 201, created.data
    url = f"{P}expenses/{created.data['id']}/"
    assert agent.patch(url, {"amount": "100.01"}).status_code == 400  # beyond the line
    assert agent.patch(url, {"amount": "80.00", "budget": other.pk}).status_code == 200
    assert agent.patch(url, {"amount": "80.00"}).status_code == 200  # no change: no entry
    assert agent.delete(url).status_code == 204
    create, update, delete = AuditEntry.objects.filter(action__startswith="expense.").order_by("id")
    assert [create.action, update.action, delete.action] == [
        "expense.create",
        "expense.update",
        "expense.delete",
    ]
    assert {create.object_id, update.object_id, delete.object_id} == {str(created.data["id"])}
    assert all(entry.actor_id == world.agent.pk for entry in (create, update, delete))
    assert create.changes["amount"] == [None, "60.00"]
    assert create.changes["budget"] == [None, line.pk]
    assert create.changes["note"] == [None, "Taxi"]
    assert update.changes == {"amount": ["60.00", "80.00"], "budget": [line.pk, other.pk]}
    assert delete.changes["amount"] == ["80.00", None]


def test_task_status_changes_are_recorded(world, client_for, plan_2026):
    from tests.plans.factories import PlanTaskFactory

    task = PlanTaskFactory(plan=plan_2026, owner=world.agent)
    agent = client_for(world.agent)
    url = f"{P}tasks/{task.pk}/"
    assert agent.patch(url, {"status": "doing"}).status_code == 200
    assert agent.patch(url, {"status": "doing"}).status_code == 200  # a retry: no entry
    assert agent.patch(url, {"status": "someday"}).status_code == 400
    assert agent.patch(url, {"title": "Nap"}).status_code == 403
    leader = client_for(world.leader)
    assert leader.patch(url, {"title": "Roadshow", "status": "done"}).status_code == 200
    assert leader.patch(url, {"place": "IFC"}).status_code == 200  # status unchanged
    doing, done = AuditEntry.objects.filter(action="task.status").order_by("id")
    assert (doing.actor_id, doing.changes) == (world.agent.pk, {"status": ["todo", "doing"]})
    assert (done.actor_id, done.changes) == (world.leader.pk, {"status": ["doing", "done"]})
    assert doing.object_id == str(task.pk)
    assert doing.context == {"plan": plan_2026.pk, "owner": world.agent.pk}
