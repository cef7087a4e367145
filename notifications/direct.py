"""E-mail to an address that belongs to nobody's membership yet (an invitee), through the same
outbox as every other message: a Delivery row (channel e-mail, no notification) inserted in the
caller's transaction, enqueued on commit, claimed, retried with backoff and swept like the rest
(services.deliveries_send calls `email_direct_send` for it).

The message (address, subject, text) is kept in the delivery's `content` as JSON until it is
sent, then blanked: an invitation link carries a secret token, which should not outlive its
sending in the database.
"""

import json

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from agents.models import Organization

from . import conf
from .models import Channel, Delivery, DeliveryStatus
from .outbound import DeliveryError

KEY_MAX = Delivery._meta.get_field("dedupe_key").max_length


def email_direct_queue(
    *, organization: Organization, to: str, subject: str, body: str, dedupe_key: str
) -> Delivery | None:
    """Queue one e-mail to `to`. A key that exists already in the organization is skipped (a
    retried request sends nothing twice). Returns the new delivery, or None (skipped, or e-mail
    disabled). Call inside the transaction of the change that causes the message."""
    if not to or not conf.get("NOTIFICATIONS_EMAIL_ENABLED"):
        return None
    dedupe_key = dedupe_key[:KEY_MAX]
    exists = Delivery.objects.filter(
        organization=organization, channel=Channel.EMAIL, dedupe_key=dedupe_key
    ).exists()
    if exists:
        return None
    delivery = Delivery.objects.create(
        organization=organization,
        channel=Channel.EMAIL,
        dedupe_key=dedupe_key,
        content=json.dumps({"to": to, "subject": subject, "body": body}, ensure_ascii=False),
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    delivery_ids = [delivery.pk]

    def enqueue():
        from .services import deliveries_enqueue

        deliveries_enqueue(email_ids=delivery_ids)

    transaction.on_commit(enqueue, robust=True)
    return delivery


def email_direct_send(delivery: Delivery, connection) -> None:
    """Send a delivery queued by email_direct_queue (raises DeliveryError to retry or fail)."""
    try:
        message = json.loads(delivery.content)
        to, subject, body = message["to"], message["subject"], message["body"]
    except (ValueError, TypeError, KeyError):
        raise DeliveryError("the message is gone", permanent=True) from None
    EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers={"X-Notification-Key": delivery.dedupe_key},
    ).send()
    Delivery.objects.filter(pk=delivery.pk).update(content="")
