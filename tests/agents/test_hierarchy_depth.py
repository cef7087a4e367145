"""A hierarchy path holds 600 characters (agents.models.PathNode): a member or region created or
moved too deep is a 400 on `upline` / `parent` and nothing is written, never the database's
DataError (a 500 on PostgreSQL). Run on both databases (see README, "Tests")."""

import pytest

from agents.models import Membership, Region, User
from tests.agents.factories import MembershipFactory, RegionFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"
TOO_DEEP = "The hierarchy would be too deep."
MAX_PATH = 600


def deepen(node, length: int):
    """Give node a path of exactly `length` characters, as if it sat deep in a long chain (the
    ancestors' ids are made up: only the lengths matter to the rule)."""
    own = f"{node.pk}/"
    room = length - 1 - len(own)  # between the leading "/" and the node's own id
    filler = "7/" * (room // 2) if room % 2 == 0 else "77/" + "7/" * ((room - 3) // 2)
    path = f"/{filler}{own}"
    type(node).objects.filter(pk=node.pk).update(path=path, depth=path.count("/") - 2)
    node.refresh_from_db()
    assert len(node.path) == length and node.path.endswith(own)
    return node


def test_a_member_created_too_deep_is_400_on_upline(client_for, world):
    deep = deepen(MembershipFactory(organization=world.org, upline=None), MAX_PATH - 1)
    users, members = User.objects.count(), Membership.objects.count()
    response = client_for(world.admin).post(
        f"{P}members/", {"username": "deep1", "password": "a-Long-pass-1", "upline": deep.pk}
    )
    assert response.status_code == 400
    assert response.data["upline"] == [TOO_DEEP]
    assert (User.objects.count(), Membership.objects.count()) == (users, members)


def test_a_member_fits_up_to_the_limit(client_for, world):
    deep = deepen(MembershipFactory(organization=world.org, upline=None), MAX_PATH - 30)
    response = client_for(world.admin).post(
        f"{P}members/", {"username": "deep2", "password": "a-Long-pass-1", "upline": deep.pk}
    )
    assert response.status_code == 201, response.data
    member = Membership.objects.get(pk=response.data["id"])
    assert member.path == f"{deep.path}{member.pk}/" and len(member.path) <= MAX_PATH


def test_moving_a_subtree_too_deep_is_400_and_changes_nothing(client_for, world):
    # agent -> sub_agent: the agent alone would fit below `deep`, its sub-agent would not.
    room = len(f"{world.agent.pk}/")
    deep = deepen(MembershipFactory(organization=world.org, upline=None), MAX_PATH - room - 1)
    paths = dict(Membership.objects.values_list("pk", "path"))
    response = client_for(world.admin).patch(f"{P}members/{world.agent.pk}/", {"upline": deep.pk})
    assert response.status_code == 400
    assert response.data["upline"] == [TOO_DEEP]
    assert dict(Membership.objects.values_list("pk", "path")) == paths
    world.agent.refresh_from_db()
    assert world.agent.upline_id == world.leader.pk
    # The sub-agent alone (a leaf) fits.
    response = client_for(world.admin).patch(
        f"{P}members/{world.sub_agent.pk}/", {"upline": deep.pk}
    )
    assert response.status_code == 200, response.data
    world.sub_agent.refresh_from_db()
    assert world.sub_agent.path == f"{deep.path}{world.sub_agent.pk}/"


def test_regions_too_deep_are_400_on_parent(client_for, world):
    admin = client_for(world.admin)
    deep = deepen(RegionFactory(organization=world.org, name="Deep"), MAX_PATH - 1)
    regions = Region.objects.count()
    response = admin.post(f"{P}regions/", {"name": "Below", "parent": deep.pk})
    assert response.status_code == 400
    assert response.data["parent"] == [TOO_DEEP]
    assert Region.objects.count() == regions

    east = RegionFactory(organization=world.org, name="Far East")
    child = RegionFactory(organization=world.org, name="Far East child", parent=east)
    # The region itself would fit below `lower`, its child would take one character too many.
    room = len(f"{east.pk}/{child.pk}/") - 1
    lower = deepen(RegionFactory(organization=world.org, name="Lower"), MAX_PATH - room)
    paths = dict(Region.objects.values_list("pk", "path"))
    response = admin.patch(f"{P}regions/{east.pk}/", {"parent": lower.pk})
    assert response.status_code == 400
    assert response.data["parent"] == [TOO_DEEP]
    assert dict(Region.objects.values_list("pk", "path")) == paths
