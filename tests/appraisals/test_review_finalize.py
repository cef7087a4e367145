"""Reviews, finalization (locking, ranks, grades, outcomes applied once) and rules across
cycles."""

from decimal import Decimal as D

import pytest

from agents.models import MemberStatus
from appraisals import services
from appraisals.models import Appraisal, CycleStatus, OutcomeAudit
from tests.agents.factories import AgentLevelFactory
from tests.appraisals.factories import (
    APRIL,
    GRADES,
    MARCH,
    MAY,
    cycle_open,
    finalize,
    review,
    review_all,
    template_create,
)

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"


def appraisal_of(cycle, member) -> Appraisal:
    return Appraisal.objects.select_related("cycle__template", "member").get(
        cycle=cycle, member=member
    )


def criterion(template, name):
    return template.criteria.get(name=name)


# --- Review --------------------------------------------------------------------------------------


def test_the_leader_reviews_and_the_final_outcome_defaults_to_the_recommendation(
    world, template, target_for, sale, client_for
):
    target_for(world.agent, 10000)
    sale(world.agent, "10000")  # sales 100 x 60% = 60
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    cooperation = criterion(template, "Cooperation")
    response = client_for(world.leader).post(
        f"{P}appraisals/{appraisal.pk}/review/",
        {
            "scores": [{"criterion": cooperation.pk, "score": 4, "comment": "helps others"}],
            "comment": "Good month",
            "improvement_plan": "More follow-ups",
        },
    )
    assert response.status_code == 200, response.data
    data = response.data
    row = next(s for s in data["scores"] if s["criterion"] == cooperation.pk)
    assert (row["raw_value"], row["score"], row["weighted_score"]) == ("4.00", "80.00", "32.00")
    assert row["comment"] == "helps others"
    assert (data["quantitative_score"], data["qualitative_score"]) == ("60.00", "32.00")
    assert data["total_score"] == "92.00" and data["grade"] == "A"
    assert data["recommended_outcome"] == "reward" and data["final_outcome"] == "reward"
    assert data["reviewer_comment"] == "Good month"
    assert data["improvement_plan"] == "More follow-ups"
    assert data["reviewed_at"] is not None and data["reviewed_by"] == world.leader.pk


def test_a_chosen_final_outcome_is_kept(world, template, client_for):
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.sub_agent)
    cooperation = criterion(template, "Cooperation")
    response = client_for(world.owner).post(
        f"{P}appraisals/{appraisal.pk}/review/",
        {"scores": [{"criterion": cooperation.pk, "score": 2}], "final_outcome": "warn"},
    )
    assert response.status_code == 200, response.data
    assert response.data["recommended_outcome"] == "eliminate"  # grade D (16 points)
    assert response.data["final_outcome"] == "warn"


def test_review_input_is_checked_against_the_template(world, template, client_for):
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    sales, cooperation = criterion(template, "Sales"), criterion(template, "Cooperation")
    url = f"{P}appraisals/{appraisal.pk}/review/"
    client = client_for(world.leader)

    quantitative = client.post(url, {"scores": [{"criterion": sales.pk, "score": 3}]})
    assert quantitative.status_code == 400
    assert "Sales" in str(quantitative.data["scores"][0]["criterion"])

    for bad_score in (0, 6):
        out_of_scale = client.post(
            url, {"scores": [{"criterion": cooperation.pk, "score": bad_score}]}
        )
        assert out_of_scale.status_code == 400
        assert "score" in out_of_scale.data["scores"][0]

    unknown = client.post(url, {"scores": [{"criterion": 999999, "score": 3}]})
    assert unknown.status_code == 400 and "criterion" in unknown.data["scores"][0]

    missing = client.post(url, {"comment": "no scores"})
    assert missing.status_code == 400 and "Cooperation" in str(missing.data["scores"])

    bad_outcome = client.post(
        url,
        {"scores": [{"criterion": cooperation.pk, "score": 3}], "final_outcome": "fire"},
    )
    assert bad_outcome.status_code == 400 and "final_outcome" in bad_outcome.data

    garbage = client.post(url, {"scores": "lots"})
    assert garbage.status_code == 400

    appraisal.refresh_from_db()
    assert appraisal.reviewed_at is None  # nothing written


