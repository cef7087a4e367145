"""The API's throttles: DRF's sliding-window rate limits, counted in the shared cache, in one
Redis round trip per request when the cache is Redis, and failing open when the store is down.

DRF's `SimpleRateThrottle` keeps each client's recent request times as a pickled list: a GET and
a SET of the whole list on every request. `SharedRateThrottle` keeps the same window log as a
sorted set instead and updates it with one Lua script (EVALSHA), so the hot path of every API
request costs one round trip and no pickling. Other caches (files in embedded mode, local memory
in tests) keep DRF's own implementation.

A Redis (or cache) outage must not fail an agent's request: when the store cannot be reached the
request is allowed, one warning is logged, and the store is left alone for a few seconds so a
Redis that does not answer costs at most one short timeout per process now and then.
"""

import hashlib
import logging
import pickle
import secrets
import threading
import time

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry
from rest_framework import throttling
from rest_framework.exceptions import ParseError

logger = logging.getLogger(__name__)

# Given up on quickly: a throttle that waits for Redis would hold every request up with it.
SOCKET_TIMEOUT = 0.3
# After a failure the store is not asked again for this long (seconds): no timeout per request
# and no warning per request while Redis is down.
OUTAGE_PAUSE = 5.0

# What a store that cannot be reached raises: sockets and files (OSError), a truncated or
# garbled file cache entry, and redis-py's errors (connection, timeout, READONLY, OOM...).
STORE_ERRORS = (OSError, EOFError, pickle.UnpicklingError, redis.RedisError)

# KEYS[1]: the client's window log, a sorted set of allowed requests scored by time (ms).
# ARGV: now (ms), window (ms), limit, a unique member for this request.
# The same rule as DRF's SimpleRateThrottle: entries at or before now - window have left the
# window; fewer than `limit` left means allowed (and recorded), otherwise the answer is how many
# ms until the oldest entry leaves. Returns -1 when allowed.
WINDOW_LOG_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < tonumber(ARGV[3]) then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window))
  return -1
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return math.ceil(window)
end
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
"""

# One client (and its registered script) per process and Redis location. redis-py's pool
# notices a fork (its pid check) and opens fresh connections in the child, so a client made
# before gunicorn or Celery forks stays usable there.
_stores: dict[str, tuple[redis.Redis, Script]] = {}
_stores_lock = threading.Lock()
_store_down_until = 0.0  # time.monotonic(): not `timer`, which tests move


def redis_store(alias: str) -> tuple[redis.Redis, Script]:
    """The throttles' client for the Redis cache `alias`, and the window log script on it.

    Not the cache's own connection pool: that one waits for Redis without a timeout unless
    OPTIONS set one, and retries with backoff; a throttle must give up within a fraction of a
    second. Same LOCATION (the first server, which Django writes to) and OPTIONS otherwise."""
    config = settings.CACHES[alias]
    location = config["LOCATION"]
    if not isinstance(location, str):
        location = location[0]
    store = _stores.get(location)
    if store is None:
        with _stores_lock:
            store = _stores.get(location)
            if store is None:
                url = location.replace(";", ",").split(",")[0]
                # OPTIONS also go to Django's pool (password, ssl...), minus Django's own keys.
                options = {
                    name: value
                    for name, value in config.get("OPTIONS", {}).items()
                    if name not in {"serializer", "pool_class", "parser_class"}
                }
                client = redis.Redis.from_url(
                    url,
                    **{
                        **options,
                        "socket_timeout": SOCKET_TIMEOUT,
                        "socket_connect_timeout": SOCKET_TIMEOUT,
                        "retry": Retry(NoBackoff(), 0),
                    },
                )
                # Hashes the text here; the first call loads it into Redis (and again after a
                # Redis restart: EVALSHA answers NOSCRIPT, redis-py loads it and retries).
                store = _stores[location] = (client, client.register_script(WINDOW_LOG_SCRIPT))
    return store


def reset_store_state() -> None:
    """Forget the clients and any outage (tests that move the cache elsewhere)."""
    global _store_down_until
    with _stores_lock:
        for client, _script in _stores.values():
            client.close()
        _stores.clear()
    _store_down_until = 0.0


class SharedRateThrottle(throttling.SimpleRateThrottle):
    """DRF's rate throttle over the `cache_alias` cache: one Lua script when it is Redis, DRF's
    own get/set otherwise; either way a store that cannot be reached allows the request.

    Subclasses keep DRF's `scope`, `get_cache_key` and rates. The Redis log is kept under its own
    key (`<cache key>:log`), so a DRF pickled list left under the plain key by an older release
    never meets the script (which would fail with WRONGTYPE)."""

    cache_alias = DEFAULT_CACHE_ALIAS

    @property
    def cache(self):
        return caches[self.cache_alias]

    def allow_request(self, request, view):
        if self.rate is None or time.monotonic() < _store_down_until:
            return True
        backend = self.cache
        try:
            if isinstance(backend, RedisCache):
                return self._allow_request_redis(request, view, backend)
            return super().allow_request(request, view)
        except STORE_ERRORS as error:
            self._store_unreachable(error)
            return True

    def _allow_request_redis(self, request, view, backend):
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        _client, script = redis_store(self.cache_alias)
        now_ms = self.timer() * 1000
        wait_ms = script(
            keys=[backend.make_key(f"{self.key}:log")],
            args=[repr(now_ms), self.duration * 1000, self.num_requests, secrets.token_hex(8)],
        )
        if wait_ms < 0:
            return True
        self._wait = wait_ms / 1000
        return self.throttle_failure()

    def wait(self):
        if hasattr(self, "_wait"):
            return self._wait
        return super().wait()

    def _store_unreachable(self, error):
        global _store_down_until
        _store_down_until = time.monotonic() + OUTAGE_PAUSE
        logger.warning(
            "Throttle store unreachable (%s: %s); allowing requests unthrottled for %ss",
            type(error).__name__,
            error,
            OUTAGE_PAUSE,
        )


class AnonRateThrottle(SharedRateThrottle, throttling.AnonRateThrottle):
    """Anonymous requests, per client address."""


class UserRateThrottle(SharedRateThrottle, throttling.UserRateThrottle):
    """Authenticated requests, per user (anonymous ones per address)."""


class AuthRateThrottle(SharedRateThrottle):
    """Token endpoints: per client address (X-Forwarded-For trusted only as far as NUM_PROXIES),
    through the shared cache, so guessing passwords is slow on every process at once."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthUsernameRateThrottle(SharedRateThrottle):
    """The token endpoint per user name, whatever the address: credential stuffing spread over
    many addresses (which the per-address throttle and axes' username+address lockout do not
    see) is slowed down for each account. Counted in the shared cache like every throttle.

    The user name is folded to lower case and hashed, so `Victim` and `victim` share a counter
    and the cache key never carries client text. A body without a user name is not counted
    here; the serializer answers it with a 400."""

    scope = "auth_user"

    def get_cache_key(self, request, view):
        try:
            username = request.data.get("username")
        except (ParseError, AttributeError):
            return None
        if not isinstance(username, str) or not username.strip():
            return None
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
