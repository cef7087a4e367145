"""The plans API: thin views over plans.services (writes) and plans.selectors / progress /
dashboard (reads). Who may call what is declared per view in `access`; the finer, plan-specific
powers (whose targets a leader may set) are checked by the services (plans/rules.py)."""

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from agents.api.base import OrgScopedMixin, OrgScopedModelViewSet
from agents.api.xlsx import XLSX_RESPONSES, XlsxNegotiationMixin, export_or_400
from agents.permissions import EVERYONE, LEAD, MANAGE, OWN_WRITE, READ, Rule
from agents.selectors import member_scope_q
from plans import exports, services
from plans.breakdown import Allocation, target_breakdown
from plans.dashboard import dashboard_today
from plans.filters import (
    BudgetLineFilter,
    ExpenseFilter,
    PlanTaskFilter,
    QualitativeGoalFilter,
    SalesPlanFilter,
    TargetFilter,
)
from plans.models import BudgetLine, Expense, PlanTask, QualitativeGoal, SalesPlan, Target
from plans.progress import attainment_rows, target_progress
from plans.selectors import budget_lines_with_spent, target_scope_q, targets_visible

from .serializers import (
    AsOfSerializer,
    AttainmentQuerySerializer,
    AttainmentRowSerializer,
    BreakdownResultSerializer,
    BreakdownSerializer,
    BudgetLineSerializer,
    DashboardSerializer,
    ExpenseSerializer,
    PlanTaskSerializer,
    ProgressSerializer,
    QualitativeGoalSerializer,
    SalesPlanSerializer,
    TargetSerializer,
    TargetUpdateSerializer,
)

# Everyone may ask; the service decides with plans/rules.py (and answers 403 when it says no).
ASK = Rule(EVERYONE)
DATE_PARAMETER = OpenApiParameter(
    "date",
    type=str,
    description="As-of date (YYYY-MM-DD); default: the organization's today.",
    required=False,
)


# --- Plans ----------------------------------------------------------------------------------


