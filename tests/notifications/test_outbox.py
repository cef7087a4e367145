"""The outbox: sending e-mail and webhooks once, retries with backoff, the broker being down, the
sweeper, and claims."""

import contextlib
import json
import time
from unittest import mock

import pytest
from celery.contrib.testing.app import TestApp, setup_default_app
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.utils import timezone

from notifications import services
from notifications.models import Channel, Delivery, DeliveryStatus, Notification
from notifications.outbound import webhook_body

pytestmark = pytest.mark.django_db


def notify(organization, members, key="event-1", content="Something happened"):
    return services.notify_many(
        organization=organization,
        recipients=members,
        kind="other",
        title="Hello",
        body="Something happened.",
        link="/api/v1/orgs/acme/",
        dedupe_key_for=lambda member: f"{key}:{member.pk}",
        webhook=lambda: content,
        webhook_key=key,
    )


@pytest.fixture
def robot_org(world, receiver):
    world.org.webhook_url = receiver.url
    world.org.webhook_secret = receiver.secret
    world.org.save()
    return world.org


def test_a_webhook_failing_twice_is_delivered_exactly_once_with_a_valid_signature(
    world, robot_org, receiver, eager, fast_retries, django_capture_on_commit_callbacks
):
    receiver.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        notify(robot_org, [world.agent], content="今天还有 3 人未交日报")

    assert [request["status"] for request in receiver.requests] == [503, 503, 200]
    assert all(receiver.signature_ok(request) for request in receiver.requests)
    assert {request["headers"]["X-Event-Id"] for request in receiver.requests} == {"event-1"}
    delivered = receiver.delivered[0]
    assert json.loads(delivered["body"]) == {
        "msgtype": "text",
        "text": {"content": "今天还有 3 人未交日报"},
    }
    assert delivered["body"] == webhook_body("今天还有 3 人未交日报")
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert (webhook.status, webhook.attempts, webhook.last_error) == (DeliveryStatus.SENT, 3, "")
    assert webhook.sent_at is not None

    # Sending, sweeping or retrying again sends nothing.
    assert services.deliveries_send(delivery_ids=[webhook.pk]).sent == []
    assert services.deliveries_sweep(now=timezone.now() + timezone.timedelta(hours=1)) == 0
    assert len(receiver.requests) == 3
    assert len(mail.outbox) == 1  # the agent's e-mail went out once too


def test_a_wrong_signature_does_not_verify(
    world, robot_org, receiver, eager, fast_retries, committed
):
    receiver.secret = "another-secret"
    with committed():
        notify(robot_org, [world.agent])
    assert len(receiver.requests) == 1
    assert not receiver.signature_ok(receiver.requests[0])


def test_a_client_error_is_not_retried(world, robot_org, receiver, eager, fast_retries, committed):
    receiver.failures, receiver.failure_status = 5, 404
    with committed():
        notify(robot_org, [world.agent])
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert len(receiver.requests) == 1
    assert (webhook.status, webhook.last_error) == (DeliveryStatus.FAILED, "HTTP 404")


def test_retries_stop_after_the_maximum_attempts(
    world, robot_org, receiver, eager, fast_retries, committed
):
    fast_retries.NOTIFICATIONS_MAX_ATTEMPTS = 3
    receiver.failures = 10
    with committed():
        notify(robot_org, [world.agent])
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert len(receiver.requests) == 3
    assert webhook.status == DeliveryStatus.FAILED


def test_retries_back_off_exponentially_with_jitter(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF = 10
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = 100
    for attempts, (low, high) in {1: (5, 10), 2: (10, 20), 3: (20, 40), 6: (50, 100)}.items():
        delays = {services.retry_delay(attempts) for _ in range(20)}
        assert all(low <= delay <= high for delay in delays)
        assert len(delays) > 1


def test_a_webhook_to_a_private_address_is_refused(
    world, robot_org, receiver, eager, settings, committed
):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    with committed():
        notify(robot_org, [world.agent])
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert receiver.requests == []
    assert webhook.status == DeliveryStatus.FAILED
    assert "non-public address" in webhook.last_error


def test_a_claimed_delivery_is_not_sent_by_anyone_else(world, robot_org, receiver, fast_retries):
    notify(robot_org, [world.agent])
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    # Another worker holds the claim (its lease runs).
    Delivery.objects.filter(pk=webhook.pk).update(
        status=DeliveryStatus.SENDING, next_attempt_at=timezone.now() + timezone.timedelta(60)
    )
    assert services.deliveries_send(delivery_ids=[webhook.pk]).sent == []
    assert receiver.requests == []


def test_the_sweeper_releases_the_claim_of_a_worker_that_died(
    world, robot_org, receiver, eager, fast_retries
):
    notify(robot_org, [world.agent])
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    Delivery.objects.filter(pk=webhook.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() - timezone.timedelta(seconds=1),  # the lease ended
    )
    assert services.deliveries_sweep() >= 1
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENT, 2)
    assert len(receiver.delivered) == 1


