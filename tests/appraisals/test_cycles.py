"""Opening, set-based scoring and reviews."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Role
from appraisals import services
from appraisals.models import Appraisal, CriterionScore, CycleStatus
from tests.agents.factories import MembershipFactory, OrganizationFactory
from tests.appraisals.factories import (
    COOPERATION,
    MARCH,
    SALES,
    AppraisalCycleFactory,
    cycle_open,
    template_create,
)
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import DailyReportFactory, SalesEntryFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"


def appraisal_of(cycle, member) -> Appraisal:
    return Appraisal.objects.select_related("cycle__template", "member").get(
        cycle=cycle, member=member
    )


def score_row(appraisal, name) -> CriterionScore:
    return appraisal.scores.get(criterion__name=name)


# --- Opening -------------------------------------------------------------------------------------


def test_opening_creates_one_appraisal_per_eligible_member_with_the_upline_reviewer(
    world, template, client_for
):
    cycle = AppraisalCycleFactory(template=template)
    response = client_for(world.admin).post(f"{P}appraisal-cycles/{cycle.pk}/open/")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "open"
    assert response.data["appraisal_count"] == 5
    reviewers = dict(Appraisal.objects.filter(cycle=cycle).values_list("member", "reviewer"))
    # owners and admins are not appraised by default (roles leader and agent)
    assert reviewers == {
        world.leader.pk: world.owner.pk,  # no upline: an owner
        world.agent.pk: world.leader.pk,
        world.sub_agent.pk: world.leader.pk,  # the upline is an agent: the next leader up
        world.other_leader.pk: world.owner.pk,
        world.other_agent.pk: world.other_leader.pk,
    }
    appraisal = appraisal_of(cycle, world.agent)
    assert appraisal.region.name == "East"
    cooperation = score_row(appraisal, "Cooperation")
    assert cooperation.score is None and cooperation.weighted_score is None
    again = client_for(world.admin).post(f"{P}appraisal-cycles/{cycle.pk}/open/")
    assert again.status_code == 409
    assert Appraisal.objects.filter(cycle=cycle).count() == 5


def test_eligibility_by_role_status_level_and_joining_date(world, client_for):
    from tests.agents.factories import AgentLevelFactory

    gold = AgentLevelFactory(organization=world.org, name="Gold", rank=3)
    world.agent.level = gold
    world.agent.save()
    world.other_agent.status = "suspended"
    world.other_agent.save()
    MembershipFactory(organization=world.org, upline=world.leader, joined_on=dt.date(2026, 4, 2))
    template = template_create(world.org, eligibility={"roles": ["agent"], "statuses": ["active"]})
    cycle = cycle_open(template)
    assert set(cycle.appraisals.values_list("member", flat=True)) == {
        world.agent.pk,
        world.sub_agent.pk,
    }
    only_gold = template_create(
        world.org,
        name="Gold only",
        eligibility={"roles": ["agent"], "statuses": ["active"], "levels": [gold.pk]},
    )
    cycle = cycle_open(only_gold)
    assert list(cycle.appraisals.values_list("member", flat=True)) == [world.agent.pk]


# --- Quantitative scoring ------------------------------------------------------------------------


def test_scores_against_the_members_own_target(world, template, target_for, sale):
    target_for(world.agent, 10000)
    sale(world.agent, "5000")
    sale(world.agent, "3000", day=31)
    sale(world.agent, "9999", month=4)  # outside the period
    sale(world.sub_agent, "4000")  # the agent's target does not include the downline
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    sales = score_row(appraisal, "Sales")
    assert (sales.raw_value, sales.target_value) == (D("8000"), D("10000"))
    assert (sales.score, sales.weighted_score, sales.target_missing) == (D("80"), D("48"), False)
    assert appraisal.quantitative_score == D("48.00")
    assert appraisal.qualitative_score == D("0.00")
    assert appraisal.total_score == D("48.00")
    assert appraisal.attainment == D("80.00")


def test_a_downline_target_counts_the_subtree(world, template, target_for, sale):
    target_for(world.leader, 20000, include_downline=True)
    sale(world.leader, "3000")
    sale(world.agent, "8000")
    sale(world.sub_agent, "4000")
    sale(world.other_agent, "7000")  # another branch
    cycle = cycle_open(template)
    sales = score_row(appraisal_of(cycle, world.leader), "Sales")
    assert (sales.raw_value, sales.target_value, sales.score) == (D(15000), D(20000), D(75))


def test_the_target_is_the_sum_of_base_member_targets_inside_the_period(
    world, template, target_for, sale, plan
):
    # A March target broken down into two halves of the same member: counted once (10000).
    parent = target_for(world.agent, 10000)
    for start, end in ((1, 15), (16, 31)):
        TargetFactory(
            plan=plan,
            parent=parent,
            member=world.agent,
            include_downline=False,
            start=dt.date(2026, 3, start),
            end=dt.date(2026, 3, end),
            value=D(5000),
        )
    # Left out: another tier, a product target, one outside the period, another metric.
    target_for(world.agent, 99999, tier="stretch")
    product = SalesEntryFactory(organization=world.org, member=world.agent, amount=0).product
    target_for(world.agent, 99999, product=product)
    target_for(world.agent, 99999, period=(dt.date(2026, 1, 1), dt.date(2026, 3, 31)))
    target_for(world.agent, 99999, metric="profit")
    # Two separate targets inside the period add up (for an additive metric).
    target_for(world.sub_agent, 1000, period=(dt.date(2026, 3, 1), dt.date(2026, 3, 10)))
    target_for(world.sub_agent, 3000, period=(dt.date(2026, 3, 11), dt.date(2026, 3, 31)))
    sale(world.agent, "9000")
    sale(world.sub_agent, "2000")
    cycle = cycle_open(template)
    agent_sales = score_row(appraisal_of(cycle, world.agent), "Sales")
    assert (agent_sales.target_value, agent_sales.score) == (D(10000), D(90))
    sub_sales = score_row(appraisal_of(cycle, world.sub_agent), "Sales")
    assert (sub_sales.target_value, sub_sales.score) == (D(4000), D(50))


def test_without_a_target_the_criterion_scores_zero_and_the_appraisal_says_so(
    world, template, sale, client_for
):
    sale(world.agent, "8000")
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    sales = score_row(appraisal, "Sales")
    assert (sales.raw_value, sales.target_value, sales.score) == (D(8000), None, D(0))
    assert sales.target_missing
    data = client_for(world.agent).get(f"{P}appraisals/{appraisal.pk}/").data
    row = next(s for s in data["scores"] if s["criterion_name"] == "Sales")
    assert row["target_value"] is None and row["raw_value"] == "8000.00"
    assert row["score"] == "0.00" and row["target_missing"] is True
    assert "target" in row["comment"].lower()
    assert any("Sales" in note for note in data["notes"])


def test_other_methods_score_the_members_own_facts(world):
    criteria = [
        {
            "name": "Follow-ups",
            "kind": "quantitative",
            "metric": "followups",
            "weight": D(50),
            "method": "linear",
            "params": {"floor": 0, "ceiling": 20},
        },
        {
            "name": "Lost",
            "kind": "quantitative",
            "metric": "lost_customers",
            "weight": D(50),
            "method": "lower_is_better",
            "params": {"best": 0, "worst": 4},
        },
    ]
    template = template_create(world.org, criteria=criteria)
    DailyReportFactory(
        organization=world.org,
        member=world.agent,
        date=dt.date(2026, 3, 2),
        followups=7,
        lost_customers=1,
    )
    DailyReportFactory(
        organization=world.org,
        member=world.agent,
        date=dt.date(2026, 3, 3),
        followups=8,
        lost_customers=0,
    )
    DailyReportFactory(
        organization=world.org, member=world.sub_agent, date=dt.date(2026, 3, 3), followups=20
    )
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    followups = score_row(appraisal, "Follow-ups")
    lost = score_row(appraisal, "Lost")
    assert (followups.raw_value, followups.score, followups.weighted_score) == (15, 75, D("37.5"))
    assert (lost.raw_value, lost.score, lost.weighted_score) == (1, 75, D("37.5"))
    assert appraisal.total_score == D("75.00") and appraisal.grade == "B"
    assert appraisal.attainment is None  # no ratio-to-target criterion


def test_rescoring_unchanged_facts_changes_nothing(world, template, target_for, sale, client_for):
    target_for(world.agent, 10000)
    sale(world.agent, "8000")
    cycle = cycle_open(template)
    before = list(CriterionScore.objects.filter(appraisal__cycle=cycle).order_by("id").values())
    appraisals = list(Appraisal.objects.filter(cycle=cycle).order_by("id").values())
    response = client_for(world.owner).post(f"{P}appraisal-cycles/{cycle.pk}/score/")
    assert response.status_code == 200
    assert response.data == {"scores_changed": 0, "appraisals_changed": 0}
    assert list(CriterionScore.objects.filter(appraisal__cycle=cycle).order_by("id").values()) == (
        before
    )
    assert list(Appraisal.objects.filter(cycle=cycle).order_by("id").values()) == appraisals
    sale(world.agent, "1000")
    result = services.appraisal_cycle_score(cycle=cycle)
    assert result == {"scores_changed": 1, "appraisals_changed": 1}
    assert score_row(appraisal_of(cycle, world.agent), "Sales").score == D(90)


def _team(size: int):
    """An organization with one leader and `size` agents, each with a target, sales and
    reports in March; and a template with a ratio, a linear and a qualitative criterion."""
    org = OrganizationFactory()
    MembershipFactory(organization=org, role=Role.OWNER)
    leader = MembershipFactory(organization=org, role=Role.LEADER)
    agents = [MembershipFactory(organization=org, upline=leader) for _ in range(size)]
    plan = SalesPlanFactory(organization=org)
    TargetFactory(plan=plan, member=leader, include_downline=True, start=MARCH[0], end=MARCH[1])
    for agent in agents:
        TargetFactory(plan=plan, member=agent, include_downline=False, start=MARCH[0], end=MARCH[1])
        SalesEntryFactory(organization=org, member=agent, date=dt.date(2026, 3, 5))
        DailyReportFactory(organization=org, member=agent, date=dt.date(2026, 3, 5))
    followups = {
        "name": "Follow-ups",
        "kind": "quantitative",
        "metric": "followups",
        "weight": D(20),
        "method": "linear",
        "params": {"floor": 0, "ceiling": 30},
    }
    template = template_create(
        org,
        criteria=[{**SALES, "weight": D(40)}, followups, COOPERATION],
        rules=[{"if": {"grade": "D", "consecutive": 2}, "then": "eliminate"}],
    )
    cycle = cycle_open(template)
    # New facts for everyone, so that the measured pass really rewrites every score.
    for agent in agents:
        SalesEntryFactory(organization=org, member=agent, date=dt.date(2026, 3, 6))
        DailyReportFactory(organization=org, member=agent, date=dt.date(2026, 3, 6))
    return cycle


def _scoring_queries(cycle) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        result = services.appraisal_cycle_score(cycle=cycle)
    return len(queries), result


def test_scoring_is_set_based_the_query_count_does_not_grow_with_members(db):
    small, large = _team(5), _team(30)
    small_count, small_result = _scoring_queries(small)
    large_count, large_result = _scoring_queries(large)
    # Two criteria for each agent, and the leader's sales (their own follow-ups stay at 0).
    assert small_result["scores_changed"] == 5 * 2 + 1
    assert large_result["scores_changed"] == 30 * 2 + 1
    assert small_count == large_count, (small_count, large_count)
    assert large_count <= 20
    # A re-run over unchanged facts: same number of reads, no writes.
    rerun_count, rerun_result = _scoring_queries(large)
    assert rerun_result == {"scores_changed": 0, "appraisals_changed": 0}
    assert rerun_count < large_count


def test_opening_does_not_query_per_member(db):
    counts = []
    for size in (5, 30):
        org = OrganizationFactory()
        leader = MembershipFactory(organization=org, role=Role.LEADER)
        for _ in range(size):
            MembershipFactory(organization=org, upline=leader)
        template = template_create(org)
        cycle = AppraisalCycleFactory(template=template)
        with CaptureQueriesContext(connection) as queries:
            services.appraisal_cycle_open(organization=org, actor=None, cycle=cycle)
        counts.append(len(queries))
        assert cycle.appraisals.count() == size + 1
    assert counts[0] == counts[1], counts


def test_only_an_open_cycle_is_scored(world, template, client_for):
    cycle = AppraisalCycleFactory(template=template)
    response = client_for(world.admin).post(f"{P}appraisal-cycles/{cycle.pk}/score/")
    assert response.status_code == 409
    assert cycle.status == CycleStatus.DRAFT