class SalesPlanViewSet(OrgScopedModelViewSet):
    """The organization's sales plans: every member reads them; owners and admins prepare,
    activate and close them. A closed plan is read-only and its figures are frozen."""

    queryset = SalesPlan.objects.all()
    serializer_class = SalesPlanSerializer
    filterset_class = SalesPlanFilter
    search_fields = ["name"]
    ordering_fields = ["start", "name", "id"]
    ordering = ["-start", "name"]
    access = {
        "list": READ,
        "retrieve": READ,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "activate": MANAGE,
        "close": MANAGE,
    }

    def perform_create(self, serializer):
        serializer.instance = services.plan_create(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
        )

    def perform_update(self, serializer):
        serializer.instance = services.plan_update(
            organization=self.organization,
            actor=self.membership,
            plan=serializer.instance,
            data=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance):
        services.plan_delete(organization=self.organization, actor=self.membership, plan=instance)

    @extend_schema(request=None, responses=SalesPlanSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, *args, **kwargs):
        """Draft -> active. 409 from any other state."""
        plan = services.plan_activate(
            organization=self.organization, actor=self.membership, plan=self.get_object()
        )
        return Response(SalesPlanSerializer(plan, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=SalesPlanSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        """Active -> closed, freezing every target's figures. 409 from any other state."""
        plan = services.plan_close(
            organization=self.organization, actor=self.membership, plan=self.get_object()
        )
        return Response(SalesPlanSerializer(plan, context=self.get_serializer_context()).data)


# --- Targets --------------------------------------------------------------------------------


class TargetViewSet(OrgScopedModelViewSet):
    """Targets in the caller's scope: their own and their downline's, and the organization's
    targets that name no member. Leaders set targets for the members below them and break down
    any target of their subtree; agents break their own targets down into a personal plan."""

    queryset = Target.objects.select_related("plan", "member", "region", "product", "customer")
    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    ordering_fields = ["start", "end", "value", "id"]
    ordering = ["plan", "start", "id"]
    access = {
        "list": READ,
        "retrieve": READ,
        "create": ASK,
        "partial_update": ASK,
        "destroy": ASK,
        "breakdown": ASK,
        "progress": READ,
    }

    def scope_queryset(self, queryset):
        return queryset.filter(target_scope_q(viewer=self.membership))

    def get_serializer_class(self):
        if self.action == "partial_update":
            return TargetUpdateSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        parent = data.pop("parent", None)
        plan = data.pop("plan", None) or parent.plan
        serializer.instance = services.target_create(
            organization=self.organization,
            actor=self.membership,
            plan=plan,
            parent=parent,
            data=data,
        )

    def perform_update(self, serializer):
        serializer.instance = services.target_update(
            organization=self.organization,
            actor=self.membership,
            target=serializer.instance,
            data=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance):
        services.target_delete(
            organization=self.organization, actor=self.membership, target=instance
        )

    @extend_schema(request=BreakdownSerializer, responses={201: BreakdownResultSerializer})
    @action(detail=True, methods=["post"])
    def breakdown(self, request, *args, **kwargs):
        """Break the target down into children along one dimension (see plans/breakdown.py).
        All children or none; 400 naming `allocations` when they would sum above the target."""
        target = self.get_object()
        serializer = BreakdownSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dimension = data["dimension"]
        allocations = [
            Allocation(
                key=item.get(dimension) if dimension != "period" else None,
                start=item.get("start"),
                value=item.get("value"),
                weight=item.get("weight"),
                include_downline=item.get("include_downline"),
            )
            for item in data.get("allocations", [])
        ]
        result = target_breakdown(
            organization=self.organization,
            actor=self.membership,
            target=target,
            dimension=dimension,
            method=data["method"],
            period_unit=data.get("period_unit"),
            allocations=allocations,
            total=data.get("total"),
        )
        context = self.get_serializer_context()
        payload = {
            "parent": result.parent,
            "children": result.children,
            "created": [child.pk for child in result.created],
            "allocated": None
            if result.unallocated is None
            else result.parent.value - result.unallocated,
            "unallocated": result.unallocated,
        }
        return Response(
            BreakdownResultSerializer(payload, context=context).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(parameters=[DATE_PARAMETER], responses=ProgressSerializer)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def progress(self, request, *args, **kwargs):
        """Actual against the target, expected-to-date by the daily decomposition over working
        days, pace, and the daily series. A closed plan answers from its frozen figures."""
        target = self.get_object()
        query = AsOfSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        progress = target_progress(
            organization=self.organization, target=target, as_of=query.validated_data.get("date")
        )
        return Response(ProgressSerializer(progress).data)


class AttainmentView(OrgScopedMixin, generics.GenericAPIView):
    """Target against actual for one plan and metric, grouped by member, region, product or
    customer: the rows of the caller's scope, in a constant number of queries."""

    serializer_class = AttainmentRowSerializer
    filter_backends = []
    pagination_class = None
    access = {"get": READ}

    @extend_schema(
        parameters=[AttainmentQuerySerializer], responses=AttainmentRowSerializer(many=True)
    )
    def get(self, request, *args, **kwargs):
        query = AttainmentQuerySerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = attainment_rows(
            organization=self.organization,
            targets=targets_visible(organization=self.organization, viewer=self.membership),
            plan=data["plan"],
            metric_key=data["metric"],
            group_by=data["group_by"],
            tier=data["tier"],
            as_of=data.get("date"),
        )
        return Response(AttainmentRowSerializer.rows_data(rows))


class AttainmentExportView(XlsxNegotiationMixin, OrgScopedMixin, generics.GenericAPIView):
    """Extension: the rows of `attainment/` for the same query as an .xlsx workbook (key,
    label, target, actual, attainment; the plan, metric, tier and date in its information
    sheet), headers in the request's language, money in the organization's currency."""

    filter_backends = []
    pagination_class = None
    access = {"get": READ}
    export_view = True

    @extend_schema(parameters=[AttainmentQuerySerializer], responses=XLSX_RESPONSES)
    def get(self, request, *args, **kwargs):
        query = AttainmentQuerySerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return export_or_400(
            lambda: exports.attainment_export(
                organization=self.organization,
                targets=targets_visible(organization=self.organization, viewer=self.membership),
                plan=data["plan"],
                metric_key=data["metric"],
                group_by=data["group_by"],
                tier=data["tier"],
                as_of=data.get("date"),
            )
        )


class DashboardTodayView(OrgScopedMixin, generics.GenericAPIView):
    """The caller's morning view: today's and month-to-date targets against actuals with pace,
    members in scope missing today's report, open urgent feedback, pending appraisal reviews."""

    serializer_class = DashboardSerializer
    filter_backends = []
    pagination_class = None
    access = {"get": READ}

    @extend_schema(responses=DashboardSerializer)
    def get(self, request, *args, **kwargs):
        dashboard = dashboard_today(organization=self.organization, viewer=self.membership)
        return Response(DashboardSerializer(dashboard).data)


# --- Goals, budgets, expenses, tasks -----------------------------------------------------------


class PlanPartViewSet(OrgScopedModelViewSet):
    """Create/update/delete through `create_service` etc.; each takes the plan part's data."""

    create_service = update_service = delete_service = None
    instance_name = ""

    def refetch(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        parent = {key: data.pop(key) for key in ("plan", "budget") if key in data}
        instance = type(self).create_service(
            organization=self.organization, actor=self.membership, data=data, **parent
        )
        serializer.instance = self.refetch(instance)

    def perform_update(self, serializer):
        plan = serializer.validated_data.get("plan")
        if plan is not None and plan.pk != serializer.instance.plan_id:
            raise ValidationError({"plan": [_("It cannot move to another plan.")]})
        instance = type(self).update_service(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
            **{self.instance_name: serializer.instance},
        )
        serializer.instance = self.refetch(instance)

    def perform_destroy(self, instance):
        type(self).delete_service(
            organization=self.organization,
            actor=self.membership,
            **{self.instance_name: instance},
        )


class QualitativeGoalViewSet(PlanPartViewSet):
    """Qualitative goals: set and evaluated by leaders for the members below them."""

    queryset = QualitativeGoal.objects.all()
    serializer_class = QualitativeGoalSerializer
    filterset_class = QualitativeGoalFilter
    ordering_fields = ["due_on", "id"]
    ordering = ["due_on", "id"]
    access = {
        "list": READ,
        "retrieve": READ,
        "create": LEAD,
        "partial_update": LEAD,
        "destroy": LEAD,
    }
    create_service = staticmethod(services.goal_create)
    update_service = staticmethod(services.goal_update)
    delete_service = staticmethod(services.goal_delete)
    instance_name = "goal"

    def scope_queryset(self, queryset):
        if self.membership.is_manager:
            return queryset
        return queryset.filter(
            Q(owner__isnull=True) | member_scope_q(membership=self.membership, prefix="owner__")
        )


class BudgetLineViewSet(PlanPartViewSet):
    """Budget lines with what has been spent on them and what remains."""

    queryset = budget_lines_with_spent(BudgetLine.objects.all())
    serializer_class = BudgetLineSerializer
    filterset_class = BudgetLineFilter
    ordering_fields = ["amount", "id"]
    ordering = ["plan", "category", "id"]
    member_scope = "member"
    access = {
        "list": READ,
        "retrieve": READ,
        "create": LEAD,
        "partial_update": LEAD,
        "destroy": LEAD,
    }
    create_service = staticmethod(services.budget_line_create)
    update_service = staticmethod(services.budget_line_update)
    delete_service = staticmethod(services.budget_line_delete)
    instance_name = "budget"


class ExpenseViewSet(PlanPartViewSet):
    """Expenses booked on budget lines. Beyond its line an expense is refused (400 naming
    `amount`) or flagged over budget, as the organization's `budget_overrun` policy says."""

    queryset = Expense.objects.all()
    serializer_class = ExpenseSerializer
    filterset_class = ExpenseFilter
    ordering_fields = ["date", "amount", "id"]
    ordering = ["-date", "-id"]
    member_scope = "budget__member"
    own_field = "recorded_by"
    access = {
        "list": READ,
        "retrieve": READ,
        "create": ASK,
        "partial_update": OWN_WRITE,
        "destroy": OWN_WRITE,
    }
    create_service = staticmethod(services.expense_create)
    update_service = staticmethod(services.expense_update)
    delete_service = staticmethod(services.expense_delete)
    instance_name = "expense"


class PlanTaskViewSet(PlanPartViewSet):
    """Plan tasks: leaders give them to their subtree; the owner moves their own along."""

    queryset = PlanTask.objects.all()
    serializer_class = PlanTaskSerializer
    filterset_class = PlanTaskFilter
    search_fields = ["title", "place"]
    ordering_fields = ["due_at", "id"]
    ordering = ["due_at", "id"]
    member_scope = "owner"
    own_field = "owner"
    access = {
        "list": READ,
        "retrieve": READ,
        "create": LEAD,
        "partial_update": OWN_WRITE,
        "destroy": LEAD,
    }
    create_service = staticmethod(services.task_create)
    update_service = staticmethod(services.task_update)
    delete_service = staticmethod(services.task_delete)
    instance_name = "task"
