"""Scheduled work about daily reports and market feedback (issue 6): reminders to members who have
not filed, the cut-off summary to leaders, and the escalation of unanswered feedback.

The daily jobs run in each organization's own timezone through notifications.scheduling (one
beat entry per job; see CELERY_BEAT_SCHEDULE). Every job is idempotent: the notifications' dedupe
keys name the day (or the escalation level) and the recipient, so a second run sends nothing.
"""

import datetime as dt
import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from agents.models import Membership, Organization, Role
from agents.selectors import WORKING_STATUSES
from notifications import messages
from notifications.models import NotificationKind
from notifications.scheduling import job_run_execute, scheduled_job
from notifications.services import notify_feedback_escalated, notify_many, task_send

from .models import FeedbackStatus, MarketFeedback
from .selectors import feedback_overdue, members_missing_report
from .services import feedback_escalate

logger = logging.getLogger(__name__)

# Feedback escalated per organization per run; the next run (5 minutes later) takes the rest.
ESCALATIONS_PER_RUN = 500


# What the jobs and notify_many read of a missing member: names, path, language, address.
_MISSING_FIELDS = (
    "id",
    "organization_id",
    "path",
    "user__display_name",
    "user__first_name",
    "user__last_name",
    "user__username",
    "user__language",
    "user__email",
    "user__is_active",
)


def _missing_members(*, organization: Organization, day: dt.date) -> list[Membership]:
    return list(
        # viewer=None: the job acts for the organization itself, which sees every member.
        members_missing_report(organization=organization, viewer=None, day=day).only(
            *_MISSING_FIELDS
        )
    )


# --- Daily reports --------------------------------------------------------------------------


def daily_report_reminders_send(*, organization: Organization, local_date: dt.date) -> int:
    """At the reminder time: each member due to report who has not filed gets a reminder; the
    organization's webhook gets one message listing them."""
    missing = _missing_members(organization=organization, day=local_date)
    if not missing:
        return 0
    texts = messages.daily_report_reminder(
        organization=organization,
        day=local_date,
        missing_names=[member.display_name for member in missing],
    )
    return notify_many(
        organization=organization,
        recipients=missing,
        kind=NotificationKind.DAILY_REPORT_REMINDER,
        title=texts.title,
        body=texts.body,
        link=texts.link,
        dedupe_key_for=lambda member: f"daily-report-reminder:{local_date}:{member.pk}",
        webhook=texts.webhook,
        webhook_key=f"daily-report-reminder:{local_date}",
        personal=texts.personal,
    )


def daily_report_missing_summary_send(*, organization: Organization, local_date: dt.date) -> int:
    """At the cut-off: each working leader with members of their subtree still missing gets the
    list of them (a member's ancestors are the ids in their path: no query per leader)."""
    missing = _missing_members(organization=organization, day=local_date)
    if not missing:
        return 0
    leaders = {
        leader.pk: leader
        for leader in Membership.objects.filter(
            organization=organization, role=Role.LEADER, status__in=WORKING_STATUSES
        ).select_related("user")
    }
    missing_by_leader: dict[int, list[str]] = {}
    for member in missing:
        ancestor_ids = [int(part) for part in member.path.strip("/").split("/") if part][:-1]
        for ancestor_id in ancestor_ids:
            if ancestor_id in leaders:
                missing_by_leader.setdefault(ancestor_id, []).append(member.display_name)
    texts = messages.daily_report_missing_summary(
        organization=organization,
        day=local_date,
        missing_by_leader=missing_by_leader,
        missing_names=[member.display_name for member in missing],
    )
    return notify_many(
        organization=organization,
        recipients=[leaders[pk] for pk in missing_by_leader],
        kind=NotificationKind.DAILY_REPORT_MISSING,
        title=texts.title,
        body=texts.body,
        link=texts.link,
        dedupe_key_for=lambda leader: f"daily-report-missing:{local_date}:{leader.pk}",
        webhook=texts.webhook,
        webhook_key=f"daily-report-missing:{local_date}",
    )


@scheduled_job("daily_report_reminder", at=lambda organization: organization.reminder_time)
@shared_task(
    name="reports.tasks.daily_report_reminders_task",
    soft_time_limit=300,
    time_limit=360,
)
def daily_report_reminders_task(job_run_id: int) -> None:
    job_run_execute(job_run_id=job_run_id, handler=daily_report_reminders_send)


@scheduled_job("daily_report_missing_summary", at=lambda organization: organization.report_cutoff)
@shared_task(
    name="reports.tasks.daily_report_missing_summary_task",
    soft_time_limit=300,
    time_limit=360,
)
def daily_report_missing_summary_task(job_run_id: int) -> None:
    job_run_execute(job_run_id=job_run_id, handler=daily_report_missing_summary_send)


# --- Market feedback ------------------------------------------------------------------------


def market_feedback_escalate_due(
    *, organization: Organization, now: dt.datetime | None = None
) -> int:
    """Escalate the organization's open feedback past its deadline, one level each, notifying
    the new and the previous assignee (and the webhook). Each escalation commits with its
    notifications; `from_level` makes a retried run escalate nothing twice."""
    now = now or timezone.now()
    escalated = 0
    overdue = feedback_overdue(organization=organization, now=now).select_related(
        "organization", "assignee__user"
    )[:ESCALATIONS_PER_RUN]
    for feedback in overdue:
        previous_assignee = feedback.assignee
        with transaction.atomic():
            if not feedback_escalate(
                organization=organization,
                feedback=feedback,
                from_level=feedback.escalation_level,
                now=now,
            ):
                continue
            feedback.refresh_from_db()
            notify_feedback_escalated(feedback=feedback, previous_assignee=previous_assignee)
        escalated += 1
    return escalated


@shared_task(
    name="reports.tasks.market_feedback_escalate_organization_task",
    soft_time_limit=300,
    time_limit=360,
)
def market_feedback_escalate_organization_task(organization_id: int) -> int:
    organization = Organization.objects.filter(pk=organization_id, is_active=True).first()
    if organization is None:
        return 0
    return market_feedback_escalate_due(organization=organization)


@shared_task(
    name="reports.tasks.market_feedback_escalate_task",
    soft_time_limit=60,
    time_limit=120,
)
def market_feedback_escalate_task() -> int:
    """Beat, every few minutes: one task per organization that has overdue open feedback
    (deadlines are absolute times, so no local-time rule is needed)."""
    organization_ids = (
        MarketFeedback.objects.filter(
            status=FeedbackStatus.OPEN,
            respond_by__lt=timezone.now(),
            organization__is_active=True,
        )
        .values_list("organization_id", flat=True)
        .distinct()
        .order_by()
    )
    sent = 0
    for organization_id in organization_ids:
        if not task_send(market_feedback_escalate_organization_task, (organization_id,)):
            break  # the broker is down: the next beat tick finds the same feedback again
        sent += 1
    return sent
