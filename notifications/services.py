"""Writes about notifications: creating them (with their outbox rows), reading them, sending
them. See models.py for the outbox and its guarantees.

Other apps call:

- `notify_many(...)` inside the transaction of the change that causes the notifications;
- `notify_feedback_filed(feedback=...)` when market feedback is filed (critical feedback notifies
  the assignee and the organization's admins at once);
- `notify_feedback_escalated(feedback=..., previous_assignee=...)` after an escalation.
"""

import contextlib
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation

from agents.models import Membership, Organization
from agents.selectors import organization_admins

from . import bulk, conf, messages
from .models import Channel, Delivery, DeliveryStatus, Notification, NotificationKind
from .outbound import DeliveryError, webhook_post

logger = logging.getLogger(__name__)

TITLE_MAX = Notification._meta.get_field("title").max_length
KEY_MAX = Notification._meta.get_field("dedupe_key").max_length


# --- Languages ------------------------------------------------------------------------------


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def organization_language(organization: Organization) -> str:
    return _supported(organization.language) or settings.LANGUAGE_CODE


def recipient_language(*, member: Membership, organization: Organization) -> str:
    """The member's own language if set and supported, else the organization's."""
    return _supported(member.user.language) or organization_language(organization)


# --- Creating -------------------------------------------------------------------------------


@dataclass
class _Outbox:
    """Deliveries inserted by this call, to be enqueued once the transaction commits."""

    email_ids: list[int] = field(default_factory=list)
    webhook_ids: list[int] = field(default_factory=list)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notify_many(
    *,
    organization: Organization,
    recipients: Iterable[Membership],
    kind: str,
    title: Callable[[Membership], str] | str,
    body: Callable[[Membership], str] | str,
    link: Callable[[Membership], str] | str = "",
    dedupe_key_for: Callable[[Membership], str],
    webhook: Callable[[], str] | None = None,
    webhook_key: str = "",
    personal: bool = True,
) -> int:
    """Notify each recipient once: an inbox row, and an e-mail for those with an address; plus,
    with `webhook`, one message for the event to the organization's webhook (key `webhook_key`).

    Texts are rendered per recipient inside translation.override(their language): pass
    callables that call gettext (see messages.py); with `personal=False` the texts do not depend
    on the recipient and are rendered once per language instead of once per recipient.
    `dedupe_key_for(member)` must name the event and the member; a key that exists already in
    the organization is skipped, so a second run inserts and sends nothing (on PostgreSQL by the
    unique constraint itself: notifications/bulk.py). Rows are inserted in bulk, in batches;
    the deliveries are enqueued in batches once the surrounding transaction commits (never if
    it rolls back). Returns the number of notifications created."""
    if webhook is not None and not webhook_key:
        raise ValueError("a webhook message needs a webhook_key")
    if isinstance(recipients, QuerySet):
        recipients = recipients.select_related("user")
    by_language: dict[str, list[Membership]] = defaultdict(list)
    seen: set[int] = set()
    for member in recipients:
        # Tenant guard: a member of another organization is never notified from this one.
        if member.pk in seen or member.organization_id != organization.pk:
            continue
        seen.add(member.pk)
        by_language[recipient_language(member=member, organization=organization)].append(member)

    outbox = _Outbox()
    created = 0
    now = timezone.now()
    batch_size = conf.get("NOTIFICATIONS_BATCH_SIZE")
    with transaction.atomic():
        for language, members in by_language.items():
            with translation.override(language):
                for batch in _chunks(members, batch_size):
                    created += _insert_batch(
                        organization=organization,
                        members=batch,
                        kind=kind,
                        title=title,
                        body=body,
                        link=link,
                        dedupe_key_for=dedupe_key_for,
                        now=now,
                        outbox=outbox,
                        personal=personal,
                    )
        if webhook is not None and organization.webhook_url:
            with translation.override(organization_language(organization)):
                content = str(webhook())
            outbox.webhook_ids += _insert_deliveries(
                organization=organization,
                channel=Channel.WEBHOOK,
                rows=[Delivery(dedupe_key=webhook_key[:KEY_MAX], content=content)],
                now=now,
            )
        if outbox.email_ids or outbox.webhook_ids:
            email_ids, webhook_ids = list(outbox.email_ids), list(outbox.webhook_ids)
            transaction.on_commit(
                lambda: deliveries_enqueue(email_ids=email_ids, webhook_ids=webhook_ids),
                robust=True,
            )
    return created


