"""The admin shows plans for inspection. Plans, targets, budgets and tasks are written through the
API, whose services keep the rules (children never above their parent, leaders only for their
subtree, the budget limit checked under a lock, a closed plan read-only and frozen). Here only a
plan's name and description can be edited, and only while it is not closed."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.admin_audit import AuditHistoryLinkMixin, admin_audit_record
from agents.admin_base import OrgScopedAdmin, OrgScopedTabularInline, ReadOnlyInlineMixin
from agents.admin_exports import export_selection
from agents.admin_imports import SpreadsheetImportAdminMixin

from . import exports
from .admin_imports import TARGET_IMPORT
from .models import BudgetLine, Expense, PlanStatus, PlanTask, QualitativeGoal, SalesPlan, Target


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TargetInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = Target
    fields = ["metric", "tier", "member", "region", "product", "start", "end", "value"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The plan's top-level targets; their breakdowns are one click away.
        return (
            super()
            .get_queryset(request)
            .filter(parent__isnull=True)
            .select_related("member__user", "region", "product")
        )


@admin.register(SalesPlan)
class SalesPlanAdmin(SpreadsheetImportAdminMixin, AuditHistoryLinkMixin, OrgScopedAdmin):
    import_spec = TARGET_IMPORT
    list_display = ["name", "period_kind", "start", "end", "status", "owner"]
    list_filter = ["status", "period_kind"]
    list_select_related = ["owner__user"]
    search_fields = ["name"]
    date_hierarchy = "start"
    fields = [
        "name",
        "description",
        "period_kind",
        "start",
        "end",
        "status",
        "owner",
        "activated_at",
        "closed_at",
    ]
    readonly_fields = [
        "period_kind",
        "start",
        "end",
        "status",
        "owner",
        "activated_at",
        "closed_at",
    ]
    inlines = [TargetInline]
    actions = ["export_attainment_xlsx"]

    @admin.action(description=_("Export attainment to Excel"), permissions=["view"])
    def export_attainment_xlsx(self, request, queryset):
        """Every metric and grouping the selected plans have targets for, a sheet each."""
        return export_selection(
            self,
            request,
            queryset,
            lambda organization, plans: exports.plans_attainment_export(
                organization=organization, plans=plans
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == PlanStatus.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        admin_audit_record(
            request, obj=obj, action="plan.update", form=form, fields=("name", "description")
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Target)
class TargetAdmin(
    SpreadsheetImportAdminMixin, ReadOnlyAdminMixin, AuditHistoryLinkMixin, OrgScopedAdmin
):
    import_spec = TARGET_IMPORT
    list_display = [
        "id",
        "plan",
        "metric",
        "tier",
        "member",
        "region",
        "product",
        "customer",
        "start",
        "end",
        "value",
        "parent",
    ]
    list_filter = ["plan", "metric", "tier"]
    list_select_related = ["plan", "member__user", "region", "product", "customer", "parent"]


@admin.register(QualitativeGoal)
class QualitativeGoalAdmin(ReadOnlyAdminMixin, OrgScopedAdmin):
    list_display = ["__str__", "plan", "owner", "due_on", "status"]
    list_filter = ["plan", "status"]
    list_select_related = ["plan", "owner__user"]


class ExpenseInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = Expense
    fields = ["date", "amount", "note", "over_budget", "recorded_by"]
    readonly_fields = fields


@admin.register(BudgetLine)
class BudgetLineAdmin(ReadOnlyAdminMixin, OrgScopedAdmin):
    list_display = ["__str__", "plan", "category", "member", "region", "amount"]
    list_filter = ["plan", "category"]
    list_select_related = ["plan", "member__user", "region"]
    inlines = [ExpenseInline]


@admin.register(Expense)
class ExpenseAdmin(ReadOnlyAdminMixin, OrgScopedAdmin):
    list_display = ["date", "budget", "amount", "over_budget", "recorded_by"]
    list_filter = ["over_budget"]
    list_select_related = ["budget", "recorded_by__user"]
    date_hierarchy = "date"


@admin.register(PlanTask)
class PlanTaskAdmin(ReadOnlyAdminMixin, OrgScopedAdmin):
    list_display = ["title", "plan", "owner", "region", "place", "due_at", "status"]
    list_filter = ["plan", "status"]
    list_select_related = ["plan", "owner__user", "region"]
    search_fields = ["title", "place"]
