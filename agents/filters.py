import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import AgentLevel, Customer, Membership, Product, Region


def org_queryset(model):
    """A django-filter choice queryset of the request's organization's rows: an id of another
    organization is an invalid choice (400), like an unknown one."""

    def queryset(request):
        organization = getattr(request, "organization", None)
        if organization is None:
            return model.objects.none()
        return model.objects.filter(organization=organization)

    return queryset


org_members = org_queryset(Membership)
org_regions = org_queryset(Region)
org_levels = org_queryset(AgentLevel)
org_products = org_queryset(Product)
org_customers = org_queryset(Customer)


class SubtreeFilterMixin(django_filters.FilterSet):
    """`?subtree_of=<member id>`: the member and everyone below them, one indexed query."""

    subtree_prefix = ""
    subtree_of = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=org_members,
            method="filter_subtree_of",
            label=gettext_lazy("Subtree of member"),
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
