import datetime as dt
from decimal import Decimal

import pytest

from tests.appraisals.factories import MARCH, template_create
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import SalesEntryFactory


@pytest.fixture
def template(world):
    return template_create(world.org)


@pytest.fixture
def plan(world):
    return SalesPlanFactory(organization=world.org)


@pytest.fixture
def target_for(plan):
    """target_for(member, value, include_downline=False, metric="sales_amount", period=MARCH)"""

    def make(member, value, *, include_downline=False, metric="sales_amount", period=MARCH, **kw):
        return TargetFactory(
            plan=plan,
            member=member,
            metric=metric,
            include_downline=include_downline,
            start=period[0],
            end=period[1],
            value=Decimal(value),
            **kw,
        )

    return make


@pytest.fixture
def sale(world):
    """sale(member, amount, day=10): a sale in March 2026."""

    def make(member, amount, *, day=10, month=3):
        return SalesEntryFactory(
            organization=member.organization,
            member=member,
            date=dt.date(2026, month, day),
            amount=Decimal(amount),
        )

    return make
