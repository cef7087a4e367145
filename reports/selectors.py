"""Reads about what happened. Every selector takes the organization (and where it matters the
viewer) explicitly."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from agents.calendar import is_working_day
from agents.compiled import CompiledQuery, instances_from_values
from agents.models import Customer, Membership, Organization, Product
from agents.selectors import WORKING_STATUSES, member_scope_q

from .metrics import REPORTING_ROLES
from .models import DailyReport, FeedbackStatus, MarketFeedback, SalesEntry


def customer_is_visible_to(*, member: Membership, customer: Customer) -> bool:
    """Whether a member may refer to a customer in their records: one owned by the member or
    someone in their subtree (owners and admins: every customer of the organization), the rule
    of `member_scope_q`. The owner is read: load customers with select_related("owner")."""
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
    ids, at most two queries whatever the number of lines. Ids that are missing are unknown or
    out of reach: both answer the same, so another tenant's ids leak nothing. Every report PUT
    runs them: compiled once (agents.compiled), with `customer_is_visible_to` for customers."""
    products = {
        product.pk: product
        for product in _PRODUCTS_BY_ID.all(organization_id=organization.pk, ids=sorted(product_ids))
    }
    customers = {
        customer.pk: customer
        for customer in _CUSTOMERS_BY_ID.all(
            organization_id=organization.pk, ids=sorted(customer_ids)
        )
        if customer_is_visible_to(member=member, customer=customer)
    }
    return products, customers


# A lookup table: no ordering to compile and sort by.
_PRODUCTS_BY_ID = CompiledQuery(
    lambda organization_id, ids: Product.objects.filter(
        organization_id=organization_id, pk__in=ids
    ).order_by(),
    kinds={"organization_id": int, "ids": list},
)
_CUSTOMERS_BY_ID = CompiledQuery(
    lambda organization_id, ids: (
        Customer.objects.filter(organization_id=organization_id, pk__in=ids)
        .select_related("owner")
        .order_by()
    ),
    kinds={"organization_id": int, "ids": list},
)


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
    *, organization: Organization, viewer: Membership | None, day: dt.date
) -> QuerySet[Membership]:
    """Members in the viewer's scope who were due to report for the day and have not. Nobody is
    missing on a day off (weekend or holiday of the organization's calendar). `viewer=None` is
    the system (the scheduled jobs): the whole organization; the API always passes the caller."""
    if not is_working_day(organization=organization, day=day):
        return Membership.objects.none()
    filed = DailyReport.objects.filter(
        organization=organization, member_id=OuterRef("pk"), date=day
    )
    scope = Q() if viewer is None else member_scope_q(membership=viewer)
    return (
        members_due_to_report(organization=organization, day=day)
        .filter(scope)
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


# What a report's answer shows of its lines (the line serializer and the totals).
REPORT_LINE_FIELDS = (
    "id",
    "daily_report_id",
    "product_id",
    "customer_id",
    "quantity",
    "amount",
    "collected",
    "profit",
)


def report_lines_attach(reports: list[DailyReport]) -> list[DailyReport]:
    """Give each report its sales lines (in the order they were filed) from one query, set as
    what `report.lines.all()` answers. The same query as prefetch_related with a Prefetch, but
    without the per-report filtered queryset Django builds for each of them (a page of 200
    reports spent more time there than in the query: issue 7, bench/README.md); the lines are
    built from their values (agents.compiled.instances_from_values), with the other fields
    deferred as `only()` would."""
    by_report: dict[int, list[SalesEntry]] = {report.pk: [] for report in reports}
    if by_report:
        rows = (
            SalesEntry.objects.filter(
                organization_id=reports[0].organization_id,
                daily_report_id__any_of=list(by_report),  # one parameter (agents.lookups)
            )
            .order_by("id")
            .values_list(*REPORT_LINE_FIELDS)
        )
        for line in instances_from_values(SalesEntry, REPORT_LINE_FIELDS, rows):
            by_report[line.daily_report_id].append(line)
    for report in reports:
        report._prefetched_objects_cache = {"lines": by_report[report.pk]}
    return reports
