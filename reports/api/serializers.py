from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.api.fields import OrgRelatedField
from agents.api.serializers import scoped_members
from agents.models import Customer, Membership, Product, Region
from agents.selectors import member_scope_q
from reports import services
from reports.models import (
    MINUTES_PER_DAY,
    Activity,
    DailyReport,
    FeedbackComment,
    MarketFeedback,
    SalesEntry,
)
from reports.selectors import sales_references

COUNT_LIMIT = 100_000
QUANTITY_LIMIT = 1_000_000
TEXT_LIMIT = 10_000


def money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), **kwargs
    )


def visible_customers(queryset, context):
    """Customers the caller may refer to: owned by them or their subtree (managers: all)."""
    return queryset.filter(member_scope_q(membership=context["membership"], prefix="owner__"))


# --- Daily reports --------------------------------------------------------------------------


class SalesLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, help_text="Product id.")
    customer = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Customer id (optional)."
    )
    quantity = serializers.IntegerField(min_value=0, max_value=QUANTITY_LIMIT)
    amount = money_field()
    collected = money_field(required=False, default=Decimal("0.00"))


class SalesLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesEntry
        fields = ["id", "product", "customer", "quantity", "amount", "collected", "profit"]
        read_only_fields = fields


class DailyReportTotalsSerializer(serializers.Serializer):
    quantity = serializers.IntegerField()
    sales_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    collected_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    profit = serializers.DecimalField(max_digits=16, decimal_places=2)


def _count(maximum: int = COUNT_LIMIT) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=maximum, required=False, default=0)


def _text() -> serializers.CharField:
    return serializers.CharField(
        allow_blank=True, max_length=TEXT_LIMIT, required=False, default=""
    )


class DailyReportInputSerializer(serializers.Serializer):
    """The whole report: what is left out is empty (PUT replaces)."""

    followups = _count()
    communication_minutes = _count(MINUTES_PER_DAY)
    new_customers = _count()
    lost_customers = _count()
    orders = _count()
    summary = _text()
    plan_tomorrow = _text()
    problems = _text()
    lines = SalesLineInputSerializer(many=True, required=False, default=list, max_length=500)

    def validate(self, attrs):
        """Products and customers of every line in two queries, errors in the lines' shape."""
        lines = attrs.get("lines", [])
        products, customers = sales_references(
            organization=self.context["organization"],
            member=self.context["membership"],
            product_ids={line["product"] for line in lines},
            customer_ids={line["customer"] for line in lines if line.get("customer")},
        )
        errors, resolved = [], []
        for line in lines:
            line_errors = {}
            product = products.get(line["product"])
            customer = customers.get(line.get("customer")) if line.get("customer") else None
            if product is None:
                line_errors["product"] = [_("Unknown product.")]
            if line.get("customer") and customer is None:
                line_errors["customer"] = [_("Unknown customer, or not one of yours.")]
            errors.append(line_errors)
            if not line_errors:
                resolved.append(
                    services.SalesLine(
                        product=product,
                        customer=customer,
                        quantity=line["quantity"],
                        amount=line["amount"],
                        collected=line["collected"],
                    )
                )
        if any(errors):
            raise serializers.ValidationError({"lines": errors})
        attrs["lines"] = resolved
        return attrs


