"""The dashboard's world: acme on Friday 16 October 2026, 09:30 in Shanghai, with an active
October plan (the whole organization's sales target broken down by region and by product, a
quantity target too), a few sales, one daily report, feedback and a finalized March appraisal
cycle."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from plans.models import PeriodKind
from reports.models import FeedbackStatus, Urgency
from tests.agents.factories import ProductFactory
from tests.appraisals.factories import MARCH, cycle_open, finalize, review_all, template_create
from tests.plans.conftest import calendar_2026, clock, plan_2026  # noqa: F401 - fixtures
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import DailyReportFactory, MarketFeedbackFactory, SalesEntryFactory

D = Decimal
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
DASHBOARD = "/admin/dashboard/acme/"


@dataclass
class Scene:
    plan: object
    root: object
    east: object
    west: object
    tea: object
    cups: object
    urgent: object
    cycle: object


def october_sales(world, tea, cups, *, extra_members=()):
    for member, product, day, amount in (
        (world.agent, tea, 9, "6000.00"),
        (world.sub_agent, cups, 15, "1000.00"),
        (world.other_agent, tea, 16, "1200.00"),
        (world.leader, cups, 12, "450.50"),
    ):
        SalesEntryFactory(
            organization=world.org,
            member=member,
            product=product,
            date=dt.date(2026, 10, day),
            amount=D(amount),
        )
    for member in extra_members:
        SalesEntryFactory(
            organization=world.org, member=member, product=tea, date=dt.date(2026, 10, 14)
        )


@pytest.fixture
def scene(world, calendar_2026, clock, plan_2026):  # noqa: F811 - fixtures
    clock.set("2026-10-16 09:30")
    east, west = world.leader.region, world.other_leader.region
    tea = ProductFactory(organization=world.org, name="Green tea", price=D("100.00"))
    cups = ProductFactory(organization=world.org, name="Cups", price=D("50.00"))
    plan = SalesPlanFactory(
        organization=world.org,
        name="October",
        period_kind=PeriodKind.MONTH,
        start=OCTOBER[0],
        end=OCTOBER[1],
    )
    root = TargetFactory(plan=plan, value=D("31000.00"))
    TargetFactory(plan=plan, parent=root, region=east, value=D("18000.00"))
    TargetFactory(plan=plan, parent=root, region=west, value=D("12000.00"))
    TargetFactory(plan=plan, parent=root, product=tea, value=D("20000.00"))
    TargetFactory(plan=plan, parent=root, product=cups, value=D("1000.00"))
    TargetFactory(plan=plan, metric="quantity", value=D("300"))
    october_sales(world, tea, cups)
    DailyReportFactory(organization=world.org, member=world.agent, date=dt.date(2026, 10, 16))
    urgent = MarketFeedbackFactory(
        organization=world.org, author=world.sub_agent, urgency=Urgency.CRITICAL
    )
    MarketFeedbackFactory(organization=world.org, author=world.sub_agent, urgency=Urgency.NORMAL)
    MarketFeedbackFactory(
        organization=world.org,
        author=world.other_agent,
        urgency=Urgency.HIGH,
        status=FeedbackStatus.RESOLVED,
    )
    # March, finalized: sales against 10000 (x 60%) plus cooperation 4/5 (+32): agent 10000 ->
    # 92 A, leader 9000 -> 86 B, sub_agent 5000 -> 62 C, other_leader 10000 -> 92 A,
    # other_agent nothing -> 32 D.
    for member, amount in (
        (world.leader, 9000),
        (world.agent, 10000),
        (world.sub_agent, 5000),
        (world.other_leader, 10000),
        (world.other_agent, 0),
    ):
        TargetFactory(
            plan=plan_2026,
            member=member,
            include_downline=False,
            start=MARCH[0],
            end=MARCH[1],
            value=D("10000"),
        )
        if amount:
            SalesEntryFactory(
                organization=world.org,
                member=member,
                date=dt.date(2026, 3, 10),
                amount=D(amount),
            )
    cycle = cycle_open(template_create(world.org))
    review_all(cycle, world.owner, score=4)
    cycle = finalize(cycle, world.owner)
    return Scene(
        plan=plan,
        root=root,
        east=east,
        west=west,
        tea=tea,
        cups=cups,
        urgent=urgent,
        cycle=cycle,
    )
