"""Metric values against answers computed by hand on a small organization.

The week of 2026-03-02 (Mon) to 2026-03-08 (Sun); Wednesday 03-04 is a holiday, so the working
days are 03-02, 03-03, 03-05 and 03-06 (4). Products: P1 (cost 40), P2 (cost 10).

Sales (member, day, product, qty, amount, collected, customer, region at the time):
  agent      03-02 P1  2 300 100 C1 East        profit 220
  agent      03-03 P2  5 100 100 C1 East        profit  50
  sub_agent  03-03 P1  1 150   0 C2 East        profit 110
  -- sub_agent moves from East to West on 03-04 --
  sub_agent  03-06 P1  1 200   0 C2 West        profit 160
  pd         03-05 P1  1  50  50 -  Pudong      profit  10   (Pudong is inside East)
  other_agent 03-06 P2 10 500   0 -  West        profit 400
  (and outside: the agent on 03-01 and 03-09, a sale of another organization)

Daily reports (member, day: followups, minutes, orders, new, lost, late?):
  agent      03-02: 4, 60, 1, 1, 0          on time
  agent      03-03: 6, 30, 1, 0, 1          late
  agent      03-04: 2, 10, 0, 0, 0          on time, but a holiday
  sub_agent  03-02: 1, 20, 1, 0, 0          on time
  sub_agent  03-05: 3, 40, 2, 0, 0          on time
  other_agent 03-06: 10, 50, 3, 2, 0        on time
  owner      03-02: 1, 5, 0, 0, 0           on time (owners may file; they are never due)

Due to report: leader, agent, sub_agent, other_leader, other_agent (4 days each) and pd, who
joined on 03-05 (2 days): 22 member-days. A suspended agent is never due.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import CalendarDay, MemberStatus
from reports.metrics import METRICS, MetricScope, metric_actuals, metric_actuals_many
from tests.agents.factories import (
    CustomerFactory,
    MembershipFactory,
    ProductFactory,
    RegionFactory,
)
from tests.reports.factories import DailyReportFactory, SalesEntryFactory

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 8)
D = {day: dt.date(2026, 3, day) for day in range(1, 10)}


class Fixture:
    pass


@pytest.fixture
def f(world):
    org = world.org
    x = Fixture()
    x.org, x.world = org, world
    x.east, x.west = world.agent.region, world.other_agent.region
    x.pudong = RegionFactory(organization=org, name="Pudong", parent=x.east)
    x.pd = MembershipFactory(organization=org, upline=world.leader, region=x.pudong, joined_on=D[5])
    MembershipFactory(
        organization=org, upline=world.leader, region=x.east, status=MemberStatus.SUSPENDED
    )
    CalendarDay.objects.create(organization=org, date=D[4], is_workday=False, name="Holiday")
    x.p1 = ProductFactory(organization=org, cost=Decimal("40.00"))
    x.p2 = ProductFactory(organization=org, cost=Decimal("10.00"))
    x.c1 = CustomerFactory(organization=org, owner=world.agent)
    x.c2 = CustomerFactory(organization=org, owner=world.sub_agent)

    def sale(member, day, product, quantity, amount, collected=0, customer=None):
        return SalesEntryFactory(
            organization=org,
            member=member,
            date=D[day],
            product=product,
            quantity=quantity,
            amount=Decimal(amount),
            collected=Decimal(collected),
            customer=customer,
        )

    sale(world.agent, 2, x.p1, 2, 300, 100, x.c1)
    sale(world.agent, 3, x.p2, 5, 100, 100, x.c1)
    sale(world.sub_agent, 3, x.p1, 1, 150, 0, x.c2)
    world.sub_agent.region = x.west  # moves mid-period
    world.sub_agent.save()
    sale(world.sub_agent, 6, x.p1, 1, 200, 0, x.c2)
    sale(x.pd, 5, x.p1, 1, 50, 50)
    sale(world.other_agent, 6, x.p2, 10, 500)
    sale(world.agent, 1, x.p1, 1, 999)  # outside the range
    sale(world.agent, 9, x.p1, 1, 999)
    SalesEntryFactory(organization=world.rival, member=world.outsider, date=D[3])

    def report(member, day, followups, minutes, orders, new=0, lost=0, late=False):
        DailyReportFactory(
            organization=org,
            member=member,
            date=D[day],
            followups=followups,
            communication_minutes=minutes,
            orders=orders,
            new_customers=new,
            lost_customers=lost,
            is_late=late,
        )

    report(world.agent, 2, 4, 60, 1, new=1)
    report(world.agent, 3, 6, 30, 1, lost=1, late=True)
    report(world.agent, 4, 2, 10, 0)
    report(world.sub_agent, 2, 1, 20, 1)
    report(world.sub_agent, 5, 3, 40, 2)
    report(world.other_agent, 6, 10, 50, 3, new=2)
    report(world.owner, 2, 1, 5, 0)
    report(world.agent, 9, 99, 99, 99)  # outside the range
    return x


def actual(f, metric, scope=None, group_by=None, roots=None):
    return metric_actuals(
        organization=f.org,
        metric=metric,
        start=START,
        end=END,
        scope=scope,
        group_by=group_by,
        roots=roots,
    )


def money(value: str) -> Decimal:
    return Decimal(value)


# --- Whole organization ---------------------------------------------------------------------

ORGANIZATION = {
    "sales_amount": money("1300.00"),
    "collected_amount": money("250.00"),
    "profit": money("950.00"),
    "quantity": 20,
    "orders": 8,
    "new_customers": 3,
    "lost_customers": 1,
    "active_customers": 2,
    "followups": 27,
    "communication_minutes": 215,
    "avg_minutes_per_followup": Decimal("7.96"),  # 215 / 27
    "avg_daily_revenue": money("325.00"),  # 1300 / 4 working days
    "report_compliance": Decimal("0.1818"),  # 4 on time / 22 due
}


@pytest.mark.parametrize("metric,expected", list(ORGANIZATION.items()))
def test_whole_organization(f, metric, expected):
    value = actual(f, metric)[None]
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, Decimal):
        assert value.as_tuple().exponent == expected.as_tuple().exponent


def test_every_metric_of_the_vocabulary_is_covered():
    assert set(METRICS) == set(ORGANIZATION)
    for metric in METRICS.values():
        assert metric.unit in ("money", "count", "minutes", "ratio")
        assert metric.is_money == (metric.unit == "money")
    assert METRICS["lost_customers"].higher_is_better is False


def test_many_metrics_share_queries_and_agree(f):
    with CaptureQueriesContext(connection) as ctx:
        values = metric_actuals_many(
            organization=f.org, metrics=list(METRICS), start=START, end=END
        )
    assert {key: value[None] for key, value in values.items()} == ORGANIZATION
    # sales, reports, compliance and the working calendar
    assert len(ctx.captured_queries) == 4


# --- Grouped --------------------------------------------------------------------------------


def test_sales_by_member_are_each_members_own(f):
    w = f.world
    assert actual(f, "sales_amount", group_by="member") == {
        w.agent.pk: money("400.00"),
        w.sub_agent.pk: money("350.00"),
        f.pd.pk: money("50.00"),
        w.other_agent.pk: money("500.00"),
    }


def test_sales_by_region_keep_the_region_at_the_time_of_sale(f):
    assert actual(f, "sales_amount", group_by="region") == {
        f.east.pk: money("550.00"),  # the agent, and the sub-agent before the move
        f.west.pk: money("700.00"),
        f.pudong.pk: money("50.00"),
    }
    assert actual(f, "profit", group_by="region")[f.east.pk] == money("380.00")


def test_a_region_scope_includes_its_sub_regions(f):
    assert actual(f, "sales_amount", MetricScope(region=f.east))[None] == money("600.00")
    assert actual(f, "sales_amount", MetricScope(region=f.pudong))[None] == money("50.00")


def test_report_facts_use_the_members_current_region(f):
    w = f.world
    assert actual(f, "followups", group_by="region") == {
        f.east.pk: 12,  # the agent; the sub-agent has moved to West
        f.west.pk: 14,
        None: 1,  # the owner has no region
    }
    assert actual(f, "followups", MetricScope(region=f.east))[None] == 12
    assert actual(f, "followups", group_by="member")[w.sub_agent.pk] == 4


def test_by_product_and_day(f):
    assert actual(f, "sales_amount", group_by="product") == {
        f.p1.pk: money("700.00"),
        f.p2.pk: money("600.00"),
    }
    assert actual(f, "quantity", group_by="product") == {f.p1.pk: 5, f.p2.pk: 15}
    assert actual(f, "sales_amount", group_by="day") == {
        D[2]: money("300.00"),
        D[3]: money("250.00"),
        D[5]: money("50.00"),
        D[6]: money("700.00"),
    }
    assert actual(f, "followups", group_by="day")[D[4]] == 2
    assert actual(f, "avg_daily_revenue", group_by="day")[D[6]] == money("700.00")


def test_by_customer_and_customer_scope(f):
    assert actual(f, "sales_amount", group_by="customer") == {
        f.c1.pk: money("400.00"),
        f.c2.pk: money("350.00"),
        None: money("550.00"),
    }
    assert actual(f, "sales_amount", MetricScope(customer=f.c1))[None] == money("400.00")
    assert actual(f, "active_customers", MetricScope(customer=f.c1))[None] == 1


def test_member_scope_with_and_without_downline(f):
    w = f.world
    agent_alone = MetricScope(member=w.agent, include_downline=False)
    agent_team = MetricScope(member=w.agent)
    assert actual(f, "sales_amount", agent_alone)[None] == money("400.00")
    assert actual(f, "sales_amount", agent_team)[None] == money("750.00")
    assert actual(f, "followups", agent_team)[None] == 16
    assert actual(f, "active_customers", MetricScope(member=w.leader))[None] == 2
    assert actual(f, "sales_amount", MetricScope(member=w.leader, product=f.p2))[None] == (
        money("100.00")
    )
    assert actual(f, "avg_daily_revenue", agent_alone)[None] == money("100.00")


def test_subtree_totals_for_many_roots_in_one_query(f):
    w = f.world
    roots = [w.leader, w.agent, w.other_leader, w.admin]
    with CaptureQueriesContext(connection) as ctx:
        values = actual(f, "sales_amount", group_by="subtree", roots=roots)
    assert len(ctx.captured_queries) == 1
    assert values == {
        w.leader.pk: money("800.00"),
        w.agent.pk: money("750.00"),
        w.other_leader.pk: money("500.00"),
    }
    assert actual(f, "active_customers", group_by="subtree", roots=roots) == {
        w.leader.pk: 2,
        w.agent.pk: 2,
    }
    assert actual(f, "avg_minutes_per_followup", group_by="subtree", roots=[w.agent]) == {
        w.agent.pk: Decimal("10.00")  # (60 + 30 + 10 + 20 + 40) / 16
    }
    assert actual(f, "sales_amount", group_by="subtree", roots=[]) == {}


# --- Report compliance ----------------------------------------------------------------------


def test_compliance_per_member(f):
    w = f.world
    assert actual(f, "report_compliance", group_by="member") == {
        w.leader.pk: Decimal("0.0000"),
        w.agent.pk: Decimal("0.2500"),  # 03-02 on time; 03-03 late; 03-04 a holiday
        w.sub_agent.pk: Decimal("0.5000"),
        w.other_leader.pk: Decimal("0.0000"),
        w.other_agent.pk: Decimal("0.2500"),
        f.pd.pk: Decimal("0.0000"),  # due two days
    }


def test_compliance_of_groups_pools_member_days(f):
    w = f.world
    assert actual(f, "report_compliance", group_by="subtree", roots=[w.leader, w.agent]) == {
        w.leader.pk: Decimal("0.2143"),  # 3 / (4 + 4 + 4 + 2)
        w.agent.pk: Decimal("0.3750"),  # 3 / 8
    }
    assert actual(f, "report_compliance", group_by="region") == {
        f.east.pk: Decimal("0.1250"),  # leader and agent: 1 / 8
        f.west.pk: Decimal("0.2500"),  # sub_agent, other_leader, other_agent: 3 / 12
        f.pudong.pk: Decimal("0.0000"),
    }
    assert actual(f, "report_compliance", MetricScope(region=f.east))[None] == Decimal("0.1000")
    assert actual(f, "report_compliance", group_by="day") == {
        D[2]: Decimal("0.4000"),  # agent and sub_agent of 5 due (pd has not joined)
        D[3]: Decimal("0.0000"),
        D[5]: Decimal("0.1667"),  # 1 of 6
        D[6]: Decimal("0.1667"),
    }
    owner_alone = MetricScope(member=w.owner, include_downline=False)
    assert actual(f, "report_compliance", owner_alone) == {None: Decimal("0.0000")}


def test_compliance_of_a_range_without_working_days_is_zero(f):
    values = metric_actuals(organization=f.org, metric="report_compliance", start=D[7], end=D[8])
    assert values == {None: Decimal("0.0000")}


# --- Contract -------------------------------------------------------------------------------


def test_one_query_per_call_whatever_the_number_of_members(f):
    for _ in range(30):
        MembershipFactory(organization=f.org, upline=f.world.leader)
    for metric, expected_queries in (
        ("sales_amount", 1),
        ("followups", 1),
        ("avg_minutes_per_followup", 1),
        ("avg_daily_revenue", 2),
        ("report_compliance", 2),
    ):
        for group_by in (None, "member", "region", "day"):
            with CaptureQueriesContext(connection) as ctx:
                actual(f, metric, group_by=group_by)
            assert len(ctx.captured_queries) == expected_queries, (metric, group_by)


def test_empty_answers(f):
    before = {"start": dt.date(2020, 1, 1), "end": dt.date(2020, 1, 31)}
    assert metric_actuals(organization=f.org, metric="sales_amount", **before) == {
        None: money("0.00")
    }
    assert metric_actuals(organization=f.org, metric="followups", group_by="member", **before) == {}
    # The other organization's sale that week is not ours, and ours are not theirs.
    assert metric_actuals(
        organization=f.world.rival, metric="sales_amount", start=START, end=END
    ) == {None: money("100.00")}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"metric": "happiness"},
        {"metric": "orders", "group_by": "product"},
        {"metric": "report_compliance", "group_by": "customer"},
        {"metric": "sales_amount", "group_by": "week"},
        {"metric": "sales_amount", "group_by": "subtree"},
    ],
)
def test_questions_the_vocabulary_cannot_answer_are_value_errors(f, kwargs):
    with pytest.raises(ValueError):
        metric_actuals(organization=f.org, start=START, end=END, **kwargs)


def test_a_scope_of_another_organization_is_refused(f):
    with pytest.raises(ValueError):
        actual(f, "sales_amount", MetricScope(member=f.world.outsider))
    assert METRICS["orders"].supports("product") is False
    assert METRICS["sales_amount"].supports("customer") is True
