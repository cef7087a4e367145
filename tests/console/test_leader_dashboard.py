"""A leader with staff access opens the same dashboard, limited to their subtree: their own
targets' pace, their team's attainment, their own target's line, their people's missing
reports, feedback and grades. Never a number of the other branch or of the whole organization,
and no links into the admin's changelists (those are for owners and admins)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.agents.factories import MembershipFactory
from tests.console.conftest import DASHBOARD
from tests.console.page import elements
from tests.console.test_dashboard import P, staff, values
from tests.plans.factories import TargetFactory
from tests.reports.factories import SalesEntryFactory


@pytest.fixture
def branches(world, scene):
    """October targets for both leaders and their agents (beside the organization's)."""
    mine = TargetFactory(plan=scene.plan, member=world.leader, value=Decimal("16000.00"))
    TargetFactory(plan=scene.plan, parent=mine, member=world.agent, value=Decimal("9000.00"))
    theirs = TargetFactory(plan=scene.plan, member=world.other_leader, value=Decimal("11000.00"))
    TargetFactory(
        plan=scene.plan, parent=theirs, member=world.other_agent, value=Decimal("7000.00")
    )
    return mine, theirs


def test_a_leader_sees_their_subtree_as_the_api_shows_it_to_them(
    world, scene, branches, client, client_for
):
    mine, theirs = branches
    client.force_login(staff(world.leader))
    # The chooser leads to the one organization they lead in.
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content
    api = client_for(world.leader)

    # Pace: their own top-most target, as their morning view has it.
    today = api.get(f"{P}dashboard/today/").data
    shown = [row for row in today["targets"] if row["plan"] == scene.plan.pk]
    assert [row["id"] for row in shown] == [mine.pk]
    cards = elements(html, "pace-card", within="pace-cards")
    assert [card["data-pace"] for card in cards] == [row["pace"] for row in shown]
    assert f"¥{Decimal(shown[0]['month_to_date_actual']):,.2f}".encode() in html

    # Their team's attainment, as `attainment/?group_by=member` answers them.
    rows = api.get(
        f"{P}attainment/", {"plan": scene.plan.pk, "metric": "sales_amount", "group_by": "member"}
    ).data
    assert values(html, "bar", "chart-team") == [
        (row["label"], Decimal(row["actual"])) for row in rows
    ]
    assert {row["key"] for row in rows} == {world.leader.pk, world.agent.pk}
    team = dict(values(html, "bar", "chart-team"))
    # Each with their downline: the leader's 450.50 + the agent's 6000 + the sub-agent's 1000.
    assert team[world.leader.display_name] == Decimal("7450.50")
    assert team[world.agent.display_name] == Decimal("7000.00")
    # No organization-wide region or product bars.
    assert b'id="chart-regions"' not in html and b'id="chart-products"' not in html

    # The line follows their own target.
    progress = api.get(f"{P}targets/{mine.pk}/progress/").data
    assert values(html, "point-actual", "chart-progress") == [
        (day["date"], Decimal(day["cumulative_actual"]))
        for day in progress["daily"]
        if day["cumulative_actual"] is not None
    ]
    assert values(html, "point-target", "chart-progress")[-1][1] == Decimal("16000.00")

    # Their people only.
    assert [int(li["data-member"]) for li in elements(html, "missing-member")] == [
        item["member"] for item in today["missing_reports"]
    ]
    assert [int(li["data-feedback"]) for li in elements(html, "feedback-item")] == [
        item["id"] for item in today["urgent_feedback"]
    ]
    # March's grades of their subtree: agent A, leader B, sub_agent C (the other branch has
    # an A and a D), as the appraisals API lists them for the leader.
    listed = api.get(f"{P}appraisals/", {"cycle": scene.cycle.pk, "page_size": 200}).data
    counts = {}
    for appraisal in listed["results"]:
        counts[appraisal["grade"]] = counts.get(appraisal["grade"], 0) + 1
    assert counts == {"A": 1, "B": 1, "C": 1}
    assert values(html, "bin", "chart-grades") == [("A", 1), ("B", 1), ("C", 1), ("D", 0)]
    # Nothing leads into the admin's changelists, which are not theirs.
    assert elements(html, "bar-link") == [] and elements(html, "member-reports") == []


def test_a_leader_never_sees_the_other_branch_or_the_whole_organization(
    world, scene, branches, client
):
    mine, theirs = branches
    client.force_login(staff(world.leader))
    page = client.get(DASHBOARD).content.decode()
    for text in (
        world.other_leader.display_name,
        world.other_agent.display_name,
        "¥11,000",  # the other leader's target
        "¥1,200.00",  # the other agent's sale
        "¥31,000",  # the organization's target
        "¥8,650.50",  # the organization's actual
        "West",
    ):
        assert text not in page, text
    # The other branch's target, or the organization's, is not a choice for the line.
    for target in (theirs, scene.root):
        response = client.get(DASHBOARD, {"target": target.pk})
        assert response.status_code == 400
        errors = elements(response.content, "errorlist", within="query-errors")
        assert [error["data-field"] for error in errors] == ["target"]
    # Their own target is.
    assert client.get(DASHBOARD, {"target": mine.pk}).status_code == 200

    # And the other leader, the other way round.
    client.force_login(staff(world.other_leader))
    page = client.get(DASHBOARD).content.decode()
    bars = values(page, "bar", "chart-team")
    assert [label for label, _ in bars] == sorted(
        [world.other_leader.display_name, world.other_agent.display_name]
    )
    assert world.leader.display_name not in page and world.agent.display_name not in page
    assert "¥7,450.50" not in page and "¥16,000" not in page


def test_a_leader_who_has_left_has_no_dashboard(world, scene, client):
    user = staff(world.leader)
    world.leader.status = "left"
    world.leader.save(update_fields=["status"])
    client.force_login(user)
    assert client.get(DASHBOARD).status_code == 404


def test_a_leaders_page_runs_a_constant_number_of_queries(world, scene, branches, client):
    client.force_login(staff(world.leader))
    client.get(DASHBOARD)

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(DASHBOARD).status_code == 200
        return len(context.captured_queries)

    small = count()
    mine = branches[0]
    for _ in range(8):
        member = MembershipFactory(
            organization=world.org, upline=world.agent, region=world.leader.region
        )
        TargetFactory(plan=scene.plan, parent=mine, member=member, value=Decimal("500.00"))
        SalesEntryFactory(
            organization=world.org, member=member, product=scene.tea, date=dt.date(2026, 10, 14)
        )
    assert count() == small
    assert small < 40
