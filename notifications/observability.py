"""What operators watch: task failures logged at ERROR with the organization and the ids they were
about, and the outbox backlog (GET /readyz shows it; see config/health.py).

Celery logs a failing task itself ("Task ... raised unexpected"), but without saying which
organization it was working for: tasks take ids. `log_task_failure` (connected to Celery's
`task_failure` signal in NotificationsConfig.ready) adds one ERROR line naming the task, its id,
its arguments and the organization, found from the task's first argument by its name:
`job_run_id` (the daily jobs), `organization_id` (the per-organization tasks) or `delivery_ids`
(the outbound dispatch). Log records carry the same as `extra` fields, which the JSON log format
(LOG_FORMAT=json, config/log_format.py) prints as keys.
"""

import datetime as dt
import inspect
import logging

from django.db.models import Count, Min
from django.utils import timezone

logger = logging.getLogger("notifications.tasks.failures")


def _first_argument_name(task) -> str | None:
    try:
        parameters = list(inspect.signature(task.run).parameters)
    except (TypeError, ValueError, AttributeError):
        return None
    return parameters[0] if parameters else None


def task_organizations(task, args, kwargs) -> list[str]:
    """Slugs of the organizations a task's arguments point to (empty when they point to none or
    the database cannot tell now)."""
    from agents.models import Organization

    from .models import Delivery, JobRun

    name = _first_argument_name(task)
    if name is None:
        return []
    value = kwargs.get(name) if kwargs and name in kwargs else (args[0] if args else None)
    if value is None:
        return []
    try:
        if name == "job_run_id":
            rows = JobRun.objects.filter(pk=value).values_list("organization__slug", flat=True)
        elif name == "organization_id":
            rows = Organization.objects.filter(pk=value).values_list("slug", flat=True)
        elif name == "delivery_ids":
            rows = (
                Delivery.objects.filter(pk__in=list(value)[:1000])
                .values_list("organization__slug", flat=True)
                .distinct()
                .order_by()
            )
        else:
            return []
        return sorted(rows)
    except Exception:  # noqa: BLE001 - the database may be what failed: log without the slug
        return []


def log_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **_):
    """Celery's task_failure signal: one ERROR line with the organization and the ids."""
    task_name = getattr(sender, "name", repr(sender))
    organizations = task_organizations(sender, args or (), kwargs or {})
    logger.error(
        "task %s[%s] failed for organization %s with args %r: %s: %s",
        task_name,
        task_id,
        ",".join(organizations) or "-",
        list(args or ()),
        type(exception).__name__,
        exception,
        extra={
            "task": task_name,
            "task_id": task_id,
            "organization": ",".join(organizations),
            "task_args": list(args or ()),
            "task_kwargs": dict(kwargs or {}),
            "error": type(exception).__name__,
        },
    )


def connect_signals() -> None:
    from celery.signals import task_failure

    task_failure.connect(log_task_failure, weak=False, dispatch_uid="notifications.task_failure")


# --- The outbox backlog ---------------------------------------------------------------------


def outbox_backlog(*, now: dt.datetime | None = None) -> dict:
    """Deliveries waiting to go out, and how long the one waiting longest has been due: the
    outbox's health (a growing age means no worker sends, or every send fails and is retried).
    Deliveries scheduled for a later retry are not waiting yet. One indexed aggregate query."""
    from .models import Delivery, DeliveryStatus

    now = now or timezone.now()
    waiting = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    row = waiting.aggregate(pending=Count("pk"), oldest=Min("next_attempt_at"))
    oldest = row["oldest"]
    return {
        "pending": row["pending"],
        "oldest_pending_age_seconds": (
            round(max((now - oldest).total_seconds(), 0.0), 1) if oldest else 0.0
        ),
    }
