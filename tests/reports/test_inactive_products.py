"""A deactivated product is no longer sold: new report lines, sales entries (API and import) and
feedback refuse it with a 400 on the product; what already names it keeps working."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import DailyReport, MarketFeedback, SalesEntry
from tests.agents.factories import ProductFactory
from tests.reports.factories import MarketFeedbackFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"
DAY = dt.date(2026, 3, 10)
NO_LONGER_SOLD = "This product is no longer sold."


@pytest.fixture
def products(world):
    return (
        ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00")),
        ProductFactory(organization=world.org, sku="OLD", cost=Decimal("5.00"), is_active=False),
    )


def line(product, quantity=1, amount="100.00"):
    return {"product": product.pk, "quantity": quantity, "amount": amount}


def put_report(client, lines):
    return client.put(
        f"{P}me/daily-reports/{DAY.isoformat()}/", {"followups": 1, "lines": lines}, format="json"
    )


def test_a_new_report_line_with_a_deactivated_product_is_refused(
    client_for, world, products, clock
):
    clock.set("2026-03-10 20:00")
    serum, old = products
    response = put_report(client_for(world.agent), [line(serum), line(old)])
    assert response.status_code == 400
    assert response.data["lines"][0] == {}
    assert response.data["lines"][1]["product"] == [NO_LONGER_SOLD]
    assert not DailyReport.objects.exists() and not SalesEntry.objects.exists()


def test_a_report_keeps_its_line_of_a_product_deactivated_since(client_for, world, products, clock):
    clock.set("2026-03-10 20:00")
    serum, old = products
    client = client_for(world.agent)
    old.is_active = True
    old.save()
    assert put_report(client, [line(serum), line(old)]).status_code == 201
    old.is_active = False
    old.save()
    # Editing the report: the line with the deactivated product may stay...
    response = put_report(client, [line(serum, amount="120.00"), line(old, amount="90.00")])
    assert response.status_code == 200, response.data
    assert sorted(row["amount"] for row in response.data["lines"]) == ["120.00", "90.00"]
    # ...but another deactivated product cannot be added.
    other_old = ProductFactory(organization=world.org, sku="OLDER", is_active=False)
    response = put_report(client, [line(serum), line(old), line(other_old)])
    assert response.status_code == 400
    assert response.data["lines"][2]["product"] == [NO_LONGER_SOLD]
    assert sorted(SalesEntry.objects.values_list("amount", flat=True)) == [
        Decimal("90.00"),
        Decimal("120.00"),
    ]
    # Dropped once, it cannot come back.
    assert put_report(client, [line(serum)]).status_code == 200
    response = put_report(client, [line(serum), line(old)])
    assert response.status_code == 400
    assert response.data["lines"][1]["product"] == [NO_LONGER_SOLD]


def test_a_sales_entry_with_a_deactivated_product_is_refused(client_for, world, products):
    serum, old = products
    body = {"date": world.org.local_today().isoformat(), "quantity": 1, "amount": "50.00"}
    client = client_for(world.agent)
    response = client.post(f"{P}sales/", {**body, "product": old.pk})
    assert response.status_code == 400
    assert response.data["product"] == [NO_LONGER_SOLD]
    assert not SalesEntry.objects.exists()
    assert client.post(f"{P}sales/", {**body, "product": serum.pk}).status_code == 201


def test_an_import_row_with_a_deactivated_product_is_refused(client_for, world, products):
    today = world.org.local_today().isoformat()
    text = (
        "date,member,product,quantity,amount\n"
        f"{today},{world.agent.user.username},SERUM,1,100\n"
        f"{today},{world.agent.user.username},OLD,1,100\n"
    )
    file = SimpleUploadedFile("sales.csv", text.encode(), "text/csv")
    response = client_for(world.admin).post(f"{P}sales/import/", {"file": file}, format="multipart")
    assert response.status_code == 400
    assert response.data["errors"] == [{"row": 3, "field": "product", "message": NO_LONGER_SOLD}]
    assert not SalesEntry.objects.exists()


def test_feedback_refuses_a_deactivated_product_but_keeps_one_it_names(client_for, world, products):
    serum, old = products
    client = client_for(world.agent)
    body = {"category": "product_issue", "title": "Leaks", "body": "The cap leaks."}
    response = client.post(f"{P}feedback/", {**body, "product": old.pk})
    assert response.status_code == 400
    assert response.data["product"] == [NO_LONGER_SOLD]
    assert not MarketFeedback.objects.exists()

    filed = MarketFeedbackFactory(organization=world.org, author=world.agent, product=old)
    url = f"{P}feedback/{filed.pk}/"
    response = client.patch(url, {"title": "Leaks again", "product": old.pk})
    assert response.status_code == 200, response.data
    other_old = ProductFactory(organization=world.org, is_active=False)
    response = client.patch(url, {"product": other_old.pk})
    assert response.status_code == 400
    assert response.data["product"] == [NO_LONGER_SOLD]
    filed.refresh_from_db()
    assert filed.product_id == old.pk and filed.title == "Leaks again"
    assert client.patch(url, {"product": serum.pk}).status_code == 200


def test_products_filter_by_is_active(client_for, world, products):
    response = client_for(world.agent).get(f"{P}products/?is_active=false")
    assert response.status_code == 200
    assert [row["sku"] for row in response.data["results"]] == ["OLD"]
    response = client_for(world.agent).get(f"{P}products/?is_active=true")
    assert [row["sku"] for row in response.data["results"]] == ["SERUM"]
