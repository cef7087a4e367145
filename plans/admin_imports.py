"""The target grid import in the admin (the Import button on the plans' and the targets'
changelists): the upload form adds the plan, the metric, an optional parent target to break down
and the tier; the flow and the rules are agents/admin_imports.py's and plans/imports.py's."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from agents.admin_base import request_organization_ids
from agents.admin_imports import ImportSpec, ImportUploadForm
from agents.models import Organization
from reports.metrics import metric_choices

from .imports import targets_import
from .models import SalesPlan, Target, Tier


class TargetImportUploadForm(ImportUploadForm):
    plan = forms.ModelChoiceField(label=_("plan"), queryset=SalesPlan.objects.none())
    metric = forms.ChoiceField(label=_("metric"), choices=metric_choices)
    parent = forms.IntegerField(
        label=_("parent target id"),
        required=False,
        min_value=1,
        help_text=_("Optional: a target to break down; each cell becomes one of its children."),
    )
    tier = forms.ChoiceField(
        label=_("tier"),
        choices=[("", _("the parent's, or base")), *Tier.choices],
        required=False,
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        plans = SalesPlan.objects.select_related("organization").order_by("-start", "name")
        organization_ids = request_organization_ids(request)
        if organization_ids is not None:
            plans = plans.filter(organization_id__in=organization_ids)
        self.fields["plan"].queryset = plans
        plan_id = request.GET.get("plan")
        if plan_id and plan_id.isdigit():
            self.fields["plan"].initial = int(plan_id)

    def clean(self):
        cleaned_data = super().clean()
        organization, plan = cleaned_data.get("organization"), cleaned_data.get("plan")
        if organization is not None and plan is not None:
            if plan.organization_id != organization.pk:
                self.add_error("plan", _("Choose one from the same organization."))
            parent_id = cleaned_data.get("parent")
            exists = Target.objects.filter(organization=organization, pk=parent_id).exists()
            if parent_id and not exists:
                self.add_error("parent", _("Unknown target."))
        return cleaned_data

    def importer_options(self) -> dict:
        data = self.cleaned_data
        return {
            "plan": data["plan"].pk,
            "metric": data["metric"],
            "parent": data.get("parent"),
            "tier": data.get("tier") or None,
        }

    @staticmethod
    def resolve_options(organization: Organization, options: dict) -> dict:
        plan = SalesPlan.objects.filter(organization=organization, pk=options["plan"]).first()
        if plan is None:
            raise ValidationError({"plan": _("Unknown plan.")})
        parent = None
        if options.get("parent"):
            parent = (
                Target.objects.select_related("plan", "member", "region")
                .filter(organization=organization, pk=options["parent"])
                .first()
            )
            if parent is None:
                raise ValidationError({"parent": _("Unknown target.")})
        return {
            "plan": plan,
            "metric": options["metric"],
            "parent": parent,
            "tier": options.get("tier"),
        }


TARGET_IMPORT = ImportSpec(
    key="targets",
    title=_("Import targets"),
    importer=targets_import,
    columns=_(
        "first column: member (agent codes) or region (names or paths); then one column per "
        "month: 2026-11 or 2026年11月"
    ),
    form_class=TargetImportUploadForm,
)
