"""The project's filter backend: django-filter, with boolean filters that refuse what they do not
understand. django-filter reads `?flag=banana` as "no filter" and answers everything; the
contract (../shared/API.md, "Errors") wants bad input to be a 400 naming the parameter."""

import django_filters
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

_BOOLEAN_VALUES = {"", "true", "false"}  # what both of django-filter's boolean widgets read


def _parameters(name: str, filter_) -> list[str]:
    """The query parameters a filter reads one value from each (a range reads two: `date_after`
    and `date_before`); none for a filter that takes several values."""
    widget = filter_.field.widget
    if getattr(widget, "allow_multiple_selected", False):
        return []
    suffixes = getattr(widget, "suffixes", None)
    if suffixes:
        return [widget.suffixed(name, suffix) for suffix in suffixes]
    return [name]


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, with a 400 naming the parameter for what it would silently ignore or
    guess: a boolean that is not true or false, and a one-value parameter given more than once
    (django-filter used the last one)."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        params = request.query_params
        for name, filter_ in filterset.filters.items():
            for parameter in _parameters(name, filter_):
                if len(params.getlist(parameter)) > 1:
                    errors[parameter] = [_("Give one value.")]
            if not isinstance(filter_, django_filters.BooleanFilter):
                continue
            for value in params.getlist(name):
                if value.lower() not in _BOOLEAN_VALUES:
                    errors[name] = [_("Must be true or false.")]
        if errors:
            raise ValidationError(errors)
        return filterset


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` with a field the view does not offer is a 400, not silently ignored."""

    def get_ordering(self, request, queryset, view):
        values = request.query_params.getlist(self.ordering_param)
        if len(values) > 1:
            raise ValidationError({self.ordering_param: [_("Give one ordering, comma-separated.")]})
        if values and values[0].strip():
            terms = [term.strip() for term in values[0].split(",")]
            context = {"request": request}
            valid = {item[0] for item in self.get_valid_fields(queryset, view, context)}
            if any(not term or term.lstrip("-") not in valid for term in terms):
                raise ValidationError({self.ordering_param: [_("Unknown ordering field.")]})
        return super().get_ordering(request, queryset, view)


class StrictSearchFilter(SearchFilter):
    """`?search=` given more than once is a 400: the schema has one term (words separated by
    spaces), and DRF would silently use the last one. A term DRF refuses (a null character) is a
    400 naming `search`, where DRF's answer named no parameter."""

    def get_search_terms(self, request):
        if len(request.query_params.getlist(self.search_param)) > 1:
            raise ValidationError({self.search_param: [_("Give one search term.")]})
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from None
