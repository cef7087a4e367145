import datetime as dt
from decimal import Decimal

import factory

from plans.models import (
    BudgetCategory,
    BudgetLine,
    Expense,
    PeriodKind,
    PlanStatus,
    PlanTask,
    QualitativeGoal,
    SalesPlan,
    Target,
)
from tests.agents.factories import MembershipFactory, OrganizationFactory


class SalesPlanFactory(factory.django.DjangoModelFactory):
    """A yearly plan for 2026, active unless told otherwise."""

    class Meta:
        model = SalesPlan

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    period_kind = PeriodKind.YEAR
    start = dt.date(2026, 1, 1)
    end = dt.date(2026, 12, 31)
    status = PlanStatus.ACTIVE
    owner = None


class TargetFactory(factory.django.DjangoModelFactory):
    """A sales-amount target over the plan's period, for the whole organization unless a
    member, region, product or customer is given."""

    class Meta:
        model = Target

    organization = factory.SelfAttribute("plan.organization")
    plan = factory.SubFactory(SalesPlanFactory)
    parent = None
    metric = "sales_amount"
    tier = "base"
    member = None
    include_downline = True
    start = factory.SelfAttribute("plan.start")
    end = factory.SelfAttribute("plan.end")
    value = Decimal("10000.00")


class QualitativeGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualitativeGoal

    organization = factory.SelfAttribute("plan.organization")
    plan = factory.SubFactory(SalesPlanFactory)
    description = "Open two dealer accounts in the new district"
    owner = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    due_on = dt.date(2026, 6, 30)


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    organization = factory.SelfAttribute("plan.organization")
    plan = factory.SubFactory(SalesPlanFactory)
    category = BudgetCategory.PROMOTION
    member = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    amount = Decimal("1000.00")


class ExpenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expense

    organization = factory.SelfAttribute("budget.organization")
    budget = factory.SubFactory(BudgetLineFactory)
    amount = Decimal("100.00")
    date = dt.date(2026, 3, 2)
    note = "Samples for a tasting"
    recorded_by = factory.SelfAttribute("budget.member")


class PlanTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTask

    organization = factory.SelfAttribute("plan.organization")
    plan = factory.SubFactory(SalesPlanFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    owner = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    place = "Xujiahui store"
