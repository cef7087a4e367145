"""Target breakdown through the API: methods, exact splits, the never-above-the-parent rule,
what leaders and agents may break down."""

import datetime as dt
from decimal import Decimal

import pytest

from agents.models import Region
from plans.models import Target
from tests.agents.factories import MembershipFactory, ProductFactory, RegionFactory
from tests.plans.conftest import P
from tests.plans.factories import TargetFactory
from tests.reports.factories import SalesEntryFactory

D = Decimal


def breakdown(client, target, **body):
    return client.post(f"{P}targets/{target.pk}/breakdown/", body)


@pytest.fixture
def team(world):
    """Three agents below the leader (agent, a2, a3)."""
    a2 = MembershipFactory(organization=world.org, upline=world.leader)
    a3 = MembershipFactory(organization=world.org, upline=world.leader)
    return [world.agent, a2, a3]


def test_even_split_by_member_sums_exactly(world, client_for, plan_2026, team):
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=D("100000.00"))
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="even",
        allocations=[{"member": member.pk} for member in team],
    )
    assert response.status_code == 201, response.data
    assert [child["value"] for child in response.data["children"]] == [
        "33333.34",
        "33333.33",
        "33333.33",
    ]
    assert response.data["unallocated"] == "0.00"
    assert response.data["allocated"] == "100000.00"
    children = Target.objects.filter(parent=parent)
    assert sum(child.value for child in children) == D("100000.00")
    for child in children:
        # Inherited: plan, metric, tier, period; narrowed: the member (with their downline).
        assert (child.metric, child.tier, child.start, child.end) == (
            "sales_amount",
            "base",
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
        )
        assert child.include_downline
        assert (child.breakdown_dimension, child.breakdown_method) == ("member", "even")


def test_weights_split_and_the_leaders_personal_share(world, client_for, plan_2026, team):
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=D("1000.00"))
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="weights",
        allocations=[
            {"member": world.leader.pk, "weight": "1"},
            {"member": team[0].pk, "weight": "1.5"},
            {"member": team[1].pk, "weight": "1"},
        ],
    )
    assert response.status_code == 201, response.data
    by_member = {child["member"]: child for child in response.data["children"]}
    # 1000 * 1/3.5 = 285.714.., 1.5/3.5 = 428.571..: the spare cent to the largest remainder.
    assert by_member[world.leader.pk]["value"] == "285.72"
    assert by_member[team[0].pk]["value"] == "428.57"
    assert by_member[team[1].pk]["value"] == "285.71"
    # The leader's own member stands for their personal sales, not their team's again.
    assert by_member[world.leader.pk]["include_downline"] is False
    assert by_member[team[0].pk]["include_downline"] is True


def test_counts_split_into_whole_numbers(world, client_for, plan_2026, team):
    parent = TargetFactory(plan=plan_2026, member=world.leader, metric="orders", value=D("100"))
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="even",
        allocations=[{"member": member.pk} for member in team],
    )
    assert response.status_code == 201, response.data
    assert [child["value"] for child in response.data["children"]] == ["34.00", "33.00", "33.00"]


def test_manual_over_allocation_is_400_and_writes_nothing(world, client_for, plan_2026, team):
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=D("1000.00"))
    client = client_for(world.leader)
    response = breakdown(
        client,
        parent,
        dimension="member",
        method="manual",
        allocations=[
            {"member": team[0].pk, "value": "600.00"},
            {"member": team[1].pk, "value": "400.01"},
        ],
    )
    assert response.status_code == 400
    assert "allocations" in response.data
    assert not Target.objects.filter(parent=parent).exists()

    # A first round leaves some unallocated; a second round may take at most the rest.
    response = breakdown(
        client,
        parent,
        dimension="member",
        method="manual",
        allocations=[{"member": team[0].pk, "value": "600.00"}],
    )
    assert response.status_code == 201
    assert response.data["unallocated"] == "400.00"
    response = breakdown(
        client,
        parent,
        dimension="member",
        method="manual",
        allocations=[{"member": team[1].pk, "value": "400.01"}],
    )
    assert response.status_code == 400 and "allocations" in response.data
    # Even splits what is still unallocated.
    response = breakdown(
        client,
        parent,
        dimension="member",
        method="even",
        allocations=[{"member": team[1].pk}, {"member": team[2].pk}],
    )
    assert response.status_code == 201
    assert [child["value"] for child in response.data["children"]] == [
        "600.00",
        "200.00",
        "200.00",
    ]
    assert response.data["unallocated"] == "0.00"
    # The same member twice, or a second dimension, is refused.
    again = breakdown(
        client,
        parent,
        dimension="member",
        method="manual",
        allocations=[{"member": team[0].pk, "value": "0"}],
    )
    assert again.status_code == 400 and "allocations" in again.data
    other = breakdown(client, parent, dimension="period", method="even", period_unit="month")
    assert other.status_code == 400 and "dimension" in other.data


