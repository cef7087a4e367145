"""A JSON number where the contract wants text is a 400 naming the field, not a silent "12"."""

import pytest

from agents.models import AgentLevel, Product

pytestmark = pytest.mark.django_db


def test_a_number_for_a_text_field_is_refused_and_nothing_is_written(world, client_for):
    client = client_for(world.admin)
    url = "/api/v1/orgs/acme/levels/"

    response = client.post(url, {"name": "Gold", "rank": 3, "description": 12}, format="json")

    assert response.status_code == 400
    assert response.json() == {"description": ["Not a valid string."]}
    assert not AgentLevel.objects.filter(organization=world.org, name="Gold").exists()


def test_numbers_in_several_text_fields_are_each_named(world, client_for):
    client = client_for(world.admin)
    body = {"sku": 1001, "name": 3.5, "price": "10.00", "cost": "5.00"}

    response = client.post("/api/v1/orgs/acme/products/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"sku", "name"}
    assert not Product.objects.filter(organization=world.org).exists()


def test_text_that_looks_like_a_number_is_still_text(world, client_for):
    client = client_for(world.admin)

    response = client.post(
        "/api/v1/orgs/acme/levels/", {"name": "7", "rank": 7, "description": "12"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "7"
