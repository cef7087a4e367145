"""Abuse limits (issue 8): throttles per address and per user name that a forged
X-Forwarded-For cannot reset, body size limits on every JSON write, and a capped page size on
every list of the API. The lists and writes are derived from the OpenAPI schema, so a new
endpoint is covered (or fails here) without editing this file."""

import json

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIClient, APIRequestFactory

from agents.api.throttling import AuthRateThrottle, AuthUsernameRateThrottle
from tests.agents.factories import UserFactory
from tests.conftest import throttle_counters_forget

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
GOOD = "pass-word-123"
MAX_PAGE_SIZE = 200  # ../shared/API.md, "Lists"

# GET operations that answer a bare JSON array, without pagination, and why that is bounded.
UNPAGINATED_ARRAYS = {
    # the caller's own organizations: one row per membership of the caller
    "/api/v1/orgs/",
    # one row per region or team of a cycle: bounded by the organization's structure
    "/api/v1/orgs/{org_slug}/appraisal-cycles/{id}/rollup/",
    # one row per member/region/product of a plan's targets, aggregated in SQL (plans/)
    "/api/v1/orgs/{org_slug}/attainment/",
}


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _schema()


def _operations(*methods):
    for path, item in sorted(SCHEMA["paths"].items()):
        for method, operation in item.items():
            if method in methods:
                yield path, method, operation


def _concrete(path: str) -> str:
    return path.replace("{org_slug}", "acme").replace("{id}", "1").replace("{date}", "2024-01-02")


@pytest.fixture(autouse=True)
def fresh_cache():
    throttle_counters_forget()
    yield
    throttle_counters_forget()


@pytest.fixture
def proxies(settings):
    """proxies(n): trust n reverse proxies (NUM_PROXIES), as the environment variable does."""

    def set_to(count: int):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}
        api_settings.reload()

    yield set_to
    api_settings.reload()


def login(username, password="wrong-password", ip="10.0.0.1", **extra):
    client = APIClient(REMOTE_ADDR=ip, **extra)
    return client.post(TOKEN, {"username": username, "password": password})


# --- throttles ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_reset_the_per_address_throttle(monkeypatch, proxies):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    proxies(0)
    answers = [
        login(f"user{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)
    ]
    assert answers == [401, 401, 401, 429]
    refresh = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1").post(
        REFRESH, {"refresh": "x"}
    )
    assert refresh.status_code == 429  # the refresh endpoint shares the address's budget


