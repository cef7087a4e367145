import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Membership, Role, User
from tests.agents.factories import MembershipFactory, RegionFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/orgs/acme/members/"


def ids(response):
    return {row["id"] for row in response.data["results"]}


def test_leader_sees_self_and_whole_downline_only(client_for, world):
    response = client_for(world.leader).get(MEMBERS)
    assert response.status_code == 200
    assert ids(response) == {world.leader.pk, world.agent.pk, world.sub_agent.pk}


def test_agent_sees_self_and_own_downline(client_for, world):
    response = client_for(world.agent).get(MEMBERS)
    assert ids(response) == {world.agent.pk, world.sub_agent.pk}


def test_admin_sees_the_whole_organization_and_nothing_else(client_for, world):
    response = client_for(world.admin).get(MEMBERS)
    assert response.data["count"] == 7
    assert world.outsider.pk not in ids(response)


def test_member_fields_follow_the_contract(client_for, world):
    response = client_for(world.admin).get(f"{MEMBERS}{world.agent.pk}/")
    assert set(response.data) >= {
        "id",
        "username",
        "display_name",
        "role",
        "upline",
        "region",
        "level",
        "status",
        "code",
        "joined_on",
    }
    assert response.data["upline"] == world.leader.pk
    assert response.data["code"] == "A-001"


@pytest.mark.parametrize(
    "query,expected",
    [
        ("role=leader", {"leader", "other_leader"}),
        ("subtree_of={leader}", {"leader", "agent", "sub_agent"}),
        ("upline={leader}", {"agent"}),
        ("search=A-001", {"agent"}),
    ],
)
def test_member_filters(client_for, world, query, expected):
    response = client_for(world.admin).get(f"{MEMBERS}?{query.format(leader=world.leader.pk)}")
    assert response.status_code == 200
    assert {row["username"] for row in response.data["results"]} == expected


def test_subtree_of_a_member_of_another_organization_is_400(client_for, world):
    response = client_for(world.admin).get(f"{MEMBERS}?subtree_of={world.outsider.pk}")
    assert response.status_code == 400
    assert "subtree_of" in response.data


def test_admin_creates_a_member_with_an_account(client_for, world):
    response = client_for(world.admin).post(
        MEMBERS,
        {
            "username": "xiaoming",
            "password": "a-Long-pass-1",
            "display_name": "小明",
            "upline": world.agent.pk,
            "code": "A-002",
        },
    )
    assert response.status_code == 201, response.data
    assert response.data["display_name"] == "小明"
    member = Membership.objects.get(pk=response.data["id"])
    assert member.path == f"{world.agent.path}{member.pk}/"
    assert member.user.check_password("a-Long-pass-1")
    assert "password" not in response.data


@pytest.mark.parametrize(
    "body,field",
    [
        ({"username": "agent", "password": "a-Long-pass-1"}, "username"),
        ({"username": "new1", "password": "123"}, "password"),
        ({"username": "new1", "password": "a-Long-pass-1", "code": "A-001"}, "code"),
        ({"username": "new1", "password": "a-Long-pass-1", "role": "king"}, "role"),
        ({"username": "new1", "password": "a-Long-pass-1", "upline": 10**9}, "upline"),
        ({"username": "new1", "password": "a-Long-pass-1", "upline": "x"}, "upline"),
        ({"username": "new 1", "password": "a-Long-pass-1"}, "username"),
    ],
)
def test_member_create_bad_input_is_400_naming_the_field(client_for, world, body, field):
    users = User.objects.count()
    response = client_for(world.admin).post(MEMBERS, body)
    assert response.status_code == 400
    assert field in response.data
    assert User.objects.count() == users


def test_ids_of_another_organization_in_the_body_are_400_and_nothing_written(client_for, world):
    foreign_region = RegionFactory(organization=world.rival)
    users = User.objects.count()
    response = client_for(world.admin).post(
        MEMBERS,
        {
            "username": "spy",
            "password": "a-Long-pass-1",
            "upline": world.outsider.pk,
            "region": foreign_region.pk,
        },
    )
    assert response.status_code == 400
    assert {"upline", "region"} <= set(response.data)
    assert User.objects.count() == users


