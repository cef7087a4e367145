from decimal import ROUND_HALF_EVEN, Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.api.fields import OrgRelatedField
from agents.api.serializers import scoped_members
from agents.models import Customer, Membership, Product, Region
from agents.selectors import member_scope_q
from plans.models import (
    BreakdownMethod,
    BudgetCategory,
    BudgetLine,
    Dimension,
    Expense,
    GoalStatus,
    Pace,
    PeriodKind,
    PeriodUnit,
    PlanStatus,
    PlanTask,
    QualitativeGoal,
    SalesPlan,
    Target,
    TaskStatus,
    Tier,
)
from plans.progress import GROUPINGS
from plans.selectors import target_scope_q
from reports.metrics import METRICS, metric_choices

MONEY = {"max_digits": 16, "decimal_places": 2}
FIGURE = {"max_digits": 20, "decimal_places": 2}
RATIO = {"max_digits": 12, "decimal_places": 4}


def named_choice_field(component_name: str, choices):
    """A choice field whose enum is its own schema component. Several apps have fields named
    `status` or `category` with different choices; a named component keeps every one of them
    unambiguous in the schema (no name guessed from a hash)."""

    @extend_schema_field(
        {
            "type": "string",
            "enum": [value for value, _label in choices],
            "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
        },
        component_name=component_name,
    )
    class NamedChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices, **kwargs)

    return NamedChoiceField


PlanStatusField = named_choice_field("PlanStatusEnum", PlanStatus.choices)
PeriodKindField = named_choice_field("PlanPeriodKindEnum", PeriodKind.choices)
TierField = named_choice_field("TargetTierEnum", Tier.choices)
DimensionField = named_choice_field("BreakdownDimensionEnum", Dimension.choices)
MethodField = named_choice_field("BreakdownMethodEnum", BreakdownMethod.choices)
PeriodUnitField = named_choice_field("BreakdownPeriodUnitEnum", PeriodUnit.choices)
PaceField = named_choice_field("PaceEnum", Pace.choices)
GoalStatusField = named_choice_field("GoalStatusEnum", GoalStatus.choices)
BudgetCategoryField = named_choice_field("BudgetCategoryEnum", BudgetCategory.choices)
TaskStatusField = named_choice_field("TaskStatusEnum", TaskStatus.choices)


def scoped_customers(queryset, context):
    """Customers the caller may refer to: those owned in their subtree (managers: all)."""
    return queryset.filter(member_scope_q(membership=context["membership"], prefix="owner__"))


def visible_targets(queryset, context):
    return queryset.filter(target_scope_q(viewer=context["membership"]))


def visible_budgets(queryset, context):
    return queryset.filter(member_scope_q(membership=context["membership"], prefix="member__"))


def member_field(**kwargs):
    return OrgRelatedField(queryset=Membership.objects.all(), scope=scoped_members, **kwargs)


def optional(field_class, queryset, **kwargs):
    return field_class(queryset=queryset, required=False, allow_null=True, **kwargs)


# --- Plans ----------------------------------------------------------------------------------


