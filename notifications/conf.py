"""The notification settings, with their defaults (config/settings/base.py reads them from the
environment). Read at call time, so tests can override them with the `settings` fixture."""

from django.conf import settings

DEFAULTS = {
    # Rows per bulk insert and per dispatch task.
    "NOTIFICATIONS_BATCH_SIZE": 1000,
    "NOTIFICATIONS_DISPATCH_BATCH_SIZE": 500,
    # Outbound: attempts, backoff (base doubling per attempt, capped, with jitter), timeout.
    "NOTIFICATIONS_MAX_ATTEMPTS": 8,
    "NOTIFICATIONS_RETRY_BACKOFF": 30.0,
    "NOTIFICATIONS_RETRY_BACKOFF_MAX": 3600.0,
    "NOTIFICATIONS_WEBHOOK_TIMEOUT": 5.0,
    # Webhooks to loopback/private addresses are refused unless allowed (SSRF).
    "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": False,
    "NOTIFICATIONS_EMAIL_ENABLED": True,
    # Prefix for links in e-mails, e.g. https://app.example.com; empty: relative paths.
    "NOTIFICATIONS_SITE_URL": "",
    # The sweeper re-dispatches deliveries still pending this long after they were due, and
    # job runs not started this long after they were enqueued.
    "NOTIFICATIONS_SWEEP_GRACE": 120.0,
    "NOTIFICATIONS_JOB_GRACE": 900.0,
    "NOTIFICATIONS_JOB_MAX_ATTEMPTS": 5,
    # A claimed delivery comes back to pending after this long (longer than the dispatch
    # task's hard time limit, so only a worker that died releases it).
    "NOTIFICATIONS_CLAIM_LEASE": 600.0,
    # A daily job is still run this long after its local time (beat was down, a deploy...).
    "NOTIFICATIONS_JOB_CATCH_UP": 3 * 3600.0,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
