"""Progress of a target on a fixture with known answers, and attainment grouped three ways
against hand-computed values."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Region
from tests.agents.factories import MembershipFactory, ProductFactory, RegionFactory
from tests.plans.conftest import P
from tests.plans.factories import TargetFactory
from tests.reports.factories import SalesEntryFactory

D = Decimal


def sale(world, member, day, amount, **kwargs):
    return SalesEntryFactory(
        organization=world.org, member=member, date=day, amount=D(amount), **kwargs
    )


@pytest.fixture
def october(world, plan_2026, calendar_2026):
    """The agent's team target for October 2026: 18000.00 over 18 working days (National Day
    1-7 off, Saturday the 10th a make-up working day), 1000.00 a day."""
    target = TargetFactory(
        plan=plan_2026,
        member=world.agent,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 31),
        value=D("18000.00"),
    )
    sale(world, world.agent, dt.date(2026, 10, 9), "3000")
    sale(world, world.sub_agent, dt.date(2026, 10, 14), "4000")
    sale(world, world.other_agent, dt.date(2026, 10, 12), "5000")  # another team
    sale(world, world.agent, dt.date(2026, 9, 30), "9999")  # before the period
    sale(world, world.agent, dt.date(2026, 10, 19), "700")  # after the as-of day
    return target


def test_progress_on_a_known_fixture(world, client_for, october, clock):
    clock.set("2026-10-16 18:00")  # Friday: 8 working days have passed (8, 9, 10, 12-16)
    response = client_for(world.agent).get(f"{P}targets/{october.pk}/progress/")
    assert response.status_code == 200, response.data
    data = response.data
    assert data["as_of"] == "2026-10-16"
    assert data["value"] == "18000.00"
    assert data["actual"] == "7000.00"  # 3000 + the sub-agent's 4000
    assert data["attainment"] == "0.3889"  # 7000 / 18000
    assert data["expected_to_date"] == "8000.00"
    assert data["pace"] == "behind"  # 0.875 of what was expected
    assert data["frozen"] is False
    daily = {row["date"]: row for row in data["daily"]}
    assert len(daily) == 31
    assert daily["2026-10-07"] == {
        "date": "2026-10-07",
        "target": "0.00",
        "actual": "0.00",
        "cumulative_target": "0.00",
        "cumulative_actual": "0.00",
    }
    assert daily["2026-10-10"]["target"] == "1000.00"
    assert daily["2026-10-14"]["actual"] == "4000.00"
    assert daily["2026-10-16"]["cumulative_target"] == "8000.00"
    assert daily["2026-10-16"]["cumulative_actual"] == "7000.00"
    assert daily["2026-10-19"]["actual"] is None  # after today
    assert daily["2026-10-31"]["cumulative_target"] == "18000.00"


def test_pace_follows_the_organizations_thresholds(world, client_for, october, clock):
    clock.set("2026-10-16 18:00")
    world.org.policies = {"pace_thresholds": {"on_track": 1.0, "at_risk": 0.85}}
    world.org.save()
    response = client_for(world.agent).get(f"{P}targets/{october.pk}/progress/")
    assert response.data["pace"] == "at_risk"


def test_progress_as_of_an_earlier_date_and_achieved(world, client_for, october, clock):
    clock.set("2026-10-31 12:00")
    client = client_for(world.leader)
    early = client.get(f"{P}targets/{october.pk}/progress/?date=2026-10-09")
    assert early.data["actual"] == "3000.00"
    assert early.data["expected_to_date"] == "2000.00"
    assert early.data["pace"] == "on_track"
    full = client.get(f"{P}targets/{october.pk}/progress/")
    assert full.data["actual"] == "7700.00"
    sale(world, world.agent, dt.date(2026, 10, 30), "10300")
    assert client.get(f"{P}targets/{october.pk}/progress/").data["pace"] == "achieved"
    assert client.get(f"{P}targets/{october.pk}/progress/?date=2026-13-01").status_code == 400


def test_progress_of_a_target_scoped_to_a_product_and_the_agents_own_sales(
    world, client_for, plan_2026, calendar_2026, clock
):
    clock.set("2026-10-31 12:00")
    serum, cream = ProductFactory(organization=world.org), ProductFactory(organization=world.org)
    sale(world, world.agent, dt.date(2026, 10, 9), "300", product=serum)
    sale(world, world.agent, dt.date(2026, 10, 9), "200", product=cream)
    sale(world, world.sub_agent, dt.date(2026, 10, 9), "1000", product=serum)
    own_serum = TargetFactory(
        plan=plan_2026,
        member=world.agent,
        include_downline=False,
        product=serum,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 31),
        value=D("600.00"),
    )
    response = client_for(world.agent).get(f"{P}targets/{own_serum.pk}/progress/")
    assert response.data["actual"] == "300.00"
    assert response.data["attainment"] == "0.5000"


def test_progress_query_count(world, client_for, october, clock):
    clock.set("2026-10-16 18:00")
    client = client_for(world.agent)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"{P}targets/{october.pk}/progress/").status_code == 200
    assert len(ctx.captured_queries) < 20
    assert len(ctx.captured_queries) <= 8


# --- Attainment -----------------------------------------------------------------------------


@pytest.fixture
def year(world, plan_2026):
    """Targets and sales of 2026 with hand-computed answers.

    Members: leader 50000 (team) -> agent 20000 (team; a piece of the leader's target, itself
    broken into months that must not count again); other_leader 30000 (team).
    Regions: East 40000 -> Pudong 10000 (sub-region, its own row); West 30000.
    Products: serum 60000, cream 40000.
    Sales: leader 1000 (East, serum), agent 3000 (East, serum), sub_agent 4000 (Pudong, cream),
    other_agent 5000 (West, serum). Totals: leader team 8000, agent team 7000, other team 5000;
    East 8000 (incl. Pudong 4000), West 5000; serum 9000, cream 4000.
    """
    east = Region.objects.get(organization=world.org, name="East")
    west = Region.objects.get(organization=world.org, name="West")
    pudong = RegionFactory(organization=world.org, name="Pudong", parent=east)
    serum = ProductFactory(organization=world.org, name="Serum")
    cream = ProductFactory(organization=world.org, name="Cream")

    leaders = TargetFactory(plan=plan_2026, member=world.leader, value=D("50000.00"))
    agents = TargetFactory(
        plan=plan_2026,
        parent=leaders,
        member=world.agent,
        value=D("20000.00"),
        breakdown_dimension="member",
    )
    TargetFactory(
        plan=plan_2026,
        parent=agents,
        member=world.agent,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 1, 31),
        value=D("2000.00"),
        breakdown_dimension="period",
    )
    TargetFactory(plan=plan_2026, member=world.other_leader, value=D("30000.00"))
    east_target = TargetFactory(plan=plan_2026, region=east, value=D("40000.00"))
    TargetFactory(plan=plan_2026, parent=east_target, region=pudong, value=D("10000.00"))
    TargetFactory(plan=plan_2026, region=west, value=D("30000.00"))
    TargetFactory(plan=plan_2026, product=serum, value=D("60000.00"))
    TargetFactory(plan=plan_2026, product=cream, value=D("40000.00"))
    # Another metric and another tier do not count.
    TargetFactory(plan=plan_2026, product=serum, metric="quantity", value=D("10"))
    TargetFactory(plan=plan_2026, product=serum, tier="stretch", value=D("90000.00"))

    day = dt.date(2026, 3, 2)
    sale(world, world.leader, day, "1000", product=serum, region=east)
    sale(world, world.agent, day, "3000", product=serum, region=east)
    sale(world, world.sub_agent, day, "4000", product=cream, region=pudong)
    sale(world, world.other_agent, day, "5000", product=serum, region=west)
    sale(world, world.agent, dt.date(2026, 7, 1), "100000", product=serum, region=east)
    return {"east": east, "west": west, "pudong": pudong, "serum": serum, "cream": cream}


def attainment(client, plan, group_by, **params):
    query = {"plan": plan.pk, "metric": "sales_amount", "group_by": group_by, **params}
    response = client.get(f"{P}attainment/", query)
    assert response.status_code == 200, response.data
    return {row["key"]: (row["target"], row["actual"], row["attainment"]) for row in response.data}


def test_attainment_by_member(world, client_for, plan_2026, year):
    rows = attainment(client_for(world.admin), plan_2026, "member", date="2026-06-30")
    assert rows == {
        world.leader.pk: ("50000.00", "8000.00", "0.1600"),
        world.agent.pk: ("20000.00", "7000.00", "0.3500"),
        world.other_leader.pk: ("30000.00", "5000.00", "0.1667"),
    }
    # The leader sees their subtree's rows only.
    rows = attainment(client_for(world.leader), plan_2026, "member", date="2026-06-30")
    assert set(rows) == {world.leader.pk, world.agent.pk}


def test_attainment_by_region(world, client_for, plan_2026, year):
    rows = attainment(client_for(world.agent), plan_2026, "region", date="2026-06-30")
    assert rows == {
        year["east"].pk: ("40000.00", "8000.00", "0.2000"),
        year["pudong"].pk: ("10000.00", "4000.00", "0.4000"),
        year["west"].pk: ("30000.00", "5000.00", "0.1667"),
    }


def test_attainment_by_product(world, client_for, plan_2026, year):
    client = client_for(world.owner)
    rows = attainment(client, plan_2026, "product", date="2026-06-30")
    assert rows == {
        year["serum"].pk: ("60000.00", "9000.00", "0.1500"),
        year["cream"].pk: ("40000.00", "4000.00", "0.1000"),
    }
    stretch = attainment(client, plan_2026, "product", date="2026-06-30", tier="stretch")
    assert stretch == {year["serum"].pk: ("90000.00", "9000.00", "0.1000")}
    # Later sales count once the date has passed them.
    rows = attainment(client, plan_2026, "product", date="2026-12-31")
    assert rows[year["serum"].pk][1] == "109000.00"


def test_attainment_rejects_bad_queries(world, client_for, plan_2026):
    client = client_for(world.admin)
    for query in (
        {},
        {"plan": plan_2026.pk, "metric": "nope", "group_by": "member"},
        {"plan": plan_2026.pk, "metric": "sales_amount", "group_by": "day"},
        {"plan": 999999, "metric": "sales_amount", "group_by": "member"},
        {"plan": plan_2026.pk, "metric": "followups", "group_by": "product"},
    ):
        assert client.get(f"{P}attainment/", query).status_code == 400, query


@pytest.mark.parametrize("group_by", ["member", "region", "product"])
def test_attainment_query_count_does_not_grow_with_rows(world, client_for, plan_2026, group_by):
    client = client_for(world.admin)

    def add_rows(count):
        for _ in range(count):
            if group_by == "member":
                member = MembershipFactory(organization=world.org, upline=world.leader)
                TargetFactory(plan=plan_2026, member=member, include_downline=_ % 2 == 0)
                sale(world, member, dt.date(2026, 2, 2), "10")
            elif group_by == "region":
                region = RegionFactory(organization=world.org)
                TargetFactory(plan=plan_2026, region=region)
                sale(world, world.agent, dt.date(2026, 2, 2), "10", region=region)
            else:
                product = ProductFactory(organization=world.org)
                TargetFactory(plan=plan_2026, product=product)
                sale(world, world.agent, dt.date(2026, 2, 2), "10", product=product)

    counts = []
    for count in (3, 30):
        add_rows(count)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(
                f"{P}attainment/",
                {"plan": plan_2026.pk, "metric": "sales_amount", "group_by": group_by},
            )
        assert response.status_code == 200
        counts.append((len(response.data), len(ctx.captured_queries)))
    assert counts[0][0] < counts[1][0]
    assert counts[0][1] == counts[1][1]