class SalesPlanSerializer(serializers.ModelSerializer):
    owner = member_field(required=False, allow_null=True)
    period_kind = PeriodKindField()
    status = PlanStatusField(read_only=True)

    class Meta:
        model = SalesPlan
        fields = [
            "id",
            "name",
            "period_kind",
            "start",
            "end",
            "status",
            "owner",
            "description",
            "activated_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["activated_at", "closed_at", "created_at", "updated_at"]
        # Uniqueness of the name is checked by the service, for a 400 naming the field.
        validators = []


# --- Targets --------------------------------------------------------------------------------


class TargetSerializer(serializers.ModelSerializer):
    """A target. On create, a `parent` makes it a piece of the parent's breakdown: whatever the
    body does not say (plan, metric, tier, scope, period) is inherited from the parent."""

    plan = optional(OrgRelatedField, SalesPlan.objects.all())
    parent = optional(OrgRelatedField, Target.objects.all(), scope=visible_targets)
    metric = serializers.ChoiceField(choices=metric_choices(), required=False)
    member = member_field(required=False, allow_null=True)
    region = optional(OrgRelatedField, Region.objects.all())
    product = optional(OrgRelatedField, Product.objects.all())
    customer = optional(OrgRelatedField, Customer.objects.all(), scope=scoped_customers)
    tier = TierField(required=False)
    value = serializers.DecimalField(**MONEY, min_value=0)
    breakdown_dimension = serializers.CharField(
        read_only=True,
        help_text=_(
            "How it was broken down from its parent: member, region, product, customer or "
            "period; empty for a target set on its own."
        ),
    )
    breakdown_method = serializers.CharField(
        read_only=True, help_text=_("manual, even, weights or history; empty without a parent.")
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "plan",
            "parent",
            "metric",
            "tier",
            "member",
            "region",
            "product",
            "customer",
            "include_downline",
            "start",
            "end",
            "value",
            "breakdown_dimension",
            "breakdown_method",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"start": {"required": False}, "end": {"required": False}}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            return attrs
        parent = attrs.get("parent")
        if parent is None:
            missing = {
                name: [_("This field is required.")]
                for name in ("plan", "metric", "start", "end")
                if attrs.get(name) is None
            }
            if missing:
                raise serializers.ValidationError(missing)
        elif attrs.get("plan") is not None and attrs["plan"].pk != parent.plan_id:
            raise serializers.ValidationError(
                {"parent": [_("The parent target belongs to another plan.")]}
            )
        return attrs


class TargetUpdateSerializer(TargetSerializer):
    """Plan and parent are fixed once a target exists."""

    plan = serializers.PrimaryKeyRelatedField(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)


class AllocationSerializer(serializers.Serializer):
    member = member_field(required=False)
    region = OrgRelatedField(queryset=Region.objects.all(), required=False)
    product = OrgRelatedField(queryset=Product.objects.all(), required=False)
    customer = OrgRelatedField(
        queryset=Customer.objects.all(), scope=scoped_customers, required=False
    )
    start = serializers.DateField(
        required=False, help_text=_("For a breakdown by period: the first day of the period.")
    )
    value = serializers.DecimalField(**MONEY, min_value=0, required=False)
    weight = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    include_downline = serializers.BooleanField(
        required=False,
        help_text=_(
            "For a breakdown by member: count the member's downline (default: yes, except for "
            "the parent's own member, whose share is their personal one)."
        ),
    )


class BreakdownSerializer(serializers.Serializer):
    dimension = DimensionField()
    method = MethodField()
    period_unit = PeriodUnitField(required=False)
    allocations = AllocationSerializer(many=True, required=False, max_length=1000)
    total = serializers.DecimalField(
        **MONEY,
        min_value=0,
        required=False,
        help_text=_(
            "For even, weights and history: the amount to split (default: all that is still "
            "unallocated)."
        ),
    )


class BreakdownResultSerializer(serializers.Serializer):
    parent = TargetSerializer()
    children = TargetSerializer(many=True)
    created = serializers.ListField(child=serializers.IntegerField())
    allocated = serializers.DecimalField(**FIGURE, allow_null=True)
    unallocated = serializers.DecimalField(
        **FIGURE,
        allow_null=True,
        help_text=_("Null for averages and ratios, whose children each carry the level."),
    )


class DayProgressSerializer(serializers.Serializer):
    date = serializers.DateField()
    target = serializers.DecimalField(**FIGURE)
    actual = serializers.DecimalField(**FIGURE, allow_null=True)
    cumulative_target = serializers.DecimalField(**FIGURE)
    cumulative_actual = serializers.DecimalField(**FIGURE, allow_null=True)


class ProgressSerializer(serializers.Serializer):
    target = serializers.IntegerField(source="target.pk")
    metric = serializers.CharField(source="metric.key")
    unit = serializers.CharField(source="metric.unit")
    higher_is_better = serializers.BooleanField(source="metric.higher_is_better")
    as_of = serializers.DateField()
    frozen = serializers.BooleanField(
        help_text=_("True for a closed plan: the figures were frozen when it closed.")
    )
    value = serializers.DecimalField(**FIGURE)
    actual = serializers.DecimalField(**FIGURE)
    attainment = serializers.DecimalField(**RATIO, allow_null=True)
    expected_to_date = serializers.DecimalField(**FIGURE)
    pace = PaceField()
    daily = DayProgressSerializer(many=True)


class AsOfSerializer(serializers.Serializer):
    date = serializers.DateField(required=False)


class AttainmentQuerySerializer(serializers.Serializer):
    plan = OrgRelatedField(queryset=SalesPlan.objects.all())
    metric = serializers.ChoiceField(choices=metric_choices())
    group_by = serializers.ChoiceField(choices=[(name, name) for name in GROUPINGS])
    tier = serializers.ChoiceField(choices=Tier.choices, default=Tier.BASE)
    date = serializers.DateField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not METRICS[attrs["metric"]].supports(attrs["group_by"]):
            raise serializers.ValidationError(
                {
                    "group_by": [
                        _("This metric cannot be measured per %(group)s.")
                        % {"group": Dimension(attrs["group_by"]).label}
                    ]
                }
            )
        return attrs


class AttainmentRowSerializer(serializers.Serializer):
    key = serializers.IntegerField()
    label = serializers.CharField()
    target = serializers.DecimalField(**FIGURE)
    actual = serializers.DecimalField(**FIGURE)
    attainment = serializers.DecimalField(**RATIO, allow_null=True)

    @classmethod
    def rows_data(cls, rows) -> list[dict]:
        """The same output as `cls(rows, many=True).data` (DecimalField: quantized half-even to
        its places, as a string) without the per-row machinery of a serializer (attribute
        lookup through get_attribute, a dict per field call): a whole organization's rows are
        one request (issue 7, bench/README.md)."""
        fields = cls().fields
        figure = Decimal(1).scaleb(-fields["target"].decimal_places)
        ratio = Decimal(1).scaleb(-fields["attainment"].decimal_places)
        return [
            {
                "key": row.key,
                "label": str(row.label),
                "target": format(row.target.quantize(figure, rounding=ROUND_HALF_EVEN), "f"),
                "actual": format(row.actual.quantize(figure, rounding=ROUND_HALF_EVEN), "f"),
                "attainment": None
                if row.attainment is None
                else format(row.attainment.quantize(ratio, rounding=ROUND_HALF_EVEN), "f"),
            }
            for row in rows
        ]


# --- Goals, budgets, expenses, tasks -----------------------------------------------------------


class QualitativeGoalSerializer(serializers.ModelSerializer):
    plan = OrgRelatedField(queryset=SalesPlan.objects.all())
    owner = member_field(required=False, allow_null=True)
    status = GoalStatusField(required=False)

    class Meta:
        model = QualitativeGoal
        fields = [
            "id",
            "plan",
            "description",
            "owner",
            "due_on",
            "status",
            "evaluation",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class BudgetLineSerializer(serializers.ModelSerializer):
    plan = OrgRelatedField(queryset=SalesPlan.objects.all())
    category = BudgetCategoryField()
    member = member_field(required=False, allow_null=True)
    region = optional(OrgRelatedField, Region.objects.all())
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    spent = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text=_("The sum of the line's expenses."),
    )
    remaining = serializers.SerializerMethodField()

    class Meta:
        model = BudgetLine
        fields = [
            "id",
            "plan",
            "category",
            "member",
            "region",
            "amount",
            "spent",
            "remaining",
            "note",
        ]

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))
    def get_remaining(self, obj) -> str:
        return f"{obj.amount - obj.spent:.2f}"


