"""The jobs of issue 6, run in-process: daily-report reminders and cut-off summaries, market
feedback (critical on filing, escalation), plan-task reminders, appraisal reminders and the
nightly appraisal passes."""

import datetime as dt

import pytest
from django.utils import timezone

from agents.models import Role
from appraisals import tasks as appraisal_jobs
from appraisals.models import AppraisalCycle, CycleStatus
from notifications import services
from notifications.models import Channel, Delivery, Notification, NotificationKind
from plans import tasks as plan_jobs
from plans.models import TaskStatus
from reports import tasks as report_jobs
from reports.models import Urgency
from tests.agents.factories import MembershipFactory
from tests.appraisals.factories import AppraisalCycleFactory, cycle_open, template_create
from tests.plans.factories import PlanTaskFactory, SalesPlanFactory
from tests.reports.factories import DailyReportFactory, MarketFeedbackFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)
SATURDAY = dt.date(2026, 3, 7)


def recipients(kind) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


# --- Daily reports --------------------------------------------------------------------------


def test_the_reminder_goes_to_members_due_who_have_not_filed(world):
    DailyReportFactory(organization=world.org, member=world.agent, date=MONDAY)
    created = report_jobs.daily_report_reminders_send(organization=world.org, local_date=MONDAY)
    # Leaders and agents report; owners and admins do not; the agent has filed.
    expected = {world.leader.pk, world.sub_agent.pk, world.other_leader.pk, world.other_agent.pk}
    assert recipients(NotificationKind.DAILY_REPORT_REMINDER) == expected
    assert created == 4
    # Again (a retried task, a second beat process): nothing new.
    assert report_jobs.daily_report_reminders_send(organization=world.org, local_date=MONDAY) == 0


def test_no_reminder_on_a_day_off(world):
    assert report_jobs.daily_report_reminders_send(organization=world.org, local_date=SATURDAY) == 0
    assert not Notification.objects.exists()


def test_the_cut_off_summary_tells_each_leader_who_in_their_subtree_is_missing(world):
    world.org.webhook_url = "https://robot.example.com/send"
    world.org.language = "en"
    world.org.save()
    DailyReportFactory(organization=world.org, member=world.leader, date=MONDAY)

    report_jobs.daily_report_missing_summary_send(organization=world.org, local_date=MONDAY)

    rows = {
        row.recipient_id: row
        for row in Notification.objects.filter(kind=NotificationKind.DAILY_REPORT_MISSING)
    }
    assert set(rows) == {world.leader.pk, world.other_leader.pk}
    leader_body = rows[world.leader.pk].body
    assert world.agent.display_name in leader_body and world.sub_agent.display_name in leader_body
    assert world.other_agent.display_name not in leader_body
    assert rows[world.leader.pk].body.startswith("2 members of your team")
    other_body = rows[world.other_leader.pk].body
    assert other_body.startswith("1 members") and world.other_agent.display_name in other_body
    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert "4 members have not filed" in webhook.content  # the other leader has not filed either


# --- Market feedback ------------------------------------------------------------------------


def test_critical_feedback_notifies_the_assignee_and_the_admins_at_once(world):
    feedback = MarketFeedbackFactory(
        organization=world.org, author=world.agent, assignee=world.leader, urgency=Urgency.CRITICAL
    )
    services.notify_feedback_filed(feedback=feedback)
    assert recipients(NotificationKind.FEEDBACK_CRITICAL) == {
        world.leader.pk,
        world.admin.pk,
        world.owner.pk,
    }
    assert services.notify_feedback_filed(feedback=feedback) == 0  # once


def test_other_feedback_notifies_nobody_on_filing(world):
    feedback = MarketFeedbackFactory(organization=world.org, author=world.agent)
    assert services.notify_feedback_filed(feedback=feedback) == 0


def test_overdue_feedback_is_escalated_once_and_both_assignees_are_told(world):
    world.org.language = "en"
    world.org.save()
    feedback = MarketFeedbackFactory(
        organization=world.org,
        author=world.sub_agent,
        assignee=world.agent,
        respond_by=timezone.now() - dt.timedelta(minutes=1),
    )
    assert report_jobs.market_feedback_escalate_due(organization=world.org) == 1

    feedback.refresh_from_db()
    assert (feedback.assignee_id, feedback.escalation_level) == (world.leader.pk, 1)
    rows = {
        row.recipient_id: row
        for row in Notification.objects.filter(kind=NotificationKind.FEEDBACK_ESCALATED)
    }
    assert set(rows) == {world.agent.pk, world.leader.pk}
    assert "now assigned to you" in rows[world.leader.pk].body
    assert "escalated to" in rows[world.agent.pk].body
    # The next run finds nothing overdue (the deadline moved with the escalation).
    assert report_jobs.market_feedback_escalate_due(organization=world.org) == 0
    assert Notification.objects.count() == 2


