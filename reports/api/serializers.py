import threading
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings
from rest_framework.utils.formatting import lazy_format
from rest_framework.utils.serializer_helpers import BindingDict

from agents.api.fields import OrgRelatedField, id_field
from agents.api.serializers import scoped_members
from agents.models import Customer, Membership, Product, Region
from agents.products import inactive_product_message
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
    product = id_field(help_text=gettext_lazy("Product id."))
    customer = id_field(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Customer id (optional)."),
    )
    quantity = serializers.IntegerField(min_value=0, max_value=QUANTITY_LIMIT)
    amount = money_field()
    collected = money_field(required=False, default=Decimal("0.00"))


def money_text(field: serializers.DecimalField) -> Callable[[object], str | Decimal | None]:
    """The function that answers `field.to_representation(value)` for a money value, and None
    for None (as a serializer answers a null field); built once per field, one call per value.
    For a Decimal, without DRF's per-call context copy (a page of reports formats thousands of
    amounts): quantized to the field's places with its rounding (half-even by default) and
    written out in full. Other values go to DRF."""
    text = field.__dict__.get("_money_text")
    if text is not None:
        return text
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if coerce and not field.localize and field.decimal_places is not None:
        places = Decimal(1).scaleb(-field.decimal_places)
        rounding = field.rounding or ROUND_HALF_EVEN

        def text(value):
            if value.__class__ is Decimal:
                return format(value.quantize(places, rounding=rounding), "f")
            return None if value is None else field.to_representation(value)

    else:

        def text(value):
            return None if value is None else field.to_representation(value)

    field.__dict__["_money_text"] = text
    return text


def _iso_zone(field: serializers.DateTimeField):
    """The zone a DateTimeField shows aware datetimes in when it writes ISO 8601, else None
    (then the field itself answers)."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return None
    return field.timezone if hasattr(field, "timezone") else field.default_timezone()


def _moments(fields, names) -> Callable[[str, object], object]:
    """moment(name, value): what the DateTimeField `fields[name]` answers for `value`, its time
    zone looked up once (per answer: the zone cannot change meanwhile), for `names`."""
    zones = {name: _iso_zone(fields[name]) for name in names}

    def moment(name, value):
        zone = zones[name]
        if value is None or zone is None or timezone.is_naive(value):
            return None if value is None else fields[name].to_representation(value)
        text = value.astimezone(zone).isoformat()  # DateTimeField's ISO 8601 answer
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return moment


_SHARED_FIELDS: dict[type, dict] = {}


def shared_fields(serializer_class) -> dict:
    """`serializer_class().fields`, built once per class and shared, for answers whose fields
    depend on nothing of the request (read-only, no hyperlinks, no querysets) and are only used
    to format values. DRF builds a serializer's fields for every instance, which was a fifth of a
    report PUT's time (issue 7, bench/README.md)."""
    fields = _SHARED_FIELDS.get(serializer_class)
    if fields is None:  # a benign race: two builds give equal fields
        fields = _SHARED_FIELDS[serializer_class] = serializer_class(context={}).fields
    return fields


_THREAD_FIELDS = threading.local()


class ThreadFieldsMixin:
    """For input serializers whose fields depend on nothing of the request (plain values: no
    querysets, no hyperlinks, no defaults that read the context): the fields are built once per
    class and thread, bound to a prototype with an empty context, and reused by every instance
    of that thread. DRF deep-copies and binds every declared field, nested ones included, for
    each instance: about a tenth of a report PUT's own time (issue 7, bench/README.md). `validate()`
    runs on the instance, with the request's context. Per thread, because validating a list
    sets state on its child serializer.

    Error messages must stay lazy, so that each answer is in its request's language: DRF's
    `lazy_format` (the messages of the min/max value and length validators) keeps its first
    rendering, so those are replaced by Django's `format_lazy`, which renders every time."""

    @property
    def fields(self):
        cache = _THREAD_FIELDS.__dict__.setdefault("fields", {})
        fields = cache.get(type(self))
        if fields is None:
            prototype = type(self)(context={})
            fields = BindingDict(prototype)
            for name, field in prototype.get_fields().items():
                fields[name] = field
            _relazy_messages(fields.values())
            cache[type(self)] = fields
        return fields


def _relazy_messages(fields) -> None:
    for field in fields:
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.Serializer):
            _relazy_messages(field.fields.values())
        for validator in getattr(field, "validators", ()):
            message = getattr(validator, "message", None)
            if isinstance(message, lazy_format):
                if message.result is not None:  # pragma: no cover - built just now, never shown
                    raise AssertionError("a message was rendered before it could be made lazy")
                validator.message = format_lazy(
                    message.format_string, *message.args, **message.kwargs
                )


