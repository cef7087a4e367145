"""notify_many: rows, deliveries, languages, dedupe, batching, and enqueueing on commit only."""

import datetime as dt
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import messages, services
from notifications.models import Channel, Delivery, DeliveryStatus, Notification, NotificationKind
from notifications.tasks import delivery_dispatch_task
from tests.agents.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


def remind(organization, recipients, *, webhook=True):
    texts = messages.daily_report_reminder(
        organization=organization,
        day=DAY,
        missing_names=[member.display_name for member in recipients],
    )
    return services.notify_many(
        organization=organization,
        recipients=recipients,
        kind=NotificationKind.DAILY_REPORT_REMINDER,
        title=texts.title,
        body=texts.body,
        link=texts.link,
        dedupe_key_for=lambda member: f"test-reminder:{DAY}:{member.pk}",
        webhook=texts.webhook if webhook else None,
        webhook_key=f"test-reminder:{DAY}",
    )


@pytest.fixture
def enqueued():
    """The dispatch tasks that would have been published: (delivery ids, ...)."""
    calls = []
    with mock.patch.object(
        delivery_dispatch_task._get_current_object(),
        "apply_async",
        side_effect=lambda args, **kw: calls.append(args[0]),
    ):
        yield calls


def test_one_row_per_recipient_and_an_email_for_those_with_an_address(
    world, django_capture_on_commit_callbacks, enqueued
):
    world.sub_agent.user.email = ""
    world.sub_agent.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        created = remind(world.org, [world.agent, world.sub_agent, world.leader], webhook=False)

    assert created == 3
    rows = Notification.objects.filter(organization=world.org)
    assert {row.recipient_id for row in rows} == {
        world.agent.pk,
        world.sub_agent.pk,
        world.leader.pk,
    }
    agent_row = rows.get(recipient=world.agent)
    assert agent_row.kind == "daily_report_reminder"
    assert agent_row.link == f"/api/v1/orgs/acme/me/daily-reports/{DAY}/"
    emails = Delivery.objects.filter(channel=Channel.EMAIL)
    assert {d.notification.recipient_id for d in emails} == {world.agent.pk, world.leader.pk}
    assert all(d.status == DeliveryStatus.PENDING for d in emails)
    assert sorted(sum(enqueued, [])) == sorted(d.pk for d in emails)


def test_texts_follow_the_recipients_language_else_the_organizations(world, settings):
    world.org.language = "zh-hans"
    world.org.save()
    world.agent.user.language = "en"
    world.agent.user.save()
    remind(world.org, [world.agent, world.leader], webhook=False)

    rows = {row.recipient_id: row for row in Notification.objects.all()}
    assert rows[world.agent.pk].title == "Daily report reminder"
    assert rows[world.leader.pk].title == "日报提醒"
    assert "2026" in rows[world.leader.pk].body and "日报" in rows[world.leader.pk].body


def test_an_unsupported_language_falls_back_to_the_organizations(world):
    world.org.language = "en"
    world.org.save()
    world.agent.user.language = "xx"
    world.agent.user.save()
    remind(world.org, [world.agent], webhook=False)
    assert Notification.objects.get().title == "Daily report reminder"


def test_a_second_run_inserts_and_sends_nothing(
    world, django_capture_on_commit_callbacks, enqueued
):
    world.org.webhook_url = "https://robot.example.com/send"
    world.org.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert remind(world.org, [world.agent, world.leader]) == 2
    first = len(enqueued)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert remind(world.org, [world.agent, world.leader]) == 0

    assert callbacks == []  # nothing new: nothing to enqueue
    assert len(enqueued) == first
    assert Notification.objects.count() == 2
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 2
    assert Delivery.objects.filter(channel=Channel.WEBHOOK).count() == 1


def test_the_webhook_gets_one_message_per_event_in_the_organizations_language(world):
    world.org.webhook_url = "https://robot.example.com/send"
    world.org.language = "en"
    world.org.save()
    remind(world.org, [world.agent, world.leader])

    webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert webhook.notification is None
    assert webhook.dedupe_key == f"test-reminder:{DAY}"
    assert "2 members have not filed yet" in webhook.content
    assert world.agent.display_name in webhook.content


def test_no_webhook_delivery_without_a_webhook_url(world):
    remind(world.org, [world.agent])
    assert not Delivery.objects.filter(channel=Channel.WEBHOOK).exists()


def test_a_member_of_another_organization_is_never_notified(world):
    assert remind(world.org, [world.agent, world.outsider], webhook=False) == 1
    assert not Notification.objects.filter(recipient=world.outsider).exists()


def test_a_rolled_back_transaction_enqueues_nothing(
    world, django_capture_on_commit_callbacks, enqueued
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                remind(world.org, [world.agent])
                raise RuntimeError("the change that caused it failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert enqueued == []
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_many_recipients_are_a_few_bulk_inserts_and_a_few_tasks(
    settings, django_capture_on_commit_callbacks, enqueued
):
    settings.NOTIFICATIONS_BATCH_SIZE = 20
    settings.NOTIFICATIONS_DISPATCH_BATCH_SIZE = 20
    organization = OrganizationFactory(webhook_url="https://robot.example.com/send")
    members = MembershipFactory.create_batch(50, organization=organization)

    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        assert remind(organization, members) == 50

    # Per batch of 20: the dedupe check, the insert, the ids, the deliveries and their ids.
    assert len(ctx.captured_queries) < 25
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 50
    assert [len(batch) for batch in enqueued] == [20, 20, 10, 1]  # 3 e-mail batches + webhook


def test_the_query_count_does_not_grow_with_the_recipients(settings):
    organization = OrganizationFactory()
    few = MembershipFactory.create_batch(3, organization=organization)
    many = MembershipFactory.create_batch(40, organization=organization)
    counts = []
    for members in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            remind(organization, members, webhook=False)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
