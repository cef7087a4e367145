"""The admin of what happened. Facts are shown, not edited: daily reports, sales, activities and
feedback are written by members through the API, whose services keep their rules (the editing
window, report lines as sales facts, profit at the cost of the day, the feedback workflow). The
admin's writes are the same services, as actions: unlock reports, escalate feedback."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_base import (
    OrgScopedAdmin,
    OrgScopedTabularInline,
    ReadOnlyInlineMixin,
    admin_actor,
)
from agents.admin_exports import export_selection
from agents.admin_filters import RegionTreeListFilter
from agents.errors import Conflict

from . import exports, services
from .models import Activity, DailyReport, FeedbackComment, MarketFeedback, SalesEntry


class FactAdmin(OrgScopedAdmin):
    """Read-only: view permission follows the organization, nothing is added, changed or
    deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class ReportLineInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = SalesEntry
    fk_name = "daily_report"
    fields = ("product", "customer", "quantity", "amount", "collected", "profit")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("sales lines")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "customer").order_by("id")


@admin.register(DailyReport)
class DailyReportAdmin(FactAdmin):
    list_display = (
        "date",
        "member",
        "followups",
        "communication_minutes",
        "orders",
        "new_customers",
        "is_late",
        "submitted_at",
        "unlocked_at",
    )
    list_filter = ("is_late", "date")
    search_fields = ("member__user__username", "member__user__display_name", "member__code")
    list_select_related = ("member__user",)
    date_hierarchy = "date"
    inlines = [ReportLineInline]
    actions = ["unlock", "export_xlsx"]

    @admin.action(description=_("Export to Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return export_selection(
            self,
            request,
            queryset,
            lambda organization, rows: exports.daily_reports_export(
                organization=organization, queryset=rows
            ),
        )

    @admin.action(description=_("Unlock the selected reports for corrections"))
    def unlock(self, request, queryset):
        unlocked = 0
        for report in queryset.select_related("organization", "member"):
            try:
                services.daily_report_unlock(
                    organization=report.organization,
                    actor=admin_actor(request, report.organization),
                    report=report,
                )
            except (Conflict, PermissionDenied):
                continue
            unlocked += 1
        self.message_user(
            request,
            ngettext("%(count)d report unlocked.", "%(count)d reports unlocked.", unlocked)
            % {"count": unlocked},
            messages.SUCCESS,
        )


@admin.register(SalesEntry)
class SalesEntryAdmin(FactAdmin):
    list_display = (
        "date",
        "member",
        "product",
        "customer",
        "region",
        "quantity",
        "amount",
        "collected",
        "profit",
        "source",
    )
    # The admin dashboard's bars drill down here: ?region_tree=<id> or ?product__id__exact=<id>.
    list_filter = ("source", "date", "region", RegionTreeListFilter, "product")
    search_fields = ("member__user__username", "member__code", "product__sku", "customer__name")
    list_select_related = ("member__user", "product", "customer", "region")
    date_hierarchy = "date"


@admin.register(Activity)
class ActivityAdmin(FactAdmin):
    list_display = ("occurred_at", "member", "kind", "customer", "duration_minutes", "outcome")
    list_filter = ("kind",)
    search_fields = ("member__user__username", "member__code", "outcome", "note")
    list_select_related = ("member__user", "customer")
    date_hierarchy = "occurred_at"


class FeedbackCommentInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = FeedbackComment
    fields = ("created_at", "author", "body")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author__user")


@admin.register(MarketFeedback)
class MarketFeedbackAdmin(FactAdmin):
    list_display = (
        "title",
        "category",
        "urgency",
        "status",
        "author",
        "assignee",
        "respond_by",
        "escalation_level",
        "created_at",
    )
    list_filter = ("status", "urgency", "category", "region")
    search_fields = ("title", "body", "competitor")
    list_select_related = ("author__user", "assignee__user")
    date_hierarchy = "created_at"
    inlines = [FeedbackCommentInline]
    actions = ["escalate"]

    @admin.action(description=_("Escalate the selected feedback one level up"))
    def escalate(self, request, queryset):
        escalated = sum(
            services.feedback_escalate(
                organization=feedback.organization,
                feedback=feedback,
                from_level=feedback.escalation_level,
            )
            for feedback in queryset.select_related("organization")
        )
        self.message_user(
            request,
            ngettext("%(count)d feedback escalated.", "%(count)d feedback escalated.", escalated)
            % {"count": escalated},
            messages.SUCCESS,
        )
