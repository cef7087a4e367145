"""Invitations: an owner, admin or leader invites someone; the invitee looks at the invitation,
then accepts it (an existing account) or registers (a new one) and is a member on probation,
placed in the hierarchy. Every refusal, the e-mail and in-app message, the audit trail, and the
rule that the token is shown once and stored only hashed."""

import datetime as dt
import hashlib
import re

import pytest
from celery import current_app
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agents.api.throttling import AuthRateThrottle
from agents.models import AuditEntry, Invitation, InvitationStatus, Membership, MemberStatus, User
from notifications.models import Delivery, Notification
from tests.agents.factories import (
    AgentLevelFactory,
    MembershipFactory,
    OrganizationFactory,
    RegionFactory,
    UserFactory,
)
from tests.conftest import throttle_counters_forget

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    conf = current_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


@pytest.fixture
def sent(eager, django_capture_on_commit_callbacks):
    """`with sent(): ...`: the outbox is sent when the block's transactions commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def invitations_url(org="acme", pk=None, action=None):
    if pk is None:
        return reverse("api:invitations-list", kwargs={"org_slug": org})
    name = f"api:invitations-{action}" if action else "api:invitations-detail"
    return reverse(name, kwargs={"org_slug": org, "pk": pk})


def public_url(token, action=None):
    name = f"api:invitation-{action}" if action else "api:invitation-public"
    return reverse(name, kwargs={"token": token})


def invite(client, org="acme", **body):
    response = client.post(invitations_url(org), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def token_of(message) -> str:
    return re.search(r"/invitations/([\w-]+)/", message.body).group(1)


# --- The full flow, both ways ------------------------------------------------------------------


def test_a_new_person_registers_through_the_emailed_link_and_joins_on_probation(
    world, client_for, sent, settings
):
    settings.FRONTEND_INVITE_URL = "https://teams.example.com/api/v1/invitations/{token}/"
    north = RegionFactory(organization=world.org, name="North")
    gold = AgentLevelFactory(organization=world.org, name="Gold", rank=3)
    with sent():
        created = invite(
            client_for(world.owner),
            email="New.Agent@Example.com",
            upline=world.agent.pk,
            region=north.pk,
            level=gold.pk,
            code="A-777",
        )
    assert created["status"] == "pending"
    assert created["email"] == "new.agent@example.com"
    assert created["invite_url"] == (
        f"https://teams.example.com/api/v1/invitations/{created['token']}/"
    )
    [message] = mail.outbox
    assert message.to == ["new.agent@example.com"]
    assert "Acme" in message.subject
    assert created["invite_url"] in message.body
    token = token_of(message)
    assert token == created["token"]

    anonymous = APIClient()
    looked = anonymous.get(public_url(token))
    assert looked.status_code == 200
    assert set(looked.json()) == {"organization", "role", "expires_at"}
    assert looked.json()["organization"] == "Acme"
    assert looked.json()["role"] == "agent"

    registered = anonymous.post(
        public_url(token, "register"),
        {"username": "new.agent", "password": "a-Long-pass-1", "display_name": "New Agent"},
        format="json",
    )
    assert registered.status_code == 201, registered.content
    body = registered.json()
    assert body["membership"]["organization"] == {"slug": "acme", "name": "Acme"}

    as_new = APIClient()
    as_new.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = as_new.get("/api/v1/me/").json()
    assert me["username"] == "new.agent"
    assert me["display_name"] == "New Agent"
    assert [m["organization"]["slug"] for m in me["memberships"]] == ["acme"]

    # The leader of branch A now sees the new agent below their agent, on probation.
    below = client_for(world.leader).get(
        reverse("api:members-list", kwargs={"org_slug": "acme"}),
        {"subtree_of": world.agent.pk},
    )
    row = next(r for r in below.json()["results"] if r["username"] == "new.agent")
    assert row["status"] == "probation"
    assert (row["upline"], row["region"], row["level"], row["code"]) == (
        world.agent.pk,
        north.pk,
        gold.pk,
        "A-777",
    )
    assert row["depth"] == world.agent.depth + 1
    member = Membership.objects.get(pk=row["id"])
    assert member.path == f"{world.agent.path}{member.pk}/"
    assert member.user.email == "new.agent@example.com"

    detail = client_for(world.owner).get(invitations_url(pk=created["id"])).json()
    assert detail["status"] == "accepted"
    assert detail["accepted_by"] == member.pk
    # The link works once.
    assert anonymous.get(public_url(token)).status_code == 404


def test_a_member_of_another_organization_gets_an_inbox_message_and_accepts(
    world, client_for, sent
):
    with sent():
        created = invite(client_for(world.admin), email="OUTSIDER@example.com", role="leader")
    # One e-mail (the inbox notification's), in their own organization's inbox too.
    [message] = mail.outbox
    assert message.to == ["outsider@example.com"]
    inbox = client_for(world.outsider).get(
        reverse("api:my-notifications-list", kwargs={"org_slug": "rival"})
    )
    [notification] = inbox.json()["results"]
    assert "Acme" in notification["title"]
    assert created["token"] in notification["link"]

    accepted = client_for(world.outsider).post(public_url(created["token"], "accept"))
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["role"] == "leader"
    assert accepted.json()["organization"]["slug"] == "acme"
    orgs = client_for(world.outsider).get("/api/v1/orgs/").json()
    assert {(o["slug"], o["role"]) for o in orgs} == {("rival", "owner"), ("acme", "leader")}
    joined = Membership.objects.get(organization=world.org, user=world.outsider.user)
    assert joined.status == MemberStatus.PROBATION
    assert joined.upline is None and joined.path == f"/{joined.pk}/"


def test_a_leader_invites_agents_into_their_own_team_only(world, client_for):
    leader = client_for(world.leader)
    created = invite(leader, username="recruit")
    assert created["upline"] == world.leader.pk  # defaults to the leader
    below_agent = invite(leader, email="deep@example.com", upline=world.sub_agent.pk)
    assert below_agent["upline"] == world.sub_agent.pk

    outside = leader.post(
        invitations_url(), {"email": "x@example.com", "upline": world.other_agent.pk}, format="json"
    )
    assert outside.status_code == 400
    assert "upline" in outside.json()
    as_admin = leader.post(invitations_url(), {"email": "x@example.com", "role": "admin"})
    assert as_admin.status_code == 403
    as_leader = leader.post(invitations_url(), {"email": "x@example.com", "role": "leader"})
    assert as_leader.status_code == 403
    assert not Invitation.objects.filter(email="x@example.com").exists()

    # Each leader sees the invitations placed in their own team.
    ids = {row["id"] for row in leader.get(invitations_url()).json()["results"]}
    assert ids == {created["id"], below_agent["id"]}
    other = client_for(world.other_leader)
    assert other.get(invitations_url()).json()["count"] == 0
    assert other.get(invitations_url(pk=created["id"])).status_code == 404
    assert other.post(invitations_url(pk=created["id"], action="revoke")).status_code == 404
    assert client_for(world.agent).get(invitations_url(pk=created["id"])).status_code == 404
    assert client_for(world.agent).get(invitations_url()).status_code == 403


def test_a_leader_cannot_see_or_resend_an_admins_invitation_in_their_team(world, client_for):
    created = invite(
        client_for(world.owner), email="chief@example.com", role="admin", upline=world.agent.pk
    )
    leader = client_for(world.leader)
    assert leader.get(invitations_url()).json()["count"] == 0
    assert leader.post(invitations_url(pk=created["id"], action="resend")).status_code == 404
    assert leader.post(invitations_url(pk=created["id"], action="revoke")).status_code == 404


def test_someone_who_left_is_not_invited_but_reactivated(world, client_for):
    Membership.objects.filter(pk=world.agent.pk).update(status=MemberStatus.LEFT)
    response = client_for(world.owner).post(invitations_url(), {"username": "agent"}, format="json")
    assert response.status_code == 409
    assert not Invitation.objects.exists()


def test_only_an_owner_invites_owners_and_admins(world, client_for):
    refused = client_for(world.admin).post(
        invitations_url(), {"email": "boss@example.com", "role": "owner"}, format="json"
    )
    assert refused.status_code == 403
    refused = client_for(world.admin).post(
        invitations_url(), {"email": "boss@example.com", "role": "admin"}, format="json"
    )
    assert refused.status_code == 403
    assert (
        invite(client_for(world.owner), email="boss@example.com", role="owner")["role"] == "owner"
    )


def test_another_organization_sees_nothing(world, client_for):
    created = invite(client_for(world.owner), email="someone@example.com")
    outsider = client_for(world.outsider)
    assert outsider.get(invitations_url(pk=created["id"])).status_code == 404
    assert outsider.get(invitations_url(org="rival", pk=created["id"])).status_code == 404
    assert (
        outsider.post(invitations_url(org="rival", pk=created["id"], action="revoke")).status_code
        == 404
    )
    assert outsider.get(invitations_url(org="rival")).json()["count"] == 0


# --- Input ---------------------------------------------------------------------------------------


def test_bad_invitations_are_400s_naming_the_field_and_write_nothing(world, client_for):
    owner = client_for(world.owner)
    cases = [
        ({}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@example.com", "role": "king"}, "role"),
        ({"email": "a@example.com", "upline": world.outsider.pk}, "upline"),
        ({"email": "a@example.com", "code": "A-001"}, "code"),  # the agent's code
        ({"username": "bad name!"}, "username"),
        ({"email": 12}, "email"),
    ]
    for body, field in cases:
        response = owner.post(invitations_url(), body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), (body, response.json())
    assert not Invitation.objects.exists()
    assert not AuditEntry.objects.filter(action="invitation.create").exists()


def test_one_pending_invitation_per_address_and_user_name(world, client_for):
    owner = client_for(world.owner)
    first = invite(owner, email="twice@example.com", username="twice")
    again = owner.post(invitations_url(), {"email": "TWICE@example.com"}, format="json")
    assert again.status_code == 400 and "email" in again.json()
    again = owner.post(invitations_url(), {"username": "Twice"}, format="json")
    assert again.status_code == 400 and "username" in again.json()
    # Once the first has expired, a new one may be made (and the old one reads as expired).
    Invitation.objects.filter(pk=first["id"]).update(expires_at=timezone.now())
    invite(owner, email="twice@example.com")
    assert Invitation.objects.get(pk=first["id"]).status == InvitationStatus.EXPIRED


def test_members_are_not_invited_again(world, client_for):
    owner = client_for(world.owner)
    response = owner.post(invitations_url(), {"username": "AGENT"}, format="json")
    assert response.status_code == 409
    response = owner.post(invitations_url(), {"email": world.agent.user.email}, format="json")
    assert response.status_code == 409
    assert not Invitation.objects.exists()


# --- Refusals on the invitee's side --------------------------------------------------------------


def test_an_expired_invitation_is_gone_and_reads_as_expired(world, client_for):
    created = invite(client_for(world.owner), email="late@example.com")
    Invitation.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    token = created["token"]
    detail = client_for(world.owner).get(invitations_url(pk=created["id"]))
    assert detail.json()["status"] == "expired"
    anonymous = APIClient()
    assert anonymous.get(public_url(token)).status_code == 404
    registered = anonymous.post(
        public_url(token, "register"),
        {"username": "late", "password": "a-Long-pass-1"},
        format="json",
    )
    assert registered.status_code == 404
    late = UserFactory(username="late_user", email="late@example.com")
    assert (
        client_for(MembershipFactory(user=late)).post(public_url(token, "accept")).status_code
        == 404
    )
    assert Invitation.objects.get(pk=created["id"]).status == InvitationStatus.EXPIRED
    assert not User.objects.filter(username="late").exists()
    listed = client_for(world.owner).get(invitations_url(), {"status": "expired"})
    assert [row["id"] for row in listed.json()["results"]] == [created["id"]]
    # Revoking it is a conflict; resending revives it with a new link.
    revoke = client_for(world.owner).post(invitations_url(pk=created["id"], action="revoke"))
    assert revoke.status_code == 409
    resent = client_for(world.owner).post(invitations_url(pk=created["id"], action="resend"))
    assert resent.status_code == 200
    assert resent.json()["status"] == "pending"
    assert anonymous.get(public_url(resent.json()["token"])).status_code == 200


def test_a_revoked_invitation_cannot_be_used(world, client_for):
    created = invite(client_for(world.owner), email="gone@example.com")
    revoked = client_for(world.admin).post(invitations_url(pk=created["id"], action="revoke"))
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_at"]
    anonymous = APIClient()
    assert anonymous.get(public_url(created["token"])).status_code == 404
    response = anonymous.post(
        public_url(created["token"], "register"),
        {"username": "gone", "password": "a-Long-pass-1"},
        format="json",
    )
    assert response.status_code == 404
    again = client_for(world.admin).post(invitations_url(pk=created["id"], action="revoke"))
    assert again.status_code == 409
    assert (
        client_for(world.admin).post(invitations_url(pk=created["id"], action="resend")).status_code
        == 409
    )


def test_unknown_and_malformed_tokens_are_404(world, client_for):
    anonymous = APIClient()
    for token in ("x", "a" * 43, "ü-%-ß" * 9, "a" * 300):
        assert anonymous.get(public_url(token)).status_code == 404
        assert client_for(world.agent).post(public_url(token, "accept")).status_code == 404


def test_a_token_works_once(world, client_for):
    created = invite(client_for(world.owner), username="once")
    first = UserFactory(username="once")
    assert (
        client_for(MembershipFactory(user=first))
        .post(public_url(created["token"], "accept"))
        .status_code
        == 201
    )
    assert (
        client_for(world.outsider).post(public_url(created["token"], "accept")).status_code == 404
    )
    response = APIClient().post(
        public_url(created["token"], "register"),
        {"username": "once", "password": "a-Long-pass-1"},
        format="json",
    )
    assert response.status_code == 404
    assert Membership.objects.filter(organization=world.org, user=first).count() == 1


def test_the_wrong_person_cannot_accept(world, client_for):
    by_email = invite(client_for(world.owner), email="right@example.com")
    wrong = client_for(world.outsider)  # outsider@example.com
    assert wrong.post(public_url(by_email["token"], "accept")).status_code == 403
    by_name = invite(client_for(world.owner), username="right_name")
    assert wrong.post(public_url(by_name["token"], "accept")).status_code == 403
    assert not Membership.objects.filter(organization=world.org, user=world.outsider.user).exists()
    assert Invitation.objects.filter(status=InvitationStatus.PENDING).count() == 2


def test_someone_who_is_already_a_member_gets_409(world, client_for):
    created = invite(client_for(world.owner), email="dup@example.com")
    user = UserFactory(username="dup", email="dup@example.com")
    member = MembershipFactory(organization=world.org, user=user)
    response = client_for(member).post(public_url(created["token"], "accept"))
    assert response.status_code == 409
    assert Invitation.objects.get(pk=created["id"]).status == InvitationStatus.PENDING


def test_accepting_needs_an_account(world):
    created = invite_as_owner(world)
    assert APIClient().post(public_url(created["token"], "accept")).status_code == 401


def invite_as_owner(world, **body):
    client = APIClient()
    client.force_authenticate(world.owner.user)
    return invite(client, **({"email": "someone@example.com"} | body))


def test_registration_refusals_write_nothing(world):
    created = invite_as_owner(world, username="fixed_name")
    anonymous = APIClient()
    url = public_url(created["token"], "register")
    cases = [
        ({"username": "other_name", "password": "a-Long-pass-1"}, "username"),
        ({"username": "fixed_name", "password": "123"}, "password"),
        ({"username": "fixed_name"}, "password"),
        ({"password": "a-Long-pass-1"}, "username"),
    ]
    for body, field in cases:
        response = anonymous.post(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()
    taken = invite_as_owner(world, email="taken@example.com")
    response = anonymous.post(
        public_url(taken["token"], "register"),
        {"username": "AGENT", "password": "a-Long-pass-1"},
        format="json",
    )
    assert response.status_code == 400 and "username" in response.json()
    assert not User.objects.filter(username__in=["fixed_name", "other_name"]).exists()
    assert Invitation.objects.filter(status=InvitationStatus.PENDING).count() == 2


def test_an_address_with_an_account_must_sign_in_instead_of_registering(world):
    UserFactory(username="has_account", email="has@example.com")
    created = invite_as_owner(world, email="has@example.com")
    response = APIClient().post(
        public_url(created["token"], "register"),
        {"username": "second_account", "password": "a-Long-pass-1"},
        format="json",
    )
    assert response.status_code == 409
    assert not User.objects.filter(username="second_account").exists()


def test_an_upline_who_left_meanwhile_makes_the_invitation_unusable(world, client_for):
    created = invite(client_for(world.owner), username="orphan", upline=world.agent.pk)
    Membership.objects.filter(pk=world.agent.pk).update(status=MemberStatus.LEFT)
    response = APIClient().post(
        public_url(created["token"], "register"),
        {"username": "orphan", "password": "a-Long-pass-1"},
        format="json",
    )
    assert response.status_code == 409
    assert "upline" in response.json()["details"]
    assert not User.objects.filter(username="orphan").exists()
    assert Invitation.objects.get(pk=created["id"]).status == InvitationStatus.PENDING


# --- Tokens ---------------------------------------------------------------------------------------


def test_the_token_is_shown_once_and_stored_hashed(world, client_for):
    owner = client_for(world.owner)
    created = invite(owner, email="secret@example.com")
    token = created["token"]
    stored = Invitation.objects.get(pk=created["id"])
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.filter(pk=stored.pk).values().get())
    for response in (
        owner.get(invitations_url()),
        owner.get(invitations_url(pk=created["id"])),
        owner.post(invitations_url(pk=created["id"], action="revoke")),
    ):
        assert response.status_code == 200
        assert token not in response.content.decode()
        assert "token" not in response.content.decode()


def test_resend_issues_a_new_link_and_the_old_one_stops_working(world, client_for, sent):
    owner = client_for(world.owner)
    with sent():
        created = invite(owner, email="again@example.com")
    with sent():
        resent = owner.post(invitations_url(pk=created["id"], action="resend"))
    assert resent.status_code == 200
    new_token = resent.json()["token"]
    assert new_token != created["token"]
    assert resent.json()["send_count"] == 2
    assert [token_of(message) for message in mail.outbox] == [created["token"], new_token]
    anonymous = APIClient()
    assert anonymous.get(public_url(created["token"])).status_code == 404
    assert anonymous.get(public_url(new_token)).status_code == 200
    # The outbox forgets the links once they are sent.
    assert not Delivery.objects.exclude(content="").exists()


def test_the_public_endpoints_are_throttled_per_address(world, monkeypatch):
    throttle_counters_forget()  # counters of earlier tests, from the same address
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    anonymous = APIClient()
    statuses = [anonymous.get(public_url("a" * 43)).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    response = anonymous.post(
        public_url("a" * 43, "register"), {"username": "x", "password": "y"}, format="json"
    )
    assert response.status_code == 429


# --- Audit trail ---------------------------------------------------------------------------------


def test_create_revoke_and_accept_are_audited(world, client_for):
    owner = client_for(world.owner)
    revoked = invite(owner, email="r@example.com")
    owner.post(invitations_url(pk=revoked["id"], action="revoke"))
    accepted = invite(owner, username="joiner", upline=world.leader.pk)
    APIClient().post(
        public_url(accepted["token"], "register"),
        {"username": "joiner", "password": "a-Long-pass-1"},
        format="json",
    )
    entries = {
        (entry.action, entry.object_id): entry
        for entry in AuditEntry.objects.filter(object_type="agents.invitation")
    }
    assert set(entries) == {
        ("invitation.create", str(revoked["id"])),
        ("invitation.revoke", str(revoked["id"])),
        ("invitation.create", str(accepted["id"])),
        ("invitation.accept", str(accepted["id"])),
    }
    create = entries["invitation.create", str(accepted["id"])]
    assert create.actor == world.owner
    assert create.changes["upline"] == [None, world.leader.pk]
    assert create.changes["username"] == [None, "joiner"]
    assert entries["invitation.revoke", str(revoked["id"])].changes == {
        "status": ["pending", "revoked"]
    }
    joined = Membership.objects.get(organization=world.org, user__username="joiner")
    assert entries["invitation.accept", str(accepted["id"])].actor == joined
    assert not any("token" in str(entry.changes) for entry in entries.values())


# --- Admin ---------------------------------------------------------------------------------------


def test_the_admin_lists_invitations_and_revokes_pending_ones(world, client_for, client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    created = invite(client_for(world.owner), email="adm@example.com")
    used = invite(client_for(world.owner), username="used_one")
    Invitation.objects.filter(pk=used["id"]).update(status=InvitationStatus.ACCEPTED)
    changelist = reverse("admin:agents_invitation_changelist")
    assert client.get(changelist).status_code == 200
    detail = client.get(reverse("admin:agents_invitation_change", args=[created["id"]]))
    assert detail.status_code == 200
    assert Invitation.objects.get(pk=created["id"]).token_hash in detail.content.decode()
    response = client.post(
        changelist,
        {"action": "revoke_selected", "_selected_action": [created["id"], used["id"]]},
        follow=True,
    )
    assert response.status_code == 200
    assert Invitation.objects.get(pk=created["id"]).status == InvitationStatus.REVOKED
    assert Invitation.objects.get(pk=used["id"]).status == InvitationStatus.ACCEPTED
    entry = AuditEntry.objects.get(action="invitation.revoke")
    assert entry.actor_display == f"{root.get_display_name()} (platform operator)"


def test_organization_staff_see_only_their_organizations_invitations(world, client):
    other = OrganizationFactory(slug="third")
    other_owner = MembershipFactory(organization=other, role="owner", user__username="third_owner")
    Invitation.objects.create(
        organization=other,
        email="theirs@example.com",
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=1),
        invited_by=other_owner,
    )
    mine = invite_as_owner(world, email="mine@example.com")
    world.owner.user.is_staff = True
    world.owner.user.save()
    client.force_login(world.owner.user)
    page = client.get(reverse("admin:agents_invitation_changelist")).content.decode()
    assert "mine@example.com" in page
    assert "theirs@example.com" not in page
    assert Notification.objects.count() == 0
    assert mine["status"] == "pending"


def test_the_admin_adds_an_invitation_and_shows_its_link_once(world, client, sent):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    add = reverse("admin:agents_invitation_add")
    assert client.get(add).status_code == 200
    with sent():
        response = client.post(
            add,
            {"organization": world.org.pk, "email": "from.admin@example.com", "role": "admin"},
            follow=True,
        )
    assert response.status_code == 200
    invitation = Invitation.objects.get(email="from.admin@example.com")
    assert invitation.role == "admin" and invitation.invited_by is None
    [message] = mail.outbox
    token = token_of(message)
    shown = [str(m) for m in response.context["messages"]]
    assert any(token in text for text in shown)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    entry = AuditEntry.objects.get(action="invitation.create")
    assert entry.actor_display.endswith("(platform operator)")


def test_the_admin_form_refuses_what_the_api_refuses(world, client):
    world.admin.user.is_staff = True
    world.admin.user.save()
    client.force_login(world.admin.user)
    response = client.post(
        reverse("admin:agents_invitation_add"),
        {"organization": world.org.pk, "email": "boss@example.com", "role": "owner"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "role" in response.context["adminform"].form.errors
    response = client.post(
        reverse("admin:agents_invitation_add"),
        {"organization": world.org.pk, "email": world.agent.user.email, "role": "agent"},
    )
    assert response.context["adminform"].form.non_field_errors()
    assert not Invitation.objects.exists()
