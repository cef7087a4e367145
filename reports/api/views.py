import datetime as dt

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, generics, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from agents.api.base import OrgScopedMixin, OrgScopedModelViewSet, OrgScopedViewSet
from agents.api.exceptions import PayloadTooLarge
from agents.api.xlsx import XLSX_RESPONSES, XlsxNegotiationMixin, applied_filters, export_or_400
from agents.compiled import bare_instances
from agents.permissions import LEAD, OWN_WRITE, READ
from reports import exports, imports, services
from reports.api import fast_put
from reports.filters import ActivityFilter, DailyReportFilter, FeedbackFilter, SalesEntryFilter
from reports.models import Activity, DailyReport, FeedbackComment, MarketFeedback, SalesEntry
from reports.selectors import feedback_scope_q, members_missing_report, report_lines_attach

from .serializers import (
    ActivitySerializer,
    DailyReportInputSerializer,
    DailyReportSerializer,
    FeedbackCommentSerializer,
    FeedbackResolveSerializer,
    FeedbackSerializer,
    FeedbackWriteSerializer,
    MissingMemberSerializer,
    SalesEntryInputSerializer,
    SalesEntrySerializer,
    SalesImportErrorsSerializer,
    SalesImportFileErrorSerializer,
    SalesImportResultSerializer,
    SalesImportSerializer,
)


def _parse_day(value: str | None, *, organization, field: str = "date") -> dt.date:
    if not value:
        return organization.local_today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError({field: [_("Use a date like 2026-03-31.")]}) from None


# A report's lines in the order they were sent.
REPORT_LINES = Prefetch("lines", queryset=SalesEntry.objects.order_by("id"))

DATE_PATH = OpenApiParameter(
    "date", OpenApiTypes.DATE, OpenApiParameter.PATH, description="The report's local date."
)


# --- Daily reports --------------------------------------------------------------------------


