"""Plan-task reminders: every due task of an owner is reminded, once."""

import datetime as dt

from django.utils import timezone

from notifications.models import Notification, NotificationKind
from plans.models import PlanStatus
from plans.tasks import plan_task_reminders_send
from tests.plans.factories import PlanTaskFactory, SalesPlanFactory


def test_an_owner_with_several_due_tasks_is_reminded_of_each(world):
    now = timezone.now()
    plan = SalesPlanFactory(organization=world.org)
    first = PlanTaskFactory(plan=plan, owner=world.agent, due_at=now + dt.timedelta(hours=1))
    second = PlanTaskFactory(plan=plan, owner=world.agent, due_at=now + dt.timedelta(hours=2))
    PlanTaskFactory(plan=plan, owner=world.sub_agent, due_at=now - dt.timedelta(hours=1))
    closed = SalesPlanFactory(organization=world.org, status=PlanStatus.CLOSED)
    PlanTaskFactory(plan=closed, owner=world.agent, due_at=now + dt.timedelta(hours=1))

    assert plan_task_reminders_send(organization=world.org, now=now) == 3
    links = set(
        Notification.objects.filter(
            recipient=world.agent, kind=NotificationKind.TASK_DUE_SOON
        ).values_list("link", flat=True)
    )
    assert links == {
        f"/api/v1/orgs/acme/tasks/{first.pk}/",
        f"/api/v1/orgs/acme/tasks/{second.pk}/",
    }
    assert Notification.objects.get(recipient=world.sub_agent).kind == NotificationKind.TASK_OVERDUE
    assert plan_task_reminders_send(organization=world.org, now=now) == 0
