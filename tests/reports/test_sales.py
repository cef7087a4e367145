import datetime as dt
from decimal import Decimal

import pytest

from reports.models import SalesEntry, SalesSource
from tests.agents.factories import CustomerFactory, ProductFactory, RegionFactory
from tests.reports.factories import SalesEntryFactory

pytestmark = pytest.mark.django_db

SALES = "/api/v1/orgs/acme/sales/"


@pytest.fixture
def product(world):
    return ProductFactory(organization=world.org, cost=Decimal("12.50"))


def sale(world, product_, **overrides):
    return {
        "date": world.org.local_today().isoformat(),
        "product": product_.pk,
        "quantity": 4,
        "amount": "120.00",
        "collected": "60.00",
        **overrides,
    }


def test_an_agent_records_a_sale(client_for, world, product):
    response = client_for(world.agent).post(SALES, sale(world, product))
    assert response.status_code == 201, response.data
    assert response.data["member"] == world.agent.pk
    assert response.data["source"] == "api"
    assert response.data["profit"] == "70.00"  # 120 - 4 x 12.50
    assert response.data["amount"] == "120.00"
    entry = SalesEntry.objects.get()
    assert entry.region_id == world.agent.region_id
    assert entry.recorded_by_id == world.agent.pk


def test_profit_keeps_the_cost_at_the_time_of_sale(client_for, world, product):
    client_for(world.agent).post(SALES, sale(world, product))
    product.cost = Decimal("30.00")
    product.save()
    assert SalesEntry.objects.get().profit == Decimal("70.00")


def test_region_is_a_snapshot(client_for, world, product):
    client_for(world.agent).post(SALES, sale(world, product))
    north = RegionFactory(organization=world.org, name="North")
    world.agent.region = north
    world.agent.save()
    client_for(world.agent).post(SALES, sale(world, product))
    assert sorted(SalesEntry.objects.values_list("region__name", flat=True)) == ["East", "North"]
    response = client_for(world.admin).get(f"{SALES}?region={world.leader.region_id}")
    assert response.data["count"] == 1


def test_a_leader_records_for_the_subtree_an_agent_only_for_themselves(client_for, world, product):
    response = client_for(world.leader).post(SALES, sale(world, product, member=world.sub_agent.pk))
    assert response.status_code == 201
    assert response.data["member"] == world.sub_agent.pk
    response = client_for(world.agent).post(SALES, sale(world, product, member=world.sub_agent.pk))
    assert response.status_code == 400
    assert "member" in response.data
    response = client_for(world.leader).post(
        SALES, sale(world, product, member=world.other_agent.pk)
    )
    assert response.status_code == 400
    assert SalesEntry.objects.count() == 1


@pytest.mark.parametrize(
    "field,overrides",
    [
        ("quantity", {"quantity": -1}),
        ("quantity", {"quantity": "x"}),
        ("amount", {"amount": "-0.01"}),
        ("amount", {"amount": "abc"}),
        ("collected", {"collected": "-1"}),
        ("date", {"date": "2999-01-01"}),
        ("date", {"date": "31/12/2025"}),
        ("product", {"product": 10**9}),
        ("product", "foreign_product"),
        ("customer", "other_branch_customer"),
        ("member", {"member": "me"}),
    ],
)
def test_bad_sales_are_400_and_write_nothing(client_for, world, product, field, overrides):
    if overrides == "foreign_product":
        overrides = {"product": ProductFactory(organization=world.rival).pk}
    elif overrides == "other_branch_customer":
        overrides = {
            "customer": CustomerFactory(organization=world.org, owner=world.other_agent).pk
        }
    response = client_for(world.agent).post(SALES, sale(world, product, **overrides))
    assert response.status_code == 400, response.data
    assert field in response.data
    assert SalesEntry.objects.count() == 0


def test_sale_list_scope_and_filters(client_for, world, product):
    today = world.org.local_today()
    mine = SalesEntryFactory(organization=world.org, member=world.agent, product=product)
    below = SalesEntryFactory(
        organization=world.org, member=world.sub_agent, date=today - dt.timedelta(days=3)
    )
    other = SalesEntryFactory(organization=world.org, member=world.other_agent)

    def ids(client, query=""):
        response = client.get(f"{SALES}?{query}")
        assert response.status_code == 200, response.data
        return {row["id"] for row in response.data["results"]}

    assert ids(client_for(world.agent)) == {mine.pk, below.pk}
    assert ids(client_for(world.other_leader)) == {other.pk}
    assert ids(client_for(world.owner)) == {mine.pk, below.pk, other.pk}
    admin = client_for(world.admin)
    assert ids(admin, f"product={product.pk}") == {mine.pk}
    assert ids(admin, f"subtree_of={world.agent.pk}") == {mine.pk, below.pk}
    assert ids(admin, f"date_before={today - dt.timedelta(days=1)}") == {below.pk}
    assert ids(admin, "source=report") == set()
    assert client_for(world.other_agent).get(f"{SALES}{mine.pk}/").status_code == 404


def test_sales_list_query_count_is_constant(client_for, world, product, query_counts):
    SalesEntryFactory.create_batch(100, organization=world.org, member=world.agent, product=product)
    counts = query_counts(client_for(world.leader), SALES)
    assert counts[0] == counts[1]


def test_sources_are_listed(client_for, world, product):
    SalesEntryFactory(organization=world.org, member=world.agent, source=SalesSource.IMPORT)
    response = client_for(world.agent).get(f"{SALES}?source=import")
    assert [row["source"] for row in response.data["results"]] == ["import"]
