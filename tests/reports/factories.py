import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from reports.models import (
    Activity,
    ActivityKind,
    DailyReport,
    FeedbackCategory,
    FeedbackComment,
    MarketFeedback,
    SalesEntry,
    SalesSource,
    Urgency,
)
from tests.agents.factories import MembershipFactory, OrganizationFactory, ProductFactory


class DailyReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyReport

    organization = factory.SubFactory(OrganizationFactory)
    member = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    date = factory.LazyAttribute(lambda o: o.organization.local_today())
    followups = 3
    communication_minutes = 45
    orders = 1
    submitted_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    is_late = False


class SalesEntryFactory(factory.django.DjangoModelFactory):
    """A sale (source "api" unless a daily report is given). Profit follows the product's cost
    like the services compute it."""

    class Meta:
        model = SalesEntry

    organization = factory.SubFactory(OrganizationFactory)
    member = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    product = factory.SubFactory(
        ProductFactory, organization=factory.SelfAttribute("..organization")
    )
    date = factory.LazyAttribute(lambda o: o.organization.local_today())
    region = factory.LazyAttribute(lambda o: o.member.region)
    quantity = 1
    amount = Decimal("100.00")
    collected = Decimal("0.00")
    profit = factory.LazyAttribute(lambda o: o.amount - o.quantity * o.product.cost)
    source = factory.LazyAttribute(
        lambda o: SalesSource.REPORT if o.daily_report else SalesSource.API
    )
    daily_report = None


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    organization = factory.SubFactory(OrganizationFactory)
    member = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    kind = ActivityKind.FOLLOWUP
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    duration_minutes = 15
    outcome = "Interested"


class MarketFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketFeedback

    organization = factory.SubFactory(OrganizationFactory)
    author = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization")
    )
    category = FeedbackCategory.COMPETITOR
    title = factory.Sequence(lambda n: f"Feedback {n}")
    body = "A competitor cut prices."
    urgency = Urgency.NORMAL
    assignee = factory.LazyAttribute(lambda o: o.author.upline)
    respond_by = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=72))


class FeedbackCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackComment

    organization = factory.SelfAttribute("feedback.organization")
    feedback = factory.SubFactory(MarketFeedbackFactory)
    author = factory.SelfAttribute("feedback.author")
    body = "Seen it too."
