"""The audit trail of daily reports: filing and editing before the day's cut-off is the normal
course and is not recorded; every change after it (a late filing, a late edit, an unlock) is,
with the counts, texts and lines before and after."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import AuditEntry
from reports.models import DailyReport
from tests.agents.factories import ProductFactory
from tests.reports.test_daily_reports import DAY, REPORTS, body, put

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(world):
    return ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00"))


def test_edits_before_the_cut_off_are_not_recorded(client_for, world, product, clock):
    client = client_for(world.agent)
    clock.set("2026-03-10 18:00")
    assert put(client, DAY, body(product)).status_code == 201
    clock.set("2026-03-10 22:59")
    assert put(client, DAY, body(product, orders=4)).status_code == 200
    assert AuditEntry.objects.count() == 0


def test_a_late_edit_is_recorded_with_before_and_after(client_for, world, product, clock):
    client = client_for(world.agent)
    clock.set("2026-03-10 20:00")
    assert put(client, DAY, body(product)).status_code == 201
    clock.set("2026-03-11 09:00")
    late = body(
        product,
        orders=3,
        summary="Visited three shops.",
        lines=[{"product": product.pk, "quantity": 5, "amount": "750"}],
    )
    response = put(client, DAY, late)
    assert response.status_code == 200, response.data
    [entry] = AuditEntry.objects.all()
    report = DailyReport.objects.get()
    assert entry.action == "daily_report.update"
    assert (entry.object_type, entry.object_id) == ("reports.dailyreport", str(report.pk))
    assert entry.actor_id == world.agent.pk
    assert entry.context == {"member": world.agent.pk, "date": "2026-03-10"}
    assert entry.changes["orders"] == [2, 3]
    assert entry.changes["summary"] == ["Visited two shops.", "Visited three shops."]
    assert entry.changes["lines"] == [
        [
            {
                "product": product.pk,
                "customer": None,
                "quantity": 2,
                "amount": "300.00",
                "collected": "100.00",
            },
            {
                "product": product.pk,
                "customer": None,
                "quantity": 1,
                "amount": "150.00",
                "collected": "0.00",
            },
        ],
        [
            {
                "product": product.pk,
                "customer": None,
                "quantity": 5,
                "amount": "750.00",
                "collected": "0.00",
            }
        ],
    ]
    assert "followups" not in entry.changes  # unchanged
    # A retry of the same late edit changes nothing and records nothing more.
    assert put(client, DAY, late).status_code == 200
    assert AuditEntry.objects.count() == 1


def test_a_late_edit_costs_one_insert_for_the_trail(client_for, world, product, clock):
    client = client_for(world.agent)
    clock.set("2026-03-10 20:00")
    put(client, DAY, body(product))
    clock.set("2026-03-11 09:00")
    with CaptureQueriesContext(connection) as queries:
        assert put(client, DAY, body(product, orders=9)).status_code == 200
    audit = [q["sql"] for q in queries if "agents_auditentry" in q["sql"]]
    assert len(audit) == 1 and audit[0].startswith("INSERT")


def test_a_late_first_filing_is_recorded(client_for, world, product, clock):
    clock.set("2026-03-10 23:30")
    response = put(client_for(world.agent), DAY, body(product))
    assert response.status_code == 201 and response.data["is_late"] is True
    [entry] = AuditEntry.objects.all()
    assert entry.action == "daily_report.create"
    assert entry.changes["followups"] == [None, 5]
    assert len(entry.changes["lines"][1]) == 2


def test_refused_late_edits_record_nothing(client_for, world, product, clock):
    client = client_for(world.agent)
    clock.set("2026-03-10 20:00")
    put(client, DAY, body(product))
    clock.set("2026-03-11 09:00")
    bad = body(product, lines=[{"product": product.pk, "quantity": -1, "amount": "1"}])
    assert put(client, DAY, bad).status_code == 400
    clock.set("2026-03-12 09:00")
    assert put(client, DAY, body(product, orders=9)).status_code == 409  # locked
    assert AuditEntry.objects.count() == 0


def test_an_unlock_is_recorded(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    put(client_for(world.agent), DAY, body(product))
    report = DailyReport.objects.get()
    url = f"{REPORTS}{report.pk}/unlock/"
    clock.set("2026-03-10 21:00")
    assert client_for(world.leader).post(url).status_code == 409  # still open
    assert AuditEntry.objects.count() == 0
    unlocked_at = clock.set("2026-03-13 10:00")
    assert client_for(world.leader).post(url).status_code == 200
    assert client_for(world.leader).post(url).status_code == 200  # a retry
    [entry] = AuditEntry.objects.all()
    assert entry.action == "daily_report.unlock"
    assert entry.actor_id == world.leader.pk
    assert entry.object_id == str(report.pk)
    assert entry.changes == {
        "unlocked_by": [None, world.leader.pk],
        "unlocked_at": [None, unlocked_at.isoformat()],
    }
    assert entry.object_repr == f"{world.agent.user.get_display_name()} 2026-03-10"
    # The edit the unlock allows is recorded too.
    assert put(client_for(world.agent), DAY, body(product, orders=7)).status_code == 200
    assert AuditEntry.objects.filter(action="daily_report.update").count() == 1
