"""The admin's tenancy rules, shared by every app's admin.

A superuser sees and changes everything. Any other staff user works only inside the
organizations where they are an owner or admin (membership not "left"): they see those rows only,
other organizations' rows do not exist for them (not listed; their URLs redirect like a deleted
object), and every choice a form or filter offers is narrowed to those organizations. Their power
comes from the membership, so they need no Django model permissions.

Every admin of a model with an `organization` foreign key subclasses `OrgScopedAdmin`, inlines
subclass `OrgScopedTabularInline` / `OrgScopedStackedInline`, and custom forms subclass
`OrgScopedModelForm`.
"""

import copy

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.utils import (
    NotRelationField,
    get_fields_from_path,
    get_model_from_relation,
)
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Membership, MemberStatus, Organization, Role, User

_CACHE_ATTR = "_admin_organization_ids"


def admin_organizations(user) -> list[int]:
    """Ids of the organizations a (non-superuser) user administers in the admin: those where
    they hold an owner or admin membership that has not ended, in an active organization."""
    if not user or not user.is_authenticated or not user.is_active or not user.is_staff:
        return []
    return sorted(
        Membership.objects.filter(
            user=user,
            role__in=(Role.OWNER, Role.ADMIN),
            organization__is_active=True,
        )
        .exclude(status=MemberStatus.LEFT)
        .values_list("organization_id", flat=True)
    )


def request_organization_ids(request) -> list[int] | None:
    """The organizations the request's user administers; None for a superuser (no limit).
    Asked once per request: a changelist consults it for every permission check."""
    if request.user.is_active and request.user.is_superuser:
        return None
    if not hasattr(request, _CACHE_ATTR):
        setattr(request, _CACHE_ATTR, admin_organizations(request.user))
    return getattr(request, _CACHE_ATTR)


def organization_id_of(obj) -> int | None:
    """The organization an object belongs to (an organization belongs to itself)."""
    if obj is None:
        return None
    if isinstance(obj, Organization):
        return obj.pk
    return getattr(obj, "organization_id", None)


def scope_q(model, organization_ids) -> Q | None:
    """A filter that keeps only the rows of `model` inside the given organizations; None when the
    model is not tenant data (its rows are not secret, e.g. a content type)."""
    if model is Organization:
        return Q(pk__in=organization_ids)
    if model is User:
        members = Membership.objects.filter(organization_id__in=organization_ids)
        return Q(pk__in=members.values("user_id"))
    try:
        field = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return None
    if field.is_relation and field.related_model is Organization:
        return Q(organization_id__in=organization_ids)
    return None


def admin_actor(request, organization: Organization) -> Membership:
    """The acting member that services expect. A superuser acts with an owner's powers (an
    unsaved membership: the platform operator is nobody's member); anyone else acts as their own
    owner/admin membership there."""
    if request.user.is_superuser:
        return Membership(organization=organization, user=request.user, role=Role.OWNER)
    return (
        Membership.objects.filter(
            organization=organization, user=request.user, role__in=(Role.OWNER, Role.ADMIN)
        )
        .exclude(status=MemberStatus.LEFT)
        .get()
    )


class OrgScopedRelatedFieldListFilter(RelatedFieldListFilter):
    """A related-field filter that offers only the administered organizations' rows."""

    def field_choices(self, field, request, model_admin):
        organization_ids = request_organization_ids(request)
        q = None
        if organization_ids is not None:
            q = scope_q(get_model_from_relation(field), organization_ids)
        if q is None:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to=q, ordering=ordering)


class OrgScopedModelForm(forms.ModelForm):
    """Refuses references to another organization's rows. Choices are already narrowed for
    organization staff; this also holds for superusers and for staff of several organizations,
    whose choices span organizations."""

    same_organization_error = _("Choose one from the same organization.")

    def form_organization_id(self) -> int | None:
        if "organization" in self.fields:
            organization = self.cleaned_data.get("organization")
            return organization.pk if organization is not None else None
        return organization_id_of(self.instance)

    def clean(self):
        cleaned_data = super().clean()
        organization_id = self.form_organization_id()
        if organization_id is None:
            return cleaned_data
        for name, value in list(cleaned_data.items()):
            if name == "organization" or value is None:
                continue
            values = value if isinstance(value, (list, tuple, QuerySet)) else [value]
            for item in values:
                item_organization_id = getattr(item, "organization_id", None)
                if item_organization_id is not None and item_organization_id != organization_id:
                    self.add_error(name, self.same_organization_error)
                    break
        return cleaned_data