@pytest.mark.django_db
def test_behind_one_proxy_only_the_proxy_entry_counts(monkeypatch, proxies):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    proxies(1)
    # The client prepends whatever it likes; our proxy appends the address it saw.
    answers = [
        login("x", ip="10.9.9.9", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 192.0.2.5").status_code
        for n in range(4)
    ]
    assert answers == [401, 401, 401, 429]
    # Another real client behind the same proxy has its own budget.
    assert login("x", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.6").status_code == 401


@pytest.mark.django_db
def test_the_token_endpoint_is_throttled_per_user_name_from_any_address(monkeypatch):
    UserFactory(username="victim")
    UserFactory(username="bystander")
    monkeypatch.setattr(AuthUsernameRateThrottle, "THROTTLE_RATES", {"auth_user": "3/min"})
    answers = [login("victim", ip=f"10.1.0.{n}").status_code for n in range(3)]
    assert answers == [401, 401, 401]
    # A fourth address, a different spelling, and even the right password: the account waits.
    blocked = login("VICTIM", password=GOOD, ip="10.1.0.99")
    assert blocked.status_code == 429
    assert blocked.json()["detail"]
    assert int(blocked["Retry-After"]) > 0
    # Other accounts are not affected.
    assert login("bystander", password=GOOD, ip="10.1.0.99").status_code == 200


@pytest.mark.django_db
def test_the_per_user_name_throttle_ignores_bodies_without_a_user_name(monkeypatch):
    monkeypatch.setattr(AuthUsernameRateThrottle, "THROTTLE_RATES", {"auth_user": "1/min"})
    client = APIClient(REMOTE_ADDR="10.0.0.3")
    for body in ({}, {"username": ["a", "b"]}, {"username": ""}):
        response = client.post(TOKEN, body)
        assert response.status_code == 400, response.content
    garbled = client.post(TOKEN, "{not json", content_type="application/json")
    assert garbled.status_code == 400


@pytest.mark.django_db
def test_axes_lockout_survives_rotating_x_forwarded_for(settings, proxies):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    proxies(0)
    for n in range(3):
        login("victim", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    locked = login("victim", password=GOOD, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert locked.status_code == 429
    assert "locked" in locked.json()["detail"]


def test_the_cache_is_shared_between_processes_in_every_run_mode():
    """The throttles' counters live in the `default` cache: Redis when REDIS_URL is set, files
    in var/cache otherwise. A local-memory cache would give each gunicorn worker its own count."""
    import importlib
    import os
    from unittest import mock

    import config.settings.base as base

    try:
        with mock.patch.dict(os.environ, {"REDIS_URL": ""}):
            embedded = importlib.reload(base).CACHES["default"]
        with mock.patch.dict(os.environ, {"REDIS_URL": "redis://cache.example:6379/3"}):
            production = importlib.reload(base).CACHES["default"]
    finally:
        importlib.reload(base)
    assert embedded["BACKEND"].endswith("FileBasedCache")
    assert embedded["LOCATION"].endswith("cache")
    assert production["BACKEND"].endswith("RedisCache")
    assert production["LOCATION"] == "redis://cache.example:6379/3"


# --- body size ------------------------------------------------------------------------------

JSON_WRITES = [
    (path, method)
    for path, method, operation in _operations("post", "put", "patch")
    if "application/json" in operation.get("requestBody", {}).get("content", {})
    and "{id}" not in path  # an unknown id or token is a 404 before the body is read
    and "{token}" not in path
]


def test_the_body_limit_sweep_finds_the_writes():
    assert len(JSON_WRITES) >= 15


@pytest.mark.django_db
@pytest.mark.parametrize("path, method", JSON_WRITES, ids=lambda v: str(v))
def test_a_body_over_the_limit_is_a_json_413_everywhere(path, method, client_for, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    client = client_for(world.admin)
    body = json.dumps({"name": "x" * 8192, "username": "y" * 8192})
    response = getattr(client, method)(_concrete(path), body, content_type="application/json")
    assert response.status_code == 413, (path, response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


# --- page size ------------------------------------------------------------------------------

LIST_GETS = [
    path
    for path, _method, operation in _operations("get")
    if any(parameter["name"] == "page_size" for parameter in operation.get("parameters", []))
]


def _answers_a_bare_array(operation) -> bool:
    content = operation["responses"].get("200", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {}).get("type") == "array"


def test_every_get_returning_many_rows_is_paginated():
    unpaginated = {
        path for path, _method, operation in _operations("get") if _answers_a_bare_array(operation)
    }
    assert unpaginated - UNPAGINATED_ARRAYS == set(), (
        "these lists answer a bare array without a page size cap; paginate them "
        "(agents.api.pagination.StandardPagination) or justify them in UNPAGINATED_ARRAYS"
    )
    assert len(LIST_GETS) >= 20


@pytest.mark.parametrize("path", LIST_GETS)
def test_every_list_caps_the_page_size(path):
    """The paginator each list view really uses (its own or an action's override) answers a
    page size of a million with at most 200."""
    match = resolve(_concrete(path))
    view_class = getattr(match.func, "cls", None) or match.func.view_class
    initkwargs = getattr(match.func, "initkwargs", None) or match.func.view_initkwargs
    view = view_class(**{k: v for k, v in initkwargs.items() if hasattr(view_class, k)})
    paginator = view.paginator
    assert paginator is not None, f"{path} is not paginated"
    request = Request(APIRequestFactory().get(_concrete(path), {"page_size": "1000000"}))
    size = paginator.get_page_size(request)
    assert 0 < size <= MAX_PAGE_SIZE, (path, size)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in LIST_GETS if p.count("{") == 1])
def test_a_huge_page_size_is_answered_with_a_capped_page(path, client_for, world):
    response = client_for(world.admin).get(_concrete(path), {"page_size": "1000000"})
    assert response.status_code == 200, (path, response.content[:300])
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert len(body["results"]) <= MAX_PAGE_SIZE


@pytest.mark.django_db
def test_the_admin_login_lockout_survives_rotating_x_forwarded_for(settings, proxies, client):
    """The admin login is covered by axes (username + address), with the same address rule."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim", is_staff=True)
    proxies(0)
    for n in range(3):
        client.post(
            "/admin/login/",
            {"username": "victim", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = client.post(
        "/admin/login/",
        {"username": "victim", "password": GOOD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert response.status_code == 429
