"""The admin for the people who run an organization (and for the platform's superusers).

Tenancy is enforced by agents/admin_base.py. Writes that keep the hierarchy right (member and
region trees, organization settings) go through agents.services; the forms check beforehand what
those services would refuse, so that a refusal is a form error and never a server error.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from . import services
from .admin_audit import AuditHistoryLinkMixin
from .admin_base import (
    OrgScopedAdmin,
    OrgScopedModelForm,
    OrgScopedTabularInline,
    ReadOnlyInlineMixin,
    admin_actor,
    scope_q,
)
from .admin_imports import (
    CUSTOMER_IMPORT,
    MEMBER_IMPORT,
    PRODUCT_IMPORT,
    SpreadsheetImportAdminMixin,
)
from .admin_invitations import InvitationAdmin  # noqa: F401 - registers the admin
from .audit import audit_record, audit_snapshot
from .errors import Conflict
from .models import (
    AgentLevel,
    CalendarDay,
    Customer,
    Membership,
    MemberStatus,
    Organization,
    Product,
    Region,
    Role,
    User,
    default_workdays,
)
from .permissions import MANAGERS
from .services import (
    MEMBER_FIELDS,
    SETTINGS_FIELDS,
    calendar_prefill,
    member_create,
    member_update,
    organization_settings_update,
    region_update,
    tree_node_place,
)

ISO_WEEKDAYS = [(number + 1, name) for number, name in WEEKDAYS.items()]


def _member_count(field: str):
    """How many members (who have not left) point at the row through `field`, as a subquery:
    an aggregate join would group the rows and drop the models' default ordering."""
    members = (
        Membership.objects.filter(**{field: OuterRef("pk")})
        .exclude(status=MemberStatus.LEFT)
        .order_by()
        .values(field)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(members, output_field=IntegerField()), 0)


def service_check_errors(form, check, *, permission_field=None, **kwargs) -> None:
    """Run a service's check and show what it refuses as form errors, so the admin applies
    exactly the rules the API does. A missing power is shown on `permission_field`."""
    try:
        check(**kwargs)
    except ValidationError as exc:
        form.add_error(None, exc)
    except PermissionDenied as exc:
        field = permission_field if permission_field in form.fields else None
        form.add_error(field, str(exc))
    except Conflict as exc:
        form.add_error(None, exc.message)


# --- Users (platform operators only) -------------------------------------------------------------


class MembershipOfUserInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("organization", "role", "status", "upline", "region", "code")
    readonly_fields = fields
    verbose_name_plural = _("memberships")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("organization", "upline__user", "region")
        )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """People's accounts span organizations, so only superusers see them."""

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal info"),
            {"fields": ("display_name", "first_name", "last_name", "email", "language")},
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (*DjangoUserAdmin.add_fieldsets[0][1]["fields"], "display_name", "email"),
            },
        ),
    )
    list_display = (
        "username",
        "display_name",
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
    )
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    inlines = [MembershipOfUserInline]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


# --- Organizations -------------------------------------------------------------------------------


class SecretField(forms.CharField):
    """A secret that is never rendered back; an empty submission keeps the stored value."""

    widget = forms.PasswordInput(render_value=False)

    def has_changed(self, initial, data):
        return bool(data)


class OrganizationAdminForm(forms.ModelForm):
    workdays = forms.TypedMultipleChoiceField(
        label=capfirst(_("working weekdays")),
        choices=ISO_WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=default_workdays,
    )
    webhook_secret = SecretField(
        label=capfirst(_("webhook secret")),
        max_length=200,
        required=False,
        help_text=_("Not shown once saved. Leave empty to keep the current secret."),
    )
    clear_webhook_secret = forms.BooleanField(
        label=capfirst(_("remove the webhook secret")), required=False
    )

    class Meta:
        model = Organization
        fields = ("name",)  # the admin's fieldsets decide

    def clean_workdays(self):
        return sorted(self.cleaned_data["workdays"])

    def clean_webhook_secret(self):
        return self.cleaned_data.get("webhook_secret") or self.instance.webhook_secret

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("clear_webhook_secret"):
            cleaned_data["webhook_secret"] = ""
        return cleaned_data