class MyDailyReportView(OrgScopedMixin, generics.GenericAPIView):
    """The caller's own report for a day. PUT files it (201) or replaces it (200), with its
    sales lines; the same body sent again gives the same report. A replacement keeps the lines'
    ids in order: the n-th line sent updates the n-th stored line, lines beyond the stored ones
    are added, stored lines beyond those sent are deleted. Editable until the organization's
    cut-off on the following day (a report first filed after the day's cut-off is late);
    afterwards 409 unless a leader above or an administrator unlocked it."""

    queryset = DailyReport.objects.prefetch_related(REPORT_LINES)
    serializer_class = DailyReportSerializer
    access = {"get": READ, "put": READ}
    http_method_names = ["get", "put", "head", "options"]

    def check_throttles(self, request):
        # A PUT the fast path (fast_put.py) handed over has been counted, and its outcome kept.
        checked = getattr(getattr(request, "_request", request), fast_put.THROTTLES_CHECKED, None)
        if checked is None:
            return super().check_throttles(request)
        if checked is not True:
            raise checked

    def _report(self, day: dt.date) -> DailyReport | None:
        return self.get_queryset().filter(member=self.membership, date=day).first()

    @extend_schema(parameters=[DATE_PATH], responses=DailyReportSerializer)
    def get(self, request, *args, **kwargs):
        day = _parse_day(kwargs["date"], organization=self.organization)
        report = self._report(day)
        if report is None:
            raise exceptions.NotFound(_("No report for this day."))
        return Response(self.get_serializer(report).data)

    @extend_schema(
        parameters=[DATE_PATH],
        request=DailyReportInputSerializer,
        responses={
            200: OpenApiResponse(DailyReportSerializer, description="Replaced."),
            201: OpenApiResponse(DailyReportSerializer, description="Created."),
            409: OpenApiResponse(description="The editing window has closed."),
        },
    )
    def put(self, request, *args, **kwargs):
        day = _parse_day(kwargs["date"], organization=self.organization)
        serializer = DailyReportInputSerializer(
            data=request.data, context={**self.get_serializer_context(), "day": day}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = data.pop("lines")
        report, created = services.daily_report_upsert(
            organization=self.organization, member=self.membership, day=day, data=data, lines=lines
        )  # with the lines just written: nothing is read again for the answer
        return Response(
            self.get_serializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DailyReportViewSet(
    XlsxNegotiationMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet
):
    """Reports of the caller and their subtree (owners and admins: everyone's)."""

    queryset = DailyReport.objects.prefetch_related(REPORT_LINES)
    serializer_class = DailyReportSerializer
    filterset_class = DailyReportFilter
    search_fields = ["summary", "plan_tomorrow", "problems"]
    ordering_fields = ["date", "submitted_at", "id"]
    ordering = ["-date", "id"]
    member_scope = "member"
    access = {"list": READ, "retrieve": READ, "missing": READ, "unlock": LEAD, "export": READ}

    def list(self, request, *args, **kwargs):
        """Reports of the caller and their subtree (owners and admins: everyone's), each with
        its sales lines and totals."""
        # The page's reports are built without Model.__init__ (agents.compiled.bare_instances),
        # then their lines are read in one query (report_lines_attach).
        queryset = bare_instances(self.filter_queryset(self.get_queryset()).prefetch_related(None))
        page = self.paginate_queryset(queryset)
        if page is None:  # pragma: no cover - the list is always paginated
            page = list(queryset)
        report_lines_attach(page)
        data = self.get_serializer(page, many=True).data
        return self.get_paginated_response(data) if self.paginator else Response(data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, description="The day (default: today, local)."
            )
        ],
        responses=MissingMemberSerializer(many=True),
    )
    @action(detail=False, filter_backends=[], serializer_class=MissingMemberSerializer)
    def missing(self, request, *args, **kwargs):
        """Members in the caller's scope who owe a report for the day and have not filed it:
        agents and leaders on probation or active who had joined by then. Empty on the
        organization's days off."""
        day = _parse_day(request.query_params.get("date"), organization=self.organization)
        if day > self.organization.local_today():
            raise exceptions.ValidationError({"date": [_("This day has not come yet.")]})
        members = members_missing_report(
            organization=self.organization, viewer=self.membership, day=day
        )
        page = self.paginate_queryset(members)
        return self.get_paginated_response(MissingMemberSerializer(page, many=True).data)

    @extend_schema(filters=True, responses=XLSX_RESPONSES)
    @action(detail=False, url_path="export", url_name="export", pagination_class=None)
    def export(self, request, *args, **kwargs):
        """Extension: the reports of the list (same scope, filters and ordering) as an .xlsx
        workbook, headers in the request's language, money in the organization's currency,
        times in its timezone. More than the export limit (100,000 rows) is a 400."""
        queryset = self.filter_queryset(self.get_queryset())
        return export_or_400(
            lambda: exports.daily_reports_export(
                organization=self.organization,
                queryset=queryset,
                filters=applied_filters(self, queryset, exports.FILTER_LABELS),
            )
        )

    @extend_schema(
        request=None,
        responses={200: DailyReportSerializer, 409: OpenApiResponse(description="Not locked.")},
    )
    @action(detail=True, methods=["post"])
    def unlock(self, request, *args, **kwargs):
        """Extension: reopen a locked report for the member (for `report_unlock_hours` of the
        organization's policies, default 24). By a leader above the member or an owner/admin."""
        report = self.get_object()
        services.daily_report_unlock(
            organization=self.organization, actor=self.membership, report=report
        )
        return Response(self.get_serializer(self.get_object()).data)


# --- Sales ----------------------------------------------------------------------------------


class SalesEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """Sales facts of the caller and their subtree (owners and admins: all), from daily
    reports, the API and imports. POST records one sale (source "api"): agents their own,
    leaders for their subtree."""

    queryset = SalesEntry.objects.all()
    serializer_class = SalesEntrySerializer
    filterset_class = SalesEntryFilter
    ordering_fields = ["date", "amount", "id"]
    ordering = ["-date", "-id"]
    member_scope = "member"
    http_method_names = ["get", "post", "head", "options"]
    access = {"list": READ, "retrieve": READ, "create": READ, "import_sales": LEAD}

    @extend_schema(request=SalesEntryInputSerializer, responses={201: SalesEntrySerializer})
    def create(self, request, *args, **kwargs):
        serializer = SalesEntryInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.sales_entry_create(
            organization=self.organization,
            actor=self.membership,
            member=data.get("member") or self.membership,
            day=data["date"],
            line=services.SalesLine(
                product=data["product"],
                customer=data.get("customer"),
                quantity=data["quantity"],
                amount=data["amount"],
                collected=data["collected"],
            ),
        )
        return Response(SalesEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": SalesImportSerializer},
        responses={
            201: SalesImportResultSerializer,
            400: PolymorphicProxySerializer(
                component_name="SalesImportRefused",
                serializers=[SalesImportErrorsSerializer, SalesImportFileErrorSerializer],
                resource_type_field_name=None,
            ),
            413: OpenApiResponse(description="The file is too large."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_sales(self, request, *args, **kwargs):
        """Import a .csv or .xlsx file of sales (source "import"), all rows or none. Columns by
        header: date, member (agent code or username), product (SKU), customer (optional, id or
        name), quantity, amount, collected (optional). Owners, admins and leaders (rows of
        their subtree)."""
        serializer = SalesImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise PayloadTooLarge(_("The file is too large."))
        try:
            created = imports.sales_import_file(
                organization=self.organization,
                actor=self.membership,
                data=upload.read(),
                filename=upload.name or "",
            )
        except imports.ImportFileError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        except imports.ImportRowsError as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": created}, status=status.HTTP_201_CREATED)


# --- Activities -----------------------------------------------------------------------------


class ActivityViewSet(OrgScopedModelViewSet):
    """The activity log of the caller and their subtree (owners and admins: all). Agents write
    only their own; leaders log for their subtree too."""

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    search_fields = ["outcome", "note"]
    ordering_fields = ["occurred_at", "duration_minutes", "id"]
    ordering = ["-occurred_at", "-id"]
    member_scope = "member"
    own_field = "member"
    access = {
        "list": READ,
        "retrieve": READ,
        "create": OWN_WRITE,
        "partial_update": OWN_WRITE,
        "destroy": OWN_WRITE,
    }

    def perform_create(self, serializer):
        serializer.instance = services.activity_create(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
        )

    def perform_update(self, serializer):
        serializer.instance = services.activity_update(
            organization=self.organization,
            actor=self.membership,
            activity=serializer.instance,
            data=dict(serializer.validated_data),
        )


# --- Market feedback ------------------------------------------------------------------------


class FeedbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """Market feedback written by the caller and their subtree, plus what is assigned to them
    (owners and admins: all). Filed feedback goes to the author's nearest working upline with
    a response deadline that follows the urgency."""

    queryset = MarketFeedback.objects.all()
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    search_fields = ["title", "body"]
    ordering_fields = ["created_at", "respond_by", "urgency", "id"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    access = {
        "list": READ,
        "retrieve": READ,
        "create": READ,
        "partial_update": READ,  # the author only (services.feedback_update)
        "acknowledge": READ,  # the assignee or above (services.feedback_can_handle)
        "resolve": READ,
        "comments": READ,
    }

    def scope_queryset(self, queryset):
        return queryset.filter(feedback_scope_q(viewer=self.membership))

    @extend_schema(request=FeedbackWriteSerializer, responses={201: FeedbackSerializer})
    def create(self, request, *args, **kwargs):
        serializer = FeedbackWriteSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_create(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
        )
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FeedbackWriteSerializer, responses=FeedbackSerializer)
    def partial_update(self, request, *args, **kwargs):
        feedback = self.get_object()
        serializer = FeedbackWriteSerializer(
            feedback, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_update(
            organization=self.organization,
            actor=self.membership,
            feedback=feedback,
            data=dict(serializer.validated_data),
        )
        return Response(FeedbackSerializer(feedback).data)

    @extend_schema(request=None, responses=FeedbackSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def acknowledge(self, request, *args, **kwargs):
        """By the assignee, anyone above the author, or an owner/admin; only open feedback."""
        feedback = services.feedback_acknowledge(
            organization=self.organization, actor=self.membership, feedback=self.get_object()
        )
        return Response(FeedbackSerializer(feedback).data)

    @extend_schema(request=FeedbackResolveSerializer, responses=FeedbackSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def resolve(self, request, *args, **kwargs):
        """By the assignee, anyone above the author, or an owner/admin."""
        feedback = self.get_object()
        serializer = FeedbackResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_resolve(
            organization=self.organization,
            actor=self.membership,
            feedback=feedback,
            resolution=serializer.validated_data["resolution"],
        )
        return Response(FeedbackSerializer(feedback).data)

    @extend_schema(methods=["GET"], responses=FeedbackCommentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=FeedbackCommentSerializer,
        responses={201: FeedbackCommentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        serializer_class=FeedbackCommentSerializer,
    )
    def comments(self, request, *args, **kwargs):
        """The discussion of a feedback: anyone who can see the feedback reads and writes."""
        feedback = self.get_object()
        if request.method == "POST":
            serializer = FeedbackCommentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = services.feedback_comment_create(
                organization=self.organization,
                actor=self.membership,
                feedback=feedback,
                body=serializer.validated_data["body"],
            )
            return Response(FeedbackCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = FeedbackComment.objects.filter(
            organization=self.organization, feedback=feedback
        ).order_by("created_at", "id")
        page = self.paginate_queryset(comments)
        return self.get_paginated_response(FeedbackCommentSerializer(page, many=True).data)
