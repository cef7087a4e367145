import datetime as dt

import pytest
from django.utils import timezone

from reports.models import Activity
from tests.agents.factories import CustomerFactory
from tests.reports.factories import ActivityFactory

pytestmark = pytest.mark.django_db

ACTIVITIES = "/api/v1/orgs/acme/activities/"


def an_hour_ago() -> str:
    return (timezone.now() - dt.timedelta(hours=1)).isoformat()


def activity(**overrides):
    return {
        "kind": "visit",
        "occurred_at": an_hour_ago(),
        "duration_minutes": 30,
        "outcome": "Will order next week",
        **overrides,
    }


def test_an_agent_logs_their_own_activity(client_for, world):
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    response = client_for(world.agent).post(ACTIVITIES, activity(customer=customer.pk))
    assert response.status_code == 201, response.data
    assert response.data["member"] == world.agent.pk
    assert response.data["customer"] == customer.pk
    assert Activity.objects.get().organization == world.org


def test_a_leader_logs_for_the_subtree_an_agent_not_for_others(client_for, world):
    response = client_for(world.leader).post(ACTIVITIES, activity(member=world.sub_agent.pk))
    assert response.status_code == 201
    response = client_for(world.agent).post(ACTIVITIES, activity(member=world.sub_agent.pk))
    assert response.status_code == 400
    assert "member" in response.data
    response = client_for(world.leader).post(ACTIVITIES, activity(member=world.other_agent.pk))
    assert response.status_code == 400
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    "field,overrides",
    [
        ("kind", {"kind": "party"}),
        ("occurred_at", {"occurred_at": "yesterday"}),
        ("occurred_at", "future"),
        ("duration_minutes", {"duration_minutes": -5}),
        ("duration_minutes", {"duration_minutes": 1441}),
        ("customer", "other_branch_customer"),
        ("customer", {"customer": 10**9}),
        ("member", {"member": 10**9}),
    ],
)
def test_bad_activities_are_400(client_for, world, field, overrides):
    if overrides == "future":
        overrides = {"occurred_at": (timezone.now() + dt.timedelta(hours=2)).isoformat()}
    elif overrides == "other_branch_customer":
        overrides = {
            "customer": CustomerFactory(organization=world.org, owner=world.other_agent).pk
        }
    response = client_for(world.agent).post(ACTIVITIES, activity(**overrides))
    assert response.status_code == 400, response.data
    assert field in response.data
    assert Activity.objects.count() == 0


def test_agents_change_only_their_own(client_for, world):
    below = ActivityFactory(organization=world.org, member=world.sub_agent)
    url = f"{ACTIVITIES}{below.pk}/"
    assert client_for(world.agent).get(url).status_code == 200  # reads the downline
    assert client_for(world.agent).patch(url, {"outcome": "x"}).status_code == 403
    assert client_for(world.agent).delete(url).status_code == 403
    assert client_for(world.leader).patch(url, {"outcome": "Ordered"}).status_code == 200
    below.refresh_from_db()
    assert below.outcome == "Ordered"
    response = client_for(world.leader).patch(url, {"member": world.other_agent.pk})
    assert response.status_code == 400


def test_activity_list_scope_and_filters(client_for, world):
    customer = CustomerFactory(organization=world.org, owner=world.agent)
    mine = ActivityFactory(organization=world.org, member=world.agent, customer=customer)
    call = ActivityFactory(
        organization=world.org,
        member=world.sub_agent,
        kind="call",
        occurred_at=timezone.now() - dt.timedelta(days=3),
    )
    other = ActivityFactory(organization=world.org, member=world.other_agent)

    def ids(client, query=""):
        response = client.get(f"{ACTIVITIES}?{query}")
        assert response.status_code == 200, response.data
        return {row["id"] for row in response.data["results"]}

    assert ids(client_for(world.agent)) == {mine.pk, call.pk}
    assert ids(client_for(world.sub_agent)) == {call.pk}
    assert ids(client_for(world.admin)) == {mine.pk, call.pk, other.pk}
    admin = client_for(world.admin)
    assert ids(admin, "kind=call") == {call.pk}
    assert ids(admin, f"customer={customer.pk}") == {mine.pk}
    two_days_ago = (world.org.local_today() - dt.timedelta(days=2)).isoformat()
    assert ids(admin, f"occurred_before={two_days_ago}") == {call.pk}
    assert ids(admin, f"occurred_after={two_days_ago}") == {mine.pk, other.pk}
    assert ids(admin, f"subtree_of={world.leader.pk}") == {mine.pk, call.pk}


def test_activity_list_query_count_is_constant(client_for, world, query_counts):
    ActivityFactory.create_batch(100, organization=world.org, member=world.agent)
    counts = query_counts(client_for(world.leader), ACTIVITIES)
    assert counts[0] == counts[1]