class _OrgScopingMixin:
    """What admins and inlines share: the tenant filter and the narrowed choices."""

    #: Lookup from the model to its organization, for the queryset filter.
    organization_lookup = "organization"

    def organization_ids(self, request) -> list[int] | None:
        return request_organization_ids(request)

    def get_object_organization_id(self, obj) -> int | None:
        return organization_id_of(obj)

    def in_scope(self, request, obj=None) -> bool:
        """Whether the user administers any organization (obj None) or obj's organization."""
        organization_ids = self.organization_ids(request)
        if organization_ids is None:
            return True
        if obj is None:
            return bool(organization_ids)
        return self.get_object_organization_id(obj) in organization_ids

    def scope_queryset(self, request, queryset):
        organization_ids = self.organization_ids(request)
        if organization_ids is None:
            return queryset
        return queryset.filter(**{f"{self.organization_lookup}__in": organization_ids})

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def _scoped_choices(self, db_field, request, kwargs):
        organization_ids = self.organization_ids(request)
        if organization_ids is None or "queryset" in kwargs:
            return
        model = db_field.remote_field.model
        q = scope_q(model, organization_ids)
        if q is None:
            return
        queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        if queryset is None:
            queryset = model._default_manager.using(kwargs.get("using"))
        kwargs["queryset"] = queryset.filter(q)
        if model is Organization and len(organization_ids) == 1:
            # One organization: nothing to choose. The disabled field keeps its initial value
            # whatever is posted, so the row lands in that organization.
            kwargs.setdefault("initial", organization_ids[0])
            kwargs["disabled"] = True
            kwargs["widget"] = forms.HiddenInput()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OrgScopedAdmin(_OrgScopingMixin, admin.ModelAdmin):
    """The base of every admin for tenant data (models with an `organization` foreign key)."""

    form = OrgScopedModelForm

    # --- Permissions: organization staff need no Django model permissions ------------------

    def has_module_permission(self, request):
        if self.organization_ids(request) is None:
            return super().has_module_permission(request)
        return self.in_scope(request)

    def has_view_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_view_permission(request, obj)
        return self.in_scope(request, obj)

    def has_add_permission(self, request):
        if self.organization_ids(request) is None:
            return super().has_add_permission(request)
        return self.in_scope(request)

    def has_change_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_change_permission(request, obj)
        return self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_delete_permission(request, obj)
        return self.in_scope(request, obj)

    # --- Lists: the organization column and filter when there is more than one -------------

    def spans_organizations(self, request) -> bool:
        organization_ids = self.organization_ids(request)
        return organization_ids is None or len(organization_ids) > 1

    def _has_organization_field(self) -> bool:
        return self.organization_lookup == "organization" and any(
            field.name == "organization" for field in self.model._meta.fields
        )

    def get_list_display(self, request):
        list_display = list(super().get_list_display(request))
        if (
            self._has_organization_field()
            and self.spans_organizations(request)
            and "organization" not in list_display
        ):
            list_display.append("organization")
        return list_display

    def get_list_select_related(self, request):
        select_related = super().get_list_select_related(request)
        if (
            isinstance(select_related, (list, tuple))
            and self._has_organization_field()
            and "organization" not in select_related
        ):
            select_related = [*select_related, "organization"]
        return select_related

    def get_list_filter(self, request):
        """Related-field filters offer only the administered organizations' rows."""
        list_filter = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and self._is_relation_path(item):
                item = (item, OrgScopedRelatedFieldListFilter)
            list_filter.append(item)
        names = {item[0] if isinstance(item, tuple) else item for item in list_filter}
        if (
            self._has_organization_field()
            and self.spans_organizations(request)
            and "organization" not in names
        ):
            list_filter.append(("organization", OrgScopedRelatedFieldListFilter))
        return list_filter

    def _is_relation_path(self, path: str) -> bool:
        try:
            field = get_fields_from_path(self.model, path)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return False
        return bool(field.is_relation)

    # --- Forms: the organization is fixed once a row exists -----------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("organization")
        if obj is not None and field is not None:
            # A row never moves to another tenant: its trees, codes and facts belong there.
            # (A copy: a field declared on the form class is shared by every request.)
            form.base_fields["organization"] = field = copy.deepcopy(field)
            field.disabled = True
            if isinstance(field.widget, admin.widgets.RelatedFieldWidgetWrapper):
                field.widget = field.widget.widget
        return form

    def save_model(self, request, obj, form, change):
        if not change and self._has_organization_field() and obj.organization_id is None:
            organization_ids = self.organization_ids(request) or []
            if len(organization_ids) == 1:
                obj.organization_id = organization_ids[0]
        super().save_model(request, obj, form, change)


class _OrgScopedInlineMixin(_OrgScopingMixin):
    """Inline permissions follow the parent object's organization (`obj` is the parent)."""

    form = OrgScopedModelForm

    def has_view_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_view_permission(request, obj)
        return self.in_scope(request, obj)

    def has_add_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_add_permission(request, obj)
        return self.in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_change_permission(request, obj)
        return self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self.organization_ids(request) is None:
            return super().has_delete_permission(request, obj)
        return self.in_scope(request, obj)


class OrgScopedTabularInline(_OrgScopedInlineMixin, admin.TabularInline):
    pass


class OrgScopedStackedInline(_OrgScopedInlineMixin, admin.StackedInline):
    pass


class ReadOnlyInlineMixin:
    """An inline that lists related rows with links, never edits them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
