"""The admin's "Export to Excel" actions: the selected rows (already narrowed to the user's
organizations by OrgScopedAdmin) of one organization, built by the app's exports module."""

from collections.abc import Callable

from django.contrib import messages
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .models import Organization
from .xlsx import ExportFile, ExportTooLarge, xlsx_response


def export_selection(
    modeladmin,
    request,
    queryset: QuerySet,
    build: Callable[[Organization, QuerySet], ExportFile],
):
    """Answer the workbook of the selection, or come back to the changelist with a message when
    it spans organizations (their currencies and timezones differ) or is too large."""
    organization_ids = list(
        queryset.order_by().values_list("organization_id", flat=True).distinct()[:2]
    )
    if len(organization_ids) != 1:
        modeladmin.message_user(
            request, _("Select rows of one organization to export them."), messages.ERROR
        )
        return None
    organization = Organization.objects.get(pk=organization_ids[0])
    try:
        export = build(organization, queryset.filter(organization=organization))
    except ExportTooLarge as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return None
    return xlsx_response(export)
