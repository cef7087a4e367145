"""Scheduled work about plans: reminders of plan tasks that are due soon or overdue.

Beat runs `plan_task_reminders_task` every 15 minutes (CELERY_BEAT_SCHEDULE); it enqueues one
task per organization that has something to remind. Deadlines are absolute times, so no local
time-of-day rule is needed. Every run is idempotent: a reminder's dedupe key names the task, its
due time and the owner, so a task is reminded once before it is due and once when it is
overdue, and a new due time earns new reminders.
"""

import datetime as dt
from collections import defaultdict

from celery import shared_task
from django.db.models import Q, QuerySet
from django.utils import timezone

from agents.models import Organization
from agents.selectors import WORKING_STATUSES
from notifications import messages
from notifications.models import NotificationKind
from notifications.services import notify_many, task_send

from .models import PlanStatus, PlanTask, TaskStatus

DUE_SOON = dt.timedelta(hours=24)
# Tasks overdue for longer were reminded on earlier runs (or predate the reminders).
OVERDUE_LOOKBACK = dt.timedelta(days=3)
OPEN_STATUSES = (TaskStatus.TODO, TaskStatus.DOING)


def tasks_to_remind(*, now: dt.datetime) -> QuerySet[PlanTask]:
    """Open tasks of active plans, owned by working members, due within a day or recently
    overdue."""
    return PlanTask.objects.filter(
        Q(due_at__gt=now - OVERDUE_LOOKBACK) & Q(due_at__lte=now + DUE_SOON),
        organization__is_active=True,
        plan__status=PlanStatus.ACTIVE,
        status__in=OPEN_STATUSES,
        owner__status__in=WORKING_STATUSES,
    )


def _notify_in_rounds(*, organization: Organization, tasks: list[PlanTask], overdue: bool) -> int:
    """One notify_many call per round: round r carries every owner's r-th task, so the number
    of calls follows the most tasks any one owner has, not the number of tasks."""
    by_owner: dict[int, list[PlanTask]] = defaultdict(list)
    for task in tasks:
        by_owner[task.owner_id].append(task)
    kind = NotificationKind.TASK_OVERDUE if overdue else NotificationKind.TASK_DUE_SOON
    prefix = "task-overdue" if overdue else "task-due-soon"
    created = 0
    for index in range(max((len(owned) for owned in by_owner.values()), default=0)):
        batch = {owner: owned[index] for owner, owned in by_owner.items() if len(owned) > index}
        texts = {
            owner: messages.plan_task_reminder(
                organization=organization, task=task, overdue=overdue
            )
            for owner, task in batch.items()
        }

        def dedupe_key(member, batch=batch):
            task = batch[member.pk]
            return f"{prefix}:{task.pk}:{task.due_at.isoformat()}:{member.pk}"

        created += notify_many(
            organization=organization,
            recipients=[task.owner for task in batch.values()],
            kind=kind,
            title=lambda member, texts=texts: texts[member.pk].title(member),
            body=lambda member, texts=texts: texts[member.pk].body(member),
            link=lambda member, texts=texts: texts[member.pk].link,
            dedupe_key_for=dedupe_key,
        )
    return created


def plan_task_reminders_send(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Remind the owners of the organization's tasks due within a day, or overdue. One query for
    the tasks; returns the number of notifications created."""
    now = now or timezone.now()
    tasks = list(
        tasks_to_remind(now=now)
        .filter(organization=organization)
        .select_related("owner__user")
        .order_by("due_at", "id")
    )
    return sum(
        _notify_in_rounds(
            organization=organization,
            tasks=[task for task in tasks if (task.due_at <= now) == overdue],
            overdue=overdue,
        )
        for overdue in (False, True)
    )


@shared_task(
    name="plans.tasks.plan_task_reminders_organization_task",
    soft_time_limit=300,
    time_limit=360,
)
def plan_task_reminders_organization_task(organization_id: int) -> int:
    organization = Organization.objects.filter(pk=organization_id, is_active=True).first()
    if organization is None:
        return 0
    return plan_task_reminders_send(organization=organization)


@shared_task(name="plans.tasks.plan_task_reminders_task", soft_time_limit=60, time_limit=120)
def plan_task_reminders_task() -> int:
    """Beat, every 15 minutes: one task per organization with tasks to remind. Returns how many
    organizations were enqueued."""
    organization_ids = (
        tasks_to_remind(now=timezone.now())
        .values_list("organization_id", flat=True)
        .distinct()
        .order_by()
    )
    sent = 0
    for organization_id in organization_ids:
        if not task_send(plan_task_reminders_organization_task, (organization_id,)):
            break  # the broker is down: the next beat tick finds the same tasks again
        sent += 1
    return sent
