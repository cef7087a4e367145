import django_filters

from agents.filters import org_members, org_queryset

from .models import Appraisal, AppraisalCycle, AppraisalTemplate, CycleStatus, Outcome

org_templates = org_queryset(AppraisalTemplate)
org_cycles = org_queryset(AppraisalCycle)


class AppraisalCycleFilter(django_filters.FilterSet):
    template = django_filters.ModelChoiceFilter(queryset=org_templates)

    class Meta:
        model = AppraisalCycle
        fields = ["template", "status"]


class AppraisalFilter(django_filters.FilterSet):
    cycle = django_filters.ModelChoiceFilter(queryset=org_cycles)
    template = django_filters.ModelChoiceFilter(
        field_name="cycle__template", queryset=org_templates
    )
    cycle_status = django_filters.ChoiceFilter(
        field_name="cycle__status", choices=CycleStatus.choices
    )
    member = django_filters.ModelChoiceFilter(queryset=org_members)
    reviewer = django_filters.ModelChoiceFilter(queryset=org_members)
    grade = django_filters.CharFilter()
    final_outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    reviewed = django_filters.BooleanFilter(
        field_name="reviewed_at", lookup_expr="isnull", exclude=True
    )
    acknowledged = django_filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Appraisal
        fields = [
            "cycle",
            "template",
            "cycle_status",
            "member",
            "reviewer",
            "grade",
            "final_outcome",
            "reviewed",
            "acknowledged",
        ]
