"""Daily reports are answered without reading back what was just written, and a list page
attaches every report's lines from one query (issue 7). The hand-written representations must
give exactly what ModelSerializer gives."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from reports.api.serializers import (
    DailyReportSerializer,
    SalesEntrySerializer,
    SalesLineSerializer,
)
from reports.models import DailyReport, SalesEntry
from reports.selectors import report_lines_attach
from tests.agents.factories import CustomerFactory, ProductFactory
from tests.reports.factories import DailyReportFactory, SalesEntryFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/orgs/acme/me/daily-reports/{}/"
REPORTS = "/api/v1/orgs/acme/daily-reports/"
DAY = dt.date(2026, 3, 10)


def lines_body(product, customer):
    return {
        "followups": 4,
        "lines": [
            {"product": product.pk, "customer": customer.pk, "quantity": 2, "amount": "300.00"},
            {"product": product.pk, "quantity": 1, "amount": "150.50", "collected": "20.00"},
        ],
    }


def test_a_put_answers_the_stored_lines_without_reading_them_again(client_for, world, clock):
    clock.set("2026-03-10 20:00")
    product = ProductFactory(organization=world.org, cost=Decimal("40.00"))
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    client = client_for(world.agent)
    first = client.put(ME.format(DAY), lines_body(product, customer), format="json")
    assert first.status_code == 201, first.data
    with CaptureQueriesContext(connection) as ctx:
        response = client.put(ME.format(DAY), lines_body(product, customer), format="json")
    assert response.status_code == 200, response.data

    stored = list(SalesEntry.objects.order_by("id"))
    assert [line["id"] for line in response.data["lines"]] == [line.pk for line in stored]
    assert response.data["lines"][0] == {
        "id": stored[0].pk,
        "product": product.pk,
        "customer": customer.pk,
        "quantity": 2,
        "amount": "300.00",
        "collected": "0.00",
        "profit": "220.00",
    }
    assert response.data["lines"][1]["customer"] is None
    assert response.data["totals"]["sales_amount"] == "450.50"
    # Nothing is read after the last write: the report's UPDATE (the lines sent again are
    # unchanged, and a kept line is not written), or on PostgreSQL, before the cut-off, the call
    # of a filing function (reports/filing.py).
    last_write = max(
        i
        for i, q in enumerate(ctx.captured_queries)
        if q["sql"].lstrip().startswith(("INSERT", "UPDATE", "DELETE"))
        or "reports_daily_report_file" in q["sql"]
    )
    after = [q["sql"].strip() for q in ctx.captured_queries[last_write + 1 :]]
    assert not [sql for sql in after if sql.startswith("SELECT")], after


def test_the_get_answers_the_same_as_the_put(client_for, world, clock):
    clock.set("2026-03-10 20:00")
    product = ProductFactory(organization=world.org)
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    client = client_for(world.agent)
    put = client.put(ME.format(DAY), lines_body(product, customer), format="json")
    assert put.status_code == 201
    assert client.get(ME.format(DAY)).data == put.data


def _reports_with_lines(world):
    reports = []
    for day, count in ((dt.date(2026, 3, 9), 3), (dt.date(2026, 3, 10), 0)):
        report = DailyReportFactory(organization=world.org, member=world.agent, date=day)
        for amount in ("12.34", "0.10", "99.99")[:count]:
            SalesEntryFactory(
                organization=world.org,
                member=world.agent,
                daily_report=report,
                date=day,
                amount=Decimal(amount),
            )
        reports.append(report)
    return reports


def test_the_hand_written_representations_equal_the_model_serializers(world, clock):
    clock.set("2026-03-11 09:00")
    reports = report_lines_attach(
        list(DailyReport.objects.filter(pk__in=[r.pk for r in _reports_with_lines(world)]))
    )
    report_serializer = DailyReportSerializer(context={"organization": world.org})
    line_serializer = SalesLineSerializer()
    for report in reports:
        generic = serializers.ModelSerializer.to_representation(report_serializer, report)
        assert report_serializer.to_representation(report) == generic
        for line in report.lines.all():
            generic_line = serializers.ModelSerializer.to_representation(line_serializer, line)
            assert line_serializer.to_representation(line) == generic_line


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_the_sales_entries_hand_written_representation_equals_the_model_serializers(world, zone):
    report = DailyReportFactory(organization=world.org, member=world.agent, date=DAY)
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    SalesEntryFactory(
        organization=world.org, member=world.agent, daily_report=report, date=DAY, customer=customer
    )
    SalesEntryFactory(
        organization=world.org,
        member=world.agent,
        date=DAY,
        source="api",
        amount=Decimal("1234.5"),
        collected=Decimal("0.10"),
    )
    entries = list(SalesEntry.objects.filter(member=world.agent).order_by("id"))
    assert {entry.customer_id is None for entry in entries} == {True, False}
    assert {entry.daily_report_id is None for entry in entries} == {True, False}
    with timezone.override(zone):
        serializer = SalesEntrySerializer(entries, many=True)
        generic = [
            serializers.ModelSerializer.to_representation(serializer.child, entry)
            for entry in entries
        ]
        assert serializer.data == generic


def test_a_list_page_has_each_reports_lines_in_filing_order(client_for, world):
    first, empty = _reports_with_lines(world)
    response = client_for(world.admin).get(REPORTS, {"page_size": 5})
    assert response.status_code == 200
    by_id = {row["id"]: row for row in response.data["results"]}
    expected = list(SalesEntry.objects.filter(daily_report=first).order_by("id"))
    assert [line["id"] for line in by_id[first.pk]["lines"]] == [line.pk for line in expected]
    assert by_id[first.pk]["totals"]["sales_amount"] == "112.43"
    assert by_id[empty.pk]["lines"] == []
    assert by_id[empty.pk]["totals"]["sales_amount"] == "0.00"


def test_a_list_page_takes_the_same_queries_for_2_and_20_reports(client_for, world):
    product = ProductFactory(organization=world.org)
    for offset in range(20):
        day = dt.date(2026, 2, 1) + dt.timedelta(days=offset)
        report = DailyReportFactory(organization=world.org, member=world.agent, date=day)
        SalesEntryFactory(
            organization=world.org, member=world.agent, daily_report=report, product=product
        )
    client = client_for(world.admin)
    counts = []
    for size in (2, 20):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(REPORTS, {"page_size": size})
        assert len(response.data["results"]) == size
        assert all(len(row["lines"]) == 1 for row in response.data["results"])
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
