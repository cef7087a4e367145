"""The nightly retention purge (notifications/retention.py, `purge_old`): what goes, what is
kept (pending work, unread-and-recent notifications, the dedupe window), batches, idempotence,
the dry run, the task and its schedule."""

import datetime as dt
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import retention
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    JobRun,
    JobRunStatus,
    Notification,
    NotificationKind,
)
from notifications.services import notify_many
from notifications.tasks import notifications_purge_task
from tests.notifications.factories import DeliveryFactory, JobRunFactory, NotificationFactory

pytestmark = pytest.mark.django_db


def aged(obj, days: float):
    """Backdate a row's creation (created_at is auto_now_add)."""
    when = timezone.now() - dt.timedelta(days=days)
    type(obj).objects.filter(pk=obj.pk).update(created_at=when)
    return obj


def exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


@pytest.fixture
def retention_days(settings):
    settings.RETENTION_DELIVERIES_DAYS = 30
    settings.RETENTION_NOTIFICATIONS_DAYS = 90
    settings.RETENTION_UNREAD_NOTIFICATIONS_DAYS = 365
    settings.RETENTION_JOBRUNS_DAYS = 90
    return settings


def read_notification(member, days, **kwargs):
    notification = NotificationFactory(
        recipient=member, read_at=timezone.now() - dt.timedelta(days=days), **kwargs
    )
    return aged(notification, days)


def email_for(notification, status, days):
    delivery = DeliveryFactory(
        organization=notification.organization,
        notification=notification,
        channel=Channel.EMAIL,
        dedupe_key=notification.dedupe_key,
        status=status,
    )
    return aged(delivery, days)


def test_old_finished_rows_go_and_everything_pending_or_recent_stays(world, retention_days):
    org, rival = world.org, world.rival
    gone = [
        aged(DeliveryFactory(organization=org, status=DeliveryStatus.SENT), 31),
        aged(DeliveryFactory(organization=rival, status=DeliveryStatus.FAILED), 40),
        read_notification(world.agent, 91),
        read_notification(world.outsider, 120),
        aged(NotificationFactory(recipient=world.agent), 366),  # unread for over a year
        aged(JobRunFactory(organization=org, status=JobRunStatus.DONE), 91),
        aged(JobRunFactory(organization=rival, status=JobRunStatus.FAILED), 200),
    ]
    # An old read notification whose e-mail was sent long ago: both go, in one run.
    mailed = read_notification(world.leader, 100)
    gone += [mailed, email_for(mailed, DeliveryStatus.SENT, 100)]

    kept = [
        aged(DeliveryFactory(organization=org, status=DeliveryStatus.PENDING), 300),
        aged(DeliveryFactory(organization=org, status=DeliveryStatus.SENDING), 300),
        aged(DeliveryFactory(organization=org, status=DeliveryStatus.SENT), 29),
        read_notification(world.agent, 89),
        aged(NotificationFactory(recipient=world.agent), 200),  # unread and not that old
        aged(JobRunFactory(organization=org, status=JobRunStatus.DONE), 89),
    ]
    # An old read notification whose e-mail is still waiting to go out: neither is touched.
    waiting = read_notification(world.admin, 200)
    kept += [waiting, email_for(waiting, DeliveryStatus.PENDING, 200)]
    # ... nor one whose e-mail is still inside the deliveries' retention.
    recent_mail = read_notification(world.owner, 100)
    kept += [recent_mail, email_for(recent_mail, DeliveryStatus.SENT, 10)]

    result = retention.retention_purge()

    assert [obj for obj in gone if exists(obj)] == []
    assert [obj for obj in kept if not exists(obj)] == []
    assert (result.deliveries, result.notifications, result.job_runs) == (3, 4, 2)


def test_a_pending_job_run_is_never_deleted_and_protects_what_its_rerun_would_recreate(
    world, retention_days
):
    pending_run = aged(JobRunFactory(organization=world.org, status=JobRunStatus.PENDING), 120)
    # Created after the pending run: its handler could run again and re-create these keys.
    younger = [
        aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT), 100),
        read_notification(world.agent, 100),
        aged(JobRunFactory(organization=world.org, status=JobRunStatus.DONE), 100),
    ]
    older = aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT), 130)

    retention.retention_purge()

    assert exists(pending_run)
    assert all(exists(obj) for obj in younger)
    assert not exists(older)


def test_retention_is_never_shorter_than_the_dedupe_window(world, settings):
    settings.RETENTION_DELIVERIES_DAYS = 0
    settings.RETENTION_NOTIFICATIONS_DAYS = 0
    settings.RETENTION_UNREAD_NOTIFICATIONS_DAYS = 0
    settings.RETENTION_JOBRUNS_DAYS = 0
    inside = [
        aged(DeliveryFactory(organization=world.org), 6),
        read_notification(world.agent, 6),
        aged(JobRunFactory(organization=world.org), 6),
    ]
    outside = [
        aged(DeliveryFactory(organization=world.org), 8),
        read_notification(world.agent, 8),
        aged(JobRunFactory(organization=world.org), 8),
    ]

    retention.retention_purge()

    assert all(exists(obj) for obj in inside)
    assert not any(exists(obj) for obj in outside)


