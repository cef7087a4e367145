"""The tenancy machinery every organization-scoped endpoint stands on.

`OrgScopedMixin` takes the organization from the URL (`org_slug`), checks that the caller is a
member (else 404: another tenant's existence leaks nothing), applies the resource's declared
access rules (`access`: action -> Rule; a missing power is 403), narrows every queryset to the
organization and the caller's scope (objects outside answer 404), and injects the organization on
create. Views customise scope through `scope_queryset`, never by overriding `get_queryset`.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import mixins, permissions, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied

from agents.api.authentication import DeferredJWTMixin, DeferredUser
from agents.models import Membership, MemberStatus, Organization
from agents.permissions import Rule
from agents.selectors import member_scope_q, membership_for_user

SAFE_ACTIONS = frozenset({"list", "retrieve", "metadata"})


class TenantAccess(permissions.BasePermission):
    """Resolves the tenant and applies the view's declared rules."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False  # 401, from IsAuthenticated's answer
        view.resolve_tenant(request)
        rule = view.access_rule()
        if not rule.allows(view.membership.role):
            # Outside the caller's scope an object does not exist (404), even for a role that
            # could not act on it anyway: a 403 would confirm that it is there.
            view.ensure_object_in_scope()
            raise PermissionDenied(_("Your role does not allow this."))
        suspended = view.membership.status == MemberStatus.SUSPENDED
        if suspended and request.method not in permissions.SAFE_METHODS:
            view.ensure_object_in_scope()
            raise PermissionDenied(_("Your membership is suspended: you can only read."))
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        rule = view.access_rule()
        if view.membership.role in rule.own_only and not view.is_own(obj):
            raise PermissionDenied(_("You can only change your own records."))
        return True


class OrgScopedMixin(DeferredJWTMixin):
    """See the module docstring. Bearer tokens leave the user unread (DeferredJWTMixin):
    resolve_tenant reads it with the membership. Subclasses declare `queryset`, `access`, and
    where needed `member_scope` (the lookup path from the model to the Membership that owns a
    row, for per-member scoping; None means every member sees every row of the organization)
    and `own_field` (the field that names the row's owner, for `own_only` rules)."""

    permission_classes = [permissions.IsAuthenticated, TenantAccess]
    access: dict[str, Rule] = {}
    member_scope: str | None = None
    own_field: str | None = None

    organization: Organization
    membership: Membership

    # --- tenant ------------------------------------------------------------------------------
    def resolve_tenant(self, request) -> None:
        if hasattr(self, "membership"):
            return
        user = request.user
        membership = membership_for_user(user=user, org_slug=self.kwargs["org_slug"])
        if type(user) is DeferredUser and not user.is_loaded:
            # The bearer's user, read with the membership; simplejwt's 401s come first.
            if membership is None:
                user.load()
            else:
                user.resolve(membership.user)
                request.user = membership.user
        if membership is None:
            raise NotFound(_("No such organization."))
        self.membership = membership
        self.organization = membership.organization
        # For filter sets, whose choice querysets are built from the request.
        request.organization = membership.organization
        request.membership = membership

    def access_rule(self) -> Rule:
        action = getattr(self, "action", None)
        if action is None:  # a plain API view: rules are keyed by HTTP method
            method = self.request.method.lower()
            action = "get" if method in ("head", "options") else method
        elif action == "metadata":
            action = "list" if "list" in self.access else "retrieve"
        rule = self.access.get(action)
        if rule is None:
            # Fail closed: an action nobody declared is allowed to nobody.
            raise PermissionDenied(_("Your role does not allow this."))
        return rule

    def ensure_object_in_scope(self) -> None:
        """On a detail route, 404 unless the addressed object is in the caller's scope."""
        lookup_url_kwarg = getattr(self, "lookup_url_kwarg", None) or getattr(
            self, "lookup_field", None
        )
        if not lookup_url_kwarg or lookup_url_kwarg not in self.kwargs:
            return
        try:
            found = (
                self.get_queryset()
                .filter(**{self.lookup_field: self.kwargs[lookup_url_kwarg]})
                .exists()
            )
        except (ValueError, TypeError, DjangoValidationError):
            found = False
        if not found:
            raise NotFound()

    def is_own(self, obj) -> bool:
        if self.own_field is None:
            return False
        return getattr(obj, f"{self.own_field}_id") == self.membership.pk

    # --- scope -------------------------------------------------------------------------------
    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow to what the caller may see. The default follows `member_scope`."""
        if self.member_scope is None:
            return queryset
        prefix = f"{self.member_scope}__" if self.member_scope else ""
        return queryset.filter(member_scope_q(membership=self.membership, prefix=prefix))

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()  # schema generation has no tenant
        return self.scope_queryset(queryset.filter(organization=self.organization))

    # --- serializers -------------------------------------------------------------------------
    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "membership"):
            context["organization"] = self.organization
            context["membership"] = self.membership
        return context

    def perform_create(self, serializer):
        serializer.save(organization=self.organization)


class OrgScopedViewSet(OrgScopedMixin, viewsets.GenericViewSet):
    pass


class OrgScopedModelViewSet(
    OrgScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """CRUD with PATCH for updates (PUT is not offered: partial updates only)."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