def _render(value, member: Membership) -> str:
    return str(value(member) if callable(value) else value)


def _insert_batch(
    *, organization, members, kind, title, body, link, dedupe_key_for, now, outbox, personal=True
) -> int:
    keys = {member.pk: str(dedupe_key_for(member))[:KEY_MAX] for member in members}
    if not personal:
        # The same text for everyone in this language: render it once, not once per member.
        title, body, link = (_render(value, members[0]) for value in (title, body, link))
    if bulk.supported():
        with_email = conf.get("NOTIFICATIONS_EMAIL_ENABLED")
        created, email_ids = bulk.insert_inbox_and_mail(
            organization_id=organization.pk,
            kind=kind,
            rows=[
                bulk.InboxRow(
                    recipient_id=member.pk,
                    title=_render(title, member)[:TITLE_MAX],
                    body=_render(body, member),
                    link=_render(link, member),
                    dedupe_key=keys[member.pk],
                    mailable=bool(member.user.email and member.user.is_active),
                )
                for member in members
            ],
            now=now,
            with_email=with_email,
        )
        outbox.email_ids += email_ids
        return created
    existing = set(
        Notification.objects.filter(
            organization=organization, dedupe_key__in=keys.values()
        ).values_list("dedupe_key", flat=True)
    )
    rows = [
        Notification(
            organization=organization,
            recipient=member,
            kind=kind,
            title=_render(title, member)[:TITLE_MAX],
            body=_render(body, member),
            link=_render(link, member),
            dedupe_key=keys[member.pk],
        )
        for member in members
        if keys[member.pk] not in existing
    ]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if not conf.get("NOTIFICATIONS_EMAIL_ENABLED"):
        return len(rows)
    mailable = {member.pk for member in members if member.user.email and member.user.is_active}
    inserted = Notification.objects.filter(
        organization=organization,
        dedupe_key__in=[row.dedupe_key for row in rows],
        recipient_id__in=mailable,
    ).values_list("pk", "dedupe_key")
    outbox.email_ids += _insert_deliveries(
        organization=organization,
        channel=Channel.EMAIL,
        rows=[Delivery(notification_id=pk, dedupe_key=key) for pk, key in inserted],
        now=now,
    )
    return len(rows)


def _insert_deliveries(*, organization, channel, rows: list[Delivery], now) -> list[int]:
    """Insert the deliveries that do not exist yet; return the ids of those inserted now."""
    if not rows:
        return []
    claim = uuid.uuid4()  # marks this call's rows, to find exactly them again
    for row in rows:
        row.organization = organization
        row.channel = channel
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now
        row.claim = claim
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(Delivery.objects.filter(claim=claim).values_list("pk", flat=True))
    Delivery.objects.filter(claim=claim).update(claim=None)
    return ids


# --- Domain events other apps report ----------------------------------------------------------


def notify_feedback_filed(*, feedback) -> int:
    """Call after market feedback is filed, in the same transaction. Critical feedback notifies
    its assignee and the organization's admins and owners at once (and the webhook); other
    urgencies notify nobody yet (the assignee sees them in their queue; escalation follows the
    deadline)."""
    if feedback.urgency != "critical":
        return 0
    organization = feedback.organization
    recipients = list(organization_admins(organization=organization))
    if feedback.assignee_id:
        recipients.append(Membership.objects.select_related("user").get(pk=feedback.assignee_id))
    author = Membership.objects.select_related("user").get(pk=feedback.author_id)
    recipients = [member for member in recipients if member.pk != author.pk]
    texts = messages.feedback_critical(feedback=feedback, author_name=author.display_name)
    return notify_many(
        organization=organization,
        recipients=recipients,
        kind=NotificationKind.FEEDBACK_CRITICAL,
        title=texts.title,
        body=texts.body,
        link=texts.link,
        dedupe_key_for=lambda member: f"feedback-critical:{feedback.pk}:{member.pk}",
        webhook=texts.webhook,
        webhook_key=f"feedback-critical:{feedback.pk}",
    )


