"""Tests: SQLite and an in-memory broker unless DATABASE_URL / REDIS_URL point at real servers
(CI sets both, and then the suite must reach them)."""

import os

from .base import *  # noqa: F403
from .base import REDIS_URL, REST_FRAMEWORK, env

SECRET_KEY = "test-only-not-a-secret-but-long-enough-for-hmac-sha256"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}

# A per-process cache without Redis (each test process has its own throttle counters); with
# Redis, each xdist worker gets its own cache namespace so that throttle counters never collide.
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES["default"]["KEY_PREFIX"] = "test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        "anon": "10000/min",
        "user": "100000/min",
        "auth": "10000/min",
        "auth_user": "10000/min",
    },
}

# The suite logs in many times; tests/agents/test_lockout.py turns the lockout back on.
AXES_ENABLED = False
