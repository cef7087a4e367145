"""The admin shows appraisals for inspection. Appraisals are tamper-evident, so the admin does not
change them: templates are built, and cycles opened, scored and finalized, through the API, whose
services keep the rules (weights summing to 100, locking, outcomes applied once). Only a
template's name and description can be edited here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.admin_audit import AuditHistoryLinkMixin, admin_audit_record
from agents.admin_base import OrgScopedAdmin, OrgScopedTabularInline, ReadOnlyInlineMixin
from agents.admin_exports import export_selection

from . import exports
from .models import (
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    Criterion,
    CriterionScore,
    GradeBand,
    OutcomeAudit,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CriterionInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = Criterion
    fields = ["order", "name", "kind", "metric", "weight", "method", "params"]
    readonly_fields = fields
    show_change_link = False


class GradeBandInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = GradeBand
    fields = ["grade", "min_score", "outcome"]
    readonly_fields = fields
    show_change_link = False


@admin.register(AppraisalTemplate)
class AppraisalTemplateAdmin(AuditHistoryLinkMixin, OrgScopedAdmin):
    list_display = ["name", "period_kind", "updated_at"]
    list_filter = ["period_kind"]
    search_fields = ["name"]
    fields = ["name", "description", "period_kind", "eligibility", "rules"]
    readonly_fields = ["period_kind", "eligibility", "rules"]
    inlines = [CriterionInline, GradeBandInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        admin_audit_record(
            request,
            obj=obj,
            action="appraisal_template.update",
            form=form,
            fields=("name", "description"),
        )


@admin.register(AppraisalCycle)
class AppraisalCycleAdmin(ReadOnlyAdminMixin, OrgScopedAdmin):
    list_display = ["__str__", "template", "start", "end", "status", "review_deadline"]
    list_filter = ["status", "template"]
    list_select_related = ["template"]
    date_hierarchy = "start"


class CriterionScoreInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = CriterionScore
    fields = [
        "criterion",
        "raw_value",
        "target_value",
        "target_missing",
        "score",
        "weighted_score",
        "comment",
    ]
    readonly_fields = fields
    show_change_link = False


@admin.register(Appraisal)
class AppraisalAdmin(ReadOnlyAdminMixin, AuditHistoryLinkMixin, OrgScopedAdmin):
    list_display = [
        "member",
        "cycle",
        "total_score",
        "rank",
        "grade",
        "final_outcome",
        "reviewed_at",
        "acknowledged_at",
    ]
    list_filter = ["cycle", "grade", "final_outcome"]
    list_select_related = ["member__user", "cycle__template"]
    search_fields = ["member__user__username", "member__user__display_name"]
    inlines = [CriterionScoreInline]
    actions = ["export_xlsx"]

    @admin.action(description=_("Export to Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return export_selection(
            self,
            request,
            queryset,
            lambda organization, rows: exports.appraisals_selection_export(
                organization=organization, queryset=rows
            ),
        )


@admin.register(OutcomeAudit)
class OutcomeAuditAdmin(ReadOnlyAdminMixin, OrgScopedAdmin):
    list_display = ["applied_at", "member", "outcome", "cycle", "actor", "note"]
    list_filter = ["outcome", "cycle"]
    list_select_related = ["member__user", "cycle__template", "actor__user"]
    date_hierarchy = "applied_at"
