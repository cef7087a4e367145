"""Data safety (issue 8): deleting a member, product, customer, region or level never deletes
facts. Every foreign key to them is PROTECT (derived from the models, so a new one is checked);
the API answers such a delete with 409 naming what still uses the object (products: deactivate
instead), and the admin's delete page lists the protected objects instead of deleting."""

from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse

from agents.models import AgentLevel, Customer, Membership, Product, Region, User
from reports.models import Activity, SalesEntry
from tests.agents.factories import (
    AgentLevelFactory,
    CustomerFactory,
    ProductFactory,
    RegionFactory,
    UserFactory,
)
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import ActivityFactory, MarketFeedbackFactory, SalesEntryFactory

P = "/api/v1/orgs/acme/"
REFERENCED = (Membership, Product, Customer, Region, AgentLevel, User)
# The project's own apps (those in this checkout), whatever apps are added later.
LOCAL_APPS = tuple(
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).resolve().is_relative_to(Path(__file__).resolve().parent.parent)
    and "site-packages" not in config.path
)
# Foreign keys to those models that are allowed not to PROTECT, and why.
NOT_PROTECTED = {
    # The inbox is the member's own mailbox, not a fact about the business.
    ("notifications.Notification", "recipient"): models.CASCADE,
    # The audit entry keeps the actor's name in `actor_display`; the row survives.
    ("agents.AuditEntry", "actor"): models.SET_NULL,
    # An invitation is an offer, not a business fact; who sent and who accepted it stay in the
    # audit trail (invitation.create / invitation.accept), which keeps the names.
    ("agents.Invitation", "invited_by"): models.SET_NULL,
    ("agents.Invitation", "accepted_by"): models.SET_NULL,
}


def _foreign_keys():
    for model in apps.get_models():
        if model._meta.app_label not in LOCAL_APPS:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model in REFERENCED:
                yield model._meta.label, field.name, field.remote_field.on_delete


def test_every_reference_to_members_products_customers_regions_and_levels_protects():
    found = list(_foreign_keys())
    assert len(found) > 30
    unsafe = {
        (label, name): on_delete.__name__
        for label, name, on_delete in found
        if on_delete is not models.PROTECT and NOT_PROTECTED.get((label, name)) is not on_delete
    }
    assert unsafe == {}, "facts must survive: use on_delete=PROTECT (the API answers 409)"


# --- through the API: 409, the facts and the object stay ---------------------------------------


@pytest.mark.django_db
def test_deleting_a_product_with_sales_is_a_409_and_keeps_everything(client_for, world):
    product = ProductFactory(organization=world.org)
    sale = SalesEntryFactory(organization=world.org, member=world.agent, product=product)
    MarketFeedbackFactory(organization=world.org, author=world.agent, product=product)
    response = client_for(world.admin).delete(f"{P}products/{product.pk}/")
    assert response.status_code == 409, response.content
    body = response.json()
    assert "deactivate" in body["detail"]
    assert sum(body["protected"].values()) == 2
    assert Product.objects.filter(pk=product.pk).exists()
    assert SalesEntry.objects.filter(pk=sale.pk).exists()


@pytest.mark.django_db
def test_a_product_is_deactivated_instead_and_its_history_stays(client_for, world):
    product = ProductFactory(organization=world.org)
    SalesEntryFactory(organization=world.org, member=world.agent, product=product)
    client = client_for(world.admin)
    response = client.patch(f"{P}products/{product.pk}/", {"is_active": False})
    assert response.status_code == 200, response.content
    active = client.get(f"{P}products/", {"is_active": "true"}).json()["results"]
    assert product.pk not in {row["id"] for row in active}
    sales = client.get(f"{P}sales/").json()["results"]
    assert [row["product"] for row in sales] == [product.pk]


@pytest.mark.django_db
def test_an_unused_product_can_still_be_deleted(client_for, world):
    product = ProductFactory(organization=world.org)
    response = client_for(world.admin).delete(f"{P}products/{product.pk}/")
    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fact", ["sale", "activity", "target"])
def test_deleting_a_customer_with_facts_is_a_409(fact, client_for, world):
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    if fact == "sale":
        SalesEntryFactory(
            organization=world.org,
            member=world.agent,
            customer=customer,
            product=ProductFactory(organization=world.org),
        )
    elif fact == "activity":
        ActivityFactory(organization=world.org, member=world.agent, customer=customer)
    else:
        TargetFactory(plan=SalesPlanFactory(organization=world.org), customer=customer)
    response = client_for(world.admin).delete(f"{P}customers/{customer.pk}/")
    assert response.status_code == 409, response.content
    assert response.json()["protected"]
    assert "deactivate" not in response.json()["detail"]
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_deleting_a_region_or_level_in_use_is_a_409(client_for, world):
    client = client_for(world.admin)
    region = RegionFactory(organization=world.org)
    CustomerFactory(organization=world.org, region=region)
    assert client.delete(f"{P}regions/{region.pk}/").status_code == 409
    level = AgentLevelFactory(organization=world.org)
    world.agent.level = level
    world.agent.save(update_fields=["level"])
    assert client.delete(f"{P}levels/{level.pk}/").status_code == 409
    assert Region.objects.filter(pk=region.pk).exists()
    assert AgentLevel.objects.filter(pk=level.pk).exists()


@pytest.mark.django_db
def test_members_cannot_be_deleted_through_the_api_they_leave(client_for, world):
    """No DELETE on members: a member who goes is set to status `left`; their facts stay."""
    ActivityFactory(organization=world.org, member=world.agent)
    client = client_for(world.admin)
    assert client.delete(f"{P}members/{world.agent.pk}/").status_code in (403, 405)
    assert Membership.objects.filter(pk=world.agent.pk).exists()
    left = client.patch(f"{P}members/{world.agent.pk}/", {"status": "left"})
    assert left.status_code == 200, left.content
    assert Activity.objects.filter(member=world.agent).count() == 1


# --- the admin -------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["product", "customer", "member"])
def test_the_admin_lists_the_protected_facts_and_deletes_nothing(kind, superuser_client, world):
    product = ProductFactory(organization=world.org)
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    sale = SalesEntryFactory(
        organization=world.org, member=world.agent, product=product, customer=customer
    )
    obj = {"product": product, "customer": customer, "member": world.agent}[kind]
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200
    text = page.content.decode().lower()
    # Django's "Cannot delete": the protected facts, or the fact types no one may delete.
    assert "cannot delete" in text
    assert "sales entr" in text
    superuser_client.post(url, {"post": "yes"})
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert SalesEntry.objects.filter(pk=sale.pk).exists()