def test_feedback_escalation_fans_out_per_organization(world, eager):
    MarketFeedbackFactory(
        organization=world.org,
        author=world.agent,
        assignee=world.leader,
        respond_by=timezone.now() - dt.timedelta(minutes=1),
    )
    assert report_jobs.market_feedback_escalate_task() == 1
    assert recipients(NotificationKind.FEEDBACK_ESCALATED) == {world.leader.pk, world.admin.pk}


# --- Plan tasks -----------------------------------------------------------------------------


@pytest.fixture
def plan(world):
    return SalesPlanFactory(organization=world.org)


def test_owners_are_reminded_of_tasks_due_soon_and_overdue_once(world, plan, eager):
    now = timezone.now()
    soon = PlanTaskFactory(plan=plan, owner=world.agent, due_at=now + dt.timedelta(hours=5))
    late = PlanTaskFactory(plan=plan, owner=world.leader, due_at=now - dt.timedelta(hours=2))
    PlanTaskFactory(plan=plan, owner=world.agent, due_at=now + dt.timedelta(days=3))  # not yet
    PlanTaskFactory(
        plan=plan, owner=world.agent, due_at=now + dt.timedelta(hours=1), status=TaskStatus.DONE
    )
    PlanTaskFactory(plan=plan, owner=world.agent, due_at=now - dt.timedelta(days=30))  # stale

    assert plan_jobs.plan_task_reminders_task() == 1  # one organization with something to say

    assert recipients(NotificationKind.TASK_DUE_SOON) == {world.agent.pk}
    assert recipients(NotificationKind.TASK_OVERDUE) == {world.leader.pk}
    assert Notification.objects.get(kind=NotificationKind.TASK_DUE_SOON).link.endswith(
        f"/tasks/{soon.pk}/"
    )
    assert Notification.objects.count() == 2

    plan_jobs.plan_task_reminders_task()
    assert Notification.objects.count() == 2  # a second scan sends nothing

    late.due_at = now + dt.timedelta(hours=3)  # a new deadline earns a new reminder
    late.save()
    plan_jobs.plan_task_reminders_send(organization=world.org)
    assert recipients(NotificationKind.TASK_DUE_SOON) == {world.agent.pk, world.leader.pk}


# --- Appraisals -----------------------------------------------------------------------------


@pytest.fixture
def open_cycle(world):
    template = template_create(world.org)
    cycle = cycle_open(template)
    AppraisalCycle.objects.filter(pk=cycle.pk).update(review_deadline=dt.date(2026, 4, 5))
    cycle.refresh_from_db()
    return cycle


def test_reviewers_with_pending_reviews_are_reminded_when_the_deadline_nears(world, open_cycle):
    assert (
        appraisal_jobs.appraisal_review_reminders_send(
            organization=world.org, local_date=dt.date(2026, 3, 20)
        )
        == 0
    )  # too early
    day = dt.date(2026, 4, 3)
    created = appraisal_jobs.appraisal_review_reminders_send(organization=world.org, local_date=day)
    reviewers = set(open_cycle.appraisals.values_list("reviewer_id", flat=True)) - {None}
    assert created == len(reviewers) > 0
    assert recipients(NotificationKind.APPRAISAL_REVIEW_DUE) == reviewers
    assert (
        appraisal_jobs.appraisal_review_reminders_send(organization=world.org, local_date=day) == 0
    )  # once a day
    appraisal_jobs.appraisal_review_reminders_send(
        organization=world.org, local_date=day + dt.timedelta(days=1)
    )
    assert Notification.objects.count() == 2 * len(reviewers)


def test_the_nightly_pass_opens_due_drafts_and_scores_open_cycles(world):
    template = template_create(world.org)
    draft = AppraisalCycleFactory(template=template)  # March 2026
    later = AppraisalCycleFactory(
        template=template, start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30)
    )
    assert (
        appraisal_jobs.appraisal_cycles_open_due(
            organization=world.org, local_date=dt.date(2026, 3, 1)
        )
        == 1
    )
    draft.refresh_from_db()
    later.refresh_from_db()
    assert (draft.status, later.status) == (CycleStatus.OPEN, CycleStatus.DRAFT)
    assert draft.appraisals.exists()
    assert (
        appraisal_jobs.appraisal_cycles_score_open(
            organization=world.org, local_date=dt.date(2026, 3, 2)
        )
        == 1
    )


def test_members_of_another_role_do_not_get_report_reminders(world):
    MembershipFactory(organization=world.org, role=Role.ADMIN)
    report_jobs.daily_report_reminders_send(organization=world.org, local_date=MONDAY)
    assert world.admin.pk not in recipients(NotificationKind.DAILY_REPORT_REMINDER)
    assert world.owner.pk not in recipients(NotificationKind.DAILY_REPORT_REMINDER)
