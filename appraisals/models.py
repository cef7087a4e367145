"""How well: appraisal templates (criteria, weights, grade bands, rules), cycles, and each member's
appraisal with its per-criterion scores, and the audit of the outcomes applied.

Every number an appraisal shows can be explained from what is stored with it: each criterion score
keeps the raw metric value and the target it was measured against; the appraisal keeps how its
recommended outcome came about (`recommendation_basis`). A finalized cycle is read-only.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agents.models import AgentLevel, Membership, MemberStatus, Region, Role, TenantModel

ZERO = Decimal("0.00")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    HALF_YEAR = "half_year", _("Half-year")
    YEAR = "year", _("Year")


class CriterionKind(models.TextChoices):
    QUANTITATIVE = "quantitative", _("Quantitative")
    QUALITATIVE = "qualitative", _("Qualitative")


class ScoringMethod(models.TextChoices):
    RATIO_TO_TARGET = "ratio_to_target", _("Ratio to target")
    BANDS = "bands", _("Bands")
    LINEAR = "linear", _("Linear between floor and ceiling")
    LOWER_IS_BETTER = "lower_is_better", _("Lower is better")
    SCALE = "scale", _("Rating scale")


class Outcome(models.TextChoices):
    PROMOTE = "promote", _("Promote")
    REWARD = "reward", _("Reward")
    RETAIN = "retain", _("Retain")
    WARN = "warn", _("Warn")
    DEMOTE = "demote", _("Demote")
    ELIMINATE = "eliminate", _("Eliminate")


class CycleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", pgettext_lazy("appraisal cycle status", "Open")
    FINALIZED = "finalized", _("Finalized")


def default_eligibility() -> dict:
    """Leaders and agents who still work for the organization, at any level."""
    return {
        "roles": sorted([Role.LEADER.value, Role.AGENT.value]),
        "statuses": sorted([MemberStatus.PROBATION.value, MemberStatus.ACTIVE.value]),
        "levels": [],
    }


class AppraisalTemplate(TenantModel):
    """The organization's rules for one kind of appraisal: who is appraised (eligibility), on
    what (criteria, weights summing to 100), how totals become grades and recommended outcomes
    (grade bands), and what happens across cycles (rules)."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    period_kind = models.CharField(
        _("period kind"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    eligibility = models.JSONField(
        _("eligibility"),
        default=default_eligibility,
        help_text=_(
            "Who is appraised: roles, member statuses and level ids (an empty list of levels "
            "means every level)."
        ),
    )
    rules = models.JSONField(
        _("rules across cycles"),
        default=list,
        blank=True,
        help_text=_(
            'E.g. [{"if": {"grade": "D", "consecutive": 2}, "then": "eliminate"}]; the first '
            "matching rule gives the recommended outcome, otherwise the grade band does."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("appraisal template")
        verbose_name_plural = _("appraisal templates")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="appraisal_template_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(TenantModel):
    template = models.ForeignKey(
        AppraisalTemplate,
        on_delete=models.CASCADE,
        related_name="criteria",
        verbose_name=_("template"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=CriterionKind.choices)
    metric = models.CharField(
        _("metric"), max_length=40, blank=True, help_text=_("For quantitative criteria.")
    )
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    method = models.CharField(_("scoring method"), max_length=20, choices=ScoringMethod.choices)
    params = models.JSONField(_("method parameters"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["template", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template", "name"], name="criterion_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GradeBand(TenantModel):
    """A grade for totals from `min_score` up to the next band's minimum."""

    template = models.ForeignKey(
        AppraisalTemplate,
        on_delete=models.CASCADE,
        related_name="grades",
        verbose_name=_("template"),
    )
    grade = models.CharField(_("grade"), max_length=20)
    min_score = models.DecimalField(_("minimum total score"), max_digits=6, decimal_places=2)
    outcome = models.CharField(_("recommended outcome"), max_length=10, choices=Outcome.choices)

    class Meta:
        verbose_name = _("grade band")
        verbose_name_plural = _("grade bands")
        ordering = ["template", "-min_score"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template", "grade"], name="grade_band_unique_grade"
            ),
            models.UniqueConstraint(
                fields=["organization", "template", "min_score"], name="grade_band_unique_min"
            ),
        ]

    def __str__(self) -> str:
        return self.grade


class AppraisalCycle(TenantModel):
    template = models.ForeignKey(
        AppraisalTemplate,
        on_delete=models.PROTECT,
        related_name="cycles",
        verbose_name=_("template"),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=10, choices=CycleStatus.choices, default=CycleStatus.DRAFT
    )
    review_deadline = models.DateField(_("review deadline"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True, editable=False)
    scored_at = models.DateTimeField(_("last scored at"), null=True, blank=True, editable=False)
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True, editable=False)
    finalized_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("finalized by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appraisal cycle")
        verbose_name_plural = _("appraisal cycles")
        ordering = ["-start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template", "start"], name="appraisal_cycle_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="appraisal_cycle_end_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="appraisal_cycle_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.template} {self.start}–{self.end}"

    @property
    def is_finalized(self) -> bool:
        return self.status == CycleStatus.FINALIZED


class Appraisal(TenantModel):
    """One member's appraisal in one cycle."""

    cycle = models.ForeignKey(
        AppraisalCycle,
        on_delete=models.CASCADE,
        related_name="appraisals",
        verbose_name=_("cycle"),
    )
    member = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="appraisals",
        verbose_name=_("member"),
    )
    reviewer = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appraisals_to_review",
        verbose_name=_("reviewer"),
    )
    # Snapshots taken when the cycle opens, so roll-ups and history keep their meaning when the
    # member later moves or is promoted.
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    level = models.ForeignKey(
        AgentLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level"),
    )
    quantitative_score = models.DecimalField(
        _("quantitative score"), max_digits=7, decimal_places=2, default=ZERO
    )
    qualitative_score = models.DecimalField(
        _("qualitative score"), max_digits=7, decimal_places=2, default=ZERO
    )
    total_score = models.DecimalField(
        _("total score"), max_digits=7, decimal_places=2, default=ZERO
    )
    attainment = models.DecimalField(
        _("attainment (%)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Actual over target across the ratio-to-target criteria, weighted."),
    )
    rank = models.PositiveIntegerField(pgettext_lazy("appraisal", "rank"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=20, null=True, blank=True)
    recommended_outcome = models.CharField(
        _("recommended outcome"), max_length=10, choices=Outcome.choices, null=True, blank=True
    )
    recommendation_basis = models.JSONField(_("recommendation basis"), default=dict, blank=True)
    final_outcome = models.CharField(
        _("final outcome"), max_length=10, choices=Outcome.choices, null=True, blank=True
    )
    outcome_overridden = models.BooleanField(_("outcome chosen by the reviewer"), default=False)
    reviewer_comment = models.TextField(_("reviewer comment"), blank=True)
    improvement_plan = models.TextField(_("improvement plan"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement_comment = models.TextField(_("acknowledgement comment"), blank=True)
    outcome_applied_at = models.DateTimeField(_("outcome applied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appraisal")
        verbose_name_plural = _("appraisals")
        ordering = ["cycle", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "cycle", "member"], name="appraisal_unique_member"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "member"], name="appraisal_org_member_idx"),
            models.Index(fields=["organization", "reviewer"], name="appraisal_org_reviewer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.member_id}"


class CriterionScore(TenantModel):
    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.CASCADE, related_name="scores", verbose_name=_("appraisal")
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="+", verbose_name=_("criterion")
    )
    raw_value = models.DecimalField(
        _("raw value"), max_digits=22, decimal_places=4, null=True, blank=True
    )
    target_value = models.DecimalField(
        _("target value"), max_digits=22, decimal_places=4, null=True, blank=True
    )
    target_missing = models.BooleanField(_("no target for the period"), default=False)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, null=True, blank=True)
    weighted_score = models.DecimalField(
        _("weighted score"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("criterion score")
        verbose_name_plural = _("criterion scores")
        ordering = ["appraisal", "criterion__order", "criterion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appraisal", "criterion"],
                name="criterion_score_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class OutcomeAudit(TenantModel):
    """What applying an appraisal's outcome changed: who, when, before and after. One per
    appraisal (the unique constraint makes a second application impossible)."""

    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.PROTECT, related_name="+", verbose_name=_("appraisal")
    )
    cycle = models.ForeignKey(
        AppraisalCycle, on_delete=models.PROTECT, related_name="+", verbose_name=_("cycle")
    )
    member = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    actor = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    applied_at = models.DateTimeField(_("applied at"))
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outcome audit record")
        verbose_name_plural = _("outcome audit records")
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appraisal"], name="outcome_audit_unique_appraisal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.outcome}"
