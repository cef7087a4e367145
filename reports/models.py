"""What happened: daily reports, the activity log, the sales fact table and market feedback.

Every table carries `organization` and every unique constraint includes it (see agents/models.py).
References to members, products and customers are PROTECT: deleting one of them never silently
removes the facts recorded against it. A daily report's sales lines are SalesEntry rows
(source "report") that belong to the report: replacing or deleting the report replaces or deletes
its lines, so a sale is never counted twice.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agents.models import Customer, Membership, Product, Region, TenantModel

ZERO = Decimal("0.00")
MONEY = {"max_digits": 14, "decimal_places": 2}
MINUTES_PER_DAY = 24 * 60


class SalesSource(models.TextChoices):
    REPORT = "report", _("Daily report")
    API = "api", _("API")
    IMPORT = "import", _("Spreadsheet import")


class ActivityKind(models.TextChoices):
    FOLLOWUP = "followup", _("Follow-up")
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MESSAGE = "message", _("Message")
    LIVESTREAM = "livestream", _("Live stream")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class FeedbackCategory(models.TextChoices):
    TREND = "trend", _("Market trend")
    CONSUMER_NEED = "consumer_need", _("Consumer need")
    COMPETITOR = "competitor", _("Competitor")
    DEALER_REQUEST = "dealer_request", _("Dealer request")
    PRODUCT_ISSUE = "product_issue", _("Product issue")
    PROBLEM = "problem", _("Problem")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class FeedbackStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


def _member_fk(verbose_name, related_name, *, null=False):
    return models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name=related_name,
        verbose_name=verbose_name,
    )


class DailyReport(TenantModel):
    """One member's report of one day (the organization's local date). Whether it may still be
    edited is not stored: it follows from the date, the organization's cut-off and an unlock
    (reports/services.py, `daily_report_is_editable`), so no job has to flip a flag at midnight."""

    member = _member_fk(_("member"), "daily_reports")
    date = models.DateField(_("date"))
    followups = models.PositiveIntegerField(_("follow-ups"), default=0)
    communication_minutes = models.PositiveIntegerField(
        _("communication minutes"), default=0, validators=[MaxValueValidator(MINUTES_PER_DAY)]
    )
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    lost_customers = models.PositiveIntegerField(_("lost customers"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    summary = models.TextField(_("summary"), blank=True)
    plan_tomorrow = models.TextField(_("plan for tomorrow"), blank=True)
    problems = models.TextField(_("problems"), blank=True)
    submitted_at = models.DateTimeField(_("first submitted at"))
    updated_at = models.DateTimeField(_("updated at"))
    is_late = models.BooleanField(
        _("late"), default=False, help_text=_("First submitted after the day's cut-off.")
    )
    unlocked_by = _member_fk(_("unlocked by"), "+", null=True)
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        ordering = ["-date", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member", "date"], name="daily_report_unique_member_day"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "date"], name="daily_report_org_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.date}"


class SalesEntry(TenantModel):
    """The one sales fact table. `region` is the member's region when the sale was recorded, so
    that figures by region stay right after members move. `profit` is the amount less the
    quantity at the product's cost at that time."""

    date = models.DateField(_("date"))
    member = _member_fk(_("member"), "sales")
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="sales", verbose_name=_("product")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
        verbose_name=_("customer"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
        verbose_name=_("region at the time of sale"),
    )
    # Zero is allowed: a line may record only a payment collected for an earlier sale.
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    amount = models.DecimalField(
        _("amount"), **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    collected = models.DecimalField(
        _("collected amount"), **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    profit = models.DecimalField(_("profit"), **MONEY, default=ZERO)
    source = models.CharField(_("source"), max_length=10, choices=SalesSource.choices)
    daily_report = models.ForeignKey(
        DailyReport,
        # The lines are part of the report: they go with it (never a fact without its report).
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("daily report"),
    )
    recorded_by = _member_fk(_("recorded by"), "+", null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales entry")
        verbose_name_plural = _("sales entries")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(collected__gte=0), name="sales_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(source="report", daily_report__isnull=False)
                | (~Q(source="report") & Q(daily_report__isnull=True)),
                name="sales_report_lines_have_a_report",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "date"], name="sales_org_date_idx"),
            models.Index(fields=["organization", "member", "date"], name="sales_org_member_idx"),
            models.Index(fields=["organization", "region", "date"], name="sales_org_region_idx"),
            models.Index(fields=["organization", "product", "date"], name="sales_org_product_idx"),
            models.Index(
                fields=["organization", "customer", "date"], name="sales_org_customer_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.member_id} {self.product_id} {self.amount}"


class Activity(TenantModel):
    """One entry of a member's activity log: the detail behind the counts of a daily report."""

    member = _member_fk(_("member"), "activities")
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    duration_minutes = models.PositiveIntegerField(
        _("duration in minutes"), default=0, validators=[MaxValueValidator(MINUTES_PER_DAY)]
    )
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "member", "occurred_at"], name="activity_org_member_idx"
            ),
            models.Index(fields=["organization", "occurred_at"], name="activity_org_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class MarketFeedback(TenantModel):
    """What the market says, reported up the hierarchy: assigned to the author's nearest working
    upline, answered by a deadline that follows the urgency, escalated one level up at a time."""

    author = _member_fk(_("author"), "feedback")
    category = models.CharField(_("category"), max_length=20, choices=FeedbackCategory.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("region"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("product"),
    )
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=FeedbackStatus.choices, default=FeedbackStatus.OPEN
    )
    assignee = _member_fk(_("assignee"), "assigned_feedback", null=True)
    respond_by = models.DateTimeField(_("respond by"))
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = _member_fk(_("acknowledged by"), "+", null=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = _member_fk(_("resolved by"), "+", null=True)
    resolution = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("market feedback")
        verbose_name_plural = _("market feedback")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="feedback_org_created_idx"),
            models.Index(
                fields=["organization", "status", "respond_by"], name="feedback_org_due_idx"
            ),
            models.Index(fields=["organization", "assignee"], name="feedback_org_assignee_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class FeedbackComment(TenantModel):
    feedback = models.ForeignKey(
        MarketFeedback,
        on_delete=models.CASCADE,
        related_name="comments",
        verbose_name=_("feedback"),
    )
    author = _member_fk(_("author"), "feedback_comments")
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("feedback comment")
        verbose_name_plural = _("feedback comments")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["organization", "feedback"], name="feedback_comment_idx"),
        ]

    def __str__(self) -> str:
        return self.body[:50]