def test_nobody_reviews_themself_and_leaders_only_their_subtree(world, template, client_for):
    cycle = cycle_open(template)
    cooperation = criterion(template, "Cooperation")
    body = {"scores": [{"criterion": cooperation.pk, "score": 3}]}

    own = appraisal_of(cycle, world.leader)
    assert client_for(world.leader).post(f"{P}appraisals/{own.pk}/review/", body).status_code == (
        403
    )
    agent = appraisal_of(cycle, world.agent)
    url = f"{P}appraisals/{agent.pk}/review/"
    assert client_for(world.other_leader).post(url, body).status_code == 404
    assert client_for(world.agent).post(url, body).status_code == 403  # agents do not review
    sub = appraisal_of(cycle, world.sub_agent)
    # the agent is the sub-agent's upline, but agents see only their own appraisals
    sub_url = f"{P}appraisals/{sub.pk}/review/"
    assert client_for(world.agent).post(sub_url, body).status_code == 404
    assert client_for(world.leader).post(url, body).status_code == 200


def test_an_admin_does_not_review_their_own_appraisal(world, client_for):
    template = template_create(world.org, eligibility={"roles": ["admin", "agent"]})
    cycle = cycle_open(template)
    own = appraisal_of(cycle, world.admin)
    assert own.reviewer_id == world.owner.pk
    cooperation = criterion(template, "Cooperation")
    response = client_for(world.admin).post(
        f"{P}appraisals/{own.pk}/review/",
        {"scores": [{"criterion": cooperation.pk, "score": 5}]},
    )
    assert response.status_code == 403


# --- Finalize ------------------------------------------------------------------------------------


def test_finalize_refuses_while_reviews_are_missing_and_lists_them(world, template, client_for):
    cycle = cycle_open(template)
    review(appraisal_of(cycle, world.agent), world.leader)
    response = client_for(world.admin).post(f"{P}appraisal-cycles/{cycle.pk}/finalize/")
    assert response.status_code == 409
    missing = response.data["details"]["missing_reviews"]
    assert {row["member"] for row in missing} == {
        world.leader.pk,
        world.sub_agent.pk,
        world.other_leader.pk,
        world.other_agent.pk,
    }
    assert all({"appraisal", "display_name", "reviewer"} <= set(row) for row in missing)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.OPEN
    forced = client_for(world.admin).post(
        f"{P}appraisal-cycles/{cycle.pk}/finalize/", {"force": True}
    )
    assert forced.status_code == 200, forced.data
    assert forced.data["status"] == "finalized" and forced.data["finalized_at"]
    # an unreviewed appraisal takes its recommended outcome
    unreviewed = appraisal_of(cycle, world.other_agent)
    assert unreviewed.final_outcome == unreviewed.recommended_outcome == "eliminate"


def test_finalize_fixes_totals_ranks_with_ties_and_grades(world, template, target_for, sale):
    for member, amount in (
        (world.leader, 9000),
        (world.agent, 7500),
        (world.sub_agent, 7500),
        (world.other_leader, 5000),
        (world.other_agent, 0),
    ):
        target_for(member, 10000)
        if amount:
            sale(member, amount)
    cycle = cycle_open(template)
    for appraisal in cycle.appraisals.select_related("cycle__template", "member"):
        actor = world.owner if appraisal.member_id != world.owner.pk else world.admin
        review(appraisal, actor, score=5)  # +40
    finalize(cycle, world.owner)
    results = {
        a.member_id: (a.total_score, a.rank, a.grade, a.final_outcome)
        for a in cycle.appraisals.all()
    }
    assert results == {
        world.leader.pk: (D("94.00"), 1, "A", "reward"),
        world.agent.pk: (D("85.00"), 2, "B", "retain"),
        world.sub_agent.pk: (D("85.00"), 2, "B", "retain"),
        world.other_leader.pk: (D("70.00"), 4, "C", "warn"),
        world.other_agent.pk: (D("40.00"), 5, "D", "eliminate"),
    }


