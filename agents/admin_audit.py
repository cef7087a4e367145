"""The audit trail in the admin: a read-only list of AuditEntry rows (nobody, not even a
superuser, adds, changes or deletes one), the "Audit history" link on the change pages of the
audited models, and `admin_audit_record` for admin saves that do not go through a service."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin_base import OrgScopedAdmin, admin_actor
from .audit import audit_record
from .models import AuditEntry


def admin_audit_record(request, *, obj, action: str, form, fields) -> None:
    """Record what an admin form changed of `fields`: before from the form's initial values,
    after from its cleaned data (no extra query). The actor is the user's owner/admin
    membership there, or, for a superuser, nobody's membership but their name."""
    changed = [name for name in form.changed_data if name in fields]
    if not changed:
        return
    audit_record(
        organization=obj.organization,
        actor=admin_actor(request, obj.organization),
        action=action,
        instance=obj,
        changes={name: [form.initial.get(name), form.cleaned_data.get(name)] for name in changed},
        context={"via": "admin"},
        only_if_changed=True,
    )


class AuditHistoryLinkMixin:
    """Adds "Audit history" beside "History" on a change page: the audit trail of this object."""

    change_form_template = "admin/agents/audit_history_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        query = urlencode(
            {"object_type": self.model._meta.label_lower, "object_id": str(object_id)}
        )
        extra_context = {
            **(extra_context or {}),
            "audit_history_url": f"{reverse('admin:agents_auditentry_changelist')}?{query}",
            "audit_history_label": gettext("Audit history"),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEntry)
class AuditEntryAdmin(OrgScopedAdmin):
    list_display = (
        "created_at",
        "action",
        "object_type",
        "object_repr",
        "actor_display",
        "summary",
    )
    list_filter = ("action", "object_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("object_repr", "actor_display")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = (
        "organization",
        "created_at",
        "actor",
        "actor_display",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes_table",
        "context_json",
    )
    readonly_fields = fields
    list_select_related = ("organization",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def lookup_allowed(self, lookup, value, request=None):
        # The change pages' "Audit history" links filter by object.
        if lookup in ("object_type", "object_id"):
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("changes"))
    def summary(self, obj):
        return ", ".join(obj.changes)[:120]

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        if not obj.changes:
            return "-"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (name, _json(values[0]), _json(values[1]))
                for name, values in obj.changes.items()
                if isinstance(values, list) and len(values) == 2
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            gettext("field"),
            gettext("before"),
            gettext("after"),
            rows,
        )

    @admin.display(description=_("context"))
    def context_json(self, obj):
        return _json(obj.context) if obj.context else "-"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
