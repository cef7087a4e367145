import django_filters
from django.utils.translation import gettext_lazy as _

from agents.filters import org_customers, org_members, org_products, org_queryset, org_regions
from reports.metrics import metric_choices

from .models import BudgetLine, Expense, PlanTask, QualitativeGoal, SalesPlan, Target

org_plans = org_queryset(SalesPlan)
org_targets = org_queryset(Target)
org_budgets = org_queryset(BudgetLine)


class SalesPlanFilter(django_filters.FilterSet):
    class Meta:
        model = SalesPlan
        fields = ["status", "period_kind"]


class TargetFilter(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=org_plans)
    parent = django_filters.ModelChoiceFilter(queryset=org_targets)
    metric = django_filters.ChoiceFilter(choices=metric_choices())
    member = django_filters.ModelChoiceFilter(queryset=org_members)
    region = django_filters.ModelChoiceFilter(queryset=org_regions)
    product = django_filters.ModelChoiceFilter(queryset=org_products)
    customer = django_filters.ModelChoiceFilter(queryset=org_customers)
    top_level = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label=_("Only targets without a parent")
    )

    class Meta:
        model = Target
        fields = ["plan", "parent", "metric", "tier", "member", "region", "product", "customer"]


class QualitativeGoalFilter(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=org_plans)
    owner = django_filters.ModelChoiceFilter(queryset=org_members)

    class Meta:
        model = QualitativeGoal
        fields = ["plan", "owner", "status"]


class BudgetLineFilter(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=org_plans)
    member = django_filters.ModelChoiceFilter(queryset=org_members)
    region = django_filters.ModelChoiceFilter(queryset=org_regions)

    class Meta:
        model = BudgetLine
        fields = ["plan", "category", "member", "region"]


class ExpenseFilter(django_filters.FilterSet):
    budget = django_filters.ModelChoiceFilter(queryset=org_budgets)
    plan = django_filters.ModelChoiceFilter(field_name="budget__plan", queryset=org_plans)
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Expense
        fields = ["budget", "plan", "over_budget", "date_after", "date_before"]


class PlanTaskFilter(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(queryset=org_plans)
    owner = django_filters.ModelChoiceFilter(queryset=org_members)
    region = django_filters.ModelChoiceFilter(queryset=org_regions)
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lte")

    class Meta:
        model = PlanTask
        fields = ["plan", "owner", "region", "status", "due_after", "due_before"]
