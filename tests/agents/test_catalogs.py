import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Customer, Product, Region
from tests.agents.factories import CustomerFactory, ProductFactory, RegionFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"


def test_page_size_is_capped_at_200(client_for, world):
    Product.objects.bulk_create(
        [Product(organization=world.org, sku=f"S{i:04d}", name=f"P{i}") for i in range(230)]
    )
    response = client_for(world.agent).get(f"{P}products/?page_size=1000")
    assert response.status_code == 200
    assert response.data["count"] == 230
    assert len(response.data["results"]) == 200
    assert response.data["next"] is not None
    default = client_for(world.agent).get(f"{P}products/")
    assert len(default.data["results"]) == 50


def test_product_money_is_a_two_place_string_and_negative_is_400(client_for, world):
    client = client_for(world.admin)
    created = client.post(
        f"{P}products/", {"sku": "H-1", "name": "面霜", "price": "128", "cost": "40.5"}
    )
    assert created.status_code == 201
    assert (created.data["price"], created.data["cost"]) == ("128.00", "40.50")
    bad = client.post(f"{P}products/", {"sku": "H-2", "name": "x", "price": "-1"})
    assert bad.status_code == 400 and "price" in bad.data
    duplicate = client.post(f"{P}products/", {"sku": "H-1", "name": "again"})
    assert duplicate.status_code == 400 and "sku" in duplicate.data
    assert Product.objects.filter(organization=world.org).count() == 1


def test_the_same_sku_in_another_organization_is_fine(client_for, world):
    ProductFactory(organization=world.rival, sku="H-1")
    response = client_for(world.admin).post(f"{P}products/", {"sku": "H-1", "name": "ok"})
    assert response.status_code == 201


def test_region_tree_moves_and_refuses_cycles(client_for, world):
    client = client_for(world.admin)
    east = Region.objects.get(organization=world.org, name="East")
    shanghai = client.post(f"{P}regions/", {"name": "上海", "parent": east.pk}).data
    pudong = client.post(f"{P}regions/", {"name": "浦东", "parent": shanghai["id"]}).data
    assert pudong["depth"] == 2
    cycle = client.patch(f"{P}regions/{east.pk}/", {"parent": pudong["id"]})
    assert cycle.status_code == 400 and "parent" in cycle.data
    moved = client.patch(f"{P}regions/{shanghai['id']}/", {"parent": None})
    assert moved.status_code == 200
    assert Region.objects.get(pk=pudong["id"]).path == f"/{shanghai['id']}/{pudong['id']}/"
    duplicate = client.post(f"{P}regions/", {"name": "上海"})
    assert duplicate.status_code == 400 and "name" in duplicate.data


def test_a_region_in_use_cannot_be_deleted(client_for, world):
    east = Region.objects.get(organization=world.org, name="East")
    response = client_for(world.admin).delete(f"{P}regions/{east.pk}/")
    assert response.status_code == 409
    assert Region.objects.filter(pk=east.pk).exists()


def test_agent_files_customers_as_their_own(client_for, world):
    client = client_for(world.agent)
    response = client.post(f"{P}customers/", {"name": "王女士", "kind": "dealer"})
    assert response.status_code == 201
    assert response.data["owner"] == world.agent.pk
    stolen = client.post(f"{P}customers/", {"name": "x", "owner": world.sub_agent.pk})
    assert stolen.status_code == 400 and "owner" in stolen.data


def test_leader_assigns_customers_inside_the_subtree_only(client_for, world):
    client = client_for(world.leader)
    ok = client.post(f"{P}customers/", {"name": "a", "owner": world.sub_agent.pk})
    assert ok.status_code == 201
    outside = client.post(f"{P}customers/", {"name": "b", "owner": world.other_agent.pk})
    assert outside.status_code == 400 and "owner" in outside.data


def test_agent_cannot_change_a_downline_customer_but_sees_it(client_for, world):
    customer = CustomerFactory(organization=world.org, owner=world.sub_agent)
    client = client_for(world.agent)
    assert client.get(f"{P}customers/{customer.pk}/").status_code == 200
    assert client.patch(f"{P}customers/{customer.pk}/", {"name": "x"}).status_code == 403