def test_the_window_covers_the_longest_re_send_of_the_producers():
    """Plan task reminders re-create a key while a task is due within DUE_SOON or overdue for
    up to OVERDUE_LOOKBACK; daily jobs for a day (the JobRun gives up after one)."""
    from notifications import conf
    from notifications.scheduling import RUNNING_AT_MOST
    from plans.tasks import DUE_SOON, OVERDUE_LOOKBACK

    catch_up = dt.timedelta(seconds=conf.get("NOTIFICATIONS_JOB_CATCH_UP"))
    job_run_window = dt.timedelta(days=1) + RUNNING_AT_MOST + catch_up
    assert DUE_SOON + OVERDUE_LOOKBACK < retention.DEDUPE_WINDOW
    assert job_run_window < retention.DEDUPE_WINDOW


def test_a_purge_inside_the_window_cannot_let_a_notification_be_sent_again(world, settings):
    settings.RETENTION_NOTIFICATIONS_DAYS = 0
    settings.RETENTION_DELIVERIES_DAYS = 0

    def send():
        return notify_many(
            organization=world.org,
            recipients=[world.agent],
            kind=NotificationKind.OTHER,
            title="Reminder",
            body="File your report.",
            dedupe_key_for=lambda member: f"test-reminder:{member.pk}",
        )

    assert send() == 1
    notification = Notification.objects.get(recipient=world.agent)
    Notification.objects.filter(pk=notification.pk).update(
        read_at=timezone.now(), created_at=timezone.now() - dt.timedelta(days=3)
    )
    Delivery.objects.update(status=DeliveryStatus.SENT)

    retention.retention_purge()

    assert send() == 0
    assert Notification.objects.filter(recipient=world.agent).count() == 1


def test_deletes_in_bounded_set_based_batches(world, retention_days):
    for _ in range(5):
        aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT), 60)
    keep = aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.PENDING), 60)

    with CaptureQueriesContext(connection) as queries:
        result = retention.retention_purge(batch_size=2)

    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    delivery_table = Delivery._meta.db_table
    delivery_deletes = [sql for sql in deletes if f'DELETE FROM "{delivery_table}"' in sql]
    assert len(delivery_deletes) == 3  # 2 + 2 + 1
    assert all(" IN (SELECT " in sql and "LIMIT 2" in sql for sql in deletes)
    # Nothing but the DELETEs, the cut-off aggregate and transaction bookkeeping: no row is
    # read into Python.
    others = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("DELETE", "SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]
    assert len(others) == 1 and "MIN(" in others[0]
    assert result.deliveries == 5
    assert result.batches == 3 + 1 + 1
    assert list(Delivery.objects.all()) == [keep]


def test_a_second_run_deletes_nothing(world, retention_days):
    aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT), 60)
    read_notification(world.agent, 100)
    aged(JobRunFactory(organization=world.org), 100)
    kept = read_notification(world.agent, 10)

    first = retention.retention_purge()
    second = retention.retention_purge()

    assert (first.deliveries, first.notifications, first.job_runs) == (1, 1, 1)
    assert (second.deliveries, second.notifications, second.job_runs) == (0, 0, 0)
    assert list(Notification.objects.all()) == [kept]


def test_dry_run_prints_the_counts_and_deletes_nothing(world, retention_days):
    mailed = read_notification(world.agent, 100)
    email_for(mailed, DeliveryStatus.SENT, 100)
    aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.FAILED), 60)
    aged(JobRunFactory(organization=world.org), 100)
    before = (Delivery.objects.count(), Notification.objects.count(), JobRun.objects.count())

    out = StringIO()
    call_command("purge_old", "--dry-run", stdout=out)

    assert (Delivery.objects.count(), Notification.objects.count(), JobRun.objects.count()) == (
        before
    )
    text = out.getvalue()
    assert "would delete 2 deliveries" in text
    # The notification goes once its sent e-mail has gone: the dry run counts it too.
    assert "would delete 1 notifications" in text
    assert "would delete 1 job runs" in text

    out = StringIO()
    call_command("purge_old", stdout=out)
    assert "deleted 2 deliveries" in out.getvalue()
    assert (Delivery.objects.count(), Notification.objects.count(), JobRun.objects.count()) == (
        0,
        0,
        0,
    )


def test_purge_old_refuses_a_nonsense_batch_size(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="batch-size"):
        call_command("purge_old", "--batch-size", "0")


def test_the_nightly_task_is_scheduled_routed_and_purges(world, retention_days):
    entry = django_settings.CELERY_BEAT_SCHEDULE["notifications-purge"]
    assert entry["task"] == notifications_purge_task.name
    routes = django_settings.CELERY_TASK_ROUTES
    assert routes[notifications_purge_task.name] == {"queue": "rollups"}
    aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT), 60)

    assert notifications_purge_task.apply().get()["deliveries"] == 1
    assert not Delivery.objects.exists()


def test_a_purge_stopped_by_the_time_limit_keeps_what_it_deleted(
    world, retention_days, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    for _ in range(3):
        aged(DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT), 60)
    read_notification(world.agent, 100)
    real = retention._delete_in_batches

    def stop_at_notifications(queryset, **kwargs):
        if queryset.model is Notification:
            raise SoftTimeLimitExceeded()
        return real(queryset, **kwargs)

    monkeypatch.setattr(retention, "_delete_in_batches", stop_at_notifications)
    assert notifications_purge_task.apply().get() == {"stopped": True}
    assert not Delivery.objects.exists()  # the batches done before the limit stay done
    monkeypatch.setattr(retention, "_delete_in_batches", real)
    assert notifications_purge_task.apply().get()["notifications"] == 1
