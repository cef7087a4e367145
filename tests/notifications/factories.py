import factory

from notifications.models import Notification, NotificationKind
from tests.agents.factories import MembershipFactory


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