def test_losing_a_customer_dates_it_today(client_for, world):
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    response = client_for(world.agent).patch(
        f"{P}customers/{customer.pk}/", {"status": "lost", "lost_reason": "moved away"}
    )
    assert response.status_code == 200
    assert response.data["lost_on"] == world.org.local_today().isoformat()


def test_foreign_region_on_a_customer_is_400_and_nothing_written(client_for, world):
    foreign = RegionFactory(organization=world.rival)
    response = client_for(world.agent).post(f"{P}customers/", {"name": "x", "region": foreign.pk})
    assert response.status_code == 400 and "region" in response.data
    assert not Customer.objects.filter(name="x").exists()


@pytest.mark.parametrize("resource", ["customers", "products", "regions", "members"])
def test_list_query_count_is_the_same_at_page_size_10_and_100(client_for, world, resource):
    Product.objects.bulk_create(
        [Product(organization=world.org, sku=f"Q{i:04d}", name=f"P{i}") for i in range(120)]
    )
    for i in range(110):
        CustomerFactory(organization=world.org, owner=world.agent)
    for i in range(20):
        RegionFactory(organization=world.org)
    client = client_for(world.admin)
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{P}{resource}/?page_size={size}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_settings_roundtrip_and_validation(client_for, world):
    client = client_for(world.owner)
    response = client.patch(
        f"{P}settings/",
        {
            "timezone": "America/New_York",
            "workdays": [6, 1, 2, 3, 4, 5],
            "report_cutoff": "22:30",
            "webhook_url": "https://robot.example.com/hook",
            "webhook_secret": "s3cret",
        },
    )
    assert response.status_code == 200, response.data
    assert response.data["workdays"] == [1, 2, 3, 4, 5, 6]
    assert response.data["report_cutoff"] == "22:30:00"
    assert response.data["has_webhook_secret"] is True
    assert "webhook_secret" not in response.data
    for body, field in [
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"workdays": [0, 8]}, "workdays"),
        ({"workdays": [1, 1]}, "workdays"),
        ({"currency": "rmb"}, "currency"),
        ({"report_cutoff": "25:00"}, "report_cutoff"),
        ({"webhook_url": "not a url"}, "webhook_url"),
    ]:
        bad = client.patch(f"{P}settings/", body)
        assert bad.status_code == 400, body
        assert field in bad.data
    world.org.refresh_from_db()
    assert world.org.timezone == "America/New_York"


def test_calendar_day_api(client_for, world):
    client = client_for(world.admin)
    prefill = client.post(f"{P}calendar-days/prefill/", {"year": 2026})
    assert prefill.status_code == 200 and prefill.data["created"] > 0
    again = client.post(f"{P}calendar-days/prefill/", {"year": 2026})
    assert again.data["created"] == 0
    listed = client_for(world.agent).get(
        f"{P}calendar-days/?date__gte=2026-10-01&date__lte=2026-10-10"
    )
    dates = {row["date"]: row["is_workday"] for row in listed.data["results"]}
    assert dates["2026-10-01"] is False and dates["2026-10-10"] is True
    duplicate = client.post(f"{P}calendar-days/", {"date": "2026-10-01", "is_workday": True})
    assert duplicate.status_code == 400 and "date" in duplicate.data


def test_error_messages_follow_accept_language(client_for, world):
    client = client_for(world.owner)
    english = client.patch(f"{P}settings/", {"timezone": "Nowhere/City"}, HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.patch(
        f"{P}settings/", {"timezone": "Nowhere/City"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert english.data["timezone"] == ["Unknown time zone: Nowhere/City"]
    assert chinese.data["timezone"] == ["未知的时区：Nowhere/City"]


def test_a_body_over_the_limit_is_a_json_413_and_writes_nothing(client_for, world):
    body = {"sku": "BIG", "name": "x" * (3 * 1024 * 1024)}
    response = client_for(world.admin).post(f"{P}products/", body)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert not Product.objects.filter(sku="BIG").exists()
