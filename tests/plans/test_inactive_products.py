"""Targets refuse a deactivated product (a new target, a move to it, a breakdown share), and a
target that names a product deactivated since stays editable."""

from decimal import Decimal

import pytest

from plans.models import Target
from tests.agents.factories import ProductFactory
from tests.plans.conftest import P
from tests.plans.factories import TargetFactory

pytestmark = pytest.mark.django_db

NO_LONGER_SOLD = "This product is no longer sold."


@pytest.fixture
def products(world):
    return (
        ProductFactory(organization=world.org, sku="SERUM"),
        ProductFactory(organization=world.org, sku="OLD", is_active=False),
    )


def body(plan, **kwargs):
    return {
        "plan": plan.pk,
        "metric": "sales_amount",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "value": "1000.00",
        **kwargs,
    }


def test_a_new_target_for_a_deactivated_product_is_refused(world, client_for, plan_2026, products):
    serum, old = products
    admin = client_for(world.admin)
    response = admin.post(f"{P}targets/", body(plan_2026, product=old.pk))
    assert response.status_code == 400
    assert response.data["product"] == [NO_LONGER_SOLD]
    assert not Target.objects.exists()
    assert admin.post(f"{P}targets/", body(plan_2026, product=serum.pk)).status_code == 201


def test_a_target_keeps_a_product_deactivated_since(world, client_for, plan_2026, products):
    serum, old = products
    target = TargetFactory(plan=plan_2026, product=old)
    admin = client_for(world.admin)
    url = f"{P}targets/{target.pk}/"
    response = admin.patch(url, {"value": "2000.00", "product": old.pk})
    assert response.status_code == 200, response.data
    # A child inherits it from its parent.
    child = admin.post(
        f"{P}targets/", body(plan_2026, parent=target.pk, member=world.agent.pk, value="5.00")
    )
    assert child.status_code == 201, child.data
    assert child.data["product"] == old.pk
    # Moving a target onto a deactivated product is refused.
    fresh = TargetFactory(plan=plan_2026, product=serum)
    response = admin.patch(f"{P}targets/{fresh.pk}/", {"product": old.pk})
    assert response.status_code == 400
    assert response.data["product"] == [NO_LONGER_SOLD]
    fresh.refresh_from_db()
    assert fresh.product_id == serum.pk


def test_a_breakdown_share_for_a_deactivated_product_is_refused(
    world, client_for, plan_2026, products
):
    serum, old = products
    parent = TargetFactory(plan=plan_2026, value=Decimal("1000.00"))
    response = client_for(world.admin).post(
        f"{P}targets/{parent.pk}/breakdown/",
        {
            "dimension": "product",
            "method": "manual",
            "allocations": [
                {"product": serum.pk, "value": "600.00"},
                {"product": old.pk, "value": "400.00"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.data["allocations"] == [f"Allocation 2: {NO_LONGER_SOLD}"]
    assert Target.objects.filter(parent=parent).count() == 0