class DailyReportSerializer(serializers.ModelSerializer):
    lines = SalesLineSerializer(many=True, read_only=True)
    is_locked = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()

    class Meta:
        model = DailyReport
        fields = [
            "id",
            "member",
            "date",
            "followups",
            "communication_minutes",
            "new_customers",
            "lost_customers",
            "orders",
            "lines",
            "summary",
            "plan_tomorrow",
            "problems",
            "submitted_at",
            "updated_at",
            "is_late",
            "is_locked",
            "totals",
            "unlocked_by",
            "unlocked_at",
        ]
        read_only_fields = fields

    def _now(self):
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def get_is_locked(self, obj) -> bool:
        """Whether the member can no longer change the report (the window closed and it was
        not unlocked)."""
        return not services.daily_report_is_editable(
            organization=self.context["organization"], report=obj, now=self._now()
        )

    @extend_schema_field(DailyReportTotalsSerializer)
    def get_totals(self, obj):
        lines = list(obj.lines.all())
        totals = {
            "quantity": sum(line.quantity for line in lines),
            "sales_amount": sum((line.amount for line in lines), Decimal("0.00")),
            "collected_amount": sum((line.collected for line in lines), Decimal("0.00")),
            "profit": sum((line.profit for line in lines), Decimal("0.00")),
        }
        return DailyReportTotalsSerializer(totals).data


class MissingMemberSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="pk")
    display_name = serializers.CharField(source="user.get_display_name")
    upline = serializers.IntegerField(source="upline_id", allow_null=True)
    region = serializers.IntegerField(source="region_id", allow_null=True)


# --- Sales ----------------------------------------------------------------------------------


class SalesEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesEntry
        fields = [
            "id",
            "date",
            "member",
            "product",
            "customer",
            "quantity",
            "amount",
            "collected",
            "profit",
            "source",
            "region",
            "daily_report",
            "created_at",
        ]
        read_only_fields = fields


class SalesEntryInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    member = OrgRelatedField(
        queryset=Membership.objects.all(),
        scope=scoped_members,
        required=False,
        help_text="Defaults to the caller; leaders may record for their subtree.",
    )
    product = OrgRelatedField(queryset=Product.objects.all())
    customer = OrgRelatedField(
        queryset=Customer.objects.select_related("owner"),
        scope=visible_customers,
        required=False,
        allow_null=True,
    )
    quantity = serializers.IntegerField(min_value=0, max_value=QUANTITY_LIMIT)
    amount = money_field()
    collected = money_field(required=False, default=Decimal("0.00"))


class SalesImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv or .xlsx file with a header row.")


class SalesImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class SalesImportErrorsSerializer(serializers.Serializer):
    errors = SalesImportErrorSerializer(many=True)


class SalesImportFileErrorSerializer(serializers.Serializer):
    """400 when the upload itself is refused (missing, not a .csv/.xlsx, unreadable)."""

    file = serializers.ListField(child=serializers.CharField())


class SalesImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()


# --- Activities -----------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    member = OrgRelatedField(
        queryset=Membership.objects.all(),
        scope=scoped_members,
        required=False,
        help_text="Defaults to the caller; leaders may log for their subtree.",
    )
    customer = OrgRelatedField(
        queryset=Customer.objects.select_related("owner"),
        scope=visible_customers,
        required=False,
        allow_null=True,
    )
    duration_minutes = serializers.IntegerField(
        min_value=0, max_value=MINUTES_PER_DAY, required=False, default=0
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "member",
            "customer",
            "kind",
            "occurred_at",
            "duration_minutes",
            "outcome",
            "note",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"note": {"max_length": TEXT_LIMIT}}


# --- Market feedback ------------------------------------------------------------------------


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = MarketFeedback
        fields = [
            "id",
            "author",
            "category",
            "title",
            "body",
            "region",
            "product",
            "competitor",
            "urgency",
            "status",
            "assignee",
            "respond_by",
            "escalation_level",
            "created_at",
            "updated_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "resolution",
        ]
        read_only_fields = fields


class FeedbackWriteSerializer(serializers.ModelSerializer):
    region = OrgRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    product = OrgRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)

    class Meta:
        model = MarketFeedback
        fields = ["category", "title", "body", "region", "product", "competitor", "urgency"]
        extra_kwargs = {"body": {"max_length": TEXT_LIMIT}, "urgency": {"required": False}}


class FeedbackResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=TEXT_LIMIT)


class FeedbackCommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeedbackComment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = ["id", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": TEXT_LIMIT}}
