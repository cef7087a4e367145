"""Fixtures of the notification tests: an eager Celery for in-process tests, a real Celery worker
(celery.contrib.pytest's `celery_worker`), a local webhook receiver, and a tick clock.

The celery.contrib.pytest fixtures are imported rather than enabled with
`pytest_plugins = ("celery.contrib.pytest",)`: pytest refuses `pytest_plugins` outside the root
conftest, and the plugin's entry point now ships with the separate pytest-celery package.
"""

import datetime as dt
import http.server
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
from celery import current_app
from celery.contrib.pytest import (  # noqa: F401 - fixtures used by the worker tests
    celery_app,
    celery_enable_logging,
    celery_parameters,
    celery_worker,
    celery_worker_pool,
    use_celery_app_trap,
)
from django.conf import settings as django_settings
from django.db import OperationalError
from django.utils import timezone

import appraisals.tasks  # noqa: F401
import notifications.tasks  # noqa: F401
import plans.tasks  # noqa: F401
import reports.tasks  # noqa: F401
from notifications.outbound import webhook_signature

# The task modules are imported up front: a shared task first defined while a test Celery app is
# the current one would never reach the project's app (the test app's context drops the hook).

WORKER_QUEUES = ("default", "reminders", "rollups", "outbound")
TASK_MODULES = ("notifications.tasks", "reports.tasks", "plans.tasks", "appraisals.tasks")


# --- A real worker ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_config():
    """The project's Celery settings (acks_late, prefetch 1, time limits, queues...) on the test
    broker: Redis when REDIS_URL is set (CI), else in-memory. On Redis each test session and
    xdist worker has its own key prefix, so parallel test processes and earlier runs never take
    each other's tasks."""
    config = {
        name[len("CELERY_") :].lower(): getattr(django_settings, name)
        for name in dir(django_settings)
        if name.startswith("CELERY_")
    }
    broker = os.environ.get("REDIS_URL") or "memory://"
    config.update(
        broker_url=broker,
        # The in-memory transport polls; a short interval keeps the test quick.
        broker_transport_options={"polling_interval": 0.05},
        result_backend=None,
        beat_schedule={},
        task_always_eager=False,
        worker_hijack_root_logger=False,
    )
    if broker.startswith("redis"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        config["broker_transport_options"] = {
            "global_keyprefix": f"agentteams-test-{worker}-{uuid.uuid4().hex[:8]}:",
            "visibility_timeout": 3600,
        }
    return config


@pytest.fixture(scope="session")
def celery_includes():
    return TASK_MODULES


@pytest.fixture(scope="session")
def celery_worker_parameters():
    # No ping check: it needs a result backend, and the project keeps none.
    return {"perform_ping_check": False, "queues": WORKER_QUEUES, "shutdown_timeout": 30}


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.05):
    """Poll until predicate() is truthy. A read may collide with the worker's write on
    SQLite's shared-cache test database ("table is locked"): that is retried too."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OperationalError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)


# --- Eager Celery for in-process tests ----------------------------------------------------------


@pytest.fixture
def eager():
    """Tasks run inline where they are enqueued (retries included)."""
    conf = current_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs the on-commit callbacks (the enqueueing) at the end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def fast_retries(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF = 0
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = True
    return settings


# --- A webhook receiver -------------------------------------------------------------------------


@dataclass
class Receiver:
    """A chat-robot stand-in on 127.0.0.1: answers the first `failures` requests with
    `failure_status`, then 200."""

    failures: int = 0
    failure_status: int = 503
    secret: str = ""
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def signature_ok(self, request: dict) -> bool:
        expected = webhook_signature(
            secret=self.secret, timestamp=request["headers"]["X-Timestamp"], body=request["body"]
        )
        return request["headers"].get("X-Signature") == expected

    @property
    def delivered(self) -> list[dict]:
        return [request for request in self.requests if request["status"] == 200]


@pytest.fixture
def receiver():
    state = Receiver(secret="robot-secret")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                status = state.failure_status if len(state.requests) < state.failures else 200
                state.requests.append(
                    {"headers": dict(self.headers), "body": body, "status": status}
                )
            answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/robot/send"
    yield state
    server.shutdown()
    server.server_close()


# --- Time ---------------------------------------------------------------------------------------


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Clock:
    """django.utils.timezone.now, stopped and moved by hand."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)
