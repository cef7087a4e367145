"""Spreadsheet imports in the admin: an "Import" button on a changelist leads to an upload form
(the file, the organization among those the staff user administers, the import's options), then
to a preview of what would be created and updated, or of every row error, and a confirm button
that imports, all rows or none.

The importers (agents/imports.py, agents/imports_catalogs.py, plans/imports.py) keep the rules,
acting as the user's owner/admin membership in the chosen organization (a superuser acts with an
owner's powers: agents.admin_base.admin_actor). Between preview and confirm the uploaded file waits
in the cache (shared by the web processes) under a random token bound to the user and the
organization; confirming checks everything again, so what is written is exactly what a fresh
import of that file would write.
"""

import secrets
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin_base import admin_actor, request_organization_ids
from .errors import Conflict
from .imports import ImportResult, import_file, members_import
from .imports_catalogs import customers_import, products_import
from .models import Organization
from .spreadsheets import MAX_FILE_BYTES, ImportFileError, ImportRowsError

CACHE_PREFIX = "admin-import:"
CACHE_SECONDS = 3600
PREVIEW_LIMIT = 500


def administered_organizations(request):
    organization_ids = request_organization_ids(request)
    organizations = Organization.objects.filter(is_active=True)
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=organization_ids)
    return organizations


class ImportUploadForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("organization"), queryset=Organization.objects.none()
    )
    file = forms.FileField(
        label=_("file"), help_text=_("A .csv or .xlsx file; the first row holds the headers.")
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        organizations = administered_organizations(request)
        self.fields["organization"].queryset = organizations
        if len(organizations) == 1:
            self.fields["organization"].initial = organizations[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(_("The file is too large."))
        return upload

    def importer_options(self) -> dict:
        """Options for the importer, as JSON-safe values (they wait in the cache)."""
        return {}

    @staticmethod
    def resolve_options(organization: Organization, options: dict) -> dict:
        """The importer's keyword arguments from `importer_options`' values."""
        return dict(options)


@dataclass(frozen=True)
class ImportSpec:
    """One kind of import as the admin offers it."""

    key: str  # "members"
    title: str
    importer: object
    columns: str  # the column list shown on the upload form
    form_class: type[ImportUploadForm] = ImportUploadForm


class SpreadsheetImportAdminMixin:
    """For a ModelAdmin: the Import button on the changelist and the upload / preview / confirm
    view at `<changelist>/import/`. Set `import_spec`."""

    import_spec: ImportSpec
    change_list_template = "admin/agents/import_change_list.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        organization_ids = request_organization_ids(request)
        if organization_ids is None:
            return request.user.is_active and request.user.is_superuser
        return bool(organization_ids)

    def changelist_view(self, request, extra_context=None):
        if self.has_import_permission(request):
            info = self.opts.app_label, self.opts.model_name
            extra_context = {
                **(extra_context or {}),
                "import_url": reverse("admin:{}_{}_import".format(*info)),
                "import_label": gettext("Import"),
            }
        return super().changelist_view(request, extra_context)

    # --- the view --------------------------------------------------------------------------

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        spec = self.import_spec
        if request.method == "POST" and "token" in request.POST:
            return self._confirm(request, spec)
        form = spec.form_class(request.POST or None, request.FILES or None, request=request)
        if request.method == "POST" and form.is_valid():
            organization = form.cleaned_data["organization"]
            upload = form.cleaned_data["file"]
            pending = {
                "user": request.user.pk,
                "organization": organization.pk,
                "kind": spec.key,
                "filename": upload.name or "",
                "data": upload.read(),
                "options": form.importer_options(),
            }
            result, errors = self._run(request, spec, pending, dry_run=True, form=form)
            if result is not None or errors:
                token = secrets.token_urlsafe(24)
                if result is not None:
                    cache.set(CACHE_PREFIX + token, pending, CACHE_SECONDS)
                return self._render(
                    request,
                    spec,
                    form=None,
                    result=result,
                    errors=errors,
                    token=token if result is not None else "",
                    organization=organization,
                    filename=pending["filename"],
                )
        return self._render(request, spec, form=form)

    def _confirm(self, request, spec: ImportSpec):
        key = CACHE_PREFIX + request.POST["token"]
        pending = cache.get(key)
        allowed = request_organization_ids(request)
        if (
            not isinstance(pending, dict)
            or pending.get("user") != request.user.pk
            or pending.get("kind") != spec.key
            or (allowed is not None and pending.get("organization") not in allowed)
        ):
            messages.error(request, gettext("This preview has expired: upload the file again."))
            return HttpResponseRedirect(request.path)
        form = spec.form_class(request=request)
        result, errors = self._run(request, spec, pending, dry_run=False, form=form)
        if result is None:
            organization = Organization.objects.get(pk=pending["organization"])
            return self._render(
                request,
                spec,
                form=form if form.errors else None,
                errors=errors,
                organization=organization,
                filename=pending["filename"],
            )
        cache.delete(key)
        messages.success(
            request,
            gettext("Imported %(file)s: %(created)d created, %(updated)d updated.")
            % {"file": pending["filename"], "created": result.created, "updated": result.updated},
        )
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*info)))

    def _run(self, request, spec: ImportSpec, pending: dict, *, dry_run: bool, form):
        """(result, None) on success; (None, row errors) when rows are bad; (None, None) with
        the error on the form when the file or an option is refused."""
        organization = Organization.objects.get(pk=pending["organization"])
        try:
            options = spec.form_class.resolve_options(organization, pending["options"])
            result = import_file(
                spec.importer,
                data=pending["data"],
                filename=pending["filename"],
                organization=organization,
                actor=admin_actor(request, organization),
                dry_run=dry_run,
                **options,
            )
        except ImportFileError as exc:
            form.add_error(None, str(exc))
        except ImportRowsError as exc:
            return None, exc.errors
        except ValidationError as exc:
            for field, field_messages in getattr(exc, "message_dict", {None: exc.messages}).items():
                name = field if field in form.fields else None
                for message in field_messages:
                    form.add_error(name, message)
        except (PermissionDenied, Conflict) as exc:
            form.add_error(None, str(getattr(exc, "message", exc)))
        except IntegrityError:
            # Another write took a username, code or SKU between the check and the insert.
            form.add_error(None, gettext("The data changed during the import: try again."))
        else:
            return result, None
        return None, None

    def _column_label(self, column: str) -> str:
        """A preview column's heading: the model field's (translated) name where there is one
        (a month of a target grid is shown as it is)."""
        try:
            return str(self.model._meta.get_field(column).verbose_name)
        except FieldDoesNotExist:
            return column.replace("_", " ")

    def _render(
        self,
        request,
        spec: ImportSpec,
        *,
        form,
        result: ImportResult | None = None,
        errors: list | None = None,
        token: str = "",
        organization=None,
        filename: str = "",
    ):
        rows = result.rows[:PREVIEW_LIMIT] if result is not None else []
        columns = result.columns if result is not None else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": spec.title,
            "spec": spec,
            "form": form,
            "result": result,
            "preview_rows": [
                {**row, "cells": [row["values"].get(column, "") for column in columns]}
                for row in rows
            ],
            "preview_columns": [self._column_label(column) for column in columns],
            "preview_truncated": result is not None and len(result.rows) > PREVIEW_LIMIT,
            "preview_limit": PREVIEW_LIMIT,
            "errors": errors or [],
            "token": token,
            "organization": organization,
            "filename": filename,
            "changelist_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            ),
        }
        return TemplateResponse(request, "admin/agents/import.html", context)


MEMBER_IMPORT = ImportSpec(
    key="members",
    title=_("Import members"),
    importer=members_import,
    columns=_(
        "agent code (required), username (new members), display name, role, upline (agent "
        "code), region (name or path), level, status, joined on, password"
    ),
)
PRODUCT_IMPORT = ImportSpec(
    key="products",
    title=_("Import products"),
    importer=products_import,
    columns=_("sku (required), name, category, price, cost, hero, active"),
)
CUSTOMER_IMPORT = ImportSpec(
    key="customers",
    title=_("Import customers"),
    importer=customers_import,
    columns=_(
        "id (optional), name (required), owner (agent code), kind, region, status, "
        "first order on, lost on, lost reason"
    ),
)
