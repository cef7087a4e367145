"""The plans admin: inspection pages render for superusers and organization staff, inside the
staff's organization only; only an open plan's name and description are editable."""

import pytest
from django.contrib import admin
from django.urls import reverse

from plans.models import PlanStatus
from tests.agents.factories import UserFactory
from tests.plans.factories import (
    BudgetLineFactory,
    ExpenseFactory,
    PlanTaskFactory,
    QualitativeGoalFactory,
    SalesPlanFactory,
    TargetFactory,
)

PLANS_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "plans"),
    key=lambda model: model._meta.model_name,
)


def url(model, view, *args):
    return reverse(f"admin:plans_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def rows(world):
    plan = SalesPlanFactory(organization=world.org)
    target = TargetFactory(plan=plan, member=world.agent)
    TargetFactory(plan=plan, parent=target, member=world.agent)
    line = BudgetLineFactory(plan=plan, member=world.agent)
    ExpenseFactory(budget=line)
    PlanTaskFactory(plan=plan, owner=world.agent)
    QualitativeGoalFactory(plan=plan, owner=world.agent)
    rival_plan = SalesPlanFactory(organization=world.rival)
    return {"plan": plan, "rival_target": TargetFactory(plan=rival_plan)}


@pytest.fixture
def owner_client(client, world):
    world.owner.user.is_staff = True
    world.owner.user.save(update_fields=["is_staff"])
    client.force_login(world.owner.user)
    return client


def test_all_plans_models_are_registered():
    assert {model._meta.model_name for model in PLANS_MODELS} == {
        "salesplan",
        "target",
        "qualitativegoal",
        "budgetline",
        "expense",
        "plantask",
    }


@pytest.mark.parametrize("model", PLANS_MODELS, ids=lambda model: model._meta.model_name)
def test_every_page_renders_for_a_superuser(client, world, rows, model):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(url(model, "changelist")).status_code == 200
    obj = model.objects.filter(organization=world.org).first()
    assert client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", PLANS_MODELS, ids=lambda model: model._meta.model_name)
def test_organization_staff_see_their_rows_only(owner_client, world, rows, model):
    response = owner_client.get(url(model, "changelist"))
    assert response.status_code == 200
    shown = {obj.organization_id for obj in response.context["cl"].result_list}
    assert shown <= {world.org.pk}
    obj = model.objects.filter(organization=world.org).first()
    assert owner_client.get(url(model, "change", obj.pk)).status_code == 200
    rival = rows["rival_target"]
    response = owner_client.get(url(type(rival), "change", rival.pk))
    assert response.status_code == 302  # like a deleted object


def test_only_an_open_plans_name_and_description_change(owner_client, rows):
    plan = rows["plan"]
    inline = {
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "1",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
    }
    response = owner_client.post(
        url(type(plan), "change", plan.pk),
        {"name": "Renamed", "description": "New words", **inline},
    )
    assert response.status_code == 302, response.context["errors"]
    plan.refresh_from_db()
    assert (plan.name, plan.description) == ("Renamed", "New words")
    plan.status = PlanStatus.CLOSED
    plan.save()
    owner_client.post(
        url(type(plan), "change", plan.pk), {"name": "Again", "description": "", **inline}
    )
    plan.refresh_from_db()
    assert plan.name == "Renamed"
