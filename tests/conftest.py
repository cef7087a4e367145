"""Shared fixtures. `world` is the organization every permission matrix runs in:

acme:  owner, admin
       leader (branch A) -> agent (branch A) -> sub_agent
       other_leader (branch B) -> other_agent
rival: outsider (owner of another organization)
"""

import os
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from agents.models import Membership, Organization, Role
from tests.agents.factories import MembershipFactory, OrganizationFactory, RegionFactory


def pytest_sessionstart(session):
    """With DATABASE_URL / REDIS_URL set (CI), the servers must answer: fail, never skip."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()


@dataclass
class World:
    org: Organization
    rival: Organization
    owner: Membership
    admin: Membership
    leader: Membership
    agent: Membership
    sub_agent: Membership
    other_leader: Membership
    other_agent: Membership
    outsider: Membership

    def member(self, persona: str) -> Membership | None:
        return None if persona == "anonymous" else getattr(self, persona)


@pytest.fixture
def world(db) -> World:
    org = OrganizationFactory(slug="acme", name="Acme")
    rival = OrganizationFactory(slug="rival", name="Rival")
    region_a = RegionFactory(organization=org, name="East")
    region_b = RegionFactory(organization=org, name="West")
    owner = MembershipFactory(organization=org, role=Role.OWNER, user__username="owner")
    admin = MembershipFactory(organization=org, role=Role.ADMIN, user__username="admin")
    leader = MembershipFactory(
        organization=org, role=Role.LEADER, region=region_a, user__username="leader"
    )
    agent = MembershipFactory(
        organization=org, upline=leader, region=region_a, code="A-001", user__username="agent"
    )
    sub_agent = MembershipFactory(
        organization=org, upline=agent, region=region_a, user__username="sub_agent"
    )
    other_leader = MembershipFactory(
        organization=org, role=Role.LEADER, region=region_b, user__username="other_leader"
    )
    other_agent = MembershipFactory(
        organization=org, upline=other_leader, region=region_b, user__username="other_agent"
    )
    outsider = MembershipFactory(organization=rival, role=Role.OWNER, user__username="outsider")
    return World(
        org=org,
        rival=rival,
        owner=owner,
        admin=admin,
        leader=leader,
        agent=agent,
        sub_agent=sub_agent,
        other_leader=other_leader,
        other_agent=other_agent,
        outsider=outsider,
    )


def throttle_counters_forget() -> None:
    """Forget this process's throttle counters. Not `cache.clear()`: on Redis that empties the
    database under the other xdist workers' tests too (their KEY_PREFIX differs, the database
    does not), and their counts restart halfway."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from agents.api import throttling

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client, _script = throttling.redis_store("default")
        keys = list(client.scan_iter(match=backend.make_key("*")))
        if keys:
            client.delete(*keys)
    else:
        backend.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(api_client):
    """client_for(membership) -> an APIClient authenticated as that member's user."""

    def make(member: Membership | None) -> APIClient:
        client = APIClient()
        if member is not None:
            client.force_authenticate(member.user)
        return client

    return make