def _lines_of(report) -> list:
    """The report's lines as attached (report_lines_attach, the PUT), else from the database."""
    attached = getattr(report, "_prefetched_objects_cache", {}).get("lines")
    return attached if attached is not None else report.lines.all()


class SalesLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesEntry
        fields = ["id", "product", "customer", "quantity", "amount", "collected", "profit"]
        read_only_fields = fields

    HANDLED = ("id", "product", "customer", "quantity", "amount", "collected", "profit")

    def to_representation(self, instance):
        """What ModelSerializer answers (ids for the relations, the money fields' own
        to_representation), without its per-field attribute lookup: a page of reports nests
        hundreds of lines (issue 7, bench/README.md). Falls back to ModelSerializer's own when
        the declared fields differ from those handled here."""
        fields = shared_fields(type(self))
        if tuple(fields) != self.HANDLED:
            return super().to_representation(instance)
        return _line_answer(instance, *_line_money(fields))


def _line_money(fields) -> tuple:
    return tuple(money_text(fields[name]) for name in ("amount", "collected", "profit"))


def _line_answer(line, amount, collected, profit) -> dict:
    """SalesLineSerializer's answer for a line, given the money_text of its three money
    fields."""
    return {
        "id": line.pk,
        "product": line.product_id,
        "customer": line.customer_id,
        "quantity": line.quantity,
        "amount": amount(line.amount),
        "collected": collected(line.collected),
        "profit": profit(line.profit),
    }


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


class DailyReportInputSerializer(ThreadFieldsMixin, serializers.Serializer):
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
        # Deactivated products are refused, except those the stored report already has.
        kept = services.daily_report_kept_products(
            organization=self.context["organization"],
            member=self.context["membership"],
            day=self.context.get("day"),
            products=list(products.values()),
        )
        errors, resolved = [], []
        for line in lines:
            line_errors = {}
            product = products.get(line["product"])
            customer = customers.get(line.get("customer")) if line.get("customer") else None
            if product is None:
                line_errors["product"] = [_("Unknown product.")]
            elif not product.is_active and product.pk not in kept:
                line_errors["product"] = [inactive_product_message()]
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


_ZERO = Decimal("0.00")


def _lines_and_totals_slow(serializer, instance, lines_field) -> tuple[list, dict]:
    """The `lines` and `totals` through the serializers themselves (a line serializer or line
    fields that SalesLineSerializer.to_representation does not handle)."""
    return lines_field.to_representation(_lines_of(instance)), serializer.get_totals(instance)


