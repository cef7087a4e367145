"""Scheduled work about appraisals (issue 6), each a daily job in the organization's own timezone
(notifications.scheduling; one beat entry per job):

- appraisal_cycles_open (00:10 local): draft cycles whose period has begun are opened (one
  appraisal per eligible member, appraisals.services.appraisal_cycle_open);
- appraisal_cycles_score (01:00 local): the nightly set-based scoring pass over every open cycle
  (appraisals.services.appraisal_cycle_score);
- appraisal_review_reminder (09:00 local): reviewers with reviews pending in an open cycle whose
  review deadline is at most REMIND_DAYS_BEFORE days away (or past) are reminded, once a day.
"""

import datetime as dt
import logging
from collections import Counter

from celery import shared_task

from agents.errors import Conflict
from agents.models import Membership, Organization
from notifications import messages
from notifications.models import NotificationKind
from notifications.scheduling import job_run_execute, scheduled_job
from notifications.services import notify_many

from .models import AppraisalCycle, CycleStatus
from .selectors import missing_reviews
from .services import appraisal_cycle_open, appraisal_cycle_score

logger = logging.getLogger(__name__)

OPEN_AT = dt.time(0, 10)
SCORE_AT = dt.time(1, 0)
REMIND_AT = dt.time(9, 0)
REMIND_DAYS_BEFORE = 3


def appraisal_cycles_open_due(*, organization: Organization, local_date: dt.date) -> int:
    """Open the draft cycles whose period contains the local date."""
    opened = 0
    cycles = AppraisalCycle.objects.filter(
        organization=organization,
        status=CycleStatus.DRAFT,
        start__lte=local_date,
        end__gte=local_date,
    ).order_by("start", "pk")
    for cycle in cycles:
        try:
            appraisal_cycle_open(organization=organization, actor=None, cycle=cycle)
        except Conflict:
            continue  # opened by someone else meanwhile
        opened += 1
    return opened


def appraisal_cycles_score_open(*, organization: Organization, local_date: dt.date) -> int:
    """Re-score every open cycle (a no-op write when nothing changed). Each cycle is scored in
    its own transaction, outside any other, so the roll-up reads the members' facts on a second
    connection meanwhile (appraisals.selectors.OwnFactsAhead)."""
    scored = 0
    for cycle in AppraisalCycle.objects.filter(organization=organization, status=CycleStatus.OPEN):
        try:
            appraisal_cycle_score(cycle=cycle)
        except Conflict:
            continue  # finalized meanwhile
        scored += 1
    return scored


appraisal_cycles_score_open.manages_transactions = True  # job_run_execute: no outer transaction


def appraisal_review_reminders_send(*, organization: Organization, local_date: dt.date) -> int:
    """Remind each reviewer of their pending reviews in open cycles due soon, once a day."""
    created = 0
    cycles = AppraisalCycle.objects.filter(
        organization=organization,
        status=CycleStatus.OPEN,
        review_deadline__isnull=False,
        review_deadline__lte=local_date + dt.timedelta(days=REMIND_DAYS_BEFORE),
    ).select_related("template", "organization")
    for cycle in cycles:
        pending = Counter(
            row["reviewer"] for row in missing_reviews(cycle=cycle) if row["reviewer"]
        )
        if not pending:
            continue
        reviewers = Membership.objects.filter(organization=organization, pk__in=list(pending))
        texts = messages.appraisal_reviews_due(
            organization=organization, cycle=cycle, pending_by_reviewer=dict(pending)
        )
        created += notify_many(
            organization=organization,
            recipients=reviewers,
            kind=NotificationKind.APPRAISAL_REVIEW_DUE,
            title=texts.title,
            body=texts.body,
            link=texts.link,
            dedupe_key_for=lambda reviewer, cycle=cycle: (
                f"appraisal-review:{cycle.pk}:{local_date}:{reviewer.pk}"
            ),
        )
    return created


@scheduled_job("appraisal_cycles_open", at=lambda organization: OPEN_AT)
@shared_task(
    name="appraisals.tasks.appraisal_cycles_open_task",
    soft_time_limit=600,
    time_limit=900,
)
def appraisal_cycles_open_task(job_run_id: int) -> None:
    job_run_execute(job_run_id=job_run_id, handler=appraisal_cycles_open_due)


@scheduled_job("appraisal_cycles_score", at=lambda organization: SCORE_AT)
@shared_task(
    name="appraisals.tasks.appraisal_cycles_score_task",
    soft_time_limit=1200,
    time_limit=1500,
)
def appraisal_cycles_score_task(job_run_id: int) -> None:
    job_run_execute(job_run_id=job_run_id, handler=appraisal_cycles_score_open)


@scheduled_job("appraisal_review_reminder", at=lambda organization: REMIND_AT)
@shared_task(
    name="appraisals.tasks.appraisal_review_reminders_task",
    soft_time_limit=300,
    time_limit=360,
)
def appraisal_review_reminders_task(job_run_id: int) -> None:
    job_run_execute(job_run_id=job_run_id, handler=appraisal_review_reminders_send)
