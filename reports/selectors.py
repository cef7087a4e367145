"""Reads about what happened. Every selector takes the organization (and where it matters the
viewer) explicitly."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from agents.calendar import is_working_day
from agents.models import Customer, Membership, Organization, Product
from agents.selectors import WORKING_STATUSES, member_scope_q

from .metrics import REPORTING_ROLES
from .models import DailyReport, FeedbackStatus, MarketFeedback


def customers_visible_to(*, organization: Organization, member: Membership) -> QuerySet[Customer]:
    """The customers a member may refer to in their records: those owned by the member or
    someone in their subtree (owners and admins: every customer of the organization)."""
    return Customer.objects.filter(organization=organization).filter(
        member_scope_q(membership=member, prefix="owner__")
    )


def customer_is_visible_to(*, member: Membership, customer: Customer) -> bool:
    """The same rule as `customers_visible_to` for one loaded customer (its owner is read, so
    load customers with select_related("owner") when checking many)."""
    if customer.organization_id != member.organization_id:
        return False
    if member.is_manager:
        return True
    owner = customer.owner
    return owner is not None and owner.path.startswith(member.path)


def sales_references(
    *,
    organization: Organization,
    member: Membership,
    product_ids: set[int],
    customer_ids: set[int],
) -> tuple[dict[int, Product], dict[int, Customer]]:
    """The products of the organization and the customers visible to the member among the given
    ids, two queries whatever the number of lines. Ids that are missing are unknown or out of
    reach: both answer the same, so another tenant's ids leak nothing."""
    products = {
        product.pk: product
        for product in Product.objects.filter(organization=organization, pk__in=product_ids)
    }
    customers = {}
    if customer_ids:
        customers = {
            customer.pk: customer
            for customer in customers_visible_to(organization=organization, member=member)
            .filter(pk__in=customer_ids)
            .select_related("owner")
        }
    return products, customers


def members_due_to_report(*, organization: Organization, day: dt.date) -> QuerySet[Membership]:
    """Members who owe a report for the day: agents and leaders still working for the
    organization who had joined by then. Not filtered by the calendar (see below)."""
    return Membership.objects.filter(
        organization=organization,
        role__in=REPORTING_ROLES,
        status__in=WORKING_STATUSES,
        joined_on__lte=day,
    )


def members_missing_report(
    *, organization: Organization, viewer: Membership, day: dt.date
) -> QuerySet[Membership]:
    """Members in the viewer's scope who were due to report for the day and have not. Nobody is
    missing on a day off (weekend or holiday of the organization's calendar)."""
    if not is_working_day(organization=organization, day=day):
        return Membership.objects.none()
    filed = DailyReport.objects.filter(
        organization=organization, member_id=OuterRef("pk"), date=day
    )
    return (
        members_due_to_report(organization=organization, day=day)
        .filter(member_scope_q(membership=viewer))
        .filter(~Exists(filed))
        .select_related("user")
        .order_by("path")
    )


def feedback_scope_q(*, viewer: Membership) -> Q:
    """Feedback a member may see: everything for owners and admins; otherwise what they and
    their subtree wrote, plus what is assigned to them."""
    if viewer.is_manager:
        return Q()
    return Q(author__path__startswith=viewer.path) | Q(assignee_id=viewer.pk)


def feedback_overdue(*, organization: Organization, now: dt.datetime) -> QuerySet[MarketFeedback]:
    """Open feedback whose response deadline has passed: what the escalation job escalates."""
    return MarketFeedback.objects.filter(
        organization=organization, status=FeedbackStatus.OPEN, respond_by__lt=now
    ).order_by("respond_by", "pk")