def test_history_split_by_last_period_share_with_even_share_for_newcomers(
    world, client_for, plan_2026, team
):
    """Q2 target 9000.00 for the leader's team. In Q1 agent sold 3000 (with sub_agent's 1000:
    4000 for the subtree), a2 sold 2000, a3 nothing (a newcomer). a3 gets an even third
    (3000.00); agent and a2 split the other 6000 by 4000:2000."""
    SalesEntryFactory(
        organization=world.org, member=world.agent, date=dt.date(2026, 2, 3), amount=D("3000")
    )
    SalesEntryFactory(
        organization=world.org, member=world.sub_agent, date=dt.date(2026, 3, 31), amount=D("1000")
    )
    SalesEntryFactory(
        organization=world.org, member=team[1], date=dt.date(2026, 1, 1), amount=D("2000")
    )
    # Outside Q1 or outside the team: not history.
    SalesEntryFactory(
        organization=world.org, member=team[2], date=dt.date(2026, 4, 1), amount=D("500")
    )
    SalesEntryFactory(
        organization=world.org, member=world.other_agent, date=dt.date(2026, 2, 3), amount=D("9")
    )
    parent = TargetFactory(
        plan=plan_2026,
        member=world.leader,
        start=dt.date(2026, 4, 1),
        end=dt.date(2026, 6, 30),
        value=D("9000.00"),
    )
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="history",
        allocations=[{"member": member.pk} for member in team],
    )
    assert response.status_code == 201, response.data
    assert {child["member"]: child["value"] for child in response.data["children"]} == {
        team[0].pk: "4000.00",
        team[1].pk: "2000.00",
        team[2].pk: "3000.00",
    }


def test_history_without_any_history_is_even(world, client_for, plan_2026, team):
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=D("100.00"))
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="history",
        allocations=[{"member": member.pk} for member in team],
    )
    assert [child["value"] for child in response.data["children"]] == ["33.34", "33.33", "33.33"]


def test_history_by_region_counts_sub_regions(world, client_for, plan_2026):
    east = Region.objects.get(organization=world.org, name="East")
    west = Region.objects.get(organization=world.org, name="West")
    pudong = RegionFactory(organization=world.org, name="Pudong", parent=east)
    for region, amount in ((east, "1000"), (pudong, "2000"), (west, "1000")):
        SalesEntryFactory(
            organization=world.org,
            member=world.agent,
            region=region,
            date=dt.date(2025, 6, 1),
            amount=D(amount),
        )
    parent = TargetFactory(plan=plan_2026, value=D("8000.00"))
    response = breakdown(
        client_for(world.admin),
        parent,
        dimension="region",
        method="history",
        allocations=[{"region": east.pk}, {"region": west.pk}],
    )
    assert response.status_code == 201, response.data
    assert {child["region"]: child["value"] for child in response.data["children"]} == {
        east.pk: "6000.00",
        west.pk: "2000.00",
    }


def test_history_by_month_uses_the_same_months_last_year(world, client_for, plan_2026):
    SalesEntryFactory(
        organization=world.org, member=world.agent, date=dt.date(2025, 1, 31), amount=D("100")
    )
    SalesEntryFactory(
        organization=world.org, member=world.agent, date=dt.date(2025, 12, 1), amount=D("300")
    )
    parent = TargetFactory(plan=plan_2026, member=world.agent, value=D("12000.00"))
    response = breakdown(
        client_for(world.agent), parent, dimension="period", method="history", period_unit="month"
    )
    assert response.status_code == 201, response.data
    months = {child["start"]: child["value"] for child in response.data["children"]}
    assert len(months) == 12
    # Ten months without history get 1000.00 each; January and December split the other 2000
    # by 100:300.
    assert months["2026-01-01"] == "500.00"
    assert months["2026-12-01"] == "1500.00"
    assert months["2026-06-01"] == "1000.00"
    assert sum(D(value) for value in months.values()) == D("12000.00")


def test_period_breakdown_by_working_day(world, client_for, plan_2026, calendar_2026):
    parent = TargetFactory(
        plan=plan_2026,
        member=world.agent,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 11),
        value=D("300.00"),
    )
    response = breakdown(
        client_for(world.agent), parent, dimension="period", method="even", period_unit="day"
    )
    assert response.status_code == 201, response.data
    assert [(child["start"], child["value"]) for child in response.data["children"]] == [
        ("2026-10-08", "100.00"),
        ("2026-10-09", "100.00"),
        ("2026-10-10", "100.00"),
    ]
    for child in response.data["children"]:
        assert child["member"] == world.agent.pk and child["start"] == child["end"]


