"""Retention: the nightly purge of what the outbox and the scheduler no longer need.

Sent and failed deliveries, read notifications (and, after a much longer time, unread ones) and
finished JobRuns would otherwise pile up forever. `retention_purge()` deletes them in bounded
batches: each batch is one set-based statement

    DELETE FROM <table> WHERE id IN (SELECT id FROM <table> WHERE <old enough> ORDER BY id LIMIT n)

committed on its own (short locks, no long transaction, an interrupted purge keeps what it did),
repeated until a batch deletes fewer than n rows. No row is loaded into Python.

What is never deleted:

- a delivery still pending or being sent (only sent and failed ones go);
- a notification that a delivery still points to (its e-mail is pending, or the delivery is
  younger than the deliveries' retention), and an unread notification younger than
  RETENTION_UNREAD_NOTIFICATIONS_DAYS;
- a JobRun still pending;
- anything younger than DEDUPE_WINDOW, whatever the settings say, and anything created after the
  oldest JobRun still pending was created (see below).

Why: the dedupe keys live in these rows. A notification's key (unique per organization) and a
delivery's key (unique per organization and channel) are what stop a re-run from sending twice,
and a webhook message is deduplicated by its delivery row alone. The producers re-run with the
same keys only for a bounded time: a daily job for its local date until its JobRun is done or
given up (a day, notifications.scheduling), plan task reminders while a task is due within a day
or overdue for up to three days (plans.tasks: DUE_SOON + OVERDUE_LOOKBACK); feedback escalation
is guarded by the escalation level and critical feedback notifies only when filed. A purge
younger than that window could let a retried run send again, so the window is a floor; and while
a JobRun is pending (the sweeper may still re-run it), nothing created since it was created goes.
"""

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import Delivery, DeliveryStatus, JobRun, JobRunStatus, Notification

logger = logging.getLogger(__name__)

# The longest time a producer may re-create a row with the same dedupe key (plan task reminders:
# due within 1 day + overdue for up to 3 days), with a margin. Retention is never shorter.
DEDUPE_WINDOW = dt.timedelta(days=7)

DEFAULTS = {
    "RETENTION_DELIVERIES_DAYS": 30,
    "RETENTION_NOTIFICATIONS_DAYS": 90,
    "RETENTION_UNREAD_NOTIFICATIONS_DAYS": 365,
    "RETENTION_JOBRUNS_DAYS": 90,
    "RETENTION_BATCH_SIZE": 5000,
}

FINISHED_DELIVERY = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
FINISHED_JOB_RUN = (JobRunStatus.DONE, JobRunStatus.FAILED)


def _setting(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


@dataclass(frozen=True)
class Cutoffs:
    """Rows created before these times may go (each already clamped by the floor)."""

    deliveries: dt.datetime
    read_notifications: dt.datetime
    unread_notifications: dt.datetime
    job_runs: dt.datetime


@dataclass
class PurgeResult:
    deliveries: int = 0
    notifications: int = 0
    job_runs: int = 0
    batches: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def retention_cutoffs(*, now: dt.datetime | None = None) -> Cutoffs:
    now = now or timezone.now()
    # While a JobRun is pending, its handler may run again and re-create what it created: keep
    # everything created since it was created.
    oldest_pending_run = JobRun.objects.filter(status=JobRunStatus.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    latest = now - DEDUPE_WINDOW
    if oldest_pending_run is not None:
        latest = min(latest, oldest_pending_run)

    def before(name: str) -> dt.datetime:
        return min(now - dt.timedelta(days=max(_setting(name), 0)), latest)

    read = before("RETENTION_NOTIFICATIONS_DAYS")
    return Cutoffs(
        deliveries=before("RETENTION_DELIVERIES_DAYS"),
        read_notifications=read,
        # Unread ones are kept at least as long as read ones.
        unread_notifications=min(read, before("RETENTION_UNREAD_NOTIFICATIONS_DAYS")),
        job_runs=before("RETENTION_JOBRUNS_DAYS"),
    )


def _purgeable_delivery_q(cutoffs: Cutoffs) -> Q:
    return Q(status__in=FINISHED_DELIVERY, created_at__lt=cutoffs.deliveries)


def deliveries_to_purge(cutoffs: Cutoffs) -> QuerySet[Delivery]:
    return Delivery.objects.filter(_purgeable_delivery_q(cutoffs))


def notifications_to_purge(cutoffs: Cutoffs, *, after_deliveries: bool = True) -> QuerySet:
    """Old enough notifications that no delivery points to. `after_deliveries=False` (the dry
    run) counts those whose deliveries would all be purged first."""
    deliveries = Delivery.objects.filter(notification_id=OuterRef("pk"))
    if not after_deliveries:
        deliveries = deliveries.exclude(_purgeable_delivery_q(cutoffs))
    return Notification.objects.filter(
        Q(read_at__isnull=False, created_at__lt=cutoffs.read_notifications)
        | Q(read_at__isnull=True, created_at__lt=cutoffs.unread_notifications)
    ).filter(~Exists(deliveries))


def job_runs_to_purge(cutoffs: Cutoffs) -> QuerySet[JobRun]:
    return JobRun.objects.filter(status__in=FINISHED_JOB_RUN, created_at__lt=cutoffs.job_runs)


def _delete_in_batches(queryset: QuerySet, *, batch_size: int, result: PurgeResult) -> int:
    """DELETE ... WHERE id IN (SELECT id ... LIMIT n) until a batch deletes fewer than n rows.
    The inner SELECT is the queryset's own SQL; every batch commits on its own."""
    model = queryset.model
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    inner, params = queryset.order_by("pk").values("pk")[:batch_size].query.sql_with_params()
    sql = f"DELETE FROM {table} WHERE {pk} IN ({inner})"  # noqa: S608 - our own compiled SQL
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = cursor.rowcount
        result.batches += 1
        deleted += count
        if count < batch_size:
            return deleted


def retention_purge(
    *, now: dt.datetime | None = None, dry_run: bool = False, batch_size: int | None = None
) -> PurgeResult:
    """Delete what retention allows (see the module docstring); with `dry_run`, only count it.
    Idempotent: a second run finds nothing more to delete. Deliveries go first, so that the
    notifications they held can go in the same run."""
    cutoffs = retention_cutoffs(now=now)
    batch_size = batch_size or _setting("RETENTION_BATCH_SIZE")
    result = PurgeResult()
    if dry_run:
        result.deliveries = deliveries_to_purge(cutoffs).count()
        result.notifications = notifications_to_purge(cutoffs, after_deliveries=False).count()
        result.job_runs = job_runs_to_purge(cutoffs).count()
        return result
    result.deliveries = _delete_in_batches(
        deliveries_to_purge(cutoffs), batch_size=batch_size, result=result
    )
    result.notifications = _delete_in_batches(
        notifications_to_purge(cutoffs), batch_size=batch_size, result=result
    )
    result.job_runs = _delete_in_batches(
        job_runs_to_purge(cutoffs), batch_size=batch_size, result=result
    )
    logger.info(
        "retention purge: %s deliveries, %s notifications, %s job runs deleted in %s batches",
        result.deliveries,
        result.notifications,
        result.job_runs,
        result.batches,
        extra={"purge": result.as_dict()},
    )
    return result
