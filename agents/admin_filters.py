"""Changelist filters shared by the apps' admins.

`RegionTreeListFilter`: a region together with its sub-regions (`?region_tree=<id>`), as the
plans' attainment by region counts them (a sale in 上海 counts for 华东). The admin dashboard's
region bars link to the sales changelist filtered this way.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .admin_base import request_organization_ids
from .models import Region


class RegionTreeListFilter(admin.SimpleListFilter):
    """For a model with a `region` foreign key. Offers the administered organizations' regions
    only; a region that is not one of them filters everything out."""

    title = _("region and its sub-regions")
    parameter_name = "region_tree"

    def _regions(self, request):
        regions = Region.objects.all()
        organization_ids = request_organization_ids(request)
        if organization_ids is not None:
            regions = regions.filter(organization_id__in=organization_ids)
        return regions

    def lookups(self, request, model_admin):
        return [
            (str(region.pk), "— " * max(region.path.count("/") - 2, 0) + region.name)
            for region in self._regions(request).order_by("organization_id", "path")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        region = (
            self._regions(request).filter(pk=int(value)).only("path").first()
            if value.isdigit() and len(value) < 19
            else None
        )
        if region is None:
            return queryset.none()
        return queryset.filter(
            region__organization_id=region.organization_id, region__path__startswith=region.path
        )
