"""Login lockout (django-axes): 5 failures of one username from one address lock that pair."""

import pytest
from rest_framework.test import APIClient

from tests.agents.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
GOOD = "pass-word-123"


@pytest.fixture(autouse=True)
def lockout_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


@pytest.fixture
def user(db):
    return UserFactory(username="victim")


def login(password, ip="10.0.0.1", username="victim", **extra):
    client = APIClient(REMOTE_ADDR=ip, **extra)
    return client.post(TOKEN, {"username": username, "password": password})


def fail(times, **kwargs):
    return [login("wrong-password", **kwargs).status_code for _ in range(times)]


def test_five_failures_lock_even_the_right_password(user):
    assert fail(4) == [401] * 4
    assert login(GOOD).status_code == 200  # the fifth try was right: not locked yet
    # The success reset the count: five more failures are needed, and the fifth already
    # answers 429.
    assert fail(5) == [401] * 4 + [429]
    response = login(GOOD)
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]


def test_a_success_resets_the_count(user):
    fail(4)
    assert login(GOOD).status_code == 200
    assert fail(4) == [401] * 4
    assert login(GOOD).status_code == 200


def test_another_address_is_not_locked(user):
    fail(5)
    assert login(GOOD).status_code == 429
    assert login(GOOD, ip="10.0.0.2").status_code == 200


def test_another_username_from_the_same_address_is_not_locked(user):
    UserFactory(username="bystander")
    fail(5)
    assert login(GOOD, username="bystander").status_code == 200


def test_a_forged_x_forwarded_for_resets_nothing(user, settings):
    """NUM_PROXIES is 0: the header is the client's own word and is not trusted."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    for n in range(5):
        login("wrong-password", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert login(GOOD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_behind_one_proxy_the_proxy_supplied_address_counts(user, settings):
    """With NUM_PROXIES=1 the right-most X-Forwarded-For entry (added by our proxy) is the
    client; entries the client prepends do not change it."""
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_settings.reload()
    try:
        for n in range(5):
            login("wrong-password", ip="10.9.9.9", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 192.0.2.5")
        blocked = login(GOOD, ip="10.9.9.9", HTTP_X_FORWARDED_FOR="8.8.8.8, 192.0.2.5")
        assert blocked.status_code == 429
        other = login(GOOD, ip="10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.6")
        assert other.status_code == 200
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
        api_settings.reload()


def test_the_admin_login_is_locked_too(user, client):
    user.is_staff = True
    user.save()
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": "victim", "password": "wrong"}, REMOTE_ADDR="10.0.0.1"
        )
    response = client.post(
        "/admin/login/", {"username": "victim", "password": GOOD}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429


def test_a_token_login_updates_last_login(user):
    assert user.last_login is None
    assert login(GOOD).status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None
