"""The dashboard's query parameters: which plan and which metric to draw."""

from django import forms
from django.utils.translation import gettext_lazy as _

from plans.models import SalesPlan
from reports.metrics import metric_choices


class DashboardQueryForm(forms.Form):
    """`?plan=<id>&metric=<key>&target=<id>`, all optional. The plan must be one of the
    organization's plans the dashboard can show: another organization's id is simply not a
    choice (400)."""

    plan = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=_("Plan"))
    metric = forms.ChoiceField(required=False, label=_("Metric"))
    # The line chart's target (an id of one of the plan's targets); checked by the view, which
    # knows the plan.
    target = forms.IntegerField(required=False, min_value=1, label=_("Target"))

    def __init__(self, *args, plans: list[SalesPlan], **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {plan.pk: plan for plan in plans}
        self.fields["plan"].choices = [(plan.pk, plan.name) for plan in plans]
        self.fields["metric"].choices = metric_choices()

    def chosen_plan(self) -> SalesPlan | None:
        return self.plans.get(self.cleaned_data.get("plan"))
