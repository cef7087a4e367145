import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import AgentLevel, Customer, Membership, Product, Region


def org_members(request):
    organization = getattr(request, "organization", None)
    if organization is None:
        return Membership.objects.none()
    return Membership.objects.filter(organization=organization)


def org_regions(request):
    organization = getattr(request, "organization", None)
    if organization is None:
        return Region.objects.none()
    return Region.objects.filter(organization=organization)


def org_levels(request):
    organization = getattr(request, "organization", None)
    if organization is None:
        return AgentLevel.objects.none()
    return AgentLevel.objects.filter(organization=organization)


class SubtreeFilterMixin(django_filters.FilterSet):
    """`?subtree_of=<member id>`: the member and everyone below them, one indexed query."""

    subtree_prefix = ""
    subtree_of = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=org_members, method="filter_subtree_of", label="Subtree of member"
        )
    )

    def filter_subtree_of(self, queryset, name, value):
        return queryset.filter(**{f"{self.subtree_prefix}path__startswith": value.path})


class MemberFilter(SubtreeFilterMixin):
    upline = django_filters.ModelChoiceFilter(queryset=org_members)
    region = django_filters.ModelChoiceFilter(queryset=org_regions)
    level = django_filters.ModelChoiceFilter(queryset=org_levels)

    class Meta:
        model = Membership
        fields = ["role", "status", "upline", "region", "level", "subtree_of"]


class RegionFilter(django_filters.FilterSet):
    parent = django_filters.ModelChoiceFilter(queryset=org_regions)

    class Meta:
        model = Region
        fields = ["parent"]


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ["category", "is_hero", "is_active"]


class CustomerFilter(SubtreeFilterMixin):
    subtree_prefix = "owner__"
    owner = django_filters.ModelChoiceFilter(queryset=org_members)
    region = django_filters.ModelChoiceFilter(queryset=org_regions)

    class Meta:
        model = Customer
        fields = ["kind", "status", "owner", "region", "subtree_of"]