def test_manual_period_allocations_name_the_period_start(world, client_for, plan_2026):
    parent = TargetFactory(
        plan=plan_2026,
        member=world.agent,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 3, 31),
        value=D("900.00"),
    )
    client = client_for(world.agent)
    bad = breakdown(
        client,
        parent,
        dimension="period",
        method="manual",
        period_unit="month",
        allocations=[{"start": "2026-01-15", "value": "100.00"}],
    )
    assert bad.status_code == 400 and "allocations" in bad.data
    response = breakdown(
        client,
        parent,
        dimension="period",
        method="manual",
        period_unit="month",
        allocations=[
            {"start": "2026-01-01", "value": "200.00"},
            {"start": "2026-02-01", "value": "300.00"},
        ],
    )
    assert response.status_code == 201
    assert response.data["unallocated"] == "400.00"
    assert [(c["start"], c["end"]) for c in response.data["children"]] == [
        ("2026-01-01", "2026-01-31"),
        ("2026-02-01", "2026-02-28"),
    ]


def test_agents_personal_plan_by_product_but_not_by_member(world, client_for, plan_2026):
    p1, p2 = ProductFactory(organization=world.org), ProductFactory(organization=world.org)
    own = TargetFactory(plan=plan_2026, member=world.agent, value=D("1000.00"))
    client = client_for(world.agent)
    response = breakdown(
        client,
        own,
        dimension="product",
        method="weights",
        allocations=[{"product": p1.pk, "weight": 3}, {"product": p2.pk, "weight": 1}],
    )
    assert response.status_code == 201, response.data
    assert [(c["product"], c["value"]) for c in response.data["children"]] == [
        (p1.pk, "750.00"),
        (p2.pk, "250.00"),
    ]
    another = TargetFactory(plan=plan_2026, member=world.agent, value=D("10.00"))
    response = breakdown(
        client,
        another,
        dimension="member",
        method="even",
        allocations=[{"member": world.sub_agent.pk}],
    )
    assert response.status_code == 403
    # The leader's target is not even visible to the agent.
    leaders = TargetFactory(plan=plan_2026, member=world.leader)
    response = breakdown(client, leaders, dimension="period", method="even", period_unit="month")
    assert response.status_code == 404


def test_leader_breaks_down_only_inside_the_subtree(world, client_for, plan_2026):
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=D("100.00"))
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="even",
        allocations=[{"member": world.other_agent.pk}],
    )
    # Someone outside the caller's scope is an unknown id.
    assert response.status_code == 400 and "allocations" in response.data
    organization_target = TargetFactory(plan=plan_2026, value=D("100.00"))
    response = breakdown(
        client_for(world.leader),
        organization_target,
        dimension="member",
        method="even",
        allocations=[{"member": world.agent.pk}],
    )
    assert response.status_code == 403
    # A member outside the parent's member subtree, though inside the caller's scope.
    agents = TargetFactory(plan=plan_2026, member=world.agent, value=D("100.00"))
    response = breakdown(
        client_for(world.admin),
        agents,
        dimension="member",
        method="even",
        allocations=[{"member": world.other_agent.pk}],
    )
    assert response.status_code == 400 and "allocations" in response.data


def test_levels_are_copied_not_split(world, client_for, plan_2026, team):
    parent = TargetFactory(
        plan=plan_2026, member=world.leader, metric="report_compliance", value=D("0.95")
    )
    response = breakdown(
        client_for(world.leader),
        parent,
        dimension="member",
        method="even",
        allocations=[{"member": member.pk} for member in team],
    )
    assert response.status_code == 201
    assert [child["value"] for child in response.data["children"]] == ["0.95"] * 3
    assert response.data["unallocated"] is None


def test_report_metrics_cannot_be_broken_down_by_product(world, client_for, plan_2026):
    parent = TargetFactory(plan=plan_2026, member=world.agent, metric="followups", value=D("10"))
    response = breakdown(
        client_for(world.agent),
        parent,
        dimension="product",
        method="even",
        allocations=[{"product": ProductFactory(organization=world.org).pk}],
    )
    assert response.status_code == 400 and "dimension" in response.data


def test_breakdown_input_errors_are_400(world, client_for, plan_2026):
    parent = TargetFactory(plan=plan_2026, member=world.agent, value=D("10.00"))
    client = client_for(world.admin)
    for body in (
        {"dimension": "planet", "method": "even"},
        {"dimension": "member", "method": "even"},
        {"dimension": "member", "method": "manual", "allocations": [{"member": world.agent.pk}]},
        {"dimension": "period", "method": "even"},
        {"dimension": "member", "method": "weights", "allocations": [{"weight": "-1"}]},
        {"dimension": "member", "method": "even", "allocations": "nope"},
    ):
        response = client.post(f"{P}targets/{parent.pk}/breakdown/", body, format="json")
        assert response.status_code == 400, (body, response.data)
    assert not Target.objects.filter(parent=parent).exists()
