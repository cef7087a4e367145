"""Daily jobs in each organization's own timezone, on one beat entry per job.

An app declares a job next to its task (reports/tasks.py, appraisals/tasks.py):

    @scheduled_job("daily_report_reminder", at=lambda organization: organization.reminder_time)
    @shared_task(name=..., queue="reminders")
    def daily_report_reminders_task(job_run_id: int) -> None:
        job_run_execute(job_run_id=job_run_id, handler=...)

Beat runs `scheduled_jobs_dispatch_task(<job name>)` every few minutes (CELERY_BEAT_SCHEDULE).
Each tick looks at every active organization's local time: where the job's local time of day
has passed (today, or yesterday within the catch-up window) and no JobRun exists for that local
date, it inserts the JobRun and enqueues the job's task on commit. The times are read from the
organization at every tick, so a settings change takes effect without a restart; the JobRun's
unique (organization, job, local_date) makes two beat processes, a retried tick or a re-enqueued
run harmless, and the sweeper re-enqueues runs whose task was lost.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from agents.models import Organization

from . import conf
from .models import JobRun, JobRunStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    task: Any  # a Celery task that takes the JobRun id
    at: Callable[[Organization], dt.time]  # the local time of day the job runs at


_JOBS: dict[str, ScheduledJob] = {}

# Longer than any job task's hard time limit: a run started longer ago is not running any more.
RUNNING_AT_MOST = dt.timedelta(hours=1)


def scheduled_job(name: str, *, at: Callable[[Organization], dt.time]):
    """Register a Celery task as the per-organization run of a daily job."""

    def register(task):
        _JOBS[name] = ScheduledJob(name=name, task=task, at=at)
        return task

    return register


def job_get(name: str) -> ScheduledJob | None:
    if name not in _JOBS:
        autodiscover_modules("tasks")  # the worker imports them anyway; a shell may not have
    return _JOBS.get(name)


def jobs_registered() -> dict[str, ScheduledJob]:
    autodiscover_modules("tasks")
    return dict(_JOBS)


def due_local_date(
    *, organization: Organization, at: dt.time, now: dt.datetime, window: dt.timedelta
) -> dt.date | None:
    """The local date whose run is due at `now`: the job's local time on that date has passed,
    less than `window` ago. Today is tried first, then yesterday (a 23:30 job is still run at
    00:10 if beat was down). Wall-clock times in a DST gap or fold resolve as zoneinfo does."""
    tz = organization.tzinfo
    today = now.astimezone(tz).date()
    for day in (today, today - dt.timedelta(days=1)):
        occurrence = dt.datetime.combine(day, at, tzinfo=tz)
        if occurrence <= now < occurrence + window:
            return day
    return None


def scheduled_jobs_dispatch(*, job_name: str, now: dt.datetime | None = None) -> list[int]:
    """Start today's runs of a job for the organizations where it is due. Returns the ids of
    the JobRuns started by this call (not those another tick started)."""
    job = job_get(job_name)
    if job is None:
        logger.error("unknown scheduled job %r", job_name)
        return []
    now = now or timezone.now()
    window = dt.timedelta(seconds=conf.get("NOTIFICATIONS_JOB_CATCH_UP"))
    due: dict[int, dt.date] = {}
    for organization in Organization.objects.filter(is_active=True).iterator(chunk_size=2000):
        try:
            at = job.at(organization)
        except Exception:  # noqa: BLE001 - one organization's odd policy must not stop the rest
            logger.exception("job %s: no time for organization %s", job_name, organization.pk)
            continue
        if at is None:
            continue
        day = due_local_date(organization=organization, at=at, now=now, window=window)
        if day is not None:
            due[organization.pk] = day
    if not due:
        return []
    existing = job_runs_existing(job_name=job_name, due=due)
    claim = uuid.uuid4()
    rows = [
        JobRun(organization_id=pk, job=job_name, local_date=day, enqueued_at=now, claim=claim)
        for pk, day in due.items()
        if (pk, day) not in existing
    ]
    if not rows:
        return []
    with transaction.atomic():
        JobRun.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        started = list(JobRun.objects.filter(claim=claim).values_list("pk", flat=True))
        transaction.on_commit(lambda: job_runs_enqueue(job=job, ids=started), robust=True)
    return started


def job_runs_existing(*, job_name: str, due: dict[int, dt.date]) -> set[tuple[int, dt.date]]:
    """(organization id, local date) of the due runs that exist already. Only an optimization:
    a run another beat process inserts meanwhile conflicts on the unique constraint instead."""
    return set(
        JobRun.objects.filter(
            job=job_name, organization_id__in=list(due), local_date__in=set(due.values())
        ).values_list("organization_id", "local_date")
    )


def job_runs_enqueue(*, job: ScheduledJob, ids: list[int]) -> int:
    from .services import task_send

    sent = 0
    for pk in ids:
        if not task_send(job.task, (pk,)):
            logger.warning(
                "broker unavailable: %s runs of %s left for the sweeper", len(ids) - sent, job.name
            )
            break
        sent += 1
    return sent


def job_run_execute(*, job_run_id: int, handler: Callable[..., Any]) -> bool:
    """Run one JobRun: `handler(organization=..., local_date=...)` and the run's "done" commit
    together (unless the handler `manages_transactions`: then "done" follows its commits).
    Exits quietly when the run is gone, done, or its organization inactive. A handler
    that raises leaves the run pending for the sweeper (after NOTIFICATIONS_JOB_GRACE, up to
    NOTIFICATIONS_JOB_MAX_ATTEMPTS); handlers are idempotent (dedupe keys), so running one
    twice sends nothing twice."""
    run = JobRun.objects.select_related("organization").filter(pk=job_run_id).first()
    if run is None or run.status != JobRunStatus.PENDING:
        return False
    if not run.organization.is_active:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRunStatus.DONE, finished_at=timezone.now()
        )
        return False
    JobRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1, started_at=timezone.now())
    # A handler marked `manages_transactions` runs its own transactions (one per piece of work,
    # each idempotent): wrapping them in one would only hold locks longer, and would keep the
    # appraisal roll-up from reading facts on a second connection (appraisals/tasks.py).
    own_transactions = getattr(handler, "manages_transactions", False) is True
    outer = nullcontext() if own_transactions else transaction.atomic()
    try:
        with outer:
            handler(organization=run.organization, local_date=run.local_date)
            JobRun.objects.filter(pk=run.pk).update(
                status=JobRunStatus.DONE, finished_at=timezone.now(), last_error=""
            )
    except Exception as exc:
        JobRun.objects.filter(pk=run.pk).update(last_error=repr(exc)[:2000])
        raise
    return True


def job_runs_sweep(*, now: dt.datetime | None = None) -> int:
    """Re-enqueue runs still pending NOTIFICATIONS_JOB_GRACE after they were enqueued and not
    running now (never started, or started longer ago than a task may run); give up after
    NOTIFICATIONS_JOB_MAX_ATTEMPTS starts or a day. Returns the number re-enqueued."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=conf.get("NOTIFICATIONS_JOB_GRACE"))
    stale = JobRun.objects.filter(status=JobRunStatus.PENDING, enqueued_at__lte=now - grace).filter(
        Q(started_at__isnull=True) | Q(started_at__lte=now - RUNNING_AT_MOST)
    )
    # A day's run that has not succeeded in a day is news of yesterday: give up.
    given_up = list(
        stale.filter(
            Q(attempts__gte=conf.get("NOTIFICATIONS_JOB_MAX_ATTEMPTS"))
            | Q(created_at__lte=now - dt.timedelta(days=1))
        ).values_list("pk", "job", "local_date", "organization__slug", "attempts", "last_error")[
            :10_000
        ]
    )
    if given_up:
        JobRun.objects.filter(
            pk__in=[row[0] for row in given_up], status=JobRunStatus.PENDING
        ).update(status=JobRunStatus.FAILED, finished_at=now)
    for pk, job_name, local_date, slug, attempts, last_error in given_up:
        logger.error(
            "job run %s (%s for %s, organization %s) failed for good after %s attempts: %s",
            pk,
            job_name,
            local_date,
            slug,
            attempts,
            last_error or "never started",
            extra={"organization": slug, "job_run_id": pk, "job": job_name},
        )
    runs = list(stale.values_list("pk", "job")[:10_000])
    if not runs:
        return 0
    JobRun.objects.filter(pk__in=[pk for pk, _ in runs]).update(enqueued_at=now)
    by_job: dict[str, list[int]] = {}
    for pk, name in runs:
        by_job.setdefault(name, []).append(pk)
    sent = 0
    for name, ids in by_job.items():
        job = job_get(name)
        if job is None:
            logger.error("pending runs of unknown job %r", name)
            continue
        sent += job_runs_enqueue(job=job, ids=ids)
    return sent
