"""The API's throttles (agents/api/throttling.py): DRF's sliding window in one Redis round trip,
DRF's own implementation on other caches, and both failing open when the store is down."""

import logging
import os
import pickle
import socket
import time

import pytest
from django.core.cache import cache, caches
from rest_framework.settings import api_settings

from agents.api import throttling
from agents.api.throttling import AnonRateThrottle, SharedRateThrottle, UserRateThrottle
from tests.conftest import throttle_counters_forget

pytestmark = pytest.mark.django_db

REGIONS = "/api/v1/orgs/acme/regions/"
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="the Redis path of the throttles needs a Redis server: set REDIS_URL (CI does)",
)


@pytest.fixture(autouse=True)
def fresh_store():
    throttling.reset_store_state()
    throttle_counters_forget()
    yield
    throttle_counters_forget()
    throttling.reset_store_state()


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The throttles' time, moved by hand (`clock.now += 60`)."""
    clock = Clock()
    monkeypatch.setattr(SharedRateThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture
def user_rate(monkeypatch):
    def set_to(rate: str):
        monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": rate})

    return set_to


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def throttle_warnings(caplog):
    return [record for record in caplog.records if record.name == throttling.__name__]


def test_every_request_goes_through_the_projects_throttles():
    classes = api_settings.DEFAULT_THROTTLE_CLASSES
    assert classes == [AnonRateThrottle, UserRateThrottle]


# --- the Redis path -------------------------------------------------------------------------


@needs_redis
def test_a_rate_lets_exactly_that_many_requests_through_per_window(
    client_for, world, clock, user_rate
):
    user_rate("3/min")
    agent = client_for(world.agent)
    assert [agent.get(REGIONS).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert agent.get(REGIONS)["Retry-After"] == "60"
    clock.now += 20
    denied = agent.get(REGIONS)
    assert denied.status_code == 429
    assert denied["Retry-After"] == "40"  # until the oldest request leaves the window
    clock.now += 40
    assert [agent.get(REGIONS).status_code for _ in range(4)] == [200, 200, 200, 429]


@needs_redis
def test_the_window_slides_one_request_at_a_time(client_for, world, clock, user_rate):
    user_rate("2/min")
    agent = client_for(world.agent)
    assert agent.get(REGIONS).status_code == 200
    clock.now += 30
    assert agent.get(REGIONS).status_code == 200
    assert agent.get(REGIONS)["Retry-After"] == "30"
    clock.now += 30  # the first request leaves, the second is still in the window
    assert [agent.get(REGIONS).status_code for _ in range(2)] == [200, 429]


@needs_redis
def test_users_do_not_share_counters(client_for, world, clock, user_rate):
    user_rate("2/min")
    agent, leader = client_for(world.agent), client_for(world.leader)
    assert [agent.get(REGIONS).status_code for _ in range(3)] == [200, 200, 429]
    assert [leader.get(REGIONS).status_code for _ in range(3)] == [200, 200, 429]


@needs_redis
def test_a_request_costs_one_redis_round_trip(client_for, world, clock, user_rate, monkeypatch):
    user_rate("2/min")
    agent = client_for(world.agent)
    assert agent.get(REGIONS).status_code == 200  # loads the script into Redis
    client, _script = throttling.redis_store("default")
    commands = []
    execute_command = client.execute_command

    def counting(*args, **options):
        commands.append(args[0])
        return execute_command(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    assert agent.get(REGIONS).status_code == 200
    assert commands == ["EVALSHA"]
    assert agent.get(REGIONS).status_code == 429
    assert commands == ["EVALSHA", "EVALSHA"]


@needs_redis
def test_the_log_key_carries_the_cache_prefix_and_ignores_an_old_drf_counter(
    client_for, world, user_rate
):
    user_rate("2/min")
    drf_key = f"throttle_user_{world.agent.user.pk}"
    cache.set(drf_key, [time.time()] * 5, 60)  # left by DRF's implementation before a deploy
    assert client_for(world.agent).get(REGIONS).status_code == 200
    client, _script = throttling.redis_store("default")
    log_key = cache.make_key(f"{drf_key}:log")
    assert log_key.startswith(f"{caches['default'].key_prefix}:")
    assert client.zcard(log_key) == 1
    assert client.pttl(log_key) > 59_000  # expires with the window


# --- other caches ---------------------------------------------------------------------------


def test_other_caches_count_with_drfs_own_implementation(client_for, world, settings, user_rate):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    user_rate("2/min")
    agent = client_for(world.agent)
    assert [agent.get(REGIONS).status_code for _ in range(3)] == [200, 200, 429]
    assert isinstance(cache.get(f"throttle_user_{world.agent.user.pk}"), list)


# --- failing open ---------------------------------------------------------------------------


def test_a_redis_that_is_down_lets_requests_through(client_for, world, settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": REDIS_CACHE, "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    agent = client_for(world.agent)
    with caplog.at_level(logging.WARNING, logger=throttling.__name__):
        started = time.monotonic()
        response = agent.get(REGIONS)
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert elapsed < 2
        [warning] = throttle_warnings(caplog)
        assert warning.levelno == logging.WARNING
        assert "ConnectionError" in warning.getMessage()
        assert warning.exc_info is None  # no traceback per outage
        # While it stays down the store is left alone for a while: no warning per request.
        assert agent.get(REGIONS).status_code == 200
        assert len(throttle_warnings(caplog)) == 1


def test_a_redis_that_does_not_answer_is_given_up_on_quickly(client_for, world, settings, caplog):
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings.CACHES = {
            "default": {"BACKEND": REDIS_CACHE, "LOCATION": f"redis://127.0.0.1:{port}/0"}
        }
        with caplog.at_level(logging.WARNING, logger=throttling.__name__):
            started = time.monotonic()
            response = client_for(world.agent).get(REGIONS)
            elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 2
    [warning] = throttle_warnings(caplog)
    assert "Timeout" in warning.getMessage()


def test_the_store_is_tried_again_after_the_pause(client_for, world, settings, monkeypatch):
    settings.CACHES = {
        "default": {"BACKEND": REDIS_CACHE, "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    monkeypatch.setattr(throttling, "OUTAGE_PAUSE", 0.0)
    attempts = []
    unreachable = SharedRateThrottle._store_unreachable
    monkeypatch.setattr(
        SharedRateThrottle,
        "_store_unreachable",
        lambda self, error: attempts.append(error) or unreachable(self, error),
    )
    agent = client_for(world.agent)
    assert [agent.get(REGIONS).status_code for _ in range(2)] == [200, 200]
    assert len(attempts) == 2


def test_other_caches_fail_open_too(client_for, world, settings, caplog, user_rate, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    user_rate("1/min")
    monkeypatch.setattr(throttling, "OUTAGE_PAUSE", 0.0)  # each request tries the cache
    file_cache_errors = [OSError("disk full"), pickle.UnpicklingError("truncated")]

    def broken(*args, **kwargs):
        raise file_cache_errors.pop(0)

    monkeypatch.setattr(caches["default"], "get", broken)
    agent = client_for(world.agent)
    with caplog.at_level(logging.WARNING, logger=throttling.__name__):
        assert agent.get(REGIONS).status_code == 200
        assert agent.get(REGIONS).status_code == 200
    warnings = [record.getMessage() for record in throttle_warnings(caplog)]
    assert len(warnings) == 2
    assert "OSError" in warnings[0] and "UnpicklingError" in warnings[1]
