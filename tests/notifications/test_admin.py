"""The notifications admin: read-only, tenant-scoped, and a failed delivery can be sent again."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications import services
from notifications.models import Channel, Delivery, DeliveryStatus, JobRun, Notification
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(world):
    user = world.admin.user
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", [Notification, Delivery, JobRun])
def test_the_pages_render_for_organization_staff(staff_admin, model):
    url = reverse(f"admin:notifications_{model._meta.model_name}_changelist")
    assert staff_admin.get(url).status_code == 200


def test_staff_see_only_their_organizations_notifications(staff_admin, world):
    mine = NotificationFactory(recipient=world.agent, title="Ours")
    NotificationFactory(recipient=world.outsider, title="Theirs")
    response = staff_admin.get(reverse("admin:notifications_notification_changelist"))
    assert list(response.context["cl"].result_list) == [mine]
    other = Notification.objects.get(title="Theirs")
    detail = reverse("admin:notifications_notification_change", args=[other.pk])
    assert staff_admin.get(detail).status_code == 302  # as if it did not exist


def test_nothing_can_be_added_or_changed(staff_admin):
    assert staff_admin.get(reverse("admin:notifications_notification_add")).status_code == 403


def test_a_failed_delivery_can_be_sent_again(
    staff_admin, world, eager, django_capture_on_commit_callbacks
):
    services.notify_many(
        organization=world.org,
        recipients=[world.agent],
        kind="other",
        title="Hello",
        body="Body",
        dedupe_key_for=lambda member: f"admin-test:{member.pk}",
    )
    delivery = Delivery.objects.get(channel=Channel.EMAIL)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_admin.post(
            reverse("admin:notifications_delivery_changelist"),
            {"action": "send_again", "_selected_action": [delivery.pk]},
        )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert len(mail.outbox) == 1
