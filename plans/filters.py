import django_filters
from django.utils.translation import gettext_lazy as _

from agents.filters import org_members, org_regions
from agents.models import Customer, Product

from .models import BudgetLine, Expense, PlanTask, QualitativeGoal, SalesPlan, Target
from .vocabulary import metric_choices


def _org_queryset(model):
    def queryset(request):
        organization = getattr(request, "organization", None)
        if organization is None:
            return model.objects.none()
        return model.objects.filter(organization=organization)

    return queryset


org_plans = _org_queryset(SalesPlan)
org_targets = _org_queryset(Target)
org_products = _org_queryset(Product)
org_customers = _org_queryset(Customer)
org_budgets = _org_queryset(BudgetLine)


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