def test_a_finalized_cycle_is_read_only(world, template, client_for):
    cycle = cycle_open(template)
    review_all(cycle, world.owner)
    finalize(cycle, world.owner)
    appraisal = appraisal_of(cycle, world.agent)
    cooperation = criterion(template, "Cooperation")
    admin = client_for(world.admin)
    url = f"{P}appraisal-cycles/{cycle.pk}/"
    assert admin.patch(url, {"review_deadline": "2026-04-10"}).status_code == 409
    assert admin.delete(url).status_code == 409
    assert admin.post(f"{url}open/").status_code == 409
    assert admin.post(f"{url}score/").status_code == 409
    review_again = client_for(world.owner).post(
        f"{P}appraisals/{appraisal.pk}/review/",
        {"scores": [{"criterion": cooperation.pk, "score": 1}]},
    )
    assert review_again.status_code == 409
    empty_review = client_for(world.owner).post(f"{P}appraisals/{appraisal.pk}/review/", {})
    assert empty_review.status_code == 409
    template_change = admin.patch(
        f"{P}appraisal-templates/{template.pk}/",
        {"grades": [{"grade": "P", "min_score": "0", "outcome": "retain"}]},
        format="json",
    )
    assert template_change.status_code == 409
    assert admin.delete(f"{P}appraisal-templates/{template.pk}/").status_code == 409
    # the name of a template in use may still change
    rename = admin.patch(f"{P}appraisal-templates/{template.pk}/", {"name": "Monthly (2026)"})
    assert rename.status_code == 200
    appraisal.refresh_from_db()
    assert appraisal.grade is not None and appraisal.reviewed_at is not None


def test_an_open_cycle_keeps_its_period_and_a_draft_can_be_deleted(world, template, client_for):
    cycle = cycle_open(template)
    admin = client_for(world.admin)
    url = f"{P}appraisal-cycles/{cycle.pk}/"
    assert admin.patch(url, {"end": "2026-03-30"}).status_code == 409
    assert admin.patch(url, {"review_deadline": "2026-04-05"}).status_code == 200
    assert admin.delete(url).status_code == 409
    draft = admin.post(
        f"{P}appraisal-cycles/",
        {"template": template.pk, "start": "2026-04-01", "end": "2026-04-30"},
    )
    assert draft.status_code == 201, draft.data
    overlapping = admin.post(
        f"{P}appraisal-cycles/",
        {"template": template.pk, "start": "2026-04-15", "end": "2026-05-15"},
    )
    assert overlapping.status_code == 400 and "start" in overlapping.data
    backwards = admin.post(
        f"{P}appraisal-cycles/",
        {"template": template.pk, "start": "2026-06-30", "end": "2026-06-01"},
    )
    assert backwards.status_code == 400 and "end" in backwards.data
    rival_template = template_create(world.rival)
    foreign = admin.post(
        f"{P}appraisal-cycles/",
        {"template": rival_template.pk, "start": "2026-07-01", "end": "2026-07-31"},
    )
    assert foreign.status_code == 400 and "template" in foreign.data
    assert admin.delete(f"{P}appraisal-cycles/{draft.data['id']}/").status_code == 204


# --- Outcomes ------------------------------------------------------------------------------------


def _levels(world):
    return [
        AgentLevelFactory(organization=world.org, name=name, rank=rank)
        for name, rank in (("Bronze", 1), ("Silver", 2), ("Gold", 3))
    ]


