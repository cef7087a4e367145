from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from agents.api.base import OrgScopedModelViewSet, OrgScopedViewSet, TenantAccess
from agents.api.xlsx import XLSX_RESPONSES, XlsxNegotiationMixin, applied_filters, export_or_400
from agents.models import Membership, MemberStatus, Role
from agents.permissions import CATALOG_ACCESS, EVERYONE, LEAD, MANAGE, READ, Rule
from appraisals import exports, selectors, services
from appraisals.filters import AppraisalCycleFilter, AppraisalFilter
from appraisals.models import Appraisal, AppraisalCycle, AppraisalTemplate

from .serializers import (
    AcknowledgeSerializer,
    AppraisalCycleSerializer,
    AppraisalExportQuerySerializer,
    AppraisalReviewSerializer,
    AppraisalSerializer,
    AppraisalTemplateSerializer,
    FinalizeSerializer,
    HistoryQuerySerializer,
    HistorySerializer,
    LeaderboardEntrySerializer,
    RollupEntrySerializer,
    RollupQuerySerializer,
    ScoreResultSerializer,
)

# --- Templates -----------------------------------------------------------------------------------


class AppraisalTemplateViewSet(OrgScopedModelViewSet):
    """Appraisal templates: criteria with weights summing to 100, grade bands with recommended
    outcomes, eligibility and rules across cycles. Everyone reads; owners and admins write.
    Criteria, grades and period kind are fixed once a cycle of the template has been opened
    (409). Sending `criteria` replaces the set: items with an `id` change that criterion,
    items without one are added, the others are removed (an id that is not one of this
    template's criteria, or one listed twice, is a 400 at the item's index); sending `grades`
    replaces them."""

    queryset = AppraisalTemplate.objects.prefetch_related("criteria", "grades")
    serializer_class = AppraisalTemplateSerializer
    filterset_fields = ["period_kind"]
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]
    access = CATALOG_ACCESS

    def _fresh(self, template):
        return self.get_queryset().get(pk=template.pk)

    def perform_create(self, serializer):
        template = services.appraisal_template_create(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
        )
        serializer.instance = self._fresh(template)

    def perform_update(self, serializer):
        template = services.appraisal_template_update(
            organization=self.organization,
            actor=self.membership,
            template=serializer.instance,
            data=dict(serializer.validated_data),
        )
        serializer.instance = self._fresh(template)

    def perform_destroy(self, instance):
        services.appraisal_template_delete(
            organization=self.organization, actor=self.membership, template=instance
        )


# --- Cycles --------------------------------------------------------------------------------------