def test_on_the_soft_time_limit_the_untried_deliveries_are_released(world, settings):
    members = [world.agent, world.leader, world.sub_agent]
    notify(world.org, members)
    ids = list(Delivery.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True))
    real_send = services._send_email
    calls = []

    def send_then_time_out(delivery, connection):
        calls.append(delivery.pk)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()
        real_send(delivery, connection)

    with mock.patch.object(services, "_send_email", side_effect=send_then_time_out):
        result = services.deliveries_send(delivery_ids=ids)

    rows = {row.pk: row for row in Delivery.objects.filter(pk__in=ids)}
    assert rows[calls[0]].status == DeliveryStatus.SENT
    interrupted = rows[calls[1]]  # tried: retried later with backoff, its attempt counted
    assert (interrupted.status, interrupted.attempts) == (DeliveryStatus.PENDING, 1)
    assert list(result.retry) == [calls[1]]
    [untried] = [row for pk, row in rows.items() if pk not in calls]
    assert (untried.status, untried.attempts) == (DeliveryStatus.PENDING, 0)
    assert result.released == [untried.pk]  # the task re-enqueues it at once
    assert result.sent == [calls[0]]
    assert len(mail.outbox) == 1


@contextlib.contextmanager
def unreachable_broker():
    """The current Celery app publishes to a Redis port where nothing listens."""
    app = TestApp(config={"broker_url": "redis://127.0.0.1:1/0", "broker_connection_timeout": 1})
    with setup_default_app(app):
        app.set_current()
        app.set_default()
        yield app


@pytest.fixture
def broker_down():
    with unreachable_broker() as app:
        yield app


def test_with_the_broker_down_a_request_succeeds_and_the_sweeper_sends_later(
    world, client_for, broker_down, django_capture_on_commit_callbacks, settings
):
    """An agent files critical feedback through the API while the broker is unreachable: the
    request succeeds, and the alerts wait in the outbox, committed with the feedback."""
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = True
    client = client_for(world.agent)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/api/v1/orgs/acme/feedback/",
            {"category": "competitor", "title": "竞品降价", "body": "浦东", "urgency": "critical"},
        )
    elapsed = time.monotonic() - started

    assert response.status_code == 201, response.data
    assert len(callbacks) == 1  # enqueueing was tried, failed, and was only logged
    assert elapsed < 10
    notification = Notification.objects.get(recipient=world.leader)
    email = Delivery.objects.get(notification=notification)
    assert email.status == DeliveryStatus.PENDING and email.attempts == 0


def test_when_the_broker_is_back_the_sweeper_sends_what_was_left_once(
    world, eager, settings, clock, broker_down_then_back
):
    settings.NOTIFICATIONS_SWEEP_GRACE = 60
    email = Delivery.objects.get(channel=Channel.EMAIL)
    # Within the grace period its own task may still come: the sweeper leaves it alone.
    assert services.deliveries_sweep() == 0
    clock.advance(minutes=2)
    assert services.deliveries_sweep() == 1
    email.refresh_from_db()
    assert email.status == DeliveryStatus.SENT
    clock.advance(minutes=5)
    assert services.deliveries_sweep() == 0
    assert len(mail.outbox) == 1


@pytest.fixture
def broker_down_then_back(world, django_capture_on_commit_callbacks):
    """An agent's notification committed while the broker was down."""
    with unreachable_broker(), django_capture_on_commit_callbacks(execute=True):
        notify(world.org, [world.agent])
    assert Delivery.objects.get(channel=Channel.EMAIL).status == DeliveryStatus.PENDING
    assert mail.outbox == []


def test_publishing_to_an_unreachable_broker_returns_false_quickly(broker_down):
    from notifications.tasks import delivery_dispatch_task

    started = time.monotonic()
    assert services.task_send(delivery_dispatch_task, ([1],)) is False
    assert time.monotonic() - started < 10
