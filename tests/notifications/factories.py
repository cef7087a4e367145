import datetime as dt

import factory
from django.utils import timezone

from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    JobRun,
    JobRunStatus,
    Notification,
    NotificationKind,
)
from tests.agents.factories import MembershipFactory, OrganizationFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(MembershipFactory)
    organization = factory.LazyAttribute(lambda o: o.recipient.organization)
    kind = NotificationKind.OTHER
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    link = ""
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A webhook message by default; pass `notification=` (and channel e-mail) for an e-mail."""

    class Meta:
        model = Delivery

    organization = factory.SubFactory(OrganizationFactory)
    channel = Channel.WEBHOOK
    dedupe_key = factory.Sequence(lambda n: f"event:{n}")
    content = "Something happened."
    status = DeliveryStatus.SENT
    next_attempt_at = factory.LazyFunction(timezone.now)


class JobRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRun

    organization = factory.SubFactory(OrganizationFactory)
    job = "daily_report_reminder"
    local_date = factory.Sequence(lambda n: dt.date(2020, 1, 1) + dt.timedelta(days=n))
    status = JobRunStatus.DONE
    enqueued_at = factory.LazyFunction(timezone.now)
