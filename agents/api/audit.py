"""The audit trail, read-only, for the organization's owners and admins: `P/audit-log/` and
`P/audit-log/{id}/`. Entries are written by the services (agents/audit.py), never through the API:
there is no create, update or delete."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from agents.filters import org_members
from agents.models import AuditEntry
from agents.permissions import MANAGE

from .base import OrgScopedViewSet


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)
    changes = extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2, "items": {}},
            "description": "{field: [before, after]}",
        }
    )(serializers.JSONField(read_only=True))
    context = extend_schema_field(OpenApiTypes.OBJECT)(serializers.JSONField(read_only=True))

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_display",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "context",
        ]
        read_only_fields = fields


class AuditEntryFilter(django_filters.FilterSet):
    action = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    actor = django_filters.ModelChoiceFilter(queryset=org_members)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditEntry
        fields = ["action", "object_type", "object_id", "actor", "created_after", "created_before"]


class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """Who changed what and when, newest first: targets, plans, late daily reports, appraisals
    and members. Filters `action` (e.g. `plan.activate`), `object_type` (e.g. `plans.target`),
    `object_id`, `actor` (member id), `created_after`, `created_before` (ISO 8601)."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    search_fields = ["object_repr", "actor_display"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "head", "options"]
    access = {"list": MANAGE, "retrieve": MANAGE}
