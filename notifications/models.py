"""Notifications: the in-app inbox, and the outbox of everything that leaves the system.

The database is the outbox. A Notification (one per recipient) and its pending Deliveries are
inserted in the same transaction as the change that caused them; a task is enqueued on commit,
and a periodic sweeper re-dispatches deliveries still pending after a grace period, so a broker
outage delays messages but loses none and never fails the request that caused them.

Nothing twice: every notification has a dedupe key (unique per organization, and it names the
recipient), every delivery one per (channel, key), and a delivery is claimed with a conditional
UPDATE ... WHERE status = 'pending' before it is sent. Scheduled jobs record one JobRun per
(organization, job, local date), which is what makes two beat processes or a retried task
harmless.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agents.models import Membership, TenantModel


class NotificationKind(models.TextChoices):
    DAILY_REPORT_REMINDER = "daily_report_reminder", _("Daily report reminder")
    DAILY_REPORT_MISSING = "daily_report_missing", _("Members missing a daily report")
    FEEDBACK_CRITICAL = "feedback_critical", _("Critical market feedback")
    FEEDBACK_ESCALATED = "feedback_escalated", _("Market feedback escalated")
    TASK_DUE_SOON = "task_due_soon", _("Task due soon")
    TASK_OVERDUE = "task_overdue", _("Task overdue")
    APPRAISAL_REVIEW_DUE = "appraisal_review_due", _("Appraisal reviews pending")
    OTHER = "other", _("Other")


class Notification(TenantModel):
    """One message to one member, shown in their inbox."""

    recipient = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    dedupe_key = models.CharField(
        _("dedupe key"),
        max_length=200,
        help_text=_("Unique in the organization; names the event and the recipient."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"], name="notification_unique_dedupe_key"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(TenantModel):
    """One message to send outside: an e-mail for one notification, or one webhook message for
    one event of the organization (a daily reminder round is one chat-robot message listing who
    is missing, not one message per member: chat robots rate-limit, and a group chat should not
    be flooded).

    A delivery is claimed before it is sent: status pending -> sending with a lease in
    next_attempt_at. A worker that dies while sending leaves the row "sending" until the lease
    ends; the sweeper then puts it back to pending (the attempt counts)."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("notification"),
        help_text=_("Set for e-mail; webhook messages belong to an event, not to one member."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200)
    content = models.TextField(
        _("content"), blank=True, help_text=_("The text of a webhook message.")
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        help_text=_("When pending: not before. When sending: the claim's lease ends."),
    )
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # For e-mail the key is the notification's, so this is also one delivery per
            # (notification, channel); for webhooks it is the event's.
            models.UniqueConstraint(
                fields=["organization", "channel", "dedupe_key"],
                name="delivery_unique_dedupe_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_outbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.dedupe_key}"


class JobRunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobRun(TenantModel):
    """A scheduled job's run for one organization and one local date: inserted once (the unique
    constraint) by whichever beat tick gets there first, and re-enqueued by the sweeper until it
    is done."""

    job = models.CharField(_("job"), max_length=60)
    local_date = models.DateField(_("local date"))
    status = models.CharField(
        _("status"), max_length=10, choices=JobRunStatus.choices, default=JobRunStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    enqueued_at = models.DateTimeField(_("last enqueued at"))
    started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-local_date", "job"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "job", "local_date"], name="jobrun_unique_day"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "enqueued_at"],
                condition=Q(status="pending"),
                name="jobrun_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.local_date}"
