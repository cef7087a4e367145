"""POST P/targets/import/: a breakdown grid of targets (see plans/imports.py) over the API, with
the same form and answers as the other imports (agents/api/imports.py)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from agents.api.fields import OrgRelatedField
from agents.api.imports import ImportFormSerializer, SpreadsheetImportView, import_schema
from agents.permissions import EVERYONE, Rule
from plans import imports
from plans.models import SalesPlan, Target, Tier
from plans.selectors import target_scope_q
from reports.metrics import metric_choices


def _visible_targets(queryset, context):
    return queryset.filter(target_scope_q(viewer=context["membership"]))


class TargetImportFormSerializer(ImportFormSerializer):
    plan = OrgRelatedField(queryset=SalesPlan.objects.all(), help_text=_("The plan's id."))
    metric = serializers.ChoiceField(choices=metric_choices())
    parent = OrgRelatedField(
        queryset=Target.objects.select_related("plan", "member", "region"),
        scope=_visible_targets,
        required=False,
        allow_null=True,
        help_text=_("A target to break down: each cell becomes one of its children."),
    )
    tier = serializers.ChoiceField(
        choices=Tier.choices,
        required=False,
        allow_blank=True,
        help_text=_("Default: the parent's tier, else base."),
    )


class TargetImportView(SpreadsheetImportView):
    """Create or update targets from a grid, all cells or none: the first column is headed
    member (agent codes) or region (region names or paths), every other column is a month
    (2026-11 or 2026年11月); each non-empty cell is that member's or region's target for that
    month. Leaders set targets for the members below them; agents break down their own targets
    (with `parent`). A closed plan is 409."""

    # Everyone may ask; plans.rules decides per row, as for POST P/targets/.
    access = {"post": Rule(EVERYONE)}
    serializer_class = TargetImportFormSerializer
    importer = imports.targets_import

    def importer_options(self, data: dict) -> dict:
        return {
            "plan": data["plan"],
            "metric": data["metric"],
            "parent": data.get("parent"),
            "tier": data.get("tier") or None,
        }

    @import_schema(name="Target", form=TargetImportFormSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