def notify_feedback_escalated(*, feedback, previous_assignee: Membership | None) -> int:
    """Call after feedback moved one level up (its assignee and escalation_level already
    changed), in the same transaction: the new assignee and the previous one are told."""
    organization = feedback.organization
    ids = {pk for pk in (feedback.assignee_id, getattr(previous_assignee, "pk", None)) if pk}
    members = {m.pk: m for m in Membership.objects.select_related("user").filter(pk__in=ids)}
    author = Membership.objects.select_related("user").get(pk=feedback.author_id)
    assignee = members.get(feedback.assignee_id)
    texts = messages.feedback_escalated(
        feedback=feedback,
        author_name=author.display_name,
        assignee_name=assignee.display_name if assignee else "-",
        new_assignee_id=feedback.assignee_id,
    )
    level = feedback.escalation_level
    return notify_many(
        organization=organization,
        recipients=members.values(),
        kind=NotificationKind.FEEDBACK_ESCALATED,
        title=texts.title,
        body=texts.body,
        link=texts.link,
        dedupe_key_for=lambda member: f"feedback-escalated:{feedback.pk}:{level}:{member.pk}",
        webhook=texts.webhook,
        webhook_key=f"feedback-escalated:{feedback.pk}:{level}",
    )


# --- The inbox ------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> Notification:
    """Idempotent: a notification read before keeps its first read time."""
    if notification.read_at is None:
        now = timezone.now()
        updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        if updated:
            notification.read_at = now
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, organization: Organization, recipient: Membership) -> int:
    return Notification.objects.filter(
        organization=organization, recipient=recipient, read_at__isnull=True
    ).update(read_at=timezone.now())


# --- Enqueueing: never fails the caller ---------------------------------------------------------


def deliveries_enqueue(*, email_ids: Sequence[int] = (), webhook_ids: Sequence[int] = ()) -> int:
    """Enqueue dispatch tasks: e-mails in batches, each webhook message on its own (one slow
    endpoint must not hold up others). A broker error is logged, never raised: the rows are in
    the database and the sweeper dispatches them later. Returns the number of tasks sent."""
    from .tasks import delivery_dispatch_task

    batches = [list(chunk) for chunk in _chunks(list(email_ids), _dispatch_batch_size())]
    batches += [[pk] for pk in webhook_ids]
    sent = 0
    for batch in batches:
        if not task_send(delivery_dispatch_task, (batch,)):
            logger.warning(
                "broker unavailable: %s deliveries left for the outbox sweeper",
                sum(map(len, batches[sent:])),
            )
            break
        sent += 1
    return sent


def _dispatch_batch_size() -> int:
    return conf.get("NOTIFICATIONS_DISPATCH_BATCH_SIZE")


# Publishing must not hang a request while the broker is down: a couple of quick retries, then
# the error (which the callers catch).
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}


def task_send(task, args: tuple, **options) -> bool:
    """Publish a task; False (and a log line) when the broker cannot take it."""
    try:
        task.apply_async(args, retry=True, retry_policy=PUBLISH_RETRY_POLICY, **options)
    except Exception:  # noqa: BLE001 - kombu/redis/socket errors alike: the outbox keeps it
        logger.exception("could not enqueue %s%r", getattr(task, "name", task), args)
        return False
    return True


