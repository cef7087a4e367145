"""Concurrent first filings of the same daily report, on PostgreSQL (DATABASE_URL set): never two
rows, never a 500. SQLite serializes writers, so there the retry path is tested sequentially
(tests/reports/test_daily_reports.py)."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from rest_framework.test import APIClient

from reports import filing, services
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


def test_two_filings_that_both_miss_the_row_give_one_report(world, monkeypatch, portable_filing):
    """The portable path (row lock, then insert or update): both requests look the report up
    before either inserts (a barrier after the lookup makes the race certain); the second insert
    waits on the unique index, fails, and is retried as a replacement."""
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


def test_a_put_waits_for_the_one_holding_the_report_then_replaces_its_lines(world, monkeypatch):
    """The PostgreSQL path (reports/filing.py): the first PUT has written the report and two
    lines but not committed; the second waits for the report's row, then replaces those lines
    with its own. One line in the end, never three: the filing function's DELETE takes its
    snapshot after the lock was granted."""
    product = ProductFactory(organization=world.org)
    url = f"/api/v1/orgs/acme/me/daily-reports/{world.org.local_today().isoformat()}/"
    line = {"product": product.pk, "quantity": 1, "amount": "10.00"}
    holding, release = threading.Event(), threading.Event()
    real_file = filing._file

    def file_then_hold(cursor, statement, params):
        if threading.current_thread().name != "first":
            return real_file(cursor, statement, params)
        with transaction.atomic():  # the call's own transaction, kept open
            row = real_file(cursor, statement, params)
            holding.set()  # written, not committed
            release.wait(timeout=20)
        return row

    monkeypatch.setattr(filing, "_file", file_then_hold)
    statuses, errors = {}, []

    def put(name, lines):
        try:
            client = APIClient()
            client.force_authenticate(world.agent.user)
            response = client.put(url, {"orders": len(lines), "lines": lines}, format="json")
            statuses[name] = response.status_code
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=put, args=("first", [line, line]), name="first")
    second = threading.Thread(target=put, args=("second", [{**line, "quantity": 7}]), name="second")
    first.start()
    assert holding.wait(timeout=20)
    second.start()
    try:
        waited = False
        for _ in range(200):  # the second request's backend waits for a lock
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    waited = True
                    break
            time.sleep(0.05)
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
    assert not errors, errors
    assert waited
    assert statuses == {"first": 201, "second": 200}
    assert DailyReport.objects.get(member=world.agent).orders == 1
    assert list(SalesEntry.objects.filter(member=world.agent).values_list("quantity")) == [(7,)]
