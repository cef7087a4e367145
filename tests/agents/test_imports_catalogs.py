"""Products and customers from a spreadsheet: POST P/products/import/, P/customers/import/."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Customer, Product
from tests.agents.factories import (
    CustomerFactory,
    MembershipFactory,
    ProductFactory,
    RegionFactory,
)
from tests.agents.upload_files import csv_file, xlsx_file

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/orgs/acme/products/import/"
CUSTOMERS = "/api/v1/orgs/acme/customers/import/"


def post(client, url, file, **form):
    return client.post(url, {"file": file, **form}, format="multipart")


# --- Products -----------------------------------------------------------------------------------


def test_products_upsert_by_sku(client_for, world):
    ProductFactory(organization=world.org, sku="SERUM", name="Serum", price=Decimal("99.00"))
    ProductFactory(organization=world.rival, sku="MASK", name="Rival mask")
    text = (
        "SKU,Name,Category,Price,Cost,Hero,Active\n"
        "serum,,,129.00,,yes,\n"  # an update: only the given cells change
        'MASK,Sheet mask,masks,"1,000.50",3.5,no,1\n'
    )
    client = client_for(world.admin)
    preview = post(client, PRODUCTS, csv_file(text), dry_run="true").json()
    assert [(row["key"], row["action"]) for row in preview["rows"]] == [
        ("serum", "update"),
        ("MASK", "create"),
    ]
    assert Product.objects.filter(organization=world.org).count() == 1
    response = post(client, PRODUCTS, csv_file(text))
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 1, "updated": 1}
    serum = Product.objects.get(organization=world.org, sku="SERUM")
    assert (serum.name, serum.price, serum.is_hero) == ("Serum", Decimal("129.00"), True)
    mask = Product.objects.get(organization=world.org, sku="MASK")
    assert (mask.price, mask.cost, mask.category) == (Decimal("1000.50"), Decimal("3.50"), "masks")
    # the rival's product is untouched
    assert Product.objects.get(organization=world.rival, sku="MASK").name == "Rival mask"


def test_a_dry_run_previews_the_first_thousand_rows_and_counts_them_all(client_for, world):
    text = "SKU,Name\n" + "".join(f"P{n:05},Product {n}\n" for n in range(1, 1202))
    preview = post(client_for(world.admin), PRODUCTS, csv_file(text), dry_run="true")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert (body["created"], body["updated"], body["rows_total"]) == (1201, 0, 1201)
    assert len(body["rows"]) == 1000
    assert (body["rows"][0]["key"], body["rows"][-1]["key"]) == ("P00001", "P01000")
    assert not Product.objects.filter(organization=world.org).exists()


def test_products_xlsx_chinese_headers(client_for, world):
    rows = [["产品编码", "产品名称", "价格", "爆品"], ["TEA-1", "绿茶", 58, "是"]]
    response = post(client_for(world.owner), PRODUCTS, xlsx_file(rows))
    assert response.status_code == 201, response.json()
    tea = Product.objects.get(organization=world.org, sku="TEA-1")
    assert (tea.name, tea.price, tea.is_hero) == ("绿茶", Decimal("58.00"), True)


def test_products_bad_rows_write_nothing(client_for, world):
    text = "sku,name,price,hero\nOK,Fine,1,no\nNEW,,abc,maybe\nOK,Again,1,\n,Nameless,1,\n"
    response = post(client_for(world.admin), PRODUCTS, csv_file(text))
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (3, "name"),
        (3, "price"),
        (3, "is_hero"),
        (4, "sku"),
        (5, "sku"),
    }
    assert not Product.objects.filter(organization=world.org).exists()


def test_products_import_is_for_managers(client_for, world):
    for persona, expected in (("leader", 403), ("agent", 403), ("outsider", 404)):
        response = post(client_for(getattr(world, persona)), PRODUCTS, csv_file("sku,name\nX,Y\n"))
        assert response.status_code == expected


def test_products_query_count_is_constant(client_for, world):
    client = client_for(world.admin)

    def file(count, offset):
        lines = ["sku,name,price"] + [
            f"P{n},Product {n},9.90" for n in range(offset, offset + count)
        ]
        return csv_file("\n".join(lines))

    with CaptureQueriesContext(connection) as small:
        post(client, PRODUCTS, file(3, 0))
    with CaptureQueriesContext(connection) as large:
        post(client, PRODUCTS, file(500, 100))
    assert len(large) <= len(small) + 6
    assert Product.objects.filter(organization=world.org).count() == 503


# --- Customers ----------------------------------------------------------------------------------


def test_customers_create_and_update_by_name_and_owner_or_id(client_for, world):
    li = CustomerFactory(organization=world.org, name="Ms Li", owner=world.agent)
    other = CustomerFactory(organization=world.org, name="Ms Li", owner=world.other_agent)
    text = (
        "id,name,owner,kind,region,status,first order on,lost on,lost reason\n"
        ",ms li,A-001,dealer,East,active,2026-01-05,,\n"  # matches by name + owner
        f"{other.pk},Ms Li (West),,,,lost,,2026-03-01,moved away\n"  # by id
        ",Mr Zhao,A-001,retailer,,prospect,,,\n"  # new
    )
    response = post(client_for(world.admin), CUSTOMERS, csv_file(text))
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 1, "updated": 2}
    li.refresh_from_db()
    other.refresh_from_db()
    assert (li.kind, li.status, li.region.name) == ("dealer", "active", "East")
    assert (other.name, other.status, other.lost_reason) == ("Ms Li (West)", "lost", "moved away")
    assert other.owner == world.other_agent
    assert Customer.objects.get(organization=world.org, name="Mr Zhao").owner == world.agent


def test_customers_leader_only_in_subtree(client_for, world):
    world.other_agent.code = "B-9"
    world.other_agent.save()
    outside = CustomerFactory(organization=world.org, name="Far away", owner=world.other_agent)
    text = f"id,name,owner\n,Near,A-001\n,Theirs,B-9\n{outside.pk},Renamed,A-001\n,No owner,\n"
    response = post(client_for(world.leader), CUSTOMERS, csv_file(text))
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (3, "owner"),
        (4, "id"),
        (5, "owner"),
    }
    assert not Customer.objects.filter(organization=world.org, name="Near").exists()
    response = post(client_for(world.leader), CUSTOMERS, csv_file("name,owner\nNear,A-001\n"))
    assert response.status_code == 201
    assert post(client_for(world.agent), CUSTOMERS, csv_file("name\nX\n")).status_code == 403


def test_customers_other_organization_is_unknown(client_for, world):
    rival_member = MembershipFactory(organization=world.rival, code="R-1")
    rival_customer = CustomerFactory(organization=world.rival, name="Rival", owner=rival_member)
    RegionFactory(organization=world.rival, name="North")
    text = f"id,name,owner,region\n,A,R-1,\n{rival_customer.pk},B,,\n,C,,North\n"
    response = post(client_for(world.admin), CUSTOMERS, csv_file(text))
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (2, "owner"),
        (3, "id"),
        (4, "region"),
    }
    rival_customer.refresh_from_db()
    assert rival_customer.name == "Rival"


def test_customers_lost_before_first_order_is_refused(client_for, world):
    text = "name,status,first order on,lost on\nX,lost,2026-05-01,2026-04-01\n"
    response = post(client_for(world.admin), CUSTOMERS, csv_file(text))
    assert response.json()["errors"][0]["field"] == "lost_on"
