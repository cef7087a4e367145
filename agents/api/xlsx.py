"""What every XLSX export endpoint shares: content negotiation that never refuses the file's own
media type, the 400 for an export over the row cap, the description of the filters in force,
and the OpenAPI description of the binary answer."""

import datetime as dt

from django.db.models import Model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import ValidationError

from agents import xlsx

XLSX_RESPONSES = {
    (200, xlsx.XLSX_CONTENT_TYPE): OpenApiResponse(
        OpenApiTypes.BINARY,
        description=(
            "An .xlsx workbook (Content-Disposition: attachment, with a UTF-8 file name). More "
            "rows than the export limit (100,000 by default) is a 400 asking to narrow the "
            "filters."
        ),
    ),
}


class XlsxNegotiationMixin:
    """The export actions answer a workbook whatever the Accept header says (a browser asking
    for the spreadsheet media type gets it, not a 406); their error answers are JSON like
    everywhere else. `export_actions` names the viewset actions; a plain view (no action)
    sets `export_view = True`."""

    export_actions = frozenset({"export"})
    export_view = False

    def perform_content_negotiation(self, request, force=False):
        if self.export_view or getattr(self, "action", None) in self.export_actions:
            force = True
        return super().perform_content_negotiation(request, force=force)


def export_or_400(build):
    """Run `build()` (which returns an ExportFile) and answer the file; too many rows is a 400."""
    try:
        export = build()
    except xlsx.ExportTooLarge as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from exc
    return xlsx.xlsx_response(export)


def _display(value) -> str:
    if isinstance(value, slice):
        start = "" if value.start is None else _display(value.start)
        stop = "" if value.stop is None else _display(value.stop)
        return f"{start} – {stop}"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        # django-filter's date range: the days as given (midnight to the end of the day).
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value)
    return str(value)


def describe_filters(*, cleaned: dict, labels: dict) -> list[tuple[str, str]]:
    """(label, value) for each filter given, for the workbook's information sheet. `labels`
    maps parameter names to their (translated) labels and sets the order; others are left out."""
    described = []
    for name, label in labels.items():
        value = cleaned.get(name)
        if (
            value is None
            or value == ""
            or value == []
            or (isinstance(value, slice) and value.start is None and value.stop is None)
        ):
            continue
        described.append((str(label), _display(value)))
    return described


def applied_filters(view, queryset, labels: dict) -> list[tuple[str, str]]:
    """The view's django-filter values in force (already validated by `filter_queryset`),
    described for the information sheet."""
    for backend_class in view.filter_backends:
        backend = backend_class()
        if not hasattr(backend, "get_filterset"):
            continue
        filterset = backend.get_filterset(view.request, queryset, view)
        if filterset is not None and filterset.is_valid():
            return describe_filters(cleaned=filterset.form.cleaned_data, labels=labels)
    return []
