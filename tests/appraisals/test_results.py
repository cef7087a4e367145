"""Who sees which appraisals; leaderboard, roll-ups, history and acknowledgement."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Region
from appraisals.models import Appraisal
from tests.agents.factories import MembershipFactory, RegionFactory
from tests.appraisals.factories import APRIL, cycle_open, finalize, review_all

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"


@pytest.fixture
def finalized(world, template, target_for, sale):
    """March, finalized: sales against 10000 targets (x 60%), cooperation 4/5 for everyone
    (+32): leader 9000 -> 86 B, agent 10000 -> 92 A, sub_agent 5000 -> 62 C, other_leader
    10000 -> 92 A, other_agent 0 -> 32 D."""
    for member, amount in (
        (world.leader, 9000),
        (world.agent, 10000),
        (world.sub_agent, 5000),
        (world.other_leader, 10000),
        (world.other_agent, 0),
    ):
        target_for(member, 10000)
        if amount:
            sale(member, amount)
    cycle = cycle_open(template)
    review_all(cycle, world.owner, score=4)
    return finalize(cycle, world.owner)


def members(response):
    return {row["member"] for row in response.data["results"]}


def test_agents_see_their_own_appraisals_leaders_their_subtree(world, finalized, client_for):
    url = f"{P}appraisals/"
    assert members(client_for(world.agent).get(url)) == {world.agent.pk}
    assert members(client_for(world.sub_agent).get(url)) == {world.sub_agent.pk}
    assert members(client_for(world.leader).get(url)) == {
        world.leader.pk,
        world.agent.pk,
        world.sub_agent.pk,
    }
    assert members(client_for(world.other_leader).get(url)) == {
        world.other_leader.pk,
        world.other_agent.pk,
    }
    assert len(members(client_for(world.admin).get(url))) == 5
    other = Appraisal.objects.get(cycle=finalized, member=world.other_agent)
    assert client_for(world.agent).get(f"{url}{other.pk}/").status_code == 404
    assert client_for(world.leader).get(f"{url}{other.pk}/").status_code == 404
    assert client_for(world.outsider).get(url).status_code == 404


def test_list_filters_and_constant_queries(world, template, finalized, client_for):
    april = cycle_open(template, APRIL)
    client = client_for(world.admin)
    by_member = client.get(f"{P}appraisals/?member={world.agent.pk}")
    assert [row["cycle"] for row in by_member.data["results"]] == [finalized.pk, april.pk]
    # the member eliminated in March (suspended) is not appraised in April
    assert client.get(f"{P}appraisals/?cycle={april.pk}").data["count"] == 4
    assert client.get(f"{P}appraisals/?reviewed=false").data["count"] == 4
    assert client.get(f"{P}appraisals/?grade=A").data["count"] == 2
    assert client.get(f"{P}appraisals/?cycle_status=finalized").data["count"] == 5
    counts = []
    for page_size in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{P}appraisals/?page_size={page_size}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_leaderboard_ranks_with_ties_within_the_callers_scope(world, finalized, client_for):
    url = f"{P}appraisal-cycles/{finalized.pk}/leaderboard/"
    rows = client_for(world.admin).get(url).data["results"]
    assert [(row["member"], row["rank"], row["total_score"], row["grade"]) for row in rows] == [
        (rows[0]["member"], 1, "92.00", "A"),
        (rows[1]["member"], 1, "92.00", "A"),
        (world.leader.pk, 3, "86.00", "B"),
        (world.sub_agent.pk, 4, "62.00", "C"),
        (world.other_agent.pk, 5, "32.00", "D"),
    ]
    assert {rows[0]["member"], rows[1]["member"]} == {world.agent.pk, world.other_leader.pk}
    assert rows[-1]["outcome"] == "eliminate"
    mine = client_for(world.sub_agent).get(url).data["results"]
    assert [(row["member"], row["rank"]) for row in mine] == [(world.sub_agent.pk, 4)]
    team = client_for(world.leader).get(url).data["results"]
    assert [row["member"] for row in team] == [world.agent.pk, world.leader.pk, world.sub_agent.pk]


def test_rollup_by_team(world, finalized, client_for):
    url = f"{P}appraisal-cycles/{finalized.pk}/rollup/?group_by=team"
    rows = {row["key"]: row for row in client_for(world.admin).get(url).data}
    assert set(rows) == {world.leader.pk, world.other_leader.pk}
    team_a = rows[world.leader.pk]
    assert team_a["count"] == 3
    assert team_a["average_total"] == "80.00"  # (86 + 92 + 62) / 3
    assert team_a["grades"] == {"A": 1, "B": 1, "C": 1, "D": 0}
    assert team_a["outcomes"]["reward"] == 1 and team_a["outcomes"]["warn"] == 1
    assert team_a["outcomes"]["promote"] == 0
    team_b = rows[world.other_leader.pk]
    assert (team_b["count"], team_b["average_total"]) == (2, "62.00")
    assert team_b["outcomes"]["eliminate"] == 1
    leader_view = client_for(world.leader).get(url).data
    assert [row["key"] for row in leader_view] == [world.leader.pk]
    assert client_for(world.agent).get(url).status_code == 403
    bad = client_for(world.admin).get(f"{P}appraisal-cycles/{finalized.pk}/rollup/?group_by=x")
    assert bad.status_code == 400 and "group_by" in bad.data


def test_rollup_by_region_includes_sub_regions(world, template, target_for, sale, client_for):
    east = Region.objects.get(organization=world.org, name="East")
    shanghai = RegionFactory(organization=world.org, name="Shanghai", parent=east)
    MembershipFactory(organization=world.org, upline=world.leader, region=shanghai)
    MembershipFactory(organization=world.org, upline=world.leader, region=None)
    cycle = cycle_open(template)
    rows = (
        client_for(world.owner).get(f"{P}appraisal-cycles/{cycle.pk}/rollup/?group_by=region").data
    )
    counts = {row["label"]: row["count"] for row in rows}
    assert counts == {"East": 4, "Shanghai": 1, "West": 2, "": 1}
    assert rows[-1]["key"] is None


def test_history_with_the_trend(world, template, finalized, target_for, sale, client_for):
    target_for(world.agent, 10000, period=APRIL)
    sale(world.agent, "5000", month=4)
    april = cycle_open(template, APRIL)
    review_all(april, world.owner, score=5)
    finalize(april, world.owner)
    url = f"{P}appraisals/history/"
    response = client_for(world.agent).get(url)  # the caller's own by default
    assert response.status_code == 200
    assert response.data["member"] == world.agent.pk
    entries = response.data["results"]
    assert [(e["cycle"], e["total_score"], e["delta"]) for e in entries] == [
        (finalized.pk, "92.00", None),
        (april.pk, "70.00", "-22.00"),
    ]
    assert entries[1]["grade"] == "C" and entries[1]["status"] == "finalized"
    assert client_for(world.leader).get(f"{url}?member={world.agent.pk}").status_code == 200
    assert client_for(world.other_leader).get(f"{url}?member={world.agent.pk}").status_code == 404
    assert client_for(world.agent).get(f"{url}?member={world.sub_agent.pk}").status_code == 404
    assert client_for(world.admin).get(f"{url}?member=abc").status_code == 400
    assert client_for(world.admin).get(f"{url}?member=999999").status_code == 404
    assert client_for(world.admin).get(f"{url}?member={world.outsider.pk}").status_code == 404


def test_acknowledge_by_the_member_once_with_a_comment(world, finalized, client_for):
    appraisal = Appraisal.objects.get(cycle=finalized, member=world.agent)
    url = f"{P}appraisals/{appraisal.pk}/acknowledge/"
    assert client_for(world.leader).post(url, {}).status_code == 403
    assert client_for(world.owner).post(url, {}).status_code == 403
    assert client_for(world.other_leader).post(url, {}).status_code == 404
    response = client_for(world.agent).post(url, {"comment": "收到，下月加油"})
    assert response.status_code == 200, response.data
    assert response.data["acknowledged_at"] is not None
    assert response.data["acknowledgement_comment"] == "收到，下月加油"
    again = client_for(world.agent).post(url, {})
    assert again.status_code == 409
    appraisal.refresh_from_db()
    assert appraisal.acknowledgement_comment == "收到，下月加油"


def test_acknowledge_without_comment_and_not_before_finalization(world, template, client_for):
    cycle = cycle_open(template)
    appraisal = Appraisal.objects.get(cycle=cycle, member=world.agent)
    url = f"{P}appraisals/{appraisal.pk}/acknowledge/"
    assert client_for(world.agent).post(url).status_code == 409
    review_all(cycle, world.owner)
    for row in cycle.appraisals.all():
        row.final_outcome, row.outcome_overridden = "retain", True
        row.save()
    finalize(cycle, world.owner)
    response = client_for(world.agent).post(url)
    assert response.status_code == 200 and response.data["acknowledgement_comment"] == ""


def test_an_eliminated_member_can_still_acknowledge(world, finalized, client_for):
    world.other_agent.refresh_from_db()
    assert world.other_agent.status == "suspended"
    appraisal = Appraisal.objects.get(cycle=finalized, member=world.other_agent)
    url = f"{P}appraisals/{appraisal.pk}/acknowledge/"
    assert client_for(world.other_agent).post(url, {"comment": "ok"}).status_code == 200
    # ...but nothing else
    mine = Appraisal.objects.get(cycle=finalized, member=world.agent)
    other = client_for(world.other_agent).post(f"{P}appraisals/{mine.pk}/acknowledge/")
    assert other.status_code == 404
    assert client_for(world.other_agent).post(f"{P}appraisal-templates/", {}).status_code == 403


def test_scores_explain_the_total(world, finalized, client_for):
    appraisal = Appraisal.objects.get(cycle=finalized, member=world.leader)
    data = client_for(world.leader).get(f"{P}appraisals/{appraisal.pk}/").data
    assert sum(D(s["weighted_score"]) for s in data["scores"]) == D(data["total_score"])
    sales = next(s for s in data["scores"] if s["criterion_name"] == "Sales")
    assert (sales["raw_value"], sales["target_value"], sales["score"]) == (
        "9000.00",
        "10000.00",
        "90.00",
    )
    assert data["recommendation_basis"] == {"source": "grade", "grade": "B"}
    assert data["outcome_applied_at"] is not None


def test_the_dashboard_lists_the_reviews_waiting_for_the_caller(world, template, client_for):
    cycle = cycle_open(template)
    cycle.review_deadline = APRIL[0]
    cycle.save()
    data = client_for(world.leader).get(f"{P}dashboard/today/").data["pending_reviews"]
    assert {row["member"] for row in data} == {world.agent.pk, world.sub_agent.pk}
    assert all(row["cycle"] == cycle.pk and row["review_deadline"] for row in data)
    review_all(cycle, world.owner)
    assert client_for(world.leader).get(f"{P}dashboard/today/").data["pending_reviews"] == []