class ExpenseSerializer(serializers.ModelSerializer):
    budget = OrgRelatedField(queryset=BudgetLine.objects.all(), scope=visible_budgets)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Expense
        fields = [
            "id",
            "budget",
            "amount",
            "date",
            "note",
            "over_budget",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["over_budget", "recorded_by", "created_at"]


class PlanTaskSerializer(serializers.ModelSerializer):
    plan = OrgRelatedField(queryset=SalesPlan.objects.all())
    owner = member_field()
    region = optional(OrgRelatedField, Region.objects.all())
    status = TaskStatusField(required=False)

    class Meta:
        model = PlanTask
        fields = [
            "id",
            "plan",
            "title",
            "description",
            "owner",
            "region",
            "place",
            "due_at",
            "status",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at", "created_at", "updated_at"]


# --- Dashboard --------------------------------------------------------------------------------


class DashboardTargetSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="target.pk")
    plan = serializers.IntegerField(source="target.plan_id")
    metric = serializers.CharField(source="target.metric")
    member = serializers.IntegerField(source="target.member_id", allow_null=True)
    region = serializers.IntegerField(source="target.region_id", allow_null=True)
    product = serializers.IntegerField(source="target.product_id", allow_null=True)
    customer = serializers.IntegerField(source="target.customer_id", allow_null=True)
    start = serializers.DateField(source="target.start")
    end = serializers.DateField(source="target.end")
    value = serializers.DecimalField(**FIGURE, source="target.value")
    today_target = serializers.DecimalField(**FIGURE)
    today_actual = serializers.DecimalField(**FIGURE)
    month_target = serializers.DecimalField(**FIGURE)
    month_to_date_target = serializers.DecimalField(**FIGURE)
    month_to_date_actual = serializers.DecimalField(**FIGURE)
    attainment = serializers.DecimalField(**RATIO, allow_null=True)
    pace = PaceField()


class MissingReportSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="pk")
    display_name = serializers.CharField()
    upline = serializers.IntegerField(source="upline_id", allow_null=True)


class UrgentFeedbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.IntegerField(source="author_id")
    urgency = serializers.CharField()
    status = serializers.CharField()
    respond_by = serializers.DateTimeField()


class PendingReviewSerializer(serializers.Serializer):
    appraisal = serializers.IntegerField()
    cycle = serializers.IntegerField()
    member = serializers.IntegerField()
    display_name = serializers.CharField()
    review_deadline = serializers.DateField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    date = serializers.DateField()
    targets = DashboardTargetSerializer(many=True)
    missing_reports = MissingReportSerializer(many=True)
    urgent_feedback = UrgentFeedbackSerializer(many=True)
    pending_reviews = PendingReviewSerializer(
        many=True,
        help_text=_("Appraisal reviews waiting for the caller (from the appraisals app)."),
    )
