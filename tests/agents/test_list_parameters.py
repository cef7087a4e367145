"""`?search=` and `?ordering=` of the list endpoints (agents/api/filtering.py): one term, known
fields, a 400 naming the parameter otherwise, in the request's language."""

import pytest

from tests.agents.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/orgs/acme/products/"
LISTS_WITH_SEARCH = [
    "/api/v1/orgs/acme/products/",
    "/api/v1/orgs/acme/members/",
    "/api/v1/orgs/acme/goals/",
    "/api/v1/orgs/acme/invitations/",
]


@pytest.fixture
def products(world):
    return [
        ProductFactory(organization=world.org, sku="S-1", name="Rose serum", price="90.00"),
        ProductFactory(organization=world.org, sku="S-2", name="Night cream", price="30.00"),
    ]


def test_one_search_term_filters(client_for, world, products):
    response = client_for(world.owner).get(PRODUCTS, {"search": "serum"})
    assert response.status_code == 200
    assert [row["sku"] for row in response.data["results"]] == ["S-1"]


@pytest.mark.parametrize("url", LISTS_WITH_SEARCH)
def test_a_repeated_search_is_a_400_naming_it(client_for, world, products, url):
    response = client_for(world.owner).get(f"{url}?search=serum&search=cream")
    assert response.status_code == 400, response.data
    assert list(response.data) == ["search"]


@pytest.mark.parametrize("url", LISTS_WITH_SEARCH)
def test_a_search_with_a_null_character_is_a_400_naming_it(client_for, world, url):
    response = client_for(world.owner).get(f"{url}?search=se%00rum")
    assert response.status_code == 400, response.data
    assert list(response.data) == ["search"]


@pytest.mark.parametrize(
    "url, query, parameter",
    [
        (PRODUCTS, "category=skincare&category=hair", "category"),
        (PRODUCTS, "is_active=true&is_active=false", "is_active"),
        (
            "/api/v1/orgs/acme/daily-reports/",
            "date_after=2026-03-01&date_after=2026-03-09",
            "date_after",
        ),
        ("/api/v1/orgs/acme/members/", "role=agent&role=leader", "role"),
    ],
)
def test_a_one_value_filter_given_twice_is_a_400_naming_it(
    client_for, world, url, query, parameter
):
    response = client_for(world.owner).get(f"{url}?{query}")
    assert response.status_code == 400, response.data
    assert list(response.data) == [parameter]


def test_filters_given_once_filter(client_for, world, products):
    client = client_for(world.owner)
    response = client.get(PRODUCTS, {"category": "skincare", "is_active": "true"})
    assert response.status_code == 200
    assert sorted(row["sku"] for row in response.data["results"]) == ["S-1", "S-2"]
    response = client.get("/api/v1/orgs/acme/daily-reports/", {"date_after": "2026-03-01"})
    assert response.status_code == 200


def test_ordering_by_an_offered_field(client_for, world, products):
    response = client_for(world.owner).get(PRODUCTS, {"ordering": "-price"})
    assert response.status_code == 200
    assert [row["sku"] for row in response.data["results"]] == ["S-1", "S-2"]
    response = client_for(world.owner).get(PRODUCTS, {"ordering": "price"})
    assert [row["sku"] for row in response.data["results"]] == ["S-2", "S-1"]


@pytest.mark.parametrize(
    "query",
    ["ordering=cost", "ordering=price,", "ordering=price&ordering=name", "ordering=organization"],
)
def test_an_unknown_or_repeated_ordering_is_a_400_naming_it(client_for, world, products, query):
    response = client_for(world.owner).get(f"{PRODUCTS}?{query}")
    assert response.status_code == 400, response.data
    assert list(response.data) == ["ordering"]


def test_the_messages_follow_the_request_language(client_for, world):
    client = client_for(world.owner)
    chinese = client.get(f"{PRODUCTS}?search=a&search=b", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get(f"{PRODUCTS}?search=a&search=b", HTTP_ACCEPT_LANGUAGE="en")
    assert english.data["search"] == ["Give one search term."]
    assert chinese.data["search"] != english.data["search"]
    assert chinese.data["search"][0].isascii() is False
    english = client.get(f"{PRODUCTS}?category=a&category=b", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(f"{PRODUCTS}?category=a&category=b", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert english.data["category"] == ["Give one value."]
    assert chinese.data["category"][0].isascii() is False