# --- Sending --------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempts - 1), capped, then a random point in
    its upper half (so that deliveries failing together do not retry together)."""
    base = float(conf.get("NOTIFICATIONS_RETRY_BACKOFF"))
    cap = float(conf.get("NOTIFICATIONS_RETRY_BACKOFF_MAX"))
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not cryptography


@dataclass
class SendResult:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: dict[int, float] = field(default_factory=dict)  # delivery id -> seconds from now
    released: list[int] = field(default_factory=list)  # claimed but not tried (time limit)


def deliveries_send(*, delivery_ids: Sequence[int]) -> SendResult:
    """Send the given deliveries that are still pending and due. Each is claimed first with one
    conditional UPDATE (pending -> sending, WHERE status = 'pending'), so two workers, the
    sweeper and a retried task can never send one twice; each result is recorded as soon as it
    is known. A failure is retried later with backoff until NOTIFICATIONS_MAX_ATTEMPTS."""
    result = SendResult()
    now = timezone.now()
    claim = uuid.uuid4()
    lease = timezone.timedelta(seconds=conf.get("NOTIFICATIONS_CLAIM_LEASE"))
    claimed = Delivery.objects.filter(
        pk__in=list(delivery_ids), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(
        status=DeliveryStatus.SENDING,
        claim=claim,
        attempts=F("attempts") + 1,
        next_attempt_at=now + lease,
    )
    if not claimed:
        return result
    deliveries = list(
        Delivery.objects.filter(claim=claim, status=DeliveryStatus.SENDING)
        .select_related("organization", "notification__recipient__user")
        .order_by("pk")
    )
    pending = {delivery.pk for delivery in deliveries}
    connection = None
    try:
        for delivery in deliveries:
            try:
                if delivery.channel == Channel.EMAIL:
                    if connection is None:
                        connection = get_connection(fail_silently=False)
                    _send_email(delivery, connection)
                else:
                    _send_webhook(delivery)
            except SoftTimeLimitExceeded:
                # Out of time. This one may or may not have gone out: it is retried later
                # (better twice than never); the untried rest is released below.
                _record_failure(delivery, claim, DeliveryError("interrupted: time limit"), result)
                pending.discard(delivery.pk)
                break
            except DeliveryError as exc:
                _record_failure(delivery, claim, exc, result)
            except Exception as exc:  # noqa: BLE001 - SMTP and backend errors: retry later
                _record_failure(delivery, claim, DeliveryError(repr(exc)), result)
            else:
                Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
                    status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="", claim=None
                )
                result.sent.append(delivery.pk)
            pending.discard(delivery.pk)
    finally:
        # What was not tried (the soft time limit stopped the loop, or an error escaped it) goes
        # back to pending at once, its attempt not counted, instead of waiting for the lease.
        if pending:
            Delivery.objects.filter(pk__in=pending, claim=claim).update(
                status=DeliveryStatus.PENDING,
                attempts=F("attempts") - 1,
                next_attempt_at=timezone.now(),
                claim=None,
            )
            result.released = sorted(pending)
        if connection is not None:
            # The messages are sent: closing the SMTP session is best effort.
            with contextlib.suppress(Exception):
                connection.close()
    return result


def _record_failure(delivery: Delivery, claim, exc: DeliveryError, result: SendResult) -> None:
    error = str(exc)[:2000]
    if exc.permanent or delivery.attempts >= conf.get("NOTIFICATIONS_MAX_ATTEMPTS"):
        Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
            status=DeliveryStatus.FAILED, last_error=error, claim=None
        )
        result.failed.append(delivery.pk)
        # ERROR: a message that will never arrive is something an operator must see.
        logger.error(
            "delivery %s (%s, organization %s, key %s) failed for good after %s attempts: %s",
            delivery.pk,
            delivery.channel,
            delivery.organization.slug,
            delivery.dedupe_key,
            delivery.attempts,
            error,
            extra={
                "organization": delivery.organization.slug,
                "delivery_id": delivery.pk,
                "notification_id": delivery.notification_id,
                "channel": delivery.channel,
                "dedupe_key": delivery.dedupe_key,
                "attempts": delivery.attempts,
            },
        )
        return
    delay = retry_delay(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
        status=DeliveryStatus.PENDING,
        last_error=error,
        next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
        claim=None,
    )
    result.retry[delivery.pk] = delay
    logger.info(
        "delivery %s failed (attempt %s), retry in %.0fs: %s",
        delivery.pk,
        delivery.attempts,
        delay,
        error,
    )


def _absolute(link: str) -> str:
    site = conf.get("NOTIFICATIONS_SITE_URL").rstrip("/")
    return f"{site}{link}" if link.startswith("/") and site else link


def _send_email(delivery: Delivery, connection) -> None:
    notification = delivery.notification
    if notification is None and delivery.content:
        # A message to an address with no membership (an invitee): notifications/direct.py.
        from .direct import email_direct_send

        email_direct_send(delivery, connection)
        return
    if notification is None:
        raise DeliveryError("the notification is gone", permanent=True)
    user = notification.recipient.user
    if not user.email or not user.is_active:
        raise DeliveryError("the recipient has no e-mail address", permanent=True)
    text = notification.body
    if notification.link:
        text = f"{text}\n\n{_absolute(notification.link)}"
    message = EmailMessage(
        subject=notification.title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        connection=connection,
        headers={"X-Notification-Key": notification.dedupe_key},
    )
    message.send()


def _send_webhook(delivery: Delivery) -> None:
    organization = delivery.organization
    if not organization.webhook_url:
        raise DeliveryError("the organization has no webhook URL any more", permanent=True)
    webhook_post(
        url=organization.webhook_url,
        secret=organization.webhook_secret,
        content=delivery.content,
        event_id=delivery.dedupe_key,
        timeout=float(conf.get("NOTIFICATIONS_WEBHOOK_TIMEOUT")),
        allow_private=bool(conf.get("NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE")),
    )


SWEEP_LIMIT = 10_000


def deliveries_sweep(*, now=None) -> int:
    """The outbox sweeper: re-dispatch deliveries still pending NOTIFICATIONS_SWEEP_GRACE after
    they were due (their task was lost: broker down at commit time, a lost message, a retry
    that could not be enqueued), and release claims whose worker died while sending. Returns
    the number of deliveries enqueued."""
    now = now or timezone.now()
    grace = timezone.timedelta(seconds=conf.get("NOTIFICATIONS_SWEEP_GRACE"))
    lost = Delivery.objects.filter(status=DeliveryStatus.SENDING, next_attempt_at__lt=now)
    given_up = list(
        lost.filter(attempts__gte=conf.get("NOTIFICATIONS_MAX_ATTEMPTS")).values_list(
            "pk", "organization__slug"
        )[:SWEEP_LIMIT]
    )
    if given_up:
        Delivery.objects.filter(
            pk__in=[pk for pk, _ in given_up], status=DeliveryStatus.SENDING
        ).update(
            status=DeliveryStatus.FAILED,
            last_error="the worker was lost while sending",
            claim=None,
        )
        by_organization: dict[str, list[int]] = defaultdict(list)
        for pk, slug in given_up:
            by_organization[slug].append(pk)
        for slug, ids in by_organization.items():
            logger.error(
                "deliveries %s (organization %s) failed for good: the worker was lost while "
                "sending",
                ids,
                slug,
                extra={"organization": slug, "delivery_ids": ids},
            )
    lost.update(status=DeliveryStatus.PENDING, next_attempt_at=now - grace, claim=None)
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
        .order_by("next_attempt_at")
        .values_list("pk", "channel")[:SWEEP_LIMIT]
    )
    if not due:
        return 0
    # Due "now" again: the next sweep leaves them to their task for another grace period.
    Delivery.objects.filter(pk__in=[pk for pk, _ in due], status=DeliveryStatus.PENDING).update(
        next_attempt_at=now
    )
    deliveries_enqueue(
        email_ids=[pk for pk, channel in due if channel == Channel.EMAIL],
        webhook_ids=[pk for pk, channel in due if channel == Channel.WEBHOOK],
    )
    return len(due)


def delivery_retry(*, delivery: Delivery) -> None:
    """Admin action: send a failed delivery again (from a fresh attempt count)."""
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    ids = [delivery.pk]
    channel = delivery.channel
    transaction.on_commit(
        lambda: deliveries_enqueue(
            email_ids=ids if channel == Channel.EMAIL else (),
            webhook_ids=ids if channel == Channel.WEBHOOK else (),
        ),
        robust=True,
    )
