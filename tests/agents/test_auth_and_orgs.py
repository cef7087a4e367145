import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from agents.calendar import statutory_exceptions
from agents.models import CalendarDay, Membership, Organization, Role
from tests.agents.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.conftest import throttle_counters_forget

pytestmark = pytest.mark.django_db


def test_token_pair_then_refresh_then_me(api_client, world):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "agent", "password": "pass-word-123"}
    )
    assert response.status_code == 200
    access, refresh = response.data["access"], response.data["refresh"]

    refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh})
    assert refreshed.status_code == 200 and refreshed.data["access"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.data["username"] == "agent"
    assert me.data["memberships"] == [
        {"id": world.agent.pk, "role": "agent", "organization": {"slug": "acme", "name": "Acme"}}
    ]


def test_bad_credentials_are_401(api_client, world):
    response = api_client.post("/api/v1/auth/token/", {"username": "agent", "password": "nope"})
    assert response.status_code == 401


def test_anonymous_me_is_401(api_client):
    assert api_client.get("/api/v1/me/").status_code == 401


def test_orgs_lists_the_callers_organizations_with_role(client_for, world):
    response = client_for(world.leader).get("/api/v1/orgs/")
    assert response.status_code == 200
    assert response.data == [{"slug": "acme", "name": "Acme", "role": "leader"}]


def test_a_member_who_left_no_longer_sees_the_organization(client_for, world):
    world.agent.status = "left"
    world.agent.save()
    client = client_for(world.agent)
    assert client.get("/api/v1/orgs/").data == []
    assert client.get("/api/v1/orgs/acme/members/").status_code == 404


def test_sign_up_creates_organization_with_caller_as_owner_and_prefilled_calendar(client_for, db):
    user = UserFactory()
    client = client_for(None)
    client.force_authenticate(user)
    response = client.post(
        "/api/v1/orgs/", {"slug": "new-brand", "name": "New Brand", "timezone": "Asia/Shanghai"}
    )
    assert response.status_code == 201, response.data
    assert response.data["role"] == "owner"
    org = Organization.objects.get(slug="new-brand")
    assert org.currency == "CNY"
    owner = Membership.objects.get(organization=org, user=user)
    assert owner.role == Role.OWNER and owner.path == f"/{owner.pk}/"
    this_year = org.local_today().year
    expected = statutory_exceptions(
        country="CN", workdays=[1, 2, 3, 4, 5], year=this_year, language="zh-hans"
    )
    prefilled = CalendarDay.objects.filter(organization=org, date__year=this_year)
    assert sorted(prefilled.values_list("date", "is_workday", "name")) == expected
    assert client.get("/api/v1/orgs/new-brand/settings/").status_code == 200


def test_sign_up_with_a_taken_slug_is_400_and_writes_nothing(client_for, world):
    client = client_for(world.agent)
    before = Organization.objects.count()
    response = client.post("/api/v1/orgs/", {"slug": "acme", "name": "Copycat"})
    assert response.status_code == 400
    assert "slug" in response.data
    assert Organization.objects.count() == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"slug": "x y", "name": "Bad"}, "slug"),
        ({"slug": "ok", "name": ""}, "name"),
        ({"slug": "ok", "name": "N", "timezone": "Mars/Base"}, "timezone"),
        ({"slug": "ok", "name": "N", "currency": "yuan"}, "currency"),
    ],
)
def test_sign_up_bad_input_names_the_field(client_for, world, body, field):
    response = client_for(world.agent).post("/api/v1/orgs/", body)
    assert response.status_code == 400
    assert field in response.data
    assert not Organization.objects.filter(slug="ok").exists()


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_schema_and_docs_are_served(client, db):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI is served from our own static files, not a CDN.
    assert b"cdn.jsdelivr" not in docs.content and b"unpkg.com" not in docs.content


def test_token_endpoint_is_throttled_per_address(api_client, world, monkeypatch, settings):

    from agents.api.throttling import AuthRateThrottle

    throttle_counters_forget()
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    answers = [
        api_client.post(
            "/api/v1/auth/token/", {"username": "agent", "password": "wrong"}
        ).status_code
        for _ in range(4)
    ]
    assert answers == [401, 401, 401, 429]
    # Another username from the same address is throttled too: guessing is slow, not rotated.
    other = api_client.post("/api/v1/auth/token/", {"username": "leader", "password": "x"})
    assert other.status_code == 429
    throttle_counters_forget()


def _bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def test_me_lists_the_organizations_the_user_works_for_by_name(world):
    """Another organization's membership too; not one the user left, nor an inactive one's."""
    user = world.agent.user
    zebra = MembershipFactory(
        organization=OrganizationFactory(slug="zebra", name="Zebra"), user=user, role="leader"
    )
    MembershipFactory(organization=world.rival, user=user, status="left")
    closed = OrganizationFactory(slug="closed", name="Aardvark", is_active=False)
    MembershipFactory(organization=closed, user=user)
    client = _bearer(user)
    with CaptureQueriesContext(connection) as queries:
        me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": user.pk,
        "username": "agent",
        "display_name": user.get_display_name(),
        "memberships": [
            {
                "id": world.agent.pk,
                "role": "agent",
                "organization": {"slug": "acme", "name": "Acme"},
            },
            {"id": zebra.pk, "role": "leader", "organization": {"slug": "zebra", "name": "Zebra"}},
        ],
    }
    assert len(queries) == 2  # the user, the memberships with their organizations
    assert client.get("/api/v1/orgs/").json() == [
        {"slug": "acme", "name": "Acme", "role": "agent"},
        {"slug": "zebra", "name": "Zebra", "role": "leader"},
    ]


def test_me_answers_what_its_serializer_declares(world):
    from rest_framework import serializers

    from agents.api.serializers import MeSerializer
    from agents.selectors import memberships_of_user_list

    user = world.agent.user
    MembershipFactory(organization=world.rival, user=user, role="admin")
    payload = {
        "id": user.pk,
        "username": user.username,
        "get_display_name": user.get_display_name(),
        "memberships": memberships_of_user_list(user=user),
    }
    assert len(payload["memberships"]) == 2
    serializer = MeSerializer(payload)
    assert serializer.data == serializers.Serializer.to_representation(serializer, payload)


def test_a_token_whose_user_is_gone_or_inactive_is_401_on_me(world):
    gone, inactive = UserFactory(), world.leader.user
    gone_client, inactive_client = _bearer(gone), _bearer(inactive)
    gone.delete()
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for client, code in ((gone_client, "user_not_found"), (inactive_client, "user_inactive")):
        response = client.get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["code"] == code


def test_sign_up_with_a_bearer_token_makes_its_user_the_owner(db):
    """orgs/ leaves a bearer's user unread until it is used (DeferredJWTMixin): the new
    membership is that user's."""
    user = UserFactory()
    response = _bearer(user).post("/api/v1/orgs/", {"slug": "via-token", "name": "Via Token"})
    assert response.status_code == 201, response.data
    owner = Membership.objects.get(organization__slug="via-token")
    assert (owner.user_id, owner.role) == (user.pk, Role.OWNER)
    assert _bearer(user).get("/api/v1/me/").json()["memberships"][0]["id"] == owner.pk