def test_moving_a_member_moves_the_whole_subtree(client_for, world):
    response = client_for(world.admin).patch(
        f"{MEMBERS}{world.agent.pk}/", {"upline": world.other_leader.pk}
    )
    assert response.status_code == 200, response.data
    world.agent.refresh_from_db()
    world.sub_agent.refresh_from_db()
    assert world.agent.path == f"{world.other_leader.path}{world.agent.pk}/"
    assert world.sub_agent.path == f"{world.agent.path}{world.sub_agent.pk}/"
    assert (world.agent.depth, world.sub_agent.depth) == (1, 2)
    # The other leader now sees the moved branch; the old leader no longer does.
    assert ids(client_for(world.other_leader).get(MEMBERS)) >= {world.agent.pk, world.sub_agent.pk}
    assert ids(client_for(world.leader).get(MEMBERS)) == {world.leader.pk}


def test_moving_to_top_level(client_for, world):
    response = client_for(world.admin).patch(f"{MEMBERS}{world.agent.pk}/", {"upline": None})
    assert response.status_code == 200
    world.sub_agent.refresh_from_db()
    assert world.sub_agent.path == f"/{world.agent.pk}/{world.sub_agent.pk}/"


@pytest.mark.parametrize("new_upline", ["sub_agent", "agent"])
def test_a_cycle_is_400_and_changes_nothing(client_for, world, new_upline):
    paths = dict(Membership.objects.values_list("pk", "path"))
    response = client_for(world.admin).patch(
        f"{MEMBERS}{world.agent.pk}/", {"upline": getattr(world, new_upline).pk}
    )
    assert response.status_code == 400
    assert "upline" in response.data
    assert dict(Membership.objects.values_list("pk", "path")) == paths


def test_an_admin_cannot_make_an_owner_but_an_owner_can(client_for, world):
    url = f"{MEMBERS}{world.leader.pk}/"
    assert client_for(world.admin).patch(url, {"role": "owner"}).status_code == 403
    assert client_for(world.owner).patch(url, {"role": "admin"}).status_code == 200
    # Now an admin, the leader is out of the other admin's reach.
    assert client_for(world.admin).patch(url, {"code": "L-1"}).status_code == 403


def test_the_last_owner_cannot_step_down(client_for, world):
    url = f"{MEMBERS}{world.owner.pk}/"
    response = client_for(world.owner).patch(url, {"role": "admin"})
    assert response.status_code == 409
    world.owner.refresh_from_db()
    assert world.owner.role == Role.OWNER
    MembershipFactory(organization=world.org, role=Role.OWNER)
    assert client_for(world.owner).patch(url, {"role": "admin"}).status_code == 200


def test_a_suspended_member_can_read_but_not_write(client_for, world):
    world.agent.status = "suspended"
    world.agent.save()
    client = client_for(world.agent)
    assert client.get(MEMBERS).status_code == 200
    assert client.post("/api/v1/orgs/acme/customers/", {"name": "X"}).status_code == 403


def test_member_list_query_count_does_not_grow_with_page_size(client_for, world):
    for _ in range(30):
        MembershipFactory(organization=world.org, upline=world.leader)
    client = client_for(world.admin)
    counts = []
    for size in (10, 30):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{MEMBERS}?page_size={size}")
        assert len(response.data["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_suspended_member_writing_outside_scope_gets_404_not_403(client_for, world):
    world.agent.status = "suspended"
    world.agent.save()
    from tests.agents.factories import CustomerFactory

    foreign = CustomerFactory(organization=world.org, owner=world.other_agent)
    response = client_for(world.agent).patch(
        f"/api/v1/orgs/acme/customers/{foreign.pk}/", {"name": "x"}
    )
    assert response.status_code == 404