def test_outcomes_are_applied_once_with_an_audit_even_if_finalize_is_retried(
    world, template, client_for
):
    bronze, silver, gold = _levels(world)
    for member, level in ((world.agent, silver), (world.sub_agent, silver), (world.leader, gold)):
        member.level = level
        member.save()
    cycle = cycle_open(template)
    outcomes = {
        world.agent: "promote",
        world.sub_agent: "demote",
        world.other_agent: "eliminate",
        world.leader: "promote",  # already at the top
    }
    for appraisal in cycle.appraisals.select_related("cycle__template", "member"):
        review(appraisal, world.owner, final_outcome=outcomes.get(appraisal.member, "retain"))
    client = client_for(world.owner)
    first = client.post(f"{P}appraisal-cycles/{cycle.pk}/finalize/")
    assert first.status_code == 200, first.data
    second = client.post(f"{P}appraisal-cycles/{cycle.pk}/finalize/", {"force": True})
    assert second.status_code == 200
    services.appraisal_cycle_finalize(organization=world.org, actor=world.admin, cycle=cycle)

    for member in (world.agent, world.sub_agent, world.other_agent, world.leader):
        member.refresh_from_db()
    assert world.agent.level == gold
    assert world.sub_agent.level == bronze
    assert world.other_agent.status == MemberStatus.SUSPENDED
    assert world.leader.level == gold
    audits = OutcomeAudit.objects.filter(cycle=cycle)
    assert audits.count() == 5
    promoted = audits.get(member=world.agent)
    assert promoted.outcome == "promote" and promoted.actor == world.owner
    assert promoted.before == {
        "level": silver.pk,
        "level_name": "Silver",
        "level_rank": 2,
        "status": "active",
    }
    assert promoted.after["level"] == gold.pk and promoted.after["level_name"] == "Gold"
    assert audits.get(member=world.leader).note == "no_higher_level"
    eliminated = audits.get(member=world.other_agent)
    assert (eliminated.before["status"], eliminated.after["status"]) == ("active", "suspended")
    assert not cycle.appraisals.filter(outcome_applied_at__isnull=True).exists()


def test_a_member_without_a_level_is_promoted_to_the_lowest(world, template):
    bronze, _silver, _gold = _levels(world)
    cycle = cycle_open(template)
    for appraisal in cycle.appraisals.select_related("cycle__template", "member"):
        outcome = "promote" if appraisal.member == world.agent else "retain"
        review(appraisal, world.owner, final_outcome=outcome)
    finalize(cycle, world.owner)
    world.agent.refresh_from_db()
    assert world.agent.level == bronze


# --- Rules across cycles -------------------------------------------------------------------------


def test_grade_d_twice_in_a_row_recommends_elimination(world, target_for, sale):
    grades = [dict(g) for g in GRADES]
    grades[-1]["outcome"] = "warn"  # D alone is a warning
    template = template_create(
        world.org,
        grades=grades,
        rules=[{"if": {"grade": "D", "consecutive": 2}, "then": "eliminate"}],
    )
    march = cycle_open(template)
    review_all(march, world.owner, score=1)
    finalize(march, world.owner)
    assert appraisal_of(march, world.agent).final_outcome == "warn"
    april = cycle_open(template, APRIL)
    agent = appraisal_of(april, world.agent)
    assert agent.grade == "D" and agent.recommended_outcome == "eliminate"
    assert agent.recommendation_basis == {"source": "rule", "rule": 0, "grade": "D"}
    # a member who did better in April is not eliminated
    target_for(world.sub_agent, 1000, period=APRIL)
    sale(world.sub_agent, "1000", month=4)
    services.appraisal_cycle_score(cycle=april)
    assert appraisal_of(april, world.sub_agent).recommended_outcome == "warn"


def test_promotion_rule_with_attainment_and_cooldown(world, target_for, sale):
    template = template_create(
        world.org,
        rules=[
            {
                "if": {"grade": "A", "min_attainment": 100},
                "then": "promote",
                "cooldown_cycles": 1,
            }
        ],
    )
    _levels(world)
    cycles = []
    for period in (MARCH, APRIL, MAY):
        target_for(world.agent, 10000, period=period)
        sale(world.agent, "11000", month=period[0].month)
        cycle = cycle_open(template, period)
        review_all(cycle, world.owner, score=5)
        agent = appraisal_of(cycle, world.agent)
        cycles.append((agent.grade, agent.attainment, agent.recommended_outcome))
        finalize(cycle, world.owner)
    # March: promote; April: cooling down (A's band outcome: reward); May: promote again
    assert cycles == [
        ("A", D("110.00"), "promote"),
        ("A", D("110.00"), "reward"),
        ("A", D("110.00"), "promote"),
    ]