class AppraisalCycleViewSet(OrgScopedModelViewSet):
    """Appraisal cycles: draft -> open -> finalized. Everyone reads; owners and admins create,
    change (a draft freely; an open cycle only its name and review deadline), delete (drafts
    only), open, score and finalize. A finalized cycle is read-only (409). A cycle covers
    exactly one calendar period of its template's period kind (a month, a quarter, a half-year
    or a year, from its first to its last day): other dates are a 400 on `start` or `end`."""

    queryset = AppraisalCycle.objects.select_related("template").annotate(
        appraisal_count=Count("appraisals", distinct=True),
        reviewed_count=Count(
            "appraisals", filter=Q(appraisals__reviewed_at__isnull=False), distinct=True
        ),
    )
    serializer_class = AppraisalCycleSerializer
    filterset_class = AppraisalCycleFilter
    search_fields = ["name", "template__name"]
    ordering_fields = ["start", "end", "id"]
    ordering = ["-start", "-id"]
    access = {
        **CATALOG_ACCESS,
        "open": MANAGE,
        "score": MANAGE,
        "finalize": MANAGE,
        "leaderboard": READ,
        "rollup": LEAD,
    }

    def _fresh(self, cycle):
        return self.get_queryset().get(pk=cycle.pk)

    def perform_create(self, serializer):
        cycle = services.appraisal_cycle_create(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
        )
        serializer.instance = self._fresh(cycle)

    def perform_update(self, serializer):
        cycle = services.appraisal_cycle_update(
            organization=self.organization,
            actor=self.membership,
            cycle=serializer.instance,
            data=dict(serializer.validated_data),
        )
        serializer.instance = self._fresh(cycle)

    def perform_destroy(self, instance):
        services.appraisal_cycle_delete(
            organization=self.organization, actor=self.membership, cycle=instance
        )

    @extend_schema(request=None, responses=AppraisalCycleSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, *args, **kwargs):
        """draft -> open: one appraisal per eligible member, reviewer assigned, first scoring."""
        cycle = services.appraisal_cycle_open(
            organization=self.organization, actor=self.membership, cycle=self.get_object()
        )
        return Response(self.get_serializer(self._fresh(cycle)).data)

    @extend_schema(request=None, responses=ScoreResultSerializer)
    @action(detail=True, methods=["post"])
    def score(self, request, *args, **kwargs):
        """Recompute the quantitative scores of an open cycle from the current facts and
        targets (what the nightly job does); answers how many scores and appraisals changed."""
        result = services.appraisal_cycle_score(cycle=self.get_object())
        return Response(ScoreResultSerializer(result).data)

    @extend_schema(
        request=FinalizeSerializer,
        responses={200: AppraisalCycleSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"])
    def finalize(self, request, *args, **kwargs):
        """open -> finalized: totals, ranks, grades and outcomes are fixed and the outcomes
        applied. 409 with `details.missing_reviews` while reviews are missing, unless
        `{"force": true}`. Retrying on a finalized cycle changes nothing."""
        serializer = FinalizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cycle = services.appraisal_cycle_finalize(
            organization=self.organization,
            actor=self.membership,
            cycle=self.get_object(),
            force=serializer.validated_data["force"],
        )
        return Response(self.get_serializer(self._fresh(cycle)).data)

    @extend_schema(responses=LeaderboardEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def leaderboard(self, request, *args, **kwargs):
        """The cycle's appraisals by rank (ties share a rank), as far as the caller may see
        them: agents their own entry, leaders their subtree, owners and admins everyone."""
        rows = selectors.cycle_leaderboard(cycle=self.get_object(), viewer=self.membership)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(LeaderboardEntrySerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, required=True, enum=["region", "team"]),
        ],
        responses=RollupEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def rollup(self, request, *args, **kwargs):
        """Average total, grade distribution and counts per outcome, per region (with its
        sub-regions) or per team (a leader and their whole subtree), over the caller's scope."""
        query = RollupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.cycle_rollup(
            cycle=self.get_object(),
            viewer=self.membership,
            group_by=query.validated_data["group_by"],
        )
        return Response(RollupEntrySerializer(rows, many=True).data)


# --- Appraisals ----------------------------------------------------------------------------------


class AppraisalAccess(TenantAccess):
    """The tenancy rules, with one exception: a suspended member may still acknowledge their own
    appraisal. Elimination suspends a member, and confirming that they have read the appraisal
    that eliminated them is exactly what they must still be able to do (whose appraisal it is
    is checked as for everyone: `own_only`, then the service)."""

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) == "acknowledge" and request.user.is_authenticated:
            view.resolve_tenant(request)
            if view.membership.status == MemberStatus.SUSPENDED:
                return view.access_rule().allows(view.membership.role)
        return super().has_permission(request, view)


class AppraisalViewSet(
    XlsxNegotiationMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet
):
    """Appraisals in the caller's scope: agents their own, leaders their subtree's (and those
    they are assigned to review), owners and admins all. `?member=` lists a member's
    appraisals ordered by cycle."""

    queryset = Appraisal.objects.select_related("member__user", "cycle").prefetch_related(
        selectors.appraisal_scores_prefetch()
    )
    serializer_class = AppraisalSerializer
    permission_classes = [IsAuthenticated, AppraisalAccess]
    filterset_class = AppraisalFilter
    search_fields = ["member__user__username", "member__user__display_name", "member__code"]
    ordering_fields = ["cycle__start", "total_score", "rank", "id"]
    ordering = ["cycle__start", "cycle_id", "id"]
    own_field = "member"
    access = {
        "list": READ,
        "retrieve": READ,
        "review": LEAD,
        # Only the appraised member acknowledges: everyone else gets 403 (404 outside scope).
        "acknowledge": Rule(EVERYONE, own_only=EVERYONE),
        "history": READ,
        "export": READ,
    }

    def scope_queryset(self, queryset):
        return queryset.filter(selectors.appraisal_scope_q(membership=self.membership))

    @extend_schema(
        filters=True,
        parameters=[
            OpenApiParameter("cycle", int, required=True, description="The cycle to export.")
        ],
        responses=XLSX_RESPONSES,
    )
    @action(detail=False, url_path="export", url_name="export", pagination_class=None)
    def export(self, request, *args, **kwargs):
        """Extension: one cycle's results in the caller's scope (and the list's filters) as an
        .xlsx workbook: member, code, region, each criterion's score, quantitative,
        qualitative and total score, rank, grade, outcomes, acknowledgement; by rank unless
        `ordering` is given. Headers in the request's language. Over the export limit
        (100,000 rows): 400."""
        query = AppraisalExportQuerySerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        queryset = self.filter_queryset(self.get_queryset())
        return export_or_400(
            lambda: exports.appraisals_export(
                organization=self.organization,
                cycle=query.validated_data["cycle"],
                queryset=queryset,
                filters=applied_filters(self, queryset, exports.FILTER_LABELS),
                by_rank="ordering" not in request.query_params,
            )
        )

    def _fresh(self, appraisal):
        return self.get_queryset().get(pk=appraisal.pk)

    @extend_schema(request=AppraisalReviewSerializer, responses=AppraisalSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, *args, **kwargs):
        """The reviewer's scores for the qualitative criteria (each on its scale, 1..n), the
        comment, improvement plan and final outcome (default: the recommended one). By the
        member's leader chain, the assigned reviewer, or an owner/admin; never oneself."""
        appraisal = self.get_object()
        # A finalized cycle answers 409 whatever the body says.
        services.appraisal_review_ensure_open(appraisal=appraisal)
        serializer = AppraisalReviewSerializer(
            data=request.data, context={**self.get_serializer_context(), "appraisal": appraisal}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        appraisal = services.appraisal_review(
            organization=self.organization,
            actor=self.membership,
            appraisal=appraisal,
            scores=data.get("scores", []),
            comment=data.get("comment"),
            improvement_plan=data.get("improvement_plan"),
            final_outcome=data.get("final_outcome"),
        )
        return Response(AppraisalSerializer(self._fresh(appraisal)).data)

    @extend_schema(request=AcknowledgeSerializer, responses=AppraisalSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, *args, **kwargs):
        """The appraised member confirms having read their finalized appraisal, once, with an
        optional comment."""
        appraisal = self.get_object()
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appraisal = services.appraisal_acknowledge(
            organization=self.organization,
            actor=self.membership,
            appraisal=appraisal,
            comment=serializer.validated_data["comment"],
        )
        return Response(AppraisalSerializer(self._fresh(appraisal)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("member", int, description="Default: the caller."),
            OpenApiParameter("template", int, description="Only cycles of this template."),
        ],
        responses=HistorySerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, *args, **kwargs):
        """A member's appraisals across cycles, oldest first, with the change of the total
        score against the previous cycle (the trend)."""
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        member_id = query.validated_data.get("member", self.membership.pk)
        member = get_object_or_404(
            Membership.objects.select_related("user").filter(organization=self.organization),
            pk=member_id,
        )
        viewer = self.membership
        visible = (
            viewer.is_manager
            or member.pk == viewer.pk
            or (viewer.role == Role.LEADER and member.path.startswith(viewer.path))
        )
        if not visible:
            raise NotFound()
        results = selectors.member_history(
            organization=self.organization,
            member=member,
            template_id=query.validated_data.get("template"),
        )
        return Response(
            HistorySerializer(
                {"member": member.pk, "member_name": member.display_name, "results": results}
            ).data
        )
