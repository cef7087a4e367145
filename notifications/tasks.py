"""Celery tasks of the notifications app: the per-job dispatcher that beat runs, the outbound
dispatch of deliveries, and the outbox sweeper. Tasks take ids, re-read the rows and call a
service; a row that is gone or already handled is skipped quietly.

Queues: `outbound` for everything that talks to the outside (so a slow SMTP server or webhook
never delays reminders), `default` for the dispatcher and the sweeper, `rollups` for the nightly
retention purge (long set-based SQL, like the appraisal roll-ups); the jobs' own tasks run on
`reminders` and `rollups` (see reports/, plans/, appraisals/ tasks.py).
"""

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils.dateparse import parse_datetime

from . import retention, scheduling, services

logger = logging.getLogger(__name__)

# The dispatch task's hard limit must stay below NOTIFICATIONS_CLAIM_LEASE (600 s).
DISPATCH_SOFT_LIMIT = 240
DISPATCH_HARD_LIMIT = 300


@shared_task(
    name="notifications.tasks.scheduled_jobs_dispatch_task",
    soft_time_limit=60,
    time_limit=120,
)
def scheduled_jobs_dispatch_task(job_name: str, now: str | None = None) -> int:
    """One beat entry per job runs this every minute; it starts the job's run in every
    organization where the job's local time has just passed. `now` (ISO 8601) is for tests and
    manual catch-up runs."""
    when = parse_datetime(now) if now else None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return len(scheduling.scheduled_jobs_dispatch(job_name=job_name, now=when))


@shared_task(
    name="notifications.tasks.delivery_dispatch_task",
    soft_time_limit=DISPATCH_SOFT_LIMIT,
    time_limit=DISPATCH_HARD_LIMIT,
)
def delivery_dispatch_task(delivery_ids: list[int]) -> dict:
    """Send a batch of deliveries (a no-op for those sent, failed or not yet due). Failures are
    re-enqueued with their backoff delay; if even that cannot be enqueued, the sweeper finds
    them pending."""
    result = services.deliveries_send(delivery_ids=delivery_ids)
    for delivery_id, delay in result.retry.items():
        # A little slack so that the claim's "due" check holds when the task arrives.
        services.task_send(delivery_dispatch_task, ([delivery_id],), countdown=delay + 0.2)
    if result.released:
        services.task_send(delivery_dispatch_task, (result.released,))
    return {"sent": len(result.sent), "failed": len(result.failed), "retry": len(result.retry)}


@shared_task(name="notifications.tasks.outbox_sweep_task", soft_time_limit=120, time_limit=180)
def outbox_sweep_task() -> dict:
    """Every minute: re-dispatch deliveries and job runs whose task was lost."""
    return {
        "deliveries": services.deliveries_sweep(),
        "job_runs": scheduling.job_runs_sweep(),
    }


@shared_task(
    name="notifications.tasks.notifications_purge_task",
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
)
def notifications_purge_task() -> dict:
    """Nightly: delete sent/failed deliveries, read (and long-unread) notifications and finished
    job runs past their retention (notifications/retention.py). Every batch commits on its own,
    so a run stopped by the time limit keeps its progress and the next night goes on."""
    try:
        return retention.retention_purge().as_dict()
    except SoftTimeLimitExceeded:
        logger.warning("retention purge stopped by its time limit; the next run goes on")
        return {"stopped": True}
