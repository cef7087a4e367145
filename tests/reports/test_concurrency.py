"""Concurrent first filings of the same daily report, on PostgreSQL (DATABASE_URL set): never two
rows, never a 500. SQLite serializes writers, so there the retry path is tested sequentially
(tests/reports/test_daily_reports.py)."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from reports import services
from reports.models import DailyReport, SalesEntry
from tests.agents.factories import ProductFactory

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL (DATABASE_URL) for real concurrent transactions",
    ),
    pytest.mark.django_db(transaction=True),
]


def _put_in_threads(world, count: int) -> list[int]:
    product = ProductFactory(organization=world.org)
    url = f"/api/v1/orgs/acme/me/daily-reports/{world.org.local_today().isoformat()}/"
    body = {
        "followups": 3,
        "lines": [{"product": product.pk, "quantity": 1, "amount": "10.00"}],
    }
    statuses: list[int] = []
    errors: list[BaseException] = []

    def put():
        try:
            client = APIClient()
            client.force_authenticate(world.agent.user)
            statuses.append(client.put(url, body, format="json").status_code)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return statuses


def test_two_filings_that_both_miss_the_row_give_one_report(world, monkeypatch):
    """Both requests look the report up before either inserts (a barrier after the lookup makes
    the race certain); the second insert waits on the unique index, fails, and is retried as a
    replacement."""
    barrier = threading.Barrier(2, timeout=10)
    real_lookup = services._locked_report
    seen = threading.local()

    def lookup_then_wait(**kwargs):
        report = real_lookup(**kwargs)
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return report

    monkeypatch.setattr(services, "_locked_report", lookup_then_wait)
    statuses = _put_in_threads(world, 2)
    assert sorted(statuses) == [200, 201]
    assert DailyReport.objects.filter(member=world.agent).count() == 1
    assert SalesEntry.objects.filter(member=world.agent).count() == 1


def test_many_simultaneous_filings(world):
    statuses = _put_in_threads(world, 6)
    assert sorted(statuses) == [200] * 5 + [201]
    assert DailyReport.objects.filter(member=world.agent).count() == 1
    assert SalesEntry.objects.filter(member=world.agent).count() == 1
