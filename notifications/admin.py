"""The notifications admin: what was sent to whom, what is still in the outbox, which scheduled
runs happened. The rows are written by the system, so the admin only reads them; a failed
delivery can be sent again."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_base import OrgScopedAdmin

from . import services
from .models import Delivery, DeliveryStatus, JobRun, Notification


class ReadOnlyAdmin(OrgScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("title", "recipient", "kind", "created_at", "read_at")
    list_filter = ("kind", "created_at")
    list_select_related = ("recipient__user",)
    search_fields = ("title", "dedupe_key", "recipient__user__username")
    date_hierarchy = "created_at"
    fields = ("recipient", "kind", "title", "body", "link", "dedupe_key", "created_at", "read_at")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("dedupe_key", "channel", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("dedupe_key",)
    fields = (
        "notification",
        "channel",
        "dedupe_key",
        "content",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ["send_again"]

    @admin.action(description=_("Send the selected failed deliveries again"))
    def send_again(self, request, queryset):
        failed = list(queryset.filter(status=DeliveryStatus.FAILED))
        with transaction.atomic():
            for delivery in failed:
                services.delivery_retry(delivery=delivery)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                len(failed),
            )
            % {"count": len(failed)},
            messages.SUCCESS,
        )


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "local_date", "status", "attempts", "started_at", "finished_at")
    list_filter = ("job", "status")
    date_hierarchy = "local_date"
    fields = (
        "job",
        "local_date",
        "status",
        "attempts",
        "enqueued_at",
        "started_at",
        "finished_at",
        "last_error",
    )
    readonly_fields = fields
