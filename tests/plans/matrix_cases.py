"""Permission matrix of the plans endpoints. Plans are the organization's (everyone reads them,
owners/admins change them). Targets, goals, budget lines, expenses and tasks belong to branch A
and name the `agent`: the other branch does not see them (404); leaders set them for the members
below them; an id outside the caller's scope in a body is an unknown id (400)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from plans.models import PlanStatus
from tests.matrix import Case, everyone, roles
from tests.plans.factories import (
    BudgetLineFactory,
    ExpenseFactory,
    PlanTaskFactory,
    QualitativeGoalFactory,
    SalesPlanFactory,
    TargetFactory,
)

MANAGERS_OK = roles(403, admin=200, owner=200)
MANAGERS_CREATE = roles(403, admin=201, owner=201)
MANAGERS_DELETE = roles(403, admin=204, owner=204)
BRANCH_READ = roles(200, other_agent=404, other_leader=404)
# Set by the leader for their agent: the agent reads but cannot change it.
LEADERS_WRITE = roles(403, other_agent=404, other_leader=404, leader=200, admin=200, owner=200)
LEADERS_DELETE = roles(403, other_agent=404, other_leader=404, leader=204, admin=204, owner=204)
# Created for the agent: agents lack the power; the other leader cannot name the agent (400).
LEADERS_CREATE = roles(403, other_leader=400, leader=201, admin=201, owner=201)


def plan(world, **kwargs):
    return SalesPlanFactory(organization=world.org, **kwargs)


def plan_pk(world) -> dict:
    return {"pk": plan(world).pk}


def draft_plan_pk(world) -> dict:
    return {"pk": plan(world, status=PlanStatus.DRAFT).pk}


def agents_target(world) -> dict:
    return {"pk": TargetFactory(plan=plan(world), member=world.agent).pk}


def target_grid(world) -> dict:
    grid = SimpleUploadedFile("grid.csv", b"member,2026-11\nA-001,10\n", "text/csv")
    return {"file": grid, "plan": plan(world).pk, "metric": "orders"}


def goal(world) -> dict:
    return {"pk": QualitativeGoalFactory(plan=plan(world), owner=world.agent).pk}


def budget(world) -> dict:
    return {"pk": BudgetLineFactory(plan=plan(world), member=world.agent).pk}


def expense(world) -> dict:
    line = BudgetLineFactory(plan=plan(world), member=world.agent)
    return {"pk": ExpenseFactory(budget=line, recorded_by=world.agent).pk}


def task(world) -> dict:
    return {"pk": PlanTaskFactory(plan=plan(world), owner=world.agent).pk}


def attainment_query(world) -> dict:
    return {"plan": plan(world).pk, "metric": "sales_amount", "group_by": "member"}


CASES = [
    # plans
    Case("plans-list", "get", everyone(200)),
    Case(
        "plans-list",
        "post",
        MANAGERS_CREATE,
        body=lambda w: {
            "name": "2027",
            "period_kind": "year",
            "start": "2027-01-01",
            "end": "2027-12-31",
        },
    ),
    Case("plans-detail", "get", everyone(200), args=plan_pk),
    Case("plans-detail", "patch", MANAGERS_OK, args=plan_pk, body=lambda w: {"description": "x"}),
    Case("plans-detail", "delete", MANAGERS_DELETE, args=draft_plan_pk),
    Case("plans-activate", "post", MANAGERS_OK, args=draft_plan_pk),
    Case("plans-close", "post", MANAGERS_OK, args=plan_pk),
    # targets
    Case("targets-list", "get", everyone(200)),
    Case(
        "targets-list",
        "post",
        roles(403, other_agent=400, other_leader=400, leader=201, admin=201, owner=201),
        body=lambda w: {
            "plan": plan(w).pk,
            "metric": "sales_amount",
            "member": w.agent.pk,
            "start": "2026-01-01",
            "end": "2026-12-31",
            "value": "120000.00",
        },
    ),
    Case("targets-detail", "get", BRANCH_READ, args=agents_target),
    Case(
        "targets-detail",
        "patch",
        LEADERS_WRITE,
        args=agents_target,
        body=lambda w: {"value": "5000.00"},
    ),
    Case("targets-detail", "delete", LEADERS_DELETE, args=agents_target),
    # The agent breaks their own target down: their personal plan.
    Case(
        "targets-breakdown",
        "post",
        roles(201, other_agent=404, other_leader=404),
        args=agents_target,
        body=lambda w: {"dimension": "period", "method": "even", "period_unit": "month"},
    ),
    Case("targets-progress", "get", BRANCH_READ, args=agents_target),
    Case("attainment", "get", everyone(200), body=attainment_query),
    Case("attainment-export", "get", everyone(200), body=attainment_query),
    Case("dashboard-today", "get", everyone(200)),
    # qualitative goals
    Case("goals-list", "get", everyone(200)),
    Case(
        "goals-list",
        "post",
        LEADERS_CREATE,
        body=lambda w: {
            "plan": plan(w).pk,
            "description": "Open the Suzhou dealer",
            "owner": w.agent.pk,
        },
    ),
    Case("goals-detail", "get", BRANCH_READ, args=goal),
    Case("goals-detail", "patch", LEADERS_WRITE, args=goal, body=lambda w: {"status": "achieved"}),
    Case("goals-detail", "delete", LEADERS_DELETE, args=goal),
    # budgets
    Case("budgets-list", "get", everyone(200)),
    Case(
        "budgets-list",
        "post",
        LEADERS_CREATE,
        body=lambda w: {
            "plan": plan(w).pk,
            "category": "samples",
            "member": w.agent.pk,
            "amount": "500.00",
        },
    ),
    Case("budgets-detail", "get", BRANCH_READ, args=budget),
    Case("budgets-detail", "patch", LEADERS_WRITE, args=budget, body=lambda w: {"amount": "2000"}),
    Case("budgets-detail", "delete", LEADERS_DELETE, args=budget),
    # expenses: the agent books on their own line
    Case("expenses-list", "get", everyone(200)),
    Case(
        "expenses-list",
        "post",
        roles(201, other_agent=400, other_leader=400),
        body=lambda w: {
            "budget": BudgetLineFactory(plan=plan(w), member=w.agent).pk,
            "amount": "50.00",
            "date": "2026-03-02",
        },
    ),
    Case("expenses-detail", "get", BRANCH_READ, args=expense),
    Case(
        "expenses-detail",
        "patch",
        roles(200, other_agent=404, other_leader=404),
        args=expense,
        body=lambda w: {"note": "Receipt attached"},
    ),
    Case("expenses-detail", "delete", roles(204, other_agent=404, other_leader=404), args=expense),
    # tasks: leaders give them, the owner moves them along
    # a grid of targets: the leader for the agent below; agents set no top-level targets, the
    # other branch does not know A-001 (row errors, 400)
    Case(
        "targets-import",
        "post",
        roles(400, leader=201, admin=201, owner=201),
        body=target_grid,
        fmt="multipart",
    ),
    Case("tasks-list", "get", everyone(200)),
    Case(
        "tasks-list",
        "post",
        LEADERS_CREATE,
        body=lambda w: {"plan": plan(w).pk, "title": "Visit the mall", "owner": w.agent.pk},
    ),
    Case("tasks-detail", "get", BRANCH_READ, args=task),
    Case(
        "tasks-detail",
        "patch",
        roles(200, other_agent=404, other_leader=404),
        args=task,
        body=lambda w: {"status": "doing"},
    ),
    Case("tasks-detail", "delete", LEADERS_DELETE, args=task),
]
