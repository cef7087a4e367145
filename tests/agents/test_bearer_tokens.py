"""Bearer tokens on organization-scoped routes: the user row is read with the membership
(agents.api.authentication), and the answers are those of simplejwt and the tenancy rules."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from agents.models import Membership

pytestmark = pytest.mark.django_db


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def test_a_member_is_served_and_the_user_is_read_with_the_membership(world):
    client = bearer(world.agent.user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/orgs/acme/products/")
    assert response.status_code == 200
    user_alone = [
        q["sql"] for q in queries if q["sql"].lstrip().startswith('SELECT "agents_user"."id"')
    ]
    assert user_alone == []  # no query of its own for the user


def test_an_inactive_user_gets_401_even_as_a_member(world):
    client = bearer(world.agent.user)
    world.agent.user.is_active = False
    world.agent.user.save(update_fields=["is_active"])
    response = client.get("/api/v1/orgs/acme/products/")
    assert response.status_code == 401
    assert response.data["code"] == "user_inactive"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_inactive_user_gets_401_not_404_elsewhere(world):
    client = bearer(world.agent.user)
    world.agent.user.is_active = False
    world.agent.user.save(update_fields=["is_active"])
    assert client.get("/api/v1/orgs/rival/products/").status_code == 401


def test_a_deleted_users_token_gets_401(world):
    user = world.sub_agent.user
    client = bearer(user)
    Membership.objects.filter(pk=world.sub_agent.pk).delete()
    user.delete()
    response = client.get("/api/v1/orgs/acme/products/")
    assert response.status_code == 401
    assert response.data["code"] == "user_not_found"


def test_a_valid_caller_outside_the_organization_gets_404(world):
    assert bearer(world.agent.user).get("/api/v1/orgs/rival/products/").status_code == 404


def test_a_tampered_token_gets_401(world):
    client = APIClient()
    token = str(AccessToken.for_user(world.agent.user))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token[:-2]}xx")
    assert client.get("/api/v1/orgs/acme/products/").status_code == 401


@pytest.mark.parametrize(
    "persona,method,path,body",
    [
        ("agent", "get", "/api/v1/orgs/acme/members/", None),
        ("agent", "post", "/api/v1/orgs/acme/products/", {"sku": "X1", "name": "X"}),
        ("admin", "post", "/api/v1/orgs/acme/products/", {"sku": "X1", "name": "X"}),
        ("leader", "get", "/api/v1/orgs/acme/members/{agent}/", None),
        ("other_leader", "get", "/api/v1/orgs/acme/members/{agent}/", None),
        ("outsider", "get", "/api/v1/orgs/acme/members/", None),
        ("agent", "get", "/api/v1/orgs/acme/daily-reports/", None),
        ("owner", "get", "/api/v1/orgs/acme/audit-log/", None),
        ("agent", "get", "/api/v1/orgs/acme/audit-log/", None),
    ],
)
def test_bearer_tokens_answer_as_the_session_does(world, persona, method, path, body):
    """The same status and body through a token as through a forced login (which the other
    tests use): the deferred user changes nothing a client sees."""
    path = path.format(agent=world.agent.pk)
    user = world.member(persona).user
    forced = APIClient()
    forced.force_authenticate(user)
    expected = getattr(forced, method)(path, body, format="json")
    if method == "post" and expected.status_code == 201:
        from agents.models import Product

        Product.objects.filter(sku="X1").delete()
    got = getattr(bearer(user), method)(path, body, format="json")
    assert got.status_code == expected.status_code
    if got.status_code == 201:
        assert {k: v for k, v in got.data.items() if k != "id"} == {
            k: v for k, v in expected.data.items() if k != "id"
        }
    else:
        assert got.data == expected.data


def test_the_request_user_is_the_real_user_after_the_tenant(world):
    """After the tenant, the request's user is the User row read with the membership (not the
    deferred stand-in), and a write that records who did it records the caller."""
    from agents.models import User

    client = bearer(world.owner.user)
    response = client.patch("/api/v1/orgs/acme/settings/", {"name": "Acme Renamed"}, format="json")
    assert response.status_code == 200, response.data
    assert type(response.wsgi_request.user) is User
    assert response.wsgi_request.user.pk == world.owner.user.pk
    from agents.models import AuditEntry

    entry = AuditEntry.objects.filter(organization=world.org).latest("pk")
    assert entry.actor_id == world.owner.pk
