"""The morning view."""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans import dashboard
from plans.models import PlanStatus
from reports.models import FeedbackStatus, Urgency
from tests.plans.conftest import P
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import DailyReportFactory, MarketFeedbackFactory, SalesEntryFactory

D = Decimal


def test_morning_view_of_an_agent(world, client_for, plan_2026, calendar_2026, clock):
    clock.set("2026-10-16 09:30")  # a Friday; 8 working days of October so far
    october = TargetFactory(
        plan=plan_2026,
        member=world.agent,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 31),
        value=D("18000.00"),
    )
    # A piece of the agent's own target (their personal plan) is not shown twice.
    TargetFactory(
        plan=plan_2026, parent=october, member=world.agent, include_downline=False, value=D("1")
    )
    draft = SalesPlanFactory(organization=world.org, status=PlanStatus.DRAFT)
    TargetFactory(plan=draft, member=world.agent)
    for day, amount in ((dt.date(2026, 10, 9), "6000"), (dt.date(2026, 10, 16), "1200")):
        SalesEntryFactory(organization=world.org, member=world.agent, date=day, amount=D(amount))
    SalesEntryFactory(
        organization=world.org,
        member=world.sub_agent,
        date=dt.date(2026, 10, 15),
        amount=D("1000"),
    )
    DailyReportFactory(organization=world.org, member=world.agent, date=dt.date(2026, 10, 16))
    urgent = MarketFeedbackFactory(
        organization=world.org, author=world.sub_agent, urgency=Urgency.CRITICAL
    )
    MarketFeedbackFactory(organization=world.org, author=world.sub_agent, urgency=Urgency.NORMAL)
    MarketFeedbackFactory(
        organization=world.org,
        author=world.sub_agent,
        urgency=Urgency.HIGH,
        status=FeedbackStatus.RESOLVED,
    )
    MarketFeedbackFactory(organization=world.org, author=world.other_agent, urgency=Urgency.HIGH)

    client = client_for(world.agent)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{P}dashboard/today/")
    assert response.status_code == 200, response.data
    assert len(ctx.captured_queries) < 20
    data = response.data
    assert data["date"] == "2026-10-16"
    assert [row["id"] for row in data["targets"]] == [october.pk]
    row = data["targets"][0]
    assert (row["today_target"], row["today_actual"]) == ("1000.00", "1200.00")
    assert row["month_target"] == "18000.00"
    assert (row["month_to_date_target"], row["month_to_date_actual"]) == ("8000.00", "8200.00")
    assert row["attainment"] == "1.0250"
    assert row["pace"] == "on_track"
    assert [item["member"] for item in data["missing_reports"]] == [world.sub_agent.pk]
    assert data["missing_reports"][0]["upline"] == world.agent.pk
    assert [item["id"] for item in data["urgent_feedback"]] == [urgent.pk]
    assert data["pending_reviews"] == []


def test_morning_view_of_a_manager_shows_the_organizations_top_level_targets(
    world, client_for, plan_2026, calendar_2026, clock
):
    clock.set("2026-10-08 09:00")  # the first working day after National Day
    whole = TargetFactory(plan=plan_2026, value=D("250000.00"))
    child = TargetFactory(plan=plan_2026, parent=whole, member=world.leader, value=D("100.00"))
    response = client_for(world.owner).get(f"{P}dashboard/today/")
    assert [row["id"] for row in response.data["targets"]] == [whole.pk]
    row = response.data["targets"][0]
    assert row["month_to_date_target"] == row["today_target"] != "0.00"
    assert row["pace"] == "behind"
    # The leader sees none of the organization's targets as their own; their own they do.
    response = client_for(world.leader).get(f"{P}dashboard/today/")
    assert [row["id"] for row in response.data["targets"]] == [child.pk]
    # Everyone in the leader's subtree is due today; nobody has filed.
    assert {item["member"] for item in response.data["missing_reports"]} == {
        world.leader.pk,
        world.agent.pk,
        world.sub_agent.pk,
    }


def test_nobody_is_missing_on_a_holiday(world, client_for, calendar_2026, clock):
    clock.set("2026-10-02 09:00")
    response = client_for(world.owner).get(f"{P}dashboard/today/")
    assert response.status_code == 200
    assert response.data["missing_reports"] == []
    assert response.data["targets"] == []


def test_pending_reviews_come_from_a_registered_provider(world, client_for, monkeypatch):
    monkeypatch.setattr(dashboard, "_pending_reviews_providers", [])
    assert client_for(world.leader).get(f"{P}dashboard/today/").data["pending_reviews"] == []

    def reviews(*, organization, viewer):
        if viewer != world.leader:
            return []
        return [
            {
                "appraisal": 7,
                "cycle": 3,
                "member": world.agent.pk,
                "display_name": world.agent.display_name,
                "review_deadline": dt.date(2026, 7, 10),
            }
        ]

    dashboard.register_pending_reviews(reviews)
    dashboard.register_pending_reviews(reviews)
    data = client_for(world.leader).get(f"{P}dashboard/today/").data["pending_reviews"]
    assert data == [
        {
            "appraisal": 7,
            "cycle": 3,
            "member": world.agent.pk,
            "display_name": world.agent.display_name,
            "review_deadline": "2026-07-10",
        }
    ]
    assert client_for(world.agent).get(f"{P}dashboard/today/").data["pending_reviews"] == []
