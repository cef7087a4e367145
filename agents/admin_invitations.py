"""Invitations in the admin: who was invited, by whom, and what became of it; a revoke action.

An invitation added here goes through agents.invitations like one made through the API (the same
checks, as form errors; the e-mail; the audit trail); its link is shown once, in the message
after saving. Only a hash of the token is stored, so an existing invitation is read-only.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import invitations
from .admin_base import OrgScopedAdmin, OrgScopedModelForm, admin_actor
from .errors import Conflict
from .models import Invitation, InvitationStatus

ADD_FIELDS = ("organization", "email", "username", "role", "upline", "region", "level", "code")


class InvitationAddForm(OrgScopedModelForm):
    """Shows what invitation_create would refuse as form errors."""

    #: Set per request by InvitationAdmin.get_form.
    admin_request = None

    class Meta:
        model = Invitation
        fields = ADD_FIELDS

    def clean(self):
        cleaned_data = super().clean()
        organization = cleaned_data.get("organization")
        if organization is None or self.errors:
            return cleaned_data
        try:
            invitations.invitation_create_check(
                organization=organization,
                actor=admin_actor(self.admin_request, organization),
                email=cleaned_data.get("email", ""),
                username=cleaned_data.get("username", ""),
                role=cleaned_data.get("role"),
                upline=cleaned_data.get("upline"),
                code=cleaned_data.get("code", ""),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        except PermissionDenied as exc:
            self.add_error("role", str(exc))
        except Conflict as exc:
            self.add_error(None, exc.message)
        return cleaned_data


@admin.register(Invitation)
class InvitationAdmin(OrgScopedAdmin):
    list_display = (
        "__str__",
        "role",
        "status_now",
        "upline",
        "invited_by",
        "expires_at",
        "accepted_by",
        "created_at",
    )
    list_filter = ("status", "role")
    list_select_related = ("upline__user", "invited_by__user", "accepted_by__user")
    search_fields = ("email", "username", "code")
    date_hierarchy = "created_at"
    actions = ["revoke_selected"]
    fields = (
        "organization",
        "email",
        "username",
        "role",
        "upline",
        "region",
        "level",
        "code",
        "status",
        "expires_at",
        "invited_by",
        "send_count",
        "last_sent_at",
        "accepted_by",
        "accepted_at",
        "revoked_at",
        "created_at",
        "token_hash",
    )

    def get_fields(self, request, obj=None):
        return ADD_FIELDS if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = InvitationAddForm
        form = super().get_form(request, obj, **kwargs)
        form.admin_request = request
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return  # read-only
        data = form.cleaned_data
        invitation, token = invitations.invitation_create(
            organization=data["organization"],
            actor=admin_actor(request, data["organization"]),
            **{name: data.get(name) for name in ADD_FIELDS if name != "organization"},
        )
        for field in Invitation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(invitation, field.attname))
        obj._state.adding = False
        self.message_user(
            request,
            format_html(
                "{} <code>{}</code>",
                gettext("The invitation link, shown only this once:"),
                invitations.invitation_link(token),
            ),
            messages.INFO,
        )

    @admin.display(description=_("status"), ordering="status")
    def status_now(self, obj):
        return InvitationStatus(obj.effective_status).label

    def has_change_permission(self, request, obj=None):
        # Viewing only; the revoke action asks has_revoke_permission.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return self.in_scope(request)

    @admin.action(description=_("Revoke the selected pending invitations"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = skipped = 0
        for invitation in queryset.select_related("organization"):
            try:
                invitations.invitation_revoke(
                    organization=invitation.organization,
                    actor=admin_actor(request, invitation.organization),
                    invitation=invitation,
                )
            except (Conflict, PermissionDenied):
                skipped += 1
            else:
                revoked += 1
        if revoked:
            self.message_user(
                request,
                ngettext("%(count)d invitation revoked.", "%(count)d invitations revoked.", revoked)
                % {"count": revoked},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d invitation was not pending and was left as it was.",
                    "%(count)d invitations were not pending and were left as they were.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
