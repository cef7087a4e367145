"""The fast paths of progress and attainment (issue 7) answer what the general ones answer:
a plain sum's total is its days added up (one facts query), a distinct count is still asked for
the whole period; attainment rows are built from plain values, labels and all."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.api.serializers import AttainmentRowSerializer
from plans.progress import attainment_rows
from plans.selectors import targets_visible
from tests.agents.factories import CustomerFactory
from tests.plans.conftest import P
from tests.plans.factories import TargetFactory
from tests.reports.factories import SalesEntryFactory

OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def _target(plan, member, metric):
    return TargetFactory(
        plan=plan,
        member=member,
        metric=metric,
        include_downline=False,
        start=OCTOBER[0],
        end=OCTOBER[1],
        value=Decimal("10"),
    )


@pytest.fixture
def customer_sales(world):
    """One customer buying from the agent on two days, another on one of them."""
    loyal = CustomerFactory(organization=world.org, owner=world.agent)
    other = CustomerFactory(organization=world.org, owner=world.agent)
    for day, customer, amount in (
        (dt.date(2026, 10, 12), loyal, "100.00"),
        (dt.date(2026, 10, 13), loyal, "250.50"),
        (dt.date(2026, 10, 13), other, "50.00"),
    ):
        SalesEntryFactory(
            organization=world.org,
            member=world.agent,
            customer=customer,
            date=day,
            amount=Decimal(amount),
        )


def _progress(client, target):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{P}targets/{target.pk}/progress/", {"date": "2026-10-20"})
    assert response.status_code == 200, response.data
    daily = {
        row["date"]: row["actual"]
        for row in response.data["daily"]
        if row["actual"] is not None and Decimal(row["actual"])
    }
    return response.data["actual"], daily, len(ctx.captured_queries)


def test_a_distinct_count_counts_a_customer_once_over_the_period(
    world, client_for, plan_2026, calendar_2026, customer_sales
):
    target = _target(plan_2026, world.agent, "active_customers")
    actual, daily, _queries = _progress(client_for(world.agent), target)
    assert {day: Decimal(value) for day, value in daily.items()} == {
        "2026-10-12": 1,
        "2026-10-13": 2,  # two customers that day
    }
    assert Decimal(actual) == 2  # not 3: the loyal customer counts once for the month


def test_a_sum_is_its_days_added_up_in_one_facts_query_fewer(
    world, client_for, plan_2026, calendar_2026, customer_sales
):
    client = client_for(world.agent)
    amount, daily, sum_queries = _progress(client, _target(plan_2026, world.agent, "sales_amount"))
    assert amount == "400.50"
    assert daily == {"2026-10-12": "100.00", "2026-10-13": "300.50"}
    _actual, _daily, distinct_queries = _progress(
        client, _target(plan_2026, world.agent, "active_customers")
    )
    assert sum_queries == distinct_queries - 1


@pytest.mark.django_db
def test_attainment_labels_are_the_members_display_names(world, client_for, plan_2026):
    world.agent.user.display_name = ""
    world.agent.user.first_name, world.agent.user.last_name = "Mei", "Chen"
    world.agent.user.save()
    world.leader.user.display_name = "Team East"
    world.leader.user.save()
    world.other_agent.user.display_name = ""
    world.other_agent.user.first_name = world.other_agent.user.last_name = ""
    world.other_agent.user.save()
    for member in (world.agent, world.leader, world.other_agent):
        TargetFactory(plan=plan_2026, member=member)
    response = client_for(world.admin).get(
        f"{P}attainment/", {"plan": plan_2026.pk, "metric": "sales_amount", "group_by": "member"}
    )
    assert response.status_code == 200
    labels = {row["key"]: row["label"] for row in response.data}
    assert labels == {
        world.agent.pk: "Mei Chen",
        world.leader.pk: "Team East",
        world.other_agent.pk: world.other_agent.user.username,
    }
    assert labels[world.agent.pk] == world.agent.display_name


@pytest.mark.django_db
def test_attainment_rows_data_equals_the_serializers(world, plan_2026):
    for member, value in ((world.agent, "1234.565"), (world.leader, "0.00")):
        TargetFactory(plan=plan_2026, member=member, value=Decimal(value))
    SalesEntryFactory(
        organization=world.org, member=world.agent, date=dt.date(2026, 2, 2), amount=Decimal("7")
    )
    rows = attainment_rows(
        organization=world.org,
        targets=targets_visible(organization=world.org, viewer=world.owner),
        plan=plan_2026,
        metric_key="sales_amount",
        group_by="member",
        tier="base",
        as_of=dt.date(2026, 12, 31),
    )
    assert len(rows) == 2
    assert AttainmentRowSerializer.rows_data(rows) == AttainmentRowSerializer(rows, many=True).data