def _totals_text():
    """DailyReportTotalsSerializer's answer from the four sums, its fields' formats looked up
    once."""
    fields = shared_fields(DailyReportTotalsSerializer)
    quantity_text = fields["quantity"].to_representation
    amount_text, collected_text, profit_text = (
        money_text(fields[name]) for name in ("sales_amount", "collected_amount", "profit")
    )

    def totals(quantity, amount, collected, profit) -> dict:
        return {
            "quantity": quantity_text(quantity),
            "sales_amount": amount_text(amount),
            "collected_amount": collected_text(collected),
            "profit": profit_text(profit),
        }

    return totals


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

    # The fields to_representation below answers, in order; when the declared fields differ
    # (one was added), it falls back to ModelSerializer's own.
    HANDLED = (
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
    )

    def to_representation(self, instance):
        """ModelSerializer's answer (ids for relations, each field's own to_representation for
        dates, times and lines) without its per-field attribute lookup: a page holds up to 200
        reports (issue 7, bench/README.md). What formats the values is worked out once per
        answer (`_formats`)."""
        formats = self.context.get("_report_formats")
        if formats is None:
            formats = self.context["_report_formats"] = self._formats()
        if formats is False:
            return super().to_representation(instance)
        fields, moment, line_money, totals_text = formats
        if line_money is None:
            lines, totals = _lines_and_totals_slow(self, instance, fields["lines"])
        else:
            lines = []
            quantity, amount, collected, profit = 0, _ZERO, _ZERO, _ZERO
            for line in _lines_of(instance):
                lines.append(_line_answer(line, *line_money))
                quantity += line.quantity
                amount += line.amount
                collected += line.collected
                profit += line.profit
            totals = totals_text(quantity, amount, collected, profit)
        unlocked_at = instance.unlocked_at
        if unlocked_at is not None:
            unlocked_at = fields["unlocked_at"].to_representation(unlocked_at)
        return {
            "id": instance.id,
            "member": instance.member_id,
            "date": fields["date"].to_representation(instance.date),
            "followups": instance.followups,
            "communication_minutes": instance.communication_minutes,
            "new_customers": instance.new_customers,
            "lost_customers": instance.lost_customers,
            "orders": instance.orders,
            "lines": lines,
            "summary": instance.summary,
            "plan_tomorrow": instance.plan_tomorrow,
            "problems": instance.problems,
            "submitted_at": moment("submitted_at", instance.submitted_at),
            "updated_at": moment("updated_at", instance.updated_at),
            "is_late": instance.is_late,
            "is_locked": self.get_is_locked(instance),
            "totals": totals,
            "unlocked_by": instance.unlocked_by_id,
            "unlocked_at": unlocked_at,
        }

    def _formats(self):
        """(fields, moment, the lines' money formats, totals) for every report of an answer;
        False when the declared fields differ from those to_representation handles (one was
        added): ModelSerializer's own answer then. The lines' money formats are None when the
        line serializer or its fields are not those SalesLineSerializer handles."""
        fields = shared_fields(type(self))
        if tuple(fields) != self.HANDLED:
            return False
        moment = _moments(fields, ("submitted_at", "updated_at"))

        line_fields = shared_fields(SalesLineSerializer)
        line_money = (
            _line_money(line_fields)
            if type(fields["lines"].child) is SalesLineSerializer
            and tuple(line_fields) == SalesLineSerializer.HANDLED
            else None
        )
        return fields, moment, line_money, _totals_text()

    def _now(self):
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def get_is_locked(self, obj) -> bool:
        """Whether the member can no longer change the report (the window closed and it was
        not unlocked)."""
        # Each day's window is worked out once per answer (a page holds a few days).
        editable = self.context.get("_editable")
        if editable is None:
            editable = self.context["_editable"] = services.daily_report_editable_check(
                organization=self.context["organization"], now=self._now()
            )
        return not editable(obj)

    @staticmethod
    def _totals_answer(quantity, amount, collected, profit) -> dict:
        return _totals_text()(quantity, amount, collected, profit)

    @extend_schema_field(DailyReportTotalsSerializer)
    def get_totals(self, obj):
        """DailyReportTotalsSerializer's output, through its fields' own to_representation
        with the fields built once per list rather than a serializer per report (a page of 200
        reports built 200 serializers: issue 7, bench/README.md)."""
        lines = list(_lines_of(obj))
        return self._totals_answer(
            sum(line.quantity for line in lines),
            sum((line.amount for line in lines), Decimal("0.00")),
            sum((line.collected for line in lines), Decimal("0.00")),
            sum((line.profit for line in lines), Decimal("0.00")),
        )


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

    # The fields to_representation below answers, in order; when the declared fields differ
    # (one was added), it falls back to ModelSerializer's own.
    HANDLED = (
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
    )

    def to_representation(self, instance):
        """ModelSerializer's answer (ids for relations, each field's own to_representation for
        the date, the money and the time) without its per-field attribute lookup: a page holds
        up to 200 entries (issue 7, bench/README.md). The formats are worked out once per
        answer."""
        formats = self.context.get("_sales_formats")
        if formats is None:
            formats = self.context["_sales_formats"] = self._formats()
        if formats is False:
            return super().to_representation(instance)
        date_text, moment, amount_text, collected_text, profit_text = formats
        return {
            "id": instance.id,
            "date": date_text(instance.date),
            "member": instance.member_id,
            "product": instance.product_id,
            "customer": instance.customer_id,
            "quantity": instance.quantity,
            "amount": amount_text(instance.amount),
            "collected": collected_text(instance.collected),
            "profit": profit_text(instance.profit),
            "source": instance.source,
            "region": instance.region_id,
            "daily_report": instance.daily_report_id,
            "created_at": moment("created_at", instance.created_at),
        }

    def _formats(self):
        """The date's, the times' and the money's formats for every entry of an answer; False
        when the declared fields differ from those to_representation handles."""
        fields = shared_fields(type(self))
        if tuple(fields) != self.HANDLED or not all(
            type(fields[name]) is field_type
            for name, field_type in (
                ("date", serializers.DateField),
                ("source", serializers.ChoiceField),
            )
        ):
            return False
        return (
            fields["date"].to_representation,
            _moments(fields, ("created_at",)),
            *(money_text(fields[name]) for name in ("amount", "collected", "profit")),
        )


class SalesEntryInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    member = OrgRelatedField(
        queryset=Membership.objects.all(),
        scope=scoped_members,
        required=False,
        help_text=gettext_lazy("Defaults to the caller; leaders may record for their subtree."),
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
    file = serializers.FileField(help_text=gettext_lazy("A .csv or .xlsx file with a header row."))


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
        help_text=gettext_lazy("Defaults to the caller; leaders may log for their subtree."),
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
