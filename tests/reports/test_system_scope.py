"""`viewer=None` / `actor=None` mean the system acting for the whole organization (the scheduled
jobs, shell commands): explicit, instead of an unsaved owner membership standing in for it."""

import datetime as dt

import pytest

from agents.models import AuditEntry, Role
from agents.services import member_update
from reports.selectors import members_missing_report
from tests.reports.factories import DailyReportFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)


def missing(world, viewer) -> set[int]:
    return set(
        members_missing_report(organization=world.org, viewer=viewer, day=MONDAY).values_list(
            "pk", flat=True
        )
    )


def test_no_viewer_is_the_whole_organization_and_only_it(world):
    DailyReportFactory(organization=world.org, member=world.agent, date=MONDAY)
    everyone = {world.leader.pk, world.sub_agent.pk, world.other_leader.pk, world.other_agent.pk}
    assert missing(world, None) == everyone
    # The callers' scopes are unchanged: an owner sees the same, a leader their subtree.
    assert missing(world, world.owner) == everyone
    assert missing(world, world.leader) == {world.leader.pk, world.sub_agent.pk}
    assert world.outsider.pk not in missing(world, None)


def test_member_update_without_an_actor_has_every_power_and_is_audited_as_the_system(world):
    member_update(
        organization=world.org, actor=None, member=world.admin, data={"role": Role.LEADER}
    )

    world.admin.refresh_from_db()
    assert world.admin.role == Role.LEADER
    entry = AuditEntry.objects.get(organization=world.org, action="member.update")
    assert entry.actor is None
    assert entry.actor_display == "system"
    assert entry.changes["role"] == [Role.ADMIN, Role.LEADER]
