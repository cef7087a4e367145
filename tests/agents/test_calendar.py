import datetime as dt

import pytest

from agents.calendar import statutory_exceptions, working_days
from agents.models import CalendarDay
from agents.services import calendar_prefill
from tests.agents.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_national_day_2026_holidays_and_make_up_working_day():
    org = OrganizationFactory()
    assert calendar_prefill(organization=org, year=2026) > 0
    days = working_days(organization=org, start=dt.date(2026, 9, 28), end=dt.date(2026, 10, 11))
    # 2026-10-01..07 are the National Day holiday (Thu..Wed); Sun 2026-09-20 and
    # Sat 2026-10-10 are make-up working days.
    assert days == [
        dt.date(2026, 9, 28),
        dt.date(2026, 9, 29),
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
    ]


def test_prefill_is_idempotent_and_keeps_edits():
    org = OrganizationFactory()
    calendar_prefill(organization=org, year=2026)
    org_day = CalendarDay.objects.get(organization=org, date=dt.date(2026, 10, 1))
    org_day.name = "公司假期"
    org_day.save()
    assert calendar_prefill(organization=org, year=2026) == 0
    org_day.refresh_from_db()
    assert org_day.name == "公司假期"


def test_six_day_week_organization_gets_saturday_holidays_too():
    org = OrganizationFactory(workdays=[1, 2, 3, 4, 5, 6])
    calendar_prefill(organization=org, year=2026)
    # Sat 2026-10-03 is inside the National Day holiday: off for a six-day team.
    assert dt.date(2026, 10, 3) not in working_days(
        organization=org, start=dt.date(2026, 10, 3), end=dt.date(2026, 10, 3)
    )
    # Sat 2026-10-10 is an ordinary working Saturday for them: not stored as an exception.
    names = dict(
        (day, workday)
        for day, workday, _ in statutory_exceptions(country="CN", workdays=org.workdays, year=2026)
    )
    assert dt.date(2026, 10, 10) not in names


def test_organizations_outside_china_get_no_statutory_prefill():
    org = OrganizationFactory(country="", timezone="America/New_York")
    assert calendar_prefill(organization=org, year=2026) == 0
    assert (
        len(working_days(organization=org, start=dt.date(2026, 10, 5), end=dt.date(2026, 10, 11)))
        == 5
    )