class CalendarDayInline(OrgScopedTabularInline):
    model = CalendarDay
    fields = ("date", "is_workday", "name")
    extra = 0
    ordering = ("date",)


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin):
    """Staff see and configure their own organizations; creating and deleting tenants is the
    platform operator's (superuser's) business."""

    organization_lookup = "pk"
    form = OrganizationAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "name",
        "slug",
        "timezone",
        "currency",
        "member_count",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active", "created_at")}),
        (_("Locale"), {"fields": ("timezone", "currency", "language", "country")}),
        (_("Daily rhythm"), {"fields": ("workdays", "report_cutoff", "reminder_time")}),
        (_("Webhook"), {"fields": ("webhook_url", "webhook_secret", "clear_webhook_secret")}),
        (_("Policies"), {"fields": ("policies",)}),
    )
    inlines = [CalendarDayInline]
    actions = ["prefill_calendar"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=_member_count("organization"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("created_at",)
        return ("slug", "is_active", "created_at")

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if obj is None else {}

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.save()
            this_year = obj.local_today().year
            for year in (this_year, this_year + 1):
                calendar_prefill(organization=obj, year=year)
            return
        data = {key: form.cleaned_data[key] for key in form.changed_data if key in SETTINGS_FIELDS}
        if form.cleaned_data.get("clear_webhook_secret"):
            data["webhook_secret"] = ""
        organization_settings_update(
            organization=obj, actor=admin_actor(request, obj), data=data, context={"via": "admin"}
        )

    @admin.action(
        description=_("Prefill statutory holidays for this year and next"),
        permissions=["change"],
    )
    def prefill_calendar(self, request, queryset):
        added = 0
        for organization in queryset:  # a handful of organizations, one bulk insert each year
            this_year = organization.local_today().year
            for year in (this_year, this_year + 1):
                added += calendar_prefill(organization=organization, year=year)
        message = ngettext_lazy(
            "%(count)d calendar day added.", "%(count)d calendar days added.", "count"
        )
        self.message_user(request, message % {"count": added})


# --- Members -------------------------------------------------------------------------------------


class MembershipChangeForm(OrgScopedModelForm):
    """Checks what member_update would refuse, so that a refusal is a form error."""

    display_name = forms.CharField(
        label=capfirst(_("display name")), max_length=150, required=False
    )
    #: Set on the class that MembershipAdmin.get_form builds for each request.
    admin_request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("display_name", self.instance.user.display_name)

    def clean(self):
        cleaned_data = super().clean()
        organization = cleaned_data.get("organization") or getattr(
            self.instance, "organization", None
        )
        if organization is None:
            return cleaned_data
        actor = admin_actor(self.admin_request, organization)
        if self.instance.pk:
            data = {
                key: cleaned_data[key]
                for key in services.MEMBER_FIELDS
                if key in cleaned_data and key not in self.errors
            }
            service_check_errors(
                self,
                services.member_change_check,
                permission_field="role" if "role" in self.changed_data else None,
                organization=organization,
                actor=actor,
                member=self.instance,
                data=data,
            )
        else:
            service_check_errors(
                self,
                services.member_create_check,
                permission_field="role",
                organization=organization,
                actor=actor,
                role=cleaned_data.get("role", Role.AGENT),
                upline=cleaned_data.get("upline"),
                code=cleaned_data.get("code", ""),
            )
        return cleaned_data


class MembershipAddForm(MembershipChangeForm):
    """Adds an existing person, or creates the account of a new one (as member_create does)."""

    # Replaced per request in MembershipAdmin.get_form (choices depend on the user).
    existing_user = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    offers_existing_users = True
    new_username = forms.CharField(
        label=capfirst(_("username")),
        max_length=150,
        required=False,
        validators=[UnicodeUsernameValidator()],
    )
    email = forms.EmailField(label=capfirst(_("email address")), required=False)
    new_password = forms.CharField(
        label=capfirst(_("password")),
        strip=False,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )

    def clean(self):
        cleaned_data = super().clean()
        existing_user = cleaned_data.get("existing_user")
        username = cleaned_data.get("new_username")
        organization = cleaned_data.get("organization")
        if existing_user and username:
            self.add_error(None, _("Choose an existing user or create a new one, not both."))
        elif existing_user:
            if (
                organization
                and Membership.objects.filter(
                    organization=organization, user=existing_user
                ).exists()
            ):
                self.add_error(
                    "existing_user", _("This person is already a member of the organization.")
                )
        elif username:
            self._check_new_user(cleaned_data, username)
        elif not self.offers_existing_users:
            if "new_username" not in self.errors:
                self.add_error("new_username", _("Enter the new person's username."))
        elif "existing_user" not in self.errors and "new_username" not in self.errors:
            self.add_error(None, _("Choose an existing user or create a new one."))
        return cleaned_data

    def _check_new_user(self, cleaned_data, username) -> None:
        if User.objects.filter(username__iexact=username).exists():
            self.add_error("new_username", _("This username is taken."))
            return
        password = cleaned_data.get("new_password")
        if not password:
            self.add_error("new_password", _("A new user needs a password."))
            return
        user = User(
            username=username,
            display_name=cleaned_data.get("display_name", ""),
            email=cleaned_data.get("email", ""),
        )
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            self.add_error("new_password", exc)


@admin.register(Membership)
class MembershipAdmin(SpreadsheetImportAdminMixin, AuditHistoryLinkMixin, OrgScopedAdmin):
    import_spec = MEMBER_IMPORT
    form = MembershipChangeForm
    add_form = MembershipAddForm
    list_display = (
        "member_name",
        "username",
        "role",
        "status",
        "upline",
        "region",
        "level",
        "code",
        "depth",
        "joined_on",
    )
    list_filter = ("role", "status", "region", "level")
    search_fields = (
        "user__username",
        "user__display_name",
        "user__first_name",
        "user__last_name",
        "code",
    )
    list_select_related = ("user", "upline__user", "region", "level")
    autocomplete_fields = ("upline", "region", "level")
    date_hierarchy = "joined_on"
    place_fields = ("role", "status", "upline", "region", "level", "code", "joined_on")
    fieldsets = (
        (None, {"fields": ("organization", "user", "display_name")}),
        (_("Place in the team"), {"fields": place_fields}),
        (_("Hierarchy"), {"fields": ("path", "depth", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"fields": ("organization", "existing_user")}),
        (
            _("Or a new person"),
            {"fields": ("new_username", "display_name", "email", "new_password")},
        ),
        (_("Place in the team"), {"fields": place_fields}),
    )

    @admin.display(description=_("display name"), ordering="user__display_name")
    def member_name(self, obj):
        # Indented by depth: the default order (by path) lists each downline under its upline.
        return format_html(
            '<span style="padding-left: {}em">{}</span>', obj.depth, obj.display_name
        )

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, obj):
        return obj.user.username

    def _offers_existing_users(self, request) -> bool:
        """Staff of one organization can add only new people: everybody they may see is already
        a member there. Staff of several can add a member of one organization to another."""
        organization_ids = self.organization_ids(request)
        return organization_ids is None or len(organization_ids) > 1

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        if self._offers_existing_users(request):
            return self.add_fieldsets
        new_person = ("organization", "new_username", "display_name", "email", "new_password")
        return ((_("New person"), {"fields": new_person}), self.add_fieldsets[-1])

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "path", "depth", "created_at", "updated_at")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        form = super().get_form(request, obj, **kwargs)
        form.admin_request = request
        if obj is None:
            form.offers_existing_users = self._offers_existing_users(request)
            form.base_fields["existing_user"] = self._existing_user_field(request)
        return form

    def _existing_user_field(self, request) -> forms.ModelChoiceField:
        organization_ids = self.organization_ids(request)
        if organization_ids is None:
            queryset = User.objects.order_by("username")
            widget = AutocompleteSelect(Membership._meta.get_field("user"), self.admin_site)
        elif len(organization_ids) > 1:
            # Staff may not browse the platform's users: people of their own organizations only.
            queryset = User.objects.filter(scope_q(User, organization_ids)).order_by("username")
            widget = forms.Select
        else:
            queryset, widget = User.objects.none(), forms.HiddenInput
        return forms.ModelChoiceField(
            queryset=queryset,
            widget=widget,
            required=False,
            label=capfirst(_("existing user")),
            help_text=_("A person who already has an account."),
        )

    def _acts_as_owner(self, request, obj) -> bool:
        return admin_actor(request, obj.organization).role == Role.OWNER

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # Only an owner edits owners and administrators; an admin sees them read-only.
        return obj is None or obj.role not in MANAGERS or self._acts_as_owner(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        # Organization staff never delete an owner (the last one would leave the organization
        # ownerless; one sets status "left" instead); admins only by an owner.
        if obj.role == Role.OWNER:
            return False
        return obj.role != Role.ADMIN or self._acts_as_owner(request, obj)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Membership.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        """Deleting members is recorded in the audit trail (members_delete), one entry each."""
        actors: dict[int, Membership] = {}

        def actor_for(organization):
            if organization.pk not in actors:
                actors[organization.pk] = admin_actor(request, organization)
            return actors[organization.pk]

        services.members_delete(
            members=list(queryset.select_related("organization", "user")),
            actor_for=actor_for,
            context={"via": "admin"},
        )

    def save_model(self, request, obj, form, change):
        organization = obj.organization
        actor = admin_actor(request, organization)
        data = form.cleaned_data
        if change:
            changes = {key: data[key] for key in form.changed_data if key in MEMBER_FIELDS}
            if "display_name" in form.changed_data:
                changes["display_name"] = data["display_name"]
            member_update(organization=organization, actor=actor, member=obj, data=changes)
        elif data.get("new_username"):
            member = member_create(
                organization=organization,
                actor=actor,
                username=data["new_username"],
                password=data["new_password"],
                display_name=data.get("display_name", ""),
                email=data.get("email", ""),
                role=obj.role,
                upline=obj.upline,
                region=obj.region,
                level=obj.level,
                status=obj.status,
                code=obj.code,
                joined_on=obj.joined_on,
            )
            # The admin goes on with its own instance (logging, redirect): make it the new row.
            obj.pk = member.pk
            obj.refresh_from_db()
            obj._state.adding = False
        else:
            user = data["existing_user"]
            if data.get("display_name"):
                user.display_name = data["display_name"]
                user.save(update_fields=["display_name"])
            obj.user = user
            obj.save()
            if obj.upline is not None:
                obj.upline.refresh_from_db(fields=["path", "depth"])
            tree_node_place(node=obj, parent=obj.upline)
            audit_record(
                organization=organization,
                actor=actor,
                action="member.create",
                instance=obj,
                after=audit_snapshot(obj, MEMBER_FIELDS),
                context={"via": "admin"},
            )


# --- Regions and levels --------------------------------------------------------------------------


class RegionAdminForm(OrgScopedModelForm):
    """Checks what region_update would refuse, so that a refusal is a form error."""

    def clean(self):
        cleaned_data = super().clean()
        organization_id = self.form_organization_id()
        if organization_id is None or "parent" in self.errors or "name" in self.errors:
            return cleaned_data
        service_check_errors(
            self,
            services.region_change_check,
            organization=Organization.objects.get(pk=organization_id),
            region=self.instance,
            data={key: cleaned_data.get(key) for key in ("name", "parent")},
        )
        return cleaned_data


class RegionChildrenInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = Region
    fk_name = "parent"
    fields = ("name", "code")
    readonly_fields = fields
    verbose_name = _("sub-region")
    verbose_name_plural = _("sub-regions")


@admin.register(Region)
class RegionAdmin(OrgScopedAdmin):
    form = RegionAdminForm
    list_display = ("indented_name", "code", "parent", "member_count", "depth")
    search_fields = ("name", "code")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    fields = ("organization", "name", "code", "parent", "path", "depth")
    readonly_fields = ("path", "depth")
    inlines = [RegionChildrenInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=_member_count("region"))

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return format_html('<span style="padding-left: {}em">{}</span>', obj.depth, obj.name)

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def save_model(self, request, obj, form, change):
        if change:
            changes = {
                key: form.cleaned_data[key]
                for key in form.changed_data
                if key in ("name", "code", "parent")
            }
            region_update(organization=obj.organization, region=obj, data=changes)
            return
        obj.save()
        if obj.parent is not None:
            obj.parent.refresh_from_db(fields=["path", "depth"])
        tree_node_place(node=obj, parent=obj.parent)


@admin.register(AgentLevel)
class AgentLevelAdmin(OrgScopedAdmin):
    list_display = ("name", "rank", "member_count")
    search_fields = ("name",)
    ordering = ("rank",)
    fields = ("organization", "name", "rank", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=_member_count("level"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


# --- Catalogs ------------------------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(SpreadsheetImportAdminMixin, OrgScopedAdmin):
    import_spec = PRODUCT_IMPORT
    list_display = ("sku", "name", "category", "price", "cost", "is_hero", "is_active")
    list_display_links = ("sku", "name")
    list_editable = ("price", "is_hero", "is_active")
    list_filter = ("category", "is_hero", "is_active")
    search_fields = ("sku", "name", "category")
    fields = ("organization", "sku", "name", "category", "price", "cost", "is_hero", "is_active")


@admin.register(Customer)
class CustomerAdmin(SpreadsheetImportAdminMixin, OrgScopedAdmin):
    import_spec = CUSTOMER_IMPORT
    list_display = (
        "name",
        "kind",
        "status",
        "owner",
        "region",
        "first_order_on",
        "lost_on",
        "created_at",
    )
    list_filter = ("kind", "status", "region")
    search_fields = (
        "name",
        "owner__user__username",
        "owner__user__display_name",
        "owner__code",
    )
    list_select_related = ("owner__user", "region")
    autocomplete_fields = ("owner", "region")
    fieldsets = (
        (None, {"fields": ("organization", "name", "kind", "status", "owner", "region")}),
        (_("History"), {"fields": ("first_order_on", "lost_on", "lost_reason")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(OrgScopedAdmin):
    list_display = ("date", "weekday", "is_workday", "name")
    list_editable = ("is_workday", "name")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"
    fields = ("organization", "date", "is_workday", "name")

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return WEEKDAYS[obj.date.weekday()]
