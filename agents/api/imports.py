"""Spreadsheet imports over the API: POST a multipart `file` (.csv or .xlsx) with `dry_run`
(true: check and preview, write nothing) and the import's options.

Answers: a dry run 200 `{"dry_run": true, "created", "updated", "rows_total", "rows": [...]}`
(the first PREVIEW_ROWS rows); a real run 201
`{"created", "updated"}`; bad rows 400 `{"errors": [{"row", "field", "message"}]}` (nothing
written); a bad form field 400 `{"<field>": [...]}`; a file over the size cap 413. The importers
(agents/imports.py, agents/imports_catalogs.py, plans/imports.py) keep the rules; these views only
read the form and shape the answer.
"""

from django.db import IntegrityError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from agents import imports, imports_catalogs
from agents.errors import Conflict
from agents.permissions import LEAD, MANAGE
from agents.spreadsheets import MAX_FILE_BYTES, ImportFileError, ImportRowsError

from .base import OrgScopedMixin
from .exceptions import PayloadTooLarge

# A dry run previews this many rows (a file may hold 100,000: an answer of tens of megabytes that
# no screen shows); `rows_total` says how many there are, the counts cover them all.
PREVIEW_ROWS = 1000

# --- Serializers --------------------------------------------------------------------------------


class ImportFormSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A .csv or .xlsx file with a header row."))
    dry_run = serializers.BooleanField(
        default=False, help_text=_("true: check every row and preview; nothing is written.")
    )


class ImportPreviewRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("The spreadsheet row (the header is row 1)."))
    action = serializers.ChoiceField(choices=[imports.CREATE, imports.UPDATE])
    key = serializers.CharField(help_text=_("What identifies the row: agent code, SKU, name."))
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))


class ImportPreviewSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rows_total = serializers.IntegerField(help_text=_("How many rows the file holds."))
    rows = ImportPreviewRowSerializer(
        many=True, help_text=_("The first 1,000 rows, in the file's order.")
    )


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class ImportRowErrorsSerializer(serializers.Serializer):
    errors = ImportRowErrorSerializer(many=True)


class ImportFieldErrorsSerializer(serializers.Serializer):
    """400 when the form itself is refused: the file (missing, not .csv/.xlsx, unreadable) or
    an option; the key names the field."""

    file = serializers.ListField(child=serializers.CharField(), required=False)


def import_schema(*, name: str, form=ImportFormSerializer, description: str = ""):
    return extend_schema(
        description=description,
        request={"multipart/form-data": form},
        responses={
            200: OpenApiResponse(ImportPreviewSerializer, description="A dry run's preview."),
            201: ImportResultSerializer,
            400: PolymorphicProxySerializer(
                component_name=f"{name}ImportRefused",
                serializers=[ImportRowErrorsSerializer, ImportFieldErrorsSerializer],
                resource_type_field_name=None,
            ),
            413: OpenApiResponse(description="The file is too large."),
        },
    )


# --- Views ---------------------------------------------------------------------------------------


class SpreadsheetImportView(OrgScopedMixin, generics.GenericAPIView):
    """POST runs `importer` on the uploaded file; subclasses name the importer, the access rule
    and, where the import has options, the form serializer and `importer_options`."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportFormSerializer
    http_method_names = ["post", "options"]
    importer = None

    def importer_options(self, data: dict) -> dict:
        return {}

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise PayloadTooLarge(gettext("The file is too large."))
        try:
            result = imports.import_file(
                type(self).importer,
                data=upload.read(),
                filename=upload.name or "",
                organization=self.organization,
                actor=self.membership,
                dry_run=data["dry_run"],
                **self.importer_options(data),
            )
        except ImportFileError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        except ImportRowsError as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except IntegrityError as exc:
            # Another write took a username, code or SKU between the check and the insert.
            raise Conflict(gettext("The data changed during the import: try again.")) from exc
        if result.dry_run:
            return Response(
                {
                    "dry_run": True,
                    "created": result.created,
                    "updated": result.updated,
                    "rows_total": len(result.rows),
                    "rows": result.rows[:PREVIEW_ROWS],
                }
            )
        return Response(
            {"created": result.created, "updated": result.updated},
            status=status.HTTP_201_CREATED,
        )


class MemberImportView(SpreadsheetImportView):
    """Create or update members from a spreadsheet, all rows or none. Columns: agent code
    (required), username (new members), display name, role, upline (agent code, in the
    organization or the file), region (name or path), level, status, joined on, password.
    Owners and admins."""

    access = {"post": MANAGE}
    importer = imports.members_import

    @import_schema(name="Member")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class ProductImportView(SpreadsheetImportView):
    """Create or update products by SKU, all rows or none. Columns: sku, name, category, price,
    cost, hero, active. Owners and admins."""

    access = {"post": MANAGE}
    importer = imports_catalogs.products_import

    @import_schema(name="Product")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class CustomerImportView(SpreadsheetImportView):
    """Create or update customers, all rows or none: by the id column, else by name and owner.
    Columns: id, name, owner (agent code), kind, region, status, first order on, lost on, lost
    reason. Owners, admins, and leaders (customers owned in their subtree)."""

    access = {"post": LEAD}
    importer = imports_catalogs.customers_import

    @import_schema(name="Customer")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
