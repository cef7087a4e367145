import zoneinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from agents.models import (
    AgentLevel,
    CalendarDay,
    Customer,
    CustomerStatus,
    Membership,
    Organization,
    Product,
    Region,
    Role,
)
from agents.selectors import member_scope_q

from .fields import OrgRelatedField


def scoped_members(queryset, context):
    """Members the caller may refer to as owners of their records: their own scope."""
    return queryset.filter(member_scope_q(membership=context["membership"]))


class OrgUniqueMixin:
    """Checks the organization-wide unique constraints of `org_unique` before the database does,
    so a duplicate is a 400 naming the field rather than an integrity error."""

    org_unique: tuple[tuple[str, ...], ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        for fields in self.org_unique:
            values = {name: attrs.get(name, getattr(self.instance, name, None)) for name in fields}
            if any(value in (None, "") for value in values.values()):
                continue
            duplicates = model.objects.filter(organization=self.context["organization"], **values)
            if self.instance is not None:
                duplicates = duplicates.exclude(pk=self.instance.pk)
            if duplicates.exists():
                raise serializers.ValidationError({fields[-1]: [_("This value is taken.")]})
        return attrs


# --- Identity -------------------------------------------------------------------------------------


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["slug", "name"]


class MyMembershipSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer()

    class Meta:
        model = Membership
        fields = ["id", "role", "organization"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="get_display_name")
    memberships = MyMembershipSerializer(many=True)

    # What to_representation below answers; when a serializer's fields differ from these, it
    # falls back to the serializers' own.
    HANDLED = (
        ("id", "username", "display_name", "memberships"),
        ("id", "role", "organization"),
        ("slug", "name"),
    )

    def to_representation(self, instance):
        """What the declared fields answer, without building them: DRF deep-copies every
        declared field, nested serializers included, for each serializer, and GET me/ (every
        app start) spent 0.3 ms on that for a handful of values."""
        declared = (
            tuple(self._declared_fields),
            tuple(MyMembershipSerializer.Meta.fields),
            tuple(OrganizationRefSerializer.Meta.fields),
        )
        if declared != self.HANDLED or MyMembershipSerializer._declared_fields.keys() != {
            "organization"
        }:
            return super().to_representation(instance)
        return {
            "id": instance["id"],
            "username": instance["username"],
            "display_name": instance["get_display_name"],
            "memberships": [
                {
                    "id": membership.pk,
                    "role": membership.role,
                    "organization": {
                        "slug": membership.organization.slug,
                        "name": membership.organization.name,
                    },
                }
                for membership in instance["memberships"]
            ],
        }


class MyOrganizationSerializer(serializers.Serializer):
    slug = serializers.SlugField(source="organization.slug")
    name = serializers.CharField(source="organization.name")
    role = serializers.ChoiceField(choices=Role.choices)


class OrganizationCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200)
    timezone = serializers.CharField(max_length=64, required=False, default="Asia/Shanghai")
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="CNY")
    language = serializers.ChoiceField(choices=["zh-hans", "en"], required=False, default="zh-hans")

    def validate_timezone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(_("Unknown time zone."))
        return value

    def validate_slug(self, value):
        if Organization.objects.filter(slug=value).exists():
            raise serializers.ValidationError(_("This slug is taken."))
        return value


class OrganizationCreatedSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["slug", "name", "timezone", "currency", "language", "role"]

    def get_role(self, obj) -> str:
        return Role.OWNER


class OrganizationSettingsSerializer(serializers.ModelSerializer):
    workdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        required=False,
        max_length=7,
        help_text=gettext_lazy("ISO weekday numbers, Monday = 1."),
    )
    has_webhook_secret = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "slug",
            "name",
            "timezone",
            "currency",
            "language",
            "country",
            "report_cutoff",
            "reminder_time",
            "workdays",
            "webhook_url",
            "webhook_secret",
            "has_webhook_secret",
        ]
        read_only_fields = ["slug"]
        extra_kwargs = {
            "webhook_secret": {"write_only": True},
            "language": {"required": False},
        }

    def get_has_webhook_secret(self, obj) -> bool:
        return bool(obj.webhook_secret)

    def validate_timezone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(_("Unknown time zone."))
        return value

    def validate_language(self, value):
        if value not in ("zh-hans", "en"):
            raise serializers.ValidationError(_("Use zh-hans or en."))
        return value

    def validate_workdays(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("Working days must not repeat."))
        return sorted(value)


# --- Members --------------------------------------------------------------------------------------


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    display_name = serializers.CharField(source="user.get_display_name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "username",
            "display_name",
            "role",
            "upline",
            "region",
            "level",
            "status",
            "code",
            "joined_on",
            "depth",
        ]
        read_only_fields = fields


class MemberWriteSerializer(serializers.Serializer):
    """What owners and admins send to change a member (PATCH)."""

    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    upline = OrgRelatedField(queryset=Membership.objects.all(), required=False, allow_null=True)
    region = OrgRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    level = OrgRelatedField(queryset=AgentLevel.objects.all(), required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=Membership._meta.get_field("status").choices, required=False
    )
    code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    joined_on = serializers.DateField(required=False)


class MemberCreateSerializer(MemberWriteSerializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    email = serializers.EmailField(required=False, allow_blank=True)


# --- Catalogs -------------------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    parent = OrgRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Region
        fields = ["id", "name", "parent", "code", "depth"]
        read_only_fields = ["depth"]


class AgentLevelSerializer(OrgUniqueMixin, serializers.ModelSerializer):
    org_unique = (("rank",), ("name",))

    class Meta:
        model = AgentLevel
        fields = ["id", "name", "rank", "description"]


class ProductSerializer(OrgUniqueMixin, serializers.ModelSerializer):
    org_unique = (("sku",),)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "price", "cost", "is_hero", "is_active"]


class CustomerSerializer(serializers.ModelSerializer):
    owner = OrgRelatedField(
        queryset=Membership.objects.all(), scope=scoped_members, required=False, allow_null=True
    )
    region = OrgRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "kind",
            "owner",
            "region",
            "status",
            "first_order_on",
            "lost_on",
            "lost_reason",
        ]

    def validate(self, attrs):
        membership = self.context["membership"]
        if self.instance is None and "owner" not in attrs and not membership.is_manager:
            attrs["owner"] = membership  # agents and leaders file customers as their own
        if membership.role == Role.AGENT and attrs.get("owner", membership) != membership:
            raise serializers.ValidationError({"owner": [_("Agents own their customers.")]})
        status = attrs.get("status", getattr(self.instance, "status", CustomerStatus.PROSPECT))
        lost_on = attrs.get("lost_on", getattr(self.instance, "lost_on", None))
        first_order_on = attrs.get("first_order_on", getattr(self.instance, "first_order_on", None))
        if status == CustomerStatus.LOST and lost_on is None:
            attrs["lost_on"] = lost_on = self.context["organization"].local_today()
        if lost_on and first_order_on and lost_on < first_order_on:
            raise serializers.ValidationError(
                {"lost_on": [_("A customer cannot be lost before the first order.")]}
            )
        return attrs


class CalendarDaySerializer(OrgUniqueMixin, serializers.ModelSerializer):
    org_unique = (("date",),)

    class Meta:
        model = CalendarDay
        fields = ["id", "date", "is_workday", "name"]


class CalendarPrefillSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
