"""The audit trail of appraisals: reviews (scores, outcome and comments before and after),
finalization (every appraisal's final results, in one bulk insert whatever the team's size), the
outcomes applied to members, acknowledgements and template changes."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import AuditEntry
from appraisals.models import Appraisal
from tests.agents.factories import AgentLevelFactory, MembershipFactory
from tests.appraisals.factories import APRIL, cycle_open, finalize, review, review_all

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"


def appraisal_of(cycle, member) -> Appraisal:
    return Appraisal.objects.select_related("cycle__template", "member").get(
        cycle=cycle, member=member
    )


def test_a_review_is_recorded_with_scores_and_outcome(world, template, client_for):
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    cooperation = template.criteria.get(name="Cooperation")
    client = client_for(world.leader)
    url = f"{P}appraisals/{appraisal.pk}/review/"
    first = client.post(
        url,
        {"scores": [{"criterion": cooperation.pk, "score": 4, "comment": "helps"}]},
        format="json",
    )
    assert first.status_code == 200, first.data
    second = client.post(
        url,
        {
            "scores": [{"criterion": cooperation.pk, "score": 2}],
            "comment": "Slipped",
            "final_outcome": "warn",
        },
        format="json",
    )
    assert second.status_code == 200, second.data
    one, two = AuditEntry.objects.filter(action="appraisal.review").order_by("id")
    assert one.actor_id == two.actor_id == world.leader.pk
    assert one.object_id == str(appraisal.pk) and one.object_type == "appraisals.appraisal"
    assert one.changes["score:Cooperation"] == [None, "4.00"]
    assert one.changes["comment:Cooperation"] == ["", "helps"]
    assert one.changes["qualitative_score"][1] == first.data["qualitative_score"] == "32.00"
    assert two.changes["score:Cooperation"] == ["4.00", "2.00"]
    assert two.changes["final_outcome"] == [first.data["final_outcome"], "warn"]
    assert two.changes["reviewer_comment"] == ["", "Slipped"]
    assert two.changes["outcome_overridden"] == [False, True]
    assert two.context == {"cycle": cycle.pk, "member": world.agent.pk}


def test_a_refused_review_records_nothing(world, template, client_for):
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    cooperation = template.criteria.get(name="Cooperation")
    url = f"{P}appraisals/{appraisal.pk}/review/"
    bad = {"scores": [{"criterion": cooperation.pk, "score": 9}]}
    assert client_for(world.leader).post(url, bad, format="json").status_code == 400
    own = {"scores": [{"criterion": cooperation.pk, "score": 3}]}
    assert client_for(world.agent).post(url, own, format="json").status_code == 403
    assert not AuditEntry.objects.filter(action="appraisal.review").exists()


def team(world, size):
    for _ in range(size):
        MembershipFactory(organization=world.org, upline=world.other_leader)


def finalize_queries(world, template) -> tuple[int, int]:
    cycle = cycle_open(template)
    review_all(cycle, world.owner, score=1)
    before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as queries:
        finalize(cycle, world.owner)
    audit_queries = [q for q in queries if "agents_auditentry" in q["sql"]]
    assert all(q["sql"].startswith("INSERT") for q in audit_queries)
    return len(audit_queries), AuditEntry.objects.count() - before


def test_finalize_records_every_appraisal_in_one_insert(world, template, client_for):
    team(world, 3)
    cycle = cycle_open(template)
    review_all(cycle, world.owner, score=5)
    response = client_for(world.admin).post(f"{P}appraisal-cycles/{cycle.pk}/finalize/")
    assert response.status_code == 200, response.data
    [cycle_entry] = AuditEntry.objects.filter(action="appraisal_cycle.finalize")
    assert cycle_entry.actor_id == world.admin.pk
    assert cycle_entry.changes == {"status": ["open", "finalized"]}
    appraisals = {a.pk: a for a in Appraisal.objects.filter(cycle=cycle)}
    finalized = AuditEntry.objects.filter(action="appraisal.finalize")
    assert {int(entry.object_id) for entry in finalized} == set(appraisals)
    for entry in finalized:
        appraisal = appraisals[int(entry.object_id)]
        after = {name: values[1] for name, values in entry.changes.items()}
        assert after["rank"] == appraisal.rank
        assert after["grade"] == appraisal.grade
        assert after["final_outcome"] == appraisal.final_outcome
        assert after["total_score"] == str(appraisal.total_score)
        assert entry.actor_id == world.admin.pk
        assert entry.context == {"cycle": cycle.pk, "member": appraisal.member_id}
        assert set(entry.changes) == {
            "total_score",
            "rank",
            "grade",
            "recommended_outcome",
            "final_outcome",
        }


def test_finalize_trail_queries_do_not_grow_with_the_team(world, template):
    few_queries, few_entries = finalize_queries(world, template)
    team(world, 12)
    cycle = cycle_open(template, APRIL)
    review_all(cycle, world.owner, score=1)
    with CaptureQueriesContext(connection) as queries:
        finalize(cycle, world.owner)
    many_queries = len([q for q in queries if "agents_auditentry" in q["sql"]])
    assert few_queries == many_queries
    assert few_entries >= 7  # the cycle, 7 appraisals, and the member outcomes


def test_outcomes_applied_to_members_are_recorded(world, template):
    AgentLevelFactory(organization=world.org, name="Bronze", rank=1)
    cycle = cycle_open(template)
    review_all(cycle, world.owner, score=1)  # low scores: grade D, eliminate
    finalize(cycle, world.owner)
    entries = AuditEntry.objects.filter(action="member.update")
    suspended = {int(entry.object_id): entry for entry in entries}
    # owners and admins are never suspended by an appraisal; agents and leaders are
    for member in (world.agent, world.sub_agent, world.other_agent):
        entry = suspended[member.pk]
        assert entry.changes == {"status": ["active", "suspended"]}
        assert entry.context["cycle"] == cycle.pk and entry.context["outcome"] == "eliminate"
        assert entry.actor_id == world.owner.pk
    assert world.owner.pk not in suspended and world.admin.pk not in suspended
    assert suspended[world.agent.pk].object_repr == world.agent.user.get_display_name()


def test_a_refused_finalize_records_nothing(world, template, client_for):
    cycle = cycle_open(template)
    response = client_for(world.admin).post(f"{P}appraisal-cycles/{cycle.pk}/finalize/")
    assert response.status_code == 409  # reviews missing
    assert not AuditEntry.objects.filter(action__contains="finalize").exists()


def test_an_acknowledgement_is_recorded(world, template, client_for):
    cycle = cycle_open(template)
    review_all(cycle, world.owner)
    finalize(cycle, world.owner)
    appraisal = appraisal_of(cycle, world.agent)
    url = f"{P}appraisals/{appraisal.pk}/acknowledge/"
    response = client_for(world.agent).post(url, {"comment": "Read it"}, format="json")
    assert response.status_code == 200, response.data
    assert client_for(world.agent).post(url).status_code == 409  # once
    [entry] = AuditEntry.objects.filter(action="appraisal.acknowledge")
    assert entry.actor_id == world.agent.pk
    assert entry.changes["acknowledgement_comment"] == [None, "Read it"]
    assert entry.changes["acknowledged_at"][1] is not None


def test_template_changes_are_recorded(world, template, client_for):
    client = client_for(world.admin)
    url = f"{P}appraisal-templates/{template.pk}/"
    grades = [
        {"grade": "A", "min_score": "80", "outcome": "reward"},
        {"grade": "B", "min_score": "0", "outcome": "retain"},
    ]
    response = client.patch(url, {"name": "Monthly v2", "grades": grades}, format="json")
    assert response.status_code == 200, response.data
    [entry] = AuditEntry.objects.filter(action="appraisal_template.update")
    assert entry.actor_id == world.admin.pk
    assert entry.changes["name"] == ["Monthly", "Monthly v2"]
    before, after = entry.changes["grades"]
    assert [row["grade"] for row in before] == ["A", "B", "C", "D"]
    assert after == [
        {"grade": "A", "min_score": "80.00", "outcome": "reward"},
        {"grade": "B", "min_score": "0.00", "outcome": "retain"},
    ]
    assert "criteria" not in entry.changes  # unchanged
    bad = client.patch(url, {"grades": []}, format="json")
    assert bad.status_code == 400
    assert AuditEntry.objects.filter(action="appraisal_template.update").count() == 1


def test_review_helper_entries_name_the_member(world, template):
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    review(appraisal, world.owner, score=3)
    entry = AuditEntry.objects.get(action="appraisal.review")
    assert world.agent.user.get_display_name() in entry.object_repr


def test_template_edits_in_the_admin_are_recorded_and_pages_link_the_history(
    client, world, template
):
    from django.urls import reverse

    from tests.agents.test_admin import form_data, staff_client

    owner = staff_client(client, world.owner)
    url = reverse("admin:appraisals_appraisaltemplate_change", args=[template.pk])
    response = owner.post(url, form_data(owner.get(url), description="For the sales team"))
    assert response.status_code == 302
    [entry] = AuditEntry.objects.filter(action="appraisal_template.update")
    assert entry.actor_id == world.owner.pk
    assert entry.changes == {"description": ["", "For the sales team"]}
    cycle = cycle_open(template)
    appraisal = appraisal_of(cycle, world.agent)
    review(appraisal, world.owner)
    page = owner.get(reverse("admin:appraisals_appraisal_change", args=[appraisal.pk]))
    assert page.status_code == 200
    history = owner.get(page.context["audit_history_url"])
    assert [row.action for row in history.context["cl"].result_list] == ["appraisal.review"]


def test_deleting_a_template_is_recorded_and_a_refused_delete_is_not(world, client_for):
    from tests.appraisals.factories import template_create

    admin = client_for(world.admin)
    unused = template_create(world.org, name="Unused")
    used = template_create(world.org, name="Used")
    cycle_open(used)
    assert admin.delete(f"{P}appraisal-templates/{used.pk}/").status_code == 409
    assert admin.delete(f"{P}appraisal-templates/{unused.pk}/").status_code == 204
    [entry] = AuditEntry.objects.filter(action__startswith="appraisal_template.delete")
    assert (entry.object_id, entry.object_repr) == (str(unused.pk), "Unused")
    assert entry.changes["name"] == ["Unused", None]
    assert entry.actor_id == world.admin.pk


# --- Cycles -------------------------------------------------------------------------------------


def test_the_cycle_lifecycle_is_recorded(world, template, client_for):
    admin = client_for(world.admin)
    body = {"template": template.pk, "start": "2026-04-01", "end": "2026-04-30"}
    created = admin.post(f"{P}appraisal-cycles/", {**body, "name": "April"})
    assert created.status_code == 201, created.data
    url = f"{P}appraisal-cycles/{created.data['id']}/"
    assert admin.patch(url, {"review_deadline": "2026-05-10"}).status_code == 200
    assert admin.patch(url, {"review_deadline": "2026-05-10"}).status_code == 200  # no change
    assert admin.post(f"{url}open/").status_code == 200
    entries = list(AuditEntry.objects.filter(action__startswith="appraisal_cycle.").order_by("id"))
    assert [entry.action for entry in entries] == [
        "appraisal_cycle.create",
        "appraisal_cycle.update",
        "appraisal_cycle.open",
    ]
    create, update, opened = entries
    assert {entry.object_id for entry in entries} == {str(created.data["id"])}
    assert all(entry.actor_id == world.admin.pk for entry in entries)
    assert create.changes["template"] == [None, template.pk]
    assert create.changes["start"] == [None, "2026-04-01"]
    assert create.changes["status"] == [None, "draft"]
    assert update.changes == {"review_deadline": [None, "2026-05-10"]}
    assert opened.changes == {"status": ["draft", "open"]}
    assert opened.context["appraisals"] == Appraisal.objects.count() > 0


def test_deleting_a_draft_cycle_is_recorded_and_refused_changes_are_not(
    world, template, client_for
):
    admin = client_for(world.admin)
    created = admin.post(
        f"{P}appraisal-cycles/",
        {"template": template.pk, "start": "2026-04-01", "end": "2026-04-30"},
    )
    url = f"{P}appraisal-cycles/{created.data['id']}/"
    assert admin.patch(url, {"end": "2026-05-31"}).status_code == 400  # two months
    assert client_for(world.leader).delete(url).status_code == 403
    assert admin.delete(url).status_code == 204
    actions = list(
        AuditEntry.objects.filter(action__startswith="appraisal_cycle.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["appraisal_cycle.create", "appraisal_cycle.delete"]
    deleted = AuditEntry.objects.get(action="appraisal_cycle.delete")
    assert deleted.object_id == str(created.data["id"])
    assert deleted.changes["start"] == ["2026-04-01", None]
    opened = cycle_open(template, (dt.date(2026, 6, 1), dt.date(2026, 6, 30)))
    assert admin.delete(f"{P}appraisal-cycles/{opened.pk}/").status_code == 409
    assert not AuditEntry.objects.filter(action="appraisal_cycle.delete", object_id=str(opened.pk))
