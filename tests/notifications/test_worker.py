"""Against a real Celery worker (celery.contrib.pytest's `celery_worker`: a worker thread on the
test broker, Redis when REDIS_URL is set, else in-memory) sharing the test database: the beat
tick's dispatcher, the organization's job, the outbound dispatch and its retries all run as
real tasks, published, consumed and acknowledged."""

import datetime as dt
import threading
import time

import pytest
from celery.signals import task_postrun
from django.core import mail

from agents.models import Role
from notifications.models import Channel, Delivery, DeliveryStatus, JobRun, Notification
from notifications.tasks import scheduled_jobs_dispatch_task
from tests.agents.factories import MembershipFactory, OrganizationFactory

TICK = "2026-03-02T12:00:30+00:00"  # 20:00:30 on Monday 2 March in Shanghai


class Finished:
    """What the worker finished, as the task_postrun signal reports it (no database polling:
    reads racing the worker's writes are what a shared-cache SQLite test database dislikes)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tasks: list[tuple[str, str, object]] = []

    def __call__(self, sender=None, task_id=None, retval=None, **kwargs):
        with self.lock:
            self.tasks.append((sender.name, task_id, retval))

    def sent(self) -> int:
        with self.lock:
            return sum(
                retval.get("sent", 0)
                for name, _, retval in self.tasks
                if name == "notifications.tasks.delivery_dispatch_task" and isinstance(retval, dict)
            )

    def done(self, task_id: str) -> bool:
        with self.lock:
            return any(finished_id == task_id for _, finished_id, _ in self.tasks)

    def wait(self, condition, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the worker finished {self.tasks}")
            time.sleep(0.05)


@pytest.fixture
def finished():
    receiver = Finished()
    task_postrun.connect(receiver, weak=False)
    yield receiver
    task_postrun.disconnect(receiver)


@pytest.fixture
def shanghai(transactional_db, receiver):
    organization = OrganizationFactory(
        slug="shanghai",
        timezone="Asia/Shanghai",
        language="en",
        reminder_time=dt.time(20, 0),
        webhook_url=receiver.url,
        webhook_secret=receiver.secret,
    )
    leader = MembershipFactory(organization=organization, role=Role.LEADER)
    agent = MembershipFactory(organization=organization, upline=leader)
    MembershipFactory(organization=organization, role=Role.OWNER)  # owners do not report
    return organization, leader, agent


def test_a_reminder_reaches_the_inbox_through_a_real_worker_once(
    shanghai, receiver, fast_retries, finished, celery_worker, client_for
):
    organization, leader, agent = shanghai
    receiver.failures = 2  # the chat robot fails twice, then accepts

    first = scheduled_jobs_dispatch_task.delay("daily_report_reminder", TICK)
    # Two e-mails and one webhook message (after two retries) leave the outbox.
    finished.wait(lambda: finished.sent() == 3)
    assert finished.done(first.id)

    response = client_for(agent).get("/api/v1/orgs/shanghai/me/notifications/")
    assert response.status_code == 200
    [reminder] = response.data["results"]
    assert reminder["kind"] == "daily_report_reminder"
    assert reminder["link"] == "/api/v1/orgs/shanghai/me/daily-reports/2026-03-02/"
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [leader.user.email, agent.user.email]
    )
    assert [request["status"] for request in receiver.requests] == [503, 503, 200]
    assert receiver.signature_ok(receiver.delivered[0])
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 3
    assert Delivery.objects.get(channel=Channel.WEBHOOK).attempts == 3

    # A second beat tick (or a second beat process) sends nothing.
    second = scheduled_jobs_dispatch_task.delay("daily_report_reminder", TICK)
    finished.wait(lambda: finished.done(second.id))
    time.sleep(0.3)  # anything it had wrongly enqueued would run now
    assert [retval for _, task_id, retval in finished.tasks if task_id == second.id] == [0]
    assert JobRun.objects.count() == 1
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2
    assert len(receiver.requests) == 3
