"""The audit trail: member changes are recorded (who, when, before, after), refused changes
record nothing, owners and admins read the trail through the API and the admin, and nobody
changes or deletes an entry."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.audit import audit_diff, audit_record, audit_snapshot, audit_value
from agents.models import AuditEntry, Membership, Organization
from tests.agents.factories import AgentLevelFactory, MembershipFactory
from tests.agents.test_admin import admin_url, form_data, staff_client

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"
LOG = f"{P}audit-log/"


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


# --- Members through the API ---------------------------------------------------------------------


def test_a_member_change_records_who_before_and_after(world, client_for):
    gold = AgentLevelFactory(organization=world.org, name="Gold", rank=3)
    response = client_for(world.admin).patch(
        f"{P}members/{world.agent.pk}/",
        {"level": gold.pk, "status": "suspended", "upline": world.other_leader.pk},
        format="json",
    )
    assert response.status_code == 200, response.data
    [entry] = entries(action="member.update")
    assert entry.organization_id == world.org.pk
    assert entry.actor_id == world.admin.pk
    assert entry.actor_display == world.admin.user.get_display_name()
    assert (entry.object_type, entry.object_id) == ("agents.membership", str(world.agent.pk))
    assert entry.object_repr == world.agent.user.get_display_name()
    assert entry.changes == {
        "level": [None, gold.pk],
        "status": ["active", "suspended"],
        "upline": [world.leader.pk, world.other_leader.pk],
    }


def test_a_change_that_changes_nothing_records_nothing(world, client_for):
    client = client_for(world.owner)
    response = client.patch(f"{P}members/{world.agent.pk}/", {"code": "A-001"}, format="json")
    assert response.status_code == 200
    assert entries() == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"upline": "sub_agent"}, 400),  # a cycle
        ({"code": "taken"}, 400),
        ({"role": "owner"}, 403),  # only an owner makes owners
    ],
)
def test_a_refused_member_change_records_nothing(world, client_for, body, status):
    MembershipFactory(organization=world.org, code="TAKEN-1")
    values = {
        "upline": world.sub_agent.pk,
        "code": "TAKEN-1",
        "role": "owner",
    }
    body = {key: values[key] for key in body}
    response = client_for(world.admin).patch(f"{P}members/{world.agent.pk}/", body, format="json")
    assert response.status_code == status, response.data
    assert entries() == []


def test_a_new_member_is_recorded(world, client_for):
    response = client_for(world.owner).post(
        f"{P}members/",
        {"username": "newbie", "password": "a-Long-pass-1", "upline": world.leader.pk},
        format="json",
    )
    assert response.status_code == 201, response.data
    [entry] = entries(action="member.create")
    assert entry.actor_id == world.owner.pk
    assert entry.object_id == str(response.data["id"])
    assert entry.changes["upline"] == [None, world.leader.pk]
    assert entry.changes["role"] == [None, "agent"]


# --- The API -------------------------------------------------------------------------------------


def record(world, *, action="member.update", actor=None, member=None, **kwargs):
    member = member or world.agent
    return audit_record(
        organization=member.organization,
        actor=actor if actor is not None else world.owner,
        action=action,
        instance=member,
        before=kwargs.get("before", {"status": "active"}),
        after=kwargs.get("after", {"status": "suspended"}),
    )


def test_the_log_lists_newest_first_with_every_field(world, client_for):
    first = record(world)
    second = record(world, action="member.create", actor=world.admin, member=world.sub_agent)
    response = client_for(world.admin).get(LOG)
    assert response.status_code == 200
    assert response.data["count"] == 2
    assert [row["id"] for row in response.data["results"]] == [second.pk, first.pk]
    row = response.data["results"][1]
    assert row == {
        "id": first.pk,
        "created_at": row["created_at"],
        "actor": world.owner.pk,
        "actor_display": world.owner.user.get_display_name(),
        "action": "member.update",
        "object_type": "agents.membership",
        "object_id": str(world.agent.pk),
        "object_repr": world.agent.user.get_display_name(),
        "changes": {"status": ["active", "suspended"]},
        "context": {},
    }
    assert dt.datetime.fromisoformat(row["created_at"]).tzinfo is not None
    detail = client_for(world.owner).get(f"{LOG}{first.pk}/")
    assert detail.status_code == 200 and detail.data == row


def test_the_log_filters(world, client_for):
    agent_entry = record(world)
    sub_entry = record(world, action="member.create", actor=world.admin, member=world.sub_agent)
    old = record(world, member=world.leader)
    # Rows never change; the test backdates one through the base manager.
    AuditEntry._base_manager.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    client = client_for(world.owner)

    def ids(query):
        response = client.get(f"{LOG}?{query}")
        assert response.status_code == 200, response.data
        return [row["id"] for row in response.data["results"]]

    assert ids("action=member.create") == [sub_entry.pk]
    assert ids(f"object_type=agents.membership&object_id={world.agent.pk}") == [agent_entry.pk]
    assert ids(f"actor={world.admin.pk}") == [sub_entry.pk]
    week_ago = (timezone.now() - dt.timedelta(days=7)).isoformat()
    assert set(ids(f"created_after={week_ago.replace('+', '%2B')}")) == {
        agent_entry.pk,
        sub_entry.pk,
    }
    assert ids(f"created_before={week_ago.replace('+', '%2B')}") == [old.pk]
    assert ids("object_type=plans.target") == []


@pytest.mark.parametrize(
    "query",
    ["actor=outsider", "actor=banana", "created_after=yesterday", "created_before=2026-13-45"],
)
def test_bad_filters_are_400_naming_the_parameter(world, client_for, query):
    name, value = query.split("=")
    if value == "outsider":
        value = str(world.outsider.pk)
    response = client_for(world.owner).get(f"{LOG}?{name}={value}")
    assert response.status_code == 400
    assert name in response.data


def test_another_organizations_entries_do_not_exist(world, client_for):
    theirs = record(world, actor=world.outsider, member=world.outsider)
    ours = record(world)
    owner = client_for(world.owner)
    assert [row["id"] for row in owner.get(LOG).data["results"]] == [ours.pk]
    assert owner.get(f"{LOG}{theirs.pk}/").status_code == 404
    outsider = client_for(world.outsider)
    assert outsider.get(f"{LOG}{ours.pk}/").status_code == 404
    assert outsider.get("/api/v1/orgs/rival/audit-log/").data["count"] == 1


def test_leaders_and_agents_cannot_read_the_log(world, client_for):
    entry = record(world)
    for persona in ("leader", "agent"):
        client = client_for(world.member(persona))
        assert client.get(LOG).status_code == 403
        assert client.get(f"{LOG}{entry.pk}/").status_code == 403


def test_the_log_is_read_only_through_the_api(world, client_for):
    entry = record(world)
    client = client_for(world.owner)
    # No write route exists; the tenancy machinery refuses undeclared actions before routing.
    assert client.post(LOG, {"action": "x"}, format="json").status_code in (403, 405)
    response = client.patch(f"{LOG}{entry.pk}/", {"action": "x"}, format="json")
    assert response.status_code in (403, 405)
    assert client.delete(f"{LOG}{entry.pk}/").status_code in (403, 405)
    assert AuditEntry.objects.get().action == "member.update"


def test_the_list_takes_a_constant_number_of_queries(world, client_for):
    client = client_for(world.owner)

    def count(size):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{LOG}?page_size={size}")
        assert response.status_code == 200 and len(response.data["results"]) == size
        return len(queries)

    for _ in range(30):
        record(world)
    assert count(3) == count(30)


# --- Append-only ---------------------------------------------------------------------------------


def test_entries_are_append_only(world):
    entry = record(world)
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.action = "forged"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    assert AuditEntry.objects.get().action == "member.update"


def test_entries_go_with_their_organization_and_outlive_their_actor(world):
    passer_by = MembershipFactory(organization=world.org, user__display_name="Passer-by")
    kept = record(world, actor=passer_by)
    record(world, actor=world.outsider, member=world.outsider)
    Membership.objects.filter(pk=passer_by.pk).delete()
    kept = AuditEntry.objects.get(pk=kept.pk)
    assert kept.actor_id is None and kept.actor_display == "Passer-by"
    Organization.objects.filter(pk=world.rival.pk).delete()
    assert AuditEntry.objects.filter(organization_id=world.rival.pk).count() == 0
    assert AuditEntry.objects.filter(organization=world.org).count() == 1


def test_values_are_json_safe_and_diffs_keep_only_changes(world):
    from decimal import Decimal

    assert audit_value(Decimal("1.50")) == "1.50"
    assert audit_value(dt.date(2026, 3, 1)) == "2026-03-01"
    assert audit_value(dt.time(23, 0)) == "23:00:00"
    assert audit_value(world.agent) == world.agent.pk
    assert audit_value({"a": [Decimal("2"), None]}) == {"a": ["2", None]}
    snapshot = audit_snapshot(world.agent, ("upline", "status", "joined_on"))
    assert snapshot == {
        "upline": world.leader.pk,
        "status": "active",
        "joined_on": world.agent.joined_on.isoformat(),
    }
    assert audit_diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {
        "b": [2, 3],
        "c": [None, 4],
    }


def test_system_changes_name_the_system(world):
    entry = audit_record(
        organization=world.org,
        actor=None,
        action="member.update",
        instance=world.agent,
        changes={"status": ["active", "suspended"]},
    )
    assert entry.actor_id is None and entry.actor_display == "system"


# --- The admin -----------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db):
    from django.test import Client

    from tests.agents.factories import UserFactory

    client = Client()
    client.force_login(
        UserFactory(username="root", display_name="Root", is_staff=True, is_superuser=True)
    )
    return client


def test_owner_sees_their_organizations_entries_in_the_admin(client, world):
    ours = record(world)
    record(world, action="member.create", actor=world.outsider, member=world.outsider)
    owner = staff_client(client, world.owner)
    response = owner.get(admin_url(AuditEntry, "changelist"))
    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [ours.pk]
    # The filters offer only their organization's actions: another's do not leak.
    [action_filter] = [f for f in response.context["cl"].filter_specs if f.title == "action"]
    assert list(action_filter.lookup_choices) == ["member.update"]
    page = owner.get(admin_url(AuditEntry, "change", ours.pk))
    assert page.status_code == 200
    content = page.content.decode()
    assert "suspended" in content and 'name="_save"' not in content


def test_nobody_adds_changes_or_deletes_entries_in_the_admin(client, superuser_client, world):
    entry = record(world)
    for admin_client in (staff_client(client, world.owner), superuser_client):
        assert admin_client.get(admin_url(AuditEntry, "add")).status_code == 403
        assert admin_client.get(admin_url(AuditEntry, "delete", entry.pk)).status_code == 403
        response = admin_client.post(
            admin_url(AuditEntry, "change", entry.pk), {"action": "forged"}
        )
        assert response.status_code == 403
        changelist = admin_client.post(
            admin_url(AuditEntry, "changelist"),
            {"action": "delete_selected", "_selected_action": [entry.pk]},
        )
        assert changelist.status_code in (200, 302)
    assert AuditEntry.objects.get().action == "member.update"


def test_admin_member_changes_are_recorded_with_the_staff_member(client, world):
    owner = staff_client(client, world.owner)
    url = admin_url(Membership, "change", world.agent.pk)
    response = owner.post(url, form_data(owner.get(url), status="suspended"))
    assert response.status_code == 302
    [entry] = entries(action="member.update")
    assert entry.actor_id == world.owner.pk
    assert entry.changes == {"status": ["active", "suspended"]}


def test_superuser_member_changes_name_the_platform_operator(superuser_client, world):
    url = admin_url(Membership, "change", world.agent.pk)
    response = superuser_client.post(url, form_data(superuser_client.get(url), role="leader"))
    assert response.status_code == 302
    [entry] = entries(action="member.update")
    assert entry.actor_id is None
    assert entry.actor_display == "Root (platform operator)"
    assert entry.changes == {"role": ["agent", "leader"]}


def test_the_change_page_links_to_the_objects_history(client, world):
    ours = record(world)
    record(world, member=world.sub_agent)
    owner = staff_client(client, world.owner)
    page = owner.get(admin_url(Membership, "change", world.agent.pk))
    link = page.context["audit_history_url"]
    assert link in page.content.decode().replace("&amp;", "&")
    response = owner.get(link)
    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [ours.pk]


def test_the_admin_list_takes_a_constant_number_of_queries(superuser_client, world):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = superuser_client.get(admin_url(AuditEntry, "changelist"))
        assert response.status_code == 200
        return len(queries)

    for _ in range(3):
        record(world)
    few = count()
    for _ in range(20):
        record(world, actor=world.outsider, member=world.outsider)
    assert count() == few


def test_adding_an_existing_person_in_the_admin_is_recorded(superuser_client, world):
    from tests.agents.factories import UserFactory

    person = UserFactory(username="newcomer", display_name="Newcomer")
    add_page = superuser_client.get(admin_url(Membership, "add"))
    response = superuser_client.post(
        admin_url(Membership, "add"),
        form_data(
            add_page,
            organization=str(world.org.pk),
            existing_user=str(person.pk),
            upline=str(world.agent.pk),
            code="A-777",
        ),
    )
    assert response.status_code == 302
    member = Membership.objects.get(user=person)
    [entry] = entries(action="member.create")
    assert entry.object_id == str(member.pk) and entry.object_repr == "Newcomer"
    assert entry.changes["upline"] == [None, world.agent.pk]
    assert entry.changes["code"] == [None, "A-777"]
    assert entry.actor_id is None and entry.actor_display == "Root (platform operator)"
    assert entry.context == {"via": "admin"}


# --- Organization settings and member removal ---------------------------------------------------


def test_settings_changes_are_recorded_without_the_secret(world, client_for):
    client = client_for(world.owner)
    response = client.patch(
        f"{P}settings/",
        {"report_cutoff": "22:30", "workdays": [1, 2, 3, 4, 5, 6], "webhook_secret": "s3cret"},
    )
    assert response.status_code == 200, response.data
    assert client.patch(f"{P}settings/", {"report_cutoff": "22:30"}).status_code == 200
    assert client.patch(f"{P}settings/", {"timezone": "Nowhere/City"}).status_code == 400
    assert client.patch(f"{P}settings/", {"webhook_secret": "other"}).status_code == 200
    first, second = entries(action="organization.settings")
    assert (first.actor_id, first.object_id) == (world.owner.pk, str(world.org.pk))
    assert first.object_type == "agents.organization"
    assert first.changes["report_cutoff"] == ["23:00:00", "22:30:00"]
    assert first.changes["workdays"] == [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6]]
    assert first.changes["webhook_secret"] == ["", "(new)"]
    assert second.changes == {"webhook_secret": ["(set)", "(new)"]}
    assert "s3cret" not in str(first.changes) and "other" not in str(second.changes)


def test_settings_changed_in_the_admin_are_recorded(client, world):
    owner = staff_client(client, world.owner)
    url = admin_url(Organization, "change", world.org.pk)
    response = owner.post(url, form_data(owner.get(url), name="Acme Beauty", currency="USD"))
    assert response.status_code == 302
    [entry] = entries(action="organization.settings")
    assert entry.actor_id == world.owner.pk
    assert entry.changes == {"name": ["Acme", "Acme Beauty"], "currency": ["CNY", "USD"]}
    assert entry.context == {"via": "admin"}


def test_a_member_who_leaves_in_the_admin_is_recorded(client, world):
    owner = staff_client(client, world.owner)
    url = admin_url(Membership, "change", world.sub_agent.pk)
    response = owner.post(url, form_data(owner.get(url), status="left"))
    assert response.status_code == 302
    [entry] = entries(action="member.update")
    assert (entry.actor_id, entry.object_id) == (world.owner.pk, str(world.sub_agent.pk))
    assert entry.changes == {"status": ["active", "left"]}


def test_a_member_deleted_in_the_admin_is_recorded(client, world):
    newcomer = MembershipFactory(organization=world.org, upline=world.agent, code="N-1")
    name = newcomer.display_name
    owner = staff_client(client, world.owner)
    response = owner.post(admin_url(Membership, "delete", newcomer.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=newcomer.pk).exists()
    [entry] = entries(action="member.delete")
    assert (entry.actor_id, entry.object_id, entry.object_repr) == (
        world.owner.pk,
        str(newcomer.pk),
        name,
    )
    assert entry.changes["upline"] == [world.agent.pk, None]
    assert entry.changes["code"] == ["N-1", None]
    assert entry.context == {"via": "admin"}


def test_members_deleted_in_bulk_in_the_admin_are_recorded(superuser_client, world):
    first = MembershipFactory(organization=world.org)
    second = MembershipFactory(organization=world.rival)
    response = superuser_client.post(
        admin_url(Membership, "changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    deleted = entries(action="member.delete")
    assert {(entry.organization_id, entry.object_id) for entry in deleted} == {
        (world.org.pk, str(first.pk)),
        (world.rival.pk, str(second.pk)),
    }
    assert all(entry.actor_display == "Root (platform operator)" for entry in deleted)
