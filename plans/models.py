"""What we aim for: sales plans, their targets (a breakdown tree), qualitative goals, budgets with
their expenses, and plan tasks.

Every table carries `organization`; references to people, regions, products and customers are
PROTECT (facts and history must never lose their subject); a plan's own parts go with the plan.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agents.models import Customer, Membership, Product, Region, TenantModel

ZERO = Decimal("0.00")


def validate_metric(value: str) -> None:
    from reports.metrics import METRICS  # the vocabulary; imported late to keep app loading flat

    if value not in METRICS:
        raise ValidationError(_("Unknown metric: %(value)s"), params={"value": value})


class PeriodKind(models.TextChoices):
    YEAR = "year", _("Year")
    QUARTER = "quarter", _("Quarter")
    MONTH = "month", _("Month")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", pgettext_lazy("plan status", "Active")
    CLOSED = "closed", _("Closed")


class Tier(models.TextChoices):
    BASE = "base", _("Base")
    STRETCH = "stretch", _("Stretch")
    CHALLENGE = "challenge", _("Challenge")


class Dimension(models.TextChoices):
    MEMBER = "member", _("Member")
    REGION = "region", _("Region")
    PRODUCT = "product", _("Product")
    CUSTOMER = "customer", _("Customer")
    PERIOD = "period", _("Period")


class BreakdownMethod(models.TextChoices):
    MANUAL = "manual", _("Manual")
    EVEN = "even", _("Even")
    WEIGHTS = "weights", _("By weights")
    HISTORY = "history", _("By last period's share")


class PeriodUnit(models.TextChoices):
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")
    DAY = "day", _("Day")


class GoalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACHIEVED = "achieved", _("Achieved")
    PARTLY_ACHIEVED = "partly_achieved", _("Partly achieved")
    MISSED = "missed", _("Missed")


class BudgetCategory(models.TextChoices):
    PROMOTION = "promotion", _("Promotion")
    ADVERTISING = "advertising", _("Advertising")
    SAMPLES = "samples", _("Samples")
    INCENTIVES = "incentives", _("Incentives")
    TRAVEL = "travel", _("Travel")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    TODO = "todo", _("To do")
    DOING = "doing", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Pace(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BEHIND = "behind", _("Behind")


class SalesPlan(TenantModel):
    """A plan for a year, quarter or month. Draft while being prepared, active while it runs,
    closed when it is over: a closed plan is read-only and answers its progress from `snapshot`,
    the figures frozen at closing."""

    name = models.CharField(_("name"), max_length=200)
    period_kind = models.CharField(_("period kind"), max_length=10, choices=PeriodKind.choices)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    owner = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_plans",
        verbose_name=_("owner"),
    )
    description = models.TextField(_("description"), blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    snapshot = models.JSONField(
        _("snapshot at closing"),
        default=dict,
        blank=True,
        help_text=_("The progress of every target, frozen when the plan was closed."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["-start", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="plan_unique_name"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="plan_end_after_start"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="plan_org_status_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status == PlanStatus.CLOSED


class Target(TenantModel):
    """A number to reach for one metric, in one scope, over a period inside the plan.

    The scope is the combination of member (with or without their downline), region (with its
    sub-regions), product and customer; empty parts mean "all". Targets form a breakdown tree:
    a child narrows its parent's scope or period, inherits its metric and tier, and the children
    of one parent (for additive metrics) never sum above it."""

    plan = models.ForeignKey(
        SalesPlan, on_delete=models.CASCADE, related_name="targets", verbose_name=_("plan")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent target"),
    )
    metric = models.CharField(_("metric"), max_length=40, validators=[validate_metric])
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.BASE)
    member = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("member"),
    )
    include_downline = models.BooleanField(
        _("include downline"),
        default=True,
        help_text=_("Count the member's whole downline, not only their own results."),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("region"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("product"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("customer"),
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    value = models.DecimalField(
        _("value"), max_digits=16, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    breakdown_dimension = models.CharField(
        _("broken down from its parent by"), max_length=10, choices=Dimension.choices, blank=True
    )
    breakdown_method = models.CharField(
        _("breakdown method"), max_length=10, choices=BreakdownMethod.choices, blank=True
    )
    created_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["plan", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="target_end_after_start"),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_value_not_negative"),
        ]
        indexes = [
            models.Index(fields=["organization", "plan", "metric"], name="target_org_plan_idx"),
            models.Index(fields=["organization", "member"], name="target_org_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.value} ({self.start}..{self.end})"


class QualitativeGoal(TenantModel):
    """A goal that is not a number: a description, who owns it, when it is due and how it went."""

    plan = models.ForeignKey(
        SalesPlan, on_delete=models.CASCADE, related_name="goals", verbose_name=_("plan")
    )
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_goals",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    evaluation = models.TextField(_("evaluation"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("qualitative goal")
        verbose_name_plural = _("qualitative goals")
        ordering = ["plan", "due_on", "id"]
        indexes = [models.Index(fields=["organization", "owner"], name="goal_org_owner_idx")]

    def __str__(self) -> str:
        return self.description[:60]


class BudgetLine(TenantModel):
    """Money set aside in a plan for one category, allocated to a member or a region.

    What has been spent is not stored: it is the sum of the line's expenses, computed by one
    aggregate (annotated on lists). A stored counter would be a second copy of the truth that
    every expense edit and delete must keep right; the aggregate cannot drift, and adding an
    expense locks the line row so that two concurrent expenses cannot both pass the limit."""

    plan = models.ForeignKey(
        SalesPlan, on_delete=models.CASCADE, related_name="budget_lines", verbose_name=_("plan")
    )
    category = models.CharField(_("category"), max_length=20, choices=BudgetCategory.choices)
    member = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_lines",
        verbose_name=_("member"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_lines",
        verbose_name=_("region"),
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["plan", "category", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["organization", "plan"], name="budget_org_plan_idx"),
            models.Index(fields=["organization", "member"], name="budget_org_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"


class Expense(TenantModel):
    budget = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("budget line")
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    over_budget = models.BooleanField(
        _("over budget"),
        default=False,
        help_text=_("The line's expenses exceeded its amount with this expense."),
    )
    recorded_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
        ]
        indexes = [models.Index(fields=["organization", "budget"], name="expense_org_budget_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"


class PlanTask(TenantModel):
    """Something to do for the plan: who, where, by when, and how far it is."""

    plan = models.ForeignKey(
        SalesPlan, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("plan")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="plan_tasks",
        verbose_name=_("owner"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_tasks",
        verbose_name=_("region"),
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.TODO
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("plan task")
        verbose_name_plural = _("plan tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["organization", "owner", "status"], name="task_org_owner_idx"),
            models.Index(fields=["organization", "plan"], name="task_org_plan_idx"),
        ]

    def __str__(self) -> str:
        return self.title
