"""The working calendar is read once per process and range until it changes (agents.calendar):
every way of changing an organization's calendar days is seen at once by the next reader, which
gets its organization from the database as a request does."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.calendar import working_days
from agents.models import CalendarDay, Organization
from agents.services import calendar_prefill
from tests.agents.factories import CalendarDayFactory, OrganizationFactory

# Committed transactions, as in production: rows read inside a transaction are never kept.
pytestmark = pytest.mark.django_db(transaction=True)

OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def october(organization_id: int) -> tuple[list[dt.date], int]:
    """The working days of October 2026, read with the organization loaded afresh; and how many
    queries the calendar took."""
    organization = Organization.objects.get(pk=organization_id)
    with CaptureQueriesContext(connection) as queries:
        days = working_days(organization=organization, start=OCTOBER[0], end=OCTOBER[1])
    return days, len(queries)


def test_each_change_of_the_calendar_is_seen_by_the_next_reader():
    org = OrganizationFactory()
    days, queries = october(org.pk)
    assert len(days) == 22 and queries == 1
    assert october(org.pk) == (days, 0)  # kept: no query

    # A day added through the model (the API and the admin save this way).
    CalendarDayFactory(organization=org, date=dt.date(2026, 10, 1), is_workday=False)
    days, queries = october(org.pk)
    assert dt.date(2026, 10, 1) not in days and len(days) == 21 and queries == 1
    assert october(org.pk)[1] == 0

    # Changed in bulk.
    CalendarDay.objects.filter(organization=org).update(is_workday=True)
    days, queries = october(org.pk)
    assert dt.date(2026, 10, 1) in days and queries == 1

    # Deleted in bulk, then prefilled (bulk_create).
    CalendarDay.objects.filter(organization=org).delete()
    assert len(october(org.pk)[0]) == 22
    assert calendar_prefill(organization=org, year=2026) > 0
    days, queries = october(org.pk)
    assert dt.date(2026, 10, 5) not in days and dt.date(2026, 10, 10) in days and queries == 1

    # One row deleted through the model.
    CalendarDay.objects.get(organization=org, date=dt.date(2026, 10, 10)).delete()
    assert dt.date(2026, 10, 10) not in october(org.pk)[0]


def test_the_instance_that_made_the_change_reads_it_too():
    org = OrganizationFactory()
    assert len(working_days(organization=org, start=OCTOBER[0], end=OCTOBER[1])) == 22
    CalendarDayFactory(organization=org, date=dt.date(2026, 10, 2), is_workday=False)
    assert dt.date(2026, 10, 2) not in working_days(
        organization=org, start=OCTOBER[0], end=OCTOBER[1]
    )
    calendar_prefill(organization=org, year=2026)
    assert dt.date(2026, 10, 5) not in working_days(
        organization=org, start=OCTOBER[0], end=OCTOBER[1]
    )


def test_another_organizations_change_keeps_this_calendar():
    org, other = OrganizationFactory(), OrganizationFactory()
    october(org.pk)
    CalendarDayFactory(organization=other, date=dt.date(2026, 10, 1), is_workday=False)
    assert october(org.pk)[1] == 0
    assert len(october(other.pk)[0]) == 21
