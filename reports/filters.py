"""Filter sets of the reports endpoints. Dates are the organization's local dates."""

import datetime as dt
import re

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from agents.filters import SubtreeFilterMixin, org_customers, org_members, org_products, org_regions

from .models import (
    Activity,
    ActivityKind,
    DailyReport,
    FeedbackCategory,
    FeedbackStatus,
    MarketFeedback,
    SalesEntry,
    SalesSource,
    Urgency,
)


def _local_midnight(request, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=request.organization.tzinfo)


# Datetimes far from now overflow when shifted between timezones: keep filters in a sane range.
MIN_YEAR, MAX_YEAR = 1900, 9998


class BoundedDateField(forms.DateField):
    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
            raise forms.ValidationError(_("Use a date between 1900 and 9998."))
        return day


class LocalDateBoundFilter(django_filters.DateFilter):
    """`?x_after=YYYY-MM-DD` / `?x_before=...` on a datetime field, in the organization's
    timezone, both days included."""

    field_class = BoundedDateField

    def __init__(self, *args, bound: str, **kwargs):
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        request = self.parent.request
        if self.bound == "after":
            return queryset.filter(**{f"{self.field_name}__gte": _local_midnight(request, value)})
        next_day = value + dt.timedelta(days=1)
        return queryset.filter(**{f"{self.field_name}__lt": _local_midnight(request, next_day)})


class IsoWeekField(forms.CharField):
    """ "2026-W48" -> the Monday of that ISO week."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", value.strip(), flags=re.IGNORECASE)
        if match and MIN_YEAR <= int(match[1]) <= MAX_YEAR:
            try:
                return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
            except ValueError:
                pass
        raise forms.ValidationError(_("Use an ISO week such as 2026-W48."))


@extend_schema_field(OpenApiTypes.STR)
class IsoWeekFilter(django_filters.Filter):
    field_class = IsoWeekField

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        request = self.parent.request
        start = _local_midnight(request, value)
        end = _local_midnight(request, value + dt.timedelta(days=7))
        return queryset.filter(**{f"{self.field_name}__gte": start, f"{self.field_name}__lt": end})


def region_subtree_filter(lookup: str):
    """`?region=<id>`: the region and its sub-regions (one prefix match on the region path)."""

    def method(self, queryset, name, value):
        return queryset.filter(**{f"{lookup}__path__startswith": value.path})

    return method


class DailyReportFilter(SubtreeFilterMixin):
    subtree_prefix = "member__"
    member = django_filters.ModelChoiceFilter(queryset=org_members)
    date = django_filters.DateFromToRangeFilter()
    region = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=org_regions,
            method="filter_region",
            label=_("Region of the member (with sub-regions)"),
        )
    )
    filter_region = region_subtree_filter("member__region")

    class Meta:
        model = DailyReport
        fields = ["member", "date", "region", "subtree_of", "is_late"]


class SalesEntryFilter(SubtreeFilterMixin):
    subtree_prefix = "member__"
    member = django_filters.ModelChoiceFilter(queryset=org_members)
    product = django_filters.ModelChoiceFilter(queryset=org_products)
    customer = django_filters.ModelChoiceFilter(queryset=org_customers)
    source = django_filters.ChoiceFilter(choices=SalesSource.choices)
    date = django_filters.DateFromToRangeFilter()
    region = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=org_regions,
            method="filter_region",
            label=_("Region of the sale (with sub-regions)"),
        )
    )
    filter_region = region_subtree_filter("region")

    class Meta:
        model = SalesEntry
        fields = ["member", "product", "customer", "source", "date", "region", "subtree_of"]


class ActivityFilter(SubtreeFilterMixin):
    subtree_prefix = "member__"
    member = django_filters.ModelChoiceFilter(queryset=org_members)
    customer = django_filters.ModelChoiceFilter(queryset=org_customers)
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices)
    occurred_after = LocalDateBoundFilter(field_name="occurred_at", bound="after")
    occurred_before = LocalDateBoundFilter(field_name="occurred_at", bound="before")

    class Meta:
        model = Activity
        fields = ["member", "customer", "kind", "occurred_after", "occurred_before", "subtree_of"]


class FeedbackFilter(SubtreeFilterMixin):
    subtree_prefix = "author__"
    category = django_filters.ChoiceFilter(choices=FeedbackCategory.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    status = django_filters.ChoiceFilter(choices=FeedbackStatus.choices)
    region = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=org_regions, method="filter_region", label=_("Region (with sub-regions)")
        )
    )
    filter_region = region_subtree_filter("region")
    product = django_filters.ModelChoiceFilter(queryset=org_products)
    competitor = django_filters.CharFilter(lookup_expr="icontains")
    week = IsoWeekFilter(field_name="created_at", label=_("ISO week, e.g. 2026-W48"))
    created_after = LocalDateBoundFilter(field_name="created_at", bound="after")
    created_before = LocalDateBoundFilter(field_name="created_at", bound="before")
    author = django_filters.ModelChoiceFilter(queryset=org_members)
    assignee = django_filters.ModelChoiceFilter(queryset=org_members)

    class Meta:
        model = MarketFeedback
        fields = [
            "category",
            "urgency",
            "status",
            "region",
            "product",
            "competitor",
            "week",
            "created_after",
            "created_before",
            "author",
            "assignee",
            "subtree_of",
        ]
