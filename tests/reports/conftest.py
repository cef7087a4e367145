import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


class Clock:
    """Stops time at a local moment of the organization's timezone (Asia/Shanghai)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def set(self, local: str) -> dt.datetime:
        moment = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
        utc = moment.astimezone(dt.UTC)
        self.monkeypatch.setattr(timezone, "now", lambda: utc)
        return utc


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def portable_filing(monkeypatch):
    """Daily reports are filed through the portable path (row lock, ORM statements) on
    PostgreSQL too, as they always are on SQLite and after the cut-off (reports/filing.py)."""
    from reports import filing

    monkeypatch.setattr(filing, "supported", lambda: False)


@pytest.fixture
def query_counts():
    """query_counts(client, url, sizes) -> [number of queries per page size], asserting that
    each page came back full."""

    def measure(client, url, sizes=(10, 100)):
        counts = []
        separator = "&" if "?" in url else "?"
        for size in sizes:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"{url}{separator}page_size={size}")
            assert response.status_code == 200, response.data
            assert len(response.data["results"]) == size
            counts.append(len(ctx.captured_queries))
        return counts

    return measure


@pytest.fixture
def client_for():
    """client_for(membership) -> an APIClient sending that member's user's bearer token, as the
    apps do: the reports' tests go through authentication as it runs in production, and so
    through the daily-report PUT's fast path (reports/api/fast_put.py) where it applies."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    def make(member) -> APIClient:
        client = APIClient()
        if member is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(member.user)}")
        return client

    return make


@pytest.fixture
def goods(world):
    """Two products with costs: (serum, cream)."""
    from tests.agents.factories import ProductFactory

    serum = ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00"))
    cream = ProductFactory(organization=world.org, sku="CREAM", cost=Decimal("12.50"))
    return serum, cream
